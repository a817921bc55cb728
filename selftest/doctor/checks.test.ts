import { describe, expect, it } from 'vitest';
import { databaseUrlVariable, describeDatabaseUrl, resolveAccess } from '../../fixtures/doctor/access.ts';
import { CAUSE_ORDER, causeOf } from '../../fixtures/doctor/cause.ts';
import { filterMatches, parseFilter } from '../../fixtures/doctor/filter.ts';
import { renderReport } from '../../fixtures/doctor/render.ts';
import { judgeFacts, reportFromFacts } from '../../fixtures/doctor/run.ts';
import { FINDING_IDS } from '../../fixtures/doctor/types.ts';
import { knownSecrets } from '../../reporters/known-secrets.ts';
import { healthyFacts, INPUT } from './support/facts.ts';

/** The checks are pure over facts: every cause, its wording and its fixing SQL, without a database. */
function failing(facts = healthyFacts(), input = INPUT): string[] {
  return judgeFacts(facts, input)
    .checks.filter((c) => c.status === 'fail')
    .map((c) => c.id);
}

describe('checks over facts', () => {
  it('healthy facts: nothing fails, and every finding has a stable id from the list', () => {
    const { checks, skipped } = judgeFacts(healthyFacts(), INPUT);
    expect(checks.filter((c) => c.status !== 'ok')).toEqual([]);
    expect(skipped).toEqual([]);
    for (const c of checks) expect(FINDING_IDS).toContain(c.id);
  });

  it('a "*" subscriber is warned, not failed, when one operation is not published', () => {
    const facts = healthyFacts((f) => {
      f.publication!.delete = false;
    });
    const { checks } = judgeFacts(facts, { ...INPUT, event: '*' });
    expect(checks.find((c) => c.id === 'publication.no_delete')).toMatchObject({
      status: 'warn',
      fixSql: "alter publication supabase_realtime set (publish = 'insert, update, delete');",
    });
    expect(failing(facts, { ...INPUT, event: 'DELETE' })).toEqual(['publication.no_delete']);
  });

  it('a column list that drops the primary key fails; one that drops another column warns', () => {
    expect(
      failing(
        healthyFacts((f) => {
          f.publication!.member!.columns = ['owner', 'room'];
        }),
      ),
    ).toEqual(['publication.column_list']);
    const { checks } = judgeFacts(
      healthyFacts((f) => {
        f.publication!.member!.columns = ['id', 'owner'];
      }),
      INPUT,
    );
    expect(checks.find((c) => c.id === 'publication.column_list')?.status).toBe('warn');
  });

  it('column grants covering the key warn; without the key they fail', () => {
    const partial = healthyFacts((f) => {
      f.grants.tableSelect = false;
      f.grants.selectableColumns = ['id', 'room'];
    });
    expect(judgeFacts(partial, INPUT).checks.find((c) => c.id === 'grant.table_select')?.status).toBe('warn');
    const none = healthyFacts((f) => {
      f.grants.tableSelect = false;
      f.grants.selectableColumns = ['room'];
    });
    expect(failing(none)).toEqual(['grant.table_select']);
  });

  it('a policy for another role only is rls.no_policy, and names whom the policies are for', () => {
    const facts = healthyFacts((f) => {
      f.policies[0]!.appliesToRole = false;
      f.policies[0]!.roles = ['staff'];
      f.row!.visibility = { visible: false, method: 'as_role', error: null };
    });
    expect(failing(facts)).toEqual(['rls.no_policy', 'rls.row_hidden']);
    expect(causeOf(reportFromFacts(facts, INPUT, 'database', undefined, performance.now()))?.id).toBe(
      'rls.no_policy',
    );
    expect(judgeFacts(facts, INPUT).checks.find((c) => c.id === 'rls.no_policy')?.summary).toContain(
      'the SELECT policies are for staff',
    );
  });

  it('the hidden row names the claims that were used, and the reproduction SQL runs as the user', () => {
    const facts = healthyFacts((f) => {
      f.row!.visibility = { visible: false, method: 'as_role', error: null };
    });
    const hidden = judgeFacts(facts, INPUT).checks.find((c) => c.id === 'rls.row_hidden')!;
    expect(hidden.summary).toContain('role member, sub u-1, tenant acme');
    expect(hidden.fixSql).toBe(
      [
        'begin;',
        'set local role member;',
        `select set_config('request.jwt.claims', '{"role":"member","sub":"u-1","tenant":"acme","exp":1}', true);`,
        "select * from app.items where id = '7'; -- must return the row",
        'rollback;',
      ].join('\n'),
    );
  });

  it('a policy that raises is a failing row check with the database error', () => {
    const facts = healthyFacts((f) => {
      f.row!.visibility = { visible: null, method: 'as_role', error: 'permission denied for table members' };
    });
    const finding = judgeFacts(facts, INPUT).checks.find((c) => c.id === 'rls.row_hidden')!;
    expect(finding.status).toBe('fail');
    expect(finding.summary).toContain('permission denied for table members');
  });

  it('replica identity NOTHING on a table published for UPDATE/DELETE fails (Postgres refuses those writes)', () => {
    expect(
      failing(
        healthyFacts((f) => {
          f.table!.replicaIdentity = 'n';
        }),
      ),
    ).toEqual(['replica_identity']);
  });

  it('no primary key: the row cannot be checked and realtime answers Error 400', () => {
    const facts = healthyFacts((f) => {
      f.table!.primaryKey = [];
      f.row = null;
    });
    const report = reportFromFacts(facts, INPUT, 'database', undefined, performance.now());
    expect(causeOf(report)?.id).toBe('primary_key');
    expect(report.skipped).toContainEqual({
      check: 'rls.row_hidden',
      why: 'app.items has no primary key to find the row by',
    });
  });
});

