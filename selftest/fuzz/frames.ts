/**
 * Hostile realtime frames as shrinkable *recipes* (issue 22): what a fuzz run generates is a small
 * structured value (fast-check prints and shrinks it), and `buildFrame` turns it into the bytes on
 * the wire for vsn 1.0.0 or 2.0.0. Recipes stay small even when the frame is not: a 6,000-deep
 * `[[[…]]]` is `Deep(6000, 'array')`, an oversize frame is its length, so a counterexample stays
 * readable. `expectedOutcome` is the oracle: what the server must do with one frame, from the
 * serializers themselves (undecodable → 1011) and from RFC 6455 as `ws` enforces it.
 */
import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { FrameError, type Incoming, type Serializer } from '../../stack/realtime/wire/message.ts';
import { v1Serializer } from '../../stack/realtime/wire/serializer-v1.ts';
import { v2Serializer } from '../../stack/realtime/wire/serializer-v2.ts';

export type Vsn = '1.0.0' | '2.0.0';

/** Cowboy's `max_frame_size`, which the stack's `ws` server enforces as `maxPayload`. */
export const MAX_PAYLOAD = 5_000_000;
/** RFC 6455 §5.5: a close frame's payload is ≤ 125 bytes, 2 of them the code. */
export const MAX_CLOSE_REASON_BYTES = 123;

export function serializerFor(vsn: Vsn): Serializer {
  return vsn === '2.0.0' ? v2Serializer : v1Serializer;
}

// ---------------------------------------------------------------------------------------------
// JSON trees that can be far bigger on the wire than in the recipe

/** `n` levels of `[` … `]` (or `{"a":` … `}`), rendered without recursion. */
export class Deep {
  constructor(
    readonly n: number,
    readonly shape: 'array' | 'object',
  ) {}
  [fc.toStringMethod](): string {
    return `Deep(${this.n}, '${this.shape}')`;
  }
}

/** A JSON string of `n` copies of `ch` (non-ASCII `ch` makes long byte counts from short recipes). */
export class Long {
  constructor(
    readonly n: number,
    readonly ch: string,
  ) {}
  [fc.toStringMethod](): string {
    return `Long(${this.n}, ${JSON.stringify(this.ch)})`;
  }
}

export type Tree = null | boolean | number | string | Deep | Long | Tree[] | { [key: string]: Tree };

/** JSON text of a tree. Plain parts are shallow (generated with a small max depth). */
export function renderTree(t: Tree | undefined): string {
  if (t === undefined) return 'null';
  if (t instanceof Deep) {
    if (t.shape === 'array') return `${'['.repeat(t.n)}${']'.repeat(t.n)}`;
    return t.n <= 0 ? '{}' : `${'{"a":'.repeat(t.n - 1)}{}${'}'.repeat(t.n - 1)}`;
  }
  if (t instanceof Long) return JSON.stringify(t.ch.repeat(t.n));
  if (t === null || typeof t === 'boolean') return String(t);
  if (typeof t === 'number') return JSON.stringify(t);
  if (typeof t === 'string') return JSON.stringify(t);
  if (Array.isArray(t)) return `[${t.map((x) => renderTree(x)).join(',')}]`;
  // Object.keys sees own `__proto__` / `toString` keys too: hostile names go out as sent.
  return `{${Object.keys(t)
    .map((k) => `${JSON.stringify(k)}:${renderTree(t[k])}`)
    .join(',')}}`;
}

// ---------------------------------------------------------------------------------------------
// Arbitraries shared by every fuzz file

/** Strings a hostile client would try: non-ASCII, control characters, quotes, escapes, lookalikes. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 24 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 24 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '',
      ' ',
      'é'.repeat(100),
      '日本語'.repeat(30),
      '😀'.repeat(40),
      'a'.repeat(130),
      '\u0000',
      '\ud800',
      '\\',
      '"',
      "'",
      '\r\n',
      '%00',
      '\u0024{x}', // a template placeholder, for servers that interpolate
      '#{x}',
      '__proto__',
      'toString',
      'constructor',
      'phoenix',
      'heartbeat',
      'phx_join',
      'realtime:',
      'realtime:realtime:x',
      'eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.c2ln',
      'sb_publishable_AAAA',
      'sb_secret_AAAA',
      '<script>',
      'null',
      '[]',
      '{}',
    ),
  },
);

const leaf: fc.Arbitrary<Tree> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.constantFrom(0, -0, 1.5, 1e308, -1e308, 2 ** 53, Number.MAX_SAFE_INTEGER + 2),
  hostileString,
);

/** Depths that matter: around the stack's 512 limit, the 6,000 of issue 22, and far beyond. */
export const deepNode: fc.Arbitrary<Deep> = fc
  .record({
    n: fc.oneof(
      fc.constantFrom(6000, 511, 512, 513, 1000, 20_000, 100_000),
      fc.integer({ min: 1, max: 700 }),
    ),
    shape: fc.constantFrom('array' as const, 'object' as const),
  })
  .map(({ n, shape }) => new Deep(n, shape));

