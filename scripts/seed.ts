import { parseArgs } from 'node:util';
import { environmentNames } from '../fixtures/env/load.ts';
import { PORTAL_NAMES } from '../fixtures/portal-model.ts';
import { describeApiKey } from '../fixtures/redact.ts';
import { ENVIRONMENTS_DIR, resolveTarget } from '../fixtures/target.ts';
import { ensureSeedUsers } from '../portals/seed-users.ts';

/**
 * `npm run seed -- --env prod`: make sure each portal's test user exists in that environment with its
 * password (from the variable the environment file names) and its role (app_metadata.user_role),
 * through the admin API with the service-role key from the environment. Idempotent; the matrix's
 * seeded-user fixture does the same per worker.
 */
const { values } = parseArgs({
  options: { env: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h', default: false } },
});
const known = environmentNames(ENVIRONMENTS_DIR);
if (values.help) {
  console.log(`npm run seed -- --env <${known.join('|')}> [--env …]

  Creates or updates the client, agent and admin test users of each environment (default: all).
  External targets read the service-role key from <ENV>_SUPABASE_SERVICE_ROLE_KEY and the passwords
  from the variables named by USER_*_PASSWORD_VAR; embedded targets read .stack/runtime.json.`);
  process.exit(0);
}
const envs = values.env?.length ? values.env : known;
const unknown = envs.filter((e) => !known.includes(e));
if (unknown.length) {
  console.error(`Unknown environment ${unknown.join(', ')}: environments/ defines ${known.join(', ')}.`);
  process.exit(1);
}

let failed = false;
for (const env of envs) {
  try {
    const targets = PORTAL_NAMES.map((portal) => resolveTarget(env, portal));
    const { supabaseUrl, serviceRoleKey, fetch } = targets[0]!;
    const seeded = await ensureSeedUsers(
      supabaseUrl,
      serviceRoleKey,
      targets.map((t) => ({ role: t.user.role, email: t.user.email, password: t.user.password })),
      { fetch },
    );
    console.log(`${env}: ${supabaseUrl} (${describeApiKey(serviceRoleKey)})`);
    for (const u of seeded)
      console.log(`  ${u.created ? 'created' : 'updated'} ${u.email} (user_role ${u.role}, id ${u.id})`);
  } catch (error) {
    failed = true;
    console.error(`${env}: seeding failed: ${(error as Error).message}`);
  }
}
process.exit(failed ? 1 : 0);
