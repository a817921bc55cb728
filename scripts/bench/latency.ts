/**
 * bench:latency — insert commit → subscriber callback, one subscriber on Node (supabase-js over ws)
 * and one in Chromium (supabase-js UMD) by postgres_changes, one on Node by Broadcast from Database
 * (a trigger calling realtime.broadcast_changes into a private channel), beside the floor (the
 * pgoutput INSERT message on Node's own replication connection), all fed by the same inserts in the
 * same run. The trigger runs for the postgres_changes subscribers' inserts too: each commit also
 * writes its realtime.messages row, as in an app that uses it.
 *
 * One clock: inserts are made from this process over a plain pg connection, and the commit instant
 * is `performance.now()` when the INSERT's acknowledgment resolves (autocommit: the ack is sent
 * after the commit). Node arrivals are `performance.now()` in the callback; browser arrivals are page
 * wall-clock stamps moved onto Node's timeline with a measured offset (browser-subscriber.ts). The ack
 * trails the real commit by one loopback hop, which understates every latency alike; the ratio to the
 * floor is unaffected.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { type AuthorizeCost, measureAuthorizeCost, measureRoundTrip } from './authorize-cost.ts';
import { installBroadcastTrigger, subscribeNodeBroadcast } from './broadcast-subscriber.ts';
import { subscribeBrowser } from './browser-subscriber.ts';
import { type ChildStack, startChildStack } from './child-stack.ts';
import { startFloor } from './floor.ts';
import { createLoadUsers, LOAD_PASSWORD, signIn } from './load-users.ts';
import { subscribeNode } from './node-subscriber.ts';
import type { BenchResult, Row } from './report.ts';
import { ms, type Summary, summarize } from './stats.ts';

const INSERTS = Number(process.env['RTM_BENCH_INSERTS'] ?? 500);
const WARMUP = 20;
const WAIT_MS = 3_000;
/** Pause between inserts so each is measured alone (no batching in the WAL or the engine). */
const GAP_MS = 5;
/** How long stragglers are awaited after the last insert before they count as lost. */
const GRACE_MS = 10_000;

type Receiver = 'floor' | 'node' | 'browser' | 'broadcast';
const RECEIVERS: Receiver[] = ['floor', 'node', 'browser', 'broadcast'];

/**
 * The inserting session's commit mode: the cluster's default (stack/postgres/cluster.ts: sync, since
 * logical decoding reads only flushed WAL) and asynchronous, which holds each change until the WAL
 * writer's next flush (wal_writer_delay).
 */
const MODES = [
  { key: 'default', name: 'cluster default commit' },
  { key: 'async', name: 'synchronous_commit=off', sql: 'set synchronous_commit = off' },
];

interface Pending {
  ack?: number;
  arrivals: Partial<Record<Receiver, number>>;
  done?: () => void;
}

export interface LatencyRun {
  mode: string;
  samples: Record<Receiver, number[]>;
  lost: Record<Receiver, number>;
  late: Record<Receiver, number>;
  summary: Record<Receiver, Summary>;
}

async function runInserts(
  db: pg.Client,
  pending: Map<string, Pending>,
  count: number,
  userId: string,
  runId: string,
): Promise<{
  samples: Record<Receiver, number[]>;
  lost: Record<Receiver, number>;
  late: Record<Receiver, number>;
}> {
  const entries: Pending[] = [];
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = randomUUID();
    const entry: Pending = { arrivals: {} };
    const complete = new Promise<void>((resolve) => {
      entry.done = resolve;
    });
    pending.set(id, entry);
    entries.push(entry);
    ids.push(id);
    await db.query('insert into public.tickets (id, title, created_by) values ($1, $2, $3)', [
      id,
      `[rtm-bench:${runId}] latency ${i}`,
      userId,
    ]);
    entry.ack = performance.now();
    // Pace on arrival (bounded): the next insert waits for this one, so each is measured alone.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([complete, new Promise<void>((r) => (timer = setTimeout(r, WAIT_MS)))]);
    clearTimeout(timer);
    await new Promise((r) => setTimeout(r, GAP_MS));
  }
  // Stragglers still count (as late), so a slow delivery is told apart from a lost one.
  const deadline = performance.now() + GRACE_MS;
  while (
    performance.now() < deadline &&
    entries.some((e) => RECEIVERS.some((r) => e.arrivals[r] === undefined))
  )
    await new Promise((r) => setTimeout(r, 50));
  for (const id of ids) pending.delete(id);
  const samples: Record<Receiver, number[]> = { floor: [], node: [], browser: [], broadcast: [] };
  const lost: Record<Receiver, number> = { floor: 0, node: 0, browser: 0, broadcast: 0 };
  const late: Record<Receiver, number> = { floor: 0, node: 0, browser: 0, broadcast: 0 };
  const lostIds: { receiver: Receiver; index: number; id: string }[] = [];
  for (const entry of entries) {
    for (const r of RECEIVERS) {
      const at = entry.arrivals[r];
      if (at === undefined) {
        lost[r]++;
        lostIds.push({
          receiver: r,
          index: entries.indexOf(entry),
          id: ids[entries.indexOf(entry)] as string,
        });
      } else {
        const latency = at - (entry.ack as number);
        if (latency > WAIT_MS) late[r]++;
        samples[r].push(latency);
      }
    }
  }
  if (lostIds.length) console.error(`latency: not delivered: ${JSON.stringify(lostIds)}`);
  return { samples, lost, late };
}

