import { MAX_JSON_DEPTH, nestsDeeperThan, parseFrameJson, preview } from './bounds.ts';
import {
  type Frame,
  FrameError,
  type Incoming,
  type Outgoing,
  type Ref,
  type Serializer,
} from './message.ts';

/**
 * vsn 2.0.0: text frames are `[join_ref, ref, topic, event, payload]`; binary kind 3 (user broadcast
 * push) comes in, binary kind 4 (user broadcast) goes out. Layouts: PROTOCOL.md §2.2 and
 * supabase/realtime `v2_serializer.ex`.
 */
const KIND_PUSH = 0;
const KIND_USER_BROADCAST_PUSH = 3;
const KIND_USER_BROADCAST = 4;

export const v2Serializer: Serializer = {
  vsn: '2.0.0',
  decode(data, isBinary) {
    return isBinary ? decodeBinary(data) : decodeText(data);
  },
  encode(out) {
    if (out.kind === 'message') {
      const m = out.message;
      return { data: JSON.stringify([m.joinRef, m.ref, m.topic, m.event, m.payload]), binary: false };
    }
    return encodeUserBroadcast(out);
  },
};

function decodeText(data: Buffer): Incoming {
  const parsed = parseFrameJson(data);
  if (!Array.isArray(parsed) || parsed.length < 5) {
    throw new FrameError('EXPECTED_V2_ARRAY', `expected V2 array, got: ${preview(parsed)}`);
  }
  const [joinRef, ref, topic, event, payload] = parsed as unknown[];
  return {
    kind: 'message',
    message: {
      joinRef: asRef(joinRef, 'join_ref'),
      ref: asRef(ref, 'ref'),
      topic: asString(topic, 'topic'),
      event: asString(event, 'event'),
      payload,
    },
  };
}

function decodeBinary(data: Buffer): Incoming {
  const kind = data.length > 0 ? data[0] : undefined;
  if (kind === KIND_USER_BROADCAST_PUSH) {
    if (data.length < 7) throw truncated('user broadcast push');
    const r = new Reader(data, 7);
    const sizes = [data[1], data[2], data[3], data[4], data[5]] as number[];
    const encoding = data[6];
    const joinRef = r.text(sizes[0]!);
    const ref = r.text(sizes[1]!);
    const topic = r.text(sizes[2]!);
    const userEvent = r.text(sizes[3]!);
    const metaText = r.text(sizes[4]!);
    let meta: Record<string, unknown> | undefined;
    if (metaText.length > 0) {
      try {
        meta = JSON.parse(metaText) as Record<string, unknown>;
      } catch (cause) {
        throw new FrameError(
          'INVALID_METADATA',
          `broadcast metadata is not JSON: ${(cause as Error).message}`,
        );
      }
    }
    return {
      kind: 'user_broadcast',
      joinRef,
      ref,
      topic,
      broadcast: {
        userEvent,
        encoding: encoding === 0 ? 'binary' : 'json',
        data: r.rest(),
        ...(meta ? { meta } : {}),
      },
    };
  }
  if (kind === KIND_PUSH) {
    if (data.length < 5) throw truncated('push');
    const r = new Reader(data, 5);
    const joinRef = r.text(data[1]!);
    r.text(data[2]!); // ref: a binary push never gets a reply
    const topic = r.text(data[3]!);
    const event = r.text(data[4]!);
    return { kind: 'binary_push', joinRef, topic, event, data: r.rest() };
  }
  throw new FrameError(
    'UNKNOWN_BINARY_KIND',
    `binary frame of kind ${kind ?? 'none'} (${data.length} bytes); clients send kind 0 or 3`,
  );
}

function encodeUserBroadcast(out: Extract<Outgoing, { kind: 'user_broadcast' }>): Frame | undefined {
  const topic = Buffer.from(out.topic);
  const event = Buffer.from(out.broadcast.userEvent);
  const meta = out.broadcast.meta ? Buffer.from(JSON.stringify(out.broadcast.meta)) : Buffer.alloc(0);
  if (topic.length > 255 || event.length > 255 || meta.length > 255) {
    // A u8 length cannot say it; the hosted serializer raises here. Fall back to the JSON form,
    // which every client decodes as the same broadcast.
    const payload = jsonBroadcast(out);
    if (payload === undefined) return undefined;
    return { data: JSON.stringify([null, null, out.topic, 'broadcast', payload]), binary: false };
  }
  const header = Buffer.from([
    KIND_USER_BROADCAST,
    topic.length,
    event.length,
    meta.length,
    out.broadcast.encoding === 'json' ? 1 : 0,
  ]);
  return { data: Buffer.concat([header, topic, event, meta, out.broadcast.data]), binary: true };
}

/**
 * The JSON broadcast payload a user broadcast stands for; undefined for binary user payloads and for
 * "JSON" bytes that do not parse (the hosted server would forward them as an invalid fragment).
 */
export function jsonBroadcast(out: Extract<Outgoing, { kind: 'user_broadcast' }>): unknown {
  const b = out.broadcast;
  if (b.encoding !== 'json') return undefined;
  let user: unknown;
  try {
    user = JSON.parse(b.data.toString('utf8'));
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
  // vsn 2.0.0 members get the bytes as they came; re-encoding them as JSON for a vsn 1.0.0 member
  // is where a hostile nesting would overflow, so such a payload is not JSON this side can send.
  if (nestsDeeperThan(user, MAX_JSON_DEPTH)) return undefined;
  const payload: Record<string, unknown> = { event: b.userEvent, payload: user, type: 'broadcast' };
  if (b.meta) payload['meta'] = b.meta;
  return payload;
}

class Reader {
  constructor(
    private readonly data: Buffer,
    private offset: number,
  ) {}
  text(size: number): string {
    if (this.offset + size > this.data.length) throw truncated('binary frame');
    const s = this.data.subarray(this.offset, this.offset + size).toString('utf8');
    this.offset += size;
    return s;
  }
  rest(): Buffer {
    return Buffer.from(this.data.subarray(this.offset));
  }
}

function truncated(what: string): FrameError {
  return new FrameError('TRUNCATED_BINARY', `${what} is shorter than its header's lengths say`);
}

function asRef(value: unknown, field: string): Ref {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  throw new FrameError('INVALID_REF', `${field} must be a string or null, got ${preview(value)}`);
}

export function asString(value: unknown, field: string): string {
  if (typeof value === 'string') return value;
  throw new FrameError('INVALID_FIELD', `${field} must be a string, got ${preview(value)}`);
}
