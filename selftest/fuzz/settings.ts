/**
 * Support for the fuzz suite of issue 22, "One bad frame must never take the stack down":
 * property-based tests (fast-check) that throw hostile frames, upgrade requests, subscriptions and
 * HTTP requests at a real stack and check, after every batch, that the stack is alive and answers,
 * that a signed-in control client still receives every change it is owed, and that each hostile
 * socket's failure stayed with that socket.
 *
 * Reproducible and bounded:
 *
 *   RTM_FUZZ_SEED=<integer>   the seed of every property in the run. Default: a random one on a
 *                             developer's machine (each `npm test` explores new inputs), and the fixed
 *                             seed 22 when CI is set, so a gate's verdict never depends on the draw;
 *                             RTM_FUZZ_SEED=random draws one in CI too. Each
 *                             property prints `[fuzz] <name>: seed=… runs=… (RTM_FUZZ_SEED=… to
 *                             replay)`; run the same file with that seed to get the same inputs.
 *                             fast-check's failure report adds the `path` of the shrunk case.
 *   RTM_FUZZ_RUNS=x<k> | <n>  runs per property. The defaults keep the whole suite well under a
 *                             minute and a half on two cores (it is part of `npm test`); `x10`
 *                             multiplies every property's default by 10 for a longer run, and a
 *                             plain number (`500`) sets every property to exactly that many runs.
 *                             Time limits and test timeouts grow with the count.
 *
 * This module holds those settings, the property runner that applies them, and the caps on waits.
 *
 * The stack runs in a child process (stack-child.ts via child-stack.ts, `startTestStack()` as every stack test boots
 * it): a crash is then an exit the property sees, with the child's last log lines, and a hang (an
 * event loop stuck in a hostile input) is a stack that stops answering within a cap, where in-process
 * either would stop the test runner itself. Waits are on conditions (a reply, a close, an event);
 * the caps only turn a hang into a failure that names the input.
 */
import fc from 'fast-check';

/** The seed CI runs with unless told otherwise (issue 22's number). */
const CI_SEED = 22;

function parseSeed(raw: string | undefined, ci: boolean = !!process.env['CI']): number {
  const random = () => (Math.random() * 0x7fffffff) | 0;
  if (raw === undefined || raw.trim() === '') return ci ? CI_SEED : random();
  if (raw.trim() === 'random') return random();
  const seed = Number(raw);
  if (!Number.isSafeInteger(seed)) throw new Error(`RTM_FUZZ_SEED must be an integer, got "${raw}"`);
  return seed | 0;
}

export const FUZZ_SEED = parseSeed(process.env['RTM_FUZZ_SEED']);

export function scaledRuns(
  defaultRuns: number,
  raw: string | undefined = process.env['RTM_FUZZ_RUNS'],
): number {
  if (raw === undefined || raw.trim() === '') return defaultRuns;
  const m = /^\s*x\s*(\d+(?:\.\d+)?)\s*$/i.exec(raw);
  if (m) return Math.max(1, Math.round(defaultRuns * Number(m[1])));
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`RTM_FUZZ_RUNS must be x<k> or a run count, got "${raw}"`);
  return n;
}

export interface PropertyOptions {
  /** Runs for `npm test` (scaled by RTM_FUZZ_RUNS). */
  runs: number;
  /** What one run costs when all is well, in ms: sets the time limit that bounds shrinking. */
  perRunMs: number;
}

/** The time a property may take, shrinking included, and the vitest timeout that leaves room for it. */
export function budget(options: { runs: number; perRunMs: number }): { limitMs: number; timeoutMs: number } {
  const runs = scaledRuns(options.runs);
  const limitMs = Math.max(30_000, runs * options.perRunMs * 4);
  // A shrink step can end in a stack restart (up to ~40 s with caps) after the limit passed.
  return { limitMs, timeoutMs: limitMs + 120_000 };
}

/**
 * `fc.assert` with the run's seed and run count, printed first so any run can be replayed. The time
 * limit only bounds shrinking (each failing candidate may cost a stack restart): fast-check then
 * reports the smallest counterexample found so far.
 */
export async function fuzz<T>(
  name: string,
  arbitrary: fc.Arbitrary<T>,
  predicate: (input: T) => Promise<void>,
  options: PropertyOptions,
): Promise<void> {
  const numRuns = scaledRuns(options.runs);
  const { limitMs } = budget(options);
  console.log(`[fuzz] ${name}: seed=${FUZZ_SEED} runs=${numRuns} (RTM_FUZZ_SEED=${FUZZ_SEED} to replay)`);
  let inflight: Promise<unknown> = Promise.resolve();
  let executed = 0;
  const started = Date.now();
  try {
    await fc.assert(
      fc.asyncProperty(arbitrary, (input) => {
        executed++;
        const run = predicate(input);
        // Only its settling is awaited below; its failure reaches fast-check through `run`.
        inflight = run.catch(() => undefined);
        return run;
      }),
      {
        seed: FUZZ_SEED,
        numRuns,
        plugins: [fc.interruptAfterTimeLimit(limitMs)],
      },
    );
  } finally {
    // An interrupted run keeps going in the background; never leave it racing the next property.
    await inflight;
    console.log(`[fuzz] ${name}: ${executed} runs (shrinking included) in ${Date.now() - started} ms`);
  }
}

/** Normal answers take milliseconds; past this the stack is treated as hung. */
export const CAP_MS = 8_000;

/** Rejects with `what` if `promise` has not settled within `ms`: a bound on a wait, never a wait. */
export function capped<T>(what: string, promise: Promise<T>, ms: number = CAP_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const cap = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, cap]).finally(() => clearTimeout(timer));
}
