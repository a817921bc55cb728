import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { causeOf } from '../../fixtures/doctor/cause.ts';
import { type DoctorInput, type DoctorReport, runDoctor } from '../../fixtures/doctor/index.ts';
import { doctorInput, withDoctor } from '../../fixtures/ladder/doctor-seam.ts';
import { judgeCell } from '../../fixtures/ladder/judge.ts';
import type { CellEvidence } from '../../fixtures/ladder/recorded.ts';
import type { Target } from '../../fixtures/target.ts';
import { freePort } from '../../stack/ports.ts';
import { type Cluster, startCluster } from '../../stack/postgres/cluster.ts';
import { migrate } from '../../stack/postgres/migrate.ts';
import { frame, healthyEvidence, socket, userToken } from '../matrix/support/evidence-builder.ts';
// Registers the realtime schema (realtime.messages, topic(), send(), broadcast_changes()) with migrate.
import '../../stack/realtime/db-broadcast/index.ts';

/**
 * The doctor's Broadcast from Database checks against a real Postgres 17 bootstrapped as the
 * embedded stack bootstraps a project (Supabase roles, auth, the realtime schema), with a small
 * schema of this test's own: a table whose trigger calls realtime.broadcast_changes, and a SELECT
 * policy on realtime.messages by room membership. Each mistake is made with the SQL a team would
 * run; the right finding fails with the values seen, the healthy case passes.
 */
let cluster: Cluster;
let admin: pg.Client;
let db: pg.Client;
let emptyApp: string;
const MEMBER = '33333333-3333-4333-8333-333333333333';

const SETUP = `
  drop schema if exists chatroom cascade;
  do $$ declare p record; begin
    for p in select policyname from pg_policies where schemaname = 'realtime' and tablename = 'messages' loop
      execute format('drop policy %I on realtime.messages', p.policyname);
    end loop;
  end $$;
  create schema chatroom;
  grant usage on schema chatroom to anon, authenticated, service_role;
  create table chatroom.members (user_id uuid not null, room int not null);
  grant select on chatroom.members to authenticated;
  create table chatroom.posts (id bigint primary key, room int not null, body text);
  grant select, insert, update, delete on chatroom.posts to authenticated, service_role;
  create function chatroom.post_broadcast() returns trigger
  language plpgsql security definer set search_path = '' as $$
  begin
    perform realtime.broadcast_changes('room:' || coalesce(new.room, old.room)::text, tg_op, tg_op,
      tg_table_name, tg_table_schema, new, old);
    return null;
  end $$;
  create trigger post_broadcast after insert or update or delete on chatroom.posts
    for each row execute function chatroom.post_broadcast();
  create policy "members hear rooms" on realtime.messages for select to authenticated
    using (exists (select 1 from chatroom.members m
                    where m.user_id = auth.uid() and 'room:' || m.room = realtime.topic()));
  insert into chatroom.members values ('${MEMBER}', 7);
  insert into chatroom.posts values (1, 7, 'hello');
`;

function input(over: Partial<DoctorInput['broadcast']> = {}, rest: Partial<DoctorInput> = {}): DoctorInput {
  return {
    table: { schema: 'chatroom', name: 'posts' },
    event: 'INSERT',
    role: 'authenticated',
    claims: { role: 'authenticated', sub: MEMBER, exp: 1_900_000_000.4 },
    rowId: 1,
    broadcast: {
      topic: 'room:7',
      event: 'INSERT',
      private: true,
      writeAs: 'service_role',
      privateOnly: false,
      ...over,
    },
    ...rest,
  };
}

function statuses(report: DoctorReport): Record<string, string> {
  return Object.fromEntries(report.checks.map((c) => [c.id, c.status]));
}

function failing(report: DoctorReport): string[] {
  return report.checks.filter((c) => c.status === 'fail').map((c) => c.id);
}

function finding(report: DoctorReport, id: string) {
  const found = report.checks.find((c) => c.id === id);
  if (!found) throw new Error(`no ${id} in ${JSON.stringify(report, null, 2)}`);
  return found;
}

