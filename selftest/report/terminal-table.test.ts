import { describe, expect, it } from 'vitest';
import { buildSummary } from '../../reporters/build-summary.ts';
import { renderMarkdown } from '../../reporters/markdown.ts';
import { colorWanted, renderTable } from '../../reporters/terminal-table.ts';
import { RUN_FACTS, realRun, recordedRun } from './support/recorded.ts';

describe('terminal table', () => {
  it('prints the portal x env grid with verdict, p50/p95, budget and target kind, no colour', () => {
    const text = renderTable(buildSummary(recordedRun(), RUN_FACTS), { color: false });
    expect(text).toBe(
      [
        'Realtime matrix: 6/6 cells passed (2026-11-23T00:39:58.000Z, 0123456789ab)',
        '',
        'portal  local                                                prod',
        '------  ---------------------------------------------------  -----------------------------------------------------',
        'client  PASS  p50 47 ms  p95 62 ms  budget 1.00 s  embedded  PASS  p50 118 ms  p95 143 ms  budget 2.00 s  embedded',
        'agent   PASS  p50 47 ms  p95 62 ms  budget 1.00 s  embedded  PASS  p50 118 ms  p95 143 ms  budget 2.00 s  embedded',
        'admin   PASS  p50 47 ms  p95 62 ms  budget 1.00 s  embedded  PASS  p50 118 ms  p95 143 ms  budget 2.00 s  embedded',
        '',
      ].join('\n'),
    );
    expect(text).not.toContain('\u001b[');
  });

  it('lists each failing cell under the table with cause, diagnosis and next step', () => {
    const text = renderTable(buildSummary(recordedRun('csp-blocks-socket'), RUN_FACTS), { color: false });
    expect(text).toContain(
      'agent   PASS  p50 47 ms  p95 62 ms  budget 1.00 s  embedded  SOCKET_BLOCKED  no samples',
    );
    expect(text).toContain('x agent-prod SOCKET_BLOCKED at socket_opened');
    expect(text).toContain(
      "    cause:     The browser blocked wss://api.prod.localhost:8443 before any handshake: the portal's CSP connect-src lacks the wss: origin",
    );
    expect(text).toContain(
      '    diagnosis: agent-prod SOCKET_BLOCKED (matches `csp-blocks-socket`): CSP connect-src',
    );
    expect(text).toContain(
      "    next:      Add the realtime origin (wss://api.prod.localhost:8443, as the passing cells allow) to the portal's Content-Security-Policy connect-src.",
    );
  });

  it('colours verdicts only when asked', () => {
    const text = renderTable(buildSummary(recordedRun('rls-hides-rows'), RUN_FACTS), { color: true });
    expect(text).toContain('\u001b[31mNO_EVENT');
    expect(text).toContain('\u001b[32mPASS');
  });

  it('wants colour on a TTY unless NO_COLOR, never off a TTY unless FORCE_COLOR', () => {
    expect(colorWanted({ isTTY: true }, {})).toBe(true);
    expect(colorWanted({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(colorWanted({ isTTY: false }, {})).toBe(false);
    expect(colorWanted({}, { FORCE_COLOR: '1' })).toBe(true);
  });

  it('marks a cell the config declares but the run did not execute', () => {
    const run = recordedRun().filter((o) => o.project !== 'admin-prod');
    const text = renderTable(buildSummary(run, RUN_FACTS), { color: false });
    expect(text).toMatch(/^admin {3}PASS .* {2}not run$/m);
    expect(text).toContain('5/5 cells passed');
  });
});

describe('summary.md', () => {
  it('is a job summary: grid, then per failing cell its cause, diagnosis, next step and differences', () => {
    const md = renderMarkdown(buildSummary(recordedRun('session-not-forwarded'), RUN_FACTS));
    expect(md).toContain('## Realtime matrix: 5/6 cells passed');
    expect(md).toContain('| portal | local | prod |');
    expect(md).toContain(
      '| agent | ✅ **PASS** p50 47 ms / p95 62 ms (budget 1.00 s, embedded) | ❌ **JOINED_AS_ANON** (budget 2.00 s, embedded) |',
    );
    expect(md).toContain('### ❌ agent-prod: JOINED_AS_ANON (`session-not-forwarded`)');
    expect(md).toContain(
      '| join_identity | `role=anon, user_role=<missing>` | `role=authenticated, user_role={portal}` |',
    );
    // No doctor ran for a JOINED_AS_ANON cell: no database section.
    expect(md).not.toContain('Database checks');
  });

  it("shows the doctor's failing check, its next step and fix SQL, what it could not check, and folds what held", () => {
    const md = renderMarkdown(buildSummary(realRun('select-revoked'), RUN_FACTS));
    const section = md.slice(md.indexOf('### ❌ agent-prod'), md.indexOf('### ❌ admin-prod'));
    expect(section).toMatch(
      /\*\*Database checks:\*\* public\.tickets INSERT as authenticated \(database postgres@127\.0\.0\.1:\d+\/prod, \d+ ms\): 1 failed, 10 ok, 1 not checked\./,
    );
    expect(section).toContain(
      '| ❌ | `grant.table_select` | authenticated has no SELECT on public.tickets: realtime cannot check the row as authenticated and sends no event (hosted sends "Error 401: Unauthorized" in its place). | Grant authenticated SELECT on public.tickets in a migration (RLS, not the grant, should decide which rows it sees). |',
    );
    expect(section).toContain(
      [
        '```sql',
        '-- fixes grant.table_select (review before running it)',
        'grant select on public.tickets to authenticated;',
        '```',
      ].join('\n'),
    );
    expect(section).toContain(
      '- not checked: `rls.row_hidden`: authenticated cannot read public.tickets at all',
    );
    expect(section).toContain('<details><summary>10 checks held</summary>');
    expect(section).toContain('- ✅ `grant.schema_usage`: authenticated has USAGE on schema public.');
    // The connection is named without its credentials.
    expect(md).not.toMatch(/postgres:[^@\s]+@/);
  });
});