describe('cause order', () => {
  it("names the earliest block on a change's way: publication, then grants, then filter, then policies", () => {
    const facts = healthyFacts((f) => {
      f.publication!.insert = false;
      f.grants.tableSelect = false;
      f.grants.selectableColumns = [];
      f.row!.visibility = { visible: false, method: 'as_role', error: null };
    });
    const report = reportFromFacts(
      facts,
      { ...INPUT, filter: 'room=eq.4' },
      'database',
      undefined,
      performance.now(),
    );
    expect(report.checks.filter((c) => c.status === 'fail').map((c) => c.id)).toEqual([
      'publication.no_insert',
      'grant.table_select',
      'filter.excludes_row',
    ]);
    // The row is not checked against policies the role cannot reach for want of a grant.
    expect(report.skipped.map((s) => s.check)).toContain('rls.row_hidden');
    expect(causeOf(report)?.id).toBe('publication.no_insert');
    expect(CAUSE_ORDER.indexOf('grant.schema_usage')).toBeLessThan(CAUSE_ORDER.indexOf('rls.row_hidden'));
  });
});

describe('subscription filters', () => {
  it.each([
    ['room=eq.3', true],
    ['room=eq.4', false],
    ['room=neq.4', true],
    ['room=gt.2', true],
    ['room=lte.2', false],
    ['room=in.(1,3,5)', true],
    ['room=in.(1,5)', false],
    ['owner=eq.u-1', true],
  ])('%s on room 3, owner u-1 → %s', (filter, expected) => {
    const parsed = parseFilter(filter)!;
    expect(filterMatches(parsed, { id: 7, owner: 'u-1', room: 3 }[parsed.column])).toBe(expected);
  });

  it('a NULL never matches, as in SQL', () => {
    expect(filterMatches(parseFilter('room=neq.4')!, null)).toBe(false);
  });

  it('a filter on a column the table lacks fails with the columns it has', () => {
    const { checks } = judgeFacts(healthyFacts(), { ...INPUT, filter: 'status=eq.open' });
    expect(checks.find((c) => c.id === 'filter.excludes_row')?.summary).toBe(
      'The subscription filters on "status", which app.items does not have (columns: id, owner, room).',
    );
  });

  it('an unreadable filter warns with the accepted form', () => {
    const { checks } = judgeFacts(healthyFacts(), { ...INPUT, filter: 'room>3' });
    expect(checks.find((c) => c.id === 'filter.excludes_row')?.status).toBe('warn');
  });
});

