import { describe, expect, it } from 'vitest';
import { FrameError, message, reply } from '../../stack/realtime/wire/message.ts';
import { serializerFor } from '../../stack/realtime/wire/serializer.ts';
import { v1Serializer } from '../../stack/realtime/wire/serializer-v1.ts';
import { v2Serializer } from '../../stack/realtime/wire/serializer-v2.ts';

const text = (s: string) => Buffer.from(s, 'utf8');

describe('vsn negotiation', () => {
  it('defaults to 1.0.0 when vsn is absent, as Phoenix does', () => {
    expect(serializerFor(null)?.vsn).toBe('1.0.0');
    expect(serializerFor('2.0.0')?.vsn).toBe('2.0.0');
    expect(serializerFor('1.0.0')?.vsn).toBe('1.0.0');
    expect(serializerFor('3.0.0')).toBeUndefined();
    expect(serializerFor('banana')).toBeUndefined();
  });
});

describe('vsn 2.0.0', () => {
  it('decodes the observed phx_join text frame (PROTOCOL.md §2.5)', () => {
    const frame =
      '["6","6","realtime:room1","phx_join",{"config":{"broadcast":{"ack":false,"self":false},"presence":{"key":"","enabled":false},"postgres_changes":[{"event":"*","schema":"public","table":"todos","filter":"id=eq.1"}],"private":false}}]';
    const decoded = v2Serializer.decode(text(frame), false);
    expect(decoded).toEqual({
      kind: 'message',
      message: {
        joinRef: '6',
        ref: '6',
        topic: 'realtime:room1',
        event: 'phx_join',
        payload: {
          config: {
            broadcast: { ack: false, self: false },
            presence: { key: '', enabled: false },
            postgres_changes: [{ event: '*', schema: 'public', table: 'todos', filter: 'id=eq.1' }],
            private: false,
          },
        },
      },
    });
  });

  it('encodes the heartbeat reply exactly (§2.4)', () => {
    const heartbeat = v2Serializer.decode(text('[null,"8","phoenix","heartbeat",{}]'), false);
    expect(heartbeat.kind === 'message' && heartbeat.message.ref).toBe('8');
    expect(v2Serializer.encode(reply(null, '8', 'phoenix', 'ok', {}))).toEqual({
      data: '[null,"8","phoenix","phx_reply",{"status":"ok","response":{}}]',
      binary: false,
    });
  });

  it('decodes the observed binary kind-3 user broadcast push (§1.2)', () => {
    const frame = Buffer.concat([
      Buffer.from([0x03, 0x01, 0x01, 0x0e, 0x06, 0x00, 0x01]),
      text('6'),
      text('9'),
      text('realtime:room1'),
      text('cursor'),
      text('{"x":1}'),
    ]);
    expect(v2Serializer.decode(frame, true)).toEqual({
      kind: 'user_broadcast',
      joinRef: '6',
      ref: '9',
      topic: 'realtime:room1',
      broadcast: { userEvent: 'cursor', encoding: 'json', data: text('{"x":1}') },
    });
  });

  it('decodes kind-3 metadata and raw (binary) payload encoding', () => {
    const meta = '{"persist":true}';
    const frame = Buffer.concat([
      Buffer.from([0x03, 0x01, 0x01, 0x0e, 0x01, meta.length, 0x00]),
      text('6'),
      text('7'),
      text('realtime:room1'),
      text('b'),
      text(meta),
      Buffer.from([0xff, 0x00, 0x01]),
    ]);
    const decoded = v2Serializer.decode(frame, true);
    expect(decoded).toMatchObject({
      kind: 'user_broadcast',
      broadcast: {
        userEvent: 'b',
        encoding: 'binary',
        meta: { persist: true },
        data: Buffer.from([0xff, 0, 1]),
      },
    });
  });

  it('encodes kind 4 exactly as realtime-js decodes it', () => {
    const frame = v2Serializer.encode({
      kind: 'user_broadcast',
      topic: 'realtime:room1',
      broadcast: { userEvent: 'cursor', encoding: 'json', data: text('{"x":1}') },
    });
    expect(frame?.binary).toBe(true);
    expect((frame!.data as Buffer).toString('hex')).toBe(
      Buffer.concat([Buffer.from([4, 14, 6, 0, 1]), text('realtime:room1cursor{"x":1}')]).toString('hex'),
    );
  });

  it('encodes pushes as [join_ref, ref, topic, event, payload]', () => {
    const frame = v2Serializer.encode(message('6', null, 'realtime:room1', 'system', { status: 'ok' }));
    expect(frame?.data).toBe('["6",null,"realtime:room1","system",{"status":"ok"}]');
  });

  it.each([
    ['not JSON', text('{nope'), false, 'INVALID_JSON'],
    ['an object', text('{"topic":"x"}'), false, 'EXPECTED_V2_ARRAY'],
    ['a short array', text('[null,"1","t"]'), false, 'EXPECTED_V2_ARRAY'],
    ['a numeric topic', text('[null,"1",5,"e",{}]'), false, 'INVALID_FIELD'],
    ['binary kind 2', Buffer.from([2, 0, 0]), true, 'UNKNOWN_BINARY_KIND'],
    ['an empty binary frame', Buffer.alloc(0), true, 'UNKNOWN_BINARY_KIND'],
    ['a truncated kind 3', Buffer.from([3, 9, 9, 9, 9, 0, 1, 65]), true, 'TRUNCATED_BINARY'],
  ])('refuses %s with a FrameError', (_name, data, binary, code) => {
    const attempt = () => v2Serializer.decode(data, binary);
    expect(attempt).toThrow(FrameError);
    try {
      attempt();
    } catch (error) {
      expect((error as FrameError).code).toBe(code);
    }
  });
});

