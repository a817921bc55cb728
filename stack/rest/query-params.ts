import { pgrstError } from './errors.ts';
import { parseColumnList } from './parse/field.ts';
import { type Filter, type LogicTree, parseFilter, parseLogic } from './parse/filter.ts';
import { type OrderTerm, parseOrder } from './parse/order.ts';
import { parseSelect, type SelectItem } from './parse/select.ts';

/** Everything the query string of a table request says (PostgREST `QueryParams`). */
export interface ApiQuery {
  select: SelectItem[];
  filters: Filter[];
  logic: LogicTree[];
  order: OrderTerm[];
  /** Rows to skip and the maximum to return (undefined = all). */
  offset: number;
  limit: number | undefined;
  columns: string[] | undefined;
  onConflict: string[] | undefined;
}

// Parameters PostgREST never reads as filters. `apikey` is the gateway's (Kong consumes it); it must
// not be parsed as a filter, or a refusal would echo the key.
const RESERVED = new Set(['select', 'columns', 'on_conflict', 'order', 'limit', 'offset', 'apikey']);
const LOGIC_KEYS = new Set(['and', 'or', 'not.and', 'not.or']);

export function parseQuery(params: URLSearchParams, rangeHeader: string | undefined): ApiQuery {
  const query: ApiQuery = {
    select: parseSelect(params.get('select') ?? '*'),
    filters: [],
    logic: [],
    order: [],
    offset: 0,
    limit: undefined,
    columns: undefined,
    onConflict: undefined,
  };
  for (const [key, value] of params) {
    if (value === '' && !RESERVED.has(key)) continue;
    if (LOGIC_KEYS.has(key)) query.logic.push(parseLogic(key as 'and', value));
    else if (key === 'order') query.order.push(...parseOrder(value));
    else if (key === 'columns') query.columns = parseColumnList(value, 'columns parameter');
    else if (key === 'on_conflict') query.onConflict = parseColumnList(value, 'on_conflict parameter');
    else if (RESERVED.has(key)) continue;
    else if (/^[\p{L}\p{N}_$ -]+\.(order|limit|offset|and|or)$/u.test(key)) {
      const resource = key.split('.')[0] ?? key;
      throw pgrstError(
        400,
        'PGRST108',
        `'${resource}' is not an embedded resource in this request`,
        null,
        `Verify that '${resource}' is included in the 'select' query parameter.`,
      );
    } else query.filters.push(parseFilter(key, value));
  }
  applyRange(query, params.get('limit'), params.get('offset'), rangeHeader);
  return query;
}

/** Non-integers are ignored as PostgREST's `readMaybe` ignores them; negatives are its 416. */
function applyRange(
  query: ApiQuery,
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
