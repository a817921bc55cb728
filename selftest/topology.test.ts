import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HELP_DESK_PORTALS as PORTALS } from '../portals/help-desk-app.ts';
import type { Stack } from '../stack/index.ts';
import { JwtKeys } from '../stack/jwt.ts';
import { DEMO } from '../stack/keys.ts';
import { healthyPortalCsp } from '../stack/topology/csp.ts';
import { listenOn, takenPorts } from '../stack/topology/listen.ts';
import type { RuntimeFile } from '../stack/topology/runtime-file.ts';
import {
  deployment,
  expectOpened,
  fetchRaw,
  openSocket,
  servedConfig,
  startDeployment,
} from './topology-support.ts';

describe('topology: local and prod on one cluster, prod behind the HTTPS edge', () => {
  let stack: Stack;
  let dir: string;
  let runtimeFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rtm-topology-test-'));
    runtimeFile = join(dir, '.stack', 'runtime.json');
    stack = await startDeployment({ control: true, runtimeFile });
  });
  afterAll(async () => {
    await stack?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('gives prod its own secret and keys, none of them local', async () => {
    const local = deployment(stack, 'local').project.config;
    const prod = deployment(stack, 'prod').project.config;
    expect(prod.database).toBe('prod');
    expect(prod.jwtSecret.length).toBeGreaterThanOrEqual(32);
    for (const key of ['jwtSecret', 'anonKey', 'serviceRoleKey', 'publishableKey', 'secretKey'] as const) {
      expect(prod[key], key).not.toBe(local[key]);
    }
    expect(prod.publishableKey).toMatch(/^sb_publishable_[\w-]{22}_[\w-]{8}$/);
    expect(prod.secretKey).toMatch(/^sb_secret_[\w-]{22}_[\w-]{8}$/);
    const jwt = new JwtKeys(prod.jwtSecret);
    expect(await jwt.verify(prod.anonKey)).toMatchObject({ role: 'anon', iss: 'supabase', ref: 'prod' });
    expect(await jwt.verify(prod.serviceRoleKey)).toMatchObject({ role: 'service_role' });
    await expect(jwt.verify(DEMO.anonKey)).rejects.toThrow(/signature/);
    const edgePort = stack.edge?.port;
    expect(prod.publicUrl).toBe(`https://api.prod.localhost:${edgePort}`);
    expect(prod.issuer).toBe(`https://api.prod.localhost:${edgePort}/auth/v1`);
    expect(prod.allowedOrigins).toEqual(PORTALS.map((p) => `https://${p}.prod.localhost:${edgePort}`));
    expect(prod.accessTokenHook).toBe('pg-functions://postgres/public/custom_access_token_hook');
  });

  it("refuses local's anon key at prod's REST API and socket upgrade, through the edge", async () => {
    const prod = deployment(stack, 'prod');
    const rest = await fetchRaw(`${prod.supabaseUrl}/rest/v1/tickets?select=id`, {
      headers: { apikey: DEMO.anonKey, Authorization: `Bearer ${DEMO.anonKey}` },
    });
    expect(rest.status).toBe(401);
    expect(JSON.parse(rest.body)).toMatchObject({ code: 'PGRST301' });

    const upgrade = await openSocket(prod, prod.origins.agent!, DEMO.anonKey);
    expect(upgrade.opened).toBe(false);
    if (!upgrade.opened) {
      expect(upgrade.status).toBe(401);
      expect(JSON.parse(upgrade.body)).toEqual({ error: 'Failed to validate JWT signature' });
    }
    const socket = await expectOpened(prod, prod.origins.agent!, prod.project.config.anonKey);
    socket.close();
  });

  it('routes each prod host to its own deployment over TLS with the boot-time certificate', async () => {
    const prod = deployment(stack, 'prod');
    for (const portal of PORTALS) {
      const url = prod.portals?.portals[portal]?.url ?? '';
      expect(url).toBe(`https://${portal}.prod.localhost:${stack.edge?.port}`);
      const config = await servedConfig(url);
      expect(config).toMatchObject({ portal, supabaseUrl: prod.supabaseUrl, production: true });
      expect(config.anonKey).toBe(prod.project.config.anonKey);
    }
    // The API host reaches the project's gateway: no apikey is its own 401.
    const api = await fetchRaw(`${prod.supabaseUrl}/auth/v1/user`);
    expect(api.status).toBe(401);
    expect(JSON.parse(api.body)).toMatchObject({ message: 'No API key found in request' });
    expect(api.certificateNames).toContain('DNS:*.prod.localhost');
    expect(api.certificateNames).toContain('DNS:api.prod.localhost');

    const unknown = await fetchRaw(`https://nope.prod.localhost:${stack.edge?.port}/`);
    expect(unknown.status).toBe(404);
    expect(unknown.body).toContain('No deployment is routed for host "nope.prod.localhost"');
  });

  it('serves prod portals with the healthy CSP and HSTS, local portals as a dev server without CSP', async () => {
    const prod = deployment(stack, 'prod');
    const csp = healthyPortalCsp(prod.supabaseUrl);
    expect(csp).toContain(
      `connect-src 'self' https://api.prod.localhost:${stack.edge?.port} wss://api.prod.localhost:${stack.edge?.port}`,
    );
    for (const portal of PORTALS) {
      const page = await fetchRaw(`${prod.portals?.portals[portal]?.url}/login`);
      expect(page.status).toBe(200);
      expect(page.headers['content-security-policy']).toBe(csp);
      expect(page.headers['strict-transport-security']).toBe('max-age=63072000; includeSubDomains');
    }
    const api = await fetchRaw(`${prod.supabaseUrl}/auth/v1/user`);
    expect(api.headers['strict-transport-security']).toBeUndefined();

    const local = deployment(stack, 'local');
    for (const portal of PORTALS) {
      const url = local.portals?.portals[portal]?.url ?? '';
      expect(url).toMatch(/^http:\/\/localhost:\d+$/);
      const page = await fetchRaw(`${url}/login`);
      expect(page.status).toBe(200);
      expect(page.headers['content-security-policy']).toBeUndefined();
      expect(await servedConfig(url)).toMatchObject({
        portal,
        supabaseUrl: local.supabaseUrl,
        anonKey: DEMO.anonKey,
        production: false,
      });
    }
  });

  it('refuses a foreign Origin on the prod upgrade with 403 and lets each prod portal in', async () => {
    const prod = deployment(stack, 'prod');
    const key = prod.project.config.anonKey;
    for (const foreign of ['https://evil.example', deployment(stack, 'local').origins.agent!]) {
      const outcome = await openSocket(prod, foreign, key);
      expect(outcome.opened, foreign).toBe(false);
      if (!outcome.opened) expect(outcome.status).toBe(403);
    }
    for (const portal of PORTALS) (await expectOpened(prod, prod.origins[portal]!, key)).close();
    // The local project has no allow-list, as `supabase start` does not.
    const local = deployment(stack, 'local');
    (await expectOpened(local, 'https://evil.example', local.project.config.anonKey)).close();
  });

  it('writes the runtime file per the contract, 0600, with every env', async () => {
    expect((await stat(runtimeFile)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, '.stack'))).mode & 0o777).toBe(0o700);
    const file = JSON.parse(await readFile(runtimeFile, 'utf8')) as RuntimeFile;
    expect(file).toMatchObject({ version: 1, pid: process.pid, control: { url: stack.control?.url } });
    expect(file.control.token).toBe(stack.control?.token);
    for (const env of ['local', 'prod'] as const) {
      const d = deployment(stack, env);
      expect(file.envs[env]).toEqual({
        targetKind: 'embedded',
        supabaseUrl: d.supabaseUrl,
        anonKey: d.project.config.anonKey,
        serviceRoleKey: d.project.config.serviceRoleKey,
        // The doctor's way into this project's own database (superuser; the file is 0600).
        dbUrl: stack.cluster.url(d.project.config.database),
        portals: Object.fromEntries(PORTALS.map((p) => [p, d.portals?.portals[p]?.url])),
        users: Object.fromEntries(
          PORTALS.map((p) => [p, { email: `${p}@helpdesk.test`, password: d.users[p]!.password }]),
        ),
      });
    }
    expect(file.envs.local?.users.agent?.password).toBe('helpdesk-demo-password');
    expect(file.envs.prod?.users.agent?.password).not.toBe('helpdesk-demo-password');
  });

  it("signs prod's seeded users in with their generated passwords only", async () => {
    const prod = deployment(stack, 'prod');
    const signIn = (password: string) =>
      fetch(`${prod.project.listenUrl}/auth/v1/token?grant_type=password`, {
        method: 'POST',
        headers: { apikey: prod.project.config.anonKey, 'Content-Type': 'application/json' },
        body: JSON.stringify({ email: 'agent@helpdesk.test', password }),
      });
    expect((await signIn(prod.users.agent!.password)).status).toBe(200);
    // seed.sql (demo password, demo rows) is for the local project only.
    expect((await signIn('helpdesk-demo-password')).status).toBe(400);
    const { rows } = await prod.project.ctx.db.admin.query('select count(*)::int as n from public.tickets');
    expect(rows[0]).toEqual({ n: 0 });
  });
});

