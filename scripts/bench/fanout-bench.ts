/**
 * bench:fanout as a command: the default points against a fresh embedded stack in a child process,
 * or one point against another Supabase (`--target-url`), with caps for anything off this machine.
 */
import { parseArgs } from 'node:util';
import { startChildStack, type Target } from './child-stack.ts';
import { DEFAULT_POINTS, type FanoutOutcome, type FanoutPoint, runFanout } from './fanout.ts';
import type { BenchResult, Row } from './report.ts';
import { ms } from './stats.ts';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
/** Someone else's server gets at most this much from one run. */
const REMOTE_CAPS = { subscribers: 200, rate: 10, durationS: 30 };
/** Every run is bounded, loopback included. */
const LOCAL_CAPS = { subscribers: 5000, rate: 200, durationS: 60 };
const ANCHOR = 'hosted: p95 228 ms, 500 RLS subs @ 3k msg/s (smallest compute)';

export const FANOUT_HELP = `npm run bench:fanout [-- options]

  Default: 500 subscribers × 30 inserts/s and 2,000 × 10/s for 20 s each, against a fresh embedded
  stack on free loopback ports.

  --subscribers N --rate R --duration S   one point instead of the defaults (caps: ${LOCAL_CAPS.subscribers} / ${LOCAL_CAPS.rate}/s / ${LOCAL_CAPS.durationS} s)
  --commit default|sync                   inserts' commit mode (default: the cluster's; sync forces it on)
  --target-url URL                        load another Supabase instead (e.g. a real \`supabase start\`);
                                          needs RTM_BENCH_ANON_KEY, RTM_BENCH_JWT_SECRET (to mint load
                                          users' tokens) and RTM_BENCH_DB_URL (load users, inserts).
                                          Load users are created and deleted (email *@rtm-bench.test).
  --allow-remote                          required for a non-loopback target; then capped at
                                          ${REMOTE_CAPS.subscribers} subscribers, ${REMOTE_CAPS.rate}/s, ${REMOTE_CAPS.durationS} s. Only load what you own.`;

function cap(point: FanoutPoint, caps: typeof LOCAL_CAPS, where: string): FanoutPoint {
  for (const [k, limit] of [
    ['subscribers', caps.subscribers],
    ['rate', caps.rate],
    ['durationS', caps.durationS],
  ] as const) {
    if (!(point[k] > 0) || point[k] > limit)
      throw new Error(
        `--${k === 'durationS' ? 'duration' : k} ${point[k]} is outside 1…${limit} for ${where}; lower it.`,
      );
  }
  return point;
}

function externalTarget(url: string, allowRemote: boolean): Target {
  const host = new URL(url).hostname;
  if (!LOOPBACK.has(host) && !allowRemote) {
    throw new Error(
      `--target-url ${url} is not loopback. Load only a server you own, and say so with --allow-remote (capped at ${REMOTE_CAPS.subscribers} subscribers, ${REMOTE_CAPS.rate}/s, ${REMOTE_CAPS.durationS} s).`,
    );
  }
  const need = ['RTM_BENCH_ANON_KEY', 'RTM_BENCH_JWT_SECRET', 'RTM_BENCH_DB_URL'].filter(
    (k) => !process.env[k],
  );
  if (need.length)
    throw new Error(`--target-url needs ${need.join(', ')} in the environment (values are never printed).`);
  return {
    url,
    anonKey: process.env['RTM_BENCH_ANON_KEY'] as string,
    serviceRoleKey: '',
    jwtSecret: process.env['RTM_BENCH_JWT_SECRET'] as string,
    issuer: `${url.replace(/\/$/, '')}/auth/v1`,
    dbUrl: process.env['RTM_BENCH_DB_URL'] as string,
  };
}

