import pg from 'pg';
import { pgrstError } from '../errors.ts';
import type { LevelQuery } from '../query-params.ts';
import type { Relationship, SchemaCache, Table } from '../schema-cache.ts';
import {
  type Embedder,
  limitOffsetSql,
  orderSql,
  qualifiedName,
  type RelationItem,
  type Scope,
  selectListSql,
  whereSql,
} from './expressions.ts';

const ident = pg.escapeIdentifier;

/**
 * Resource embedding as PostgREST builds it: each embedded relation is a LEFT (or, with `!inner`,
 * INNER) JOIN LATERAL on the foreign key; a many-to-one target becomes `row_to_json(…)::jsonb`, a
 * one-to-many target `json_agg(…)::jsonb` defaulting to `[]`. RLS applies to the embedded rows as
 * to any other read, since the whole statement runs as the caller's role.
 */
export class EmbedPlanner {
  private counter = 0;
  private readonly used = new Set<string>();
  /** Joins per parent qualifier, appended to the FROM clause of that level. */
  private readonly joins = new Map<string, string[]>();

  constructor(
    private readonly cache: SchemaCache,
    private readonly levels: Map<string, LevelQuery>,
  ) {}

  /** The embedder for the top level (path ''). */
  embedder(path = ''): Embedder {
    return (scope, item) => this.embed(scope, item, path);
  }

  /** The joins accumulated for a level, as SQL to follow its FROM clause. */
  joinsFor(qualifier: string): string {
    return (this.joins.get(qualifier) ?? []).join('');
  }

  /** Refuse filters/order for an embed path no select item created (PostgREST PGRST108). */
  checkAllLevelsUsed(): void {
    for (const path of this.levels.keys()) {
      if (this.used.has(path)) continue;
      const resource = path.split('.').at(-1) ?? path;
      throw pgrstError(
        400,
        'PGRST108',
        `'${resource}' is not an embedded resource in this request`,
        null,
        `Verify that '${resource}' is included in the 'select' query parameter.`,
      );
    }
  }

  private embed(scope: Scope, item: RelationItem, parentPath: string): string | undefined {
    const { rel, target } = this.resolve(scope.table, item);
    const name = item.alias ?? item.name;
    const path = parentPath ? `${parentPath}.${name}` : name;
    this.used.add(path);
    const level = this.levels.get(path);
    const n = ++this.counter;
    const alias = ident(`pgrst_embed_${n}`);
    const inner = ident(`pgrst_rel_${n}`);
    const childScope: Scope = { table: target, qualifier: inner, params: scope.params };
    const select = selectListSql(childScope, item.children, this.embedder(path));
    const joinCondition = rel.join
      .map((p) => `${inner}.${ident(p.targetColumn)} = ${scope.qualifier}.${ident(p.column)}`)
      .join(' AND ');
    const filters = level
      ? whereSql(childScope, level.filters, level.logic).replace(/^ WHERE /, ' AND ')
      : '';
    const order = level ? orderSql(childScope, level.order) : '';
    const page = level ? limitOffsetSql(scope.params, level.limit, level.offset) : '';
    const sub =
      `SELECT ${select} FROM ${qualifiedName(target)} AS ${inner}${this.joinsFor(inner)} ` +
      `WHERE ${joinCondition}${filters}${order}${page}`;
    const kind = item.join === 'inner' ? 'INNER' : 'LEFT';
    const list = this.joins.get(scope.qualifier) ?? [];
    this.joins.set(scope.qualifier, list);
    const output = item.children.length > 0;
    if (rel.cardinality !== 'one-to-many') {
      list.push(` ${kind} JOIN LATERAL (${sub}) AS ${alias} ON TRUE`);
      return output ? `row_to_json(${alias}.*)::jsonb AS ${ident(name)}` : undefined;
    }
    const on = item.join === 'inner' ? `${alias}.${alias} IS NOT NULL` : 'TRUE';
    list.push(
      ` ${kind} JOIN LATERAL (SELECT json_agg(${alias})::jsonb AS ${alias} FROM (${sub}) AS ${alias}) AS ${alias} ON ${on}`,
    );
    return output ? `COALESCE(${alias}.${alias}, '[]') AS ${ident(name)}` : undefined;
  }

  /**
   * Find the one relationship `name!hint` means from `parent`, as PostgREST does: by target table
   * (optionally disambiguated by constraint or foreign-key column), by a many-to-one foreign-key
   * column, or by constraint name.
   */
  private resolve(parent: Table, item: RelationItem): { rel: Relationship; target: Table } {
    const rels = this.cache.relationshipsOf(parent);
    const single = (r: Relationship) => (r.fkColumns.length === 1 ? r.fkColumns[0] : undefined);
    const matches = rels.filter((r) => {
      const byTable =
        r.target.name === item.name &&
        (item.hint === undefined || item.hint === r.constraint || item.hint === single(r));
      const byColumn =
        r.cardinality !== 'one-to-many' &&
        r.join.every((p, i) => p.column === r.fkColumns[i]) &&
        item.name === single(r) &&
        (item.hint === undefined || item.hint === r.target.name);
      const byConstraint = item.name === r.constraint && item.hint === undefined;
      return byTable || byColumn || byConstraint;
    });
    if (matches.length === 1) {
      const rel = matches[0]!;
      const target = this.cache.peekTable(rel.target.schema, rel.target.name);
      if (target) return { rel, target };
    }
    if (matches.length > 1) {
      throw pgrstError(
        300,
        'PGRST201',
        `Could not embed because more than one relationship was found for '${parent.name}' and '${item.name}'`,
        matches.map((r) => ({
          cardinality: r.cardinality,
          embedding: `${parent.name} with ${r.target.name}`,
          relationship: `${r.constraint} using ${parent.name}(${r.join.map((p) => p.column).join(', ')}) and ${r.target.name}(${r.join.map((p) => p.targetColumn).join(', ')})`,
        })),
        `Try changing '${item.name}' to one of the following: ${matches.map((r) => `'${r.target.name}!${r.constraint}'`).join(', ')}. Find the desired relationship in the 'details' key.`,
      );
    }
    throw pgrstError(
      400,
      'PGRST200',
      `Could not find a relationship between '${parent.name}' and '${item.name}' in the schema cache`,
      `Searched for a foreign key relationship between '${parent.name}' and '${item.name}'${item.hint ? ` using the hint '${item.hint}'` : ''} in the schema '${parent.schema}', but no matches were found.`,
    );
  }
}