export async function measureLatency(
  stack: ChildStack,
  modes: { name: string; sql?: string }[],
): Promise<LatencyRun[]> {
  const runId = randomUUID().slice(0, 8);
  const pool = new pg.Pool({ connectionString: stack.dbUrl, max: 2 });
  const db = new pg.Client({ connectionString: stack.dbUrl });
  await db.connect();
  const closers: (() => Promise<void>)[] = [];
  try {
    const [user] = await createLoadUsers(pool, runId, ['client']);
    if (!user) throw new Error('no load user created');
    const pending = new Map<string, Pending>();
    const arrive = (r: Receiver, id: string, at: number) => {
      const p = pending.get(id);
      if (!p || p.arrivals[r] !== undefined) return;
      p.arrivals[r] = at;
      if (RECEIVERS.every((x) => p.arrivals[x] !== undefined)) p.done?.();
    };
    const floor = await startFloor(stack.dbUrl, (table, row, at) => {
      if (table === 'tickets') arrive('floor', String(row['id']), at);
    });
    closers.push(() => floor.stop());
    const token = await signIn(stack, user);
    const node = await subscribeNode(stack, token, `bench-latency-${runId}`, (row, at) =>
      arrive('node', row.id, at),
    );
    closers.push(() => node.close());
    closers.push(await installBroadcastTrigger(pool, 'public.tickets'));
    const broadcast = await subscribeNodeBroadcast(stack, token, user.id, (record, at) =>
      arrive('broadcast', record.id, at),
    );
    closers.push(() => broadcast.close());
    const browser = await subscribeBrowser(
      stack,
      { email: user.email, password: LOAD_PASSWORD },
      `bench-latency-browser-${runId}`,
      (id, at) => arrive('browser', id, at),
    );
    closers.push(() => browser.close());

    const runs: LatencyRun[] = [];
    for (const mode of modes) {
      if (mode.sql) await db.query(mode.sql);
      const setting = await db.query<{ s: string; d: string }>(
        "select current_setting('synchronous_commit') as s, current_setting('wal_writer_delay') as d",
      );
      mode.name = `${mode.name}: synchronous_commit=${setting.rows[0]?.s}, wal_writer_delay=${setting.rows[0]?.d}`;
      await runInserts(db, pending, WARMUP, user.id, runId);
      const { samples, lost, late } = await runInserts(db, pending, INSERTS, user.id, runId);
      runs.push({
        mode: mode.name,
        samples,
        lost,
        late,
        summary: {
          floor: summarize(samples.floor),
          node: summarize(samples.node),
          browser: summarize(samples.browser),
          broadcast: summarize(samples.broadcast),
        },
      });
    }
    return Object.assign(runs, {
      calibration: { offsetMs: browser.offsetMs, rttMs: browser.calibrationRttMs },
    });
  } finally {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await db.end();
    await pool.end();
  }
}

