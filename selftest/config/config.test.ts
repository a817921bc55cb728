import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import { parse } from 'dotenv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO } from '../../stack/keys.ts';
import { type MatrixDeployment, startMatrixDeployment } from '../catalogue/support/deployment.ts';
import { describeRun, ROOT, runMatrix } from '../catalogue/support/matrix.ts';
import { listMatrix } from '../support/playwright-list.ts';

/**
 * Bad configuration through the real CLI: `npx playwright test --list` with a broken environments
 * directory (RTM_ENV_DIR) or a broken prefixed variable stops at config load with the message naming
 * the file (or variable) and the key, and never echoes a secret. An unreachable portal ends in
 * PORTAL_UNREACHABLE naming its URL, quickly, instead of hanging.
 */
const REQUIRED = [
  'TARGET_KIND',
  'SUPABASE_URL',
  'PORTAL_CLIENT_URL',
  'PORTAL_AGENT_URL',
  'PORTAL_ADMIN_URL',
  'USER_CLIENT_EMAIL',
  'USER_AGENT_EMAIL',
  'USER_ADMIN_EMAIL',
  'LATENCY_BUDGET_MS',
] as const;

/** The committed environment files as key=value, to write altered copies of. */
function committed(env: 'local' | 'prod'): Record<string, string> {
  return parse(readFileSync(join(ROOT, 'environments', `${env}.env`)));
}

function write(dir: string, file: string, values: Record<string, string>): string {
  const path = join(dir, file);
  writeFileSync(
    path,
    `${Object.entries(values)
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`,
  );
  return relative(ROOT, path);
}

/** A config file beside the help-desk's that changes one thing of it. */
function variant(name: string, body: string): string {
  const path = join(dir, `${name}.config.ts`);
  writeFileSync(
    path,
    // environmentsDir is relative to the config file: the variant keeps the help-desk's.
    `import help from ${JSON.stringify(join(ROOT, 'realtime-matrix.config.ts'))};\n` +
      `const base = { ...help, environmentsDir: ${JSON.stringify(join(ROOT, 'environments'))} };\n${body}\n`,
  );
  return path;
}

/** The EnvironmentError's problem lines as Playwright prints them (its message, before the stack). */
function problems(output: string): string[] {
  const message = /EnvironmentError: ([\s\S]*?)\n\s+at /.exec(output)?.[1];
  if (!message) throw new Error(`No EnvironmentError in the output:\n${output.slice(-3000)}`);
  return message.split('\n');
}

