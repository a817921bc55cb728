import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe } from 'vitest';
import type { Target } from './child-stack.ts';
import {
  type AnyRecipe,
  buildFrame,
  Deep,
  expectedOutcome,
  type FrameRecipe,
  flagish,
  frameRecipe,
  hostileEvent,
  hostileRef,
  hostileString,
  joinPayload,
  KNOWN_BAD_FRAMES,
  type MsgRecipe,
  type Outcome,
  previewBytes,
  type RawRecipe,
  rawRecipe,
  renderTree,
  type Tree,
  tree,
  type Vsn,
  type Wire,
} from './frames.ts';
import { type Bystander, FuzzEnv } from './harness.ts';
import {
  asMsg,
  type HostileSocket,
  isReply,
  judgeEnd,
  Lingering,
  openAnonSocket,
  phx,
  probe,
  type Received,
} from './hostile-socket.ts';
import { answerTo, describeRequest, type RawRequest } from './raw-http.ts';
import { capped } from './settings.ts';
import { batchesOf, itEndsWhole, itFuzzes, itPassesKnown, useStack } from './suite.ts';
import { hostileToken, judgeJoinReply, STRING_EXP_TOKEN, type TokenRecipe, tokenText } from './tokens.ts';
import { encodeAny } from './well-formed.ts';

/**
 * Issue 22 on the realtime socket, from anon-key sockets as an attacker opens them.
 *
 * Raw frames: text and binary, fragmented, oversize, invalid UTF-8, deeply nested, wrong shapes for
 * vsn 1.0.0 and 2.0.0, hostile refs, topics and events, joins with odd configs, and hand-made
 * frames that break RFC 6455. Each batch goes on a fresh socket, followed by a probe the server
 * answers through the socket's frame queue; the socket must end as its first refused frame calls
 * for (1011 undecodable, 1009 oversize, 1002/1007 protocol) with a reason of at most 123 bytes.
 *
 * Joined channels: a socket joins a topic (odd configs; odd tokens, where a join whose access_token
 * is not usable must be refused, in hosted's words where they are certain) and sends broadcasts
 * (JSON and binary kind 3), presence tracks and untracks (metas up to absurd nesting), access_token
 * pushes with junk, unknown events, re-joins and leaves, then closes, vanishes or stays. The topics
 * are shared with witnesses on vsn 2.0.0 and 1.0.0 joined for the whole file: after every run each
 * must still hear a broadcast and a presence diff on every shared topic (a topic a hostile member
 * poisoned fails them). The broadcast REST API posts hostile payloads to the same topics.
 *
 * After every run, besides: the stack answers, and the control client receives every change it is
 * owed.
 */

const TOPICS = ['realtime:fz-shared-1', 'realtime:fz-shared-2'] as const;
/**
 * Private lanes (policies in stack-child.ts): `fz-private-1` admits every join and broadcast, denies
 * presence; `fz-num:<tail>` admits when the tail casts to int, else the read probe fails in Postgres.
 * A join there is made private, so hostile traffic reaches both of realtime's authorization probes.
 */
const PRIVATE_TOPIC = 'realtime:fz-private-1';
const NUMBERED = 'realtime:fz-num:';
const isPrivateLane = (topic: string) => topic === PRIVATE_TOPIC || topic.startsWith(NUMBERED);

/** Joined to every shared topic with broadcast self and presence; hurt if it stops hearing its own. */
class Witnesses implements Bystander {
  private socks: { vsn: Vsn; sock: HostileSocket }[] = [];

  async open(target: Target): Promise<void> {
    for (const vsn of ['2.0.0', '1.0.0'] as const) {
      const sock = await openAnonSocket(target, vsn);
      for (const topic of TOPICS) {
        const config = { broadcast: { self: true }, presence: { key: `witness-${vsn}`, enabled: true } };
        sock.sendText(phx(vsn, `w-${topic}`, `w-${topic}`, topic, 'phx_join', { config }));
        const end = await capped(`witness ${vsn} joining ${topic}`, sock.until(isReply(topic, `w-${topic}`)));
        const payload = 'frame' in end ? (asMsg(end.frame)?.payload as { status?: string }) : undefined;
        if (payload?.status !== 'ok')
          throw new Error(`witness ${vsn} could not join ${topic}: ${JSON.stringify(end)}`);
      }
      this.socks.push({ vsn, sock });
    }
  }

