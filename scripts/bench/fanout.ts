/**
 * bench:fanout — load mode. N authenticated subscribers (Node supabase-js, vsn 2.0.0, one user and
 * one socket each, RLS on) while tickets are inserted at R/s for D seconds; every delivery is checked
 * against the help-desk policy, so a row reaching a subscriber the policy hides is counted.
 *
 * Who sees what (supabase/migrations/…_helpdesk_rls.sql): subscribers are 1 % admins (see every
 * row), 4 % agents (see rows assigned to them) and the rest clients (see rows they created). Each
 * insert is created by the next client and assigned to the next agent (round robin), so it is due
 * to exactly 1 client + 1 agent + every admin; every other subscriber must get nothing. The engine
 * still authorizes each change for all N claims sets, which is the cost being measured.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import type { Target } from './child-stack.ts';
import {
  assertSameClaimShape,
  createLoadUsers,
  deleteLoadUsers,
  type HelpdeskRole,
  type LoadUser,
  mintToken,
  signIn,
} from './load-users.ts';
import { type NodeSubscriber, subscribeNode } from './node-subscriber.ts';
import { type ServerUsage, watchServer } from './proc.ts';
import { type Summary, summarize } from './stats.ts';

export interface FanoutPoint {
  subscribers: number;
  rate: number;
  durationS: number;
  /** p95 target in ms (printed, not asserted). */
  p95TargetMs?: number | undefined;
}

export const DEFAULT_POINTS: FanoutPoint[] = [
  { subscribers: 500, rate: 30, durationS: 20, p95TargetMs: 50 },
  { subscribers: 2000, rate: 10, durationS: 20, p95TargetMs: 150 },
];

const JOIN_CONCURRENCY = 50;
/** After the last insert, deliveries are awaited while they keep coming: at most this long… */
const DRAIN_CAP_MS = 60_000;
/** …and a delivery missing after this long without any progress counts as lost. */
const STALL_MS = 10_000;

export interface FanoutOutcome {
  point: FanoutPoint;
  commitMode: string;
  inserts: number;
  expected: number;
  delivered: number;
  unauthorized: number;
  duplicates: number;
  latency: Summary;
  joinS: number;
  /** Time after the last insert until the last delivery (or the cap / a stall). */
  drainS: number;
  achievedRate: number;
  server?: ServerUsage | undefined;
  loadGeneratorCpuPct: number;
  loadGeneratorRssMiB: number;
  realSignIns: number;
  /** Postgres backends running the engine's authorize query, sampled every 100 ms (profile counter). */
  authorizeConcurrency: { mean: number; max: number; samples: number; waits: Record<string, number> };
}

/**
 * How many of the engine's authorize queries run at once, and what they wait on: tells a CPU-bound
 * engine from a serialized one without touching the stack.
 */
function watchAuthorizeBackends(dbUrl: string): { stop(): Promise<FanoutOutcome['authorizeConcurrency']> } {
  const client = new pg.Client({ connectionString: dbUrl });
  const counts: number[] = [];
  const waits: Record<string, number> = {};
  let running = true;
  const loop = (async () => {
    await client.connect();
    while (running) {
      const { rows } = await client.query<{ w: string | null }>(
        `select coalesce(wait_event_type || ':' || wait_event, 'cpu') as w from pg_stat_activity
          where state = 'active' and query like '%rtm_authorize%' and pid <> pg_backend_pid()`,
      );
      counts.push(rows.length);
      for (const r of rows) waits[r.w ?? 'cpu'] = (waits[r.w ?? 'cpu'] ?? 0) + 1;
      await new Promise((r) => setTimeout(r, 100));
    }
    await client.end();
  })();
  return {
    async stop() {
      running = false;
      await loop;
      const sum = counts.reduce((a, b) => a + b, 0);
      return {
        mean: counts.length ? sum / counts.length : 0,
        max: Math.max(0, ...counts),
        samples: counts.length,
        waits,
      };
    },
  };
}

interface RowTruth {
  createdBy: string;
  assignedTo: string;
}

function rolesFor(n: number): HelpdeskRole[] {
  const admins = Math.max(1, Math.round(n * 0.01));
  const agents = Math.max(1, Math.round(n * 0.04));
  const clients = Math.max(1, n - admins - agents);
  return [
    ...Array<HelpdeskRole>(admins).fill('admin'),
    ...Array<HelpdeskRole>(agents).fill('agent'),
    ...Array<HelpdeskRole>(clients).fill('client'),
  ];
}

/** The help-desk SELECT policies, restated: the oracle for "authorized". */
function maySee(user: LoadUser, row: RowTruth): boolean {
  if (user.role === 'admin') return true;
  if (user.role === 'client') return row.createdBy === user.id;
  return row.assignedTo === user.id;
}

