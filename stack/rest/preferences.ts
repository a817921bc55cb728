import type { IncomingMessage } from 'node:http';

/** The `Prefer` header values PostgREST understands (`ApiRequest/Preferences.hs`). */
export interface Preferences {
  return?: 'minimal' | 'representation' | 'headers-only';
  count?: 'exact' | 'planned' | 'estimated';
  resolution?: 'merge-duplicates' | 'ignore-duplicates';
  missing?: 'default' | 'null';
  handling?: 'strict' | 'lenient';
  tx?: 'commit' | 'rollback';
  /** The recognised preferences as sent, for `Preference-Applied`. */
  applied: string[];
}

const KNOWN: Record<string, readonly string[]> = {
  return: ['minimal', 'representation', 'headers-only'],
  count: ['exact', 'planned', 'estimated'],
  resolution: ['merge-duplicates', 'ignore-duplicates'],
  missing: ['default', 'null'],
  handling: ['strict', 'lenient'],
  tx: ['commit', 'rollback'],
};

/** Several `Prefer` headers and comma-separated lists both occur (supabase-js appends). */
export function parsePreferences(req: IncomingMessage): Preferences {
  const raw = req.headersDistinct['prefer'] ?? [];
  const prefs: Preferences = { applied: [] };
  for (const part of raw.flatMap((h) => h.split(','))) {
    const [key, value] = part
      .trim()
      .split('=')
      .map((s) => s.trim());
    if (!key || !value) continue;
    const allowed = KNOWN[key];
    if (!allowed?.includes(value)) continue;
    (prefs as unknown as Record<string, string>)[key] = value;
    prefs.applied.push(`${key}=${value}`);
  }
  return prefs;
}