let dir: string;
beforeAll(() => {
  mkdirSync(join(ROOT, 'test-results'), { recursive: true });
  dir = mkdtempSync(join(ROOT, 'test-results', 'rtm-config-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a bad environment stops the matrix at config load, naming the file and the key', () => {
  it('each required key missing', { timeout: 60_000 }, async () => {
    const envDir = mkdtempSync(join(dir, 'missing-'));
    // local.env loses the first half of the required keys, prod.env the rest: one load, every key.
    const half = Math.ceil(REQUIRED.length / 2);
    const dropped = { local: REQUIRED.slice(0, half), prod: REQUIRED.slice(half) };
    const files: Record<string, string> = {};
    for (const env of ['local', 'prod'] as const) {
      const values = committed(env);
      for (const key of dropped[env]) delete values[key];
      files[env] = write(envDir, `${env}.env`, values);
    }
    const { code, output } = await listMatrix({ RTM_ENV_DIR: envDir });
    expect(code, output).not.toBe(0);
    const hints: Record<string, string> = {
      TARGET_KIND: '"embedded" (the stack in this repo) or "external" (a real deployment)',
      SUPABASE_URL: 'the project URL, e.g. https://<project-ref>.supabase.co',
      LATENCY_BUDGET_MS: 'a positive integer (milliseconds)',
    };
    // Portal keys are the config's: the hint says which portal and which config key declares them.
    for (const portal of ['client', 'agent', 'admin']) {
      const P = portal.toUpperCase();
      hints[`PORTAL_${P}_URL`] =
        `the ${portal} portal's URL, e.g. https://${portal}.example.com (the config's portals.${portal}.urlKey)`;
      hints[`USER_${P}_EMAIL`] =
        `the email of the ${portal} portal's seeded user (the config's portals.${portal}.user.emailKey)`;
    }
    const expected = (['local', 'prod'] as const).flatMap((env) =>
      dropped[env].map(
        (key) =>
          `${files[env]}: ${key} is required (${hints[key] ?? 'Invalid input: expected string, received undefined'})`,
      ),
    );
    expect(problems(output).sort()).toEqual(expected.sort());
  });

  it('malformed values in a file, and a secret in a committed file, without echoing it', {
    timeout: 60_000,
  }, async () => {
    const envDir = mkdtempSync(join(dir, 'malformed-'));
    const secret = DEMO.serviceRoleKey;
    const local = {
      ...committed('local'),
      TARGET_KIND: 'cloud',
      SUPABASE_URL: 'api.example.com',
      LATENCY_BUDGET_MS: '-5',
      USER_CLIENT_EMAIL: 'nobody',
      USER_AGENT_PASSWORD_VAR: 'hunter2 is my password',
      REALTIME_TABLE: 'Public Tickets',
      SUPABASE_SERVICE_ROLE_KEY: secret,
      SUPABASE_KEY: 'typo',
    };
    const file = write(envDir, 'local.env', local);
    write(envDir, 'prod.env', committed('prod'));
    const { code, output } = await listMatrix({ RTM_ENV_DIR: envDir });
    expect(code, output).not.toBe(0);
    expect(output).not.toContain(secret);
    expect(problems(output).sort()).toEqual(
      [
        `${file}: SUPABASE_KEY is not a known key (known: TARGET_KIND, SUPABASE_URL, SUPABASE_ANON_KEY, SUPABASE_SERVICE_ROLE_KEY, LATENCY_BUDGET_MS, REALTIME_TABLE, READY_TIMEOUT_MS, EVENT_TIMEOUT_MS, PORTAL_CLIENT_URL, USER_CLIENT_EMAIL, USER_CLIENT_PASSWORD_VAR, PORTAL_AGENT_URL, USER_AGENT_EMAIL, USER_AGENT_PASSWORD_VAR, PORTAL_ADMIN_URL, USER_ADMIN_EMAIL, USER_ADMIN_PASSWORD_VAR)`,
        `${file}: SUPABASE_SERVICE_ROLE_KEY must not be in a committed file; set LOCAL_SUPABASE_SERVICE_ROLE_KEY in the environment or put it in environments/local.local.env (gitignored)`,
        `${file}: TARGET_KIND must be "embedded" or "external" (got "cloud")`,
        `${file}: SUPABASE_URL must be an http(s) URL such as https://<project-ref>.supabase.co (got "api.example.com")`,
        `${file}: USER_CLIENT_EMAIL must be an email address (got "nobody")`,
        `${file}: USER_AGENT_PASSWORD_VAR must be the NAME of an environment variable that holds the password (e.g. PROD_CLIENT_PASSWORD), not the password (got "hunter2 is my password")`,
        `${file}: LATENCY_BUDGET_MS must be a positive integer (milliseconds) (got "-5")`,
        `${file}: REALTIME_TABLE must be "<schema>.<table>" or "<table>" (got "Public Tickets")`,
      ].sort(),
    );
  });

  it('a malformed prefixed variable names the variable, over a valid file', { timeout: 60_000 }, async () => {
    const { code, output } = await listMatrix({
      PROD_SUPABASE_URL: 'wss://api.prod.localhost',
      LOCAL_READY_TIMEOUT_MS: '15s',
      PROD_SUPABASE_ANON_KEY: '',
    });
    expect(code, output).not.toBe(0);
    expect(problems(output).sort()).toEqual(
      [
        'environment variable LOCAL_READY_TIMEOUT_MS: READY_TIMEOUT_MS must be a positive integer (milliseconds) (got "15s")',
        'environment variable PROD_SUPABASE_URL: SUPABASE_URL must be an http(s) URL such as https://<project-ref>.supabase.co (got "wss://api.prod.localhost")',
        'environment variable PROD_SUPABASE_ANON_KEY: SUPABASE_ANON_KEY must not be empty (got "<0 characters>")',
      ].sort(),
    );
  });

  it('the committed environments list the six cells (the broken runs above are not the files)', {
    timeout: 60_000,
  }, async () => {
    const { code, output } = await listMatrix({});
    expect(code, output).toBe(0);
    for (const cell of [
      'client-local',
      'agent-local',
      'admin-local',
      'client-prod',
      'agent-prod',
      'admin-prod',
    ])
      expect(output).toContain(`[${cell}]`);
  });
});

describe('a bad config file stops the matrix at load, naming the file, the portal and the key', () => {
  it('an unknown key in a portal, and an env file with a portal the config does not declare', {
    timeout: 60_000,
  }, async () => {
    const config = variant(
      'typo',
      'export default { ...base, portals: { ...base.portals, agent: { ...base.portals.agent, signin: { strategy: "ui" } } } };',
    );
    const typo = await listMatrix({ RTM_CONFIG: config });
    expect(typo.code, typo.output).not.toBe(0);
    expect(typo.output).toContain(`${relative(ROOT, config)}: portals.agent: Unrecognized key: "signin"`);

    const envDir = mkdtempSync(join(dir, 'undeclared-'));
    const file = write(envDir, 'local.env', {
      ...committed('local'),
      PORTAL_SUPPORT_URL: 'http://localhost:3009',
    });
    write(envDir, 'prod.env', committed('prod'));
    const undeclared = await listMatrix({ RTM_ENV_DIR: envDir });
    expect(undeclared.code, undeclared.output).not.toBe(0);
    expect(problems(undeclared.output)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${file.replace(/[.]/g, '\\.')}: PORTAL_SUPPORT_URL is not a known key \\(known: .*\\); it looks like a key of a portal "support", which the config does not declare \\(portals: client, agent, admin\\)$`,
        ),
      ),
    ]);
  });

  it('RTM_CONFIG naming a file that does not exist', { timeout: 60_000 }, async () => {
    const { code, output } = await listMatrix({ RTM_CONFIG: join(dir, 'missing.config.ts') });
    expect(code, output).not.toBe(0);
    expect(output).toMatch(/missing\.config\.ts: no such config file \(RTM_CONFIG names it\)/);
  });
});

describe('an unreachable target', () => {
  let deployment: MatrixDeployment;
  beforeAll(async () => {
    deployment = await startMatrixDeployment('unreachable', { envs: ['local'], portals: false });
  }, 120_000);
  afterAll(async () => {
    await deployment?.stack.stop();
  }, 60_000);

  it('a portal nobody listens on is PORTAL_UNREACHABLE with its URL, in seconds', {
    timeout: 120_000,
  }, async () => {
    const closed = await closedPort();
    const portalUrl = `http://127.0.0.1:${closed}`;
    const d = deployment.stack.deployments.get('local')!;
    // The deployment's API is up, its portal is not: an external target, pointed at by values.
    const run = await runMatrix(
      deployment.dir,
      {
        LOCAL_TARGET_KIND: 'external',
        LOCAL_SUPABASE_URL: d.supabaseUrl,
        LOCAL_SUPABASE_ANON_KEY: d.project.config.anonKey,
        LOCAL_SUPABASE_SERVICE_ROLE_KEY: d.project.config.serviceRoleKey,
        LOCAL_CLIENT_PASSWORD: d.users.client!.password,
        LOCAL_PORTAL_CLIENT_URL: portalUrl,
      },
      { label: 'unreachable', projects: ['client-local'] },
    );
    const why = describeRun(run);
    expect(run.code, why).not.toBe(0);
    expect(run.cells.length, why).toBe(1);
    const cell = run.cells[0]!;
    expect({ verdict: cell.verdict, stage: cell.failedStage, targetKind: cell.targetKind }, why).toEqual({
      verdict: 'PORTAL_UNREACHABLE',
      stage: 'portal_reachable',
      targetKind: 'external',
    });
    expect(cell.cause, why).toContain(portalUrl);
    expect(cell.cause, why).toMatch(/ERR_CONNECTION_REFUSED|refused/i);
    // Not a hang: the cell's own clock, from start to verdict.
    const took = Date.parse(cell.finishedAt) - Date.parse(cell.startedAt);
    expect(took, why).toBeLessThan(15_000);
    expect(run.summary?.diagnoses.find((x) => x.cell === 'client-local')?.fault, why).toBe('portal-down');
  });

  it('a row factory that throws, and a table that does not exist, fail the cell before its page opens, naming the config key', {
    timeout: 180_000,
  }, async () => {
    const d = deployment.stack.deployments.get('local')!;
    const env = {
      LOCAL_TARGET_KIND: 'external',
      LOCAL_SUPABASE_URL: d.supabaseUrl,
      LOCAL_SUPABASE_ANON_KEY: d.project.config.anonKey,
      LOCAL_SUPABASE_SERVICE_ROLE_KEY: d.project.config.serviceRoleKey,
      LOCAL_CLIENT_PASSWORD: d.users.client!.password,
      LOCAL_PORTAL_CLIENT_URL: `http://127.0.0.1:${await closedPort()}`,
    };
    const throwing = variant(
      'row-throws',
      "export default { ...base, row: () => { throw new Error('rooms are not seeded'); } };",
    );
    const thrown = await runMatrix(
      deployment.dir,
      { ...env, RTM_CONFIG: throwing },
      { label: 'row-throws', projects: ['client-local'] },
    );
    expect(thrown.code, describeRun(thrown)).not.toBe(0);
    expect(thrown.output).toContain(
      `${relative(ROOT, throwing)}: row threw for the client-local cell: rooms are not seeded. Fix the row factory; nothing was inserted.`,
    );
    const noTable = variant(
      'no-table',
      "export default { ...base, table: { ...base.table, name: 'no_such_table' } };",
    );
    const missing = await runMatrix(
      deployment.dir,
      { ...env, RTM_CONFIG: noTable },
      { label: 'no-table', projects: ['client-local'] },
    );
    expect(missing.code, describeRun(missing)).not.toBe(0);
    expect(missing.output).toMatch(
      new RegExp(
        `${relative(ROOT, noTable).replace(/[.]/g, '\\.')}: the table public\\.no_such_table .* cannot be read at .* HTTP 404`,
      ),
    );
    expect(missing.output).toContain('Check the table and column names in the config');
  });
});

/** A loopback port that was just free and is now closed: nothing answers there. */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
