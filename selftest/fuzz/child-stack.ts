/**
 * The fuzz suite's stack in a child process (stack-child.ts): a crash is an exit the property sees,
 * with the child's last log lines, and a hang is a stack that stops answering within a cap.
 * Seeds, run counts and caps: settings.ts.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeError } from './frames.ts';
import { CAP_MS, capped } from './settings.ts';

export interface Target {
  url: string;
  port: number;
  anonKey: string;
  serviceRoleKey: string;
  publishableKey: string;
  jwtSecret: string;
  dataDir: string;
}

const ENTRY = fileURLToPath(new URL('./stack-child.ts', import.meta.url));

/** The child's output: a tail for failure messages, and its error log lines, counted. */
export class StackLog {
  private lines: string[] = [];
  private partial = '';
  readonly errors = new Map<string, number>();
  /** The first full line of each error, for the summary. */
  private readonly samples = new Map<string, string>();

  feed = (chunk: Buffer): void => {
    const text = this.partial + chunk.toString('utf8');
    const parts = text.split('\n');
    this.partial = parts.pop() ?? '';
    for (const line of parts) {
      this.lines.push(line.length > 600 ? `${line.slice(0, 600)}…` : line);
      if (this.lines.length > 80) this.lines.shift();
      // stack/log.ts: `[time] error scope: message {fields}`; only the message is counted.
      const m = /^\[[^\]]+\] error +([^{]*)/.exec(line);
      if (m) {
        const key = (m[1] ?? '').trim().slice(0, 200);
        this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
        if (!this.samples.has(key)) this.samples.set(key, line.slice(0, 900));
      }
    }
  };

  tail(n = 25): string {
    const lines = [...this.lines, this.partial].filter(Boolean).slice(-n);
    return lines.length ? `\n--- last stack output ---\n${lines.join('\n')}\n---` : '';
  }

  /** Printed at the end of a file: errors the stack logged while it survived (worth a look). */
  summary(): string {
    if (!this.errors.size) return 'the stack logged no errors';
    return `the stack logged errors:\n${[...this.errors]
      .map(([message, count]) => `  ${count}× ${message}\n    first: ${this.samples.get(message) ?? ''}`)
      .join('\n')}`;
  }
}

export class FuzzStack {
  private exit: string | undefined;

  private constructor(
    private readonly child: ChildProcess,
    readonly target: Target,
    readonly log: StackLog,
  ) {
    child.once('exit', (code, signal) => {
      this.exit = `code ${code}, signal ${signal}`;
    });
  }

  static start(log: StackLog): Promise<FuzzStack> {
    const child = fork(ENTRY, [], {
      execArgv: ['--import', 'tsx'],
      // Its own process group, so a hung child and its Postgres can be killed together.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      cwd: dirname(dirname(dirname(ENTRY))),
      env: { ...process.env, RTM_LOG: process.env['RTM_LOG'] || 'error' },
    });
    child.stdout?.on('data', log.feed);
    child.stderr?.on('data', log.feed);
    return capped(
      'booting the fuzz stack',
      new Promise<FuzzStack>((resolve, reject) => {
        child.once('exit', (code) =>
          reject(new Error(`the fuzz stack exited with code ${code} before it was ready${log.tail()}`)),
        );
        child.on('message', (m: { type: string; message?: string } & Omit<Target, 'port'>) => {
          if (m.type === 'error') reject(new Error(`the fuzz stack failed to boot: ${m.message}`));
          if (m.type !== 'ready') return;
          child.removeAllListeners('exit');
          const { type: _type, ...rest } = m;
          resolve(new FuzzStack(child, { ...rest, port: Number(new URL(m.url).port) }, log));
        });
      }),
      120_000,
    ).catch((error: Error) => {
      killGroup(child);
      throw error;
    });
  }

  /** Why the process is gone, or undefined while it runs. */
  get exited(): string | undefined {
    return this.exit;
  }

  /** Invariant 1: the process is alive and both REST and Auth answer normally. */
  async answers(): Promise<void> {
    if (this.exit) throw new Error(`the stack process exited (${this.exit})${this.log.tail()}`);
    const { url, anonKey } = this.target;
    const get = async (path: string, headers: Record<string, string>) => {
      try {
        const res = await fetch(`${url}${path}`, { headers, signal: AbortSignal.timeout(CAP_MS) });
        await res.arrayBuffer();
        return res.status;
      } catch (error) {
        // A refused connection is a process that is gone (its exit event may still be on its way);
        // a timeout is a process that is alive but does not answer.
        const code = (error as { cause?: { code?: string } }).cause?.code;
        const why = this.exit
          ? `exited (${this.exit})`
          : code === 'ECONNREFUSED' || code === 'ECONNRESET' || code === 'UND_ERR_SOCKET'
            ? 'connection refused or reset: crashed?'
            : 'no answer: hung?';
        throw new Error(
          `the stack did not answer GET ${path} (${describeError(error)}${code ? ` ${code}` : ''}): ${why}${this.log.tail()}`,
        );
      }
    };
    const rest = await get('/rest/v1/todos?select=id&limit=1', { apikey: anonKey });
    if (rest !== 200) throw new Error(`REST answered ${rest} to an anon select${this.log.tail()}`);
    const health = await get('/auth/v1/health', {});
    if (health !== 200) throw new Error(`Auth health answered ${health}${this.log.tail()}`);
  }

  /** `graceful`: ask the child to stop its stack; otherwise (broken, hung) kill its process group. */
  async stop(graceful: boolean): Promise<void> {
    const child = this.child;
    if (graceful && child.exitCode === null && child.signalCode === null && child.connected) {
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.send({ type: 'stop' });
      // A child that does not stop in time is no failure of the property: it is killed below.
      await capped('stopping the fuzz stack', gone, 20_000).catch(() => undefined);
    }
    // A crashed or hung child leaves Postgres behind in its group (which keeps the group's id
    // taken); a child that stopped its stack and exited 0 leaves nothing to kill.
    if (child.exitCode !== 0) killGroup(child);
    // Postgres processes that outlive a killed postmaster may still be writing: rm retries, and a
    // directory left in the temp dir after that is reported, not a reason to fail the file.
    await rm(dirname(this.target.dataDir), { recursive: true, force: true, maxRetries: 10 }).catch(
      (error: Error) => console.log(`[fuzz] could not remove ${this.target.dataDir}: ${error.message}`),
    );
  }
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch (error) {
    // ESRCH: the group is already gone, which is what killing it was for.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}
