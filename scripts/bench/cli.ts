/**
 * `npm run bench` (every part, in order) and `npm run bench:<part>`. Each part prints its table
 * (figure, target, anchor, pass/miss) and writes bench-results/<part>.json. Targets are printed,
 * not asserted: the exit code is non-zero only when a part could not run.
 */
import { benchBoot } from './boot.ts';
import { benchFanout, FANOUT_HELP } from './fanout-bench.ts';
import { benchLatency } from './latency.ts';
import { benchMatrix } from './matrix.ts';
import { benchOverhead, OVERHEAD_HELP } from './overhead.ts';
import { type BenchResult, publish } from './report.ts';

// The parts that need the fixed ports run before fan-out: run after it, they found 54322 taken
// (with no listener to show) and could not start the stack. Fan-out's thousands of loopback client
// sockets use the ephemeral range that 54321/54322 fall in, which is the likely cause.
const PARTS: Record<string, (argv: string[]) => Promise<BenchResult>> = {
  boot: () => benchBoot(),
  latency: () => benchLatency(),
  matrix: () => benchMatrix(),
  overhead: (argv) => benchOverhead(argv),
  fanout: (argv) => benchFanout(argv),
};

const [part = 'all', ...rest] = process.argv.slice(2);
if (part === '--help' || rest.includes('--help')) {
  console.log(`npm run bench            every part: ${Object.keys(PARTS).join(', ')}
npm run bench:<part>     one part

${FANOUT_HELP}

${OVERHEAD_HELP}`);
  process.exit(0);
}
const names = part === 'all' ? Object.keys(PARTS) : [part];
const unknown = names.filter((n) => !PARTS[n]);
if (unknown.length) {
  console.error(`Unknown bench part ${unknown.join(', ')}; use one of ${Object.keys(PARTS).join(', ')}.`);
  process.exit(2);
}

const started = performance.now();
let failed = 0;
for (const name of names) {
  const t0 = performance.now();
  try {
    await publish(await (PARTS[name] as (argv: string[]) => Promise<BenchResult>)(rest));
    console.log(`  (${name} took ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  } catch (error) {
    failed++;
    console.error(`bench:${name} could not run: ${(error as Error).message}`);
  }
}
console.log(
  `\nbench: ${names.length - failed}/${names.length} parts ran in ${((performance.now() - started) / 1000).toFixed(0)} s`,
);
process.exit(failed ? 1 : 0);
