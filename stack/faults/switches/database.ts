import pg from 'pg';
import type { Portal } from '../../topology/cells.ts';
import type { Deployment } from '../../topology/deployment.ts';
import { cellTarget, type FaultDefinition, rememberingEnvFault } from '../definition.ts';
import { findMigrationStatement } from '../migration-sql.ts';

/**
 * Faults that live in a project's database, changed with the same SQL a team would run by mistake
 * (or forget to run). Reverting re-runs the app's own migration statement, so the healthy state is
 * exactly what the migrations define.
 */

export async function inTransaction(deployment: Deployment, statements: string[]): Promise<void> {
  const client = await deployment.project.ctx.db.admin.connect();
  try {
    await client.query('begin');
    for (const sql of statements) await client.query(sql);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch((rollbackError: Error) => {
      throw new Error(`Rolling back on project "${deployment.env}" failed: ${rollbackError.message}`, {
        cause: error,
      });
    });
    throw new Error(
      `Changing the database of project "${deployment.env}" failed: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  } finally {
    client.release();
  }
}

// role-claim-missing ------------------------------------------------------------------------------

const HOOK = /create\s+(or\s+replace\s+)?function\s+public\.custom_access_token_hook\s*\(/i;

/** Portals whose users currently get no user_role claim, per project. */
const claimless = new WeakMap<Deployment, Set<Portal>>();

/**
 * The hook as a team breaks it: same lookup, but for the listed roles the claim is never set
 * (e.g. a refactor that only handles the roles someone remembered). Keeps the healthy hook's
 * security settings; grants survive `create or replace`.
 */
function hookWithout(roles: Portal[]): string {
  const list = roles.map((r) => pg.escapeLiteral(r)).join(', ');
  return `create or replace function public.custom_access_token_hook(event jsonb)
returns jsonb
language plpgsql
stable
set search_path = ''
as $$
declare
  claims jsonb := event -> 'claims';
  role_name text;
begin
  select u.raw_app_meta_data ->> 'user_role' into role_name
    from auth.users u where u.id = (event ->> 'user_id')::uuid;
  if role_name in (${list}) then
    claims := claims - 'user_role';
  elsif role_name is not null then
    claims := jsonb_set(claims, '{user_role}', to_jsonb(role_name));
  else
    claims := jsonb_set(claims, '{user_role}', 'null'::jsonb);
  end if;
  return jsonb_set(event, '{claims}', claims);
end;
$$`;
}

async function rewriteHook(deployment: Deployment): Promise<void> {
  const roles = [...(claimless.get(deployment) ?? [])];
  if (roles.length) return inTransaction(deployment, [hookWithout(roles)]);
  const healthy = await findMigrationStatement(HOOK, 'public.custom_access_token_hook');
  await inTransaction(deployment, [
    healthy.sql.replace(HOOK, 'create or replace function public.custom_access_token_hook('),
  ]);
}

export const roleClaimMissing: FaultDefinition = {
  name: 'role-claim-missing',
  description: "the project's access token hook leaves user_role out of the JWT for this portal's role",
  scope: 'cell',
  needs: 'user-role-hook',
  async apply(t) {
    const { portal, deployment } = cellTarget(t);
    const set = claimless.get(deployment) ?? new Set<Portal>();
    set.add(portal);
    claimless.set(deployment, set);
    await rewriteHook(deployment);
  },
  async revert(t) {
    const { portal, deployment } = cellTarget(t);
    claimless.get(deployment)?.delete(portal);
    await rewriteHook(deployment);
  },
};

// table-not-published ----------------------------------------------------------------------------

/** Whether the app's watched table (StackApp.table) is in the project's supabase_realtime publication. */
async function appTablePublished(deployment: Deployment): Promise<{ published: boolean; table: string }> {
  const { schema, name } = deployment.app.table;
  const { rowCount } = await deployment.project.ctx.db.admin.query(
    `select 1 from pg_publication_tables where pubname = 'supabase_realtime' and schemaname = $1 and tablename = $2`,
    [schema, name],
  );
  return {
    published: Boolean(rowCount),
    table: `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(name)}`,
  };
}

export const tableNotPublished: FaultDefinition = {
  name: 'table-not-published',
  description:
    "the app's watched table (public.tickets for the demo) is dropped from the supabase_realtime publication of the project (env-wide)",
  scope: 'env',
  async apply({ deployment }) {
    const { published, table } = await appTablePublished(deployment);
    if (published)
      await inTransaction(deployment, [`alter publication supabase_realtime drop table ${table}`]);
  },
  async revert({ deployment }) {
    const { published, table } = await appTablePublished(deployment);
    if (!published)
      await inTransaction(deployment, [`alter publication supabase_realtime add table ${table}`]);
  },
};

// rls-hides-rows ---------------------------------------------------------------------------------

/** The one SELECT policy on public.tickets that grants rows to `role` (by its `'<role>'` literal). */
async function selectPolicyOf(deployment: Deployment, role: Portal): Promise<{ name: string; qual: string }> {
  const { rows } = await deployment.project.ctx.db.admin.query<{ policyname: string; qual: string }>(
    `select policyname, qual from pg_policies
      where schemaname = 'public' and tablename = 'tickets' and cmd in ('SELECT', 'ALL')
        and position($1 in qual) > 0`,
    [`'${role}'::text`],
  );
  if (rows.length !== 1 || !rows[0]) {
    throw new Error(
      `Expected exactly one SELECT policy on public.tickets for role "${role}" in project "${deployment.env}", ` +
        `found ${rows.length} (${rows.map((r) => r.policyname).join(', ') || 'none'}). ` +
        'rls-hides-rows needs one policy per role, as supabase/migrations define them.',
    );
  }
  return { name: rows[0].policyname, qual: rows[0].qual };
}

/** Which policy each active rls-hides-rows fault changed, so revert restores that one. */
const hidden = new WeakMap<Deployment, Map<Portal, string>>();

export const rlsHidesRows: FaultDefinition = {
  name: 'rls-hides-rows',
  description:
    "this role's SELECT policy on public.tickets also demands the JWT role claim equal the app role, so no row is visible",
  scope: 'cell',
  needs: 'select-policy-per-role',
  async apply(t) {
    const { portal, deployment } = cellTarget(t);
    const changed = hidden.get(deployment) ?? new Map<Portal, string>();
    if (changed.has(portal)) return;
    const policy = await selectPolicyOf(deployment, portal);
    // The classic mix-up: `role` is the Postgres role ("authenticated"), never the app's role.
    await inTransaction(deployment, [
      `alter policy ${pg.escapeIdentifier(policy.name)} on public.tickets
         using ((select auth.jwt() ->> 'role') = ${pg.escapeLiteral(portal)} and (${policy.qual}))`,
    ]);
    changed.set(portal, policy.name);
    hidden.set(deployment, changed);
  },
  async revert(t) {
    const { portal, deployment } = cellTarget(t);
    const name = hidden.get(deployment)?.get(portal);
    if (!name) return;
    const quoted = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const original = await findMigrationStatement(
      new RegExp(`create\\s+policy\\s+"${quoted}"\\s+on\\s+public\\.tickets\\b`, 'i'),
      `the policy "${name}" on public.tickets`,
    );
    await inTransaction(deployment, [
      `drop policy if exists ${pg.escapeIdentifier(name)} on public.tickets`,
      original.sql,
    ]);
    hidden.get(deployment)?.delete(portal);
  },
};

// insert-not-published ---------------------------------------------------------------------------

export const insertNotPublished = rememberingEnvFault({
  name: 'insert-not-published',
  description:
    "the project's supabase_realtime publication stops publishing INSERT (publish = 'update, delete'), as a change to cut WAL traffic does (env-wide)",
  async change(deployment) {
    const { rows } = await deployment.project.ctx.db.admin.query<{ publish: string }>(
      `select concat_ws(', ', case when pubinsert then 'insert' end, case when pubupdate then 'update' end,
                        case when pubdelete then 'delete' end, case when pubtruncate then 'truncate' end) as publish
         from pg_publication where pubname = 'supabase_realtime'`,
    );
    const before = rows[0]?.publish;
    if (before === undefined) {
      throw new Error(`Project "${deployment.env}" has no supabase_realtime publication to change.`);
    }
    const without = before
      .split(', ')
      .filter((op) => op && op !== 'insert')
      .join(', ');
    await inTransaction(deployment, [
      `alter publication supabase_realtime set (publish = ${pg.escapeLiteral(without)})`,
    ]);
    return before;
  },
  restore: (deployment, before) =>
    inTransaction(deployment, [
      `alter publication supabase_realtime set (publish = ${pg.escapeLiteral(before)})`,
    ]),
});

// select-revoked ---------------------------------------------------------------------------------

function appTable(deployment: Deployment): string {
  const { schema, name } = deployment.app.table;
  return `${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(name)}`;
}

export const selectRevoked: FaultDefinition = {
  name: 'select-revoked',
  description:
    "SELECT on the app's watched table (public.tickets for the demo) is revoked from authenticated in the project, as a hardening migration does by mistake (env-wide)",
  scope: 'env',
  async apply({ deployment }) {
    await inTransaction(deployment, [`revoke select on ${appTable(deployment)} from authenticated`]);
  },
  async revert({ deployment }) {
    // The app's own migration grants it (with insert, update, delete, which the fault left alone).
    await inTransaction(deployment, [`grant select on ${appTable(deployment)} to authenticated`]);
  },
};

// schema-usage-revoked ---------------------------------------------------------------------------

/** Whether PUBLIC had USAGE on schema public before, per project (Postgres grants it by default). */
const publicUsageBefore = new WeakMap<Deployment, boolean>();

export const schemaUsageRevoked: FaultDefinition = {
  name: 'schema-usage-revoked',
  description:
    'USAGE on schema public is revoked from authenticated (and from PUBLIC, through which every role has it by default) in the project (env-wide)',
  scope: 'env',
  async apply({ deployment }) {
    if (publicUsageBefore.has(deployment)) return;
    const { rows } = await deployment.project.ctx.db.admin.query<{ public_usage: boolean }>(
      `select exists(select 1 from pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
                      where n.nspname = 'public' and a.grantee = 0 and a.privilege_type = 'USAGE') as public_usage`,
    );
    const publicUsage = rows[0]?.public_usage === true;
    // Revoking from authenticated alone changes nothing while PUBLIC still has USAGE.
    await inTransaction(deployment, [
      'revoke usage on schema public from authenticated',
      ...(publicUsage ? ['revoke usage on schema public from public'] : []),
    ]);
    publicUsageBefore.set(deployment, publicUsage);
  },
  async revert({ deployment }) {
    const publicUsage = publicUsageBefore.get(deployment);
    if (publicUsage === undefined) return;
    await inTransaction(deployment, [
      'grant usage on schema public to authenticated',
      ...(publicUsage ? ['grant usage on schema public to public'] : []),
    ]);
    publicUsageBefore.delete(deployment);
  },
};
