/**
 * What one frame may cost: the depth limit at decode, bounded previews and close reasons, Elixir's
 * inspect in linear time with its own item limits, and fan-out that survives a member that throws.
 */
import { describe, expect, it } from 'vitest';
import { inspect } from '../../stack/realtime/changes/elixir-inspect.ts';
import { Hub, type Member } from '../../stack/realtime/hub.ts';
import { PresenceRegistry } from '../../stack/realtime/presence.ts';
import { closeReason, MAX_JSON_DEPTH, nestsDeeperThan, preview } from '../../stack/realtime/wire/bounds.ts';
import { FrameError, message, type Outgoing } from '../../stack/realtime/wire/message.ts';
import { v1Serializer } from '../../stack/realtime/wire/serializer-v1.ts';
import { v2Serializer } from '../../stack/realtime/wire/serializer-v2.ts';

const text = (s: string) => Buffer.from(s, 'utf8');
const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;

function frameError(fn: () => unknown): FrameError {
  try {
    fn();
  } catch (error) {
    if (error instanceof FrameError) return error;
    throw error;
  }
  throw new Error('expected a FrameError, nothing was thrown');
}

describe('nesting depth', () => {
  it('counts arrays and objects, iteratively', () => {
    expect(nestsDeeperThan(JSON.parse(deep(3)), 3)).toBe(false);
    expect(nestsDeeperThan(JSON.parse(deep(4)), 3)).toBe(true);
    expect(nestsDeeperThan({ a: [{ b: 1 }] }, 3)).toBe(false);
    expect(nestsDeeperThan({ a: [{ b: [] }] }, 3)).toBe(true);
    expect(nestsDeeperThan('text', 0)).toBe(false);
    expect(nestsDeeperThan(JSON.parse(deep(20_000)), MAX_JSON_DEPTH)).toBe(true);
  });

  it.each([
    ['2.0.0', v2Serializer],
    ['1.0.0', v1Serializer],
  ] as const)('vsn %s refuses a frame deeper than the limit, and only such a frame', (_vsn, serializer) => {
    const tooDeep = frameError(() => serializer.decode(text(deep(6000)), false));
    expect(tooDeep.code).toBe('TOO_DEEP');
    expect(tooDeep.message).toBe('text frame nests deeper than 512 levels (12000 bytes)');
    const ok = deep(MAX_JSON_DEPTH - 3);
    const frame =
      serializer === v2Serializer
        ? `["1","1","realtime:t","broadcast",{"event":"e","payload":${ok}}]`
        : `{"topic":"realtime:t","event":"broadcast","payload":{"event":"e","payload":${ok}},"ref":"1"}`;
    const decoded = serializer.decode(text(frame), false);
    expect(decoded.kind).toBe('message');
    if (decoded.kind === 'message') expect(() => serializer.encode(decoded)).not.toThrow();
  });

  it('a vsn 1.0.0 member drops a binary-pushed JSON broadcast too deep to re-encode', () => {
    const out: Outgoing = {
      kind: 'user_broadcast',
      topic: 'realtime:t',
      broadcast: { userEvent: 'e', encoding: 'json', data: text(deep(6000)) },
    };
    expect(v1Serializer.encode(out)).toBeUndefined();
    // vsn 2.0.0 forwards the bytes untouched, as hosted does.
    expect(v2Serializer.encode(out)?.binary).toBe(true);
  });
});

describe('renderings of bad input stay short', () => {
  it('preview is at most 200 characters whatever it is given, and masks tokens', () => {
    expect(preview({ a: 1, b: [true, null, 'x'] })).toBe('{"a":1,"b":[true,null,"x"]}');
    expect(preview(JSON.parse(deep(20_000))).length).toBeLessThanOrEqual(201);
    expect(preview(JSON.parse(deep(20)))).toBe('[[[[[[[[[…]]]]]]]]]');
    expect(preview('x'.repeat(5_000_000)).length).toBe(201);
    expect(preview(Array.from({ length: 100_000 }, (_, i) => i)).length).toBe(201);
    expect(preview({ access_token: 'eyJhbGciOi.eyJyb2xlIjoi.c2lnbmF0dXJl' })).toBe(
      '{"access_token":"<jwt>"}',
    );
  });

  it('close reasons fit 123 bytes of UTF-8 without splitting a character', () => {
    expect(closeReason('short')).toBe('short');
    const ascii = closeReason('a'.repeat(200));
    expect(Buffer.byteLength(ascii)).toBe(123);
    expect(ascii.endsWith('…')).toBe(true);
    for (const ch of ['é', '€', '😀']) {
      const cut = closeReason(`EXPECTED_V2_ARRAY: ${ch.repeat(100)}`);
      expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(123);
      expect(cut).not.toContain('\uFFFD');
      expect(Buffer.from(cut).toString('utf8')).toBe(cut);
    }
  });
});

describe("Elixir's inspect", () => {
  it('renders 41 nested lists at once (two passes, not one per fitting attempt)', () => {
    const value = JSON.parse(deep(41));
    const rendered = inspect({ x: value });
    expect(rendered.startsWith('%{\n  "x" => [')).toBe(true);
    expect(rendered.split('\n').length).toBeGreaterThan(41);
    expect(inspect(JSON.parse(deep(500))).length).toBeGreaterThan(1000);
  });

  it('keeps the one-line form where it fits, as before', () => {
    expect(inspect({ event: '*' })).toBe('%{"event" => "*"}');
    expect(inspect(['eq', '1'])).toBe('["eq", "1"]');
    expect(inspect([])).toBe('[]');
  });

  it("applies Inspect.Opts' limits: 50 items per collection, 4096 characters per string", () => {
    const many = Array.from({ length: 60 }, (_, i) => i);
    const rendered = inspect(many);
    expect(rendered).toContain('49,\n  ...\n]');
    expect(rendered).not.toContain('50,');
    const map = Object.fromEntries(many.map((i) => [`k${String(i).padStart(2, '0')}`, i]));
    expect(inspect(map)).toContain('"k49" => 49,\n  ...\n}');
    expect(inspect('a'.repeat(5000))).toBe(`"${'a'.repeat(4096)}" <> ...`);
  });
});

describe('fan-out', () => {
  const member = (got: Outgoing[], fail = false): Member => ({
    push(out) {
      if (fail) throw new Error('this member cannot take frames');
      got.push(out);
    },
  });

  it('a member that throws does not stop the others, and is reported', () => {
    const errors: string[] = [];
    const hub = new Hub((error, key) => errors.push(`${key}: ${(error as Error).message}`));
    const before: Outgoing[] = [];
    const after: Outgoing[] = [];
    hub.add('public|t', member(before));
    hub.add('public|t', member([], true));
    hub.add('public|t', member(after));
    expect(hub.fanout('public|t', message(null, null, 't', 'broadcast', {}))).toBe(2);
    expect(before).toHaveLength(1);
    expect(after).toHaveLength(1);
    expect(errors).toEqual(['public|t: this member cannot take frames']);
  });

  it('presence keeps its entries consistent when a diff cannot be delivered', () => {
    const hub = new Hub(() => {});
    const presence = new PresenceRegistry(hub);
    const watcher: Outgoing[] = [];
    const tracker = member([]);
    hub.add('public|t', member([], true));
    hub.add('public|t', member(watcher));
    presence.track('t', false, tracker, 'k', { ok: 1 });
    presence.untrack('t', false, tracker);
    expect(presence.state('t', false)).toEqual({});
    expect(watcher.map((o) => (o.kind === 'message' ? o.message.event : ''))).toEqual([
      'presence_diff',
      'presence_diff',
    ]);
  });
});