describe('errors about bad frames', () => {
  it('never repeat a token the frame carried', () => {
    const jwt =
      'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJyb2xlIjoiYW5vbiIsImV4cCI6MTk4MzgxMjk5Nn0.CRXP1A7WOeoJeXxjNni43kdQwgnWNReilDMblYTn_I0';
    const frame = JSON.stringify({
      topic: 'realtime:x',
      payload: { access_token: jwt, key: 'sb_secret_abc-DEF_123' },
    });
    let message = '';
    try {
      v2Serializer.decode(text(frame), false);
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('expected V2 array');
    expect(message).toContain('<jwt>');
    expect(message).toContain('<secret key>');
    expect(message).not.toContain('eyJ');
    expect(message).not.toContain('sb_secret_');
  });
});

describe('vsn 1.0.0', () => {
  it('decodes the object form realtime-js sends with vsn 1.0.0', () => {
    const frame =
      '{"topic":"realtime:room1","event":"phx_join","payload":{"config":{}},"ref":"1","join_ref":"1"}';
    expect(v1Serializer.decode(text(frame), false)).toEqual({
      kind: 'message',
      message: {
        joinRef: '1',
        ref: '1',
        topic: 'realtime:room1',
        event: 'phx_join',
        payload: { config: {} },
      },
    });
  });

  it('encodes only topic, event, payload and ref, like Phoenix V1.JSONSerializer', () => {
    const frame = v1Serializer.encode(reply('1', '1', 'realtime:room1', 'ok', { postgres_changes: [] }));
    expect(JSON.parse(frame?.data as string)).toEqual({
      topic: 'realtime:room1',
      event: 'phx_reply',
      payload: { status: 'ok', response: { postgres_changes: [] } },
      ref: '1',
    });
  });

  it('turns a JSON user broadcast into a JSON broadcast and drops a binary one', () => {
    const json = v1Serializer.encode({
      kind: 'user_broadcast',
      topic: 'realtime:room1',
      broadcast: { userEvent: 'cursor', encoding: 'json', data: text('{"x":1}') },
    });
    expect(JSON.parse(json?.data as string)).toEqual({
      topic: 'realtime:room1',
      event: 'broadcast',
      payload: { event: 'cursor', payload: { x: 1 }, type: 'broadcast' },
      ref: null,
    });
    const binary = v1Serializer.encode({
      kind: 'user_broadcast',
      topic: 'realtime:room1',
      broadcast: { userEvent: 'b', encoding: 'binary', data: Buffer.from([1]) },
    });
    expect(binary).toBeUndefined();
  });

  it.each([
    ['binary frames', Buffer.from([3, 0]), true, 'BINARY_ON_V1'],
    ['arrays', text('[null,"1","phoenix","heartbeat",{}]'), false, 'EXPECTED_V1_OBJECT'],
    ['objects without ref', text('{"topic":"t","event":"e","payload":{}}'), false, 'MISSING_FIELD'],
  ])('refuses %s', (_name, data, binary, code) => {
    expect(() => v1Serializer.decode(data, binary)).toThrow(expect.objectContaining({ code }));
  });
});