const longNode: fc.Arbitrary<Long> = fc
  .record({
    n: fc.constantFrom(64, 200, 1000, 70_000),
    ch: fc.constantFrom('x', 'é', '日', '😀', '\\', '"', '\u0000'),
  })
  .map(({ n, ch }) => new Long(n, ch));

/** Any JSON value a client might put in a frame, now and then huge or absurdly deep. */
export const tree: fc.Arbitrary<Tree> = fc.letrec<{ node: Tree }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    { weight: 6, arbitrary: leaf },
    { weight: 2, arbitrary: fc.array(tie('node'), { maxLength: 4 }) },
    {
      weight: 2,
      arbitrary: fc.dictionary(hostileString, tie('node'), { maxKeys: 4, noNullPrototype: true }),
    },
    { weight: 1, arbitrary: deepNode },
    { weight: 1, arbitrary: longNode },
  ),
})).node;

/** Refs and join_refs: what clients send (short strings, null, counters) and what they must not. */
export const hostileRef: fc.Arbitrary<Tree> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<Tree>('1', '2', null, '', '0') },
  { weight: 2, arbitrary: fc.integer().map((n) => n as Tree) },
  {
    weight: 2,
    arbitrary: fc.constantFrom<Tree>(
      // vsn 1 turned any ref into text with String(): this one has no callable toString.
      JSON.parse('{"toString":0}') as Tree,
      JSON.parse('{"valueOf":0,"toString":0}') as Tree,
      JSON.parse('{"__proto__":null}') as Tree,
      [],
      [1],
      true,
      1.5,
      'é'.repeat(100),
    ),
  },
  { weight: 1, arbitrary: tree },
);

export const hostileTopic: fc.Arbitrary<Tree> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom<Tree>('phoenix', 'realtime:fz-raw', 'realtime:', 'realtime:x', 'room:x', ''),
  },
  { weight: 2, arbitrary: hostileString.map((s) => `realtime:${s}` as Tree) },
  { weight: 2, arbitrary: tree },
);

export const hostileEvent: fc.Arbitrary<Tree> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.constantFrom<Tree>(
      'heartbeat',
      'phx_join',
      'phx_leave',
      'broadcast',
      'presence',
      'access_token',
      'phx_reply',
      'PHX_JOIN',
    ),
  },
  { weight: 2, arbitrary: tree },
);

/** FlexibleBoolean and what is not: the join config flags. */
export const flagish: fc.Arbitrary<Tree> = fc.constantFrom<Tree>(
  true,
  false,
  'true',
  'TRUE',
  'false',
  1,
  0,
  null,
  'yes',
  [],
  {},
);

/** A `phx_join` config in the right shape with odd values, or anything else in its place. */
export const joinConfig: fc.Arbitrary<Tree> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .record(
        {
          broadcast: fc.oneof(
            fc.record(
              { self: flagish, ack: flagish, replication_ready: flagish },
              { requiredKeys: [], noNullPrototype: true },
            ),
            tree,
          ),
          presence: fc.oneof(
            fc.record(
              { key: fc.oneof(hostileString, tree), enabled: flagish },
              { requiredKeys: [], noNullPrototype: true },
            ),
            tree,
          ),
          private: flagish,
          postgres_changes: fc.oneof(fc.array(tree, { maxLength: 3 }), tree),
        },
        { requiredKeys: [], noNullPrototype: true },
      )
      .map((c) => c as Tree),
  },
  { weight: 1, arbitrary: tree },
);

export const joinPayload: fc.Arbitrary<Tree> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .record(
        { config: joinConfig, access_token: fc.oneof(hostileString, tree), user_token: hostileString },
        { requiredKeys: [], noNullPrototype: true },
      )
      .map((p) => p as Tree),
  },
  { weight: 1, arbitrary: tree },
);

// ---------------------------------------------------------------------------------------------
// Frame recipes