  async check(): Promise<void> {
    for (const { vsn, sock } of this.socks) {
      if (sock.closeInfo) {
        throw new Error(
          `a bystander (witness ${vsn}) was closed: ${sock.closeInfo.code} ${JSON.stringify(sock.closeInfo.reason.toString())}`,
        );
      }
    }
    for (const topic of TOPICS) {
      for (const { vsn, sock } of this.socks) {
        // Only what arrives from here on matters; the hostile traffic before is dropped.
        for (const s of this.socks) s.sock.received.length = 0;
        const nonce = randomUUID();
        const joinRef = `w-${topic}`;
        sock.sendText(
          phx(vsn, joinRef, null, topic, 'broadcast', { type: 'broadcast', event: 'w', payload: { nonce } }),
        );
        await this.everyoneHears(topic, `broadcast from witness ${vsn}`, (m) => {
          const p = m.payload as { payload?: { nonce?: unknown } } | undefined;
          return m.event === 'broadcast' && p?.payload?.nonce === nonce;
        });
        const meta = randomUUID();
        sock.sendText(
          phx(vsn, joinRef, null, topic, 'presence', { type: 'presence', event: 'track', payload: { meta } }),
        );
        await this.everyoneHears(topic, `presence track of witness ${vsn}`, (m) => {
          if (m.event !== 'presence_diff') return false;
          const joins =
            (m.payload as { joins?: Record<string, { metas?: { meta?: unknown }[] }> })?.joins ?? {};
          return Object.values(joins).some((j) => j?.metas?.some((x) => x?.meta === meta));
        });
      }
    }
  }

  private async everyoneHears(
    topic: string,
    what: string,
    match: (m: NonNullable<ReturnType<typeof asMsg>>) => boolean,
  ) {
    for (const { vsn, sock } of this.socks) {
      const end = await capped(
        `witness ${vsn} waiting for the ${what} on ${topic}`,
        sock.until((f: Received) => {
          const m = asMsg(f);
          return !!m && m.topic === topic && match(m);
        }),
      ).catch((error: Error) => {
        throw new Error(`a bystander stopped hearing its topic: ${error.message}`);
      });
      if ('closed' in end) {
        throw new Error(
          `a bystander (witness ${vsn}) was closed: ${end.closed.code} ${JSON.stringify(end.closed.reason.toString())}`,
        );
      }
    }
  }

  async close(): Promise<void> {
    for (const { sock } of this.socks) sock.terminate();
    this.socks = [];
  }
}

const witnesses = new Witnesses();
const env = new FuzzEnv([witnesses]);
/** Hostile sockets a run left open on purpose: closed at the start of the next run. */
const lingering = new Lingering();
const closeLingering = () => lingering.closeAll();
useStack(env, { cleanup: closeLingering });

interface Batch {
  vsn: Vsn;
  frames: FrameRecipe[];
  /** At most one hand-made frame, last: after it the socket's framing is the attacker's. */
  raw?: RawRecipe;
}

/** Send one batch on a fresh socket and judge how the socket ended (invariant 3). */
async function sendBatch(batch: Batch): Promise<void> {
  closeLingering();
  const { vsn } = batch;
  const recipes: AnyRecipe[] = batch.raw ? [...batch.frames, batch.raw] : batch.frames;
  const wires = recipes.map((r) => buildFrame(r, vsn));
  const outcomes = wires.map((w) => expectedOutcome(w, vsn));
  const first = outcomes.findIndex((o) => o.close !== false);
  const expected: Outcome = first < 0 ? { close: false } : (outcomes[first] as Outcome);
  const sock = await openAnonSocket(env.target, vsn);
  try {
    for (const wire of wires) sock.put(wire);
    const end = await probe(sock, vsn).catch((error: Error) => {
      throw new Error(`${error.message}${env.log.tail()}`);
    });
    const problems = judgeEnd(expected, end, (k, v) => env.note(k, v));
    if (problems.length) {
      const sent = wires
        .map(
          (w, i) =>
            `  #${i} ${w.kind === 'raw' ? `raw ${w.bytes.toString('hex').slice(0, 64)}` : previewBytes(w.data, w.binary)} → ${JSON.stringify(outcomes[i])}`,
        )
        .join('\n');
      throw new Error(`invariant 3 (vsn ${vsn}): ${problems.join('; ')}\nsent:\n${sent}${env.log.tail(8)}`);
    }
  } finally {
    sock.terminate();
  }
}

