import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * A shell command in a process group of its own (spawned detached, so the group id is the shell's
 * pid), with the last lines of its output kept for error messages. Stopping signals the whole group
 * and waits until no live member is left: `npm run preview` is npm → sh → node, and killing only the
 * first leaves the server holding its port.
 */
export interface CommandExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Set when the command could not be started at all (spawn's own error). */
  error?: Error;
}

export interface RunningCommand {
  /** The shell's pid, which is also the process group id. */
  pid: number;
  /** Settles when the shell exits (or fails to start); never rejects. */
  exited: Promise<CommandExit>;
  exit: CommandExit | undefined;
  /** The last lines of stdout and stderr, interleaved as they arrived. */
  lastLines(): string[];
  /** Signal the group (TERM, then KILL after `graceMs`) and wait until no member is alive. */
  stop(graceMs?: number): Promise<void>;
}

const KEPT_LINES = 30;
/** Groups still running, killed outright if this process exits without stopping them. */
const live = new Set<number>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' runs on process.exit() and a normal end; handlers must be synchronous. SIGKILL of this
  // process runs no handler: the orphan guard (below) takes the groups then.
  process.on('exit', () => {
    for (const pgid of live) signalGroup(pgid, 'SIGKILL');
  });
}

/**
 * The orphan guard (orphan-guard.mjs): a process in a session of its own that holds the read end of
 * a pipe only this process writes. It is told each group as it starts and as it is stopped; when
 * the pipe closes because this process died — SIGKILL too, which Playwright sends a webServer that
 * has not stopped within its graceful-shutdown timeout — it stops the groups still listed. Started
 * with the first command, ended (its pipe closed with nothing listed) when the last one is stopped.
 */
let guard: ChildProcess | undefined;
const GUARD_SCRIPT = fileURLToPath(new URL('./orphan-guard.mjs', import.meta.url));

function tellGuard(line: string): void {
  if (!guard) {
    guard = spawn(process.execPath, [GUARD_SCRIPT, '5000'], {
      detached: true,
      // No stdout/stderr: a guard holding the stack's pipes would keep the runner waiting on them.
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    // A guard that failed to start or died leaves things as they were without it: not an error.
    guard.on('error', () => undefined);
    guard.stdin?.on('error', () => undefined);
    // Neither the guard nor its pipe keeps this process alive.
    guard.unref();
    (guard.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  }
  guard.stdin?.write(`${line}\n`);
}

function releaseGuard(pgid: number): void {
  if (!guard) return;
  tellGuard(`-${pgid}`);
  if (live.size === 0) {
    guard.stdin?.end();
    guard = undefined;
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/**
 * Live (not zombie) members of a process group. From /proc, because `kill(-pgid, 0)` also counts
 * zombies, and an orphaned grandchild stays a zombie for good when PID 1 does not reap (containers).
 */
export function groupMembers(pgid: number): number[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    // No procfs (not Linux): the signal probe, zombies included, is the best there is.
    try {
      process.kill(-pgid, 0);
      return [pgid];
    } catch (probeError) {
      if ((probeError as NodeJS.ErrnoException).code === 'ESRCH') return [];
      throw probeError;
    }
  }
  const members: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ESRCH') continue; // gone since readdir
      throw error;
    }
    // "pid (comm) state ppid pgrp …"; comm may hold spaces and parentheses, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    if (Number(fields[2]) === pgid && state !== 'Z' && state !== 'X') members.push(Number(entry));
  }
  return members;
}

/** Resolves once `done()` holds, checking every `everyMs`; false if `withinMs` passes first. */
export async function until(done: () => boolean, withinMs: number, everyMs = 25): Promise<boolean> {
  const deadline = performance.now() + withinMs;
  while (!done()) {
    if (performance.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return true;
}

export function runCommand(
  command: string,
  options: { cwd: string; env: Record<string, string> },
): RunningCommand {
  installExitHook();
  const lines: string[] = [];
  const partial = { stdout: '', stderr: '' };
  const keep = (line: string) => {
    lines.push(line);
    if (lines.length > KEPT_LINES) lines.shift();
  };
  // stderr joins stdout in the shell, so the lines keep the order the command wrote them in (two
  // pipes would be read in whatever order they became readable).
  const child: ChildProcess = spawn('/bin/sh', ['-c', `exec 2>&1\n${command}`], {
    cwd: options.cwd,
    env: options.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of ['stdout', 'stderr'] as const) {
    child[stream]?.on('data', (chunk: Buffer) => {
      const text = partial[stream] + chunk.toString('utf8');
      const parts = text.split(/\r?\n/);
      partial[stream] = parts.pop() ?? '';
      for (const line of parts) keep(line);
    });
  }
  const pid = child.pid ?? 0;
  if (pid) {
    live.add(pid);
    tellGuard(`+${pid}`);
  }
  const running: RunningCommand = {
    pid,
    exit: undefined,
    exited: new Promise<CommandExit>((resolve) => {
      const settle = (exit: CommandExit) => {
        for (const stream of ['stdout', 'stderr'] as const) {
          if (partial[stream]) keep(partial[stream]);
          partial[stream] = '';
        }
        running.exit ??= exit;
        resolve(running.exit);
      };
      child.once('error', (error) => settle({ code: null, signal: null, error }));
      // 'close': the pipes are drained too, so the last lines are in.
      child.once('close', (code, signal) => settle({ code, signal }));
    }),
    lastLines: () => [...lines, ...[partial.stdout, partial.stderr].filter(Boolean)],
    async stop(graceMs = 5_000) {
      if (!pid) return;
      const gone = () => groupMembers(pid).length === 0;
      if (!gone()) {
        signalGroup(pid, 'SIGTERM');
        if (!(await until(gone, graceMs))) {
          signalGroup(pid, 'SIGKILL');
          if (!(await until(gone, 2_000))) {
            throw new Error(
              `Process group ${pid} of \`${command}\` still has live members after SIGTERM and SIGKILL: pids ${groupMembers(pid).join(', ')}.`,
            );
          }
        }
      }
      live.delete(pid);
      releaseGuard(pid);
    },
  };
  return running;
}
