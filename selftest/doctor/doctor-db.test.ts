import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { causeOf } from '../../fixtures/doctor/cause.ts';
import { type DoctorInput, type DoctorReport, runDoctor } from '../../fixtures/doctor/index.ts';
import { freePort } from '../../stack/ports.ts';
import { type Cluster, startCluster } from '../../stack/postgres/cluster.ts';

/**
 * The doctor against a real Postgres 17, each database-level cause made with the plain SQL a team
 * would run by mistake, on a table, schema, role and publication of this test's own (nothing of the
 * demo app): the right finding fails, with the values seen, and every other check holds.
 */
let cluster: Cluster;
let admin: pg.Client;
let db: pg.Client;
const OWNER = '11111111-1111-4111-8111-111111111111';
const STRANGER = '22222222-2222-4222-8222-222222222222';

const SETUP = `
  drop schema if exists rooms cascade;
  drop publication if exists doctor_pub;
  do $$ begin create role doctor_user nologin; exception when duplicate_object then null; end $$;
  create schema rooms;
  revoke all on schema rooms from public;
  grant usage on schema rooms to doctor_user;
  create table rooms.messages (id bigint primary key, room int not null, owner uuid not null, body text);
  grant select on rooms.messages to doctor_user;
  alter table rooms.messages enable row level security;
  create policy "owners read" on rooms.messages for select to doctor_user
    using (owner = (current_setting('request.jwt.claims', true)::jsonb ->> 'sub')::uuid);
  create publication doctor_pub for table rooms.messages;
  insert into rooms.messages values (1, 7, '${OWNER}', 'hello');
`;

function input(over: Partial<DoctorInput> = {}): DoctorInput {
  return {
    table: { schema: 'rooms', name: 'messages' },
    event: 'INSERT',
    role: 'doctor_user',
    claims: { role: 'doctor_user', sub: OWNER },
    row: { id: 1 },
    filter: null,
    publication: 'doctor_pub',
    ...over,
  };
}

function statuses(report: DoctorReport): Record<string, string> {
  return Object.fromEntries(report.checks.map((c) => [c.id, c.status]));
}

function failingIds(report: DoctorReport): string[] {
  return report.checks.filter((c) => c.status === 'fail').map((c) => c.id);
}

beforeAll(async () => {
  cluster = await startCluster({ port: await freePort() });
  admin = new pg.Client({ connectionString: cluster.url() });
  db = new pg.Client({ connectionString: cluster.url() });
  await admin.connect();
  await db.connect();
}, 60_000);

afterAll(async () => {
  await db?.end();
  await admin?.end();
  await cluster?.stop();
});

beforeEach(async () => {
  await admin.query(SETUP);
});

describe('doctor on a healthy table', () => {
  it('reports every check ok, the row visible as the user', async () => {
    const report = await runDoctor(db, input({ filter: 'room=eq.7' }));
    expect(failingIds(report), JSON.stringify(report, null, 2)).toEqual([]);
    expect(statuses(report)).toEqual({
      'publication.missing': 'ok',
      'publication.no_insert': 'ok',
      'publication.column_list': 'ok',
      'publication.row_filter': 'ok',
      'grant.schema_usage': 'ok',
      'grant.table_select': 'ok',
      'rls.disabled': 'ok',
      'rls.no_policy': 'ok',
      'rls.row_hidden': 'ok',
      replica_identity: 'ok',
      primary_key: 'ok',
      'filter.excludes_row': 'ok',
    });
    expect(report.skipped).toEqual([]);
    expect(report.source).toBe('database');
  });

  it('leaves nothing behind: the check as the user is rolled back and the session is itself again', async () => {
    await runDoctor(db, input());
    const { rows } = await db.query('select current_user as who, current_setting($1, true) as claims', [
      'request.jwt.claims',
    ]);
    expect(rows[0]).toEqual({ who: 'postgres', claims: '' });
  });
});