const batch = (vsn: Vsn): fc.Arbitrary<Batch> =>
  fc.record(
    {
      vsn: fc.constant(vsn),
      frames: fc.array(frameRecipe, { minLength: 1, maxLength: 4 }),
      raw: fc.option(rawRecipe, { nil: undefined, freq: 4 }),
    },
    { requiredKeys: ['vsn', 'frames'], noNullPrototype: true },
  );

describe.each(['2.0.0', '1.0.0'] as const)('raw frames, vsn %s', (vsn) => {
  itPassesKnown(
    env,
    "issue 22's frames close only their own socket, and the stack stays whole",
    KNOWN_BAD_FRAMES.map((recipe): Batch => ({ vsn, frames: [recipe] })),
    sendBatch,
    240_000,
  );
  const frames = { name: `raw frames ${vsn}`, arbitrary: batch(vsn), body: sendBatch };
  itFuzzes(env, 'any batch of hostile frames ends confined to its socket', {
    ...frames,
    runs: 30,
    perRunMs: 150,
  });
});

type Action =
  | { a: 'broadcast'; event: Tree; payload: Tree }
  | { a: 'binary'; event: string; meta: string; encoding: number; data: Uint8Array | Tree }
  | { a: 'track'; meta: Tree }
  | { a: 'untrack' }
  | { a: 'presence'; payload: Tree }
  | { a: 'token'; token: TokenRecipe | { tree: Tree } }
  | { a: 'push'; joinRef: Tree; ref: Tree; event: Tree; payload: Tree }
  | { a: 'rejoin'; payload: Tree }
  | { a: 'leave' }
  | { a: 'frame'; recipe: FrameRecipe };

interface ChannelRun {
  vsn: Vsn;
  topic: string;
  join: Tree;
  joinToken?: TokenRecipe;
  actions: Action[];
  /** How the hostile socket goes: vanish, close politely, or stay joined through the checks. */
  end: 'terminate' | 'close' | 'stay';
  /** Known runs only: the join reply's status, so a lane that stopped reaching a probe shows. */
  joinStatus?: 'ok' | 'error';
}

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record(
      { a: fc.constant('broadcast' as const), event: hostileEvent, payload: tree },
      { noNullPrototype: true },
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record(
      {
        a: fc.constant('binary' as const),
        event: hostileString,
        meta: fc.oneof(fc.constantFrom('', '{}', '{"persist":true}', '{'), hostileString),
        encoding: fc.constantFrom(0, 1, 1, 7),
        data: fc.oneof(fc.uint8Array({ maxLength: 64 }), tree),
      },
      { noNullPrototype: true },
    ),
  },
  {
    weight: 3,
    arbitrary: fc.record({ a: fc.constant('track' as const), meta: tree }, { noNullPrototype: true }),
  },
  { weight: 1, arbitrary: fc.constant<Action>({ a: 'untrack' }) },
  {
    weight: 1,
    arbitrary: fc.record({ a: fc.constant('presence' as const), payload: tree }, { noNullPrototype: true }),
  },
  {
    weight: 2,
    arbitrary: fc.record(
      {
        a: fc.constant('token' as const),
        token: fc.oneof(
          hostileToken,
          tree.map((t) => ({ tree: t })),
        ),
      },
      { noNullPrototype: true },
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record(
      {
        a: fc.constant('push' as const),
        joinRef: hostileRef,
        ref: hostileRef,
        event: hostileEvent,
        payload: tree,
      },
      { noNullPrototype: true },
    ),
  },
  {
    weight: 1,
    arbitrary: fc.record(
      { a: fc.constant('rejoin' as const), payload: joinPayload },
      { noNullPrototype: true },
    ),
  },
  { weight: 1, arbitrary: fc.constant<Action>({ a: 'leave' }) },
  {
    weight: 1,
    arbitrary: fc.record(
      { a: fc.constant('frame' as const), recipe: frameRecipe },
      { noNullPrototype: true },
    ),
  },
);