beforeAll(async () => {
  cluster = await startCluster({ port: await freePort() });
  emptyApp = await mkdtemp(join(tmpdir(), 'rtm-doctor-app-'));
  await migrate(cluster.url(), emptyApp);
  admin = new pg.Client({ connectionString: cluster.url() });
  db = new pg.Client({ connectionString: cluster.url() });
  await admin.connect();
  await db.connect();
}, 60_000);

afterAll(async () => {
  await db?.end();
  await admin?.end();
  await cluster?.stop();
  if (emptyApp) await rm(emptyApp, { recursive: true, force: true });
});

beforeEach(async () => {
  await admin.query(SETUP);
});

describe('a healthy Broadcast from Database table', () => {
  it('passes every broadcast check, and only those (no publication or table-policy checks)', async () => {
    const report = await runDoctor(db, input());
    expect(failing(report), JSON.stringify(report, null, 2)).toEqual([]);
    expect(statuses(report)).toEqual({
      'broadcast.private_only': 'ok',
      'broadcast.read_denied': 'ok',
      // Nobody may send on the topic; this cell only listens, so that is information, not a cause.
      'broadcast.no_write_policy': 'warn',
      'broadcast.no_trigger': 'ok',
      'broadcast.trigger_disabled': 'ok',
      'broadcast.not_security_definer': 'ok',
      'broadcast.nothing_sent': 'ok',
      'broadcast.topic_mismatch': 'ok',
      'broadcast.private_mismatch': 'ok',
      'broadcast.event_mismatch': 'ok',
    });
    expect(finding(report, 'broadcast.no_trigger').summary).toContain(
      'Trigger "post_broadcast" → chatroom.post_broadcast() (calls realtime.broadcast_changes)',
    );
    expect(finding(report, 'broadcast.topic_mismatch').seen).toEqual({
      triggerTopics: ['room:7'],
      joinedTopic: 'room:7',
    });
    expect(report.input.broadcast).toMatchObject({ topic: 'room:7', private: true });
  });

  it('leaves nothing behind: no message, the row intact, the session itself again', async () => {
    const count = async () =>
      (await admin.query('select count(*)::int as n from realtime.messages')).rows[0].n;
    const before = await count();
    await runDoctor(db, input({}, { event: 'INSERT' }));
    await runDoctor(db, input({}, { event: 'UPDATE' }));
    await runDoctor(db, input({}, { event: 'DELETE' }));
    expect(await count()).toBe(before);
    expect((await admin.query('select id, room, body from chatroom.posts')).rows).toEqual([
      { id: '1', room: 7, body: 'hello' },
    ]);
    const { rows } = await db.query(
      `select current_user as who, current_setting('realtime.topic', true) as topic`,
    );
    expect(rows[0]).toEqual({ who: 'postgres', topic: '' });
  });

  it('fires the trigger for the operation asked about (UPDATE and DELETE reach the topic too)', async () => {
    for (const event of ['UPDATE', 'DELETE'] as const) {
      const report = await runDoctor(db, input({ event }, { event }));
      expect(failing(report), event).toEqual([]);
      expect(finding(report, 'broadcast.nothing_sent').summary).toContain(`firing its ${event} triggers`);
    }
  });
});