describe('topology: prod alone', () => {
  it('starts without the local env or its portals, and removes its runtime file on stop', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rtm-topology-prod-'));
    const runtimeFile = join(dir, 'runtime.json');
    const stack = await startDeployment({ envs: ['prod'], control: true, runtimeFile });
    try {
      expect([...stack.deployments.keys()]).toEqual(['prod']);
      expect(() => stack.local).toThrow(/without the local env/);
      const prod = deployment(stack, 'prod');
      (await expectOpened(prod, prod.origins.client!, prod.project.config.anonKey)).close();
      const file = JSON.parse(await readFile(runtimeFile, 'utf8')) as RuntimeFile;
      expect(Object.keys(file.envs)).toEqual(['prod']);
    } finally {
      await stack.stop();
    }
    await expect(stat(runtimeFile)).rejects.toMatchObject({ code: 'ENOENT' });
    await rm(dir, { recursive: true, force: true });
  });
});

describe('topology: busy ports', () => {
  it('names the process holding a port and says how to proceed', async () => {
    const { createServer } = await import('node:net');
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', () => resolve()));
    const port = (holder.address() as { port: number }).port;
    try {
      const problems = await takenPorts([{ port, what: 'local API' }]);
      expect(problems).toEqual([
        expect.stringMatching(new RegExp(`^local API port ${port} is taken by .*pid ${process.pid}`)),
      ]);
      const server = createServer();
      await expect(listenOn(server, port, '127.0.0.1', 'HTTPS edge')).rejects.toThrow(
        new RegExp(
          `The HTTPS edge cannot listen on 127\\.0\\.0\\.1:${port}: the port is taken by .*pid ${process.pid}.*reuse it`,
        ),
      );
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
    expect(await takenPorts([{ port, what: 'local API' }])).toEqual([]);
  });
});