/** Mostly a config a client would send (so the channel joins), sometimes anything. */
const joinArb: fc.Arbitrary<Tree> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record({
        broadcast: fc.record({ self: flagish, ack: flagish }, { requiredKeys: [], noNullPrototype: true }),
        presence: fc.record(
          { enabled: fc.constantFrom<Tree>(true, 'true', false), key: fc.oneof(hostileString, tree) },
          { requiredKeys: ['enabled'], noNullPrototype: true },
        ),
        // Mostly public (so the channel joins and its traffic is fuzzed); sometimes private, which
        // runs the read probe for an anon token with no policy and is refused.
        private: fc.constantFrom<Tree>(false, false, false, true, 'true'),
      })
      .map((config) => ({ config }) as Tree),
  },
  { weight: 1, arbitrary: joinPayload },
);

const runArb = (vsn: Vsn): fc.Arbitrary<ChannelRun> =>
  fc
    .record(
      {
        vsn: fc.constant(vsn),
        topic: fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom<string>(...TOPICS) },
          { weight: 1, arbitrary: hostileString.map((s) => `realtime:${s}`) },
          { weight: 2, arbitrary: fc.constant(PRIVATE_TOPIC) },
          {
            weight: 1,
            arbitrary: fc.oneof(fc.integer().map(String), hostileString).map((s) => `${NUMBERED}${s}`),
          },
        ),
        join: joinArb,
        joinToken: hostileToken,
        actions: fc.array(action, { minLength: 1, maxLength: 6 }),
        end: fc.constantFrom('terminate' as const, 'close' as const, 'stay' as const),
      },
      { requiredKeys: ['vsn', 'topic', 'join', 'actions', 'end'], noNullPrototype: true },
    )
    .map(privateOnItsLane);

/** A client config on a private lane joins private (else the probes would never run). */
function privateOnItsLane(run: ChannelRun): ChannelRun {
  const join = run.join;
  if (!isPrivateLane(run.topic) || typeof join !== 'object' || join === null || Array.isArray(join))
    return run;
  const config = (join as { config?: Tree }).config;
  if (typeof config !== 'object' || config === null || Array.isArray(config)) return run;
  return { ...run, join: { ...join, config: { ...config, private: true } } as Tree };
}

function actionRecipe(a: Action, topic: string, i: number, target: Target): FrameRecipe {
  const msg = (event: Tree, payload: Tree, ref: Tree = `r${i}`): MsgRecipe => ({
    k: 'msg',
    joinRef: 'j1',
    ref,
    topic,
    event,
    payload,
  });
  switch (a.a) {
    case 'broadcast':
      return msg('broadcast', { type: 'broadcast', event: a.event, payload: a.payload });
    case 'binary':
      return {
        k: 'bin',
        kind: 3,
        joinRef: 'j1',
        ref: `r${i}`,
        topic,
        event: a.event,
        meta: a.meta,
        encoding: a.encoding,
        data: a.data,
      };
    case 'track':
      return msg('presence', { type: 'presence', event: 'track', payload: a.meta });
    case 'untrack':
      return msg('presence', { type: 'presence', event: 'untrack' });
    case 'presence':
      return msg('presence', a.payload);
    case 'token':
      return msg('access_token', {
        access_token: 'tree' in a.token ? a.token.tree : tokenText(a.token, target),
      });
    case 'push':
      return { k: 'msg', joinRef: a.joinRef, ref: a.ref, topic, event: a.event, payload: a.payload };
    case 'rejoin':
      return { k: 'msg', joinRef: `j${i}`, ref: `j${i}`, topic, event: 'phx_join', payload: a.payload };
    case 'leave':
      return msg('phx_leave', {});
    case 'frame':
      return a.recipe;
  }
}

