import { describe, expect, it } from 'vitest';
import type { Facts } from '../../fixtures/doctor/facts.ts';
import { reportFromFacts } from '../../fixtures/doctor/run.ts';
import type { DoctorReport } from '../../fixtures/doctor/types.ts';
import type { CellResult } from '../../fixtures/evidence.ts';
import { applyDoctor, doctorInput, withDoctor } from '../../fixtures/ladder/doctor-seam.ts';
import { judgeCell } from '../../fixtures/ladder/judge.ts';
import type { Target } from '../../fixtures/target.ts';
import { buildSummary } from '../../reporters/build-summary.ts';
import { healthyEvidence, ROW_ID, USER_ID } from '../matrix/support/evidence-builder.ts';
import { outcome, RUN_FACTS, realRun } from '../report/support/recorded.ts';
import { healthyFacts, INPUT } from './support/facts.ts';

/**
 * The seam between a failing cell and the doctor: what the cell hands over (table, role and claims
 * from the channel's own token, the row that never came, the filter it joined with), and how the
 * doctor's cause replaces the frames' guess in the cause, next step and cross-cell diagnosis.
 */
async function noEventEvidence() {
  const e = await healthyEvidence();
  const stream = e.sockets[0]!;
  // The row's INSERT never arrives; the fence's does.
  stream.frames = stream.frames.filter((f) => !(typeof f.data === 'string' && f.data.includes(ROW_ID)));
  return e;
}

function report(over: Parameters<typeof healthyFacts>[0]): DoctorReport {
  return reportFromFacts(
    healthyFacts(over),
    INPUT,
    'database',
    'postgres@127.0.0.1:5432/app',
    performance.now(),
  );
}

/** The recorded real run with its admin-local cell replaced by one that carries this doctor report. */
function diagnosisWith(doctor: DoctorReport | undefined) {
  const run = realRun('rls-hides-rows');
  const failing = run.find((o) => o.cell?.verdict === 'NO_EVENT')!;
  const cell = failing.cell as CellResult;
  const replaced = doctor ? applyDoctor(cell, doctor) : cell;
  const outcomes = run.map((o) => (o === failing ? outcome(replaced) : o));
  const summary = buildSummary(outcomes, RUN_FACTS);
  return { summary, diagnosis: summary.diagnoses.find((d) => d.cell === cell.cell)!, cell: replaced };
}

describe('what a failing cell hands the doctor', () => {
  it('the channel token\'s role and claims, the row that never came, and "no filter" as a fact', async () => {
    const e = await noEventEvidence();
    expect(judgeCell(e).verdict).toBe('NO_EVENT');
    const input = doctorInput(e);
    expect(input).toMatchObject({
      table: { schema: 'public', name: 'tickets' },
      event: 'INSERT',
      role: 'authenticated',
      rowId: ROW_ID,
      filter: null,
      joined: true,
    });
    expect(input.claims).toMatchObject({ sub: USER_ID, user_role: 'client', role: 'authenticated' });
  });

  it('an external target without a DATABASE_URL or service key: the doctor says why it could not look', async () => {
    const e = await noEventEvidence();
    const target = {
      env: 'prod',
      targetKind: 'external',
      supabaseUrl: 'https://ref.supabase.co',
      serviceRoleKey: '',
      fetch,
      secrets: [],
    } as unknown as Target;
    const result = await withDoctor(judgeCell(e), e, target);
    expect(result.doctor?.source).toBe('none');
    expect(result.doctor?.skipped[0]?.why).toContain('set PROD_DATABASE_URL in the environment');
    expect(result.stages.find((s) => s.stage === 'event_delivered')?.evidence['doctor']).toMatchObject({
      cause: null,
    });
  });

  it('a doctor that cannot start (no stack runtime file) is recorded, and the verdict stands', async () => {
    const e = await noEventEvidence();
    const before = process.env['RTM_RUNTIME_FILE'];
    process.env['RTM_RUNTIME_FILE'] = '/nonexistent/runtime.json';
    try {
      const target = { env: 'local', targetKind: 'embedded', secrets: [] } as unknown as Target;
      const result = await withDoctor(judgeCell(e), e, target);
      expect(result.verdict).toBe('NO_EVENT');
      expect(result.doctor?.source).toBe('none');
      expect(result.doctor?.skipped[0]?.why).toMatch(
        /^the doctor failed: .*\/nonexistent\/runtime.json does not exist/,
      );
    } finally {
      if (before === undefined) delete process.env['RTM_RUNTIME_FILE'];
      else process.env['RTM_RUNTIME_FILE'] = before;
    }
  });

  it('without a recorded join (recording off) the doctor does not guess the role', async () => {
    const e = await noEventEvidence();
    const noEvent = judgeCell(e);
    e.sockets = [];
    const result = await withDoctor(noEvent, e, { secrets: [] } as unknown as Target);
    expect(result.doctor?.source).toBe('none');
    expect(result.doctor?.skipped[0]?.why).toContain('no phx_join was recorded');
  });

  it('verdicts the database cannot explain are left alone', async () => {
    const result = judgeCell(await healthyEvidence());
    expect(await withDoctor(result, await healthyEvidence(), {} as Target)).toBe(result);
  });
});

