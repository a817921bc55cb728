import type { IncomingMessage, ServerResponse } from 'node:http';
import pg from 'pg';
import type { ProjectContext } from '../context.ts';
import type { RestIdentity } from './auth.ts';
import { fromExecutionError, pgrstError, singularityError } from './errors.ts';
import { closestName } from './fuzzy.ts';
import { negotiate } from './media.ts';
import { parsePreferences } from './preferences.ts';
import { readPayload, requestGucs, requestSchema } from './request.ts';
import { contentRange, send } from './respond.ts';
import type { Routine, SchemaCache } from './schema-cache.ts';

const ident = pg.escapeIdentifier;

export interface RpcRequest {
  ctx: ProjectContext;
  cache: SchemaCache;
  identity: RestIdentity;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  functionName: string;
  path: string;
}

// Query parameters that shape the response rather than name arguments.
const NOT_ARGUMENTS = new Set(['select', 'order', 'limit', 'offset', 'columns', 'on_conflict', 'apikey']);

/**
 * `POST /rpc/<fn>` with named arguments in a JSON object (supabase-js `.rpc()`), or GET/HEAD with
 * arguments in the query string. The overload is chosen by argument names as PostgREST does. Filters,
 * ordering and `select=` on the function's result are not implemented and are refused, not ignored.
 */
export async function handleRpc(r: RpcRequest): Promise<void> {
  const method = r.req.method ?? 'GET';
  if (!['GET', 'HEAD', 'POST'].includes(method)) {
    throw pgrstError(405, 'PGRST101', `Cannot use the ${method} method on RPC`);
  }
  const { schema, negotiated } = requestSchema(r.req, r.cache.schemas);
  const media = negotiate(r.req);
  if (media.csv) {
    throw pgrstError(
      406,
      'PGRST107',
      'None of these media types are available: text/csv',
      'The embedded REST service answers RPC results as JSON only.',
    );
  }
  const prefs = parsePreferences(r.req);
  const shaping = [...r.url.searchParams.keys()].filter(
    (k) => k !== 'apikey' && (method === 'POST' || NOT_ARGUMENTS.has(k)),
  );
  if (shaping.length) {
    throw pgrstError(
      400,
      'PGRST127',
      'Feature not implemented',
      `Query parameters on RPC results (${shaping.join(', ')}) are not implemented by the embedded REST service.`,
    );
  }
  const args: Record<string, unknown> =
    method === 'POST'
      ? await readArgs(r.req)
      : Object.fromEntries([...r.url.searchParams].filter(([k]) => k !== 'apikey'));
  const routine = await pickRoutine(r.cache, schema, r.functionName, Object.keys(args));

  const provided = routine.params.filter((p) => p.name in args);
  const call = `${ident(routine.schema)}.${ident(routine.name)}(${provided.map((p) => `${ident(p.name)} := pgrst_args.${ident(p.name)}`).join(', ')})`;
  const from = provided.length
    ? `json_to_record($1::json) AS pgrst_args(${provided.map((p) => `${ident(p.name)} ${p.type}`).join(', ')})`
    : '(SELECT $1::json) AS pgrst_args';
  const scalar = !routine.returnsComposite;
  const source = scalar
    ? routine.returnsSet
      ? `SELECT pgrst_call.pgrst_scalar FROM ${from}, LATERAL ${call} pgrst_call(pgrst_scalar)`
      : `SELECT ${call} AS pgrst_scalar FROM ${from}`
    : `SELECT pgrst_call.* FROM ${from}, LATERAL ${call} pgrst_call`;
  const item = scalar ? '_postgrest_t.pgrst_scalar' : '_postgrest_t';
  const sql =
    `WITH pgrst_source AS (${source}) ` +
    `SELECT pg_catalog.count(_postgrest_t) AS page_total, ` +
    `coalesce(json_agg(${item}), '[]')::text AS body, (json_agg(${item})->0)::text AS single_body ` +
    `FROM (SELECT * FROM pgrst_source) _postgrest_t`;

  const gucs = requestGucs(r.req, r.path, schema);
  let row: { page_total: string; body: string; single_body: string | null };
  try {
    row = await r.ctx.db.asClaims(
      r.identity.claims,
      async (client) => {
        const result = await client.query(sql, [JSON.stringify(args)]);
        const first = result.rows[0] as typeof row;
        const rows = Number(first.page_total);
        if (media.singular && routine.returnsSet && rows !== 1) throw singularityError(rows);
        return first;
      },
      gucs,
    );
  } catch (error) {
    throw fromExecutionError(error, r.identity.authed);
  }
  const headers: Record<string, string> = {};
  if (negotiated) headers['Content-Profile'] = schema;
  if (prefs.applied.length) headers['Preference-Applied'] = prefs.applied.join(', ');
  if (routine.returnsVoid) {
    send(r.res, 204, headers, undefined, undefined);
    return;
  }
  const rows = Number(row.page_total);
  headers['Content-Range'] = contentRange(0, rows - 1, undefined);
  // A function returning one value (scalar or row) answers that value; a set answers an array.
  const body = !routine.returnsSet || media.singular ? (row.single_body ?? 'null') : row.body;
  send(r.res, 200, headers, body, media.contentType, method === 'HEAD');
}

async function readArgs(req: IncomingMessage): Promise<Record<string, unknown>> {
  const payload = await readPayload(req, true, true);
  if (Array.isArray(payload)) {
    throw pgrstError(400, 'PGRST102', 'Empty or invalid json', 'RPC arguments must be a JSON object');
  }
  return payload;
}

async function pickRoutine(
  cache: SchemaCache,
  schema: string,
  name: string,
  keys: string[],
): Promise<Routine> {
  const overloads = await cache.routine(schema, name);
  const fits = (routine: Routine) =>
    keys.every((k) => routine.params.some((p) => p.name === k)) &&
    routine.params.every((p) => p.hasDefault || keys.includes(p.name));
  const match = overloads.find(fits);
  if (match) return match;
  const sorted = [...keys].sort();
  const list = sorted.join(', ');
  const near = overloads.length ? undefined : closestName(name, cache.routineNames(schema));
  throw pgrstError(
    404,
    'PGRST202',
    `Could not find the function ${schema}.${name}${keys.length ? `(${list})` : ' without parameters'} in the schema cache`,
    `Searched for the function ${schema}.${name}${keys.length ? ` with parameter${keys.length > 1 ? 's' : ''} ${list}` : ' without parameters'} or with a single unnamed json/jsonb parameter, but no matches were found in the schema cache.`,
    near ? `Perhaps you meant to call the function ${schema}.${near}` : null,
  );
}