async function channelRun(run: ChannelRun): Promise<void> {
  closeLingering();
  const { vsn, topic } = run;
  const target = env.target;
  const sock = await openAnonSocket(target, vsn);
  let keep = false;
  try {
    const join =
      run.joinToken && typeof run.join === 'object' && run.join !== null && !Array.isArray(run.join)
        ? ({ ...run.join, access_token: tokenText(run.joinToken, target) } as Tree)
        : run.join;
    const joinWire = buildFrame(
      { k: 'msg', joinRef: 'j1', ref: 'j1', topic, event: 'phx_join', payload: join },
      vsn,
    );
    const joinOutcome = expectedOutcome(joinWire, vsn);
    sock.put(joinWire);
    // A real client waits for the join reply; so does this one, to reach the joined channel's code.
    if (joinOutcome.close === false) {
      const reply = await capped(`the reply to a phx_join on ${topic}`, sock.until(isReply(topic, 'j1')));
      if (run.joinStatus) {
        const status =
          'frame' in reply ? (asMsg(reply.frame)?.payload as { status?: unknown })?.status : undefined;
        if (status !== run.joinStatus)
          throw new Error(
            `the join of ${topic} was expected to be answered ${run.joinStatus}, got ${JSON.stringify('frame' in reply ? asMsg(reply.frame)?.payload : reply)}`,
          );
      }
      if ('frame' in reply && run.joinToken && join !== run.join) {
        const problem = judgeJoinReply(
          run.joinToken,
          tokenText(run.joinToken, target),
          asMsg(reply.frame)?.payload,
        );
        if (problem)
          throw new Error(
            `${problem}\njoin: ${previewBytes(joinWire.kind === 'message' ? joinWire.data : Buffer.alloc(0), false)}`,
          );
      }
    }
    const wires: Wire[] = run.actions.map((a, i) => buildFrame(actionRecipe(a, topic, i, target), vsn));
    const outcomes = [joinOutcome, ...wires.map((w) => expectedOutcome(w, vsn))];
    const first = outcomes.find((o) => o.close !== false);
    const expected: Outcome = first ?? { close: false };
    for (const w of wires) sock.put(w);
    const end = await probe(sock, vsn);
    const problems = judgeEnd(expected, end, (k, v) => env.note(k, v));
    if (problems.length) {
      const sent = [joinWire, ...wires]
        .map(
          (w, i) =>
            `  #${i} ${w.kind === 'raw' ? 'raw' : previewBytes(w.data, w.binary)} → ${JSON.stringify(outcomes[i])}`,
        )
        .join('\n');
      throw new Error(`invariant 3 (vsn ${vsn}): ${problems.join('; ')}\nsent:\n${sent}${env.log.tail(8)}`);
    }
    if (run.end === 'close' && !sock.closeInfo) {
      sock.ws.close(1000);
      await capped('the server completing a client close', sock.closed);
    }
    keep = run.end === 'stay';
  } finally {
    if (keep) lingering.keep(sock);
    else sock.terminate();
  }
}

/**
 * The shapes issue 22 names for channels: a presence re-track with a 6,000-deep meta and then a
 * close (it crashed the fan-out and poisoned the topic), a correctly signed token whose `exp` is a
 * string, a binary broadcast whose JSON nests 6,000 deep (re-encoded for vsn 1.0.0 members).
 */
const KNOWN: Omit<ChannelRun, 'vsn'>[] = [
  {
    topic: TOPICS[0],
    join: { config: { presence: { enabled: true, key: 'deep' } } },
    actions: [
      { a: 'track', meta: { a: 1 } },
      { a: 'track', meta: { deep: new Deep(6000, 'array') } },
    ],
    end: 'close',
  },
  {
    topic: TOPICS[1],
    join: { config: { presence: { enabled: true } } },
    actions: [{ a: 'token', token: STRING_EXP_TOKEN }],
    end: 'terminate',
  },
  {
    topic: TOPICS[0],
    join: { config: { broadcast: { self: true } } },
    joinToken: STRING_EXP_TOKEN,
    actions: [{ a: 'broadcast', event: 'x', payload: 1 }],
    end: 'stay',
  },
  {
    topic: TOPICS[1],
    join: { config: { broadcast: { self: true } } },
    actions: [{ a: 'binary', event: 'deep', meta: '', encoding: 1, data: new Deep(6000, 'array') }],
    end: 'terminate',
  },
  // The private lanes: a join the read probe admits, then sends and tracks that run the write probe
  // (broadcast admitted, presence denied), a token push (re-authorization), and a deep binary send.
  {
    topic: PRIVATE_TOPIC,
    join: { config: { private: true, broadcast: { self: true }, presence: { enabled: true, key: 'p' } } },
    joinStatus: 'ok',
    actions: [
      { a: 'broadcast', event: 'x', payload: { deep: new Deep(6000, 'object') } },
      { a: 'track', meta: { deep: new Deep(6000, 'array') } },
      { a: 'binary', event: 'b', meta: '', encoding: 1, data: new Deep(6000, 'array') },
      { a: 'token', token: STRING_EXP_TOKEN },
      { a: 'broadcast', event: 'after', payload: 1 },
    ],
    end: 'stay',
  },
  {
    topic: `${NUMBERED}12`,
    join: { config: { private: true } },
    joinStatus: 'ok',
    actions: [{ a: 'broadcast', event: 'x', payload: 1 }],
    end: 'close',
  },
  // The policy's cast fails inside the read probe: refused, and nothing else is hurt.
  {
    topic: `${NUMBERED}'; drop table realtime.messages; --`,
    join: { config: { private: true } },
    joinStatus: 'error',
    actions: [{ a: 'broadcast', event: 'x', payload: 1 }],
    end: 'terminate',
  },
];

