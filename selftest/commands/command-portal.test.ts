import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMatrixConfig } from '../../fixtures/config/matrix-config.ts';
import { groupMembers } from '../../stack/commands/process-group.ts';
import type { Stack } from '../../stack/index.ts';
import { DEMO } from '../../stack/keys.ts';
import { cspWithoutSocket } from '../../stack/topology/csp.ts';
import { deployment, fetchRaw, startDeployment } from '../topology-support.ts';
import { processAlive, processGroup, type Seen, seenIn, WEB_EMBEDDED, writeTeamApp } from './app-fixture.ts';

/**
 * A team's own app deployed from the declarative `embedded` form, on free ports: its command started
 * once per environment with that environment's Supabase URL and anon key, served locally and through
 * the HTTPS edge with the CSP, and gone — grandchildren included — once the stack stops.
 */
describe('declarative embedded app: portals that are commands', () => {
  const app = writeTeamApp(WEB_EMBEDDED);
  // What a matrix run's environment holds: none of it may reach a portal's command.
  const planted = {
    SUPABASE_SERVICE_ROLE_KEY: DEMO.serviceRoleKey,
    PROD_SUPABASE_SERVICE_ROLE_KEY: 'planted-prod-service-role-key',
    PROD_AGENT_PASSWORD: 'planted-password',
    PROD_DATABASE_URL: 'postgresql://postgres:planted@db.example.com/postgres',
    VITE_SUPABASE_URL: 'https://not-this-one.example.com',
  };
  const previous: Record<string, string | undefined> = {};
  let stack: Stack;
  const seen: Partial<Record<'local' | 'prod', Seen>> = {};

  beforeAll(async () => {
    for (const [k, v] of Object.entries(planted)) {
      previous[k] = process.env[k];
      process.env[k] = v;
    }
    const config = await loadMatrixConfig(app.configFile);
    stack = await startDeployment({ app: config.embedded! });
  });

  afterAll(async () => {
    await stack?.stop();
    for (const [k, v] of Object.entries(previous)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(app.dir, { recursive: true, force: true });
  });

  it('local: the command answers on the portal URL with the local URL and anon key', async () => {
    const local = deployment(stack, 'local');
    const url = local.portals!.portals['web']!.url;
    expect(url).toMatch(/^http:\/\/localhost:\d+$/);
    const page = await fetchRaw(`${url}/`);
    expect(page.status).toBe(200);
    seen.local = seenIn(page.body);
    expect(seen.local.env['VITE_SUPABASE_URL']).toBe(local.supabaseUrl);
    expect(seen.local.env['VITE_SUPABASE_ANON_KEY']).toBe(local.project.config.anonKey);
    // {host} and {port} in the command: the command's own port, behind the portal's.
    expect(seen.local.argv).toEqual(['127.0.0.1', '--label', `web-${seen.local.env['PORT']}`]);
    expect(Number(seen.local.env['PORT'])).not.toBe(local.portals!.portals['web']!.port);
    expect(page.headers['content-security-policy']).toBeUndefined();
  });

  it('prod: the same command, started again with the prod key, behind the edge with the CSP', async () => {
    const prod = deployment(stack, 'prod');
    const url = prod.portals!.portals['web']!.url;
    expect(url).toBe(`https://web.prod.localhost:${stack.edge!.port}`);
    const page = await fetchRaw(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.headers['content-security-policy']).toBe(prod.csp);
    expect(prod.csp).toContain(`wss://api.prod.localhost:${stack.edge!.port}`);
    expect(page.headers['strict-transport-security']).toBeDefined();
    seen.prod = seenIn(page.body);
    expect(seen.prod.env['VITE_SUPABASE_URL']).toBe(`https://api.prod.localhost:${stack.edge!.port}`);
    expect(seen.prod.env['VITE_SUPABASE_ANON_KEY']).toBe(prod.project.config.anonKey);
    expect(prod.project.config.anonKey).not.toBe(DEMO.anonKey);
    // A second process, not the local one reused.
    expect(seen.prod.pids[0]).not.toBe(seen.local?.pids[0]);
    // The prod project accepts the portal's origin.
    expect(prod.project.config.allowedOrigins).toContain(url);
  });

  it('csp-blocks-socket: the proxy in front of the command serves the broken policy, then the healthy one', async () => {
    const prod = deployment(stack, 'prod');
    const url = `${prod.portals!.portals['web']!.url}/`;
    await stack.faults.set('web-prod', 'csp-blocks-socket', true);
    const broken = (await fetchRaw(url)).headers['content-security-policy'];
    await stack.faults.set('web-prod', 'csp-blocks-socket', false);
    expect(broken).toBe(cspWithoutSocket(prod.supabaseUrl));
    expect((await fetchRaw(url)).headers['content-security-policy']).toBe(prod.csp);
  });

  it('bad-apikey: the pages the command serves carry the stale key where the healthy one was, then the healthy one', async () => {
    const local = deployment(stack, 'local');
    const url = `${local.portals!.portals['web']!.url}/`;
    await stack.faults.set('web-local', 'bad-apikey', true);
    const broken = await fetchRaw(url);
    await stack.faults.set('web-local', 'bad-apikey', false);
    const stale = seenIn(broken.body).env['VITE_SUPABASE_ANON_KEY'];
    // An anon key of the right shape, signed with a secret the project never had.
    const claims = JSON.parse(Buffer.from(stale!.split('.')[1]!, 'base64url').toString('utf8'));
    expect(claims).toMatchObject({ iss: 'supabase', role: 'anon', ref: 'local' });
    expect(stale!.split('.')[2]).not.toBe(local.project.config.anonKey.split('.')[2]);
    expect(broken.body).not.toContain(local.project.config.anonKey);
    expect(Number(broken.headers['content-length'])).toBe(Buffer.byteLength(broken.body));
    // The same command process: the fault changed what is served, not what runs.
    expect(seenIn(broken.body).pids).toEqual(seen.local!.pids);
    expect(seenIn((await fetchRaw(url)).body).env['VITE_SUPABASE_ANON_KEY']).toBe(
      local.project.config.anonKey,
    );
  });

  it("no service-role key, password or database URL reaches the command's environment", () => {
    for (const env of ['local', 'prod'] as const) {
      const childEnv = seen[env]!.env;
      const text = JSON.stringify(childEnv);
      for (const [name, value] of Object.entries(planted)) {
        if (name === 'VITE_SUPABASE_URL') continue;
        expect(Object.keys(childEnv), `${env}: ${name}`).not.toContain(name);
        expect(text, `${env}: value of ${name}`).not.toContain(value);
      }
      const d = deployment(stack, env);
      expect(text).not.toContain(d.project.config.serviceRoleKey);
      expect(text).not.toContain(d.project.config.jwtSecret);
      // The parent's VITE_SUPABASE_URL is another deployment's: the declared value replaces it.
      expect(childEnv['VITE_SUPABASE_URL']).toBe(d.supabaseUrl);
    }
  });

  it('after the stack stops, no process of either command group is left, grandchildren included', async () => {
    const pids = [...seen.local!.pids, ...seen.prod!.pids];
    expect(pids).toHaveLength(4);
    // The shells' groups: the server's own group is the shell's (pgid = the shell's pid).
    const groups = pids.map(processGroup);
    expect(pids.every(processAlive)).toBe(true);
    await stack.stop();
    expect(pids.filter(processAlive)).toEqual([]);
    expect(groups.flatMap(groupMembers)).toEqual([]);
  });
});
