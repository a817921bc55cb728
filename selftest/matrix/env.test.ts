import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMatrixConfig, portalEnvKeys } from '../../fixtures/config/matrix-config.ts';
import {
  EnvironmentError,
  environmentNames,
  loadEnvironment,
  loadEnvironments,
} from '../../fixtures/env/load.ts';

/** The help-desk's portal keys: the environment schema is the config's portals plus the common keys. */
const CONFIG = await loadMatrixConfig();
const KEYS = portalEnvKeys(CONFIG);
const ENVIRONMENTS_DIR = CONFIG.environmentsDir;

const VALID = `TARGET_KIND=embedded
SUPABASE_URL=https://api.prod.localhost:8443
PORTAL_CLIENT_URL=https://client.prod.localhost:8443
PORTAL_AGENT_URL=https://agent.prod.localhost:8443
PORTAL_ADMIN_URL=https://admin.prod.localhost:8443
USER_CLIENT_EMAIL=client@helpdesk.test
USER_AGENT_EMAIL=agent@helpdesk.test
USER_ADMIN_EMAIL=admin@helpdesk.test
USER_CLIENT_PASSWORD_VAR=PROD_CLIENT_PASSWORD
LATENCY_BUDGET_MS=2000
`;

/** An environments/ directory under the cwd, so messages show the same relative paths as in the repo. */
function envDir(files: Record<string, string>): { dir: string; cwd: string } {
  const cwd = mkdtempSync(join(tmpdir(), 'rtm-env-'));
  const dir = join(cwd, 'environments');
  mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return { dir, cwd };
}

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof EnvironmentError) return error.problems;
    throw error;
  }
  throw new Error('expected an EnvironmentError');
}

