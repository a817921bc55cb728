/**
 * Broadcast from Database (PROTOCOL-BROADCAST.md §1.7–1.8): the rows `realtime.send()` and
 * `realtime.broadcast_changes()` insert into `realtime.messages` arrive on the changes engine's own
 * replication stream (its slot also follows `supabase_realtime_messages_publication`), are decoded
 * here, and go to the subscribers of exactly that (private, topic) pair as a user broadcast whose
 * metadata is the row id. No RLS is evaluated per message: a private channel's read check at join
 * decides who hears it, as on hosted.
 */
import { fileURLToPath } from 'node:url';
import { registerBootstrapSql } from '../../postgres/migrate.ts';
import type { Relation, Tuple } from '../changes/pgoutput.ts';

const SCHEMA_SQL = fileURLToPath(new URL('./schema.sql', import.meta.url));
// Every project bootstraps with the realtime schema objects, before the app's migrations (which
// write policies on realtime.messages and triggers calling realtime.broadcast_changes).
registerBootstrapSql(SCHEMA_SQL);

export const MESSAGES_PUBLICATION = 'supabase_realtime_messages_publication';

/** One committed `realtime.messages` row to deliver. */
export interface DbBroadcast {
  id: string;
  /** The sub-topic as stored (`room:1`); subscribers joined `realtime:room:1`. */
  topic: string;
  event: string;
  private: boolean;
  /** `payload` (jsonb text, exactly as Postgres prints it) or `binary_payload` (raw bytes). */
  encoding: 'json' | 'binary';
  data: Buffer;
}

export type DecodedMessage = { ok: true; message: DbBroadcast } | { ok: false; why: string };

/** Hosted accepts the table and its partitions (`messages_2026_12_07`) under their own names. */
export function isMessagesRelation(relation: Relation): boolean {
  return relation.schema === 'realtime' && relation.table.startsWith('messages');
}

/**
 * A row as hosted's replication handler reads it: `inserted_at`, `event`, `id`, `topic` and
 * `private` must be present, and a payload (binary first) must exist; otherwise it is dropped with
 * why (hosted logs `UnableToBroadcastChanges`).
 */
export function decodeMessage(relation: Relation, tuple: Tuple): DecodedMessage {
  const row = new Map<string, string | null>();
  relation.columns.forEach((c, i) => {
    const cell = tuple[i];
    if (typeof cell === 'string' || cell === null) row.set(c.name, cell);
  });
  const missing = ['inserted_at', 'event', 'id', 'topic', 'private'].filter((k) => row.get(k) == null);
  if (missing.length > 0) return { ok: false, why: `missing ${missing.join(', ')}` };
  const binary = row.get('binary_payload');
  const json = row.get('payload');
  let encoding: DbBroadcast['encoding'];
  let data: Buffer;
  if (binary != null) {
    encoding = 'binary';
    data = byteaFromText(binary);
  } else if (json != null) {
    encoding = 'json';
    data = Buffer.from(json, 'utf8');
  } else {
    return { ok: false, why: 'no payload' };
  }
  return {
    ok: true,
    message: {
      id: row.get('id') as string,
      topic: row.get('topic') as string,
      event: row.get('event') as string,
      private: row.get('private') === 't',
      encoding,
      data,
    },
  };
}

/** bytea's text output (`bytea_output = 'hex'`, Postgres's default): `\x0a0b…`. */
function byteaFromText(text: string): Buffer {
  return text.startsWith('\\x') ? Buffer.from(text.slice(2), 'hex') : Buffer.from(text, 'latin1');
}
