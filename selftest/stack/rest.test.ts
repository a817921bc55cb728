import type { AddressInfo } from 'node:net';
import { createClient } from '@supabase/supabase-js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import ws from 'ws';
import { createApiServer } from '../../stack/http/server.ts';
import { freePort } from '../../stack/ports.ts';
import { Database } from '../../stack/postgres/db.ts';
import { listen } from '../../stack/project.ts';
import { restService } from '../../stack/rest/index.ts';
import { type RestWorld, startRestWorld } from './rest-support.ts';

/**
 * The embedded REST service through unmodified supabase-js: CRUD, every filter supabase-js emits,
 * ordering and paging, counts and Content-Range, singular responses, upserts and RPC, with the
 * statuses and bodies PostgREST gives.
 */

let w: RestWorld;

beforeAll(async () => {
  w = await startRestWorld();
});

afterAll(async () => {
  await w?.stack.stop();
});

interface Item {
  id: number;
  owner: string;
  title: string;
  score: number | null;
  tags: string[];
  meta: Record<string, unknown>;
  done: boolean;
  slug: string | null;
  created_at: string;
}

const SEED = [
  {
    title: 'alpha',
    score: 10,
    tags: ['red', 'blue'],
    meta: { level: 1, kind: 'a' },
    done: false,
    slug: 'alpha',
  },
  { title: 'Beta, the second', score: 20, tags: ['blue'], meta: { level: 2 }, done: true, slug: 'beta' },
  { title: 'gamma (3)', score: null, tags: [], meta: {}, done: false, slug: 'gamma' },
  {
    title: 'delta "quoted"',
    score: 40,
    tags: ['green', 'red'],
    meta: { level: 4, kind: 'b' },
    done: true,
    slug: 'delta',
  },
];

async function seedAlice(): Promise<Item[]> {
  await w.sql('delete from public.rest_items');
  const { data, error, status } = await w.alice.db.from('rest_items').insert(SEED).select().order('id');
  expect(error).toBeNull();
  expect(status).toBe(201);
  return data as Item[];
}

