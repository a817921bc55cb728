import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import {
  type FunctionInfo,
  functionName,
  readAppFunctions,
  senderChains,
  sendersCalled,
} from '../../fixtures/doctor/sender-chain.ts';
import { freePort } from '../../stack/ports.ts';
import { type Cluster, ensureDatabase, startCluster } from '../../stack/postgres/cluster.ts';
import { migrate } from '../../stack/postgres/migrate.ts';
import { inlineCall } from './broadcast-topic.ts';
import { InitError } from './errors.ts';
import { explainMigrationFailure } from './migration-failure.ts';
// The stack bootstraps every project with these realtime schema objects (they register their SQL
// with migrate() when imported), so an app's migrations that write realtime.messages policies or
// call realtime.broadcast_changes apply here exactly as under `npm run stack`.
import '../../stack/realtime/changes/install.ts';
import '../../stack/realtime/db-broadcast/index.ts';

/** How a table reaches clients: postgres_changes (in the publication) or a broadcasting trigger. */
export type RealtimeKind =
  | { kind: 'publication' }
  | {
      kind: 'broadcast-trigger';
      trigger: string;
      fn: string;
      calls: string;
      /** The trigger function's body (pg_proc.prosrc): init reads the topic it sends to from it. */
      source: string;
    };

export interface ColumnInfo {
  name: string;
  /** As Postgres prints it: `bigint`, `character varying(40)`, `public.status`. */
  type: string;
  /** The base type's name (a domain's base), e.g. `int8`, `varchar`, `timestamptz`. */
  baseType: string;
  /** pg_type.typcategory: N numeric, S string, D date/time, B boolean, U user (uuid, json), A array, E enum. */
  category: string;
  /** varchar(n)/char(n) limit; undefined = none. */
  maxLength?: number;
  enumLabels?: string[];
  notNull: boolean;
  /** The default expression; undefined when none (generated columns have none either). */
  defaultExpr?: string;
  identity: boolean;
  generated: boolean;
  /** `schema.table.column` this column references through a foreign key. */
  references?: string;
  /** A CHECK constraint names this column (a free-text tag could break it). */
  checked: boolean;
}

export interface TableInfo {
  schema: string;
  name: string;
  kinds: RealtimeKind[];
  primaryKey: string[];
  columns: ColumnInfo[];
}

export interface AppSchema {
  /** The files applied, in order (migrations, then seed.sql). */
  applied: string[];
  /** Tables in `supabase_realtime` or with a broadcasting trigger, by schema and name. */
  candidates: TableInfo[];
  /** Every table of the app's own schemas (not Supabase's), `schema.name`: what could be published. */
  tables: string[];
}

export interface InspectOptions {
  /** A running cluster to use (a fresh database is made in it); default: a throwaway cluster. */
  cluster?: Cluster;
  /** The database to create in `cluster` (default `postgres` of the throwaway cluster). */
  database?: string;
}

/** The folder's problems before any Postgres boots: missing, not a folder, or nothing to apply. */
export function checkSupabaseDir(dir: string): void {
  if (!existsSync(dir)) {
    throw new InitError(
      'SUPABASE_DIR_MISSING',
      `${dir}: no such folder. Pass your app's Supabase folder (the one \`supabase init\` made, holding migrations/).`,
    );
  }
  if (!statSync(dir).isDirectory()) {
    throw new InitError('SUPABASE_DIR_MISSING', `${dir}: not a folder. Pass your app's Supabase folder.`);
  }
  const migrations = join(dir, 'migrations');
  const sql = existsSync(migrations) ? readdirSync(migrations).filter((n) => n.endsWith('.sql')) : [];
  if (sql.length === 0 && !existsSync(join(dir, 'seed.sql'))) {
    const nested = existsSync(join(dir, 'supabase', 'migrations'))
      ? ` It has a supabase/ folder: did you mean --supabase-dir ${join(dir, 'supabase')}?`
      : '';
    throw new InitError(
      'SUPABASE_DIR_EMPTY',
      `${dir}: no migrations/*.sql and no seed.sql, so there is no schema to read.${nested}`,
    );
  }
}

