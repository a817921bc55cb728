import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runningStackEnvs } from '../../fixtures/config/web-server.ts';
import { RUNTIME_FILE } from '../../fixtures/env/runtime.ts';
import { CELL_ATTACHMENT, type CellResult } from '../../fixtures/evidence.ts';
import { DEFAULT_PORTS } from '../../stack/topology/default-ports.ts';
import { takenPorts } from '../../stack/topology/listen.ts';

/**
 * The product, end to end: `npx playwright test` on the default (embedded) environments runs the
 * six cells in real Chromium against the embedded stack and every cell passes. It needs the fixed
 * ports (compatibility with `supabase start` is the point), so it either finds them free (the
 * config starts the stack) or held by a running `npm run stack` that serves both envs (reused).
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXED = [
  { port: DEFAULT_PORTS.db, what: 'Postgres' },
  { port: DEFAULT_PORTS.localApi, what: 'local API' },
  ...Object.entries(DEFAULT_PORTS.localPortals).map(([p, port]) => ({ port, what: `local ${p} portal` })),
  { port: DEFAULT_PORTS.edge, what: 'HTTPS edge' },
];

async function assertPortsUsable(): Promise<void> {
  const running = runningStackEnvs(RUNTIME_FILE);
  if (running?.includes('local') && running.includes('prod')) return;
  const taken = await takenPorts(FIXED);
  if (taken.length === 0) return;
  const stack = running
    ? `the running stack in ${RUNTIME_FILE} serves only ${running.join(', ') || 'no env'}`
    : `no running \`npm run stack\` is recorded in ${RUNTIME_FILE}`;
  throw new Error(
    `The matrix e2e needs the fixed ports, and they are held by something it cannot use (${stack}):\n  ${taken.join('\n  ')}\nStop that process, or start \`npm run stack\` (both envs) and run again.`,
  );
}

interface JsonReport {
  stats: { expected: number; unexpected: number; flaky: number; skipped: number };
  suites: unknown[];
  errors: { message?: string }[];
}

function runPlaywright(
  outputDir: string,
): Promise<{ code: number | null; output: string; report?: JsonReport }> {
  const reportFile = join(outputDir, 'results.json');
  return new Promise((resolve, reject) => {
    const child = spawn(
      'npx',
      ['playwright', 'test', '--reporter=json', `--output=${join(outputDir, 'artifacts')}`],
      {
        cwd: ROOT,
        env: { ...process.env, PLAYWRIGHT_JSON_OUTPUT_FILE: reportFile, CI: '', FORCE_COLOR: '0' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      let report: JsonReport | undefined;
      try {
        report = JSON.parse(readFileSync(reportFile, 'utf8')) as JsonReport;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
      resolve({ code, output, report });
    });
  });
}

type Attachment = { name: string; body?: string; path?: string };
type Node = { suites?: Node[]; specs?: { tests: { results: { attachments: Attachment[] }[] }[] }[] };

function cellResults(report: JsonReport): CellResult[] {
  const out: CellResult[] = [];
  const walk = (node: Node) => {
    for (const spec of node.specs ?? []) {
      for (const test of spec.tests) {
        for (const result of test.results) {
          for (const a of result.attachments.filter((x) => x.name === CELL_ATTACHMENT)) {
            const text = a.body
              ? Buffer.from(a.body, 'base64').toString('utf8')
              : readFileSync(a.path!, 'utf8');
            out.push(JSON.parse(text) as CellResult);
          }
        }
      }
    }
    for (const child of node.suites ?? []) walk(child);
  };
  for (const suite of report.suites as Node[]) walk(suite);
  return out;
}

describe('the matrix, end to end', () => {
  it('npx playwright test: 6 cells, 6 passed', { timeout: 300_000 }, async () => {
    await assertPortsUsable();
    const outputDir = mkdtempSync(join(tmpdir(), 'rtm-e2e-'));
    const { code, output, report } = await runPlaywright(outputDir);
    const why = `npx playwright test exited ${code}; output:\n${output.slice(-6000)}`;
    expect(report, why).toBeDefined();
    expect(report!.errors, why).toEqual([]);
    expect(report!.stats, why).toMatchObject({ expected: 6, unexpected: 0, flaky: 0, skipped: 0 });
    expect(code, why).toBe(0);

    // Each cell's own evidence agrees: six distinct cells, each PASS against an embedded target.
    const cells = cellResults(report!);
    expect(cells.map((c) => c.cell).sort()).toEqual([
      'admin-local',
      'admin-prod',
      'agent-local',
      'agent-prod',
      'client-local',
      'client-prod',
    ]);
    for (const c of cells) {
      expect(c, `${c.cell}: ${c.cause}`).toMatchObject({
        verdict: 'PASS',
        targetKind: 'embedded',
        failedStage: null,
      });
      expect(c.latency.samplesMs.length).toBe(1);
      expect(c.identities.some((i) => i.source !== 'url_apikey' && i.role === 'authenticated')).toBe(true);
    }
  });
});
