import type pg from 'pg';
import { pgrstError } from './errors.ts';
import { closestName } from './fuzzy.ts';

export interface Column {
  name: string;
  /** `format_type()` of the column: spliced into `json_to_recordset(…) AS _(col <type>)`. */
  type: string;
  /** The default expression Postgres stores (or `nextval(…)` for identity columns), if any. */
  defaultExpr: string | null;
  generated: boolean;
}

export interface Table {
  schema: string;
  name: string;
  columns: Map<string, Column>;
  primaryKey: string[];
}

/**
 * A foreign key seen from one end: many-to-one from the referencing table (embedding yields an
 * object), one-to-many from the referenced table (embedding yields an array).
 */
export interface Relationship {
  constraint: string;
  /** one-to-one when the referencing columns are unique: an object from either end. */
  cardinality: 'many-to-one' | 'one-to-many' | 'one-to-one';
  /** The table on the other end, as `schema.name`. */
  target: { schema: string; name: string };
  /** Columns of the constraint's own (referencing) table, in key order. */
  fkColumns: string[];
  /** Pairs to join on: a column of this end = a column of the target. */
  join: { column: string; targetColumn: string }[];
}

export interface RoutineParam {
  name: string;
  type: string;
  hasDefault: boolean;
  variadic: boolean;
}

export interface Routine {
  schema: string;
  name: string;
  params: RoutineParam[];
  returnsSet: boolean;
  /** The return type is a row type (table, view or composite): the body is rows, not a scalar. */
  returnsComposite: boolean;
  returnsVoid: boolean;
  volatile: boolean;
}

// Relations the API exposes, as PostgREST's schema cache reads them from the catalog. Defaults of
// identity columns are not in pg_attrdef; `missing=default` needs them, so they are derived here.
const TABLES_SQL = `
select n.nspname as schema, c.relname as name,
  coalesce((
    select json_agg(json_build_object(
      'name', a.attname,
      'type', format_type(a.atttypid, a.atttypmod),
      'default', case
        when a.attidentity <> '' then
          format('nextval(%L::regclass)', pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname))
        when a.attgenerated = '' then pg_get_expr(d.adbin, d.adrelid)
      end,
      'generated', a.attgenerated <> ''
    ) order by a.attnum)
    from pg_attribute a
    left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
    where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
  ), '[]') as columns,
  coalesce((
    select json_agg(a.attname order by k.ord)
    from pg_index i
    cross join lateral unnest(i.indkey) with ordinality as k(attnum, ord)
    join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
    where i.indrelid = c.oid and i.indisprimary
  ), '[]') as primary_key
from pg_class c
join pg_namespace n on n.oid = c.relnamespace
where n.nspname = any($1) and c.relkind in ('r', 'v', 'm', 'f', 'p')`;

const FOREIGN_KEYS_SQL = `
select c.conname as constraint, ns.nspname as schema, t.relname as table,
  fns.nspname as foreign_schema, ft.relname as foreign_table,
  (select json_agg(a.attname order by k.ord) from unnest(c.conkey) with ordinality k(attnum, ord)
     join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.attnum) as columns,
  (select json_agg(a.attname order by k.ord) from unnest(c.confkey) with ordinality k(attnum, ord)
     join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.attnum) as foreign_columns,
  exists (select 1 from pg_index i where i.indrelid = c.conrelid and i.indisunique and i.indpred is null
          and i.indnkeyatts = cardinality(c.conkey) and i.indkey::int2[] @> c.conkey) as unique_columns
from pg_constraint c
join pg_class t on t.oid = c.conrelid join pg_namespace ns on ns.oid = t.relnamespace
join pg_class ft on ft.oid = c.confrelid join pg_namespace fns on fns.oid = ft.relnamespace
where c.contype = 'f' and ns.nspname = any($1) and fns.nspname = any($1)`;

// Input parameters only (IN, INOUT, VARIADIC), positioned over all arguments so OUT/TABLE columns
// do not shift names; defaults belong to the last `pronargdefaults` inputs. A function with OUT or
// TABLE columns returns rows (`record`), like one returning a table or composite type.
const ROUTINES_SQL = `
select n.nspname as schema, p.proname as name, p.proretset as returns_set,
  t.typtype = 'c' or t.typrelid <> 0
    or (p.prorettype = 'record'::regtype and coalesce('o' = any(p.proargmodes) or 't' = any(p.proargmodes), false))
    as returns_composite,
  p.prorettype = 'void'::regtype as returns_void,
  p.provolatile = 'v' as volatile,
  coalesce((
    select json_agg(json_build_object(
      'name', coalesce(i.name, ''),
      'type', format_type(i.type, null),
      'hasDefault', i.pos > p.pronargs - p.pronargdefaults,
      'variadic', i.mode = 'v'
    ) order by i.pos)
    from (
      select a.type, a.name, coalesce(a.mode, 'i') as mode, row_number() over (order by a.ord) as pos
      from unnest(
        coalesce(p.proallargtypes, p.proargtypes::oid[]),
        coalesce(p.proargnames, '{}'::text[]),
        coalesce(p.proargmodes, '{}'::"char"[])
      ) with ordinality as a(type, name, mode, ord)
      where a.type is not null and coalesce(a.mode, 'i') in ('i', 'b', 'v')
    ) i
  ), '[]') as params
from pg_proc p
join pg_namespace n on n.oid = p.pronamespace
join pg_type t on t.oid = p.prorettype
where n.nspname = any($1) and p.prokind = 'f'`;

