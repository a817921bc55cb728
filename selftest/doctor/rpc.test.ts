import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openDoctor } from '../../fixtures/doctor/access.ts';
import { RPC_MIGRATION, RpcUnavailable, readFactsByRpc } from '../../fixtures/doctor/facts-rpc.ts';
import { readFacts } from '../../fixtures/doctor/facts-sql.ts';
import type { DoctorInput } from '../../fixtures/doctor/types.ts';
import type { Stack } from '../../stack/index.ts';
import { apiUrl, startTestStack } from '../support/stack.ts';

/**
 * The RPC a team installs for external targets without a connection string: installed from the
 * shipped file into a real project, called through its REST API with the service role, it answers
 * the same facts as a direct connection (row visibility from the policies' expressions), refuses
 * anon and authenticated, and says how to install it when it is missing.
 */
const SQL = readFileSync(join(import.meta.dirname, '..', '..', RPC_MIGRATION), 'utf8');
const OWNER = '11111111-1111-4111-8111-111111111111';
const STRANGER = '22222222-2222-4222-8222-222222222222';
let stack: Stack;
let db: pg.Client;

const SETUP = `
  drop schema if exists rooms cascade;
  create schema rooms;
  grant usage on schema rooms to authenticated;
  create table rooms.messages (id bigint primary key, room int not null, owner uuid not null);
  grant select on rooms.messages to authenticated;
  alter table rooms.messages enable row level security;
  create policy "owners read" on rooms.messages for select to authenticated using (owner = auth.uid());
  create policy "no room 13" on rooms.messages as restrictive for select to authenticated using (room <> 13);
  alter publication supabase_realtime add table rooms.messages;
  insert into rooms.messages values (1, 7, '${OWNER}'), (2, 13, '${OWNER}');
`;

function input(over: Partial<DoctorInput> = {}): DoctorInput {
  return {
    table: { schema: 'rooms', name: 'messages' },
    event: 'INSERT',
    role: 'authenticated',
    claims: { role: 'authenticated', sub: OWNER, aud: 'authenticated' },
    rowId: 1,
    ...over,
  };
}

function rpc(key = stack.local.config.serviceRoleKey) {
  return { supabaseUrl: apiUrl(stack), serviceRoleKey: key, fetch };
}

beforeAll(async () => {
  stack = await startTestStack();
  db = new pg.Client({ connectionString: stack.cluster.url('postgres') });
  await db.connect();
}, 60_000);

afterAll(async () => {
  await db?.end();
  await stack?.stop();
});

beforeEach(async () => {
  await stack.local.ctx.db.admin.query(SETUP);
  await stack.local.ctx.db.admin.query(SQL);
});

describe('the doctor RPC', () => {
  it('answers the facts a direct connection reads, the row visibility from the policy expressions', async () => {
    const direct = await readFacts(db, input());
    const viaRpc = await readFactsByRpc(rpc(), input());
    expect(viaRpc).toEqual({
      ...direct,
      row: {
        ...direct.row!,
        // The RPC takes the id as text.
        key: { id: '1' },
        visibility: { ...direct.row!.visibility!, method: 'policy_expressions' },
      },
    });
    expect(viaRpc.row?.visibility?.visible).toBe(true);
  });

  it.each([
    ['another user', input({ claims: { role: 'authenticated', sub: STRANGER } })],
    ['a row a restrictive policy rejects', input({ rowId: 2 })],
  ])('agrees with the check as the role on %s: hidden', async (_what, given) => {
    expect((await readFacts(db, given)).row?.visibility?.visible).toBe(false);
    expect((await readFactsByRpc(rpc(), given)).row?.visibility?.visible).toBe(false);
  });

  it('sees a revoked grant and a publication without INSERT, as the doctor reports them', async () => {
    await stack.local.ctx.db.admin.query('revoke select on rooms.messages from authenticated');
    const doctor = openDoctor({ kind: 'rpc', ...rpc(), via: 'rpc' });
    const report = await doctor.run(input());
    expect(report.source).toBe('rpc');
    expect(report.checks.filter((c) => c.status === 'fail').map((c) => c.id)).toEqual(['grant.table_select']);
    await stack.local.ctx.db.admin.query(
      "grant select on rooms.messages to authenticated; alter publication supabase_realtime set (publish = 'update, delete')",
    );
    try {
      const again = await doctor.run(input());
      expect(again.checks.filter((c) => c.status === 'fail').map((c) => c.id)).toEqual([
        'publication.no_insert',
      ]);
    } finally {
      await stack.local.ctx.db.admin.query(
        "alter publication supabase_realtime set (publish = 'insert, update, delete, truncate')",
      );
    }
  });

  it('is executable by service_role only', async () => {
    const { rows } = await db.query(
      `select r, has_function_privilege(r, 'public.realtime_matrix_doctor(text, text, text, jsonb, jsonb, text, text)', 'EXECUTE') as may
         from unnest(array['anon', 'authenticated', 'service_role']) r`,
    );
    expect(rows).toEqual([
      { r: 'anon', may: false },
      { r: 'authenticated', may: false },
      { r: 'service_role', may: true },
    ]);
    await expect(readFactsByRpc(rpc(stack.local.config.anonKey), input())).rejects.toThrow(RpcUnavailable);
  });

  it('missing: the doctor skips, saying which file to install', async () => {
    await stack.local.ctx.db.admin.query(
      'drop function public.realtime_matrix_doctor(text, text, text, jsonb, jsonb, text, text)',
    );
    const report = await openDoctor({ kind: 'rpc', ...rpc(), via: 'the rpc' }).run(input());
    expect(report.source).toBe('none');
    expect(report.checks).toEqual([]);
    expect(report.skipped[0]?.why).toContain(`The function is not installed: apply ${RPC_MIGRATION}`);
    expect(JSON.stringify(report)).not.toContain(stack.local.config.serviceRoleKey);
  });
});

