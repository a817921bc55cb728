import { parseArgs } from 'node:util';
import { decodeJwt } from 'jose';
import { loadMatrixConfig } from '../fixtures/config/matrix-config.ts';
import { type Doctor, openDoctor, resolveAccess } from '../fixtures/doctor/access.ts';
import { failing, renderReport } from '../fixtures/doctor/render.ts';
import type { BroadcastInput, ChangeEvent, DoctorReport } from '../fixtures/doctor/types.ts';
import { environmentNames } from '../fixtures/env/load.ts';
import { readRuntimeEnv } from '../fixtures/env/runtime.ts';
import { cellChanges } from '../fixtures/ladder/cell-changes.ts';
import { ServiceRows, tag } from '../fixtures/rows/service-rows.ts';
import { userAccessToken } from '../fixtures/rows/user-token.ts';
import { loadTargetEnvironment, resolveTarget, type Target } from '../fixtures/target.ts';

/**
 * `npm run doctor [-- --env prod]`: the preflight of the database side of realtime, per environment
 * and portal user: the table of REALTIME_TABLE in supabase_realtime and publishing the event, the
 * user's role granted USAGE and SELECT, RLS and its SELECT policies for that role, replica identity
 * and primary key; and the row the matrix would insert for each user (the config's row factory),
 * inserted and checked as that user inside a transaction that is rolled back, or with `--row <id>`
 * an existing row instead. Failing cells run the same checks with their own row and filter.
 */
