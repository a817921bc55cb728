/**
 * Parsing of one `postgres_changes` binding into what the engine subscribes, with the hosted error
 * messages (supabase/realtime `Subscriptions.parse_subscription_params/1`; PROTOCOL.md §2.7, §2.9).
 */
import type { PostgresChangesParams } from '../changes-api.ts';
import { inspect, NIL, Tuple } from './elixir-inspect.ts';

export const FILTER_OPS = [
  'eq',
  'neq',
  'lt',
  'lte',
  'gt',
  'gte',
  'in',
  'like',
  'ilike',
  'is',
  'match',
  'imatch',
  'isdistinct',
] as const;
export type FilterOp = (typeof FILTER_OPS)[number];

export interface Filter {
  column: string;
  op: FilterOp;
  /** For `in`: the Postgres array literal `{a,b}` built from `(a,b)`. */
  value: string;
  negate: boolean;
}

export type Action = '*' | 'INSERT' | 'UPDATE' | 'DELETE';

export interface ParsedParams {
  action: Action;
  schema: string;
  table: string;
  filters: Filter[];
  selected: string[] | null;
}

export type ParseResult = { ok: true; params: ParsedParams } | { ok: false; message: string };

export function parseSubscriptionParams(raw: PostgresChangesParams): ParseResult {
  const params = raw as Record<string, unknown>;
  const action = actionFilter(params['event']);
  const select = parseSelect(params);
  if (!select.ok) return select;
  const has = (k: string) => Object.hasOwn(params, k);
  const str = (k: string) => (typeof params[k] === 'string' ? (params[k] as string) : undefined);
  const schema = str('schema');
  const table = str('table');
  const filter = str('filter');

  if (schema !== undefined && table !== undefined && filter !== undefined) {
    const filters = parseFilters(filter);
    if (!filters.ok) return { ok: false, message: `Error parsing \`filter\` params: ${filters.message}` };
    return okParams(action, schema, table, filters.filters, select.selected);
  }
  if (schema !== undefined && table !== undefined && !has('filter')) {
    return okParams(action, schema, table, [], select.selected);
  }
  if (schema !== undefined && !has('table') && !has('filter')) {
    return okParams(action, schema, '*', [], select.selected);
  }
  if (table !== undefined && !has('schema') && !has('filter')) {
    return okParams(action, 'public', table, [], select.selected);
  }
  const prefix =
    'No subscription params provided. Please provide at least a `schema` or `table` to subscribe to: ';
  if (has('user_token') || has('auth_token')) return { ok: false, message: `${prefix}<redacted>` };
  return { ok: false, message: `${prefix}${inspect(params)}` };
}

/** `[event: *, schema: public, table: todos, filters: [], select: nil]` as hosted logs them. */
export function describeParams(p: ParsedParams): string {
  const filters = p.filters.map((f) => new Tuple([f.column, f.op, f.value, f.negate]));
  return `event: ${p.action}, schema: ${p.schema}, table: ${p.table}, filters: ${inspect(filters)}, select: ${inspect(p.selected ?? NIL)}`;
}

function okParams(
  action: Action,
  schema: string,
  table: string,
  filters: Filter[],
  selected: string[] | null,
): ParseResult {
  if (selected !== null && (schema === '*' || table === '*')) {
    return {
      ok: false,
      message:
        'Column selection is not supported for wildcard subscriptions. Provide an explicit schema and table name.',
    };
  }
  return { ok: true, params: { action, schema, table, filters, selected } };
}

function actionFilter(event: unknown): Action {
  if (typeof event !== 'string') return '*';
  const upper = event.toUpperCase();
  return upper === 'INSERT' || upper === 'UPDATE' || upper === 'DELETE' ? upper : '*';
}

