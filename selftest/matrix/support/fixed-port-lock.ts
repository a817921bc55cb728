import { mkdirSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT } from './matrix-run.ts';

/**
 * One matrix selftest at a time on the fixed ports. A second `npm test` in the same checkout would
 * reuse the first one's stack (its runtime file names a live process) and lose it mid-run when the
 * first run's Playwright stops it. The lock names its holder's pid; a lock whose
 * holder is gone is taken over. Waiting ends when the lock file is removed (watched, not polled).
 */
const LOCK = join(ROOT, '.stack', 'matrix-selftest.lock');

export async function withFixedPortLock<T>(
  what: string,
  timeoutMs: number,
  fn: () => Promise<T>,
): Promise<T> {
  const release = await acquireFixedPortLock(what, timeoutMs);
  try {
    return await fn();
  } finally {
    release();
  }
}

/** Take the lock; the returned function gives it back. */
export async function acquireFixedPortLock(what: string, timeoutMs: number): Promise<() => void> {
  await acquire(what, timeoutMs);
  return () => rmSync(LOCK, { force: true });
}

async function acquire(what: string, timeoutMs: number): Promise<void> {
  mkdirSync(dirname(LOCK), { recursive: true, mode: 0o700 });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      writeFileSync(LOCK, JSON.stringify({ pid: process.pid, what, since: new Date().toISOString() }), {
        flag: 'wx',
      });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readHolder();
    if (!holder || !alive(holder.pid)) {
      rmSync(LOCK, { force: true });
      continue;
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new Error(
        `${what} needs the fixed-port matrix stack, held by pid ${holder.pid} (${holder.what}) since ${holder.since}; waited ${timeoutMs} ms. Let it finish, or remove ${LOCK} if that process is not a matrix selftest.`,
      );
    }
    await released(Math.min(left, 5_000));
  }
}

function readHolder(): { pid: number; what: string; since: string } | undefined {
  try {
    return JSON.parse(readFileSync(LOCK, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || error instanceof SyntaxError) return undefined;
    throw error;
  }
}

/** Resolves when the lock's directory changes (the holder removed it), or after `ms` to re-check liveness. */
function released(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const watcher = watch(dirname(LOCK), () => finish());
    const timer = setTimeout(() => finish(), ms);
    function finish() {
      clearTimeout(timer);
      watcher.close();
      resolve();
    }
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