/**
 * Broadcast from Database over the RPC: a trigger that sends through a helper, and a SELECT policy
 * on realtime.messages by room membership. The RPC's facts agree with the direct connection's on the
 * triggers, the policies and the answers of the read and write checks; only firing the trigger (the
 * direct connection's rolled-back write) is left out, and the report says so.
 */
const BROADCAST_SETUP = `
  drop schema if exists talk cascade;
  do $$ declare p record; begin
    for p in select policyname from pg_policies where schemaname = 'realtime' and tablename = 'messages' loop
      execute format('drop policy %I on realtime.messages', p.policyname);
    end loop;
  end $$;
  create schema talk;
  grant usage on schema talk to authenticated;
  create table talk.members (user_id uuid not null, room int not null);
  grant select on talk.members to authenticated;
  create table talk.posts (id bigint primary key, room int not null, body text);
  create function talk.send_room(p_room int, p_op text, p_row jsonb) returns void
  language plpgsql set search_path = '' as $$
  begin perform realtime.send(p_row, p_op, 'room:' || p_room, true); end $$;
  create function talk.post_changed() returns trigger
  language plpgsql security definer set search_path = '' as $$
  begin perform talk.send_room(new.room, tg_op, to_jsonb(new)); return null; end $$;
  create trigger post_changed after insert on talk.posts for each row execute function talk.post_changed();
  create policy "members hear rooms" on realtime.messages for select to authenticated
    using (exists (select 1 from talk.members m where m.user_id = auth.uid() and 'room:' || m.room = realtime.topic()));
  create policy "members send" on realtime.messages for insert to authenticated
    with check (extension = 'broadcast' and exists (select 1 from talk.members m
                 where m.user_id = auth.uid() and 'room:' || m.room = realtime.topic()));
  insert into talk.members values ('${OWNER}', 7);
  insert into talk.posts values (1, 7, 'hello');
`;

function broadcastInput(over: Partial<DoctorInput> = {}, topic = 'room:7'): DoctorInput {
  return {
    table: { schema: 'talk', name: 'posts' },
    event: 'INSERT',
    role: 'authenticated',
    claims: { role: 'authenticated', sub: OWNER, aud: 'authenticated', exp: 1_900_000_000.4 },
    rowId: 1,
    broadcast: { topic, event: 'INSERT', private: true, writeAs: 'authenticated', presence: true },
    ...over,
  };
}

