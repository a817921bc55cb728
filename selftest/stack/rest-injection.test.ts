import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RestWorld, startRestWorld } from './rest-support.ts';

/**
 * Hostile input in every place a request names something: table, schema, columns, casts, JSON keys,
 * filter values, logic trees, order, on_conflict, columns=, RPC names. Each is refused with
 * PostgREST's error or treated as a plain value, and the tables are still there afterwards.
 */

let w: RestWorld;
const DROP = 'drop table public.rest_items; drop table public.rest_canary';

beforeAll(async () => {
  w = await startRestWorld();
  await w.sql('create table public.rest_canary (id int); insert into public.rest_canary values (1)');
  await w.alice.db.from('rest_items').insert([{ title: 'one', slug: 'one' }, { title: 'two' }]);
});

afterAll(async () => {
  await w?.stack.stop();
});

async function intact(): Promise<void> {
  expect(await w.sql('select count(*)::int as n from public.rest_items')).toEqual([{ n: 2 }]);
  expect(await w.sql('select count(*)::int as n from public.rest_canary')).toEqual([{ n: 1 }]);
}

describe('hostile identifiers are refused', () => {
  it.each([
    [`/rest_items;${encodeURIComponent(DROP)}`, 404, 'PGRST205'],
    [`/${encodeURIComponent(`rest_items"; ${DROP}; --`)}`, 404, 'PGRST205'],
    [`/${encodeURIComponent('rest_items where true')}`, 404, 'PGRST205'],
    ['/auth.users', 404, 'PGRST205'],
    ['/pg_authid', 404, 'PGRST205'],
    ['/rest_items/..%2F..%2Fauth%2Fusers', 404, 'PGRST125'],
    [`/rest_items?select=${encodeURIComponent(`id);${DROP};--`)}`, 400, 'PGRST100'],
    [`/rest_items?select=${encodeURIComponent(`"id\\"; ${DROP}; --"`)}`, 400, '42703'],
    [`/rest_items?select=${encodeURIComponent(`id::text);${DROP};--`)}`, 400, 'PGRST100'],
    [`/rest_items?select=${encodeURIComponent('id::int4 from pg_authid')}`, 400, '42601'],
    [`/rest_items?${encodeURIComponent(`id;${DROP}`)}=eq.1`, 400, 'PGRST100'],
    [`/rest_items?${encodeURIComponent(`meta->>'; ${DROP}`)}=eq.1`, 400, 'PGRST100'],
    [`/rest_items?${encodeURIComponent(`auth.users.id`)}=eq.1`, 400, 'PGRST108'],
    [`/rest_items?${encodeURIComponent(`"id\\"=1 or true; --"`)}=eq.1`, 400, '42703'],
    [`/rest_items?order=${encodeURIComponent(`id;${DROP}`)}`, 400, 'PGRST100'],
    [`/rest_items?order=${encodeURIComponent('id.desc,(select 1)')}`, 400, 'PGRST100'],
    [`/rest_items?order=${encodeURIComponent(`"id; ${DROP}"`)}`, 400, '42703'],
    [`/rest_items?or=${encodeURIComponent(`(id.eq.1);${DROP}--`)}`, 400, 'PGRST100'],
    [`/rest_items?title=${encodeURIComponent(`fts(english'); ${DROP}; --).x`)}`, 400, 'PGRST100'],
  ])('GET %s → %i %s', async (path, status, code) => {
    const res = await w.raw(path, { token: w.alice.token });
    expect(res.status).toBe(status);
    expect((await res.json()).code).toBe(code);
    await intact();
  });

  it('supabase-js table and column names with SQL in them', async () => {
    const table = await w.alice.db.from(`rest_items; ${DROP}`).select('*');
    expect(table.error?.code).toBe('PGRST205');
    const schema = await w.alice.db.schema(`public; ${DROP}`).from('rest_items').select('*');
    expect(schema.status).toBe(406);
    expect(schema.error?.code).toBe('PGRST106');
    const column = await w.alice.db.from('rest_items').select('id').eq(`title"; ${DROP}; --`, 'x');
    expect(column.status).toBe(400);
    const order = await w.alice.db.from('rest_items').select('id').order(`title; ${DROP}`);
    expect(order.error?.code).toBe('PGRST100');
    const rpc = await w.alice.db.rpc(`rest_items(); ${DROP}; --`);
    expect(rpc.error?.code).toBe('PGRST202');
    await intact();
  });

  it('on_conflict and columns= with SQL in them', async () => {
    const conflict = await w.raw(
      `/rest_items?on_conflict=${encodeURIComponent(`slug) do nothing; ${DROP}; --`)}`,
      {
        method: 'POST',
        token: w.alice.token,
        headers: { 'Content-Type': 'application/json', Prefer: 'resolution=merge-duplicates' },
        body: JSON.stringify({ title: 'x' }),
      },
    );
    expect(conflict.status).toBe(400);
    expect((await conflict.json()).code).toBe('PGRST100');
    const columns = await w.raw(
      `/rest_items?columns=${encodeURIComponent(`"title\\") select 1; ${DROP}; --"`)}`,
      {
        method: 'POST',
        token: w.alice.token,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify([{ title: 'x' }]),
      },
    );
    expect(columns.status).toBe(400);
    expect((await columns.json()).code).toBe('PGRST204');
    const key = await w.alice.db.from('rest_items').insert({ [`title") values ('x'); ${DROP}; --`]: 'x' });
    expect(key.error?.code).toBe('PGRST204');
    await intact();
  });
});

describe('hostile values are only values', () => {
  it.each([
    ['quote breaking', () => w.alice.db.from('rest_items').select('id').eq('title', `x' or '1'='1`)],
    ['statement stacking', () => w.alice.db.from('rest_items').select('id').eq('title', `one'; ${DROP}; --`)],
    [
      'in list',
      () =>
        w.alice.db
          .from('rest_items')
          .select('id')
          .in('title', [`a')) or true; ${DROP}; --`, 'b']),
    ],
    [
      'like pattern',
      () => w.alice.db.from('rest_items').select('id').like('title', `%' or 1=1; ${DROP}; --`),
    ],
    [
      'json key',
      () => w.alice.db.from('rest_items').select('id').eq(`meta->>'; delete from rest_items where true`, 'x'),
    ],
    [
      'or value',
      () => w.alice.db.from('rest_items').select('id').or(`title.eq."x\\") or true; ${DROP}; --"`),
    ],
    [
      'fts query',
      () =>
        w.alice.db.from('rest_items').select('id').textSearch('title', `'; ${DROP}; --`, { type: 'plain' }),
    ],
  ])('%s matches nothing and changes nothing', async (_name, build) => {
    const { data, error } = await build();
    expect(error).toBeNull();
    expect(data).toEqual([]);
    await intact();
  });

  it('a non-numeric value for a bigint column is 22P02, not SQL', async () => {
    const res = await w.alice.db.from('rest_items').select('id').eq('id', `1; ${DROP}`);
    expect(res.status).toBe(400);
    expect(res.error).toMatchObject({
      code: '22P02',
      message: `invalid input syntax for type bigint: "1; ${DROP}"`,
    });
    await intact();
  });

  it('hostile text is stored and returned verbatim', async () => {
    const text = `Robert'); ${DROP}; --`;
    const ins = await w.alice.db.from('rest_items').insert({ title: text }).select('title').single();
    expect(ins.data).toEqual({ title: text });
    const back = await w.alice.db.from('rest_items').select('title').eq('title', text).single();
    expect(back.data).toEqual({ title: text });
    await w.alice.db.from('rest_items').delete().eq('title', text);
    await intact();
  });
});
