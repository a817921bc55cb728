/**
 * Binding parsing and hosted message formatting without a database: the cases of supabase/realtime's
 * `parse_subscription_params` doctests and the Elixir inspect forms clients see.
 */
import { describe, expect, it } from 'vitest';
import {
  describeParams,
  parseSubscriptionParams,
  splitTopLevel,
} from '../../stack/realtime/changes/params.ts';
import { commitTimestamp } from '../../stack/realtime/changes/pgoutput.ts';
import { postgrexMessage } from '../../stack/realtime/changes/sqlstate.ts';
import type { PostgresChangesParams } from '../../stack/realtime/changes-api.ts';

const parse = (p: Record<string, unknown>) => parseSubscriptionParams(p as PostgresChangesParams);
const filters = (filter: string) => {
  const r = parse({ event: '*', schema: 'public', table: 't', filter });
  if (!r.ok) throw new Error(r.message);
  return r.params.filters.map((f) => [f.column, f.op, f.value, f.negate]);
};

describe('parse_subscription_params', () => {
  it('parses operators, not., in lists, AND and quoted values as hosted does', () => {
    expect(filters('subject=eq.hey')).toEqual([['subject', 'eq', 'hey', false]]);
    expect(filters('subject=in.(hidee,ho)')).toEqual([['subject', 'in', '{hidee,ho}', false]]);
    expect(filters('subject=not.like.hey%')).toEqual([['subject', 'like', 'hey%', true]]);
    expect(filters('id=gt.0,id=lt.100')).toEqual([
      ['id', 'gt', '0', false],
      ['id', 'lt', '100', false],
    ]);
    expect(filters('   ')).toEqual([]);
    expect(filters('a=eq."x,y",b=eq."say \\"hi\\""')).toEqual([
      ['a', 'eq', 'x,y', false],
      ['b', 'eq', 'say "hi"', false],
    ]);
    // A value that is not one well-formed quoted string stays as written.
    expect(filters('a=eq."x"y')).toEqual([['a', 'eq', '"x"y', false]]);
    expect(filters('a=eq.x=y.z')).toEqual([['a', 'eq', 'x=y.z', false]]);
  });

  it('splits only on top-level commas', () => {
    expect(splitTopLevel('a=in.(1,2),b=eq."3,4",c=eq.5')).toEqual(['a=in.(1,2)', 'b=eq."3,4"', 'c=eq.5']);
    // A quote only opens after `.`, `(` or `,`.
    expect(splitTopLevel('a=eq.x"y,b=eq.1')).toEqual(['a=eq.x"y', 'b=eq.1']);
  });

  it('defaults: event, only schema, only table', () => {
    expect(parse({ schema: 'public' })).toEqual({
      ok: true,
      params: { action: '*', schema: 'public', table: '*', filters: [], selected: null },
    });
    expect(parse({ event: 'update', table: 'messages' })).toEqual({
      ok: true,
      params: { action: 'UPDATE', schema: 'public', table: 'messages', filters: [], selected: null },
    });
    expect(parse({ event: 'truncate', schema: 'public', table: 'm' })).toMatchObject({
      params: { action: '*' },
    });
  });

  it('refuses with the hosted messages', () => {
    const msg = (p: Record<string, unknown>) => {
      const r = parse(p);
      return r.ok ? undefined : r.message;
    };
    expect(msg({})).toBe(
      'No subscription params provided. Please provide at least a `schema` or `table` to subscribe to: %{}',
    );
    expect(msg({ event: '*', schema: 'public', filter: 'id=eq.1' })).toBe(
      'No subscription params provided. Please provide at least a `schema` or `table` to subscribe to: %{"event" => "*", "filter" => "id=eq.1", "schema" => "public"}',
    );
    expect(msg({ user_token: 'secret-token' })).toBe(
      'No subscription params provided. Please provide at least a `schema` or `table` to subscribe to: <redacted>',
    );
    expect(msg({ schema: 'public', table: 't', select: 'a,b' })).toBe(
      'Error parsing `select` params: expected a list of column name strings, e.g. select: ["col1", "col2"]',
    );
    expect(msg({ schema: 'public', select: ['a'] })).toBe(
      'Column selection is not supported for wildcard subscriptions. Provide an explicit schema and table name.',
    );
    expect(msg({ schema: 'public', table: 't', filter: 'subject=foo.hey' })).toBe(
      'Error parsing `filter` params: ["foo", "hey"]',
    );
  });

  it('describes params the way hosted logs them', () => {
    const r = parse({
      event: 'INSERT',
      schema: 'public',
      table: 'todos',
      filter: 'id=eq.1,title=eq."a\\"b"',
    });
    if (!r.ok) throw new Error(r.message);
    expect(describeParams(r.params)).toBe(
      'event: INSERT, schema: public, table: todos, filters: [{"id", "eq", "1", false}, {"title", "eq", "a\\"b", false}], select: nil',
    );
    const s = parse({ event: '*', schema: 'public', table: 'todos', select: ['a', 'b'] });
    if (!s.ok) throw new Error(s.message);
    expect(describeParams(s.params)).toBe(
      'event: *, schema: public, table: todos, filters: [], select: ["a", "b"]',
    );
  });
});

describe('formatting', () => {
  it('commit_timestamp truncates to milliseconds in UTC', () => {
    // 2026-01-01T12:00:00.123999Z in microseconds since 2000-01-01.
    const micros = BigInt(Date.UTC(2026, 0, 1, 12, 0, 0, 123) - Date.UTC(2000, 0, 1)) * 1000n + 999n;
    expect(commitTimestamp(micros)).toBe('2026-01-01T12:00:00.123Z');
  });

  it('Postgres errors read as Postgrex prints them', () => {
    expect(
      postgrexMessage({
        severity: 'ERROR',
        code: '22P02',
        message: 'invalid input syntax for type integer: "hey"',
      }),
    ).toBe('ERROR 22P02 (invalid_text_representation) invalid input syntax for type integer: "hey"');
    expect(postgrexMessage({ severity: 'ERROR', code: '42704', message: 'role "x" does not exist' })).toBe(
      'ERROR 42704 (undefined_object) role "x" does not exist',
    );
  });
});
