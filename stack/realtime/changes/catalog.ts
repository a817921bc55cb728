import type pg from 'pg';

export const PUBLICATION = 'supabase_realtime';

export interface ColumnMeta {
  name: string;
  /** `pg_type.typname`, what `columns[].type` shows (`int8`, `_text`, …). */
  typname: string;
  /** `atttypid::regtype::text`, what values are cast with (`bigint`, `text[]`, …). */
  regtype: string;
}

export interface TableMeta {
  oid: number;
  schema: string;
  table: string;
  /** Live columns in attnum order. */
  columns: ColumnMeta[];
  /** Primary key column names (not the replica identity: hosted keys RLS checks on the real PK). */
  pk: string[];
}

export interface PublishedTable {
  oid: number;
  schema: string;
  table: string;
}

/**
 * Table metadata for building change payloads, cached per relation. A pgoutput Relation message
 * (sent again after any schema change) and every subscribe to a table invalidate its entry, so the
 * cache never outlives a DDL change the engine could observe.
 */
export class Catalog {
  private readonly tables = new Map<number, Promise<TableMeta>>();

  constructor(private readonly pool: pg.Pool) {}

  invalidate(oid: number): void {
    this.tables.delete(oid);
  }

  table(oid: number): Promise<TableMeta> {
    let meta = this.tables.get(oid);
    if (!meta) {
      meta = this.load(oid);
      meta.catch(() => this.tables.delete(oid));
      this.tables.set(oid, meta);
    }
    return meta;
  }

  /**
   * Published tables matching a binding, read fresh on every subscribe (publication membership can
   * change at run time), with hosted's `like` matching where `*` means any.
   */
  async published(schema: string, table: string): Promise<PublishedTable[]> {
    const { rows } = await this.pool.query<{ oid: number; schemaname: string; tablename: string }>(
      `select format('%I.%I', schemaname, tablename)::regclass::oid as oid, schemaname, tablename
         from pg_publication_tables
        where pubname = $1
          and schemaname like (case $2 when '*' then '%' else $2 end) escape ''
          and tablename like (case $3 when '*' then '%' else $3 end) escape ''
        order by 1`,
      [PUBLICATION, schema, table],
    );
    return rows.map((r) => ({ oid: Number(r.oid), schema: r.schemaname, table: r.tablename }));
  }

  private async load(oid: number): Promise<TableMeta> {
    const { rows } = await this.pool.query<{
      schema: string;
      table: string;
      columns: ColumnMeta[] | null;
      pk: string[] | null;
    }>(
      `select n.nspname as schema, c.relname as table,
              (select json_agg(json_build_object('name', a.attname, 'typname', t.typname,
                                                 'regtype', a.atttypid::regtype::text) order by a.attnum)
                 from pg_attribute a join pg_type t on t.oid = a.atttypid
                where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped) as columns,
              (select array_agg(a.attname::text order by k.ord)
                 from pg_index i
                 cross join lateral unnest(i.indkey) with ordinality k(attnum, ord)
                 join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
                where i.indrelid = c.oid and i.indisprimary) as pk
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where c.oid = $1`,
      [oid],
    );
    const row = rows[0];
    if (!row) throw new Error(`Relation ${oid} is not in pg_class (dropped while its change was in flight?)`);
    return { oid, schema: row.schema, table: row.table, columns: row.columns ?? [], pk: row.pk ?? [] };
  }
}
