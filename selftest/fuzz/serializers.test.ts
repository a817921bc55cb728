import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  FrameError,
  type Incoming,
  message,
  type Outgoing,
  reply,
} from '../../stack/realtime/wire/message.ts';
import {
  buildFrame,
  describeError,
  type FrameRecipe,
  frameRecipe,
  hostileString,
  KNOWN_BAD_FRAMES,
  previewBytes,
  serializerFor,
  type Vsn,
} from './frames.ts';
import { budget, fuzz } from './settings.ts';

/**
 * Issue 22 in-process: both serializers' decode, on any text or binary frame, either returns a
 * message or throws a FrameError (which the socket turns into a 1011 close) with a short message —
 * never anything else, which would escape the frame handler. Whatever decode returns, the server
 * must be able to encode what it sends back and fans out: replies that echo the topic and refs,
 * and broadcasts that carry the payload to members of either vsn.
 */

/** Error texts end up in close reasons and log lines: a hostile frame must not make them long. */
const MAX_ERROR_CHARS = 300;

/** The encodes a decoded frame leads to on the server (reply, fan-out to v1 and v2 members). */
function encodesFor(incoming: Incoming): Outgoing[] {
  switch (incoming.kind) {
    case 'message': {
      const m = incoming.message;
      return [
        reply(m.joinRef, m.ref, m.topic, 'ok', {}),
        reply(null, m.ref, m.topic, 'error', { reason: 'unmatched topic' }),
        message(null, null, m.topic, m.event, m.payload),
        message(null, null, m.topic, 'broadcast', m.payload),
        message(null, null, m.topic, 'presence_diff', { joins: { k: { metas: [m.payload] } }, leaves: {} }),
      ];
    }
    case 'user_broadcast':
      return [
        { kind: 'user_broadcast', topic: incoming.topic, broadcast: incoming.broadcast },
        reply(incoming.joinRef, incoming.ref, incoming.topic, 'ok', {}),
      ];
    case 'binary_push':
      return [];
  }
}

function check(vsn: Vsn, input: { data: Buffer; binary: boolean }): void {
  const serializer = serializerFor(vsn);
  let incoming: Incoming;
  try {
    incoming = serializer.decode(input.data, input.binary);
  } catch (error) {
    if (!(error instanceof FrameError)) {
      throw new Error(
        `vsn ${vsn} decode threw ${describeError(error)} (not a FrameError) on ${previewBytes(input.data, input.binary)}`,
      );
    }
    expect(error.code).toMatch(/^[A-Z_0-9]{1,40}$/);
    if (error.message.length > MAX_ERROR_CHARS) {
      throw new Error(
        `vsn ${vsn} FrameError ${error.code} message is ${error.message.length} chars (max ${MAX_ERROR_CHARS}) on ${previewBytes(input.data, input.binary)}`,
      );
    }
    return;
  }
  for (const out of encodesFor(incoming)) {
    for (const to of ['1.0.0', '2.0.0'] as const) {
      try {
        serializerFor(to).encode(out);
      } catch (error) {
        throw new Error(
          `vsn ${vsn} decoded ${previewBytes(input.data, input.binary)}, but encoding ${out.kind === 'message' ? out.message.event : 'a user broadcast'} for a vsn ${to} member threw ${describeError(error)}`,
        );
      }
    }
  }
}

const VSNS = ['2.0.0', '1.0.0'] as const;

/**
 * Inputs stay recipes (small, printable, shrinkable); the predicate builds the bytes. A 6,000-deep
 * frame then prints as `Deep(6000, 'array')`, not as 12,000 bytes.
 */
type Input = { recipe: FrameRecipe } | { text: string } | { bytes: Uint8Array; binary: boolean };

function bytesOf(input: Input, vsn: Vsn): { data: Buffer; binary: boolean } {
  if ('recipe' in input) {
    const wire = buildFrame(input.recipe, vsn);
    if (wire.kind !== 'message') throw new Error('unreachable: no raw recipes here');
    return { data: wire.data, binary: wire.binary };
  }
  if ('text' in input) return { data: Buffer.from(input.text), binary: false };
  return { data: Buffer.from(input.bytes), binary: input.binary };
}

const input: fc.Arbitrary<Input> = fc.oneof(
  // Oversize frames never reach decode (ws refuses them with 1009).
  {
    weight: 3,
    arbitrary: frameRecipe.filter((r) => r.k !== 'oversize').map((recipe): Input => ({ recipe })),
  },
  {
    weight: 2,
    arbitrary: fc
      .oneof(hostileString, fc.string({ unit: 'binary', maxLength: 300 }), fc.json({ maxDepth: 4 }))
      .map((text): Input => ({ text })),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.uint8Array({ maxLength: 300 }), fc.boolean())
      .map(([bytes, binary]): Input => ({ bytes, binary })),
  },
  {
    // The crafted binary kinds clients send, with every header length possibly lying.
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom(0, 3),
        fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 8 }),
        fc.uint8Array({ maxLength: 64 }),
      )
      .map(
        ([kind, header, rest]): Input => ({
          bytes: Uint8Array.from([kind, ...header, ...rest]),
          binary: true,
        }),
      ),
  },
);

const RUNS = 400;
const PER_RUN_MS = 5;

describe.each(VSNS)('serializer vsn %s', (vsn) => {
  it("refuses issue 22's frames with a FrameError only", () => {
    const failures: string[] = [];
    for (const recipe of KNOWN_BAD_FRAMES) {
      try {
        check(vsn, bytesOf({ recipe }, vsn));
      } catch (error) {
        failures.push(describeError(error));
      }
    }
    expect(failures).toEqual([]);
  });

  it(
    'decode throws only FrameError, with a short message; what it returns encodes for every member',
    async () => {
      await fuzz(`serializer ${vsn}`, input, async (i) => check(vsn, bytesOf(i, vsn)), {
        runs: RUNS,
        perRunMs: PER_RUN_MS,
      });
    },
    budget({ runs: RUNS, perRunMs: PER_RUN_MS }).timeoutMs,
  );
});
