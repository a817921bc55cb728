import pg from 'pg';
import { columnNotFound, pgrstError } from '../errors.ts';
import type { Field } from '../parse/field.ts';
import type { Filter, LogicTree, OpExpr, Operation } from '../parse/filter.ts';
import type { OrderTerm } from '../parse/order.ts';
import type { SelectItem } from '../parse/select.ts';
import type { Table } from '../schema-cache.ts';
import type { Params } from './params.ts';

const ident = pg.escapeIdentifier;

/** `"schema"."table"`, from catalog names only. */
export function qualifiedName(table: Table): string {
  return `${ident(table.schema)}.${ident(table.name)}`;
}

/**
 * How columns are referenced in one statement: the relation they come from (`"public"."todos"` in a
 * read, the CTE alias `"todos"` around a mutation) and the table whose catalog entry vouches for them.
 */
export interface Scope {
  table: Table;
  qualifier: string;
  params: Params;
}

/** A column reference; the name must be a catalog column, else Postgres' own 42703 wording. */
export function fieldSql(scope: Scope, field: Field): string {
  if (!scope.table.columns.has(field.name)) throw columnNotFound(scope.table.name, field.name);
  let sql = `${scope.qualifier}.${ident(field.name)}`;
  for (const op of field.json) {
    const key = op.index ? `${scope.params.add(op.key)}::int` : `${scope.params.add(op.key)}::text`;
    sql = `${sql}${op.arrow}${key}`;
  }
  return field.json.length ? `(${sql})` : sql;
}

/** The output name PostgREST gives a field: its alias, else the last JSON key, else the column. */
function outputName(field: Field, alias: string | undefined): string {
  if (alias !== undefined) return alias;
  const lastKey = [...field.json].reverse().find((op) => !op.index);
  return lastKey?.key ?? field.name;
}

export type RelationItem = Extract<SelectItem, { kind: 'relation' }>;

/**
 * Embeds a relation: adds its join to the statement and answers the select expression for it
 * (undefined for an empty embed such as `rel!inner()`, which filters but outputs nothing).
 */
export type Embedder = (scope: Scope, item: RelationItem) => string | undefined;

export function selectListSql(scope: Scope, items: SelectItem[], embed?: Embedder): string {
  const parts: string[] = [];
  for (const item of items) {
    switch (item.kind) {
      case 'star':
        for (const column of scope.table.columns.keys()) parts.push(`${scope.qualifier}.${ident(column)}`);
        break;
      case 'field': {
        if (item.aggregate) throw aggregatesNotAllowed();
        const expr = fieldSql(scope, item.field);
        const typed = item.cast ? `CAST(${expr} AS ${item.cast})` : expr;
        parts.push(`${typed} AS ${ident(outputName(item.field, item.alias))}`);
        break;
      }
      case 'count':
        throw aggregatesNotAllowed();
      case 'relation': {
        if (embed && !item.spread) {
          const expr = embed(scope, item);
          if (expr) parts.push(expr);
          break;
        }
        throw pgrstError(
          400,
          'PGRST127',
          'Feature not implemented',
          `Spread embedding ('...${item.name}') is not implemented by the embedded stack's REST service; embed '${item.name}' as a nested object instead.`,
        );
      }
    }
  }
  // An empty list (`select=`, or only `rel!inner()` filters) selects no columns: rows become `{}`.
  return parts.join(', ');
}

function aggregatesNotAllowed() {
  return pgrstError(400, 'PGRST123', 'Use of aggregate functions is not allowed');
}

const QUANT_SQL = {
  eq: '=',
  gte: '>=',
  gt: '>',
  lte: '<=',
  lt: '<',
  like: 'LIKE',
  ilike: 'ILIKE',
  match: '~',
  imatch: '~*',
} as const;

const SIMPLE_SQL = {
  neq: '<>',
  cs: '@>',
  cd: '<@',
  ov: '&&',
  sl: '<<',
  sr: '>>',
  nxr: '&<',
  nxl: '&>',
  adj: '-|-',
} as const;

const FTS_SQL = {
  fts: 'to_tsquery',
  plfts: 'plainto_tsquery',
  phfts: 'phraseto_tsquery',
  wfts: 'websearch_to_tsquery',
} as const;

const IS_SQL = {
  null: 'NULL',
  not_null: 'NOT NULL',
  true: 'TRUE',
  false: 'FALSE',
  unknown: 'UNKNOWN',
} as const;

function operationSql(scope: Scope, column: string, operation: Operation): string {
  const p = scope.params;
  switch (operation.kind) {
    case 'quant': {
      const isLike = operation.op === 'like' || operation.op === 'ilike';
      // PostgREST lets `*` stand for `%` in patterns (a `%` is awkward in URLs).
      const value = isLike ? operation.value.replaceAll('*', '%') : operation.value;
      const op = QUANT_SQL[operation.op];
      if (operation.quant) return `${column} ${op} ${operation.quant.toUpperCase()}(${p.add(value)})`;
      return `${column} ${op} ${p.add(value)}`;
    }
    case 'simple':
      return `${column} ${SIMPLE_SQL[operation.op]} ${p.add(operation.value)}`;
    case 'in':
      if (operation.values.length === 1 && operation.values[0] === '') return `${column} = ANY('{}')`;
      return `${column} = ANY(${p.add(operation.values)})`;
    case 'is':
      return `${column} IS ${IS_SQL[operation.value]}`;
    case 'isdistinct':
      return `${column} IS DISTINCT FROM ${p.add(operation.value)}`;
    case 'fts': {
      const lang = operation.lang ? `${p.add(operation.lang)}::regconfig, ` : '';
      return `${column} @@ ${FTS_SQL[operation.op]}(${lang}${p.add(operation.value)})`;
    }
  }
}

function opExprSql(scope: Scope, field: Field, expr: OpExpr): string {
  const sql = operationSql(scope, fieldSql(scope, field), expr.operation);
  return expr.negate ? `NOT (${sql})` : sql;
}

export function filterSql(scope: Scope, filter: Filter): string {
  return opExprSql(scope, filter.field, filter.expr);
}

export function logicSql(scope: Scope, tree: LogicTree): string {
  if (tree.kind === 'filter') return filterSql(scope, tree.filter);
  const joined = tree.children
    .map((child) => logicSql(scope, child))
    .join(tree.op === 'and' ? ' AND ' : ' OR ');
  const sql = `(${joined})`;
  return tree.negate ? `NOT ${sql}` : sql;
}

/** `WHERE …` for the filters and logic trees of a request, or '' when there are none. */
export function whereSql(scope: Scope, filters: Filter[], logic: LogicTree[]): string {
  const parts = [...filters.map((f) => filterSql(scope, f)), ...logic.map((t) => logicSql(scope, t))];
  return parts.length ? ` WHERE ${parts.join(' AND ')}` : '';
}

export function orderSql(scope: Scope, terms: OrderTerm[]): string {
  if (!terms.length) return '';
  const parts = terms.map((t) => {
    const dir = t.direction ? ` ${t.direction.toUpperCase()}` : '';
    const nulls = t.nulls ? ` NULLS ${t.nulls.toUpperCase()}` : '';
    return `${fieldSql(scope, t.field)}${dir}${nulls}`;
  });
  return ` ORDER BY ${parts.join(', ')}`;
}

export function limitOffsetSql(params: Params, limit: number | undefined, offset: number): string {
  if (limit === undefined && offset === 0) return '';
  return ` LIMIT ${limit === undefined ? 'ALL' : params.add(limit)} OFFSET ${params.add(offset)}`;
}
