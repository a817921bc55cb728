import type { ProjectContext } from '../context.ts';

/**
 * Private channels are authorized by RLS policies on `realtime.messages` (read to join, write to
 * broadcast). This stack has no such table, which behaves as a project with no policies: only roles
 * that bypass RLS (service_role, superusers) pass. Postgres answers, rather than a list of names.
 */
export async function roleBypassesRls(ctx: ProjectContext, role: string): Promise<boolean> {
  const { rows } = await ctx.db.admin.query<{ bypass: boolean }>(
    'select rolbypassrls or rolsuper as bypass from pg_roles where rolname = $1',
    [role],
  );
  return rows[0]?.bypass === true;
}
