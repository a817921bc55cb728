/**
 * Decoder for the pgoutput logical replication protocol, version 1
 * (https://www.postgresql.org/docs/17/protocol-logicalrep-message-formats.html). Column values stay
 * the exact text Postgres's output functions produced, because the engine casts them with
 * `to_jsonb(value::type)` as hosted Realtime does; a JS-side type parser would lose that fidelity.
 */

export interface RelationColumn {
  name: string;
  /** Part of the replica identity key. */
  isKey: boolean;
  typeOid: number;
}

export interface Relation {
  oid: number;
  schema: string;
  table: string;
  replicaIdentity: 'default' | 'nothing' | 'full' | 'index';
  columns: RelationColumn[];
}

/** A tuple cell: text, SQL NULL, or an unchanged TOAST value pgoutput did not resend. */
export type Cell = string | null | typeof UNCHANGED_TOAST;
export const UNCHANGED_TOAST: unique symbol = Symbol('unchanged-toast');
export type Tuple = Cell[];

export type PgOutputMessage =
  | { tag: 'begin'; finalLsn: bigint; commitTimeMicros: bigint; xid: number }
  | { tag: 'commit'; commitLsn: bigint; endLsn: bigint; commitTimeMicros: bigint }
  | { tag: 'relation'; relation: Relation }
  | { tag: 'insert'; relationOid: number; newTuple: Tuple }
  | { tag: 'update'; relationOid: number; oldTuple: Tuple | null; oldIsKeyOnly: boolean; newTuple: Tuple }
  | { tag: 'delete'; relationOid: number; oldTuple: Tuple; oldIsKeyOnly: boolean }
  | { tag: 'other'; kind: string };

const IDENTITY: Record<string, Relation['replicaIdentity']> = {
  d: 'default',
  n: 'nothing',
  f: 'full',
  i: 'index',
};

class Reader {
  private offset = 0;
  constructor(private readonly buf: Buffer) {}
  u8(): number {
    return this.buf.readUInt8(this.offset++);
  }
  i16(): number {
    const v = this.buf.readInt16BE(this.offset);
    this.offset += 2;
    return v;
  }
  i32(): number {
    const v = this.buf.readInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  u32(): number {
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }
  i64(): bigint {
    const v = this.buf.readBigInt64BE(this.offset);
    this.offset += 8;
    return v;
  }
  u64(): bigint {
    const v = this.buf.readBigUInt64BE(this.offset);
    this.offset += 8;
    return v;
  }
  cstring(): string {
    const end = this.buf.indexOf(0, this.offset);
    if (end < 0) throw new Error('pgoutput: unterminated string');
    const s = this.buf.toString('utf8', this.offset, end);
    this.offset = end + 1;
    return s;
  }
  text(length: number): string {
    const s = this.buf.toString('utf8', this.offset, this.offset + length);
    this.offset += length;
    return s;
  }
}

/** Decode one pgoutput message (the payload of an XLogData copy message). */
export function decodePgOutput(buf: Buffer): PgOutputMessage {
  const r = new Reader(buf);
  const kind = String.fromCharCode(r.u8());
  switch (kind) {
    case 'B':
      return { tag: 'begin', finalLsn: r.u64(), commitTimeMicros: r.i64(), xid: r.u32() };
    case 'C':
      r.u8(); // flags, unused
      return { tag: 'commit', commitLsn: r.u64(), endLsn: r.u64(), commitTimeMicros: r.i64() };
    case 'R': {
      const oid = r.u32();
      // An empty namespace means pg_catalog (the protocol omits it).
      const schema = r.cstring() || 'pg_catalog';
      const table = r.cstring();
      const replicaIdentity = IDENTITY[String.fromCharCode(r.u8())] ?? 'default';
      const n = r.i16();
      const columns: RelationColumn[] = [];
      for (let i = 0; i < n; i++) {
        const flags = r.u8();
        const name = r.cstring();
        const typeOid = r.u32();
        r.i32(); // typmod: casts use the type without it, as hosted does
        columns.push({ name, isKey: (flags & 1) === 1, typeOid });
      }
      return { tag: 'relation', relation: { oid, schema, table, replicaIdentity, columns } };
    }
    case 'I': {
      const relationOid = r.u32();
      r.u8(); // 'N'
      return { tag: 'insert', relationOid, newTuple: readTuple(r) };
    }
    case 'U': {
      const relationOid = r.u32();
      let sub = String.fromCharCode(r.u8());
      let oldTuple: Tuple | null = null;
      let oldIsKeyOnly = false;
      if (sub === 'K' || sub === 'O') {
        oldIsKeyOnly = sub === 'K';
        oldTuple = readTuple(r);
        sub = String.fromCharCode(r.u8());
      }
      if (sub !== 'N') throw new Error(`pgoutput: unexpected update submessage ${sub}`);
      return { tag: 'update', relationOid, oldTuple, oldIsKeyOnly, newTuple: readTuple(r) };
    }
    case 'D': {
      const relationOid = r.u32();
      const sub = String.fromCharCode(r.u8());
      return { tag: 'delete', relationOid, oldIsKeyOnly: sub === 'K', oldTuple: readTuple(r) };
    }
    default:
      // Origin, Type, Truncate, Message: nothing hosted Realtime emits.
      return { tag: 'other', kind };
  }
}

function readTuple(r: Reader): Tuple {
  const n = r.i16();
  const cells: Tuple = [];
  for (let i = 0; i < n; i++) {
    const kind = String.fromCharCode(r.u8());
    if (kind === 'n') cells.push(null);
    else if (kind === 'u') cells.push(UNCHANGED_TOAST);
    else if (kind === 't' || kind === 'b') cells.push(r.text(r.i32()));
    else throw new Error(`pgoutput: unknown tuple cell kind ${kind}`);
  }
  return cells;
}

/** Postgres timestamps count microseconds from 2000-01-01T00:00:00Z. */
const PG_EPOCH_MS = 946_684_800_000;

/** `to_char(ts at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`: milliseconds, truncated. */
export function commitTimestamp(micros: bigint): string {
  const ms = PG_EPOCH_MS + Number(micros / 1000n - (micros % 1000n < 0n ? 1n : 0n));
  return new Date(ms).toISOString();
}
