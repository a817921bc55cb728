import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { FAULTS } from '../stack/faults/catalogue.ts';
import { NEVER_MATCHING_FILTER } from '../stack/faults/switches/portal.ts';
import { SLOW_DELIVERY_MS } from '../stack/faults/switches/realtime.ts';
import type { Stack } from '../stack/index.ts';
import { JwtError, JwtKeys } from '../stack/jwt.ts';
import type { Portal } from '../stack/topology/cells.ts';
import { cspWithoutSocket, healthyPortalCsp } from '../stack/topology/csp.ts';
import type { Deployment } from '../stack/topology/deployment.ts';
import {
  deployment,
  expectOpened,
  fetchRaw,
  nextFrame,
  openSocket,
  servedConfig,
  signInClaims,
  startDeployment,
} from './topology-support.ts';

/**
 * Each fault's mechanism is really in place while it is on and really gone when it is off: checked
 * on what the browser or the database would see (headers, served config, upgrade status, catalog
 * rows, hook output), never on the switchboard's own flags.
 */
describe('fault switches', () => {
  let stack: Stack;
  let local: Deployment;
  let prod: Deployment;
  const sockets: WebSocket[] = [];

  beforeAll(async () => {
    stack = await startDeployment();
    local = deployment(stack, 'local');
    prod = deployment(stack, 'prod');
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.terminate();
    await stack.faults.clear();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  const on = (cell: string, fault: string) => stack.faults.set(cell, fault, true);
  const off = (cell: string, fault: string) => stack.faults.set(cell, fault, false);
  const portalUrl = (d: Deployment, p: Portal) => d.portals?.portals[p]?.url ?? '';
  const open = async (d: Deployment, origin: string, key = d.project.config.anonKey) => {
    const socket = await expectOpened(d, origin, key);
    sockets.push(socket);
    return socket;
  };
  const userId = async (d: Deployment, portal: Portal) => {
    const { rows } = await d.project.ctx.db.admin.query<{ id: string }>(
      'select id from auth.users where email = $1',
      [d.users[portal]!.email],
    );
    return rows[0]?.id ?? '';
  };

  /**
   * A raw socket from `origin` joined to public.tickets INSERTs as the service role; returns a waiter
   * for the first received frame matching a predicate (frames are kept, so none is missed).
   */
  const joinChanges = async (d: Deployment, origin: string) => {
    const socket = await open(d, origin);
    const frames: unknown[][] = [];
    const waiters: (() => void)[] = [];
    socket.on('message', (data) => {
      frames.push(JSON.parse(String(data)));
      for (const w of waiters.splice(0)) w();
    });
    socket.send(
      JSON.stringify([
        '1',
        '1',
        'realtime:public:tickets',
        'phx_join',
        {
          config: {
            broadcast: { ack: false, self: false },
            presence: { key: '', enabled: false },
            postgres_changes: [{ event: 'INSERT', schema: 'public', table: 'tickets' }],
            private: false,
          },
          access_token: d.project.config.serviceRoleKey,
        },
      ]),
    );
    return async (pick: (f: unknown[]) => boolean) => {
      for (;;) {
        const found = frames.find(pick);
        if (found) return found;
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
    };
  };
  const isSystem = (status: 'ok' | 'error') => (f: unknown[]) =>
    f[3] === 'system' &&
    (f[4] as { extension?: string; status?: string }).extension === 'postgres_changes' &&
    (f[4] as { status?: string }).status === status;

  it('covers every switchable fault of FAILURES.md', () => {
    expect(FAULTS.map((f) => f.name).sort()).toEqual(
      [
        'bad-apikey',
        'broadcast-anon-join',
        'broadcast-no-select-policy',
        'broadcast-not-private',
        'broadcast-not-security-definer',
        'broadcast-private-only',
        'broadcast-topic-mismatch',
        'csp-blocks-socket',
        'duplicate-subscription',
        'edge-drops-upgrade',
        'expired-token',
        'filter-mismatch',
        'insert-not-published',
        'join-unanswered',
        'origin-not-allowed',
        'portal-down',
        'rls-hides-rows',
        'role-claim-missing',
        'schema-usage-revoked',
        'select-revoked',
        'session-not-forwarded',
        'slow-delivery',
        'table-not-published',
      ].sort(),
    );
  });

  it('portal-down: the edge answers the prod host 502; the local dev server stops listening', async () => {
    await on('agent-prod', 'portal-down');
    const down = await fetchRaw(`${portalUrl(prod, 'agent')}/login`);
    expect(down.status).toBe(502);
    expect(down.body).toContain('agent.prod.localhost');
    expect((await fetchRaw(`${portalUrl(prod, 'client')}/login`)).status).toBe(200);
    await off('agent-prod', 'portal-down');
    expect((await fetchRaw(`${portalUrl(prod, 'agent')}/login`)).status).toBe(200);

    await on('agent-local', 'portal-down');
    await expect(fetchRaw(`${portalUrl(local, 'agent')}/login`)).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
    expect((await fetchRaw(`${portalUrl(local, 'client')}/login`)).status).toBe(200);
    await off('agent-local', 'portal-down');
    expect((await fetchRaw(`${portalUrl(local, 'agent')}/login`)).status).toBe(200);
  });

  it("role-claim-missing: the project's hook leaves user_role out for that role only, and is restored exactly", async () => {
    const definition = async () =>
      (
        await prod.project.ctx.db.admin.query<{ def: string }>(
          `select pg_get_functiondef('public.custom_access_token_hook(jsonb)'::regprocedure) as def`,
        )
      ).rows[0]?.def;
    const healthy = await definition();
    expect(await signInClaims(prod, 'agent')).toMatchObject({ user_role: 'agent' });

    await on('agent-prod', 'role-claim-missing');
    expect(await definition()).not.toBe(healthy);
    expect(await signInClaims(prod, 'agent')).not.toHaveProperty('user_role');
    expect(await signInClaims(prod, 'client')).toMatchObject({ user_role: 'client' });
    // The other project's hook is its own function, untouched.
    expect(await signInClaims(local, 'agent')).toMatchObject({ user_role: 'agent' });

    await off('agent-prod', 'role-claim-missing');
    expect(await definition()).toBe(healthy);
    expect(await signInClaims(prod, 'agent')).toMatchObject({ user_role: 'agent' });
  });

  it("csp-blocks-socket: that portal's CSP lists the API origin but not its socket origin", async () => {
    await on('agent-prod', 'csp-blocks-socket');
    const blocked = (await fetchRaw(`${portalUrl(prod, 'agent')}/login`)).headers['content-security-policy'];
    expect(blocked).toBe(cspWithoutSocket(prod.supabaseUrl));
    expect(blocked).toContain(`connect-src 'self' ${prod.supabaseUrl};`);
    expect(blocked).not.toContain('wss:');
    const healthy = healthyPortalCsp(prod.supabaseUrl);
    expect((await fetchRaw(`${portalUrl(prod, 'client')}/login`)).headers['content-security-policy']).toBe(
      healthy,
    );
    await off('agent-prod', 'csp-blocks-socket');
    expect((await fetchRaw(`${portalUrl(prod, 'agent')}/login`)).headers['content-security-policy']).toBe(
      healthy,
    );

    // A local dev server has no CSP; with the fault it gets one that lacks ws://.
    await on('agent-local', 'csp-blocks-socket');
    const localCsp = (await fetchRaw(`${portalUrl(local, 'agent')}/login`)).headers[
      'content-security-policy'
    ];
    expect(localCsp).toContain(`connect-src 'self' ${local.supabaseUrl};`);
    expect(localCsp).not.toContain('ws:');
    await off('agent-local', 'csp-blocks-socket');
    expect(
      (await fetchRaw(`${portalUrl(local, 'agent')}/login`)).headers['content-security-policy'],
    ).toBeUndefined();
  });

  it("edge-drops-upgrade: the edge passes that origin's socket request on without Upgrade; prod only", async () => {
    await on('agent-prod', 'edge-drops-upgrade');
    const dropped = await openSocket(prod, prod.origins.agent!, prod.project.config.anonKey);
    expect(dropped.opened).toBe(false);
    if (!dropped.opened) {
      expect(dropped.status).toBeGreaterThanOrEqual(400);
      expect(dropped.headers.upgrade).toBeUndefined();
    }
    await open(prod, prod.origins.client!);
    await off('agent-prod', 'edge-drops-upgrade');
    await open(prod, prod.origins.agent!);
    await expect(on('agent-local', 'edge-drops-upgrade')).rejects.toThrow(/exists only in prod/);
  });

  it("origin-not-allowed: the API's allow-list loses that origin (local gets one while on)", async () => {
    const healthyProd = prod.project.config.allowedOrigins;
    await on('agent-prod', 'origin-not-allowed');
    await on('agent-local', 'origin-not-allowed');
    for (const d of [prod, local]) {
      const refused = await openSocket(d, d.origins.agent!, d.project.config.anonKey);
      expect(refused.opened, d.env).toBe(false);
      if (!refused.opened) expect(refused.status).toBe(403);
      await open(d, d.origins.client!);
    }
    expect(local.project.config.allowedOrigins).toEqual([local.origins.client!, local.origins.admin!]);
    // Only the socket is refused: CORS for auth and REST still lets the portal sign in.
    const preflight = await fetchRaw(`${prod.supabaseUrl}/auth/v1/token?grant_type=password`, {
      method: 'OPTIONS',
      headers: { origin: prod.origins.agent!, 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(prod.origins.agent!);
    await off('agent-prod', 'origin-not-allowed');
    await off('agent-local', 'origin-not-allowed');
    expect(prod.project.config.allowedOrigins).toBe(healthyProd);
    expect(local.project.config.allowedOrigins).toBeUndefined();
    for (const d of [prod, local]) await open(d, d.origins.agent!);
  });

  it('bad-apikey: that portal is served an anon key signed by another secret; its upgrade gets the hosted 401', async () => {
    await on('agent-prod', 'bad-apikey');
    const served = await servedConfig(portalUrl(prod, 'agent'));
    expect(served.anonKey).not.toBe(prod.project.config.anonKey);
    const refused = await openSocket(prod, prod.origins.agent!, served.anonKey);
    expect(refused.opened).toBe(false);
    if (!refused.opened) {
      expect(refused.status).toBe(401);
      expect(JSON.parse(refused.body)).toEqual({ error: 'Failed to validate JWT signature' });
    }
    expect((await servedConfig(portalUrl(prod, 'client'))).anonKey).toBe(prod.project.config.anonKey);
    await off('agent-prod', 'bad-apikey');
    expect((await servedConfig(portalUrl(prod, 'agent'))).anonKey).toBe(prod.project.config.anonKey);
  });

  it('session-not-forwarded, filter-mismatch, duplicate-subscription: the portal serves that app behaviour', async () => {
    const behaviour = async () => (await servedConfig(portalUrl(local, 'client'))).behaviour;
    expect(await behaviour()).toEqual({ forwardSession: true, subscribeTwice: false });
    await on('client-local', 'session-not-forwarded');
    await on('client-local', 'filter-mismatch');
    await on('client-local', 'duplicate-subscription');
    expect(await behaviour()).toEqual({
      forwardSession: false,
      subscribeTwice: true,
      filter: NEVER_MATCHING_FILTER,
    });
    expect((await servedConfig(portalUrl(local, 'agent'))).behaviour).toEqual({
      forwardSession: true,
      subscribeTwice: false,
    });
    await off('client-local', 'filter-mismatch');
    expect(await behaviour()).toEqual({ forwardSession: false, subscribeTwice: true });
    await off('client-local', 'session-not-forwarded');
    await off('client-local', 'duplicate-subscription');
    expect(await behaviour()).toEqual({ forwardSession: true, subscribeTwice: false });
  });

  it("expired-token: the portal hands realtime that user's token, signed by the project, already expired", async () => {
    await on('admin-prod', 'expired-token');
    const { behaviour } = (await servedConfig(portalUrl(prod, 'admin'))) as unknown as {
      behaviour: { staleAccessToken?: string };
    };
    const token = behaviour.staleAccessToken ?? '';
    const error = await new JwtKeys(prod.project.config.jwtSecret).verify(token).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JwtError);
    expect((error as JwtError).problem.kind).toBe('expired');
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
    expect(claims).toMatchObject({
      sub: await userId(prod, 'admin'),
      role: 'authenticated',
      user_role: 'admin',
    });
    await off('admin-prod', 'expired-token');
    expect((await servedConfig(portalUrl(prod, 'admin'))).behaviour).not.toHaveProperty('staleAccessToken');
  });

  it("join-unanswered: realtime never replies to a join from that portal's origin", async () => {
    const join = (socket: WebSocket, ref: string) =>
      socket.send(
        JSON.stringify([
          ref,
          ref,
          'realtime:public:tickets',
          'phx_join',
          {
            config: {
              broadcast: { ack: false, self: false },
              presence: { key: '', enabled: false },
              postgres_changes: [],
              private: false,
            },
          },
        ]),
      );
    // Frames of one socket are handled in order, so the reply to a later push to an unjoined topic
    // proves the join before it was handled, and answered or not.
    const probe = (socket: WebSocket, ref: string) =>
      socket.send(JSON.stringify([null, ref, 'realtime:probe', 'ping', {}]));

    await on('agent-local', 'join-unanswered');
    const ignored = await open(local, local.origins.agent!);
    join(ignored, '1');
    probe(ignored, '2');
    const first = await nextFrame(ignored);
    expect(first.slice(1, 4)).toEqual(['2', 'realtime:probe', 'phx_reply']);
    expect(first[4]).toEqual({ status: 'error', response: { reason: 'unmatched topic' } });

    const answered = await open(local, local.origins.client!);
    join(answered, '1');
    expect((await nextFrame(answered)).slice(0, 4)).toEqual([
      '1',
      '1',
      'realtime:public:tickets',
      'phx_reply',
    ]);

    await off('agent-local', 'join-unanswered');
    const healed = await open(local, local.origins.agent!);
    join(healed, '1');
    const reply = await nextFrame(healed);
    expect(reply.slice(0, 4)).toEqual(['1', '1', 'realtime:public:tickets', 'phx_reply']);
    expect(reply[4]).toMatchObject({ status: 'ok' });
  });

  it("slow-delivery: that origin's postgres_changes arrive past the budget, others at once", async () => {
    await on('agent-local', 'slow-delivery');
    const subscribe = async (origin: string) => {
      const waitFor = await joinChanges(local, origin);
      await waitFor(isSystem('ok'));
      return waitFor;
    };
    const slow = await subscribe(local.origins.agent!);
    const fast = await subscribe(local.origins.client!);
    const { rows } = await local.project.ctx.db.admin.query<{ id: string }>(
      `insert into public.tickets (title, created_by) values ('[rtm:faults] slow-delivery', $1) returning id`,
      [await userId(local, 'client')],
    );
    const committed = performance.now();
    const isEvent = (f: unknown[]) =>
      f[3] === 'postgres_changes' &&
      (f[4] as { data: { record: { id: string } } }).data.record.id === rows[0]?.id;
    await fast(isEvent);
    const fastMs = performance.now() - committed;
    await slow(isEvent);
    const slowMs = performance.now() - committed;
    expect(fastMs).toBeLessThan(SLOW_DELIVERY_MS);
    expect(slowMs).toBeGreaterThanOrEqual(SLOW_DELIVERY_MS - 50);
    await local.project.ctx.db.admin.query('delete from public.tickets where id = $1', [rows[0]?.id]);
  });

  it('table-not-published: the project publication loses public.tickets, env-wide, and gets it back', async () => {
    const published = async (d: Deployment) =>
      (
        await d.project.ctx.db.admin.query(
          `select 1 from pg_publication_tables where pubname = 'supabase_realtime' and schemaname = 'public' and tablename = 'tickets'`,
        )
      ).rowCount;
    await on('prod', 'table-not-published');
    expect(await published(prod)).toBe(0);
    expect(await published(local)).toBe(1);
    expect(stack.faults.list()).toMatchObject([{ target: 'prod', fault: 'table-not-published' }]);
    // Every prod cell's subscription now fails the way hosted realtime says so: a system error.
    const refused = (await (
      await joinChanges(prod, prod.origins.admin!)
    )(isSystem('error'))) as [unknown, unknown, unknown, unknown, { message: string }];
    expect(refused[4].message).toMatch(/^Unable to subscribe to changes with given parameters/);
    await off('prod', 'table-not-published');
    expect(await published(prod)).toBe(1);
    await (await joinChanges(prod, prod.origins.admin!))(isSystem('ok'));
  });

  it('insert-not-published, select-revoked, schema-usage-revoked: the SQL a team runs, env-wide, restored exactly', async () => {
    const facts = async (d: Deployment) =>
      (
        await d.project.ctx.db.admin.query<{ pub: string; select: boolean; usage: boolean; acl: string }>(
          `select (select concat_ws(',', pubinsert, pubupdate, pubdelete, pubtruncate) from pg_publication
                    where pubname = 'supabase_realtime') as pub,
                  has_table_privilege('authenticated', 'public.tickets', 'SELECT') as select,
                  has_schema_privilege('authenticated', 'public', 'USAGE') as usage,
                  (select array_agg(x::text order by x::text)::text from pg_namespace, unnest(nspacl) x
                    where nspname = 'public') as acl`,
        )
      ).rows[0]!;
    const healthy = await facts(prod);
    expect(healthy).toMatchObject({ pub: 't,t,t,t', select: true, usage: true });
    await on('prod', 'insert-not-published');
    await on('prod', 'select-revoked');
    await on('prod', 'schema-usage-revoked');
    expect(await facts(prod)).toMatchObject({ pub: 'f,t,t,t', select: false, usage: false });
    expect(await facts(local)).toMatchObject({ pub: 't,t,t,t', select: true, usage: true });
    // Still subscribable: realtime only finds out when a change is to be delivered.
    await (await joinChanges(prod, prod.origins['admin']!))(isSystem('ok'));
    await off('prod', 'schema-usage-revoked');
    await off('prod', 'select-revoked');
    await off('prod', 'insert-not-published');
    expect(await facts(prod)).toEqual(healthy);
  });

  it("rls-hides-rows: that role's SELECT policy stops showing the row, and the migration's policy comes back", async () => {
    const policies = async () =>
      (
        await prod.project.ctx.db.admin.query<{ policyname: string; qual: string; roles: string[] }>(
          `select policyname, qual, roles::text[] as roles from pg_policies where tablename = 'tickets' and cmd = 'SELECT' order by policyname`,
        )
      ).rows;
    const healthy = await policies();
    const agentId = await userId(prod, 'agent');
    const { rows } = await prod.project.ctx.db.admin.query<{ id: string }>(
      `insert into public.tickets (title, created_by, assigned_to) values ('[rtm:faults] rls', $1, $2) returning id`,
      [await userId(prod, 'client'), agentId],
    );
    const agentSees = () =>
      prod.project.ctx.db.asClaims({ role: 'authenticated', sub: agentId, user_role: 'agent' }, async (c) => {
        const r = await c.query('select id from public.tickets where id = $1', [rows[0]?.id]);
        return r.rowCount;
      });
    expect(await agentSees()).toBe(1);

    await on('agent-prod', 'rls-hides-rows');
    const changed = await policies();
    const agentPolicy = (list: typeof healthy) => list.find((p) => p.policyname.includes('agents'));
    expect(agentPolicy(changed)?.qual).not.toBe(agentPolicy(healthy)?.qual);
    expect(changed.filter((p) => !p.policyname.includes('agents'))).toEqual(
      healthy.filter((p) => !p.policyname.includes('agents')),
    );
    expect(await agentSees()).toBe(0);

    await off('agent-prod', 'rls-hides-rows');
    expect(await policies()).toEqual(healthy);
    expect(await agentSees()).toBe(1);
    await prod.project.ctx.db.admin.query('delete from public.tickets where id = $1', [rows[0]?.id]);
  });

  it('clear() turns every fault off and leaves the stack healthy', async () => {
    await on('agent-prod', 'csp-blocks-socket');
    await on('prod', 'table-not-published');
    await on('client-local', 'origin-not-allowed');
    expect(stack.faults.list()).toHaveLength(3);
    await stack.faults.clear();
    expect(stack.faults.list()).toEqual([]);
    expect((await fetchRaw(`${portalUrl(prod, 'agent')}/login`)).headers['content-security-policy']).toBe(
      healthyPortalCsp(prod.supabaseUrl),
    );
    await open(local, local.origins.client!);
  });
});
