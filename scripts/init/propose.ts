import { type BroadcastProposal, proposeBroadcast } from './broadcast-topic.ts';
import { InitError } from './errors.ts';
import type { ColumnInfo, TableInfo } from './inspect.ts';

/** What init proposes for one table: the config's `table` section and the row factory's columns. */
export interface Proposal {
  table: TableInfo;
  primaryKey: string[];
  /** The text column the matrix tags rows in; `added` when the table has none and one must be added. */
  tag: { column: string; added: false } | { column: string; added: true; why: string; sql: string };
  createdAtColumn?: string;
  /** NOT NULL columns without a default the factory must fill, besides the tag. */
  factory: FactoryColumn[];
  /**
   * How the portal receives the row: postgres_changes when the table is published, else the
   * Broadcast its trigger sends (with what init could read of the topic from the function's body).
   */
  changes:
    | { kind: 'postgres_changes' }
    | { kind: 'broadcast'; trigger: string; fn: string; calls: string; proposal: BroadcastProposal };
  /** Things the user must know before the first run (also written as comments). */
  warnings: Warning[];
}

/** A note for the user, and the SQL that resolves it when there is one (kept whole, on its own line). */
export interface Warning {
  text: string;
  sql?: string;
}

export interface FactoryColumn {
  name: string;
  /** A TypeScript expression of the column's type. */
  value: string;
  todo: string;
}

