/**
 * bench:boot — how long the embedded stack takes to serve, cold (initdb on a fresh temp dir) and warm
 * (a data directory reused), each in a fresh process so no JIT or module cache carries over.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChildStack } from './child-stack.ts';
import type { BenchResult } from './report.ts';
import { median, ms } from './stats.ts';

const RUNS = 5;
const ANCHOR = '`supabase start` 74–110 s (CI)';

interface BootSample {
  /** startStack() from call to resolve, in the child. */
  startStackMs: number;
  /** fork → ready message: adds Node + tsx start and module loading. */
  processMs: number;
}

async function bootOnce(persistDir?: string): Promise<BootSample> {
  const before = process.env['RTM_BENCH_PERSIST_DIR'];
  if (persistDir) process.env['RTM_BENCH_PERSIST_DIR'] = persistDir;
  else delete process.env['RTM_BENCH_PERSIST_DIR'];
  const t0 = performance.now();
  try {
    const stack = await startChildStack();
    const processMs = performance.now() - t0;
    await stack.stop();
    return { startStackMs: stack.bootMs, processMs };
  } finally {
    if (before === undefined) delete process.env['RTM_BENCH_PERSIST_DIR'];
    else process.env['RTM_BENCH_PERSIST_DIR'] = before;
  }
}

export async function benchBoot(): Promise<BenchResult> {
  const cold: BootSample[] = [];
  for (let i = 0; i < RUNS; i++) cold.push(await bootOnce());

  // As root, Postgres runs as the postgres OS user: the parent must let it create the data dir.
  const parent = await mkdtemp(join(tmpdir(), 'rtm-bench-warm-'));
  await chmod(parent, 0o777);
  const persistDir = join(parent, 'data');
  const warm: BootSample[] = [];
  let warmError: string | undefined;
  try {
    await bootOnce(persistDir); // initialises the directory; not counted
    for (let i = 0; i < RUNS; i++) warm.push(await bootOnce(persistDir));
  } catch (error) {
    warmError = (error as Error).message;
  } finally {
    await rm(parent, { recursive: true, force: true });
  }

  const coldMs = median(cold.map((s) => s.startStackMs));
  const warmMs = median(warm.map((s) => s.startStackMs));
  const rows = [
    {
      figure: `cold boot, startStack() incl. initdb (median of ${RUNS})`,
      value: ms(coldMs),
      target: '≤ 1.5 s',
      anchor: ANCHOR,
      pass: coldMs <= 1500,
      raw: cold,
    },
    {
      figure: `cold boot, fork → serving (median of ${RUNS})`,
      value: ms(median(cold.map((s) => s.processMs))),
      target: '—',
      anchor: ANCHOR,
      raw: cold.map((s) => s.processMs),
    },
    warmError
      ? {
          figure: 'warm boot (persistDir reused)',
          value: 'FAILED',
          target: '—',
          anchor: ANCHOR,
          pass: false,
          raw: warmError,
        }
      : {
          figure: `warm boot, startStack() persistDir reused (median of ${RUNS})`,
          value: ms(warmMs),
          target: '—',
          anchor: ANCHOR,
          raw: warm,
        },
  ];
  const notes = [
    'Each boot runs in a fresh child process (tsx), local project only, free ports; the machine is shared with other engineers running tests.',
  ];
  if (warmError) notes.push(`warm boot failed: ${warmError}`);
  return { name: 'boot', rows, notes };
}
