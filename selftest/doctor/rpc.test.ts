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