describe('each database-level cause fails its own check', () => {
  const cases: { name: string; sql: string; over?: Partial<DoctorInput>; cause: string; seen: object }[] = [
    {
      name: 'table dropped from the publication',
      sql: 'alter publication doctor_pub drop table rooms.messages',
      cause: 'publication.missing',
      seen: { member: false },
    },
    {
      name: 'publication no longer publishes INSERT',
      sql: "alter publication doctor_pub set (publish = 'update, delete')",
      cause: 'publication.no_insert',
      seen: { publish: ['update', 'delete'] },
    },
    {
      name: 'publication without the publication at all',
      sql: 'drop publication doctor_pub',
      cause: 'publication.missing',
      seen: { exists: false },
    },
    {
      name: 'a row filter on the publication that drops the row',
      sql: 'alter publication doctor_pub set table rooms.messages where (room > 10)',
      cause: 'publication.row_filter',
      seen: { passes: false },
    },
    {
      name: 'SELECT revoked from the role',
      sql: 'revoke select on rooms.messages from doctor_user',
      cause: 'grant.table_select',
      seen: { select: false },
    },
    {
      name: 'schema USAGE revoked from the role',
      sql: 'revoke usage on schema rooms from doctor_user',
      cause: 'grant.schema_usage',
      seen: { usage: false },
    },
    {
      name: 'a policy that hides the row from this user',
      sql: 'select 1',
      over: { claims: { role: 'doctor_user', sub: STRANGER } },
      cause: 'rls.row_hidden',
      seen: { visible: false },
    },
    {
      name: 'no SELECT policy for the role',
      sql: 'drop policy "owners read" on rooms.messages',
      cause: 'rls.no_policy',
      seen: {},
    },
    {
      name: 'a subscription filter the row does not match',
      sql: 'select 1',
      over: { filter: 'room=eq.8' },
      cause: 'filter.excludes_row',
      seen: { column: 'room', value: 7 },
    },
    {
      name: 'a table without a primary key',
      sql: 'alter table rooms.messages drop constraint messages_pkey',
      cause: 'primary_key',
      seen: { primaryKey: [] },
    },
  ];
  for (const c of cases) {
    it(`${c.name} → ${c.cause}`, async () => {
      await admin.query(c.sql);
      const report = await runDoctor(db, input(c.over));
      const why = JSON.stringify(report, null, 2);
      expect(causeOf(report)?.id, why).toBe(c.cause);
      const finding = report.checks.find((f) => f.id === c.cause)!;
      expect(finding.seen, why).toMatchObject(c.seen);
      expect(finding.nextStep, why).toBeTruthy();
    });
  }

  it('publication without INSERT also names the SQL that restores it, keeping what it publishes', async () => {
    await admin.query("alter publication doctor_pub set (publish = 'update, delete')");
    const report = await runDoctor(db, input());
    expect(report.checks.find((c) => c.id === 'publication.no_insert')?.fixSql).toBe(
      "alter publication doctor_pub set (publish = 'insert, update, delete');",
    );
    // The fix really fixes it.
    await admin.query(report.checks.find((c) => c.id === 'publication.no_insert')!.fixSql!);
    expect(failingIds(await runDoctor(db, input()))).toEqual([]);
  });

  it('grants: the fixing SQL is the grant that was revoked, and running it turns the check green', async () => {
    await admin.query(
      'revoke select on rooms.messages from doctor_user; revoke usage on schema rooms from doctor_user',
    );
    const report = await runDoctor(db, input());
    expect(failingIds(report)).toEqual(['grant.schema_usage', 'grant.table_select']);
    expect(report.skipped.map((s) => s.check)).toContain('rls.row_hidden');
    for (const f of report.checks.filter((c) => c.status === 'fail')) await admin.query(f.fixSql!);
    expect(failingIds(await runDoctor(db, input()))).toEqual([]);
  });

  it('RLS off is a warning, and the row is then visible to anyone with the grant', async () => {
    await admin.query('alter table rooms.messages disable row level security');
    const report = await runDoctor(db, input({ claims: { role: 'doctor_user', sub: STRANGER } }));
    expect(statuses(report)).toMatchObject({ 'rls.disabled': 'warn', 'rls.row_hidden': 'ok' });
    expect(failingIds(report)).toEqual([]);
  });

  it('UPDATE subscribers are warned that the old record carries only the key', async () => {
    const report = await runDoctor(db, input({ event: 'UPDATE' }));
    const identity = report.checks.find((c) => c.id === 'replica_identity')!;
    expect(identity.status).toBe('warn');
    expect(identity.fixSql).toBe('alter table rooms.messages replica identity full;');
  });
});