/** A Phoenix message; the same recipe becomes a v2 array or a v1 object. `undefined` = left out. */
export interface MsgRecipe {
  k: 'msg';
  joinRef?: Tree;
  ref?: Tree;
  topic?: Tree;
  event?: Tree;
  payload?: Tree;
  /** v2: cut or pad the array to this many elements; v1: extra keys. */
  arity?: number;
  extra?: { [key: string]: Tree };
}

/** Any JSON text (wrong shapes for both serializers, deep nesting, huge strings). */
export interface JsonRecipe {
  k: 'json';
  value: Tree;
}

/** Arbitrary text, not necessarily JSON (encoded as UTF-8: lone surrogates become U+FFFD). */
export interface TextRecipe {
  k: 'text';
  text: string;
}

/** Raw bytes as a text frame (possibly invalid UTF-8) or a binary frame. */
export interface BytesRecipe {
  k: 'bytes';
  bytes: Uint8Array;
  binary: boolean;
}

/** vsn 2 binary push (kind 0) or user broadcast push (kind 3), optionally lying about a length. */
export interface BinaryRecipe {
  k: 'bin';
  kind: number;
  joinRef: string;
  ref: string;
  topic: string;
  event: string;
  meta: string;
  encoding: number;
  data: Uint8Array | Tree;
  /** Replace header byte `at` (1-based after the kind) with `value`. */
  lie?: { at: number; value: number };
}

/** A frame bigger than maxPayload, sent whole (the server must answer 1009 without reading it). */
export interface OversizeRecipe {
  k: 'oversize';
  bytes: number;
  binary: boolean;
}

/** A hand-made WebSocket frame written under `ws`: bad opcodes, RSV bits, unmasked, lying lengths. */
export interface RawRecipe {
  k: 'raw';
  op: number;
  fin: boolean;
  rsv: number;
  masked: boolean;
  payload: Uint8Array;
  /** Claim this payload length in the header and send no payload (only for lengths > maxPayload). */
  claim?: number;
}

export type FrameRecipe = (
  | MsgRecipe
  | JsonRecipe
  | TextRecipe
  | BytesRecipe
  | BinaryRecipe
  | OversizeRecipe
) & {
  /** Send as fragments cut at these fractions of the payload (continuation frames). */
  split?: number[];
};

export type AnyRecipe = FrameRecipe | RawRecipe;

/** One thing to put on a socket: a (possibly fragmented) message, or raw bytes under `ws`. */
export type Wire =
  | { kind: 'message'; data: Buffer; binary: boolean; fragments: Buffer[] }
  | { kind: 'raw'; bytes: Buffer; recipe: RawRecipe };

export function buildFrame(recipe: AnyRecipe, vsn: Vsn): Wire {
  if (recipe.k === 'raw') return { kind: 'raw', bytes: rawFrameBytes(recipe), recipe };
  const { data, binary } = payloadOf(recipe, vsn);
  return { kind: 'message', data, binary, fragments: fragment(data, recipe.split) };
}

function payloadOf(recipe: FrameRecipe, vsn: Vsn): { data: Buffer; binary: boolean } {
  switch (recipe.k) {
    case 'msg':
      return { data: Buffer.from(renderMsg(recipe, vsn)), binary: false };
    case 'json':
      return { data: Buffer.from(renderTree(recipe.value)), binary: false };
    case 'text':
      return { data: Buffer.from(recipe.text), binary: false };
    case 'bytes':
      return { data: Buffer.from(recipe.bytes), binary: recipe.binary };
    case 'bin':
      return { data: binaryFrame(recipe), binary: true };
    case 'oversize':
      return { data: Buffer.alloc(recipe.bytes, recipe.binary ? 0x03 : 0x5b), binary: recipe.binary };
  }
}

