import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildSummary } from '../../reporters/build-summary.ts';
import type { CellOutcome } from '../../reporters/cell-outcome.ts';
import { RUN_FACTS, recordedRun } from './support/recorded.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const dir = mkdtempSync(join(tmpdir(), 'rtm-gate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function external(run: CellOutcome[]): CellOutcome[] {
  return run.map((o) => ({ ...o, cell: o.cell && { ...o.cell, targetKind: 'external' } }));
}

function writeSummary(name: string, run: CellOutcome[]): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(buildSummary(run, RUN_FACTS)));
  return path;
}

function gate(...args: string[]) {
  const r = spawnSync(TSX, [join(ROOT, 'scripts', 'gate.ts'), ...args], { encoding: 'utf8', cwd: dir });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('npm run gate', { timeout: 60_000 }, () => {
  it('0: every cell passed within budget against external targets', () => {
    const r = gate('--summary', writeSummary('pass', external(recordedRun())));
    expect(r.out).toContain('PASS  agent-prod: p95 143 ms within 2.00 s, external target');
    expect(r.out).toContain('gate: PASSED (exit 0)');
    expect(r.code).toBe(0);
  });

  it('1: a failed cell is refused with its verdict and cause', () => {
    const r = gate('--summary', writeSummary('failed', external(recordedRun('session-not-forwarded'))));
    expect(r.out).toContain(
      'FAIL  agent-prod: JOINED_AS_ANON at socket_identity: realtime:public:tickets was joined as anon: the phx_join access_token is the anon key, so RLS sees no user',
    );
    expect(r.out).toContain('PASS  client-prod');
    expect(r.code).toBe(1);
  });

  it('1: a PASS over its budget is refused with the numbers', () => {
    const run = external(recordedRun()).map((o) =>
      o.project === 'admin-prod' && o.cell
        ? {
            ...o,
            cell: { ...o.cell, latency: { samplesMs: [1900, 2400], p50: 1900, p95: 2400, budgetMs: 2000 } },
          }
        : o,
    );
    const r = gate('--summary', writeSummary('late', run));
    expect(r.out).toContain('FAIL  admin-prod: over budget: p95 2.40 s > 2.00 s (samples 1900, 2400 ms)');
    expect(r.code).toBe(1);
  });

  it('1: a PASS with frame recording off is refused: its socket stages were inferred, not observed', () => {
    const run = external(recordedRun()).map((o) =>
      o.project === 'client-prod' && o.cell
        ? { ...o, cell: { ...o.cell, recording: 'off' as const, frames: [] } }
        : o,
    );
    const r = gate('--summary', writeSummary('record-off', run));
    expect(r.out).toContain(
      'FAIL  client-prod: PASS with frame recording off (MATRIX_RECORD=0): the socket, identity, join and readiness stages were inferred from the page, not observed; rerun with recording on',
    );
    expect(r.code).toBe(1);
  });

  it('1: a required cell that did not run is refused', () => {
    const run = external(recordedRun()).filter((o) => o.project !== 'agent-prod');
    const r = gate('--summary', writeSummary('missing-cell', run));
    expect(r.out).toMatch(/FAIL {2}agent-prod: did not run \(not in the summary; ran: client-local, /);
    expect(r.code).toBe(1);
  });

  it('2: passing cells against the embedded stack are refused unless --allow-embedded', () => {
    const path = writeSummary('embedded', recordedRun());
    const refused = gate('--summary', path);
    expect(refused.out).toContain(
      'EMBED agent-prod: passed (p95 143 ms within 2.00 s) but against the embedded stack',
    );
    expect(refused.code).toBe(2);
    const dry = gate('--summary', path, '--allow-embedded');
    expect(dry.out).toContain('PASS  agent-prod: p95 143 ms within 2.00 s, embedded target');
    expect(dry.code).toBe(0);
  });

  it('--cells narrows the required cells', () => {
    const path = writeSummary('partial', external(recordedRun('slow-delivery')));
    expect(gate('--summary', path, '--cells', 'client-prod,agent-prod').code).toBe(0);
    const r = gate('--summary', path, '--cells', 'admin-prod');
    expect(r.out).toContain('FAIL  admin-prod: EVENT_LATE at on_time');
    expect(r.code).toBe(1);
  });

  it('3: a missing or invalid summary is refused with what to do', () => {
    const missing = gate('--summary', join(dir, 'nope.json'));
    expect(missing.err).toContain(`gate: REFUSED: cannot read ${join(dir, 'nope.json')} (ENOENT)`);
    expect(missing.code).toBe(3);
    const defaultPath = gate();
    expect(defaultPath.err).toContain('cannot read matrix-report/summary.json');
    expect(defaultPath.code).toBe(3);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ schema: 'realtime-matrix/summary', version: 2, cells: [] }));
    const invalid = gate('--summary', bad);
    expect(invalid.err).toContain('is not a valid version-1 matrix summary');
    expect(invalid.err).toContain('version:');
    expect(invalid.code).toBe(3);
  });

  it('4: unknown options print the usage, --help documents the exit codes', () => {
    const r = gate('--bogus');
    expect(r.err).toContain("Unknown option '--bogus'");
    expect(r.code).toBe(4);
    const help = gate('--help');
    expect(help.out).toContain('2  otherwise passing, but a required cell ran against an embedded target');
    expect(help.code).toBe(0);
  });
});