describe('what the doctor cannot check, it says', () => {
  it('without a row: the row checks are skipped with the reason', async () => {
    const report = await runDoctor(db, input({ row: undefined }));
    expect(report.skipped).toEqual([
      { check: 'rls.row_hidden', why: 'no row given: pass the inserted row to check it as the user' },
    ]);
    expect(failingIds(report)).toEqual([]);
  });

  it('a role that does not exist', async () => {
    const report = await runDoctor(db, input({ role: 'nobody_here' }));
    expect(report.skipped.map((s) => s.why)).toContain(
      'the role "nobody_here" does not exist in this database',
    );
  });

  it('a row that is gone', async () => {
    const report = await runDoctor(db, input({ row: { id: 999 } }));
    expect(report.skipped).toContainEqual({
      check: 'rls.row_hidden',
      why: 'no row id = 999 in rooms.messages (deleted before the doctor ran?)',
    });
  });

  it('a table that does not exist', async () => {
    const report = await runDoctor(db, input({ table: { schema: 'rooms', name: 'nope' } }));
    expect(report.skipped[0]).toEqual({ check: 'table', why: 'rooms.nope does not exist' });
  });
});

describe('the preflight test row (inserted, checked as the user, rolled back)', () => {
  const probe = (owner: string, over: Record<string, unknown> = {}) => ({
    id: 42,
    room: 7,
    owner,
    body: '[rtm:doctor] probe',
    ...over,
  });
  const count = async () =>
    Number((await admin.query('select count(*)::int as n from rooms.messages')).rows[0].n);

  it("the user's own row is visible; nothing is committed and the session is itself again", async () => {
    const before = await count();
    const report = await runDoctor(db, input({ row: undefined, probe: probe(OWNER) }));
    expect(failingIds(report), JSON.stringify(report, null, 2)).toEqual([]);
    const check = report.checks.find((c) => c.id === 'rls.row_hidden')!;
    expect(check).toMatchObject({ status: 'ok', seen: { row: { id: 42 }, visible: true } });
    expect(check.summary).toMatch(/^The test row \(id = 42, inserted and rolled back\) is visible/);
    expect(await count()).toBe(before);
    const { rows } = await db.query('select current_user as who, current_setting($1, true) as claims', [
      'request.jwt.claims',
    ]);
    expect(rows[0]).toEqual({ who: 'postgres', claims: '' });
  });

  it('a row the policy hides fails rls.row_hidden, and the reproduction reinserts it and rolls back', async () => {
    const report = await runDoctor(db, input({ row: undefined, probe: probe(STRANGER) }));
    expect(failingIds(report)).toEqual(['rls.row_hidden']);
    const check = report.checks.find((c) => c.id === 'rls.row_hidden')!;
    expect(check.summary).toContain('no USING clause of "owners read" holds for it');
    expect(check.fixSql).toMatch(/^begin;\ninsert into rooms\.messages \(id, room, owner, body\) values/);
    expect(check.fixSql).toMatch(/rollback;$/);
    // The reproduction is real SQL: run as printed, it returns no row (the policy hides it) and keeps nothing.
    const out = await admin.query(check.fixSql!);
    const selected = (out as unknown as pg.QueryResult[]).at(-2)!;
    expect(selected.rows).toEqual([]);
    expect(await count()).toBe(1);
  });

  it('the row filter of the publication is evaluated on the test row', async () => {
    await admin.query('alter publication doctor_pub set table rooms.messages where (room > 10)');
    const report = await runDoctor(db, input({ row: undefined, probe: probe(OWNER) }));
    expect(failingIds(report)).toEqual(['publication.row_filter']);
  });

  it('a test row the table rejects is a skip naming the database error, not a crash', async () => {
    const report = await runDoctor(db, input({ row: undefined, probe: probe(OWNER, { colour: 'red' }) }));
    expect(report.skipped).toContainEqual({
      check: 'rls.row_hidden',
      why: expect.stringMatching(
        /^inserting the test row into rooms\.messages \(rolled back\) failed: column "colour" of relation "messages" does not exist; the matrix's insert of the same row would fail too/,
      ),
    });
    const dup = await runDoctor(db, input({ row: undefined, probe: probe(OWNER, { id: 1 }) }));
    expect(dup.skipped.find((s) => s.check === 'rls.row_hidden')?.why).toMatch(/duplicate key value/);
    expect(await count()).toBe(1);
  });
});
