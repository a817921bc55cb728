import type { IncomingMessage } from 'node:http';
import { pgrstError } from './errors.ts';

/** The `Prefer` header values PostgREST understands (`ApiRequest/Preferences.hs`). */
export interface Preferences {
  return?: 'minimal' | 'representation' | 'headers-only';
  count?: 'exact' | 'planned' | 'estimated';
  resolution?: 'merge-duplicates' | 'ignore-duplicates';
  missing?: 'default' | 'null';
  handling?: 'strict' | 'lenient';
  /** `max-affected=N` (with `handling=strict`): refuse a PATCH/DELETE touching more rows. */
  maxAffected?: number;
  /** The recognised preferences as sent, for `Preference-Applied`. */
  applied: string[];
  /** Preferences PostgREST does not know; refused only with `handling=strict`. */
  invalid: string[];
}

const KNOWN: Record<string, readonly string[]> = {
  return: ['minimal', 'representation', 'headers-only'],
  count: ['exact', 'planned', 'estimated'],
  resolution: ['merge-duplicates', 'ignore-duplicates'],
  missing: ['default', 'null'],
  handling: ['strict', 'lenient'],
};

/** Several `Prefer` headers and comma-separated lists both occur (supabase-js appends). */
export function parsePreferences(req: IncomingMessage): Preferences {
  const raw = req.headersDistinct['prefer'] ?? [];
  const prefs: Preferences = { applied: [], invalid: [] };
  for (const part of raw.flatMap((h) => h.split(','))) {
    const text = part.trim();
    if (!text) continue;
    const [key = '', value = ''] = text.split('=').map((s) => s.trim());
    if (key === 'max-affected' && /^\d+$/.test(value)) {
      prefs.maxAffected = Number(value);
      prefs.applied.push(`${key}=${value}`);
      continue;
    }
    // `timezone` and `params` are PostgREST preferences accepted here without being acted on. `tx` is
    // deliberately unknown: PostgREST honours it only with db-tx-end=*-allow-override, which Supabase
    // does not set, so hosted commits despite `Prefer: tx=rollback` (and refuses it under strict).
    if (key === 'timezone' || key === 'params') continue;
    if (!KNOWN[key]?.includes(value)) {
      prefs.invalid.push(text);
      continue;
    }
    (prefs as unknown as Record<string, string>)[key] = value;
    prefs.applied.push(`${key}=${value}`);
  }
  if (prefs.handling === 'strict' && prefs.invalid.length) {
    throw pgrstError(
      400,
      'PGRST122',
      'Invalid preferences given with handling=strict',
      `Invalid preferences: ${prefs.invalid.join(', ')}`,
    );
  }
  return prefs;
}