describe.each(['2.0.0', '1.0.0'] as const)('joined channels, vsn %s', (vsn) => {
  itPassesKnown(
    env,
    "issue 22's channel traffic stays with its socket; the topic keeps working",
    KNOWN.map((run): ChannelRun => ({ vsn, ...run })),
    channelRun,
    300_000,
  );
  const channels = { name: `channels ${vsn}`, arbitrary: runArb(vsn), body: channelRun };
  itFuzzes(env, 'hostile channel traffic never reaches past its socket', {
    ...channels,
    runs: 25,
    perRunMs: 250,
  });
});

/**
 * The same topics through the broadcast REST API (`POST /realtime/v1/api/broadcast`, and the single
 * `…/:topic/events/:event` form with JSON or octet-stream bodies): hostile payloads fanned out to
 * the witnesses of both vsns. Every post gets an answer; the witnesses keep hearing their topics.
 */
interface ApiPost {
  single: boolean;
  topic: string;
  event: string;
  payload: Tree;
  binary: boolean;
  isPrivate: Tree;
  extra: Tree;
}

const apiPost: fc.Arbitrary<ApiPost> = fc.record(
  {
    single: fc.boolean(),
    topic: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom<string>(...TOPICS.map((t) => t.slice('realtime:'.length))) },
      { weight: 1, arbitrary: hostileString },
      // The private lanes: with private set, the endpoint runs the write probe (or its cast fails).
      {
        weight: 1,
        arbitrary: fc.constantFrom<string>(
          PRIVATE_TOPIC.slice('realtime:'.length),
          `${NUMBERED.slice('realtime:'.length)}7`,
          `${NUMBERED.slice('realtime:'.length)}x`,
        ),
      },
    ),
    event: hostileString,
    payload: tree,
    binary: fc.boolean(),
    isPrivate: flagish,
    extra: tree,
  },
  { noNullPrototype: true },
);

async function postBroadcast(p: ApiPost): Promise<void> {
  const target = env.target;
  const path = p.single
    ? `/realtime/v1/api/broadcast/${encodeAny(p.topic)}/events/${encodeAny(p.event)}${p.isPrivate === true ? '?private=true' : ''}`
    : '/realtime/v1/api/broadcast';
  const body = Buffer.from(
    p.single
      ? renderTree(p.payload)
      : renderTree({
          messages: [{ topic: p.topic, event: p.event, payload: p.payload, private: p.isPrivate }, p.extra],
        }),
  );
  const req: RawRequest = {
    method: 'POST',
    target: path,
    version: 'HTTP/1.1',
    headers: [
      ['Host', `127.0.0.1:${target.port}`],
      ['apikey', target.anonKey],
      ['Content-Type', p.single && p.binary ? 'application/octet-stream' : 'application/json'],
      ['Content-Length', String(body.length)],
      ['Connection', 'close'],
    ],
    body,
  };
  const answer = await answerTo(target.port, req, () => env.log.tail(8));
  if (answer.status !== undefined && answer.status >= 500) {
    env.note(
      `${answer.status} from the broadcast API`,
      `${answer.body.toString().slice(0, 120)} for ${describeRequest(req).slice(0, 200)}`,
    );
  }
}

const posts = batchesOf('broadcast api', apiPost, postBroadcast, { runs: 25, perRunMs: 200 });

describe('the broadcast API on the shared topics', () => {
  itFuzzes(env, 'hostile broadcast posts never cost the witnesses their topics', {
    ...posts,
    // Sockets the channel runs left open are closed first: only the posts are judged here.
    body: async (batch) => {
      closeLingering();
      await posts.body(batch);
    },
  });
});

itEndsWhole(env, { cleanup: closeLingering });
