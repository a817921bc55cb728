/**
 * The `data` of a postgres_changes event for one role and one `select` list, as apply_rls.sql builds
 * it (PROTOCOL.md §2.8): columns the role may SELECT, in attnum order; record from the new row (an
 * unchanged TOAST value taken from the old row); old_record from the replica identity, cut to the PK
 * for a DELETE on an RLS table; keys in the order jsonb stores them.
 */
import type { ChangeData } from '../changes-api.ts';
import type { TableMeta } from './catalog.ts';

export type Kind = 'INSERT' | 'UPDATE' | 'DELETE';

/** Column name → JSON value (already cast); absent = not in that tuple. */
export type JsonRow = Map<string, unknown>;

export interface PayloadInput {
  kind: Kind;
  schema: string;
  table: string;
  meta: TableMeta;
  commitTimestamp: string;
  newRow: JsonRow;
  identityRow: JsonRow;
  rls: boolean;
  /** SELECT privilege per `meta.columns` entry. */
  privileges: boolean[];
  selected: string[] | null;
  /** The change exceeds hosted's 1 MiB record limit: values over 64 bytes are dropped (413). */
  oversized: boolean;
}

/** Hosted's `max_record_bytes` (list_changes.sql) and the size a value may keep past it. */
export const MAX_RECORD_BYTES = 1024 * 1024;
const OVERSIZED_VALUE_BYTES = 64;

export function buildPayload(input: PayloadInput): ChangeData {
  const { meta, privileges, selected, kind } = input;
  const pk = new Set(meta.pk);
  const allowed = new Set<string>();
  meta.columns.forEach((c, i) => {
    if (privileges[i] && (selected === null || selected.includes(c.name) || pk.has(c.name)))
      allowed.add(c.name);
  });
  const columns = meta.columns
    .filter((c) => allowed.has(c.name))
    .map((c) => ({ name: c.name, type: c.typname }));

  const data: Record<string, unknown> = {
    columns,
    commit_timestamp: input.commitTimestamp,
    errors: input.oversized ? ['Error 413: Payload Too Large'] : null,
    schema: input.schema,
    table: input.table,
  };
  const fits = (value: unknown) =>
    !input.oversized || Buffer.byteLength(jsonbText(value)) <= OVERSIZED_VALUE_BYTES;
  if (kind === 'UPDATE' || kind === 'DELETE') {
    const old: [string, unknown][] = [];
    for (const [name, value] of input.identityRow) {
      if (!allowed.has(name)) continue;
      if (kind === 'DELETE' && input.rls && !pk.has(name)) continue;
      if (!fits(value)) continue;
      old.push([name, value]);
    }
    data['old_record'] = jsonbObject(old);
  }
  if (kind !== 'DELETE') {
    const record: [string, unknown][] = [];
    for (const [name, value] of input.newRow)
      if (allowed.has(name) && fits(value)) record.push([name, value]);
    for (const [name, value] of input.identityRow) {
      // Hosted tests the new value's size here, which an unchanged TOAST value lacks: dropped.
      if (!input.newRow.has(name) && allowed.has(name) && !input.oversized) record.push([name, value]);
    }
    data['record'] = jsonbObject(record);
  }
  data['type'] = kind;
  return data as unknown as ChangeData;
}

/** The event a role gets when the change cannot be authorized for it (apply_rls's 400 / 401). */
export function errorPayload(kind: Kind, schema: string, table: string, error: string): ChangeData {
  const data: Record<string, unknown> = {
    columns: [],
    commit_timestamp: null,
    errors: [error],
    schema,
    table,
  };
  if (kind !== 'INSERT') data['old_record'] = {};
  if (kind !== 'DELETE') data['record'] = {};
  data['type'] = kind;
  return data as unknown as ChangeData;
}

/** jsonb orders keys by length, then bytewise; clients see that order. */
function jsonbObject(entries: [string, unknown][]): Record<string, unknown> {
  entries.sort(([a], [b]) => {
    const la = Buffer.byteLength(a);
    const lb = Buffer.byteLength(b);
    if (la !== lb) return la - lb;
    return Buffer.compare(Buffer.from(a), Buffer.from(b));
  });
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) out[k] = v;
  return out;
}

/** `jsonb::text`: `{"k": v, "k2": v2}`, `[1, 2]`, strings escaped as Postgres does. */
export function jsonbText(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(jsonbText).join(', ')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${JSON.stringify(k)}: ${jsonbText(v)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Bytes of the wal2json record hosted measures (`octet_length(wal::text)`), estimated from what it
 * holds: per column its name, type and value text plus the JSON around them. Exact enough for a
 * 1 MiB threshold.
 */
export function walSizeEstimate(
  columns: { name: string; typname: string }[],
  rows: Map<string, string | null>[],
): number {
  const types = new Map(columns.map((c) => [c.name, c.typname]));
  let size = 100;
  for (const row of rows) {
    for (const [name, value] of row) {
      size += Buffer.byteLength(name) + (types.get(name)?.length ?? 8) + 60;
      size += value === null ? 4 : Buffer.byteLength(value);
    }
  }
  return size;
}
