import { parseFrameJson, preview } from './bounds.ts';
import { FrameError, type Incoming, type Serializer } from './message.ts';
import { asString, jsonBroadcast } from './serializer-v2.ts';

/**
 * vsn 1.0.0 (Phoenix `V1.JSONSerializer`): JSON objects `{topic, event, payload, ref, join_ref}` in,
 * `{topic, event, payload, ref}` out — Phoenix's V1 encoder drops `join_ref`, and clients accept
 * that. It has no binary frames: user broadcasts go out as JSON, binary user payloads not at all.
 */
export const v1Serializer: Serializer = {
  vsn: '1.0.0',
  decode(data, isBinary): Incoming {
    if (isBinary) {
      throw new FrameError('BINARY_ON_V1', `binary frame (${data.length} bytes) on a vsn 1.0.0 socket`);
    }
    const parsed = parseFrameJson(data);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new FrameError('EXPECTED_V1_OBJECT', `V1 JSON Serializer expected a map, got ${preview(parsed)}`);
    }
    const m = parsed as Record<string, unknown>;
    for (const key of ['topic', 'event', 'payload', 'ref']) {
      if (!(key in m)) throw new FrameError('MISSING_FIELD', `V1 message lacks "${key}": ${preview(m)}`);
    }
    return {
      kind: 'message',
      message: {
        topic: asString(m['topic'], 'topic'),
        event: asString(m['event'], 'event'),
        payload: m['payload'],
        ref: v1Ref(m['ref'], 'ref'),
        joinRef: v1Ref(m['join_ref'], 'join_ref'),
      },
    };
  },
  encode(out) {
    if (out.kind === 'message') {
      const m = out.message;
      return {
        data: JSON.stringify({ topic: m.topic, event: m.event, payload: m.payload, ref: m.ref }),
        binary: false,
      };
    }
    const payload = jsonBroadcast(out);
    if (payload === undefined) return undefined;
    return {
      data: JSON.stringify({ topic: out.topic, event: 'broadcast', payload, ref: null }),
      binary: false,
    };
  },
};

/**
 * V1 clients count refs with numbers or strings; both are kept as text. Phoenix would echo any JSON
 * term back, but no client sends an object or a list, and turning one into text is where a hostile
 * `{"toString":0}` used to throw: such a ref is an undecodable frame, as on vsn 2.0.0.
 */
function v1Ref(value: unknown, field: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new FrameError('INVALID_REF', `${field} must be a string, a number or null, got ${preview(value)}`);
}