async function withConcurrency<T, R>(
  items: T[],
  limit: number,
  run: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await run(items[i] as T, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export async function runFanout(
  target: Target,
  point: FanoutPoint,
  options: { stackPid?: number | undefined; syncCommit: boolean },
): Promise<FanoutOutcome> {
  const runId = randomUUID().slice(0, 8);
  // The commit mode is a startup parameter, so every pooled connection has it before its first insert.
  const pool = new pg.Pool({
    connectionString: target.dbUrl,
    max: 4,
    ...(options.syncCommit ? { options: '-c synchronous_commit=on' } : {}),
  });
  const subscribers: NodeSubscriber[] = [];
  try {
    const users = await createLoadUsers(pool, runId, rolesFor(point.subscribers));
    const admins = users.filter((u) => u.role === 'admin');
    const agents = users.filter((u) => u.role === 'agent');
    const clients = users.filter((u) => u.role === 'client');

    // One real password sign-in per role proves the minted tokens carry a real sign-in's claims.
    const realTokens = new Map<string, string>();
    for (const u of [admins[0], agents[0], clients[0]] as LoadUser[]) {
      const token = await signIn(target, u);
      assertSameClaimShape(token, await mintToken(target, u));
      realTokens.set(u.id, token);
    }

    const truth = new Map<string, RowTruth>();
    const received: Map<string, number>[] = users.map(() => new Map());
    let unauthorized = 0;
    let duplicates = 0;

    const joinStart = performance.now();
    await withConcurrency(users, JOIN_CONCURRENCY, async (user, i) => {
      const token = realTokens.get(user.id) ?? (await mintToken(target, user));
      const sub = await subscribeNode(target, token, `bench-fanout-${runId}-${i}`, (row, at) => {
        // A row this run did not insert is judged by its own columns.
        const known = truth.get(row.id) ?? { createdBy: row.created_by, assignedTo: row.assigned_to ?? '' };
        if (!maySee(user, known)) unauthorized++;
        const seen = received[i] as Map<string, number>;
        if (seen.has(row.id)) duplicates++;
        else seen.set(row.id, at);
      });
      subscribers.push(sub);
    });
    const joinS = (performance.now() - joinStart) / 1000;

    // Insert at R/s on a fixed schedule (not back to back), up to 4 in flight, for D seconds.
    const acks = new Map<string, number>();
    const total = Math.round(point.rate * point.durationS);
    const intervalMs = 1000 / point.rate;
    const server = options.stackPid ? watchServer(options.stackPid) : undefined;
    const backends = watchAuthorizeBackends(target.dbUrl);
    const cpu0 = process.cpuUsage();
    const windowStart = performance.now();
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const due = windowStart + i * intervalMs;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const id = randomUUID();
      const row: RowTruth = {
        createdBy: (clients[i % clients.length] as LoadUser).id,
        assignedTo: (agents[i % agents.length] as LoadUser).id,
      };
      truth.set(id, row);
      inflight.push(
        pool
          .query('insert into public.tickets (id, title, created_by, assigned_to) values ($1, $2, $3, $4)', [
            id,
            `[rtm-bench:${runId}] fanout ${i}`,
            row.createdBy,
            row.assignedTo,
          ])
          .then(() => {
            acks.set(id, performance.now());
          }),
      );
    }
    await Promise.all(inflight);
    const insertWindowS = (performance.now() - windowStart) / 1000;

    const expectedPairs: [number, string][] = [];
    for (const [id, row] of truth)
      users.forEach((u, i) => {
        if (maySee(u, row)) expectedPairs.push([i, id]);
      });
    // A backlog drains slowly; a lost delivery never comes. Wait while deliveries keep arriving
    // (bounded), so "late" and "lost" are told apart.
    const count = () =>
      expectedPairs.reduce((n, [i, id]) => n + ((received[i] as Map<string, number>).has(id) ? 1 : 0), 0);
    const drainStart = performance.now();
    let last = count();
    let lastProgress = performance.now();
    while (last < expectedPairs.length && performance.now() - drainStart < DRAIN_CAP_MS) {
      await new Promise((r) => setTimeout(r, 200));
      const now = count();
      if (now > last) {
        last = now;
        lastProgress = performance.now();
      } else if (performance.now() - lastProgress > STALL_MS) break;
    }
    const drainS = (performance.now() - drainStart) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const usage = server?.stop();
    const authorizeConcurrency = await backends.stop();
    const windowS = (performance.now() - windowStart) / 1000;

    const latencies: number[] = [];
    let delivered = 0;
    for (const [i, id] of expectedPairs) {
      const at = (received[i] as Map<string, number>).get(id);
      if (at === undefined) continue;
      delivered++;
      latencies.push(at - (acks.get(id) as number));
    }
    await deleteLoadUsers(pool, runId);
    return {
      point,
      commitMode: options.syncCommit ? 'synchronous_commit=on' : 'cluster default',
      inserts: total,
      expected: expectedPairs.length,
      delivered,
      unauthorized,
      duplicates,
      latency: summarize(latencies),
      joinS,
      drainS,
      achievedRate: total / insertWindowS,
      server: usage,
      loadGeneratorCpuPct: (100 * (cpu.user + cpu.system)) / 1e6 / windowS,
      loadGeneratorRssMiB: process.memoryUsage().rss / 1024 / 1024,
      realSignIns: realTokens.size,
      authorizeConcurrency,
    };
  } finally {
    await Promise.all(subscribers.map((s) => s.close().catch(() => undefined)));
    await pool.end();
  }
}