function parseSelect(
  params: Record<string, unknown>,
): { ok: true; selected: string[] | null } | { ok: false; message: string } {
  const cols = params['select'];
  if (Array.isArray(cols)) {
    const valid = cols.filter((c): c is string => typeof c === 'string');
    return { ok: true, selected: valid.length ? valid : null };
  }
  if (typeof cols === 'string') {
    return {
      ok: false,
      message:
        'Error parsing `select` params: expected a list of column name strings, e.g. select: ["col1", "col2"]',
    };
  }
  return { ok: true, selected: null };
}

type FiltersResult = { ok: true; filters: Filter[] } | { ok: false; message: string };

function parseFilters(filter: string): FiltersResult {
  const trimmed = filter.trim();
  if (trimmed === '') return { ok: true, filters: [] };
  const filters: Filter[] = [];
  for (const segment of splitTopLevel(trimmed)) {
    const parsed = parseSegment(segment);
    if (!parsed.ok) return parsed;
    filters.push(parsed.filter);
  }
  return { ok: true, filters };
}

/** Split on commas outside parentheses and outside quotes opened after `.`, `(` or `,`. */
export function splitTopLevel(filter: string): string[] {
  const out: string[] = [];
  let current = '';
  let depth = 0;
  let quoted = false;
  let prev = '';
  for (let i = 0; i < filter.length; i++) {
    const ch = filter[i] as string;
    if (quoted) {
      if (ch === '\\' && i + 1 < filter.length) {
        current += ch + filter[i + 1];
        prev = filter[i + 1] as string;
        i++;
      } else {
        if (ch === '"') quoted = false;
        current += ch;
        prev = ch;
      }
      continue;
    }
    if (ch === '"' && (prev === '.' || prev === '(' || prev === ',')) {
      quoted = true;
      current += ch;
      prev = ch;
    } else if (ch === '(') {
      depth++;
      current += ch;
      prev = ch;
    } else if (ch === ')') {
      depth = Math.max(0, depth - 1);
      current += ch;
      prev = ch;
    } else if (ch === ',' && depth === 0) {
      out.push(current);
      current = '';
      prev = '';
    } else {
      current += ch;
      prev = ch;
    }
  }
  out.push(current);
  return out;
}

function splitOnce(s: string, sep: string): string[] {
  const at = s.indexOf(sep);
  return at < 0 ? [s] : [s.slice(0, at), s.slice(at + sep.length)];
}

function parseSegment(segment: string): { ok: true; filter: Filter } | { ok: false; message: string } {
  const trimmed = segment.trim();
  if (trimmed === '') {
    return { ok: false, message: 'filter must not contain empty segments (check for extra commas)' };
  }
  const colRest = splitOnce(trimmed, '=');
  if (colRest.length !== 2) return { ok: false, message: inspect(colRest) };
  const [column, rest] = colRest as [string, string];
  const negate = rest.startsWith('not.');
  const opValue = splitOnce(negate ? rest.slice(4) : rest, '.');
  if (opValue.length !== 2) return { ok: false, message: inspect(opValue) };
  const [op, value] = opValue as [string, string];
  if (!(FILTER_OPS as readonly string[]).includes(op)) return { ok: false, message: inspect([op, value]) };
  if (op === 'in') {
    if (value.length >= 2 && value.startsWith('(') && value.endsWith(')')) {
      return { ok: true, filter: { column, op, value: `{${value.slice(1, -1)}}`, negate } };
    }
    return { ok: false, message: '`in` filter value must be wrapped by parentheses' };
  }
  return { ok: true, filter: { column, op: op as FilterOp, value: unquoteValue(value), negate } };
}

/** `"a,b"` → `a,b` with `\` escapes; anything not a single well-formed quoted string stays as is. */
function unquoteValue(value: string): string {
  if (!value.startsWith('"')) return value;
  let acc = '';
  for (let i = 1; i < value.length; i++) {
    const ch = value[i] as string;
    if (ch === '"') return i === value.length - 1 ? acc : value;
    if (ch === '\\' && i + 1 < value.length) {
      acc += value[i + 1];
      i++;
    } else acc += ch;
  }
  return value;
}
