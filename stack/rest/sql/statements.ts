import pg from 'pg';
import { payloadColumnNotFound } from '../errors.ts';
import type { ApiQuery } from '../query-params.ts';
import type { Column, Table } from '../schema-cache.ts';
import type { EmbedPlanner } from './embed.ts';
import {
  limitOffsetSql,
  orderSql,
  qualifiedName,
  type Scope,
  selectListSql,
  whereSql,
} from './expressions.ts';
import { Params } from './params.ts';

const ident = pg.escapeIdentifier;

export interface Statement {
  sql: string;
  values: unknown[];
}

/** What every statement answers, in one row (PostgREST's `mainRead`/`mainWrite` shape). */
export interface ResultRow {
  total_result_set: string | null;
  page_total: string;
  body: string;
  /** The first element alone, for `application/vnd.pgrst.object+json`. */
  single_body: string | null;
  inserted: string | null;
}

export interface BodyShape {
  /** `nulls=stripped` in the Accept header. */
  stripNulls: boolean;
  /** `text/csv` instead of JSON (reads only). */
  csv: boolean;
}

/** Postgres builds the JSON, so types serialize exactly as behind PostgREST. */
function bodyColumns(shape: BodyShape): string {
  if (shape.csv) {
    // PostgREST's CSV: the keys of the first row as the header, then each row's text form without
    // its parentheses (Postgres quotes values with commas, quotes or blanks as CSV expects).
    const header =
      `(SELECT coalesce(string_agg(a.k, ','), '') FROM (SELECT json_object_keys(r)::text AS k ` +
      `FROM (SELECT row_to_json(hh) AS r FROM pgrst_source AS hh LIMIT 1) s) a)`;
    const rows = `coalesce(string_agg(substring(_postgrest_t::text, 2, length(_postgrest_t::text) - 2), E'\\n'), '')`;
    return `pg_catalog.count(_postgrest_t) AS page_total, ${header} || E'\\n' || ${rows} AS body, NULL AS single_body`;
  }
  const agg = shape.stripNulls ? 'json_strip_nulls(json_agg(_postgrest_t))' : 'json_agg(_postgrest_t)';
  return (
    `pg_catalog.count(_postgrest_t) AS page_total, ` +
    `coalesce(${agg}, '[]')::text AS body, ` +
    `(${agg}->0)::text AS single_body`
  );
}

export function readStatement(
  table: Table,
  query: ApiQuery,
  options: { count: boolean; shape: BodyShape; embeds: EmbedPlanner },
): Statement {
  const params = new Params();
  const scope: Scope = { table, qualifier: qualifiedName(table), params };
  const select = selectListSql(scope, query.select, options.embeds.embedder());
  options.embeds.checkAllLevelsUsed();
  // Embedded resources join laterally; an `!inner` one also decides which rows (and so the count).
  const from = `${qualifiedName(table)}${options.embeds.joinsFor(scope.qualifier)}`;
  const where = whereSql(scope, query.filters, query.logic);
  const order = orderSql(scope, query.order);
  const page = limitOffsetSql(params, query.limit, query.offset);
  const count = options.count ? `(SELECT pg_catalog.count(*) FROM ${from}${where})` : 'NULL::bigint';
  const sql =
    `WITH pgrst_source AS (SELECT ${select} FROM ${from}${where}${order}${page}) ` +
    `SELECT ${count} AS total_result_set, ${bodyColumns(options.shape)}, NULL AS inserted ` +
    `FROM (SELECT * FROM pgrst_source) _postgrest_t`;
  return { sql, values: params.values };
}

export type Payload = Record<string, unknown> | Record<string, unknown>[];

export interface MutationOptions {
  /** The select list when the response carries rows; undefined = `return=minimal`/headers-only. */
  returning: ApiQuery['select'] | undefined;
  shape: BodyShape;
  embeds: EmbedPlanner;
}

/**
 * Wrap a data-modifying statement as PostgREST does: the mutation in a CTE, the response rows
 * selected from it under the table's own name so `select=` columns resolve as in a read.
 */
function wrapMutation(
  table: Table,
  params: Params,
  mutation: string,
  options: MutationOptions,
  inserted: string,
): Statement {
  const alias = ident(table.name);
  const scope: Scope = { table, qualifier: alias, params };
  const select = options.returning ? selectListSql(scope, options.returning, options.embeds.embedder()) : '';
  options.embeds.checkAllLevelsUsed();
  const sql =
    `WITH pgrst_source AS (${mutation}) ` +
    `SELECT NULL::bigint AS total_result_set, ${bodyColumns(options.shape)}, ${inserted} AS inserted ` +
    `FROM (SELECT ${select} FROM pgrst_source AS ${alias}${options.embeds.joinsFor(alias)}) _postgrest_t`;
  return { sql, values: params.values };
}

/** The columns a payload writes: `columns=` when given, else the keys of the body. */
export function payloadColumns(table: Table, payload: Payload, columns: string[] | undefined): Column[] {
  const names = columns ?? [...new Set((Array.isArray(payload) ? payload : [payload]).flatMap(Object.keys))];
  return names.map((name) => {
    const column = table.columns.get(name);
    if (!column) throw payloadColumnNotFound(table.name, name);
    return column;
  });
}

/**
 * `FROM (SELECT $1 AS json_data) pgrst_payload, LATERAL (…) pgrst_body`: the JSON body as typed
 * rows via json_to_recordset, typed with the catalog's column types. With `missing=default`, each
 * object is first merged over the columns' default expressions, as PostgREST does.
 */
