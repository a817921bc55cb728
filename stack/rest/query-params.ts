import { pgrstError } from './errors.ts';
import { parseColumnList } from './parse/field.ts';
import { type Filter, type LogicTree, parseFilter, parseLogic } from './parse/filter.ts';
import { type OrderTerm, parseOrder } from './parse/order.ts';
import { parseSelect, type SelectItem } from './parse/select.ts';

/** What the query string says about one level of the response: the table, or an embedded resource. */
export interface LevelQuery {
  filters: Filter[];
  logic: LogicTree[];
  order: OrderTerm[];
  /** Rows to skip and the maximum to return (undefined = all). */
  offset: number;
  limit: number | undefined;
}

/** Everything the query string of a table request says (PostgREST `QueryParams`). */
export interface ApiQuery extends LevelQuery {
  select: SelectItem[];
  columns: string[] | undefined;
  onConflict: string[] | undefined;
  /** Filters, order and paging of embedded resources, by path (`clients.projects` → "clients.projects"). */
  embedded: Map<string, LevelQuery>;
}

// Parameters PostgREST never reads as filters. `apikey` is the gateway's (Kong consumes it); it must
// not be parsed as a filter, or a refusal would echo the key.
const RESERVED = new Set(['select', 'columns', 'on_conflict', 'order', 'limit', 'offset', 'apikey']);
const LOGIC = /^(?:((?:[\p{L}\p{N}_$ -]+\.)*?)(not\.)?)(and|or)$/u;
const EMBED_PARAM = /^((?:[\p{L}\p{N}_$ -]+\.)+)(order|limit|offset)$/u;

function emptyLevel(): LevelQuery {
  return { filters: [], logic: [], order: [], offset: 0, limit: undefined };
}

export function parseQuery(params: URLSearchParams, rangeHeader: string | undefined): ApiQuery {
  const query: ApiQuery = {
    ...emptyLevel(),
    select: parseSelect(params.get('select') ?? '*'),
    columns: undefined,
    onConflict: undefined,
    embedded: new Map(),
  };
  const level = (path: string) => {
    if (!path) return query;
    const found = query.embedded.get(path) ?? emptyLevel();
    query.embedded.set(path, found);
    return found;
  };
  const embeddedPaging = new Map<string, { limit: string | null; offset: string | null }>();
  for (const [key, value] of params) {
    if (value === '' && !RESERVED.has(key)) continue;
    const logic = LOGIC.exec(key);
    const embedParam = EMBED_PARAM.exec(key);
    if (logic) {
      const path = (logic[1] ?? '').replace(/\.$/, '');
      level(path).logic.push(parseLogic(`${logic[2] ?? ''}${logic[3]}` as 'and', value));
    } else if (key === 'order') query.order.push(...parseOrder(value));
    else if (key === 'columns') query.columns = parseColumnList(value, 'columns parameter');
    else if (key === 'on_conflict') query.onConflict = parseColumnList(value, 'on_conflict parameter');
    else if (RESERVED.has(key)) continue;
    else if (embedParam) {
      const path = (embedParam[1] ?? '').replace(/\.$/, '');
      if (embedParam[2] === 'order') level(path).order.push(...parseOrder(value));
      else {
        const paging = embeddedPaging.get(path) ?? { limit: null, offset: null };
        paging[embedParam[2] as 'limit' | 'offset'] = value;
        embeddedPaging.set(path, paging);
      }
    } else {
      const { path, filter } = parseFilter(key, value);
      level(path.join('.')).filters.push(filter);
    }
  }
  applyRange(query, params.get('limit'), params.get('offset'), rangeHeader);
  for (const [path, paging] of embeddedPaging)
    applyRange(level(path), paging.limit, paging.offset, undefined);
  return query;
}

/** Non-integers are ignored as PostgREST's `readMaybe` ignores them; negatives are its 416. */
function applyRange(
  query: LevelQuery,
  limitText: string | null,
  offsetText: string | null,
  rangeHeader: string | undefined,
): void {
  let lower = 0;
  let upper = Number.POSITIVE_INFINITY;
  if (rangeHeader) {
    const m = /^\s*(\d+)-(\d*)\s*$/.exec(rangeHeader);
    if (m) {
      lower = Number(m[1]);
      upper = m[2] ? Number(m[2]) : Number.POSITIVE_INFINITY;
      if (lower > upper) {
        throw pgrstError(
          416,
          'PGRST103',
          'Requested range not satisfiable',
          'The lower boundary must be lower than or equal to the upper boundary in the Range header.',
        );
      }
    }
  }
  const limit = limitText !== null && /^-?\d+$/.test(limitText.trim()) ? Number(limitText) : undefined;
  const offset = offsetText !== null && /^\d+$/.test(offsetText.trim()) ? Number(offsetText) : 0;
  if (limit !== undefined && limit < 0) {
    throw pgrstError(
      416,
      'PGRST103',
      'Requested range not satisfiable',
      'Limit should be greater than or equal to zero.',
    );
  }
  const qLower = offset;
  const qUpper = limit === undefined ? Number.POSITIVE_INFINITY : offset + limit - 1;
  const lo = Math.max(lower, qLower);
  const hi = Math.min(upper, qUpper);
  query.offset = lo;
  query.limit = hi === Number.POSITIVE_INFINITY ? undefined : Math.max(0, hi - lo + 1);
}
