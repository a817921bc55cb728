import { createHash } from 'node:crypto';
import type { PostgresChangesParams } from './changes-api.ts';

/**
 * The id of a postgres_changes binding. Hosted uses `:erlang.phash2(params)`: a stable integer in
 * [0, 2^27) of the params as sent. Clients compare ids with strict equality, so they must be JSON
 * integers (PROTOCOL.md §1.5); any stable hash of the canonical params in that range serves.
 */
export function bindingId(params: PostgresChangesParams): number {
  const digest = createHash('sha256').update(canonical(params)).digest();
  return digest.readUInt32BE(0) % 2 ** 27;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
