import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';

/** One printed line of a benchmark: the figure beside its target and the outside anchor. */
export interface Row {
  figure: string;
  value: string;
  target: string;
  anchor: string;
  /** undefined = informational (no target). */
  pass?: boolean | undefined;
  /** The raw number(s) behind `value`, for the JSON file. */
  raw?: unknown;
}

export interface BenchResult {
  name: string;
  rows: Row[];
  notes: string[];
  details?: unknown;
}

export const RESULTS_DIR = 'bench-results';

/** Print the table and write `bench-results/<name>.json`; the machine's load is recorded because it is shared. */
export async function publish(result: BenchResult): Promise<void> {
  const head = ['figure', 'measured', 'target', 'anchor', 'result'];
  const lines = result.rows.map((r) => [
    r.figure,
    r.value,
    r.target,
    r.anchor,
    r.pass === undefined ? 'info' : r.pass ? 'PASS' : 'MISS',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] as string).length)));
  const fmt = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] as number)).join('  ');
  console.log(`\n== bench:${result.name} ==`);
  console.log(fmt(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) console.log(fmt(l));
  for (const n of result.notes) console.log(`  note: ${n}`);
  // The machine is shared: the load it was under belongs beside every figure.
  console.log(
    `  machine: ${cpus().length} cores, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' / ')} (1/5/15 min)`,
  );
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${result.name}.json`);
  await writeFile(
    file,
    `${JSON.stringify(
      {
        name: result.name,
        at: new Date().toISOString(),
        machine: { cpus: cpus().length, model: cpus()[0]?.model, loadavg: loadavg() },
        rows: result.rows,
        notes: result.notes,
        details: result.details,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`  written: ${file}`);
}