describe('insert', () => {
  beforeEach(async () => {
    await w.sql('delete from public.rest_items');
  });

  it('answers 201 with no body by default (return=minimal)', async () => {
    const res = await w.alice.db.from('rest_items').insert({ title: 'minimal' });
    expect(res.error).toBeNull();
    expect(res.status).toBe(201);
    expect(res.data).toBeNull();
    const rows = await w.sql<{ title: string; owner: string }>('select title, owner from public.rest_items');
    expect(rows).toEqual([{ title: 'minimal', owner: w.alice.id }]);
  });

  it('returns rows typed as Postgres serializes them (bigint as number, arrays, jsonb, timestamptz)', async () => {
    const { data, error, status } = await w.alice.db
      .from('rest_items')
      .insert({ title: 'typed', score: 7, tags: ['a', 'b,c'], meta: { nested: { x: [1, 2] } } })
      .select()
      .single();
    expect(error).toBeNull();
    expect(status).toBe(201);
    const row = data as Item;
    expect(typeof row.id).toBe('number');
    expect(row).toMatchObject({
      owner: w.alice.id,
      title: 'typed',
      score: 7,
      tags: ['a', 'b,c'],
      meta: { nested: { x: [1, 2] } },
      done: false,
      slug: null,
    });
    expect(row.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?\+00:00$/);
  });

  it('bulk insert with differing keys sends columns= and fills missing keys with null, or defaults with missing=default', async () => {
    const nulls = await w.alice.db
      .from('rest_items')
      .insert([{ title: 'one', score: 1 }, { title: 'two' }])
      .select('title, score');
    expect(nulls.error).toBeNull();
    expect(nulls.data).toEqual([
      { title: 'one', score: 1 },
      { title: 'two', score: null },
    ]);
    const defaults = await w.alice.db
      .from('rest_items')
      .insert([{ title: 'three', tags: ['x'] }, { title: 'four' }], { defaultToNull: false })
      .select('title, tags');
    expect(defaults.error).toBeNull();
    expect(defaults.data).toEqual([
      { title: 'three', tags: ['x'] },
      { title: 'four', tags: [] },
    ]);
  });

  it('inserts an empty object as a row of defaults', async () => {
    await w.sql(`create table public.rest_defaults (id bigint generated always as identity primary key,
      label text not null default 'unnamed')`);
    const one = await w.service.from('rest_defaults').insert({}).select().single();
    expect(one).toMatchObject({ status: 201, error: null, data: { id: 1, label: 'unnamed' } });
    const two = await w.service.from('rest_defaults').insert([{}, {}]).select('id');
    expect(two).toMatchObject({ status: 201, error: null, data: [{ id: 2 }, { id: 3 }] });
  });

  it('refuses a payload key that is not a column with PGRST204', async () => {
    const { error, status } = await w.alice.db.from('rest_items').insert({ title: 't', nope: 1 });
    expect(status).toBe(400);
    expect(error).toEqual({
      code: 'PGRST204',
      details: null,
      hint: null,
      message: "Could not find the 'nope' column of 'rest_items' in the schema cache",
    });
  });

  it('maps constraint violations: unique → 409 23505, not null → 400 23502', async () => {
    await w.alice.db.from('rest_items').insert({ title: 'u', slug: 'same' });
    const dup = await w.alice.db.from('rest_items').insert({ title: 'u2', slug: 'same' });
    expect(dup.status).toBe(409);
    // Postgres withholds the "Key (…)=(…)" detail on tables with RLS, so the body has none.
    expect(dup.error).toEqual({
      code: '23505',
      message: 'duplicate key value violates unique constraint "rest_items_slug_key"',
      details: null,
      hint: null,
    });
    const missing = await w.alice.db.from('rest_items').insert({ score: 1 });
    expect(missing.status).toBe(400);
    expect(missing.error?.code).toBe('23502');
    expect(missing.error?.message).toBe(
      'null value in column "title" of relation "rest_items" violates not-null constraint',
    );
  });

  it('answers invalid JSON and non-uniform arrays as PostgREST does', async () => {
    const bad = await w.raw('/rest_items', {
      method: 'POST',
      token: w.alice.token,
      headers: { 'Content-Type': 'application/json' },
      body: '{"title": ',
    });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({
      code: 'PGRST102',
      details: null,
      hint: null,
      message: 'Empty or invalid json',
    });
    const mixed = await w.raw('/rest_items', {
      method: 'POST',
      token: w.alice.token,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify([{ title: 'a' }, { title: 'b', score: 1 }]),
    });
    expect(mixed.status).toBe(400);
    expect(await mixed.json()).toMatchObject({ code: 'PGRST102', message: 'All object keys must match' });
  });
});

