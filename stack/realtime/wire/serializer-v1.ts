import { FrameError, type Incoming, type Serializer } from './message.ts';
import { asString, jsonBroadcast, preview } from './serializer-v2.ts';

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
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.toString('utf8'));
    } catch (cause) {
      throw new FrameError('INVALID_JSON', `text frame is not JSON: ${(cause as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new FrameError('EXPECTED_V1_OBJECT', `V1 JSON Serializer expected a map, got ${preview(parsed)}`);
    }
    const m = parsed as Record<string, unknown>;
    for (const key of ['topic', 'event', 'payload', 'ref']) {
      if (!(key in m)) throw new FrameError('MISSING_FIELD', `V1 message lacks "${key}": ${preview(m)}`);
    }
    const ref = m['ref'];
    const joinRef = m['join_ref'];
    return {
      kind: 'message',
      message: {
        topic: asString(m['topic'], 'topic'),
        event: asString(m['event'], 'event'),
        payload: m['payload'],
        ref: typeof ref === 'string' ? ref : ref == null ? null : String(ref),
        joinRef: typeof joinRef === 'string' ? joinRef : joinRef == null ? null : String(joinRef),
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