/**
 * Apply the folder to a throwaway Postgres the way the embedded stack does (the same bootstrap, the
 * same migrate()), then read from the catalog which tables realtime can deliver and their columns.
 */
export async function inspectSupabaseDir(
  supabaseDir: string,
  options: InspectOptions = {},
): Promise<AppSchema> {
  checkSupabaseDir(supabaseDir);
  const cluster = options.cluster ?? (await startCluster({ port: await freePort() }));
  try {
    const database = options.database ?? 'postgres';
    await ensureDatabase(cluster, database);
    const url = cluster.url(database);
    let applied: string[];
    try {
      applied = await migrate(url, supabaseDir);
    } catch (error) {
      throw await explainMigrationFailure(error, url);
    }
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return { applied, candidates: await readCandidates(client), tables: await appTables(client) };
    } finally {
      await client.end();
    }
  } finally {
    if (!options.cluster) await cluster.stop();
  }
}

async function readCandidates(client: pg.Client): Promise<TableInfo[]> {
  const published = await client.query<{ oid: number; schema: string; name: string }>(
    `select (quote_ident(schemaname) || '.' || quote_ident(tablename))::regclass::oid as oid,
            schemaname as schema, tablename as name
       from pg_publication_tables where pubname = 'supabase_realtime'`,
  );
  // Every enabled trigger of an app table; those whose function reaches a realtime sender, itself or
  // through the app's helpers, broadcast the table (the doctor follows the calls the same way).
  const triggers = await client.query<{
    oid: number;
    schema: string;
    name: string;
    trigger: string;
    fn_schema: string;
    fn_name: string;
    definer: boolean;
    source: string;
  }>(
    `select c.oid, n.nspname as schema, c.relname as name, t.tgname as trigger,
            pn.nspname as fn_schema, p.proname as fn_name, p.prosecdef as definer,
            coalesce(p.prosrc, '') as source
       from pg_trigger t
       join pg_class c on c.oid = t.tgrelid
       join pg_namespace n on n.oid = c.relnamespace
       join pg_proc p on p.oid = t.tgfoid
       join pg_namespace pn on pn.oid = p.pronamespace
      where not t.tgisinternal and t.tgenabled <> 'D' and n.nspname <> 'realtime'
      order by c.relname, t.tgname`,
  );
  const chainOf = senderChains(triggers.rows.length ? await readAppFunctions(client) : []);
  const triggered = triggers.rows.flatMap((r) => {
    const own: FunctionInfo = {
      schema: r.fn_schema,
      name: r.fn_name,
      securityDefiner: r.definer,
      owner: '',
      ownerBypassesRls: false,
      source: r.source,
    };
    const chain = chainOf(own);
    if (!chain) return [];
    const last = chain.at(-1)!;
    const called = sendersCalled(last.source);
    const calls = called.find((c) => c !== 'realtime.send_binary') ?? (called[0] as string);
    // Through one helper, its parameters read as the trigger's arguments: the topic is then the
    // trigger's own expression ('room:' || new.room_id), which init can turn into topic().
    const source =
      chain.length === 2 ? inlineCall(own.source, { ...last, args: last.args ?? [] }) : last.source;
    return [{ ...r, fn: chain.map(functionName).join(' → '), calls, source }];
  });
  const byOid = new Map<number, { schema: string; name: string; kinds: RealtimeKind[] }>();
  const entry = (oid: number, schema: string, name: string) => {
    let e = byOid.get(oid);
    if (!e) {
      e = { schema, name, kinds: [] };
      byOid.set(oid, e);
    }
    return e;
  };
  for (const r of published.rows) entry(r.oid, r.schema, r.name).kinds.push({ kind: 'publication' });
  for (const r of triggered) {
    entry(r.oid, r.schema, r.name).kinds.push({
      kind: 'broadcast-trigger',
      trigger: r.trigger,
      fn: r.fn,
      calls: r.calls,
      source: r.source,
    });
  }
  const out: TableInfo[] = [];
  for (const [oid, e] of byOid) {
    out.push({ ...e, primaryKey: await primaryKey(client, oid), columns: await columns(client, oid) });
  }
  return out.sort((a, b) => `${a.schema}.${a.name}`.localeCompare(`${b.schema}.${b.name}`));
}

