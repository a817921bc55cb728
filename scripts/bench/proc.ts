import { readdirSync, readFileSync } from 'node:fs';

/** Linux's USER_HZ: /proc CPU times are in these ticks (getconf CLK_TCK is 100 on every mainstream kernel). */
const TICKS_PER_SECOND = 100;

interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  cpuTicks: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    // The process ended between listing and reading: it is simply not part of this sample.
    return undefined;
  }
  // comm is parenthesised and may hold spaces; the fields after the last ')' are space-separated.
  const close = text.lastIndexOf(')');
  const comm = text.slice(text.indexOf('(') + 1, close);
  const fields = text.slice(close + 2).split(' ');
  return {
    pid,
    comm,
    ppid: Number(fields[1]),
    cpuTicks: Number(fields[11]) + Number(fields[12]),
  };
}

function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** Every live process under `root` (root included). */
function tree(root: number): ProcStat[] {
  const all: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) all.push(s);
  }
  const keep = new Set([root]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const s of all)
      if (!keep.has(s.pid) && keep.has(s.ppid)) {
        keep.add(s.pid);
        grew = true;
      }
  }
  return all.filter((s) => keep.has(s.pid));
}

export interface ServerUsage {
  /** CPU seconds of the stack's Node process over the window, and as a share of one core. */
  stackCpuS: number;
  stackCpuPct: number;
  /** CPU of every Postgres process of the stack (postmaster, backends, walsenders). */
  postgresCpuS: number;
  postgresCpuPct: number;
  /** Peak RSS sampled once a second. */
  stackRssMaxMiB: number;
  postgresRssMaxMiB: number;
  windowS: number;
}

/**
 * CPU and RSS of a stack process and its Postgres, from /proc, over a window. Backends that start
 * during the window count from zero; backends that end during it are lost (none do in a steady run).
 */
export function watchServer(stackPid: number): { stop(): ServerUsage } {
  const startedAt = performance.now();
  const before = new Map(tree(stackPid).map((s) => [s.pid, s.cpuTicks]));
  let stackRss = 0;
  let pgRss = 0;
  const sample = () => {
    let pg = 0;
    for (const s of tree(stackPid)) {
      if (s.pid === stackPid) stackRss = Math.max(stackRss, rssKiB(s.pid));
      else if (s.comm === 'postgres') pg += rssKiB(s.pid);
    }
    pgRss = Math.max(pgRss, pg);
  };
  sample();
  const timer = setInterval(sample, 1000);
  return {
    stop(): ServerUsage {
      clearInterval(timer);
      sample();
      const windowS = (performance.now() - startedAt) / 1000;
      let stackTicks = 0;
      let pgTicks = 0;
      for (const s of tree(stackPid)) {
        const delta = s.cpuTicks - (before.get(s.pid) ?? 0);
        if (s.pid === stackPid) stackTicks += delta;
        else if (s.comm === 'postgres') pgTicks += delta;
      }
      const stackCpuS = stackTicks / TICKS_PER_SECOND;
      const postgresCpuS = pgTicks / TICKS_PER_SECOND;
      return {
        stackCpuS,
        stackCpuPct: (100 * stackCpuS) / windowS,
        postgresCpuS,
        postgresCpuPct: (100 * postgresCpuS) / windowS,
        // RSS of Postgres sums shared buffers once per process: an upper bound, said so in the notes.
        stackRssMaxMiB: stackRss / 1024,
        postgresRssMaxMiB: pgRss / 1024,
        windowS,
      };
    },
  };
}
