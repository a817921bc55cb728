import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Verdict } from '../../fixtures/evidence.ts';
import { knownSecrets } from '../../reporters/known-secrets.ts';
import { formatHits, scanPaths } from '../../reporters/redact-check.ts';
import { clearFaults, setFault } from '../../stack/faults/control-client.ts';
import { acquireFixedPortLock } from './support/fixed-port-lock.ts';
import { cellResults, fixedPortsState, ROOT, runMatrix, startFixedStack } from './support/matrix-run.ts';

/**
 * The matrix catches and names every fault of shared/FAILURES.md: each round switches faults on for
 * distinct cells at run time (the stack's real mechanisms), runs the whole matrix once, and expects
 * the faulted cells to end in the catalogue's verdict while every other cell still passes.
 */
const ROUNDS: {
  name: string;
  faults: { target: string; fault: string }[];
  expected: Record<string, Verdict>;
}[] = [
  {
    name: 'reachability, role, socket',
    faults: [
      { target: 'client-local', fault: 'portal-down' },
      { target: 'agent-local', fault: 'role-claim-missing' },
      { target: 'admin-local', fault: 'session-not-forwarded' },
      { target: 'client-prod', fault: 'csp-blocks-socket' },
      { target: 'agent-prod', fault: 'edge-drops-upgrade' },
      { target: 'admin-prod', fault: 'origin-not-allowed' },
    ],
    expected: {
      'client-local': 'PORTAL_UNREACHABLE',
      'agent-local': 'ROLE_REJECTED',
      'admin-local': 'JOINED_AS_ANON',
      'client-prod': 'SOCKET_BLOCKED',
      'agent-prod': 'SOCKET_REJECTED',
      'admin-prod': 'SOCKET_REJECTED',
    },
  },
  {
    name: 'key, token, join, delivery',
    faults: [
      { target: 'client-local', fault: 'bad-apikey' },
      { target: 'agent-local', fault: 'expired-token' },
      { target: 'admin-local', fault: 'join-unanswered' },
      { target: 'client-prod', fault: 'rls-hides-rows' },
      { target: 'agent-prod', fault: 'filter-mismatch' },
      { target: 'admin-prod', fault: 'slow-delivery' },
    ],
    expected: {
      'client-local': 'SOCKET_REJECTED',
      'agent-local': 'JOIN_ERROR',
      'admin-local': 'JOIN_TIMEOUT',
      'client-prod': 'NO_EVENT',
      'agent-prod': 'NO_EVENT',
      'admin-prod': 'EVENT_LATE',
    },
  },
  {
    name: 'publication (env-wide) and duplicate subscription',
    faults: [
      { target: 'prod', fault: 'table-not-published' },
      { target: 'agent-local', fault: 'duplicate-subscription' },
    ],
    expected: {
      'client-local': 'PASS',
      'agent-local': 'DUPLICATE_JOIN',
      'admin-local': 'PASS',
      'client-prod': 'CHANGES_UNAVAILABLE',
      'agent-prod': 'CHANGES_UNAVAILABLE',
      'admin-prod': 'CHANGES_UNAVAILABLE',
    },
  },
];

let stack: { stop(): Promise<void> } | undefined;
let release: (() => void) | undefined;

beforeAll(async () => {
  // Held for the whole file: faults switched here must not leak into another selftest's matrix run.
  release = await acquireFixedPortLock('selftest/matrix/faults.test.ts', 600_000);
  if ((await fixedPortsState()) === 'free') stack = await startFixedStack();
}, 720_000);
afterAll(async () => {
  try {
    await clearFaults();
    await stack?.stop();
  } finally {
    release?.();
  }
}, 60_000);

describe('the matrix names every fault of the catalogue', () => {
  it.each(ROUNDS)('$name', { timeout: 300_000 }, async ({ faults, expected }) => {
    await clearFaults();
    for (const f of faults) await setFault(f.target, f.fault, true);
    const { code, output, report, outputDir } = await runMatrix();
    // Failing cells keep their traces: none may hold a password, a service key or a signed user JWT.
    const hits = await scanPaths([outputDir], knownSecrets(ROOT), { allowAnonKey: true });
    await clearFaults();
    expect(formatHits(hits), `secrets in ${outputDir}`).toBe('');
    const why = `npx playwright test exited ${code}; output:\n${output.slice(-6000)}`;
    expect(report, why).toBeDefined();
    const verdicts = Object.fromEntries(cellResults(report!).map((c) => [c.cell, c.verdict]));
    expect(verdicts, why).toEqual(expected);
  });
});
