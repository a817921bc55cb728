/**
 * The shape every fuzz file against the stack shares, registered with vitest: the stack up before
 * the file and down after it, issue 22's known inputs as one test, fuzzed properties, and a last
 * check that the stack is whole. settings.ts says how to replay and scale a run.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { FuzzEnv, RunBody } from './harness.ts';
import { budget, fuzz, type PropertyOptions } from './settings.ts';

/**
 * How the stack answered, counted and printed at the end of the file: a fuzz run whose inputs never
 * get past the first refusal tests nothing, and this is where that would show.
 */
export class Tally {
  private readonly counts = new Map<string, number>();

  constructor(private readonly what: string) {}

  count(key: string): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }

  summary(): string {
    return `[fuzz] ${this.what}: ${[...this.counts].map(([k, n]) => `${k}×${n}`).join(' ')}`;
  }
}

export interface FileOptions {
  /** Printed when the file ends, before the stack's own report. */
  tallies?: Tally[];
  /** Closes what runs left open on purpose (lingering sockets) before the last check and shutdown. */
  cleanup?: () => void;
}

/** Boot `env` before the file's tests and report and shut it down after them. */
export function useStack(env: FuzzEnv, options: FileOptions = {}): void {
  beforeAll(async () => {
    await env.start();
  }, 180_000);
  afterAll(async () => {
    options.cleanup?.();
    for (const tally of options.tallies ?? []) console.log(tally.summary());
    console.log(env.report());
    await env.shutdown();
  }, 60_000);
}

/**
 * A vitest test of issue 22's known inputs, each as one run of `env` (invariants checked after
 * each): all of them run, and every failure is reported at once with the input that caused it.
 */
export function itPassesKnown<T>(
  env: FuzzEnv,
  title: string,
  inputs: readonly T[],
  body: RunBody<T>,
  timeoutMs = 180_000,
): void {
  it(
    title,
    async () => {
      const failures: string[] = [];
      for (const input of inputs) {
        try {
          await env.run('known', body)(input);
        } catch (error) {
          failures.push(`${fc.stringify(input).slice(0, 300)}:\n${(error as Error).message}`);
        }
      }
      expect(failures, failures.join('\n\n')).toEqual([]);
    },
    timeoutMs,
  );
}

export interface Property<T> extends PropertyOptions {
  /** The property's name in the `[fuzz]` lines (seed, runs) and in the control's row labels. */
  name: string;
  arbitrary: fc.Arbitrary<T>;
  body: RunBody<T>;
}

/** A vitest test that runs `property` as a fuzzed property of `env`, timed out by its budget. */
export function itFuzzes<T>(env: FuzzEnv, title: string, property: Property<T>): void {
  const { name, arbitrary, body } = property;
  it(title, () => fuzz(name, arbitrary, env.run(name, body), property), budget(property).timeoutMs);
}

/** Runs of one to three inputs, handled in turn: a few requests per run, so shrinking stays cheap. */
export function batchesOf<T>(
  name: string,
  arbitrary: fc.Arbitrary<T>,
  each: (input: T) => Promise<void>,
  options: PropertyOptions,
): Property<T[]> {
  return {
    ...options,
    name,
    arbitrary: fc.array(arbitrary, { minLength: 1, maxLength: 3 }),
    body: async (batch) => {
      for (const input of batch) await each(input);
    },
  };
}

/** The last test of a file: whatever the runs did, the stack is whole when they are over. */
export function itEndsWhole(env: FuzzEnv, options: FileOptions = {}): void {
  it('the stack is whole at the end of the file', async () => {
    options.cleanup?.();
    await env.ready();
    await env.invariants('end');
  }, 120_000);
}
