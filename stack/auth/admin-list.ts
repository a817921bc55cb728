import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProjectContext } from '../context.ts';
import { requireAdmin } from './credentials.ts';
import { badRequest } from './errors.ts';
import { requestAud } from './request.ts';
import { type Queryable, query } from './sql.ts';
import { type IdentityRow, USER_COLUMNS, type UserRow } from './user-json.ts';
import { NIL_INSTANCE, toJson } from './users.ts';

const DEFAULT_PER_PAGE = 50;

/**
 * GET /admin/users (GoTrue adminUsers, offset mode): newest first, `Link` and `X-Total-Count`
 * headers in the exact shape auth-js parses (it reads the digit after the first `=`, so `page`
 * must lead the query, which Go's sorted query encoding guarantees).
 */
export async function listUsers(ctx: ProjectContext, req: IncomingMessage, res: ServerResponse, url: URL) {
  await requireAdmin(ctx, req, url);
  const aud = requestAud(req);
  const page = pageParam(url, 'page', 1);
  const perPage = pageParam(url, 'per_page', DEFAULT_PER_PAGE);
  const filter = url.searchParams.get('filter') ?? '';
  const where = `u.instance_id = '${NIL_INSTANCE}' and u.aud = $1
    and ($2 = '' or u.email like '%' || $2 || '%' or u.raw_user_meta_data->>'full_name' ilike '%' || $2 || '%')`;
  const [count] = await query<{ n: string }>(
    ctx.db.admin,
    `select count(*)::text as n from auth.users u where ${where}`,
    [aud, filter],
  );
  const rows = await query<UserRow>(
    ctx.db.admin,
    `select ${USER_COLUMNS} from auth.users u where ${where} order by u.created_at desc, u.id
      limit $3 offset $4`,
    [aud, filter, perPage, (page - 1) * perPage],
  );
  const identities = await identitiesOfMany(
    ctx.db.admin,
    rows.map((r) => r.id),
  );
  const users = rows.map((row) => toJson({ row, identities: identities.get(row.id) ?? [] }));
  const total = Number(count?.n ?? 0);
  res.setHeader('Link', linkHeader(url, page, perPage, total));
  res.setHeader('X-Total-Count', String(total));
  return { users, aud };
}

function pageParam(url: URL, key: string, fallback: number): number {
  const text = url.searchParams.get(key) ?? '';
  if (text === '') return fallback;
  if (!/^\d+$/.test(text)) {
    throw badRequest(
      'validation_failed',
      `Bad Pagination Parameters: strconv.ParseUint: parsing "${text}": invalid syntax`,
    );
  }
  // pop's Paginate treats page < 1 as 1 and per_page < 1 as its default of 20.
  const value = Number(text);
  if (value >= 1) return value;
  return key === 'page' ? 1 : 20;
}

/** addPaginationHeaders: the URL as GoTrue sees it (behind the gateway, without /auth/v1). */
function linkHeader(url: URL, page: number, perPage: number, total: number): string {
  const totalPages = Math.ceil(total / perPage);
  const path = url.pathname.replace(/^\/auth\/v1/, '');
  const link = (p: number) => {
    const q = new URLSearchParams(url.searchParams);
    q.set('page', String(p));
    const sorted = [...q.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `<${path}?${new URLSearchParams(sorted).toString()}>`;
  };
  let header = '';
  if (totalPages > page) header += `${link(page + 1)}; rel="next", `;
  header += `${link(totalPages)}; rel="last"`;
  return header;
}

/** Every listed user's identities in one query (a page may hold 1000 users). */
async function identitiesOfMany(db: Queryable, userIds: string[]): Promise<Map<string, IdentityRow[]>> {
  const rows = await query<IdentityRow>(
    db,
    `select id, provider_id, user_id, identity_data, provider, last_sign_in_at, created_at, updated_at, email
       from auth.identities where user_id = any($1::uuid[]) order by created_at, id`,
    [userIds],
  );
  const byUser = new Map<string, IdentityRow[]>();
  for (const row of rows) byUser.set(row.user_id, [...(byUser.get(row.user_id) ?? []), row]);
  return byUser;
}