export function renderMsg(m: MsgRecipe, vsn: Vsn): string {
  if (vsn === '2.0.0') {
    const items: (Tree | undefined)[] = [m.joinRef, m.ref, m.topic, m.event, m.payload];
    while (m.arity !== undefined && items.length < m.arity) items.push(null);
    const cut = m.arity === undefined ? items : items.slice(0, m.arity);
    return `[${cut.map((x) => renderTree(x)).join(',')}]`;
  }
  const fields: [string, Tree | undefined][] = [
    ['join_ref', m.joinRef],
    ['ref', m.ref],
    ['topic', m.topic],
    ['event', m.event],
    ['payload', m.payload],
    ...Object.keys(m.extra ?? {}).map((k): [string, Tree] => [k, (m.extra as { [k: string]: Tree })[k]!]),
  ];
  return `{${fields
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${JSON.stringify(k)}:${renderTree(v)}`)
    .join(',')}}`;
}

function binaryFrame(r: BinaryRecipe): Buffer {
  const field = (s: string) => {
    const b = Buffer.from(s);
    return b.subarray(0, 255);
  };
  const data = r.data instanceof Uint8Array ? Buffer.from(r.data) : Buffer.from(renderTree(r.data));
  const parts =
    r.kind === 0
      ? [field(r.joinRef), field(r.ref), field(r.topic), field(r.event)]
      : [field(r.joinRef), field(r.ref), field(r.topic), field(r.event), field(r.meta)];
  const header = [r.kind & 0xff, ...parts.map((p) => p.length)];
  if (r.kind !== 0) header.push(r.encoding & 0xff);
  if (r.lie && r.lie.at < header.length) header[r.lie.at] = r.lie.value & 0xff;
  return Buffer.concat([Buffer.from(header), ...parts, data]);
}

function fragment(data: Buffer, split: number[] | undefined): Buffer[] {
  if (!split || split.length === 0) return [data];
  const cuts = [...new Set(split.map((f) => Math.floor(f * data.length)))]
    .filter((c) => c > 0 && c < data.length)
    .sort((a, b) => a - b);
  const out: Buffer[] = [];
  let at = 0;
  for (const c of cuts) {
    out.push(data.subarray(at, c));
    at = c;
  }
  out.push(data.subarray(at));
  return out;
}

const MASK = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);

/** A client frame by hand (RFC 6455 §5.2). */
export function rawFrameBytes(r: RawRecipe): Buffer {
  const length = r.claim ?? r.payload.length;
  const head: number[] = [(r.fin ? 0x80 : 0) | ((r.rsv & 7) << 4) | (r.op & 0x0f)];
  const maskBit = r.masked ? 0x80 : 0;
  if (length < 126) head.push(maskBit | length);
  else if (length < 65536) head.push(maskBit | 126, length >> 8, length & 0xff);
  else {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(length));
    head.push(maskBit | 127, ...b);
  }
  if (r.claim !== undefined) return Buffer.concat([Buffer.from(head), r.masked ? MASK : Buffer.alloc(0)]);
  const payload = Buffer.from(r.payload);
  if (r.masked) for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ MASK[i % 4]!;
  return Buffer.concat([Buffer.from(head), r.masked ? MASK : Buffer.alloc(0), payload]);
}

// ---------------------------------------------------------------------------------------------
// The oracle

/** What one frame must lead to: nothing visible (handled), or a close of this socket. */
export type Outcome =
  | { close: false }
  | { close: 1011; code: string }
  | { close: 1009 | 1002 | 1007 }
  /** The client sent a valid close: the server echoes its code. */
  | { close: 'echo'; echo: number }
  /** The local decoder threw something that is not a FrameError (a serializer bug): any confined end. */
  | { close: 'any'; why: string };

export type Decoded = { ok: true; incoming: Incoming } | { ok: false; error: unknown };

export function localDecode(vsn: Vsn, data: Buffer, binary: boolean): Decoded {
  try {
    return { ok: true, incoming: serializerFor(vsn).decode(data, binary) };
  } catch (error) {
    return { ok: false, error };
  }
}

export function expectedOutcome(wire: Wire, vsn: Vsn, fragmentPending = false): Outcome {
  if (wire.kind === 'raw') return rawOutcome(wire.recipe, vsn, fragmentPending);
  if (wire.data.length > MAX_PAYLOAD) return { close: 1009 };
  return messageOutcome(wire.data, wire.binary, vsn);
}

function messageOutcome(data: Buffer, binary: boolean, vsn: Vsn): Outcome {
  if (!binary && !isUtf8(data)) return { close: 1007 };
  const decoded = localDecode(vsn, data, binary);
  if (decoded.ok) return { close: false };
  if (decoded.error instanceof FrameError) return { close: 1011, code: decoded.error.code };
  return { close: 'any', why: `local decode threw ${describeError(decoded.error)}` };
}

function rawOutcome(r: RawRecipe, vsn: Vsn, fragmentPending: boolean): Outcome {
  const length = r.claim ?? r.payload.length;
  const control = r.op >= 8 && r.op <= 10;
  if (r.rsv !== 0) return { close: 1002 };
  if (r.op === 0 && !fragmentPending) return { close: 1002 };
  if ((r.op === 1 || r.op === 2) && fragmentPending) return { close: 1002 };
  if ((r.op > 2 && r.op < 8) || r.op > 10) return { close: 1002 };
  if (control && (!r.fin || length > 125 || (r.op === 8 && length === 1))) return { close: 1002 };
  if (!r.masked) return { close: 1002 };
  if (!control && length > MAX_PAYLOAD) return { close: 1009 };
  if (r.claim !== undefined) return { close: 'any', why: 'claimed length without payload' };
  if (r.op === 8) {
    if (length === 0) return { close: 'echo', echo: 1005 };
    const code = Buffer.from(r.payload).readUInt16BE(0);
    const valid =
      (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) ||
      (code >= 3000 && code <= 4999);
    if (!valid) return { close: 1002 };
    if (!isUtf8(Buffer.from(r.payload).subarray(2))) return { close: 1007 };
    return { close: 'echo', echo: code };
  }
  if (control) return { close: false };
  // A data frame without FIN leaves a message open: the probe that follows (a new text frame) is then
  // a protocol error.
  if (!r.fin) return { close: 1002 };
  return messageOutcome(Buffer.from(r.payload), r.op === 2, vsn);
}

/** A bounded one-line rendering of anything thrown, for failure messages. */
export function describeError(error: unknown): string {
  try {
    if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 300);
    return String(error).slice(0, 300);
  } catch {
    return 'an error that cannot be rendered';
  }
}

/** A short, exact-where-possible description of bytes for failure messages. */
export function previewBytes(data: Buffer, binary: boolean): string {
  const head = binary
    ? data.subarray(0, 48).toString('hex')
    : JSON.stringify(data.subarray(0, 160).toString());
  return `${binary ? 'binary' : 'text'} ${data.length} bytes: ${head}${data.length > (binary ? 48 : 160) ? '…' : ''}`;
}

// ---------------------------------------------------------------------------------------------
// Frame arbitraries

const splitArb = fc.option(
  fc.array(fc.double({ min: 0.01, max: 0.99, noNaN: true }), { minLength: 1, maxLength: 3 }),
  {
    nil: undefined,
    freq: 4,
  },
);

const withSplit = <T extends FrameRecipe>(arb: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fc.tuple(arb, splitArb).map(([r, split]) => (split ? { ...r, split } : r));

export const msgRecipe: fc.Arbitrary<MsgRecipe> = fc.record(
  {
    k: fc.constant('msg' as const),
    joinRef: hostileRef,
    ref: hostileRef,
    topic: hostileTopic,
    event: hostileEvent,
    payload: tree,
    arity: fc.constantFrom(3, 4, 5, 6, 10),
    extra: fc.dictionary(hostileString, tree, { maxKeys: 2, noNullPrototype: true }),
  },
  { requiredKeys: ['k'], noNullPrototype: true },
);

const binaryRecipe: fc.Arbitrary<BinaryRecipe> = fc.record(
  {
    k: fc.constant('bin' as const),
    kind: fc.constantFrom(0, 3, 3, 3, 4, 1, 2, 255),
    joinRef: fc.constantFrom('', '1', 'j1'),
    ref: fc.constantFrom('', '1', '2'),
    topic: fc.oneof(fc.constantFrom('realtime:fz-raw', 'realtime:', 'phoenix'), hostileString),
    event: hostileString,
    meta: fc.oneof(fc.constantFrom('', '{}', '{"persist":true}', '{', '[]', 'null', '"x"'), hostileString),
    encoding: fc.constantFrom(0, 1, 2, 255),
    data: fc.oneof(fc.uint8Array({ maxLength: 64 }), tree),
    lie: fc.option(
      fc.record({ at: fc.integer({ min: 1, max: 6 }), value: fc.integer({ min: 0, max: 255 }) }),
      {
        nil: undefined,
      },
    ),
  },
  {
    requiredKeys: ['k', 'kind', 'joinRef', 'ref', 'topic', 'event', 'meta', 'encoding', 'data'],
    noNullPrototype: true,
  },
);

export const rawRecipe: fc.Arbitrary<RawRecipe> = fc.oneof(
  // Mostly one defect at a time, so each of ws's checks is reached.
  fc.record(
    {
      k: fc.constant('raw' as const),
      op: fc.integer({ min: 0, max: 15 }),
      fin: fc.boolean(),
      rsv: fc.constantFrom(0, 0, 1, 2, 4, 7),
      masked: fc.boolean(),
      payload: fc.uint8Array({ maxLength: 140 }),
    },
    { noNullPrototype: true },
  ),
  fc.record(
    {
      k: fc.constant('raw' as const),
      op: fc.constantFrom(8),
      fin: fc.constant(true),
      rsv: fc.constant(0),
      masked: fc.constant(true),
      payload: fc.oneof(
        fc.constantFrom(1000, 1001, 1004, 1005, 1006, 1015, 999, 0, 2999, 3000, 4999, 5000).map((code) => {
          const b = new Uint8Array(2);
          b[0] = code >> 8;
          b[1] = code & 0xff;
          return b;
        }),
        fc.uint8Array({ minLength: 2, maxLength: 125 }),
      ),
    },
    { noNullPrototype: true },
  ),
  fc.record(
    {
      k: fc.constant('raw' as const),
      op: fc.constantFrom(1, 2),
      fin: fc.constant(true),
      rsv: fc.constant(0),
      masked: fc.constant(true),
      payload: fc.uint8Array({ maxLength: 8 }),
      claim: fc.constantFrom(MAX_PAYLOAD + 1, 2 ** 32, 2 ** 53 - 1, 2 ** 60),
    },
    { noNullPrototype: true },
  ),
);

/**
 * The frames issue 22 names, always in the mix: each once took the stack down (or poisoned it)
 * before the fixes. Kept as recipes so a failure shows which one.
 */
export const KNOWN_BAD_FRAMES: FrameRecipe[] = [
  // Wrong shape whose error preview is non-ASCII: a close reason cut by characters, not bytes.
  { k: 'json', value: ['é'.repeat(100)] },
  { k: 'json', value: ['😀'.repeat(70)] },
  { k: 'msg', joinRef: null, ref: '1', topic: { ['日本語'.repeat(20)]: 1 }, event: 'x', payload: {} },
  // 6,000-deep arrays: the error preview re-encoded them recursively.
  { k: 'json', value: new Deep(6000, 'array') },
  { k: 'json', value: new Deep(6000, 'object') },
  // The 156-byte join with 41 nested lists in a binding: its error message rendered in
  // exponential time and stopped the event loop (a frame every vsn 2.0.0 server decodes).
  {
    k: 'text',
    text: `["1","1","realtime:x","phx_join",{"config":{"postgres_changes":[{"x":${renderTree(new Deep(41, 'array'))}}]}}]`,
  },
  // vsn 1 `ref` that String() cannot convert.
  {
    k: 'msg',
    joinRef: null,
    ref: JSON.parse('{"toString":0}') as Tree,
    topic: 'phoenix',
    event: 'heartbeat',
    payload: {},
  },
];

/** A join of a realtime topic with an odd payload (config shapes, tokens). */
export const joinRecipe: fc.Arbitrary<MsgRecipe> = fc.record(
  {
    k: fc.constant('msg' as const),
    joinRef: fc.constantFrom<Tree>('j1', null, '1'),
    ref: fc.constantFrom<Tree>('j1', '1', null),
    topic: fc.oneof(fc.constantFrom<Tree>('realtime:fz-raw', 'realtime:fz-raw-2'), hostileTopic),
    event: fc.constant<Tree>('phx_join'),
    payload: joinPayload,
  },
  { noNullPrototype: true },
);

export const frameRecipe: fc.Arbitrary<FrameRecipe> = fc.oneof(
  { weight: 5, arbitrary: withSplit(msgRecipe) },
  { weight: 2, arbitrary: withSplit(joinRecipe) },
  {
    weight: 3,
    arbitrary: withSplit(
      fc.record({ k: fc.constant('json' as const), value: tree }, { noNullPrototype: true }),
    ),
  },
  {
    weight: 2,
    arbitrary: withSplit(
      fc.record({ k: fc.constant('text' as const), text: hostileString }, { noNullPrototype: true }),
    ),
  },
  {
    weight: 2,
    arbitrary: withSplit(
      fc.record(
        {
          k: fc.constant('bytes' as const),
          bytes: fc.uint8Array({ maxLength: 64 }),
          binary: fc.boolean(),
        },
        { noNullPrototype: true },
      ),
    ),
  },
  { weight: 3, arbitrary: withSplit(binaryRecipe) },
  {
    weight: 1,
    arbitrary: withSplit(
      fc.record(
        {
          k: fc.constant('oversize' as const),
          bytes: fc.constantFrom(MAX_PAYLOAD + 1, MAX_PAYLOAD + 4096),
          binary: fc.boolean(),
        },
        { noNullPrototype: true },
      ),
    ),
  },
  { weight: 2, arbitrary: fc.constantFrom(...KNOWN_BAD_FRAMES) },
);