interface TableRow {
  schema: string;
  name: string;
  columns: { name: string; type: string; default: string | null; generated: boolean }[];
  primary_key: string[];
}

interface ForeignKeyRow {
  constraint: string;
  schema: string;
  table: string;
  foreign_schema: string;
  foreign_table: string;
  columns: string[];
  foreign_columns: string[];
  unique_columns: boolean;
}

interface RoutineRow {
  schema: string;
  name: string;
  returns_set: boolean;
  returns_composite: boolean;
  returns_void: boolean;
  volatile: boolean;
  params: RoutineParam[];
}

/**
 * The relations and functions of the exposed schemas, loaded from the catalog once and reloaded when
 * a lookup misses, so tables a later migration or test creates are found (PostgREST reloads on a
 * NOTIFY; a miss-triggered reload gives the same result without a listener).
 */
export class SchemaCache {
  private tables = new Map<string, Table>();
  private routines = new Map<string, Routine[]>();
  private relationships = new Map<string, Relationship[]>();
  private loading: Promise<void> | undefined;
  private loaded = false;

  constructor(
    private readonly admin: pg.Pool,
    readonly schemas: string[],
  ) {}

  async table(schema: string, name: string): Promise<Table> {
    const key = `${schema}.${name}`;
    if (!this.loaded || !this.tables.has(key)) await this.reload();
    const table = this.tables.get(key);
    if (table) return table;
    const candidates = [...this.tables.values()].filter((t) => t.schema === schema).map((t) => t.name);
    const near = closestName(name, candidates);
    throw pgrstError(
      404,
      'PGRST205',
      `Could not find the table '${key}' in the schema cache`,
      null,
      near ? `Perhaps you meant the table '${schema}.${near}'` : null,
    );
  }

  /** The loaded entry for a table, without reloading (embedding resolves inside a built plan). */
  peekTable(schema: string, name: string): Table | undefined {
    return this.tables.get(`${schema}.${name}`);
  }

  relationshipsOf(table: Table): Relationship[] {
    return this.relationships.get(`${table.schema}.${table.name}`) ?? [];
  }

  async routine(schema: string, name: string): Promise<Routine[]> {
    const key = `${schema}.${name}`;
    if (!this.loaded || !this.routines.has(key)) await this.reload();
    return this.routines.get(key) ?? [];
  }

  routineNames(schema: string): string[] {
    return [...this.routines.values()]
      .flat()
      .filter((r) => r.schema === schema)
      .map((r) => r.name);
  }

  reload(): Promise<void> {
    this.loading ??= this.load().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async load(): Promise<void> {
    let tables: pg.QueryResult<TableRow>;
    let routines: pg.QueryResult<RoutineRow>;
    let foreignKeys: pg.QueryResult<ForeignKeyRow>;
    try {
      [tables, routines, foreignKeys] = await Promise.all([
        this.admin.query<TableRow>(TABLES_SQL, [this.schemas]),
        this.admin.query<RoutineRow>(ROUTINES_SQL, [this.schemas]),
        this.admin.query<ForeignKeyRow>(FOREIGN_KEYS_SQL, [this.schemas]),
      ]);
    } catch (cause) {
      // PostgREST's answer while it cannot read the catalog; the next request tries again.
      const error = pgrstError(
        503,
        'PGRST002',
        'Could not query the database for the schema cache. Retrying.',
        (cause as Error).message,
      );
      error.cause = cause;
      throw error;
    }
    const nextRelationships = new Map<string, Relationship[]>();
    const add = (key: string, rel: Relationship) => {
      const list = nextRelationships.get(key) ?? [];
      list.push(rel);
      nextRelationships.set(key, list);
    };
    for (const fk of foreignKeys.rows) {
      const pairs = fk.columns.map((column, i) => ({ column, foreign: fk.foreign_columns[i] ?? '' }));
      add(`${fk.schema}.${fk.table}`, {
        constraint: fk.constraint,
        cardinality: fk.unique_columns ? 'one-to-one' : 'many-to-one',
        target: { schema: fk.foreign_schema, name: fk.foreign_table },
        fkColumns: fk.columns,
        join: pairs.map((p) => ({ column: p.column, targetColumn: p.foreign })),
      });
      add(`${fk.foreign_schema}.${fk.foreign_table}`, {
        constraint: fk.constraint,
        cardinality: fk.unique_columns ? 'one-to-one' : 'one-to-many',
        target: { schema: fk.schema, name: fk.table },
        fkColumns: fk.columns,
        join: pairs.map((p) => ({ column: p.foreign, targetColumn: p.column })),
      });
    }
    const nextTables = new Map<string, Table>();
    for (const row of tables.rows) {
      nextTables.set(`${row.schema}.${row.name}`, {
        schema: row.schema,
        name: row.name,
        primaryKey: row.primary_key,
        columns: new Map(
          row.columns.map((c) => [
            c.name,
            { name: c.name, type: c.type, defaultExpr: c.default, generated: c.generated },
          ]),
        ),
      });
    }
    const nextRoutines = new Map<string, Routine[]>();
    for (const row of routines.rows) {
      const key = `${row.schema}.${row.name}`;
      const list = nextRoutines.get(key) ?? [];
      list.push({
        schema: row.schema,
        name: row.name,
        params: row.params,
        returnsSet: row.returns_set,
        returnsComposite: row.returns_composite,
        returnsVoid: row.returns_void,
        volatile: row.volatile,
      });
      nextRoutines.set(key, list);
    }
    this.tables = nextTables;
    this.routines = nextRoutines;
    this.relationships = nextRelationships;
    this.loaded = true;
  }
}