function bodySource(
  params: Params,
  payload: Payload,
  columns: Column[],
  applyDefaults: boolean,
  single: boolean,
): string {
  const isObject = !Array.isArray(payload);
  const json = params.add(JSON.stringify(payload));
  let source = 'pgrst_payload.json_data';
  let defaults = '';
  const withDefaults = columns.filter((c) => c.defaultExpr !== null);
  if (applyDefaults && withDefaults.length) {
    // Default expressions come from the catalog (pg_get_expr), never from the request.
    const defs = `jsonb_build_object(${withDefaults.map((c) => `${pg.escapeLiteral(c.name)}, ${c.defaultExpr}`).join(', ')})`;
    defaults = isObject
      ? `LATERAL (SELECT ${defs} || pgrst_payload.json_data::jsonb AS val) pgrst_json_defs, `
      : `LATERAL (SELECT jsonb_agg(${defs} || elem) AS val FROM jsonb_array_elements(pgrst_payload.json_data::jsonb) elem) pgrst_json_defs, `;
    source = 'pgrst_json_defs.val';
  }
  const jsonb = defaults !== '';
  let rows: string;
  if (columns.length === 0) {
    rows = isObject ? '(VALUES (1)) _' : `${jsonb ? 'jsonb' : 'json'}_array_elements(${source}) _`;
  } else {
    const fn = `${jsonb ? 'jsonb' : 'json'}_to_record${isObject ? '' : 'set'}`;
    const typed = columns.map((c) => `${ident(c.name)} ${c.type}`).join(', ');
    rows = `${fn}(${source}) AS _(${typed})${single ? ' LIMIT 1' : ''}`;
  }
  const names = columns.map((c) => ident(c.name)).join(', ');
  return (
    `FROM (SELECT ${json}::json AS json_data) pgrst_payload, ${defaults}` +
    `LATERAL (SELECT ${names || '1'} FROM ${rows}) pgrst_body`
  );
}

export interface InsertOptions extends MutationOptions {
  columns: Column[];
  applyDefaults: boolean;
  onConflict?: { columns: string[]; resolution: 'merge-duplicates' | 'ignore-duplicates' };
}

export function insertStatement(table: Table, payload: Payload, options: InsertOptions): Statement {
  const params = new Params();
  const target = qualifiedName(table);
  const cols = options.columns.map((c) => ident(c.name)).join(', ');
  const body = bodySource(params, payload, options.columns, options.applyDefaults, false);
  let conflict = '';
  if (options.onConflict) {
    const on = options.onConflict.columns.map(ident).join(', ');
    const merge = options.columns.map((c) => `${ident(c.name)} = EXCLUDED.${ident(c.name)}`).join(', ');
    conflict =
      options.onConflict.resolution === 'merge-duplicates' && merge
        ? ` ON CONFLICT(${on}) DO UPDATE SET ${merge}`
        : ` ON CONFLICT(${on}) DO NOTHING`;
  }
  const select = options.columns.map((c) => `pgrst_body.${ident(c.name)}`).join(', ');
  // On an upsert, xmax = 0 marks a row this statement inserted rather than updated: PostgREST
  // answers 200 instead of 201 when a merge inserted nothing. (Views have no xmax; they cannot be
  // upsert targets anyway, having no unique index.)
  const upsert = options.onConflict !== undefined;
  const mutation =
    `INSERT INTO ${target}${cols ? `(${cols})` : ''} SELECT ${select} ${body}${conflict} ` +
    `RETURNING ${target}.*${upsert ? ', (xmax = 0) AS pgrst_inserted' : ''}`;
  const inserted = upsert
    ? '(SELECT pg_catalog.count(*) FROM pgrst_source WHERE pgrst_inserted)'
    : '(SELECT pg_catalog.count(*) FROM pgrst_source)';
  return wrapMutation(table, params, mutation, options, inserted);
}

export interface UpdateOptions extends MutationOptions {
  columns: Column[];
  applyDefaults: boolean;
}

export function updateStatement(
  table: Table,
  payload: Payload,
  query: ApiQuery,
  options: UpdateOptions,
): Statement {
  const params = new Params();
  const target = qualifiedName(table);
  if (options.columns.length === 0) {
    // `UPDATE … SET` needs a column; an empty body changes nothing and returns no rows.
    return wrapMutation(table, params, `SELECT ${target}.* FROM ${target} WHERE false`, options, 'NULL');
  }
  const set = options.columns.map((c) => `${ident(c.name)} = pgrst_body.${ident(c.name)}`).join(', ');
  const body = bodySource(params, payload, options.columns, options.applyDefaults, true);
  const scope: Scope = { table, qualifier: target, params };
  const where = whereSql(scope, query.filters, query.logic);
  const mutation = `UPDATE ${target} SET ${set} ${body}${where} RETURNING ${target}.*`;
  return wrapMutation(table, params, mutation, options, 'NULL');
}

export function deleteStatement(table: Table, query: ApiQuery, options: MutationOptions): Statement {
  const params = new Params();
  const target = qualifiedName(table);
  const scope: Scope = { table, qualifier: target, params };
  const where = whereSql(scope, query.filters, query.logic);
  return wrapMutation(table, params, `DELETE FROM ${target}${where} RETURNING ${target}.*`, options, 'NULL');
}