describe("the doctor's cause over the frames' guess", () => {
  it('a revoked SELECT is select-revoked, with the grant to run, not rls-hides-rows', () => {
    const { diagnosis, cell, summary } = diagnosisWith(
      report((f) => {
        f.grants.tableSelect = false;
        f.grants.selectableColumns = [];
      }),
    );
    expect(diagnosis.fault).toBe('select-revoked');
    expect(diagnosis.doctorCause).toMatchObject({
      id: 'grant.table_select',
      fixSql: 'grant select on app.items to member;',
    });
    expect(diagnosis.nextStep).toContain('SQL: grant select on app.items to member;');
    expect(diagnosis.headline).toContain('the database says: member has no SELECT on app.items');
    expect(cell.cause).toContain('Doctor (grant.table_select)');
    expect(summary.cells.find((c) => c.cell === cell.cell)?.doctor?.checks.length).toBeGreaterThan(5);
  });

  type Change = (f: Facts) => void;
  const cases: [string, string | null, Change][] = [
    [
      'grant.schema_usage',
      'schema-usage-revoked',
      (f) => {
        f.grants.schemaUsage = false;
      },
    ],
    [
      'publication.no_insert',
      'insert-not-published',
      (f) => {
        f.publication!.insert = false;
      },
    ],
    [
      'publication.missing',
      'table-not-published',
      (f) => {
        f.publication!.member = null;
      },
    ],
    [
      'rls.row_hidden',
      'rls-hides-rows',
      (f) => {
        f.row!.visibility = { visible: false, method: 'as_role', error: null };
      },
    ],
    [
      'primary_key',
      null,
      (f) => {
        f.table!.primaryKey = [];
        f.row = null;
      },
    ],
  ];
  it.each(cases)('%s → %s', (id, fault, change) => {
    const { diagnosis } = diagnosisWith(report(change));
    expect(diagnosis.doctorCause?.id).toBe(id);
    expect(diagnosis.fault).toBe(fault);
  });

  it('a filter the row does not match is filter-mismatch', () => {
    const doctor = reportFromFacts(
      healthyFacts(),
      { ...INPUT, filter: 'room=eq.99' },
      'database',
      undefined,
      performance.now(),
    );
    expect(diagnosisWith(doctor).diagnosis.fault).toBe('filter-mismatch');
  });

  it('every check green: no catalogue fault is claimed, and the next step points at realtime itself', () => {
    const { diagnosis } = diagnosisWith(report(() => {}));
    expect(diagnosis.fault).toBeNull();
    expect(diagnosis.nextStep).toContain('The database shows no cause');
  });

  it('without a doctor report the frames-only guess stands, and says what it cannot tell apart', () => {
    const { diagnosis } = diagnosisWith(undefined);
    expect(diagnosis.fault).toBe('rls-hides-rows');
    expect(diagnosis.nextStep).toContain('cannot tell a policy from a revoked grant');
    expect(diagnosis.doctorCause).toBeNull();
  });
});

describe('broadcast findings name their catalogue faults', () => {
  /** Facts of a broadcast table whose trigger is healthy and whose read check refused the role. */
  function broadcastReport(role: string, readAllowed: boolean, triggerTopic = 'room:1'): DoctorReport {
    const facts = healthyFacts((f) => {
      f.broadcast = {
        messagesTable: true,
        triggers: [
          {
            name: 'items_broadcast',
            function: 'app.items_broadcast',
            enabled: 'O',
            events: ['INSERT'],
            level: 'ROW',
            securityDefiner: true,
            owner: 'postgres',
            ownerBypassesRls: true,
            calls: ['realtime.broadcast_changes'],
          },
        ],
        policies: [],
        read: { allowed: readAllowed, error: null, method: 'as_role' },
        write: null,
        fired: {
          how: 'test',
          messages: [{ topic: triggerTopic, event: 'INSERT', private: true, extension: 'broadcast' }],
          error: null,
          asWriter: null,
          warnings: [],
        },
        writerBypassesRls: true,
      };
    });
    const input = {
      ...INPUT,
      role,
      claims: { role },
      broadcast: { topic: 'room:1', event: 'INSERT', private: true, writeAs: 'service_role' },
    };
    return reportFromFacts(facts, input, 'database', 'postgres@127.0.0.1:5432/app', performance.now());
  }

  it('over an RPC installed without its Broadcast function the broadcast checks are skipped with why, none guessed', () => {
    const input = { ...INPUT, broadcast: { topic: 'room:1', event: 'INSERT', private: true } };
    const report = reportFromFacts(healthyFacts(), input, 'rpc', 'https://ref.supabase.co/rest/v1/rpc/x', 0);
    expect(report.checks).toEqual([]);
    expect(report.skipped).toEqual([
      {
        check: 'broadcast',
        why: expect.stringContaining(
          'the installed doctor RPC has no realtime_matrix_doctor_broadcast(): reinstall supabase/doctor/realtime_matrix_doctor.sql',
        ),
      },
    ]);
  });

  it.each([
    ['authenticated', false, 'room:1', 'broadcast-no-select-policy'],
    ['anon', false, 'room:1', 'broadcast-anon-join'],
    ['authenticated', true, 'rooms:1', 'broadcast-topic-mismatch'],
  ])('%s, read %s, trigger topic %s: %s', (role, read, topic, fault) => {
    const { diagnosis } = diagnosisWith(broadcastReport(role, read, topic));
    expect(diagnosis.fault).toBe(fault);
  });
});
