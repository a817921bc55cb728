import pg from 'pg';
import type { Deployment } from '../../topology/deployment.ts';
import { rememberingEnvFault } from '../definition.ts';
import { inTransaction } from './database.ts';
import { overrideFault } from './portal.ts';

/**
 * Faults of Broadcast from Database and private channels (PROTOCOL-BROADCAST.md §5), each by its
 * real mechanism: what a team's migration, dashboard setting or page code gets wrong. The database
 * ones work on any app whose watched table has a trigger calling `realtime.broadcast_changes` and
 * policies on `realtime.messages`; the page ones need a portal that honours the override.
 */

// ── in the page ──────────────────────────────────────────────────────────────────────────────────

export const broadcastAnonJoin = overrideFault(
  'broadcast-anon-join',
  'the portal joins its private channel before handing realtime the session (it sets auth only after CHANNEL_ERROR): the first join carries the anon key and the read check refuses it',
  'joinBeforeSession',
  () => true,
  'join-before-session',
);

export const broadcastNotPrivate = overrideFault(
  'broadcast-not-private',
  "the portal joins its broadcast topic with private: false while the trigger's broadcast_changes sends private messages: the join succeeds and nothing arrives",
  'privateChannel',
  () => false,
  'private-channel',
);

// ── in the database ──────────────────────────────────────────────────────────────────────────────

interface PolicyDef {
  name: string;
  sql: string;
}

/** The SELECT (and ALL) policies on realtime.messages as CREATE POLICY statements that restore them. */
async function readPolicies(deployment: Deployment): Promise<PolicyDef[]> {
  const { rows } = await deployment.project.ctx.db.admin.query<{
    name: string;
    permissive: boolean;
    cmd: string;
    roles: string[];
    qual: string | null;
    check: string | null;
  }>(
    `select p.polname as name, p.polpermissive as permissive, p.polcmd::text as cmd,
            case when p.polroles = '{0}' then array['public']
                 else array(select quote_ident(r.rolname) from pg_roles r where r.oid = any(p.polroles) order by 1) end as roles,
            pg_get_expr(p.polqual, p.polrelid) as qual, pg_get_expr(p.polwithcheck, p.polrelid) as check
       from pg_policy p
      where p.polrelid = 'realtime.messages'::regclass and p.polcmd in ('r', '*')
      order by p.polname`,
  );
  const cmd = (c: string) => (c === 'r' ? 'select' : 'all');
  return rows.map((r) => ({
    name: r.name,
    sql:
      `create policy ${pg.escapeIdentifier(r.name)} on realtime.messages as ${r.permissive ? 'permissive' : 'restrictive'}` +
      ` for ${cmd(r.cmd)} to ${r.roles.join(', ')}` +
      `${r.qual ? ` using (${r.qual})` : ''}${r.check ? ` with check (${r.check})` : ''}`,
  }));
}

export const broadcastNoSelectPolicy = rememberingEnvFault({
  name: 'broadcast-no-select-policy',
  description:
    'the SELECT policies on realtime.messages are gone (a migration that drops or never creates them): every private join is refused by the read check (env-wide)',
  async change(deployment) {
    const policies = await readPolicies(deployment);
    if (policies.length === 0) {
      throw new Error(
        `broadcast-no-select-policy: project "${deployment.env}" has no SELECT policy on realtime.messages to drop (does the app authorize private channels?).`,
      );
    }
    await inTransaction(
      deployment,
      policies.map((p) => `drop policy ${pg.escapeIdentifier(p.name)} on realtime.messages`),
    );
    return policies;
  },
  restore: (deployment, policies) =>
    inTransaction(
      deployment,
      policies.map((p) => p.sql),
    ),
});

/** The enabled triggers' functions on the app's watched table that call realtime.broadcast_changes. */
async function broadcastFunctions(
  deployment: Deployment,
  fault: string,
): Promise<{ oid: number; name: string; definer: boolean; def: string }[]> {
  const { schema, name } = deployment.app.table;
  const { rows } = await deployment.project.ctx.db.admin.query<{
    oid: number;
    name: string;
    definer: boolean;
    def: string;
  }>(
    `select distinct f.oid::int as oid, f.oid::regprocedure::text as name, f.prosecdef as definer,
            pg_get_functiondef(f.oid) as def
       from pg_trigger t
       join pg_class c on c.oid = t.tgrelid
       join pg_namespace n on n.oid = c.relnamespace
       join pg_proc f on f.oid = t.tgfoid
      where n.nspname = $1 and c.relname = $2 and not t.tgisinternal and t.tgenabled <> 'D'
        and f.prosrc ~* 'realtime\\.broadcast_changes\\s*\\('`,
    [schema, name],
  );
  if (rows.length === 0) {
    throw new Error(
      `${fault}: ${schema}.${name} in project "${deployment.env}" has no enabled trigger whose function calls realtime.broadcast_changes.`,
    );
  }
  return rows;
}

/** The classic mistake (PROTOCOL-BROADCAST §5): the trigger prefixes the topic with `realtime:`. */
const MISMATCH_PREFIX = 'realtime:';

export const broadcastTopicMismatch = rememberingEnvFault({
  name: 'broadcast-topic-mismatch',
  description: `the broadcast trigger's function sends to '${MISMATCH_PREFIX}' || <its topic> (the wire prefix written into the topic), so its messages go to a topic no portal joins (env-wide)`,
  async change(deployment) {
    const functions = await broadcastFunctions(deployment, 'broadcast-topic-mismatch');
    await inTransaction(
      deployment,
      functions.map((f) =>
        f.def.replace(
          /realtime\.broadcast_changes\s*\(/gi,
          `realtime.broadcast_changes(${pg.escapeLiteral(MISMATCH_PREFIX)} || `,
        ),
      ),
    );
    return functions.map((f) => f.def);
  },
  restore: (deployment, originals) => inTransaction(deployment, originals),
});

export const broadcastNotSecurityDefiner = rememberingEnvFault({
  name: 'broadcast-not-security-definer',
  description:
    "the broadcast trigger's function runs as the writer (security invoker): a service-role write still broadcasts, a user's write through REST sends nothing (WARNING WarnSendingBroadcastMessage) (env-wide)",
  async change(deployment) {
    const definers = (await broadcastFunctions(deployment, 'broadcast-not-security-definer')).filter(
      (f) => f.definer,
    );
    await inTransaction(
      deployment,
      definers.map((f) => `alter function ${f.name} security invoker`),
    );
    return definers.map((f) => f.name);
  },
  restore: (deployment, names) =>
    inTransaction(
      deployment,
      names.map((n) => `alter function ${n} security definer`),
    ),
});

export const broadcastPrivateOnly = rememberingEnvFault({
  name: 'broadcast-private-only',
  description:
    'the project\'s Realtime setting "Allow public access" is off (private only): every public channel join is refused with PrivateOnly (env-wide)',
  async change(deployment) {
    const before = deployment.project.config.realtimePrivateOnly;
    deployment.project.config.realtimePrivateOnly = true;
    return before;
  },
  async restore(deployment, before) {
    deployment.project.config.realtimePrivateOnly = before;
  },
});
