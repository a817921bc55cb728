import { relative } from 'node:path';
import { parseArgs } from 'node:util';
import { loadMatrixConfig } from '../fixtures/config/matrix-config.ts';
import { environmentNames } from '../fixtures/env/load.ts';
import { describeApiKey } from '../fixtures/redact.ts';
import { loadTargetEnvironment, resolveTarget } from '../fixtures/target.ts';
import { ensureSeedUsers } from '../portals/seed-users.ts';

/**
 * `npm run seed -- --env prod`: make sure each portal's test user exists in that environment with its
 * password (from the variable the environment file names) and the app_metadata the config gives it,
 * through the admin API with the service-role key from the environment. Idempotent; the matrix's
 * seeded-user fixture does the same per worker. The portals come from the app's config (RTM_CONFIG).
 */
const { values } = parseArgs({
  options: { env: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h', default: false } },
});
const config = await loadMatrixConfig().catch((error: Error) => {
  console.error(error.message);
  process.exit(1);
});
const known = environmentNames(config.environmentsDir);
if (values.help) {
  console.log(`npm run seed -- --env <${known.join('|')}> [--env …]

  Creates or updates the test users of the ${config.name} app's portals (${config.portalNames.join(', ')};
  from ${relative(process.cwd(), config.configFile)}, or RTM_CONFIG) in each environment (default: all).
  External targets read the service-role key from <ENV>_SUPABASE_SERVICE_ROLE_KEY and each password
  from the variable the portal's password key names; embedded targets read .stack/runtime.json.`);
  process.exit(0);
}
const envs = values.env?.length ? values.env : known;
const unknown = envs.filter((e) => !known.includes(e));
if (unknown.length) {
  console.error(
    `Unknown environment ${unknown.join(', ')}: ${relative(process.cwd(), config.environmentsDir)}/ defines ${known.join(', ')}.`,
  );
  process.exit(1);
}

let failed = false;
for (const env of envs) {
  try {
    const environment = loadTargetEnvironment(config, env);
    const targets = Object.keys(environment.portals).map((portal) =>
      resolveTarget(config, env, portal, process.env, environment),
    );
    const { supabaseUrl, serviceRoleKey, fetch } = targets[0]!;
    const seeded = await ensureSeedUsers(
      supabaseUrl,
      serviceRoleKey,
      targets.map((t) => ({
        email: t.user.email,
        password: t.user.password,
        appMetadata: t.user.appMetadata,
      })),
      { fetch },
    );
    console.log(`${env}: ${supabaseUrl} (${describeApiKey(serviceRoleKey)})`);
    for (const u of seeded)
      console.log(
        `  ${u.created ? 'created' : 'updated'} ${u.email} (app_metadata ${JSON.stringify(u.appMetadata)}, id ${u.id})`,
      );
  } catch (error) {
    failed = true;
    console.error(`${env}: seeding failed: ${(error as Error).message}`);
  }
}
process.exit(failed ? 1 : 0);
