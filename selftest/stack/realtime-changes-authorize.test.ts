/**
 * The authorization round trip's session state: claims registered once per database session (and
 * re-sent when a session lacks them), the PK lookup prepared once per session, and privileges and
 * policies still read live on every call (a run-time REVOKE applies to the next change).
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../stack/index.ts';
import { type AuthorizeRequest, authorize } from '../../stack/realtime/changes/authorize.ts';
import { Catalog, type TableMeta } from '../../stack/realtime/changes/catalog.ts';
import { startTestStack } from '../support/stack.ts';
import { claimsFor } from './realtime-changes-support.ts';

let stack: Stack;
/** One connection, so "this session" is unambiguous. */
let pool: pg.Pool;
let meta: TableMeta;
const sql = (text: string, values?: unknown[]) => stack.local.ctx.db.admin.query(text, values);

const ALICE = randomUUID();
const BOB = randomUUID();
const alice = claimsFor('authenticated', ALICE);
const bob = claimsFor('authenticated', BOB);

function request(claims: AuthorizeRequest['claims'], rowId: number): AuthorizeRequest {
  return {
    table: meta,
    roles: ['authenticated'],
    claims,
    pkValues: [String(rowId)],
    checkRows: true,
    xid: null as unknown as number,
    casts: [],
  };
}

beforeAll(async () => {
  stack = await startTestStack();
  await sql(`
    create table public.rta_private (id int primary key, owner uuid, secret text);
    alter table public.rta_private enable row level security;
    create policy "own rows" on public.rta_private for select to authenticated using (owner = auth.uid());
    insert into public.rta_private values (1, '${ALICE}', 's1'), (2, '${BOB}', 's2');
  `);
  const { db } = stack.local.ctx;
  pool = new pg.Pool({
    host: db.host,
    port: db.port,
    database: db.database,
    user: String(db.admin.options.user),
    password: String(db.admin.options.password),
    max: 1,
  });
  const { rows } = await pool.query<{ oid: number }>(`select 'public.rta_private'::regclass::oid as oid`);
  meta = await new Catalog(pool).table(Number(rows[0]?.oid));
});

afterAll(async () => {
  await pool?.end();
  await stack?.stop();
});

describe('authorize: session state', () => {
  it('ships claims once per session, and again after the session forgot them', async () => {
    const first = await authorize(pool, request([alice, bob], 1));
    expect(first.claimsShipped).toBe(true);
    expect(first.visible).toEqual([true, false]);

    const second = await authorize(pool, request([bob, alice], 2));
    expect(second.claimsShipped).toBe(false);
    expect(second.visible).toEqual([true, false]);

    // A new claims set alongside known ones is shipped (and then known).
    const carol = claimsFor('authenticated', randomUUID());
    expect((await authorize(pool, request([alice, carol], 1))).claimsShipped).toBe(true);
    expect((await authorize(pool, request([carol, alice], 1))).claimsShipped).toBe(false);

    // `reset all` by another user of the pooled connection: registered again.
    await pool.query('reset all');
    const third = await authorize(pool, request([alice, bob], 2));
    expect(third.claimsShipped).toBe(true);
    expect(third.visible).toEqual([false, true]);
  });

  it('claims with the same key text in any key order share one registration', async () => {
    const reordered = Object.fromEntries(Object.entries(alice).reverse()) as typeof alice;
    await authorize(pool, request([alice], 1));
    const r = await authorize(pool, request([reordered], 1));
    expect(r.claimsShipped).toBe(false);
    expect(r.visible).toEqual([true]);
  });

  it('prepares the PK lookup once per session, and again when it was deallocated', async () => {
    await authorize(pool, request([alice], 1));
    const count = async () =>
      Number(
        (
          await pool.query<{ n: string }>(
            `select count(*) as n from pg_prepared_statements where name like 'rtm_rls_%'`,
          )
        ).rows[0]?.n,
      );
    expect(await count()).toBe(1);
    await authorize(pool, request([bob], 2));
    expect(await count()).toBe(1);
    const { rows } = await pool.query<{ name: string }>(
      `select name from pg_prepared_statements where name like 'rtm_rls_%'`,
    );
    await pool.query(`deallocate "${rows[0]?.name}"`);
    expect(await count()).toBe(0);
    expect((await authorize(pool, request([alice], 1))).visible).toEqual([true]);
    expect(await count()).toBe(1);
  });

  it('a run-time REVOKE of a column and a policy change apply to the next call', async () => {
    const before = await authorize(pool, request([alice], 1));
    const secretAt = meta.columns.findIndex((c) => c.name === 'secret');
    expect(before.privileges.authenticated?.[secretAt]).toBe(true);
    await sql(`revoke select on public.rta_private from authenticated;
               grant select (id, owner) on public.rta_private to authenticated`);
    try {
      const after = await authorize(pool, request([alice], 1));
      expect(after.privileges.authenticated?.[secretAt]).toBe(false);
      expect(after.pkOk.authenticated).toBe(true);
      expect(after.visible).toEqual([true]);

      await sql(`drop policy "own rows" on public.rta_private;
                 create policy "nobody" on public.rta_private for select to authenticated using (false)`);
      expect((await authorize(pool, request([alice], 1))).visible).toEqual([false]);
    } finally {
      await sql(`grant select on public.rta_private to authenticated`);
    }
  });
});

describe('a policy that raises for one claims set', () => {
  it('hides the row from that subscriber only; the others are still checked', async () => {
    await sql(`
      create table public.rta_rooms (id int primary key, room int);
      alter table public.rta_rooms enable row level security;
      create policy "room claim" on public.rta_rooms for select to authenticated
        using (room = (auth.jwt() ->> 'room')::int);
      insert into public.rta_rooms values (1, 7);
    `);
    const { rows } = await pool.query<{ oid: number }>(`select 'public.rta_rooms'::regclass::oid as oid`);
    const rooms = await new Catalog(pool).table(Number(rows[0]?.oid));
    const member = claimsFor('authenticated', randomUUID(), { room: '7' });
    const malformed = claimsFor('authenticated', randomUUID(), { room: 'seven' });
    const outsider = claimsFor('authenticated', randomUUID(), { room: '8' });
    const result = await authorize(pool, { ...request([member, malformed, outsider], 1), table: rooms });
    expect(result.visible).toEqual([true, false, false]);
    expect(result.failed).toEqual([
      { index: 1, sqlstate: '22P02', error: 'invalid input syntax for type integer: "seven"' },
    ]);
    // Without the malformed claims, the fast path (no subtransactions) answers and fails nothing.
    const healthy = await authorize(pool, { ...request([member, outsider], 1), table: rooms });
    expect(healthy.visible).toEqual([true, false]);
    expect(healthy.failed).toEqual([]);
  });
});