export function fanoutRows(o: FanoutOutcome): Row[] {
  const p = o.point;
  const label = `${p.subscribers} subs × ${p.rate}/s × ${p.durationS} s`;
  const pct = o.expected ? (100 * o.delivered) / o.expected : 0;
  const rows: Row[] = [
    {
      figure: `${label}: delivery p50/p95/p99`,
      value: `${ms(o.latency.p50)} / ${ms(o.latency.p95)} / ${ms(o.latency.p99)}`,
      target: p.p95TargetMs ? `p95 ≤ ${p.p95TargetMs} ms` : '—',
      anchor: ANCHOR,
      pass: p.p95TargetMs ? o.latency.p95 <= p.p95TargetMs : undefined,
      raw: o.latency,
    },
    {
      figure: `${label}: delivered / expected (drain after last insert ${o.drainS.toFixed(1)} s)`,
      value: `${o.delivered}/${o.expected} (${pct.toFixed(2)} %)`,
      target: '100 %',
      anchor: '—',
      pass: o.delivered === o.expected,
      raw: { delivered: o.delivered, expected: o.expected },
    },
    {
      figure: `${label}: deliveries to unauthorized subscribers`,
      value: String(o.unauthorized),
      target: '0',
      anchor: '—',
      pass: o.unauthorized === 0,
      raw: o.unauthorized,
    },
    {
      figure: `${label}: duplicate deliveries`,
      value: String(o.duplicates),
      target: '0',
      anchor: '—',
      pass: o.duplicates === 0,
      raw: o.duplicates,
    },
  ];
  if (o.server) {
    rows.push({
      figure: `${label}: server CPU (stack / Postgres, % of one core) · RSS max`,
      value: `${o.server.stackCpuPct.toFixed(0)} % / ${o.server.postgresCpuPct.toFixed(0)} % · ${o.server.stackRssMaxMiB.toFixed(0)} MiB / ${o.server.postgresRssMaxMiB.toFixed(0)} MiB`,
      target: '—',
      anchor: '—',
      raw: o.server,
    });
  }
  const c = o.authorizeConcurrency;
  rows.push({
    figure: `${label}: profile: authorize queries in flight (mean / max)`,
    value: `${c.mean.toFixed(2)} / ${c.max} · waits ${Object.entries(c.waits)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 3)
      .map(([w, n]) => `${w} ${n}`)
      .join(', ')}`,
    target: '—',
    anchor: '—',
    raw: c,
  });
  rows.push({
    figure: `${label}: join all / inserts achieved / load-gen CPU`,
    value: `${o.joinS.toFixed(1)} s / ${o.achievedRate.toFixed(1)}/s / ${o.loadGeneratorCpuPct.toFixed(0)} %`,
    target: '—',
    anchor: '—',
    raw: {
      joinS: o.joinS,
      achievedRate: o.achievedRate,
      loadGeneratorCpuPct: o.loadGeneratorCpuPct,
      loadGeneratorRssMiB: o.loadGeneratorRssMiB,
    },
  });
  return rows;
}

export async function benchFanout(argv: string[] = []): Promise<BenchResult> {
  const { values } = parseArgs({
    args: argv,
    options: {
      subscribers: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      commit: { type: 'string', default: 'default' },
      'target-url': { type: 'string' },
      'allow-remote': { type: 'boolean', default: false },
    },
  });
  if (values.commit !== 'sync' && values.commit !== 'default')
    throw new Error(`--commit ${values.commit}: use sync or default.`);
  const custom = values.subscribers || values.rate || values.duration;
  let points = custom
    ? [
        {
          subscribers: Number(values.subscribers ?? 500),
          rate: Number(values.rate ?? 30),
          durationS: Number(values.duration ?? 20),
        },
      ]
    : DEFAULT_POINTS;
  const url = values['target-url'];
  const remote = url ? !LOOPBACK.has(new URL(url).hostname) : false;
  points = points.map((p) =>
    cap(p, remote ? REMOTE_CAPS : LOCAL_CAPS, remote ? 'a remote target' : 'this run'),
  );

  const outcomes: FanoutOutcome[] = [];
  const syncCommit = values.commit === 'sync';
  if (url) {
    const target = externalTarget(url, values['allow-remote'] ?? false);
    for (const p of points) outcomes.push(await runFanout(target, p, { syncCommit }));
  } else {
    // A fresh stack per point, so the second point does not inherit the first one's tables and caches.
    for (const p of points) {
      const stack = await startChildStack();
      try {
        outcomes.push(await runFanout(stack, p, { stackPid: stack.pid, syncCommit }));
      } finally {
        await stack.stop();
      }
    }
  }
  return {
    name: 'fanout',
    rows: outcomes.flatMap(fanoutRows),
    notes: [
      'Subscribers: 1 % admins (every row), 4 % agents (rows assigned to them), the rest clients (their own rows), one user and one socket each; each insert is due to 1 client + 1 agent + all admins.',
      `Inserts with ${syncCommit ? 'synchronous_commit=on forced on the inserting session' : "the cluster's default commit mode (synchronous since stack/postgres/cluster.ts keeps it on)"}; latency = arrival in the subscriber's callback − INSERT acknowledgment, one process, one clock.`,
      `Load users: rows inserted by SQL (bcrypt cost 4), tokens minted with the project's JWT secret in a real sign-in's claim shape (checked against ${outcomes[0]?.realSignIns ?? 3} real password sign-ins per point); 2,000 sign-ins would measure auth, not realtime.`,
      'Server CPU from /proc (utime+stime over the insert window + drain); Postgres RSS sums every backend (shared buffers counted per process: an upper bound). Machine shared with other engineers running tests.',
    ],
    details: outcomes,
  };
}