export async function benchLatency(): Promise<BenchResult> {
  const stack = await startChildStack();
  let runs: LatencyRun[] & { calibration?: { offsetMs: number; rttMs: number } };
  let cost: AuthorizeCost[];
  let roundTripMs: number;
  try {
    // RTM_BENCH_MODES=default|async narrows a run to one commit mode (profiling); both by default.
    const only = process.env['RTM_BENCH_MODES'];
    runs = await measureLatency(
      stack,
      MODES.filter((m) => !only || m.key === only),
    );
    // What one change costs in SQL, alone and with fan-out-sized claims lists (profiling counter).
    cost = await measureAuthorizeCost(stack.dbUrl);
    roundTripMs = await measureRoundTrip(stack.dbUrl);
  } finally {
    await stack.stop();
  }
  const rows: Row[] = runs.flatMap((run): Row[] => {
    const s = run.summary;
    const tag = ` [${run.mode}]`;
    const ratio = s.node.p50 / s.floor.p50;
    const browserRatio = s.browser.p50 / s.floor.p50;
    return [
      {
        figure: `floor: commit → pgoutput in Node p50/p95/p99${tag}`,
        value: `${ms(s.floor.p50)} / ${ms(s.floor.p95)} / ${ms(s.floor.p99)}`,
        target: '—',
        anchor: 'hosted polls WAL: 100 ms busy, ≤ 500 ms idle',
        raw: s.floor,
      },
      {
        figure: `Node supabase-js p50/p95/p99 (n=${s.node.n}, lost ${run.lost.node}, >3 s ${run.late.node})${tag}`,
        value: `${ms(s.node.p50)} / ${ms(s.node.p95)} / ${ms(s.node.p99)}`,
        target: 'p99 ≤ 15 ms',
        anchor: 'hosted p95 228 ms (500 RLS subs, 3k msg/s)',
        pass: s.node.p99 <= 15 && run.lost.node === 0,
        raw: s.node,
      },
      {
        figure: `Node p50 / floor p50${tag}`,
        value: `${ratio.toFixed(2)}×`,
        target: '≤ 2×',
        anchor: '—',
        pass: ratio <= 2,
        raw: ratio,
      },
      {
        figure: `Node supabase-js, Broadcast from Database (private channel) p50/p95/p99 (n=${s.broadcast.n}, lost ${run.lost.broadcast}, >3 s ${run.late.broadcast})${tag}`,
        value: `${ms(s.broadcast.p50)} / ${ms(s.broadcast.p95)} / ${ms(s.broadcast.p99)}`,
        target: 'p99 ≤ 15 ms',
        anchor: '—',
        pass: s.broadcast.p99 <= 15 && run.lost.broadcast === 0,
        raw: s.broadcast,
      },
      {
        figure: `Broadcast p50 / floor p50 (postgres_changes: ${ratio.toFixed(2)}×)${tag}`,
        value: `${(s.broadcast.p50 / s.floor.p50).toFixed(2)}×`,
        target: '—',
        anchor: '—',
        raw: s.broadcast.p50 / s.floor.p50,
      },
      {
        figure: `Chromium supabase-js UMD p50/p95/p99 (n=${s.browser.n}, lost ${run.lost.browser}, >3 s ${run.late.browser})${tag}`,
        value: `${ms(s.browser.p50)} / ${ms(s.browser.p95)} / ${ms(s.browser.p99)}`,
        target: 'p99 ≤ 15 ms',
        anchor: 'hosted p95 228 ms',
        pass: s.browser.p99 <= 15 && run.lost.browser === 0,
        raw: s.browser,
      },
      {
        figure: `Chromium p50 / floor p50${tag}`,
        value: `${browserRatio.toFixed(2)}×`,
        target: '≤ 2×',
        anchor: '—',
        pass: browserRatio <= 2,
        raw: browserRatio,
      },
    ];
  });
  rows.push({
    figure: 'profile: bare Postgres round trip (select 1), median',
    value: ms(roundTripMs),
    target: '—',
    anchor: '—',
    raw: roundTripMs,
  });
  for (const c of cost)
    rows.push({
      figure: `profile: engine's authorize round trip, ${c.claimsSets} claims set(s), median`,
      value: `${ms(c.medianMs)} (${c.perClaimsUs.toFixed(1)} µs per claims set; without row check ${ms(c.withoutRowCheckMs)}; bare select 1 ${ms(c.roundTripMs)})`,
      target: '—',
      anchor: '—',
      raw: c,
    });
  const cal = runs.calibration;
  return {
    name: 'latency',
    rows,
    notes: [
      `${INSERTS} inserts per mode (after ${WARMUP} warm-up), one at a time with a ${GAP_MS} ms pause; every insert feeds the floor, Node and Chromium at once.`,
      'Commit instant = performance.now() when the INSERT acknowledgment resolves in this process; Node arrivals on the same clock.',
      `Chromium stamps moved to Node's clock by a measured offset ${cal ? `${cal.offsetMs.toFixed(3)} ms (best round trip ${cal.rttMs.toFixed(3)} ms, so ± ${(cal.rttMs / 2).toFixed(3)} ms)` : 'n/a'}.`,
      'The stack runs in its own process; the machine is shared with other engineers running tests (medians of one run; see the JSON for every sample).',
    ],
    details: runs.map((r) => ({
      mode: r.mode,
      summary: r.summary,
      lost: r.lost,
      late: r.late,
      samples: r.samples,
    })),
  };
}