/** The matrix's config validation accepts only these (fixtures/config/matrix-config.ts `identifier`). */
const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
/** Names that usually hold a row's visible text, best first. */
const TAG_NAMES = ['body', 'title', 'name', 'content', 'text', 'subject', 'message', 'description', 'note'];
const TAG_TYPES = new Set(['text', 'varchar', 'citext']);
/** `[rtm:<run id>] <portal>-<env> sample 1/1` must fit. */
export const MIN_TAG_LENGTH = 64;
const FILLED_BY_CLOCK =
  /\b(now|statement_timestamp|clock_timestamp|transaction_timestamp)\s*\(|\b(current_timestamp|localtimestamp)\b/i;
/** The column init adds when a table has no text column a tag fits in. */
export const ADDED_TAG_COLUMN = 'rtm_tag';

export function qualified(table: { schema: string; name: string }): string {
  return `${table.schema}.${table.name}`;
}

export function propose(table: TableInfo): Proposal {
  const name = qualified(table);
  if (!IDENTIFIER.test(table.schema) || !IDENTIFIER.test(table.name)) {
    throw new InitError(
      'UNUSABLE_TABLE',
      `${name}: the matrix's config takes lower-case SQL identifiers (a-z, 0-9, _) for the schema and table, and this one is quoted. Rename it, or choose another table with --table.`,
    );
  }
  if (table.primaryKey.length === 0) {
    throw new InitError(
      'UNUSABLE_TABLE',
      `${name} has no primary key, and the matrix matches each realtime event to the row it inserted by its primary key. Add one in a migration, e.g.\n  alter table ${name} add column id bigint generated always as identity primary key;\nthen run init again.`,
    );
  }
  const badKey = table.primaryKey.filter((c) => !IDENTIFIER.test(c));
  if (badKey.length) {
    throw new InitError(
      'UNUSABLE_TABLE',
      `${name}: its primary key column(s) ${badKey.map((c) => `"${c}"`).join(', ')} are not lower-case SQL identifiers, which the matrix's config requires.`,
    );
  }
  const warnings: Warning[] = [];
  const tag = chooseTag(table);
  if (tag.added) warnings.push({ text: `${tag.why} Add one for the matrix:`, sql: tag.sql });
  const createdAtColumn = chooseCreatedAt(table.columns);
  if (!createdAtColumn) {
    warnings.push({
      text: `${name} has no timestamp column filled by default (e.g. created_at timestamptz default now()), so the sweeper removes every row tagged by another run, including a run in progress against the same project. Add one, then set table.createdAtColumn.`,
    });
  }
  const trigger = table.kinds.find((k) => k.kind === 'broadcast-trigger');
  // Published: postgres_changes, what most apps subscribe to. Only a trigger: its Broadcast.
  const changes: Proposal['changes'] =
    table.kinds.some((k) => k.kind === 'publication') || !trigger
      ? { kind: 'postgres_changes' }
      : {
          kind: 'broadcast',
          trigger: trigger.trigger,
          fn: trigger.fn,
          calls: trigger.calls,
          proposal: proposeBroadcast(trigger.source),
        };
  const factory = table.columns
    .filter((c) => c.notNull && c.defaultExpr === undefined && !c.identity && !c.generated)
    .filter((c) => c.name !== tag.column)
    .map((c) => factoryColumn(c, table.primaryKey.includes(c.name)));
  return {
    table,
    primaryKey: table.primaryKey,
    tag,
    ...(createdAtColumn ? { createdAtColumn } : {}),
    factory,
    changes,
    warnings,
  };
}

function chooseTag(table: TableInfo): Proposal['tag'] {
  const refused: string[] = [];
  const usable = table.columns.filter((c) => {
    if (!TAG_TYPES.has(c.baseType)) return false;
    const why = c.generated
      ? 'is generated'
      : c.defaultExpr !== undefined
        ? `has a default (${c.defaultExpr})`
        : table.primaryKey.includes(c.name)
          ? 'is part of the primary key'
          : c.references
            ? `references ${c.references}`
            : c.checked
              ? 'has a CHECK constraint'
              : c.maxLength !== undefined && c.maxLength < MIN_TAG_LENGTH
                ? `holds at most ${c.maxLength} characters (the tag needs ${MIN_TAG_LENGTH})`
                : !IDENTIFIER.test(c.name)
                  ? 'is not a lower-case identifier'
                  : undefined;
    if (why) refused.push(`${c.name} ${why}`);
    return why === undefined;
  });
  const rank = (c: ColumnInfo) => {
    const i = TAG_NAMES.indexOf(c.name);
    return i >= 0 ? i : TAG_NAMES.length + table.columns.indexOf(c);
  };
  const best = usable.sort((a, b) => rank(a) - rank(b))[0];
  if (best) return { column: best.name, added: false };
  const name = qualified(table);
  return {
    column: ADDED_TAG_COLUMN,
    added: true,
    why: `${name} has no text column the matrix can tag its rows in (a text or varchar column without a default, not part of the key or a foreign key)${refused.length ? `: ${refused.join('; ')}` : ''}.`,
    sql: `alter table ${name} add column ${ADDED_TAG_COLUMN} text;`,
  };
}

function chooseCreatedAt(columns: ColumnInfo[]): string | undefined {
  const rank = (c: ColumnInfo) => (/^(created|inserted)/.test(c.name) ? 0 : /^updated/.test(c.name) ? 2 : 1);
  return columns
    .filter(
      (c) =>
        (c.baseType === 'timestamptz' || c.baseType === 'timestamp') &&
        c.defaultExpr !== undefined &&
        FILLED_BY_CLOCK.test(c.defaultExpr) &&
        IDENTIFIER.test(c.name),
    )
    .sort((a, b) => rank(a) - rank(b))[0]?.name;
}

/** A typed placeholder and what the column needs. */
function factoryColumn(c: ColumnInfo, inKey: boolean): FactoryColumn {
  const needs = `${c.type}, NOT NULL, no default`;
  if (c.references === 'auth.users.id') {
    return {
      name: c.name,
      value: 'user.id',
      todo: `${needs}; references auth.users.id: user.id is the portal's signed-in user; keep it if your RLS shows users their own rows`,
    };
  }
  if (c.references) {
    return {
      name: c.name,
      value: placeholder(c, true),
      todo: `${needs}; references ${c.references}: the key of an existing row there that the portal's user may see (a seed or reference-data row)`,
    };
  }
  if (inKey) {
    return {
      name: c.name,
      value: c.baseType === 'uuid' ? 'crypto.randomUUID()' : placeholder(c, false),
      todo: `${needs}; part of the primary key: a value unique per row (the matrix inserts several per cell)`,
    };
  }
  if (c.enumLabels?.length) {
    return {
      name: c.name,
      value: placeholder(c, false),
      todo: `${needs}; one of ${c.enumLabels.join(', ')}`,
    };
  }
  return { name: c.name, value: placeholder(c, false), todo: `${needs}; the value your app would write` };
}

function placeholder(c: ColumnInfo, isReference: boolean): string {
  if (c.category === 'A') return '[]';
  if (c.enumLabels?.length) return `'${c.enumLabels[0]!.replace(/[\\']/g, '\\$&')}'`;
  switch (c.baseType) {
    case 'int2':
    case 'int4':
    case 'int8':
      return isReference ? '1' : '0';
    case 'numeric':
    case 'float4':
    case 'float8':
      return '0';
    case 'bool':
      return 'false';
    case 'uuid':
      return `'00000000-0000-0000-0000-000000000000'`;
    case 'json':
    case 'jsonb':
      return '{}';
    case 'timestamptz':
    case 'timestamp':
      return 'new Date().toISOString()';
    case 'date':
      return 'new Date().toISOString().slice(0, 10)';
    default:
      return `''`;
  }
}
