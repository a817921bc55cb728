import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HELP_DESK_CELLS as CELLS } from '../portals/help-desk-app.ts';
import { FAULTS } from '../stack/faults/catalogue.ts';
import { clearFaults, listFaults, setFault } from '../stack/faults/control-client.ts';
import { supports } from '../stack/faults/definition.ts';
import { parseFaultList } from '../stack/faults/spec.ts';
import type { Stack } from '../stack/index.ts';
import { freePort } from '../stack/ports.ts';
import { deployment, servedConfig, startDeployment } from './topology-support.ts';

describe('fault control endpoint and boot-time faults', () => {
  let stack: Stack;
  let dir: string;
  let runtimeFile: string;
  let url: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rtm-faults-control-'));
    runtimeFile = join(dir, 'runtime.json');
    stack = await startDeployment({
      envs: ['local'],
      control: true,
      runtimeFile,
      faults: parseFaultList('agent-local:filter-mismatch, local:table-not-published', 'RTM_FAULTS'),
    });
    url = `${stack.control?.url}/faults`;
  });
  afterAll(async () => {
    await stack?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  const call = (init: RequestInit & { token?: string } = {}) =>
    fetch(url, {
      ...init,
      headers: {
        ...(init.token === undefined ? {} : { Authorization: `Bearer ${init.token}` }),
        'Content-Type': 'application/json',
      },
    });

  it('binds loopback only', () => {
    expect(new URL(url).hostname).toBe('127.0.0.1');
  });

  it('refuses a missing or wrong bearer token with 401, without echoing it', async () => {
    const missing = await call();
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="rtm-faults"');
    expect(await missing.json()).toMatchObject({
      code: 'unauthorized',
      error: expect.stringMatching(/^Missing/),
    });

    const wrongToken = `${stack.control?.token}x`;
    const wrong = await call({ method: 'POST', token: wrongToken, body: '{}' });
    expect(wrong.status).toBe(401);
    const text = await wrong.text();
    expect(text).toMatch(/Wrong bearer token/);
    expect(text).not.toContain(wrongToken);
  });

  it('switched the boot faults on (RTM_FAULTS form), env-wide ones on their env', async () => {
    const { active } = await listFaults({ runtimeFile });
    expect(active.map((a) => `${a.target}:${a.fault}`)).toEqual([
      'agent-local:filter-mismatch',
      'local:table-not-published',
    ]);
    const local = deployment(stack, 'local');
    expect((await servedConfig(local.portals?.portals.agent?.url ?? '')).behaviour).toMatchObject({
      filter: 'status=eq.__never__',
    });
  });

  it('lists every fault with its scope and mechanism', async () => {
    const { faults } = await listFaults({ runtimeFile });
    // Every fault the running app can express: the help-desk's pages honour no Broadcast override.
    expect(faults.map((f) => f.name)).toEqual(
      FAULTS.filter((f) => supports(f, stack.app)).map((f) => f.name),
    );
    expect(faults.map((f) => f.name)).toEqual(expect.arrayContaining(['broadcast-no-select-policy']));
    expect(faults.map((f) => f.name)).not.toContain('broadcast-not-private');
    expect(faults.find((f) => f.name === 'table-not-published')).toMatchObject({
      scope: 'env',
      envs: ['local', 'prod'],
    });
    expect(faults.find((f) => f.name === 'edge-drops-upgrade')).toMatchObject({
      scope: 'cell',
      envs: ['prod'],
    });
    for (const f of faults) expect(f.description.length, f.name).toBeGreaterThan(20);
  });

  it('answers 400 naming the valid faults or cells', async () => {
    const token = stack.control?.token;
    const unknownFault = await call({
      method: 'POST',
      token,
      body: JSON.stringify({ cell: 'agent-local', fault: 'cosmic-rays', on: true }),
    });
    expect(unknownFault.status).toBe(400);
    const body = (await unknownFault.json()) as { error: string; code: string };
    expect(body.code).toBe('unknown_fault');
    for (const f of FAULTS) expect(body.error).toContain(f.name);

    const unknownCell = await call({
      method: 'POST',
      token,
      body: JSON.stringify({ cell: 'agent-staging', fault: 'csp-blocks-socket', on: true }),
    });
    expect(unknownCell.status).toBe(400);
    expect(await unknownCell.json()).toMatchObject({
      code: 'unknown_target',
      error: expect.stringContaining('Valid cells: client-local, agent-local, admin-local.'),
    });

    // prod is a valid cell name, but this stack runs local only.
    const notRunning = await call({
      method: 'POST',
      token,
      body: JSON.stringify({ cell: 'agent-prod', fault: 'csp-blocks-socket', on: true }),
    });
    expect(notRunning.status).toBe(400);
    expect(await notRunning.json()).toMatchObject({
      code: 'not_available',
      error: expect.stringContaining('not running'),
    });

    const malformed = await call({
      method: 'POST',
      token,
      body: JSON.stringify({ cell: 'agent-local', on: 'yes' }),
    });
    expect(malformed.status).toBe(400);
    expect(CELLS).toContain('agent-local');
  });

  it('switches at run time through the client, and clears everything', async () => {
    const local = deployment(stack, 'local');
    const agentUrl = local.portals?.portals.agent?.url ?? '';
    let active = await setFault('agent-local', 'csp-blocks-socket', true, { runtimeFile });
    expect(active.map((a) => `${a.target}:${a.fault}`)).toContain('agent-local:csp-blocks-socket');
    const page = await fetch(`${agentUrl}/login`);
    expect(page.headers.get('content-security-policy')).toContain(`connect-src 'self' ${local.supabaseUrl};`);
    active = await setFault('agent-local', 'csp-blocks-socket', false, { runtimeFile });
    expect(active.map((a) => a.fault)).not.toContain('csp-blocks-socket');
    expect((await fetch(`${agentUrl}/login`)).headers.get('content-security-policy')).toBeNull();

    await expect(setFault('agent-local', 'cosmic-rays', true, { runtimeFile })).rejects.toThrow(
      /answered 400 unknown_fault: Unknown fault "cosmic-rays"\. Valid faults: portal-down/,
    );
    const cleared = await clearFaults({ runtimeFile });
    expect(cleared.map((a) => a.fault).sort()).toEqual(['filter-mismatch', 'table-not-published']);
    expect((await listFaults({ runtimeFile })).active).toEqual([]);
    const { rowCount } = await local.project.ctx.db.admin.query(
      `select 1 from pg_publication_tables where pubname = 'supabase_realtime' and tablename = 'tickets'`,
    );
    expect(rowCount).toBe(1);
  });

  it('says which stack is missing when the runtime file is absent', async () => {
    await expect(listFaults({ runtimeFile: join(dir, 'nope.json') })).rejects.toThrow(
      /No running stack: .*nope\.json does not exist\. Start one with `npm run stack`/,
    );
  });
});

describe('boot-time fault errors', () => {
  it('refuses an unknown boot fault before serving, and leaves no Postgres behind', async () => {
    const db = await freePort();
    await expect(
      startDeployment({
        envs: ['local'],
        portals: false,
        ports: { db },
        faults: [{ cell: 'agent-local', fault: 'nope' }],
      }),
    ).rejects.toThrow(/Unknown fault "nope"\. Valid faults: portal-down, /);
    // The cluster was stopped: its port can be bound again.
    const { createServer } = await import('node:net');
    const probe = createServer();
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(db, '127.0.0.1', () => resolve());
    });
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  });

  it('parses RTM_FAULTS and names a malformed entry', () => {
    expect(parseFaultList(' agent-prod:csp-blocks-socket ,prod:table-not-published', 'RTM_FAULTS')).toEqual([
      { cell: 'agent-prod', fault: 'csp-blocks-socket' },
      { cell: 'prod', fault: 'table-not-published' },
    ]);
    expect(parseFaultList(undefined, 'RTM_FAULTS')).toEqual([]);
    expect(() => parseFaultList('agent-prod', 'RTM_FAULTS')).toThrow(
      /RTM_FAULTS: "agent-prod" is not <cell>:<fault>/,
    );
  });
});