describe('each Broadcast mistake fails its own check, with the values seen', () => {
  it('no trigger: broadcast.no_trigger, with the SQL of the documented shape', async () => {
    await admin.query('drop trigger post_broadcast on chatroom.posts');
    const report = await runDoctor(db, input());
    expect(failing(report)).toEqual(['broadcast.no_trigger']);
    expect(causeOf(report)?.id).toBe('broadcast.no_trigger');
    expect(finding(report, 'broadcast.no_trigger').fixSql).toContain(
      "perform realtime.broadcast_changes('room:' ||",
    );
  });

  it('a trigger on UPDATE only is no trigger for INSERT, and says which events it has', async () => {
    await admin.query(`drop trigger post_broadcast on chatroom.posts;
      create trigger post_broadcast after update on chatroom.posts for each row execute function chatroom.post_broadcast();`);
    const report = await runDoctor(db, input());
    expect(failing(report)).toEqual(['broadcast.no_trigger']);
    expect(finding(report, 'broadcast.no_trigger').summary).toContain('"post_broadcast" ROW UPDATE');
  });

  it('disabled trigger: broadcast.trigger_disabled names it and the statement that enables it', async () => {
    await admin.query('alter table chatroom.posts disable trigger post_broadcast');
    const report = await runDoctor(db, input());
    expect(causeOf(report)?.id).toBe('broadcast.trigger_disabled');
    const f = finding(report, 'broadcast.trigger_disabled');
    expect(f).toMatchObject({
      status: 'fail',
      seen: { triggers: [{ name: 'post_broadcast', function: 'chatroom.post_broadcast', enabled: 'D' }] },
      fixSql: 'alter table chatroom.posts enable trigger post_broadcast;',
    });
    // Disabled, it sends nothing: the firing finds no message.
    expect(finding(report, 'broadcast.nothing_sent').status).toBe('fail');
  });

  it('function not security definer, written as authenticated: fails; as service_role: holds; unknown writer: warns', async () => {
    await admin.query('alter function chatroom.post_broadcast() security invoker');
    const asUser = await runDoctor(db, input({ writeAs: 'authenticated' }));
    expect(causeOf(asUser)?.id).toBe('broadcast.not_security_definer');
    const f = finding(asUser, 'broadcast.not_security_definer');
    expect(f.status).toBe('fail');
    expect(f.summary).toContain('chatroom.post_broadcast() is not security definer');
    expect(f.summary).toMatch(
      /inserting the trigger's message as authenticated fails \(42501 new row violates row-level security policy/,
    );
    expect(f.seen).toMatchObject({ writeAs: 'authenticated', writerBypassesRls: false });
    expect(f.fixSql).toBe('alter function chatroom.post_broadcast security definer;');

    const asService = await runDoctor(db, input({ writeAs: 'service_role' }));
    expect(finding(asService, 'broadcast.not_security_definer').status).toBe('ok');
    const unknown = await runDoctor(db, input({ writeAs: undefined }));
    expect(finding(unknown, 'broadcast.not_security_definer').status).toBe('warn');
    expect(failing(unknown)).toEqual([]);

    // A user writer with an INSERT policy that admits the trigger's message is fine without definer.
    await admin.query(`create policy "members send" on realtime.messages for insert to authenticated
      with check (realtime.topic() = 'room:7')`);
    const admitted = await runDoctor(db, input({ writeAs: 'authenticated' }));
    expect(finding(admitted, 'broadcast.not_security_definer').status).toBe('ok');
    expect(finding(admitted, 'broadcast.no_write_policy').status).toBe('ok');
  });

  it('no SELECT policy for the role: broadcast.read_denied names the policies that exist, for whom', async () => {
    await admin.query(`drop policy "members hear rooms" on realtime.messages;
      create policy "anon hears lobby" on realtime.messages for select to anon using (realtime.topic() = 'lobby')`);
    const report = await runDoctor(db, input());
    expect(failing(report)).toEqual(['broadcast.read_denied']);
    const f = finding(report, 'broadcast.read_denied');
    expect(f.summary).toContain(
      'no SELECT policy on realtime.messages applies to authenticated (the SELECT policies "anon hears lobby" are for anon)',
    );
    expect(f.seen).toMatchObject({ topic: 'room:7', role: 'authenticated', broadcastRead: false });
    expect(f.fixSql).toContain('on realtime.messages for select to authenticated');
  });

  it('a user who is not a member is refused by the same policy the join runs', async () => {
    const report = await runDoctor(
      db,
      input({}, { claims: { role: 'authenticated', sub: '44444444-4444-4444-8444-444444444444' } }),
    );
    expect(failing(report)).toEqual(['broadcast.read_denied']);
    expect(finding(report, 'broadcast.read_denied').summary).toContain(
      `no USING clause of "members hear rooms" holds for the probe row (topic 'room:7', extension 'broadcast')`,
    );
  });

  it('a policy on event never holds at join (event is NULL in the probe row), and says so', async () => {
    await admin.query(`drop policy "members hear rooms" on realtime.messages;
      create policy "inserts only" on realtime.messages for select to authenticated using (event = 'INSERT')`);
    const report = await runDoctor(db, input());
    expect(finding(report, 'broadcast.read_denied').summary).toContain(
      `"inserts only" read event, payload or private, which are NULL/false in the join's probe row`,
    );
  });

  it("a policy casting realtime.topic() that does not parse: broadcast.policy_error names Postgres's error", async () => {
    await admin.query(`drop policy "members hear rooms" on realtime.messages;
      create policy "room by uuid" on realtime.messages for select to authenticated
        using ((split_part(realtime.topic(), ':', 2))::uuid is not null)`);
    const report = await runDoctor(db, input());
    expect(failing(report)).toEqual(['broadcast.policy_error']);
    const f = finding(report, 'broadcast.policy_error');
    expect(f.seen['error']).toBe('22P02 invalid input syntax for type uuid: "7"');
    expect(f.summary).toContain("a policy casts part of realtime.topic() = 'room:7'");
    expect(f.seen['policies']).toMatchObject([{ name: 'room by uuid' }]);
  });

  it("trigger topic 'rooms:' vs joined 'room:': broadcast.topic_mismatch with both values", async () => {
    await admin.query(`create or replace function chatroom.post_broadcast() returns trigger
      language plpgsql security definer set search_path = '' as $$
      begin
        perform realtime.broadcast_changes('rooms:' || coalesce(new.room, old.room)::text, tg_op, tg_op,
          tg_table_name, tg_table_schema, new, old);
        return null;
      end $$`);
    const report = await runDoctor(db, input());
    expect(failing(report)).toEqual(['broadcast.topic_mismatch']);
    expect(finding(report, 'broadcast.topic_mismatch')).toMatchObject({
      seen: { triggerTopics: ['rooms:7'], joinedTopic: 'room:7' },
    });
    expect(finding(report, 'broadcast.topic_mismatch').summary).toContain(
      "The trigger sends the row to 'rooms:7', the portal joined 'room:7'",
    );
  });

  it('trigger sends private, portal joins public: broadcast.private_mismatch (and no read check for public)', async () => {
    const report = await runDoctor(db, input({ private: false }));
    expect(failing(report)).toEqual(['broadcast.private_mismatch']);
    expect(finding(report, 'broadcast.private_mismatch').seen).toMatchObject({
      triggerPrivate: [true],
      joinPrivate: false,
    });
    expect(report.skipped.map((s) => s.check)).toContain('broadcast.read_denied');
  });

  it('realtime.send(…, false) while the portal joins private: the other direction', async () => {
    await admin.query(`create or replace function chatroom.post_broadcast() returns trigger
      language plpgsql security definer set search_path = '' as $$
      begin
        perform realtime.send(to_jsonb(new), 'INSERT', 'room:' || new.room::text, false);
        return null;
      end $$`);
    const report = await runDoctor(db, input());
    expect(failing(report)).toEqual(['broadcast.private_mismatch']);
    expect(finding(report, 'broadcast.no_trigger').summary).toContain('calls realtime.send');
  });

  it('a listened event the trigger never sends: broadcast.event_mismatch', async () => {
    const report = await runDoctor(db, input({ event: 'new_post' }));
    expect(failing(report)).toEqual(['broadcast.event_mismatch']);
    expect(finding(report, 'broadcast.event_mismatch').seen).toEqual({
      triggerEvents: ['INSERT'],
      listened: 'new_post',
    });
  });

  it('private only, portal joins public: broadcast.private_only is the cause; unknown setting is skipped with why', async () => {
    const report = await runDoctor(db, input({ private: false, privateOnly: true }));
    expect(causeOf(report)?.id).toBe('broadcast.private_only');
    expect(finding(report, 'broadcast.private_only').summary).toContain(
      'PrivateOnly: This project only allows private channels',
    );
    const external = await runDoctor(
      db,
      input({
        private: false,
        privateOnly: undefined,
        privateOnlyUnknown: 'an external project: not readable',
      }),
    );
    expect(external.skipped).toContainEqual({
      check: 'broadcast.private_only',
      why: 'an external project: not readable',
    });
  });
});

