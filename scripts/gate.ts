/**
 * `npm run gate`: the release gate. Reads matrix-report/summary.json and refuses (non-zero exit) unless
 * every required cell passed within its latency budget against an external (real) target.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { judgeGate } from '../reporters/gate-rules.ts';
import { summarySchema } from '../reporters/summary-schema.ts';

const EXIT = { pass: 0, failed: 1, embedded: 2, summary: 3, usage: 4 } as const;

const HELP = `Usage: npm run gate -- [--summary <file>] [--cells <a,b,...>] [--allow-embedded]

Passes only if every required cell of the run passed within its latency budget against an
external target.

  --summary <file>   the run's summary (default: matrix-report/summary.json)
  --cells <list>     required cells, comma-separated, e.g. agent-prod,client-prod
                     (default: every matrix project the run's config declares)
  --allow-embedded   accept cells that ran against the embedded stack (dry runs only: an embedded
                     target proves nothing about a deployment)

Exit codes:
  0  every required cell passed within budget (against external targets, unless --allow-embedded)
  1  a required cell failed, was over its budget, or did not run
  2  otherwise passing, but a required cell ran against an embedded target
  3  the summary is missing, unreadable or not a valid version-1 summary
  4  bad arguments`;

function main(argv: string[]): number {
  let values: { summary: string; cells?: string; 'allow-embedded'?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        summary: { type: 'string', default: 'matrix-report/summary.json' },
        cells: { type: 'string' },
        'allow-embedded': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    process.stderr.write(`gate: ${(error as Error).message}\n\n${HELP}\n`);
    return EXIT.usage;
  }
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return EXIT.pass;
  }

  let raw: string;
  try {
    raw = readFileSync(values.summary, 'utf8');
  } catch (error) {
    process.stderr.write(
      `gate: REFUSED: cannot read ${values.summary} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); run the matrix (npx playwright test) or npm run report:matrix first.\n`,
    );
    return EXIT.summary;
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (error) {
    process.stderr.write(`gate: REFUSED: ${values.summary} is not JSON (${(error as Error).message}).\n`);
    return EXIT.summary;
  }
  const parsed = summarySchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .slice(0, 5)
      .map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('\n');
    process.stderr.write(
      `gate: REFUSED: ${values.summary} is not a valid version-1 matrix summary:\n${issues}\nRebuild it with npm run report:matrix.\n`,
    );
    return EXIT.summary;
  }

  const required = values.cells
    ?.split(',')
    .map((c) => c.trim())
    .filter(Boolean);
  const verdict = judgeGate(parsed.data, { required, allowEmbedded: values['allow-embedded'] === true });
  for (const line of verdict.lines) process.stdout.write(`${line}\n`);
  process.stdout.write(
    `gate: ${verdict.outcome === 'pass' ? 'PASSED' : 'REFUSED'} (exit ${EXIT[verdict.outcome]})\n`,
  );
  return EXIT[verdict.outcome];
}

process.exitCode = main(process.argv.slice(2));