describe('the doctor RPC for Broadcast from Database', () => {
  beforeEach(async () => {
    await stack.local.ctx.db.admin.query(BROADCAST_SETUP);
  });

  it('answers the facts a direct connection reads, except the firing, with the checks from the policy expressions', async () => {
    const given = broadcastInput();
    const direct = (await readFacts(db, given)).broadcast!;
    const viaRpc = (await readFactsByRpc(rpc(), given)).broadcast!;
    expect(viaRpc.triggers).toEqual(direct.triggers);
    expect(viaRpc.triggers[0]).toMatchObject({ function: 'talk.post_changed', via: ['talk.send_room'] });
    expect(viaRpc.policies).toEqual(direct.policies);
    expect(viaRpc.messagesTable).toBe(true);
    expect(viaRpc.writerBypassesRls).toBe(direct.writerBypassesRls);
    expect(viaRpc.read).toEqual({ ...direct.read, method: 'policy_expressions' });
    expect(viaRpc.write).toEqual({ ...direct.write, method: 'policy_expressions' });
    // Read and write both admitted for broadcast; presence read admitted, presence write refused.
    expect(viaRpc.read).toMatchObject({ allowed: true, presence: true });
    expect(viaRpc.write).toMatchObject({ allowed: true, presence: false });
    expect(direct.fired).not.toBeNull();
    expect(viaRpc.fired).toBeNull();
  });

  it.each([
    ['a user who is no member', broadcastInput({ claims: { role: 'authenticated', sub: STRANGER } })],
    ['another room', broadcastInput({}, 'room:8')],
    ['anon', broadcastInput({ role: 'anon', claims: { role: 'anon' } })],
  ])('agrees with the probes as the role for %s: refused', async (_what, given) => {
    const direct = (await readFacts(db, given)).broadcast!;
    const viaRpc = (await readFactsByRpc(rpc(), given)).broadcast!;
    expect(direct.read?.allowed).toBe(false);
    expect(viaRpc.read?.allowed).toBe(false);
    expect(viaRpc.write?.allowed).toBe(direct.write?.allowed);
  });

  it("a policy whose cast of the topic fails: the same SQLSTATE and message as the join's probe", async () => {
    await stack.local.ctx.db.admin.query(`create policy "numbered" on realtime.messages for select to authenticated
      using (split_part(realtime.topic(), ':', 2)::int > 0 and realtime.topic() like 'num:%')`);
    const given = broadcastInput({}, 'room:x');
    const direct = (await readFacts(db, given)).broadcast!;
    const viaRpc = (await readFactsByRpc(rpc(), given)).broadcast!;
    expect(direct.read?.error).toMatch(/^22P02 invalid input syntax for type integer: "x"/);
    expect(viaRpc.read).toEqual({ allowed: null, error: direct.read?.error, method: 'policy_expressions' });
  });

  it('the report: a stranger is refused by broadcast.read_denied; the firing checks are skipped with why', async () => {
    const doctor = openDoctor({ kind: 'rpc', ...rpc(), via: 'rpc' });
    const report = await doctor.run(broadcastInput({ claims: { role: 'authenticated', sub: STRANGER } }));
    expect(report.source).toBe('rpc');
    expect(report.checks.filter((c) => c.status === 'fail').map((c) => c.id)).toEqual([
      'broadcast.read_denied',
    ]);
    expect(report.checks.find((c) => c.id === 'broadcast.read_denied')?.summary).toContain(
      "evaluated from the policies' expressions",
    );
    expect(report.checks.find((c) => c.id === 'broadcast.no_trigger')?.summary).toContain(
      'talk.post_changed() → talk.send_room() (calls realtime.send)',
    );
    expect(report.skipped.map((s) => s.check)).toContain('broadcast.topic_mismatch');
    await doctor.close();
  });

  it('an install from before the Broadcast function: the broadcast checks are skipped, saying what to reinstall', async () => {
    await stack.local.ctx.db.admin.query(
      'drop function public.realtime_matrix_doctor_broadcast(text, text, text, jsonb, text, text[], boolean, text, jsonb)',
    );
    const report = await openDoctor({ kind: 'rpc', ...rpc(), via: 'rpc' }).run(broadcastInput());
    expect(report.checks).toEqual([]);
    expect(report.skipped).toEqual([
      { check: 'broadcast', why: expect.stringContaining(`reinstall ${RPC_MIGRATION}`) },
    ]);
  });

  it('is executable by service_role only', async () => {
    const { rows } = await db.query(
      `select r, has_function_privilege(r, 'public.realtime_matrix_doctor_broadcast(text, text, text, jsonb, text, text[], boolean, text, jsonb)', 'EXECUTE') as may
         from unnest(array['anon', 'authenticated', 'service_role']) r`,
    );
    expect(rows).toEqual([
      { r: 'anon', may: false },
      { r: 'authenticated', may: false },
      { r: 'service_role', may: true },
    ]);
  });
});