const EVENTS = ['INSERT', 'UPDATE', 'DELETE', '*'] as const;
const { values } = parseArgs({
  options: {
    env: { type: 'string', multiple: true },
    event: { type: 'string', default: 'INSERT' },
    row: { type: 'string' },
    'catalog-only': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
const config = await loadMatrixConfig().catch((error: Error) => {
  console.error(error.message);
  process.exit(2);
});
const known = environmentNames(config.environmentsDir);
if (values.help) {
  console.log(`npm run doctor -- [--env <${known.join('|')}> …] [--event INSERT|UPDATE|DELETE|*] [--row <primary key> | --catalog-only] [--json]

  Checks, for each environment (default: all) and each portal's user of the config's app (RTM_CONFIG), what realtime needs from the
  database: publication (table in supabase_realtime, the event published, no column list or row
  filter dropping rows), grants (USAGE on the schema, SELECT on the table for the token's role), RLS
  (enabled, SELECT policies for the role, and the test row visible to the user), replica identity
  and primary key. Prints the fixing SQL for each failing check.

  The test row is the one the matrix would insert for that portal's user (the config's row
  factory), inserted and selected as the user in a transaction that is always rolled back: nothing
  is committed and no realtime event is sent. --row <primary key> checks an existing row instead;
  --catalog-only reads the catalog and inserts nothing.

  Database access: embedded targets use the stack's own (.stack/runtime.json); external targets use
  <ENV>_DATABASE_URL from the environment, else the RPC of supabase/doctor/realtime_matrix_doctor.sql
  with the service-role key; without either the checks are listed as skipped, with why.

  Exit codes: 0 every check ok or warn; 1 a check failed; 2 bad arguments; 3 a target unreachable.`);
  process.exit(0);
}
const envs = values.env?.length ? values.env : known;
const unknown = envs.filter((e) => !known.includes(e));
const event = values.event as ChangeEvent;
if (unknown.length || !EVENTS.includes(event as (typeof EVENTS)[number])) {
  console.error(
    unknown.length
      ? `Unknown environment ${unknown.join(', ')}: environments/ defines ${known.join(', ')}.`
      : `--event must be one of ${EVENTS.join(', ')} (got ${values.event}).`,
  );
  process.exit(2);
}

/** The user's claims as the project issues them: sign in with the password grant. */
async function signIn(target: Target): Promise<Record<string, unknown>> {
  return decodeJwt(await userAccessToken(target)) as Record<string, unknown>;
}

/** The row the matrix would insert for this portal's user, from the config's factory (never inserted here for good). */
function testRow(
  target: Target,
  claims: Record<string, unknown>,
): { row: Record<string, unknown> } | { error: string } {
  const id = claims['sub'];
  if (typeof id !== 'string') {
    return { error: `the test row needs the user's id, and ${target.user.email} could not be signed in` };
  }
  try {
    const row = new ServiceRows(target).make({
      user: { id, email: target.user.email },
      portal: target.portal.name,
      env: target.env,
      runTag: tag(`doctor-${process.pid}`),
      label: 'doctor test row',
    });
    return { row };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/**
 * A Broadcast portal (config `changes.kind: 'broadcast'`) is asked about what its cells join: the
 * topic the config computes from the row the factory makes for its user, `private` as configured, and
 * who writes. Whether the project allows public channels cannot be read here (the join's reply says
 * it in a cell).
 */
function broadcastInput(
  target: Target,
  claims: Record<string, unknown>,
  role: string,
  event: ChangeEvent,
): BroadcastInput | undefined {
  const changes = target.changes;
  if (changes.kind !== 'broadcast') return undefined;
  const id = typeof claims['sub'] === 'string' ? claims['sub'] : '';
  const cell = cellChanges(
    target,
    new ServiceRows(target).make({
      user: { id, email: target.user.email },
      portal: target.portal.name,
      env: target.env,
      runTag: tag(`doctor-${process.pid}`),
      label: 'doctor topic',
    }),
    { id, email: target.user.email },
  );
  if (cell.kind !== 'broadcast') return undefined;
  const operation = event === '*' ? 'INSERT' : event;
  return {
    topic: cell.topic,
    event: cell.event ?? operation,
    private: cell.private,
    writeAs: target.writeAs === 'user' ? role : 'service_role',
    headers: {},
    ...(cell.private
      ? {}
      : {
          privateOnlyUnknown:
            'npm run doctor cannot read the project\'s "Allow public access" setting; a cell reads it from its public join\'s reply',
        }),
  };
}

const started = performance.now();
let code = 0;
const out: { env: string; portal: string; email: string; report: DoctorReport }[] = [];
for (const env of envs) {
  let doctor: Doctor | undefined;
  try {
    const environment = loadTargetEnvironment(config, env);
    const targets = Object.keys(environment.portals).map((portal) =>
      resolveTarget(config, env, portal, process.env, environment),
    );
    const first = targets[0]!;
    doctor = openDoctor(
      resolveAccess({
        env,
        targetKind: first.targetKind,
        embeddedDatabaseUrl: first.targetKind === 'embedded' ? readRuntimeEnv(env).dbUrl : undefined,
        supabaseUrl: first.supabaseUrl,
        serviceRoleKey: first.serviceRoleKey,
        fetch: first.fetch,
      }),
    );
    const claimsOf = await Promise.all(
      targets.map((t) =>
        signIn(t).then(
          (claims) => ({ claims }),
          (error: Error) => ({ error }),
        ),
      ),
    );
    for (const [i, target] of targets.entries()) {
      const signed = claimsOf[i]!;
      const claims = 'claims' in signed ? signed.claims : { role: 'authenticated' };
      const probe = values.row || values['catalog-only'] ? undefined : testRow(target, claims);
      const role = typeof claims['role'] === 'string' ? claims['role'] : 'anon';
      const broadcast = broadcastInput(target, claims, role, event);
      const report = await doctor.run({
        table: target.table,
        event,
        role,
        claims,
        ...(values.row ? { rowId: values.row } : {}),
        ...(probe && 'row' in probe ? { probe: probe.row } : {}),
        ...(broadcast ? { broadcast } : {}),
      });
      if (probe && 'error' in probe) {
        report.skipped = [
          ...report.skipped.filter((k) => k.check !== 'rls.row_hidden'),
          { check: 'rls.row_hidden', why: probe.error },
        ];
      }
      if ('error' in signed) {
        report.skipped.unshift({
          check: 'claims',
          why: `${signed.error.message}; checked as role authenticated without the user's claims`,
        });
      }
      out.push({ env, portal: target.portal.name, email: target.user.email, report });
      if (failing(report)) code = 1;
    }
  } catch (error) {
    code = code || 3;
    console.error(`${env}: the doctor could not run: ${(error as Error).message}`);
  } finally {
    await doctor?.close();
  }
}
const tookMs = Math.round(performance.now() - started);
if (values.json) {
  console.log(JSON.stringify({ tookMs, reports: out }, null, 2));
} else {
  for (const r of out) console.log(`${renderReport(r.report, `${r.env} ${r.portal} (${r.email})`)}\n`);
  const failed = out.filter((r) => failing(r.report));
  console.log(
    failed.length
      ? `doctor: ${failed.length} of ${out.length} check sets FAIL (${failed.map((r) => `${r.portal}-${r.env}`).join(', ')}) in ${tookMs} ms`
      : `doctor: ${out.length} portal × env check sets, no failing check, in ${tookMs} ms`,
  );
}
process.exit(code);