describe('environment files', () => {
  it('the committed local and prod files validate', () => {
    const envs = loadEnvironments(ENVIRONMENTS_DIR, environmentNames(ENVIRONMENTS_DIR), {}, KEYS);
    expect(envs.map((e) => e.name)).toEqual(['local', 'prod']);
    expect(envs.map((e) => e.values.LATENCY_BUDGET_MS)).toEqual([1000, 2000]);
    expect(envs.every((e) => e.values.REALTIME_TABLE === undefined)).toBe(true);
  });

  it('lists <env>.env files, not <env>.local.env overrides', () => {
    const { dir } = envDir({
      'prod.env': VALID,
      'prod.local.env': '',
      'staging.env': VALID,
      'notes.txt': '',
    });
    expect(environmentNames(dir)).toEqual(['prod', 'staging']);
  });

  it('names the file, the key and what is expected', () => {
    const { dir, cwd } = envDir({
      'prod.env': VALID.replace('LATENCY_BUDGET_MS=2000', 'LATENCY_BUDGET_MS=fast'),
    });
    expect(problems(() => loadEnvironment(dir, 'prod', {}, cwd, KEYS))).toEqual([
      'environments/prod.env: LATENCY_BUDGET_MS must be a positive integer (milliseconds) (got "fast")',
    ]);
  });

  it('reports every problem at once, missing keys with what they should be', () => {
    const text = VALID.replace('TARGET_KIND=embedded\n', '')
      .replace('SUPABASE_URL=https://api.prod.localhost:8443', 'SUPABASE_URL=api.prod.localhost')
      .replace('USER_CLIENT_PASSWORD_VAR=PROD_CLIENT_PASSWORD', 'USER_CLIENT_PASSWORD_VAR=hunter 2')
      .concat('LATENCY_BUDGT_MS=5\n');
    const { dir, cwd } = envDir({ 'prod.env': text });
    expect(problems(() => loadEnvironment(dir, 'prod', {}, cwd, KEYS))).toEqual([
      expect.stringMatching(
        /^environments\/prod\.env: LATENCY_BUDGT_MS is not a known key \(known: TARGET_KIND, /,
      ),
      'environments/prod.env: TARGET_KIND is required ("embedded" (the stack in this repo) or "external" (a real deployment))',
      'environments/prod.env: SUPABASE_URL must be an http(s) URL such as https://<project-ref>.supabase.co (got "api.prod.localhost")',
      'environments/prod.env: USER_CLIENT_PASSWORD_VAR must be the NAME of an environment variable that holds the password (e.g. PROD_CLIENT_PASSWORD), not the password (got "hunter 2")',
    ]);
  });

  it('<env>.local.env overrides the committed file, and PROD_<KEY> overrides both', () => {
    const { dir, cwd } = envDir({ 'prod.env': VALID, 'prod.local.env': 'LATENCY_BUDGET_MS=3000\n' });
    expect(loadEnvironment(dir, 'prod', {}, cwd, KEYS).values.LATENCY_BUDGET_MS).toBe(3000);
    const env = loadEnvironment(
      dir,
      'prod',
      { PROD_LATENCY_BUDGET_MS: '4000', LATENCY_BUDGET_MS: '1' },
      cwd,
      KEYS,
    );
    expect(env.values.LATENCY_BUDGET_MS).toBe(4000);
    expect(env.sources.LATENCY_BUDGET_MS).toBe('environment variable PROD_LATENCY_BUDGET_MS');
  });

  it('blames the variable when a process value is bad', () => {
    const { dir, cwd } = envDir({ 'prod.env': VALID });
    expect(problems(() => loadEnvironment(dir, 'prod', { PROD_TARGET_KIND: 'hosted' }, cwd, KEYS))).toEqual([
      'environment variable PROD_TARGET_KIND: TARGET_KIND must be "embedded" or "external" (got "hosted")',
    ]);
  });

  it('refuses a service-role key in a committed file without echoing it', () => {
    const { dir, cwd } = envDir({
      'prod.env': `${VALID}SUPABASE_SERVICE_ROLE_KEY=eyJhbGciOi.secret.value\n`,
    });
    const found = problems(() => loadEnvironment(dir, 'prod', {}, cwd, KEYS));
    expect(found).toEqual([
      'environments/prod.env: SUPABASE_SERVICE_ROLE_KEY must not be in a committed file; set PROD_SUPABASE_SERVICE_ROLE_KEY in the environment or put it in environments/prod.local.env (gitignored)',
    ]);
  });

  it('refuses a DATABASE_URL in any environment file, naming the variable to use, without echoing it', () => {
    const { dir, cwd } = envDir({
      'prod.env': VALID,
      'prod.local.env': 'DATABASE_URL=postgresql://postgres:hunter2-long@db.example.com/postgres\n',
    });
    const found = problems(() => loadEnvironment(dir, 'prod', {}, cwd, KEYS));
    expect(found).toEqual([
      'environments/prod.local.env: DATABASE_URL must not be in an environment file (it holds the database password); set PROD_DATABASE_URL in the environment for `npm run doctor` and failing cells',
    ]);
    expect(found.join('')).not.toContain('hunter2');
  });

  it('an external target needs its anon key', () => {
    const { dir, cwd } = envDir({
      'prod.env': VALID.replace('TARGET_KIND=embedded', 'TARGET_KIND=external'),
    });
    expect(problems(() => loadEnvironment(dir, 'prod', {}, cwd, KEYS))).toEqual([
      "environments/prod.env: SUPABASE_ANON_KEY is required for an external target (the project's anon or publishable key)",
    ]);
  });

  it('a bad key value is shown by length only', () => {
    const { dir, cwd } = envDir({ 'prod.env': `${VALID}SUPABASE_ANON_KEY=\n` });
    expect(problems(() => loadEnvironment(dir, 'prod', {}, cwd, KEYS))).toEqual([
      'environments/prod.env: SUPABASE_ANON_KEY must not be empty (got "<0 characters>")',
    ]);
    expect(relative(cwd, dir)).toBe('environments');
  });
});
