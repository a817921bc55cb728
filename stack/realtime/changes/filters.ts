/**
 * Filter evaluation with hosted semantics (check_equality_op.sql, is_visible_through_filters.sql):
 * `'<column value>'::<type> <op> ('<filter value>'::<type>)`, negated by `not.`, and a NULL result
 * (a NULL column value, or a column missing from the change) fails the filter. Filters whose result
 * Node can compute exactly (integer comparisons; equality on types whose canonical text is their
 * identity) run in Node; everything else is batched into one SQL query per change.
 */
import pg from 'pg';
import type { Filter } from './params.ts';

/** What `realtime.rtm_check_subscription` reports for each filter. */
export interface FilterCheck {
  type: string;
  typname: string;
  deterministic: boolean;
  canonical: string | (string | null)[] | null;
}

/** A column's value in a change: text, SQL NULL, or absent (unchanged TOAST / not in the identity). */
export type Row = Map<string, string | null>;

export interface CompiledFilter extends Filter {
  /** `regtype` text of the column, for SQL casts. */
  type: string;
  /** Exact Node evaluation, when one exists for this type and operator. */
  evaluate?: (value: string | null) => boolean;
  /** Dedupe key across subscribers for the SQL batch. */
  key: string;
}

const INTEGER_TYPES = new Set(['int2', 'int4', 'int8', 'oid']);
/** Equality is byte equality of the canonical output text (with a deterministic collation). */
const IDENTITY_TYPES = new Set(['text', 'varchar', 'name', 'uuid', 'bool']);

export function compileFilter(filter: Filter, check: FilterCheck): CompiledFilter {
  const key = `${filter.column}\u0000${check.type}\u0000${filter.op}\u0000${filter.negate}\u0000${filter.value}`;
  return { ...filter, type: check.type, key, evaluate: nodeEvaluator(filter, check) };
}

function nodeEvaluator(filter: Filter, check: FilterCheck): CompiledFilter['evaluate'] {
  const { op, negate } = filter;
  if (op === 'is') {
    if (filter.value === 'null') return (v) => (v === null) !== negate;
    if (check.typname !== 'bool') return undefined;
    const target = filter.value === 'true' ? 't' : filter.value === 'false' ? 'f' : null;
    return (v) => (v === target) !== negate;
  }
  const integer = INTEGER_TYPES.has(check.typname);
  const identity = IDENTITY_TYPES.has(check.typname) && check.deterministic;
  if (!integer && !identity) return undefined;
  const norm = (s: string): string | bigint =>
    integer ? BigInt(s) : check.typname === 'bool' ? (s === 'true' || s === 't' ? 't' : 'f') : s;

  if (op === 'in') {
    const list = check.canonical;
    if (!Array.isArray(list) || list.some((x) => x === null)) return undefined;
    const set = new Set(list.map((x) => String(norm(x as string))));
    return (v) => v !== null && set.has(String(norm(v))) !== negate;
  }
  if (typeof check.canonical !== 'string') return undefined;
  const target = norm(check.canonical);
  if (op === 'isdistinct') {
    // IS DISTINCT FROM never yields NULL; `not.` turns it into IS NOT DISTINCT FROM.
    return (v) => (v === null || norm(v) !== target) !== negate;
  }
  const compare = comparator(op, integer);
  if (!compare) return undefined;
  return (v) => v !== null && compare(norm(v), target) !== negate;
}

function comparator(
  op: string,
  ordered: boolean,
): ((a: string | bigint, b: string | bigint) => boolean) | undefined {
  switch (op) {
    case 'eq':
      return (a, b) => a === b;
    case 'neq':
      return (a, b) => a !== b;
    case 'lt':
      return ordered ? (a, b) => a < b : undefined;
    case 'lte':
      return ordered ? (a, b) => a <= b : undefined;
    case 'gt':
      return ordered ? (a, b) => a > b : undefined;
    case 'gte':
      return ordered ? (a, b) => a >= b : undefined;
    default:
      return undefined;
  }
}

const SQL_OPS: Record<string, string> = {
  eq: '=',
  neq: '!=',
  lt: '<',
  lte: '<=',
  gt: '>',
  gte: '>=',
  like: 'LIKE',
  ilike: 'ILIKE',
  match: '~',
  imatch: '~*',
};

/** One SQL boolean expression for a filter, with `$a` the column value and `$b` the filter value. */
function sqlExpression(f: CompiledFilter, a: number, b: number): string {
  const col = `$${a}::${f.type}`;
  if (f.op === 'isdistinct') {
    return `${col} ${f.negate ? 'IS NOT DISTINCT FROM' : 'IS DISTINCT FROM'} $${b}::${f.type}`;
  }
  if (f.op === 'is') return `${col} ${f.negate ? 'IS NOT' : 'IS'} ${f.value.toUpperCase()}`;
  const rhs = f.op === 'in' ? `any($${b}::${f.type}[])` : `($${b}::${f.type})`;
  const expr = `${col} ${f.op === 'in' ? '=' : SQL_OPS[f.op]} ${rhs}`;
  return f.negate ? `not (${expr})` : expr;
}

/** A filter Postgres could not evaluate against one row (its subscribers miss that change). */
export type FilterFailure = (filter: CompiledFilter, error: pg.DatabaseError) => void;

/**
 * Evaluate the filters Node cannot, in one query. Returns results by filter key; a filter whose
 * column is absent from the row is false without asking Postgres. Should the batch fail, each
 * filter is asked on its own, and one that fails (an input the subscribe check let through) is
 * false for its own subscribers only: the others still get the change.
 */
export async function evaluateInSql(
  pool: pg.Pool,
  pending: CompiledFilter[],
  row: Row,
  onFailure: FilterFailure = () => {},
): Promise<Map<string, boolean>> {
  const results = new Map<string, boolean>();
  const asked: { f: CompiledFilter; value: string | null }[] = [];
  const seen = new Set<string>();
  for (const f of pending) {
    if (seen.has(f.key)) continue;
    seen.add(f.key);
    if (!row.has(f.column)) {
      results.set(f.key, false);
      continue;
    }
    asked.push({ f, value: row.get(f.column) ?? null });
  }
  if (!asked.length) return results;
  const exprs = asked.map(({ f }, i) => `coalesce(${sqlExpression(f, 2 * i + 1, 2 * i + 2)}, false)`);
  const values = asked.flatMap(({ f, value }) => [value, f.value]);
  try {
    const { rows } = await pool.query<{ r: boolean[] }>(`select array[${exprs.join(', ')}] as r`, values);
    asked.forEach(({ f }, i) => {
      results.set(f.key, rows[0]?.r[i] === true);
    });
  } catch (error) {
    if (!(error instanceof pg.DatabaseError)) throw error;
    for (const { f, value } of asked) {
      try {
        const { rows } = await pool.query<{ r: boolean }>(
          `select coalesce(${sqlExpression(f, 1, 2)}, false) as r`,
          [value, f.value],
        );
        results.set(f.key, rows[0]?.r === true);
      } catch (single) {
        if (!(single instanceof pg.DatabaseError)) throw single;
        results.set(f.key, false);
        onFailure(f, single);
      }
    }
  }
  return results;
}

/** A subscriber's filters against a row: all must hold; `undefined` = some need SQL. */
export function evaluateInNode(filters: CompiledFilter[], row: Row): boolean | undefined {
  let needsSql = false;
  for (const f of filters) {
    if (!f.evaluate) {
      needsSql = true;
      continue;
    }
    if (!row.has(f.column)) return false;
    if (!f.evaluate(row.get(f.column) ?? null)) return false;
  }
  return needsSql ? undefined : true;
}