/** Schemas a Supabase project (or this stack) makes itself; an app's tables live elsewhere. */
const PLATFORM_SCHEMAS = [
  'auth',
  'extensions',
  'graphql',
  'graphql_public',
  'information_schema',
  'net',
  'pgbouncer',
  'pgsodium',
  'realtime',
  'storage',
  'supabase_functions',
  'supabase_migrations',
  'vault',
];

async function appTables(client: pg.Client): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `select n.nspname || '.' || c.relname as name
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where c.relkind in ('r', 'p') and not c.relispartition
        and n.nspname <> all($1) and n.nspname not like 'pg\\_%'
      order by 1`,
    [PLATFORM_SCHEMAS],
  );
  return rows.map((r) => r.name);
}

async function primaryKey(client: pg.Client, oid: number): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `select a.attname as name
       from pg_index i
       cross join lateral unnest(i.indkey::int2[]) with ordinality as k(attnum, ord)
       join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
      where i.indrelid = $1 and i.indisprimary
      order by k.ord`,
    [oid],
  );
  return rows.map((r) => r.name);
}

async function columns(client: pg.Client, oid: number): Promise<ColumnInfo[]> {
  const { rows } = await client.query<{
    attnum: number;
    name: string;
    type: string;
    base_type: string;
    category: string;
    max_length: number | null;
    enum_labels: string[] | null;
    not_null: boolean;
    default_expr: string | null;
    identity: boolean;
    generated: boolean;
  }>(
    `select a.attnum, a.attname as name, format_type(a.atttypid, a.atttypmod) as type,
            bt.typname as base_type, bt.typcategory as category,
            case when bt.typname in ('varchar', 'bpchar')
                  and (case when t.typtype = 'd' then t.typtypmod else a.atttypmod end) > 4
                 then (case when t.typtype = 'd' then t.typtypmod else a.atttypmod end) - 4 end as max_length,
            (select array_agg(e.enumlabel::text order by e.enumsortorder) from pg_enum e
              where e.enumtypid = bt.oid) as enum_labels,
            a.attnotnull or t.typnotnull as not_null,
            case when a.attgenerated = '' then pg_get_expr(d.adbin, d.adrelid) end as default_expr,
            a.attidentity <> '' as identity,
            a.attgenerated <> '' as generated
       from pg_attribute a
       join pg_type t on t.oid = a.atttypid
       join pg_type bt on bt.oid = case when t.typtype = 'd' then t.typbasetype else t.oid end
       left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
      where a.attrelid = $1 and a.attnum > 0 and not a.attisdropped
      order by a.attnum`,
    [oid],
  );
  const refs = await client.query<{ attnum: number; target: string }>(
    `select k.attnum, fn.nspname || '.' || fc.relname || '.' || fa.attname as target
       from pg_constraint c
       cross join lateral unnest(c.conkey, c.confkey) as k(attnum, fattnum)
       join pg_class fc on fc.oid = c.confrelid
       join pg_namespace fn on fn.oid = fc.relnamespace
       join pg_attribute fa on fa.attrelid = c.confrelid and fa.attnum = k.fattnum
      where c.conrelid = $1 and c.contype = 'f'`,
    [oid],
  );
  const checked = await client.query<{ attnum: number }>(
    `select distinct unnest(conkey) as attnum from pg_constraint where conrelid = $1 and contype = 'c'`,
    [oid],
  );
  const refOf = new Map(refs.rows.map((r) => [r.attnum, r.target]));
  const checkedSet = new Set(checked.rows.map((r) => r.attnum));
  return rows.map((r) => ({
    name: r.name,
    type: r.type,
    baseType: r.base_type,
    category: r.category,
    ...(r.max_length !== null ? { maxLength: r.max_length } : {}),
    ...(r.enum_labels ? { enumLabels: r.enum_labels } : {}),
    notNull: r.not_null,
    ...(r.default_expr !== null ? { defaultExpr: r.default_expr } : {}),
    identity: r.identity,
    generated: r.generated,
    ...(refOf.has(r.attnum) ? { references: refOf.get(r.attnum)! } : {}),
    checked: checkedSet.has(r.attnum),
  }));
}
