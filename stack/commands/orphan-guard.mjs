// The stack's last word on its portal commands, for when it cannot say it itself.
//
// The stack starts this process in a session of its own (so a signal to the stack's process group,
// such as the SIGKILL Playwright sends a webServer that does not stop in time, does not reach it) and
// keeps the only writer of its stdin. Lines on stdin are "+<pgid>" when a command's process group
// starts and "-<pgid>" when the stack has stopped it. When stdin ends — the stack stopped normally,
// or died in any way, SIGKILL included — every group still listed gets SIGTERM, then SIGKILL after
// the grace period (argv[2], in ms).
//
// Plain JavaScript, no imports beyond Node's: it must start fast and without the project's loader.
import { createInterface } from 'node:readline';

const graceMs = Number(process.argv[2] ?? 5000);
const groups = new Set();

function signal(pgid, name) {
  try {
    process.kill(-pgid, name);
    return true;
  } catch {
    return false; // ESRCH: the group is gone (EPERM cannot happen: the stack made it as this user)
  }
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const pgid = Number(line.slice(1));
  if (!Number.isInteger(pgid) || pgid <= 1) return;
  if (line[0] === '+') groups.add(pgid);
  else if (line[0] === '-') groups.delete(pgid);
});
lines.on('close', () => {
  const left = [...groups].filter((pgid) => signal(pgid, 'SIGTERM'));
  if (left.length === 0) process.exit(0);
  const deadline = Date.now() + graceMs;
  const timer = setInterval(() => {
    // kill(-pgid, 0) also counts zombies, which an init that does not reap keeps for good: past the
    // grace period SIGKILL goes out whatever the probe says, and the guard is done.
    const alive = left.filter((pgid) => signal(pgid, 0));
    if (alive.length === 0 || Date.now() >= deadline) {
      for (const pgid of alive) signal(pgid, 'SIGKILL');
      clearInterval(timer);
      process.exit(0);
    }
  }, 50);
});