describe('filters', () => {
  let items: Item[];
  beforeAll(async () => {
    items = await seedAlice();
  });
  const titles = (rows: unknown) => (rows as Item[]).map((r) => r.title).sort();
  const q = () => w.alice.db.from('rest_items').select('*');

  it.each([
    ['eq', () => q().eq('score', 20), ['Beta, the second']],
    ['neq', () => q().neq('score', 20), ['alpha', 'delta "quoted"']],
    ['gt', () => q().gt('score', 10), ['Beta, the second', 'delta "quoted"']],
    ['gte', () => q().gte('score', 20), ['Beta, the second', 'delta "quoted"']],
    ['lt', () => q().lt('score', 20), ['alpha']],
    ['lte', () => q().lte('score', 20), ['Beta, the second', 'alpha']],
    ['like', () => q().like('title', '%ta%'), ['Beta, the second', 'delta "quoted"']],
    ['like with * wildcard', () => q().like('title', 'al*'), ['alpha']],
    ['ilike', () => q().ilike('title', 'beta%'), ['Beta, the second']],
    ['is null', () => q().is('score', null), ['gamma (3)']],
    ['is true', () => q().is('done', true), ['Beta, the second', 'delta "quoted"']],
    ['not is null', () => q().not('score', 'is', null), ['Beta, the second', 'alpha', 'delta "quoted"']],
    [
      'in with , ( ) and " in values',
      () => q().in('title', ['Beta, the second', 'gamma (3)', 'delta "quoted"']),
      ['Beta, the second', 'delta "quoted"', 'gamma (3)'],
    ],
    ['in on numbers', () => q().in('score', [10, 40]), ['alpha', 'delta "quoted"']],
    ['cs on arrays', () => q().contains('tags', ['red']), ['alpha', 'delta "quoted"']],
    [
      'cd on arrays',
      () => q().containedBy('tags', ['blue', 'red']),
      ['Beta, the second', 'alpha', 'gamma (3)'],
    ],
    [
      'ov on arrays',
      () => q().overlaps('tags', ['green', 'blue']),
      ['Beta, the second', 'alpha', 'delta "quoted"'],
    ],
    ['cs on jsonb', () => q().contains('meta', { kind: 'b' }), ['delta "quoted"']],
    ['json path ->> eq', () => q().eq('meta->>kind', 'a'), ['alpha']],
    ['not.eq', () => q().not('title', 'eq', 'alpha'), ['Beta, the second', 'delta "quoted"', 'gamma (3)']],
    ['not.in', () => q().not('score', 'in', '(10,20)'), ['delta "quoted"']],
    ['match (regex)', () => q().match({ done: true, score: 40 }), ['delta "quoted"']],
    ['or', () => q().or('score.eq.10,title.eq."gamma (3)"'), ['alpha', 'gamma (3)']],
    [
      'or with nested and and a quoted value',
      () => q().or('and(done.is.true,score.gt.30),title.eq."Beta, the second"'),
      ['Beta, the second', 'delta "quoted"'],
    ],
    [
      'or with in and cs',
      () => q().or('score.in.(10,20),tags.cs.{green}'),
      ['Beta, the second', 'alpha', 'delta "quoted"'],
    ],
    ['likeAnyOf', () => q().likeAnyOf('title', ['al*', 'de*']), ['alpha', 'delta "quoted"']],
    ['likeAllOf', () => q().likeAllOf('title', ['*a*', '*t*']), ['Beta, the second', 'delta "quoted"']],
    ['ilikeAnyOf', () => q().ilikeAnyOf('title', ['BETA*', 'GAMMA*']), ['Beta, the second', 'gamma (3)']],
    ['regexMatch', () => q().regexMatch('title', '^[ab]'), ['alpha']],
    ['regexIMatch', () => q().regexIMatch('title', '^[ab]'), ['Beta, the second', 'alpha']],
    ['isDistinct', () => q().isDistinct('score', 10), ['Beta, the second', 'delta "quoted"', 'gamma (3)']],
    ['filter() with raw operator', () => q().filter('score', 'gte', 40), ['delta "quoted"']],
    [
      'textSearch (plfts)',
      () => q().textSearch('title', 'second', { type: 'plain', config: 'english' }),
      ['Beta, the second'],
    ],
  ] as const)('%s', async (_name, build, expected) => {
    const { data, error, status } = await build();
    expect(error).toBeNull();
    expect(status).toBe(200);
    expect(titles(data)).toEqual([...expected].sort());
  });

  it('not.or via the or filter with a not prefix in the URL', async () => {
    const res = await w.raw('/rest_items?select=title&not.or=(score.eq.10,score.is.null)&order=title', {
      token: w.alice.token,
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual([{ title: 'Beta, the second' }, { title: 'delta "quoted"' }]);
  });

  it('select= lists columns, aliases and casts', async () => {
    const { data, error } = await w.alice.db
      .from('rest_items')
      .select('id, name:title, score::text, kind:meta->>kind')
      .eq('slug', 'alpha');
    expect(error).toBeNull();
    expect(data).toEqual([{ id: items[0]!.id, name: 'alpha', score: '10', kind: 'a' }]);
  });

  it('refuses an unknown column in select, filter or order with 42703', async () => {
    for (const build of [
      () => w.alice.db.from('rest_items').select('id,nope'),
      () => w.alice.db.from('rest_items').select('id').eq('nope', 1),
      () => w.alice.db.from('rest_items').select('id').order('nope'),
    ]) {
      const { error, status } = await build();
      expect(status).toBe(400);
      expect(error).toEqual({
        code: '42703',
        details: null,
        hint: null,
        message: 'column rest_items.nope does not exist',
      });
    }
  });

  it('refuses an unknown operator with PGRST100', async () => {
    const res = await w.raw('/rest_items?score=noop.1', { token: w.alice.token });
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body).toMatchObject({
      code: 'PGRST100',
      message: '"failed to parse filter (noop.1)" (line 1, column 1)',
    });
  });

  it('reports a value of the wrong type as Postgres does (22P02, 400)', async () => {
    const { error, status } = await w.alice.db.from('rest_items').select('id').eq('score', 'ten');
    expect(status).toBe(400);
    expect(error).toMatchObject({ code: '22P02', message: 'invalid input syntax for type integer: "ten"' });
  });
});

describe('order, limit, offset, count', () => {
  beforeAll(async () => {
    await seedAlice();
  });

  it('orders by several columns with nulls placement', async () => {
    const { data } = await w.alice.db
      .from('rest_items')
      .select('title, score')
      .order('score', { ascending: false, nullsFirst: true })
      .order('title');
    expect(data).toEqual([
      { title: 'gamma (3)', score: null },
      { title: 'delta "quoted"', score: 40 },
      { title: 'Beta, the second', score: 20 },
      { title: 'alpha', score: 10 },
    ]);
    const last = await w.alice.db.from('rest_items').select('title').order('score', { nullsFirst: false });
    expect((last.data as { title: string }[]).at(-1)?.title).toBe('gamma (3)');
  });

  it('pages with limit and offset (range)', async () => {
    const { data, status } = await w.alice.db.from('rest_items').select('title').order('slug').range(1, 2);
    expect(status).toBe(200);
    expect(data).toEqual([{ title: 'Beta, the second' }, { title: 'delta "quoted"' }]);
    const limited = await w.alice.db.from('rest_items').select('title').order('slug').limit(1);
    expect(limited.data).toEqual([{ title: 'alpha' }]);
  });

  it('counts exactly: 200 with the whole set, 206 with a page, Content-Range as PostgREST', async () => {
    const all = await w.alice.db.from('rest_items').select('*', { count: 'exact' });
    expect(all.status).toBe(200);
    expect(all.count).toBe(4);
    const page = await w.alice.db.from('rest_items').select('id', { count: 'exact' }).order('id').range(1, 2);
    expect(page.status).toBe(206);
    expect(page.count).toBe(4);
    expect(page.data).toHaveLength(2);

    const raw = await w.raw('/rest_items?select=id&order=id&offset=1&limit=2', {
      token: w.alice.token,
      headers: { Prefer: 'count=exact' },
    });
    expect(raw.status).toBe(206);
    expect(raw.headers.get('content-range')).toBe('1-2/4');
    expect(raw.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const uncounted = await w.raw('/rest_items?select=id', { token: w.alice.token });
    expect(uncounted.headers.get('content-range')).toBe('0-3/*');
  });

  it('answers an empty result with */* and */0', async () => {
    const none = await w.raw('/rest_items?select=id&score=eq.999', { token: w.alice.token });
    expect(none.status).toBe(200);
    expect(none.headers.get('content-range')).toBe('*/*');
    expect(await none.text()).toBe('[]');
    const counted = await w.raw('/rest_items?select=id&score=eq.999', {
      token: w.alice.token,
      headers: { Prefer: 'count=exact' },
    });
    expect(counted.headers.get('content-range')).toBe('*/0');
    const empty = await w.alice.db.from('rest_items').select('*', { count: 'exact' }).eq('score', 999);
    expect(empty).toMatchObject({ data: [], count: 0, status: 200, error: null });
  });

  it('honours a Range header like limit/offset', async () => {
    const res = await w.raw('/rest_items?select=slug&order=slug', {
      token: w.alice.token,
      headers: { Range: '1-2', 'Range-Unit': 'items', Prefer: 'count=exact' },
    });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe('1-2/4');
    expect(await res.json()).toEqual([{ slug: 'beta' }, { slug: 'delta' }]);
    const past = await w.raw('/rest_items?select=slug&offset=9', {
      token: w.alice.token,
      headers: { Prefer: 'count=exact' },
    });
    expect(past.status).toBe(416);
    expect(await past.json()).toEqual({
      code: 'PGRST103',
      details: 'An offset of 9 was requested, but there are only 4 rows.',
      hint: null,
      message: 'Requested range not satisfiable',
    });
  });

  it('answers csv() as PostgREST formats CSV', async () => {
    const { data, error, status } = await w.alice.db
      .from('rest_items')
      .select('slug, title, score')
      .in('slug', ['beta', 'gamma', 'delta'])
      .order('slug')
      .csv();
    expect(error).toBeNull();
    expect(status).toBe(200);
    expect(data).toBe(
      'slug,title,score\nbeta,"Beta, the second",20\ndelta,"delta ""quoted""",40\ngamma,"gamma (3)",',
    );
  });

  it('HEAD with count returns the count and no body', async () => {
    const res = await w.alice.db
      .from('rest_items')
      .select('*', { count: 'exact', head: true })
      .eq('done', true);
    expect(res).toMatchObject({ data: null, count: 2, status: 200, error: null });
  });
});

describe('single and maybeSingle', () => {
  beforeAll(async () => {
    await seedAlice();
  });

  it('single() with one row answers the object with the singular media type', async () => {
    const { data, error } = await w.alice.db.from('rest_items').select('title').eq('slug', 'beta').single();
    expect(error).toBeNull();
    expect(data).toEqual({ title: 'Beta, the second' });
    const raw = await w.raw('/rest_items?select=title&slug=eq.beta', {
      token: w.alice.token,
      headers: { Accept: 'application/vnd.pgrst.object+json' },
    });
    expect(raw.headers.get('content-type')).toBe('application/vnd.pgrst.object+json; charset=utf-8');
    expect(await raw.text()).toBe('{"title":"Beta, the second"}');
  });

  it.each([
    [0, () => w.alice.db.from('rest_items').select('*').eq('slug', 'none').single()],
    [2, () => w.alice.db.from('rest_items').select('*').eq('done', true).single()],
  ])('single() with %i rows is 406 PGRST116', async (rows, build) => {
    const { data, error, status } = await build();
    expect(status).toBe(406);
    expect(data).toBeNull();
    expect(error).toEqual({
      code: 'PGRST116',
      details: `The result contains ${rows} rows`,
      hint: null,
      message: 'Cannot coerce the result to a single JSON object',
    });
  });

  it('maybeSingle() with 0 rows is null without error, with 2 rows PGRST116', async () => {
    const none = await w.alice.db.from('rest_items').select('*').eq('slug', 'none').maybeSingle();
    expect(none).toMatchObject({ data: null, error: null, status: 200 });
    const two = await w.alice.db.from('rest_items').select('*').eq('done', true).maybeSingle();
    expect(two.status).toBe(406);
    expect(two.error?.code).toBe('PGRST116');
  });

  it('a singular mutation touching two rows is refused and rolled back', async () => {
    const { error, status } = await w.alice.db
      .from('rest_items')
      .update({ score: 0 })
      .eq('done', true)
      .select()
      .single();
    expect(status).toBe(406);
    expect(error?.details).toBe('The result contains 2 rows');
    const rows = await w.sql<{ score: number }>(
      'select score from public.rest_items where done order by score',
    );
    expect(rows).toEqual([{ score: 20 }, { score: 40 }]);
  });
});

describe('update, delete, upsert', () => {
  beforeEach(async () => {
    await seedAlice();
  });

  it('update answers 204 by default and the rows with select()', async () => {
    const plain = await w.alice.db.from('rest_items').update({ done: true }).eq('slug', 'alpha');
    expect(plain).toMatchObject({ status: 204, data: null, error: null });
    const rep = await w.alice.db
      .from('rest_items')
      .update({ score: 11 })
      .eq('slug', 'alpha')
      .select('slug, score, done');
    expect(rep.status).toBe(200);
    expect(rep.data).toEqual([{ slug: 'alpha', score: 11, done: true }]);
    const none = await w.alice.db.from('rest_items').update({ score: 1 }).eq('slug', 'none').select();
    expect(none).toMatchObject({ status: 200, data: [] });
  });

  it('delete answers 204, or the deleted rows, with a count in Content-Range', async () => {
    const plain = await w.alice.db.from('rest_items').delete().eq('slug', 'alpha');
    expect(plain).toMatchObject({ status: 204, error: null });
    const rep = await w.alice.db
      .from('rest_items')
      .delete({ count: 'exact' })
      .eq('done', true)
      .select('slug');
    expect(rep.status).toBe(200);
    expect(rep.count).toBe(2);
    expect((rep.data as { slug: string }[]).map((r) => r.slug).sort()).toEqual(['beta', 'delta']);
    const left = await w.sql('select slug from public.rest_items');
    expect(left).toEqual([{ slug: 'gamma' }]);
  });

  it('update and delete without any filter are refused as pg-safeupdate refuses them on Supabase', async () => {
    const update = await w.alice.db.from('rest_items').update({ score: 0 });
    expect(update.status).toBe(400);
    expect(update.error).toEqual({
      code: '21000',
      details: null,
      hint: null,
      message: 'UPDATE requires a WHERE clause',
    });
    const del = await w.service.from('rest_items').delete();
    expect(del.status).toBe(400);
    expect(del.error).toEqual({
      code: '21000',
      details: null,
      hint: null,
      message: 'DELETE requires a WHERE clause',
    });
    expect(await w.sql('select count(*)::int as n from public.rest_items')).toEqual([{ n: 4 }]);
  });

  it('maxAffected() refuses and rolls back a write touching more rows (PGRST124)', async () => {
    // supabase-js types maxAffected() only for clients declaring PostgREST 13+; at run time it sends
    // `Prefer: handling=strict, max-affected=N` whatever the declared version.
    type Result = PromiseLike<{ status: number; error: unknown }>;
    const res = await (w.alice.db
      .from('rest_items')
      .update({ score: 0 })
      .eq('done', true)
      .maxAffected(1) as unknown as Result);
    expect(res.status).toBe(400);
    expect(res.error).toEqual({
      code: 'PGRST124',
      details: 'The query affects 2 rows',
      hint: null,
      message: 'Query result exceeds max-affected preference constraint',
    });
    expect(await w.sql('select score from public.rest_items where done order by score')).toEqual([
      { score: 20 },
      { score: 40 },
    ]);
    const ok = await (w.alice.db
      .from('rest_items')
      .delete()
      .eq('slug', 'alpha')
      .maxAffected(1) as unknown as Result);
    expect(ok).toMatchObject({ status: 204, error: null });
  });

  it('commits despite Prefer: tx=rollback, as a Supabase project (no db-tx-end override) does', async () => {
    const res = await w.raw('/rest_items?slug=eq.alpha', {
      method: 'PATCH',
      token: w.alice.token,
      headers: { 'Content-Type': 'application/json', Prefer: 'tx=rollback' },
      body: JSON.stringify({ score: 99 }),
    });
    expect(res.status).toBe(204);
    expect(await w.sql(`select score from public.rest_items where slug = 'alpha'`)).toEqual([{ score: 99 }]);
    const strict = await w.raw('/rest_items?slug=eq.alpha', {
      method: 'PATCH',
      token: w.alice.token,
      headers: { 'Content-Type': 'application/json', Prefer: 'handling=strict, tx=rollback' },
      body: JSON.stringify({ score: 1 }),
    });
    expect(strict.status).toBe(400);
    expect(await strict.json()).toEqual({
      code: 'PGRST122',
      details: 'Invalid preferences: tx=rollback',
      hint: null,
      message: 'Invalid preferences given with handling=strict',
    });
  });

  it('upsert merges on on_conflict (200 when nothing was inserted, 201 otherwise)', async () => {
    const merged = await w.alice.db
      .from('rest_items')
      .upsert({ slug: 'alpha', title: 'alpha v2' }, { onConflict: 'slug' })
      .select('slug, title, score');
    expect(merged.error).toBeNull();
    expect(merged.status).toBe(200);
    expect(merged.data).toEqual([{ slug: 'alpha', title: 'alpha v2', score: 10 }]);
    const mixed = await w.alice.db
      .from('rest_items')
      .upsert(
        [
          { slug: 'beta', title: 'beta v2' },
          { slug: 'epsilon', title: 'epsilon' },
        ],
        { onConflict: 'slug' },
      )
      .select('slug, title');
    expect(mixed.status).toBe(201);
    expect(mixed.data).toEqual([
      { slug: 'beta', title: 'beta v2' },
      { slug: 'epsilon', title: 'epsilon' },
    ]);
  });

  it('upsert with ignoreDuplicates leaves existing rows alone', async () => {
    const res = await w.alice.db
      .from('rest_items')
      .upsert({ slug: 'alpha', title: 'ignored' }, { onConflict: 'slug', ignoreDuplicates: true })
      .select();
    expect(res.error).toBeNull();
    expect(res.data).toEqual([]);
    const rows = await w.sql('select title from public.rest_items where slug = $1', ['alpha']);
    expect(rows).toEqual([{ title: 'alpha' }]);
  });

  it('upsert on the primary key when no on_conflict is given', async () => {
    const [row] = await w.sql<{ id: string }>('select id from public.rest_items where slug = $1', ['gamma']);
    const res = await w.alice.db
      .from('rest_items')
      .upsert({ id: Number(row!.id), title: 'gamma v2', slug: 'gamma' })
      .select('title');
    expect(res.error).toBeNull();
    expect(res.data).toEqual([{ title: 'gamma v2' }]);
  });
});

describe('schema cache and profiles', () => {
  it('finds a table created after the first request, and a column added later', async () => {
    await w.alice.db.from('rest_items').select('id');
    await w.sql(`create table public.rest_late (id int primary key, label text)`);
    await w.sql(`insert into public.rest_late values (1, 'late')`);
    const first = await w.service.from('rest_late').select('*');
    expect(first).toMatchObject({ error: null, data: [{ id: 1, label: 'late' }] });
    await w.sql(`alter table public.rest_late add column extra text default 'x'`);
    const second = await w.service.from('rest_late').select('id, extra');
    expect(second).toMatchObject({ error: null, data: [{ id: 1, extra: 'x' }] });
  });

  it('answers an unknown table with 404 PGRST205 and a hint when a name is close', async () => {
    const res = await w.alice.db.from('rest_item').select('*');
    expect(res.status).toBe(404);
    expect(res.error).toEqual({
      code: 'PGRST205',
      details: null,
      hint: "Perhaps you meant the table 'public.rest_items'",
      message: "Could not find the table 'public.rest_item' in the schema cache",
    });
    const far = await w.alice.db.from('zzz_nothing_like_it').select('*');
    expect(far.error).toEqual({
      code: 'PGRST205',
      details: null,
      hint: null,
      message: "Could not find the table 'public.zzz_nothing_like_it' in the schema cache",
    });
  });

  it('refuses a schema that is not exposed with 406 PGRST106', async () => {
    const res = await w.alice.db.schema('auth').from('users').select('*');
    expect(res.status).toBe(406);
    expect(res.error).toEqual({
      code: 'PGRST106',
      details: null,
      hint: 'Only the following schemas are exposed: public',
      message: 'Invalid schema: auth',
    });
  });
});

describe('several exposed schemas', () => {
  it('serves the schema named by Accept-Profile / Content-Profile and echoes it', async () => {
    await w.sql(`create schema rest_api;
      grant usage on schema rest_api to anon, authenticated, service_role;
      create table rest_api.things (id int primary key, name text);
      grant all on rest_api.things to anon, authenticated, service_role;
      insert into rest_api.things values (1, 'in rest_api');`);
    const service = restService(w.stack.local.ctx, { schemas: ['public', 'rest_api'] });
    const server = createApiServer({ routes: service.routes });
    await listen(server, 0, '127.0.0.1');
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const db = createClient(url, w.stack.local.config.serviceRoleKey, {
        auth: { persistSession: false, autoRefreshToken: false },
        db: { schema: 'rest_api' },
        realtime: { transport: ws as never },
      });
      expect(await db.from('things').select('*')).toMatchObject({
        error: null,
        data: [{ id: 1, name: 'in rest_api' }],
      });
      const ins = await db.from('things').insert({ id: 2, name: 'two' }).select('name');
      expect(ins).toMatchObject({ status: 201, data: [{ name: 'two' }] });
      const raw = await fetch(`${url}/rest/v1/things?select=id`, {
        headers: { apikey: w.stack.local.config.serviceRoleKey, 'Accept-Profile': 'rest_api' },
      });
      expect(raw.headers.get('content-profile')).toBe('rest_api');
      const publicDefault = await fetch(`${url}/rest/v1/rest_items?select=id&limit=0`, {
        headers: { apikey: w.stack.local.config.serviceRoleKey },
      });
      expect(publicDefault.status).toBe(200);
      const other = await fetch(`${url}/rest/v1/things`, {
        headers: { apikey: w.stack.local.config.serviceRoleKey, 'Accept-Profile': 'auth' },
      });
      expect(other.status).toBe(406);
      expect(await other.json()).toEqual({
        code: 'PGRST106',
        details: null,
        hint: 'Only the following schemas are exposed: public, rest_api',
        message: 'Invalid schema: auth',
      });
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});

describe('database unreachable', () => {
  it('answers 503 PGRST002 while the schema cache cannot be read', async () => {
    // A real connection attempt to a loopback port nothing listens on.
    const db = new Database('127.0.0.1', await freePort(), 'postgres');
    const service = restService({ ...w.stack.local.ctx, db });
    const server = createApiServer({ routes: service.routes });
    await listen(server, 0, '127.0.0.1');
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const res = await fetch(`${url}/rest/v1/rest_items`, {
        headers: { apikey: w.stack.local.config.anonKey },
      });
      expect(res.status).toBe(503);
      const body = await res.json();
      expect(body).toMatchObject({
        code: 'PGRST002',
        message: 'Could not query the database for the schema cache. Retrying.',
      });
      expect(body.details).toMatch(/ECONNREFUSED/);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await db.end();
    }
  });
});

describe('rpc', () => {
  beforeAll(async () => {
    await w.sql(`
      create function public.rest_add(a int, b int default 1) returns int language sql immutable as $$ select a + b $$;
      create function public.rest_whoami() returns json language sql stable as $$
        select json_build_object(
          'user', current_user, 'sub', auth.uid(), 'method', current_setting('request.method', true),
          'path', current_setting('request.path', true),
          'client', current_setting('request.headers', true)::json->>'x-client-info')
      $$;
      create function public.rest_my_items() returns setof public.rest_items language sql stable as $$
        select * from public.rest_items order by id
      $$;
      create function public.rest_nothing() returns void language sql as $$ select $$;
      create function public.rest_touch() returns int language sql volatile as $$
        insert into public.rest_items (owner, title) values (gen_random_uuid(), 'touched') returning 1
      $$;
      create function public.rest_pairs(n int) returns table (k int, label text) language sql stable as $$
        select g, 'n' || g from generate_series(1, n) g
      $$;`);
  });

  it('calls a function with named arguments and defaults', async () => {
    expect(await w.anon.rpc('rest_add', { a: 2, b: 3 })).toMatchObject({ data: 5, error: null, status: 200 });
    expect((await w.anon.rpc('rest_add', { a: 2 })).data).toBe(3);
  });

  it('runs as the caller with PostgREST request settings', async () => {
    const { data, error } = await w.alice.db.rpc('rest_whoami');
    expect(error).toBeNull();
    expect(data).toMatchObject({
      user: 'authenticated',
      sub: w.alice.id,
      method: 'POST',
      path: '/rpc/rest_whoami',
    });
    expect((data as { client: string }).client).toMatch(/^supabase-js\/2\.119/);
  });

  it('returns sets as arrays, subject to RLS', async () => {
    await seedAlice();
    const mine = await w.alice.db.rpc('rest_my_items');
    expect((mine.data as Item[]).map((r) => r.slug)).toEqual(['alpha', 'beta', 'gamma', 'delta']);
    const bobs = await w.bob.db.rpc('rest_my_items');
    expect(bobs.data).toEqual([]);
  });

  it('returns the columns of a RETURNS TABLE function as rows', async () => {
    const { data, error } = await w.anon.rpc('rest_pairs', { n: 2 });
    expect(error).toBeNull();
    expect(data).toEqual([
      { k: 1, label: 'n1' },
      { k: 2, label: 'n2' },
    ]);
  });

  it('runs GET in a read-only transaction: a writing function called with GET is 405 25006', async () => {
    const res = await w.service.rpc('rest_touch', {}, { get: true });
    expect(res.status).toBe(405);
    expect(res.error).toMatchObject({
      code: '25006',
      message: 'cannot execute INSERT in a read-only transaction',
    });
    const post = await w.service.rpc('rest_touch');
    expect(post).toMatchObject({ status: 200, data: 1, error: null });
    await w.sql(`delete from public.rest_items where title = 'touched'`);
  });

  it('answers void with 204 and an unknown function with 404 PGRST202', async () => {
    expect(await w.anon.rpc('rest_nothing')).toMatchObject({ status: 204, error: null });
    const missing = await w.anon.rpc('rest_addd', { a: 1 });
    expect(missing.status).toBe(404);
    expect(missing.error).toEqual({
      code: 'PGRST202',
      details:
        'Searched for the function public.rest_addd with parameter a or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.',
      hint: 'Perhaps you meant to call the function public.rest_add',
      message: 'Could not find the function public.rest_addd(a) in the schema cache',
    });
  });
});