/** The trigger hands the send to a helper of the app's: the doctor follows the call. */
const VIA_HELPER = `
  drop trigger post_broadcast on chatroom.posts;
  create function chatroom.notify_room(p_room int, p_op text, p_row jsonb) returns void
  language plpgsql set search_path = '' as $$
  begin
    perform realtime.send(p_row, p_op, 'room:' || p_room, true);
  end $$;
  create function chatroom.post_notify() returns trigger
  language plpgsql security definer set search_path = '' as $$
  begin
    perform chatroom.notify_room(coalesce(new.room, old.room), tg_op, to_jsonb(coalesce(new, old)));
    return null;
  end $$;
  create trigger post_notify after insert or update or delete on chatroom.posts
    for each row execute function chatroom.post_notify();
`;

describe('a trigger that sends through a helper function of the app', () => {
  it('is found through the call, and the healthy table passes with the chain named', async () => {
    await admin.query(VIA_HELPER);
    const report = await runDoctor(db, input({ writeAs: 'authenticated' }));
    expect(failing(report), JSON.stringify(report.checks, null, 2)).toEqual([]);
    expect(finding(report, 'broadcast.no_trigger').summary).toContain(
      'Trigger "post_notify" → chatroom.post_notify() → chatroom.notify_room() (calls realtime.send)',
    );
    // The definer trigger function makes the invoker helper's send its owner's (postgres).
    expect(finding(report, 'broadcast.not_security_definer').status).toBe('ok');
    expect(finding(report, 'broadcast.topic_mismatch').seen).toEqual({
      triggerTopics: ['room:7'],
      joinedTopic: 'room:7',
    });
  });

  it('neither function security definer, written as the user: the chain is named, the fix is the trigger function', async () => {
    await admin.query(`${VIA_HELPER} alter function chatroom.post_notify() security invoker;`);
    const report = await runDoctor(db, input({ writeAs: 'authenticated' }));
    expect(causeOf(report)?.id).toBe('broadcast.not_security_definer');
    const f = finding(report, 'broadcast.not_security_definer');
    expect(f.summary).toContain('chatroom.post_notify() → chatroom.notify_room() are not security definer');
    expect(f.fixSql).toBe('alter function chatroom.post_notify security definer;');
  });

  it('a security definer helper decides for an invoker trigger function', async () => {
    await admin.query(`${VIA_HELPER}
      alter function chatroom.post_notify() security invoker;
      alter function chatroom.notify_room(int, text, jsonb) security definer;`);
    const report = await runDoctor(db, input({ writeAs: 'authenticated' }));
    expect(failing(report), JSON.stringify(report.checks, null, 2)).toEqual([]);
    expect(finding(report, 'broadcast.not_security_definer').seen).toMatchObject({
      functions: [
        { function: 'chatroom.post_notify', definerFunction: 'chatroom.notify_room', securityDefiner: true },
      ],
    });
  });

  it('a helper that does not reach realtime is no broadcast trigger', async () => {
    await admin.query(`${VIA_HELPER}
      create or replace function chatroom.notify_room(p_room int, p_op text, p_row jsonb) returns void
      language plpgsql set search_path = '' as $$ begin perform pg_notify('room', p_op); end $$;`);
    const report = await runDoctor(db, input());
    expect(failing(report)).toEqual(['broadcast.no_trigger']);
  });
});

