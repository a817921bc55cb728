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
}

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
    errors: null,
    schema: input.schema,
    table: input.table,
  };
  if (kind === 'UPDATE' || kind === 'DELETE') {
    const old: [string, unknown][] = [];
    for (const [name, value] of input.identityRow) {
      if (!allowed.has(name)) continue;
      if (kind === 'DELETE' && input.rls && !pk.has(name)) continue;
      old.push([name, value]);
    }
    data['old_record'] = jsonbObject(old);
  }
  if (kind !== 'DELETE') {
    const record: [string, unknown][] = [];
    for (const [name, value] of input.newRow) if (allowed.has(name)) record.push([name, value]);
    for (const [name, value] of input.identityRow) {
      if (!input.newRow.has(name) && allowed.has(name)) record.push([name, value]);
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
