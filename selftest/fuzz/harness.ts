/**
 * One stack, its control client and whatever a file keeps beside them, across restarts: the
 * per-file lifecycle every fuzz file shares (settings.ts says how to replay a run).
 */
import { FuzzStack, StackLog, type Target } from './child-stack.ts';
import { Control } from './control.ts';
import { describeError } from './frames.ts';

export interface Bystander {
  open(target: Target): Promise<void>;
  /** Throws when the bystander was hurt by what hostile clients did. */
  check(): Promise<void>;
  close(): Promise<void>;
}

/** One run's body: returns text for the control's rows, or nothing (see FuzzEnv.run). */
export type RunBody<T> = (input: T) => Promise<string | undefined> | Promise<void>;

export class FuzzEnv {
  readonly log = new StackLog();
  stack!: FuzzStack;
  control!: Control;
  /** Noted, not failed: closes and answers the invariants allow but that hint at a bug. */
  readonly notes = new Map<string, string>();
  private broken: string | undefined;
  private readonly restarts: string[] = [];

  constructor(private readonly bystanders: Bystander[] = []) {}

  get target(): Target {
    return this.stack.target;
  }

  async start(): Promise<void> {
    const t0 = Date.now();
    this.stack = await FuzzStack.start(this.log);
    const t1 = Date.now();
    this.control = await Control.create(this.stack.target);
    for (const b of this.bystanders) await b.open(this.stack.target);
    console.log(`[fuzz] stack up in ${t1 - t0} ms, control client and bystanders in ${Date.now() - t1} ms`);
  }

  note(key: string, detail: string): void {
    if (!this.notes.has(key) && this.notes.size < 30) this.notes.set(key, detail);
  }

  /** Before a run: a healthy stack, restarted if an earlier run broke it (so shrinking stays true). */
  async ready(): Promise<void> {
    if (!this.broken && !this.stack.exited) return;
    const why = (this.broken ?? `exited (${this.stack.exited})`).split('\n')[0] ?? '';
    this.restarts.push(why);
    console.log(`[fuzz] restarting the stack: ${why}`);
    await this.shutdown(false);
    this.broken = undefined;
    await this.start();
  }

  /** Invariants 1 and 2, and the bystanders: after every hostile batch. */
  async invariants(label: string, text = ''): Promise<void> {
    try {
      await this.stack.answers();
      await this.control.verify(label, text);
      for (const b of this.bystanders) await b.check();
    } catch (error) {
      this.broken = describeError(error).split('\n')[0]?.slice(0, 200) ?? 'broken';
      throw error;
    }
  }

  /** After a failed run: keep the stack if it is still whole, else mark it for a restart. */
  async recheck(): Promise<void> {
    if (this.broken) return;
    // The run's own error is the one reported; a failed recheck only marks the stack (in invariants).
    await this.invariants('recheck').catch(() => undefined);
  }

  /**
   * Wraps a run: ready before, invariants after, a recheck when the run itself failed. A body may
   * return text for the control's rows (so hostile filters are evaluated on hostile rows).
   */
  run<T>(label: string, body: RunBody<T>): (input: T) => Promise<void> {
    return async (input) => {
      await this.ready();
      let text: string | undefined;
      try {
        const result = await body(input);
        text = typeof result === 'string' ? result : undefined;
      } catch (error) {
        await this.recheck();
        throw error;
      }
      await this.invariants(label, text ?? '');
    };
  }

  async shutdown(alive = true): Promise<void> {
    const healthy = alive && !this.broken && !this.stack?.exited;
    // Clients of a broken stack may fail to close; that must not keep the stack itself running.
    for (const b of this.bystanders) await b.close().catch(() => undefined);
    await this.control?.close(healthy).catch(() => undefined);
    await this.stack?.stop(healthy);
  }

  /** End of file: the invariants once more, then a summary of what the stack logged. */
  report(): string {
    const notes = [...this.notes].map(([k, v]) => `  ${k}: ${v}`).join('\n');
    const restarts = this.restarts.length
      ? `${this.restarts.length} stack restart(s) after a run broke it:\n${this.restarts.map((r) => `  ${r}`).join('\n')}`
      : 'no stack restarts';
    return [
      `[fuzz] ${restarts}\n[fuzz] ${this.log.summary()}`,
      ...(notes ? [`[fuzz] notes (allowed by the invariants, worth a look):\n${notes}`] : []),
    ].join('\n');
  }
}
