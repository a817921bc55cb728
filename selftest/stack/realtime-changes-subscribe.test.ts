/**
 * Subscribing like hosted Realtime: which tables a binding covers, the exact error messages of
 * PROTOCOL.md §2.7/§2.9, and filter semantics (each operator, `not.`, `in`, quoting, AND) on real rows.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../stack/index.ts';
import { changesMetrics, createChangesEngine } from '../../stack/realtime/changes/index.ts';
import type { ChangesEngine, PostgresChangesParams } from '../../stack/realtime/changes-api.ts';
import { startTestStack } from '../support/stack.ts';
import { byId, claimsFor, type Recorder, record } from './realtime-changes-support.ts';

let stack: Stack;
let engine: ChangesEngine;
const sql = (text: string, values?: unknown[]) => stack.local.ctx.db.admin.query(text, values);
const service = claimsFor('service_role');
const UID = 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11';

beforeAll(async () => {
  stack = await startTestStack();
  await sql(`
    create table public.rtf (id int primary key, n int, label text, price numeric, flag boolean, uid uuid);
    alter table public.rtf replica identity full;
    create table public.rtf_hidden (id int primary key, n int);
    create table public.rtf_cols (id int primary key, visible text, secret text);
    revoke select on public.rtf_cols from authenticated;
    grant select (id, visible) on public.rtf_cols to authenticated;
    create schema other;
    create table other.rto (id int primary key);
    alter publication supabase_realtime add table public.rtf, public.rtf_cols, other.rto;
  `);
  engine = await createChangesEngine(stack.local.ctx);
});

afterAll(async () => {
  await engine?.stop();
  await stack?.stop();
});

async function subscribeMessage(
  params: PostgresChangesParams,
  claims = service,
): Promise<string | undefined> {
  const rec = await record(engine, claims, [params]);
  engine.unsubscribe(rec.key);
  return rec.result.ok ? undefined : rec.result.message;
}

const UNABLE = 'Unable to subscribe to changes with given parameters.';

describe('refusals, with the hosted messages', () => {
  it('a table missing from supabase_realtime', async () => {
    expect(await subscribeMessage({ event: '*', schema: 'public', table: 'rtf_hidden' })).toBe(
      `${UNABLE} Please check Realtime is enabled for the given connect parameters: [event: *, schema: public, table: rtf_hidden, filters: [], select: nil]`,
    );
    expect(
      await subscribeMessage({ event: 'insert', schema: 'public', table: 'rtf_hidden', filter: 'id=eq.1' }),
    ).toBe(
      `${UNABLE} Please check Realtime is enabled for the given connect parameters: [event: INSERT, schema: public, table: rtf_hidden, filters: [{"id", "eq", "1", false}], select: nil]`,
    );
  });

  it('malformed filters', async () => {
    const msg = (filter: string) => subscribeMessage({ event: '*', schema: 'public', table: 'rtf', filter });
    expect(await msg('id=foo.1')).toBe('Error parsing `filter` params: ["foo", "1"]');
    expect(await msg('undefined')).toBe('Error parsing `filter` params: ["undefined"]');
    expect(await msg('id=eq')).toBe('Error parsing `filter` params: ["eq"]');
    expect(await msg('id=in.1,2')).toBe(
      'Error parsing `filter` params: `in` filter value must be wrapped by parentheses',
    );
    expect(await msg('id=eq.1,,n=eq.2')).toBe(
      'Error parsing `filter` params: filter must not contain empty segments (check for extra commas)',
    );
    expect(await subscribeMessage({ event: '*' })).toBe(
      'No subscription params provided. Please provide at least a `schema` or `table` to subscribe to: %{"event" => "*"}',
    );
  });

  it('filters Postgres rejects: unknown or unreadable column, uncastable value, too many values', async () => {
    const exception = (filters: string, pg: string, table = 'rtf') =>
      `${UNABLE} An exception happened so please check your connect parameters: [event: *, schema: public, table: ${table}, filters: ${filters}, select: nil]. Exception: ${pg}`;
    expect(await subscribeMessage({ event: '*', schema: 'public', table: 'rtf', filter: 'xyz=eq.1' })).toBe(
      exception('[{"xyz", "eq", "1", false}]', 'ERROR P0001 (raise_exception) invalid column for filter xyz'),
    );
    expect(await subscribeMessage({ event: '*', schema: 'public', table: 'rtf', filter: 'n=eq.hey' })).toBe(
      exception(
        '[{"n", "eq", "hey", false}]',
        'ERROR 22P02 (invalid_text_representation) invalid input syntax for type integer: "hey"',
      ),
    );
    expect(
      await subscribeMessage(
        { event: '*', schema: 'public', table: 'rtf_cols', filter: 'secret=eq.x' },
        claimsFor('authenticated', UID),
      ),
    ).toBe(
      exception(
        '[{"secret", "eq", "x", false}]',
        'ERROR P0001 (raise_exception) invalid column for filter secret',
        'rtf_cols',
      ),
    );
    expect(await subscribeMessage({ event: '*', schema: 'public', table: 'rtf', filter: 'n=like.1%' })).toBe(
      exception(
        '[{"n", "like", "1%", false}]',
        'ERROR P0001 (raise_exception) operator like is not supported on column n of type integer: invalid input syntax for type integer: "1%"',
      ),
    );
    // The operator is evaluated once at subscribe time, as hosted probes check_equality_op: a
    // pattern ending in the escape character would otherwise fail every change of the table.
    expect(
      await subscribeMessage({ event: '*', schema: 'public', table: 'rtf', filter: 'label=like.\\' }),
    ).toBe(
      exception(
        '[{"label", "like", "\\\\", false}]',
        'ERROR P0001 (raise_exception) operator like is not supported on column label of type text: LIKE pattern must not end with escape character',
      ),
    );
    expect(
      await subscribeMessage({ event: '*', schema: 'public', table: 'rtf', filter: 'label=ilike.ab\\' }),
    ).toBe(
      exception(
        '[{"label", "ilike", "ab\\\\", false}]',
        'ERROR P0001 (raise_exception) operator ilike is not supported on column label of type text: LIKE pattern must not end with escape character',
      ),
    );
    expect(await subscribeMessage({ event: '*', schema: 'public', table: 'rtf', filter: 'n=is.true' })).toBe(
      exception(
        '[{"n", "is", "true", false}]',
        'ERROR P0001 (raise_exception) is true filter requires a boolean column, got integer',
      ),
    );
    expect(
      await subscribeMessage({ event: '*', schema: 'public', table: 'rtf' }, claimsFor('no_such_role')),
    ).toBe(exception('[]', 'ERROR 42704 (undefined_object) role "no_such_role" does not exist'));
    // Over 80 columns Elixir's pretty inspect breaks lines by rules the engine only approximates,
    // so only the parts that do not depend on line breaking are compared here.
    const many = Array.from({ length: 101 }, (_, i) => i).join(',');
    const tooMany = await subscribeMessage({
      event: '*',
      schema: 'public',
      table: 'rtf',
      filter: `n=in.(${many})`,
    });
    expect(
      tooMany?.startsWith(`${UNABLE} An exception happened so please check your connect parameters: [`),
    ).toBe(true);
    expect(
      tooMany?.endsWith(
        'Exception: ERROR P0001 (raise_exception) too many values for `in` filter. Maximum 100',
      ),
    ).toBe(true);
  });

  it('a whole channel is refused when any binding is', async () => {
    const rec = await record(engine, service, [
      { event: '*', schema: 'public', table: 'rtf' },
      { event: '*', schema: 'public', table: 'rtf_hidden' },
    ]);
    expect(rec.result.ok).toBe(false);
    await sql(`insert into rtf (id, n) values (900, 0)`);
    const witness = await record(engine, service, [{ event: '*', schema: 'public', table: 'rtf' }]);
    await sql(`delete from rtf where id = 900`);
    await witness.waitFor(byId(900, 'DELETE'), 'the witness DELETE');
    expect(rec.received).toEqual([]);
    engine.unsubscribe(witness.key);
  });
});

describe('which tables a binding covers', () => {
  it('only a schema: all its published tables; only a table: schema public', async () => {
    expect(await subscribeMessage({ event: '*', schema: 'other' })).toBeUndefined();
    expect(await subscribeMessage({ event: '*', table: 'rtf' })).toBeUndefined();
    expect(await subscribeMessage({ event: '*', table: 'rto' })).toBe(
      `${UNABLE} Please check Realtime is enabled for the given connect parameters: [event: *, schema: public, table: rto, filters: [], select: nil]`,
    );
    const all = await record(engine, service, [{ event: 'INSERT', schema: '*' }]);
    await sql(`insert into other.rto values (1)`);
    await sql(`insert into rtf (id) values (901)`);
    await all.waitFor(byId(901), 'public insert via wildcard');
    expect(all.received.map((r) => `${r.data.schema}.${r.data.table}`)).toEqual(['other.rto', 'public.rtf']);
    engine.unsubscribe(all.key);
  });

  it('select: only the listed columns plus the primary key', async () => {
    const rec = await record(engine, service, [
      { event: 'INSERT', schema: 'public', table: 'rtf', select: ['n'] },
    ]);
    expect(rec.result).toEqual({ ok: true });
    await sql(`insert into rtf (id, n, label) values (902, 5, 'x')`);
    const got = await rec.waitFor(byId(902), 'selected insert');
    expect(got.data.record).toEqual({ id: 902, n: 5 });
    expect(got.data.columns).toEqual([
      { name: 'id', type: 'int4' },
      { name: 'n', type: 'int4' },
    ]);
    engine.unsubscribe(rec.key);
  });
});

describe('filter semantics', () => {
  const cases: [string, number[]][] = [
    ['n=eq.2', [2]],
    ['n=neq.2', [1, 3]],
    ['n=lt.2', [1]],
    ['n=lte.2', [1, 2]],
    ['n=gt.2', [3]],
    ['n=gte.2', [2, 3]],
    ['n=in.(1,3)', [1, 3]],
    ['n=not.in.(1,3)', [2]],
    ['n=not.eq.2', [1, 3]],
    ['n=gte.1,n=lte.2', [1, 2]],
    ['n=isdistinct.2', [1, 3, 4]],
    ['n=is.null', [4]],
    ['label=like.b%', [2]],
    ['label=ilike.APP%', [1]],
    ['label=eq."a,b"', [4]],
    ['label=in.("a,b",apple)', [1, 4]],
    ['price=eq.1', [1]],
    ['price=gt.2.4', [2, 3]],
    ['flag=is.true', [1]],
    ['flag=not.is.true', [2, 3, 4]],
    ['flag=eq.false', [2]],
    [`uid=eq.${UID.toUpperCase()}`, [1]],
    ['label=match.^c', [3]],
  ];
  let recs: [string, number[], Recorder][];

  beforeAll(async () => {
    recs = [];
    for (const [filter, expected] of cases) {
      const rec = await record(engine, service, [
        { event: 'INSERT', schema: 'public', table: 'rtf', filter },
      ]);
      expect(rec.result, filter).toEqual({ ok: true });
      recs.push([filter, expected, rec]);
    }
  });

  it('each operator selects exactly the rows Postgres says it should', async () => {
    const witness = await record(engine, service, [{ event: 'INSERT', schema: 'public', table: 'rtf' }]);
    const before = changesMetrics(engine);
    await sql(`insert into rtf values (1, 1, 'apple', 1.0, true, $1)`, [UID]);
    await sql(`insert into rtf values (2, 2, 'banana', 2.50, false, null)`);
    await sql(`insert into rtf values (3, 3, 'cherry', 10, null, null)`);
    await sql(`insert into rtf values (4, null, 'a,b', null, null, null)`);
    await witness.waitFor(byId(4), 'the last row');
    for (const [filter, expected, rec] of recs) {
      expect(
        rec.received.map((r) => r.data.record?.['id']),
        filter,
      ).toEqual(expected);
    }
    // numeric, like and match have no exact Node evaluation: they were batched into SQL.
    expect(changesMetrics(engine).filterQueries - before.filterQueries).toBe(4);
    engine.unsubscribe(witness.key);
  });

  it('UPDATE filters see the new row; DELETE filters see the old one', async () => {
    const upd = await record(engine, service, [
      { event: 'UPDATE', schema: 'public', table: 'rtf', filter: 'n=eq.20' },
    ]);
    const del = await record(engine, service, [
      { event: 'DELETE', schema: 'public', table: 'rtf', filter: 'label=eq.banana' },
    ]);
    await sql(`update rtf set n = 20 where id = 2`);
    await sql(`delete from rtf where id in (1, 2)`);
    const u = await upd.waitFor(byId(2, 'UPDATE'), 'UPDATE to n=20');
    expect(u.data.old_record).toMatchObject({ id: 2, n: 2 });
    const d = await del.waitFor(byId(2, 'DELETE'), 'DELETE of banana');
    expect(d.data.old_record).toMatchObject({ id: 2, label: 'banana' });
    expect(del.received).toHaveLength(1);
    engine.unsubscribe(upd.key);
    engine.unsubscribe(del.key);
  });
});
