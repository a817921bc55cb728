/**
 * `npm run report:allure`: builds the Allure HTML report from allure-results with the Allure 3 CLI
 * (the `allure` npm package), offline. The per-verdict categories go in a generated Allure 3 config,
 * because Allure 3 reads categories from its config, not from categories.json in the results.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { allure3Categories } from '../reporters/allure-categories.ts';
import { stripRemoteScripts } from '../reporters/offline-html.ts';

const HELP = `Usage: npm run report:allure -- [--results allure-results] [--out allure-report]
Writes one self-contained index.html (Allure 3 "awesome" report in single-file mode).
Exit codes: 0 report written, 2 bad arguments, 3 no results directory, or the Allure CLI failed (its
output is shown), 4 the generated report still references a remote script.`;

function main(): number {
  let values: { results: string; out: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        results: { type: 'string', default: 'allure-results' },
        out: { type: 'string', default: 'allure-report' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    process.stderr.write(`report:allure: ${(error as Error).message}\n${HELP}\n`);
    return 2;
  }
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const results = resolve(values.results);
  const out = resolve(values.out);
  if (!existsSync(results)) {
    process.stderr.write(
      `report:allure: ${results} does not exist; run the matrix first (npx playwright test), its Allure reporter writes there.\n`,
    );
    return 3;
  }
  const dir = mkdtempSync(join(tmpdir(), 'rtm-allure-'));
  try {
    const config = join(dir, 'allurerc.json');
    const settings = {
      name: 'Realtime matrix',
      output: out,
      categories: allure3Categories(),
      // One index.html that opens from a downloaded CI artifact without a server.
      // Tree by env, then portal: the matrix's own axes.
      plugins: {
        awesome: {
          options: { singleFile: true, reportName: 'Realtime matrix', groupBy: ['story', 'feature'] },
        },
      },
    };
    writeFileSync(config, JSON.stringify(settings));
    // The package exports no path to its CLI; its bin is cli.js at the package root.
    const cli = fileURLToPath(new URL('../node_modules/allure/cli.js', import.meta.url));
    const run = spawnSync(process.execPath, [cli, 'generate', results, '--config', config, '--output', out], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    if (run.status !== 0) {
      process.stderr.write(
        `report:allure: allure generate exited ${run.status}:\n${run.stderr}${run.stdout}\n`,
      );
      return 3;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // The Allure 3 page template always embeds a Google Analytics tag; a report of this project must
  // not make the browser that opens it talk to anything but the file itself.
  for (const name of readdirSync(out).filter((f) => f.endsWith('.html'))) {
    const path = join(out, name);
    const { html, remaining } = stripRemoteScripts(readFileSync(path, 'utf8'));
    writeFileSync(path, html);
    if (remaining.length > 0) {
      process.stderr.write(
        `report:allure: ${path} still loads ${remaining.join(', ')} after stripping analytics.\n`,
      );
      return 4;
    }
  }
  process.stdout.write(`report:allure: ${join(out, 'index.html')}\n`);
  return 0;
}

process.exitCode = main();