/**
 * A recorded broadcast cell, as the ladder hands it to the doctor: a join of `realtime:room:7` with
 * the user's token and the row (posts id 1) that never arrived, or a join the read check refused.
 */
async function broadcastCell(
  opts: { sub?: string; private?: boolean; reply?: { status: 'ok' | 'error'; response: unknown } } = {},
): Promise<CellEvidence> {
  const e = await healthyEvidence();
  const wire = 'realtime:room:7';
  const token = await userToken({ sub: opts.sub ?? MEMBER });
  const reply = opts.reply ?? { status: 'ok', response: { postgres_changes: [] } };
  const join = frame('sent', 2060, [
    '6',
    '6',
    wire,
    'phx_join',
    {
      config: {
        broadcast: { ack: false, self: false },
        presence: { key: '', enabled: false },
        postgres_changes: [],
        private: opts.private ?? true,
      },
      access_token: token,
    },
  ]);
  return {
    ...e,
    channelTopic: undefined,
    table: { schema: 'chatroom', name: 'posts', primaryKey: ['id'] },
    changes: { kind: 'broadcast', topic: 'room:7', event: 'INSERT', private: true },
    sockets: [socket([join, frame('received', 2110, ['6', '6', wire, 'phx_reply', reply])])],
    inserts: reply.status === 'ok' ? [{ rowId: '1', sentAtMs: 2150, ackAtMs: 2190 }] : [],
  };
}