describe('database access', () => {
  const base = { supabaseUrl: 'https://ref.supabase.co', processEnv: {} };
  it("embedded: the stack's own database, described without its password", () => {
    const access = resolveAccess({
      ...base,
      env: 'prod',
      targetKind: 'embedded',
      embeddedDatabaseUrl: 'postgresql://postgres:postgres@127.0.0.1:54322/prod',
    });
    expect(access).toMatchObject({ kind: 'database', via: 'postgres@127.0.0.1:54322/prod' });
  });

  it('external: <ENV>_DATABASE_URL from the environment wins, and its password never shows', () => {
    const url = 'postgresql://postgres.ref:s3cr3t-Pa55word@db.ref.supabase.co:5432/postgres';
    const access = resolveAccess({
      ...base,
      env: 'prod',
      targetKind: 'external',
      serviceRoleKey: 'k',
      processEnv: { PROD_DATABASE_URL: url },
    });
    expect(access.kind).toBe('database');
    expect(JSON.stringify({ ...access, url: undefined })).not.toContain('s3cr3t');
    expect(describeDatabaseUrl(url)).toBe('postgres.ref@db.ref.supabase.co:5432/postgres');
    expect(databaseUrlVariable('staging-eu')).toBe('STAGING_EU_DATABASE_URL');
  });

  it('external without a URL: the RPC with the service role; without a key either: none, saying what to set', () => {
    expect(
      resolveAccess({ ...base, env: 'prod', targetKind: 'external', serviceRoleKey: 'k' }),
    ).toMatchObject({
      kind: 'rpc',
      via: 'https://ref.supabase.co/rest/v1/rpc/realtime_matrix_doctor',
    });
    const none = resolveAccess({ ...base, env: 'prod', targetKind: 'external' });
    expect(none).toEqual({
      kind: 'none',
      why: 'no database access for "prod": set PROD_DATABASE_URL in the environment (a connection string; never in a committed file), or install supabase/doctor/realtime_matrix_doctor.sql and provide the service-role key',
    });
  });
});

describe('secrets', () => {
  it('a <ENV>_DATABASE_URL and its password are known secrets, so no report shows either', () => {
    const url = 'postgresql://postgres.ref:s3cr3t-Pa55word@db.ref.supabase.co:5432/postgres';
    const names = knownSecrets('/nonexistent', { PROD_DATABASE_URL: url }).map((s) => [s.name, s.value]);
    expect(names).toContainEqual(['env PROD_DATABASE_URL', url]);
    expect(names).toContainEqual(['env PROD_DATABASE_URL password', 's3cr3t-Pa55word']);
  });
});

describe('the terminal rendering', () => {
  it('prints status, id and summary per check, next step and SQL for failures, then what was skipped', () => {
    const facts = healthyFacts((f) => {
      f.grants.schemaUsage = false;
    });
    const text = renderReport(
      reportFromFacts(facts, { ...INPUT, filter: undefined }, 'database', 'u@h:1/db', performance.now()),
      'prod member',
    );
    expect(text).toContain('FAIL  grant.schema_usage');
    expect(text).toContain('sql:  grant usage on schema app to member;');
    expect(text).toContain('skip  filter.excludes_row');
    expect(text.split('\n')[0]).toBe('prod member: app.items INSERT as member (database u@h:1/db, 0 ms)');
  });
});