describe('the seam: a failing broadcast cell gets the broadcast report', () => {
  let runtimeDir: string;
  let before: string | undefined;
  const target = { env: 'local', targetKind: 'embedded', secrets: [] } as unknown as Target;

  beforeAll(async () => {
    runtimeDir = await mkdtemp(join(tmpdir(), 'rtm-doctor-runtime-'));
    const file = join(runtimeDir, 'runtime.json');
    const env = {
      targetKind: 'embedded',
      supabaseUrl: 'http://127.0.0.1:1',
      anonKey: 'anon',
      serviceRoleKey: 'service',
      dbUrl: cluster.url(),
      portals: {},
      users: {},
    };
    await writeFile(file, JSON.stringify({ version: 1, pid: process.pid, envs: { local: env } }));
    before = process.env['RTM_RUNTIME_FILE'];
    process.env['RTM_RUNTIME_FILE'] = file;
  });

  afterAll(async () => {
    if (before === undefined) delete process.env['RTM_RUNTIME_FILE'];
    else process.env['RTM_RUNTIME_FILE'] = before;
    await rm(runtimeDir, { recursive: true, force: true });
  });

  it("hands over the join's sub-topic, private, the listened event, the writer and the missing row", async () => {
    const input = doctorInput(await broadcastCell());
    expect(input).toMatchObject({
      table: { schema: 'chatroom', name: 'posts' },
      role: 'authenticated',
      rowId: '1',
      joined: true,
      broadcast: { topic: 'room:7', event: 'INSERT', private: true, writeAs: 'service_role', headers: {} },
    });
    expect(input.filter).toBeUndefined();
    const publicJoin = doctorInput(await broadcastCell({ private: false }));
    expect(publicJoin.broadcast).toMatchObject({ private: false, privateOnly: false });
    const refused = doctorInput(
      await broadcastCell({
        private: false,
        reply: {
          status: 'error',
          response: { reason: 'PrivateOnly: This project only allows private channels' },
        },
      }),
    );
    expect(refused.broadcast).toMatchObject({ private: false, privateOnly: true });
  });

  it('NO_EVENT with the trigger sending to another topic: the cause is broadcast.topic_mismatch', async () => {
    await admin.query(`create or replace function chatroom.post_broadcast() returns trigger
      language plpgsql security definer set search_path = '' as $$
      begin
        perform realtime.broadcast_changes('rooms:' || new.room::text, tg_op, tg_op, tg_table_name,
          tg_table_schema, new, old);
        return null;
      end $$`);
    const e = await broadcastCell();
    const judged = judgeCell(e);
    expect(judged.verdict).toBe('NO_EVENT');
    const result = await withDoctor(judged, e, target);
    expect(result.doctor?.source).toBe('database');
    expect(result.doctor?.checks.map((c) => c.id).every((id) => id.startsWith('broadcast.'))).toBe(true);
    expect(result.cause).toContain(
      "Doctor (broadcast.topic_mismatch): The trigger sends the row to 'rooms:7'",
    );
    expect(result.stages.find((s) => s.stage === 'event_delivered')?.evidence['doctor']).toMatchObject({
      cause: 'broadcast.topic_mismatch',
      failing: ['broadcast.topic_mismatch'],
    });
  });

  it('JOIN_UNAUTHORIZED for a user who is no member: the cause is broadcast.read_denied', async () => {
    const e = await broadcastCell({
      sub: '55555555-5555-4555-8555-555555555555',
      reply: {
        status: 'error',
        response: {
          reason: 'Unauthorized: You do not have permissions to read from this Channel topic: room:7',
        },
      },
    });
    const judged = judgeCell(e);
    expect(judged.verdict).toBe('JOIN_UNAUTHORIZED');
    const result = await withDoctor(judged, e, target);
    expect(result.doctor?.input.broadcast).toMatchObject({ topic: 'room:7', private: true });
    expect(result.cause).toContain('Doctor (broadcast.read_denied)');
    expect(result.nextStep).toContain('Fix the SELECT policy so it holds for topic');
  });

  it('a healthy broadcast cell that failed for other reasons gets no doctor cause', async () => {
    const e = await broadcastCell();
    const result = await withDoctor(judgeCell(e), e, target);
    expect(result.doctor?.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(result.cause).not.toContain('Doctor (');
  });
});
