import { randomUUID } from 'node:crypto';
import { type Browser, type BrowserContext, chromium, type Page } from '@playwright/test';
import type { SupabaseClient } from '@supabase/supabase-js';
import { decodeJwt } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chromiumLaunchOptions } from '../fixtures/config/browser.ts';
import { type PortalName, type PortalServer, startPortalServer } from '../portals/server.ts';
import type { PortalOverrides } from '../stack/faults/hooks.ts';
import type { Stack } from '../stack/index.ts';
import { apiUrl, client, startTestStack } from './support/stack.ts';

/**
 * The three demo portals in a real Chromium against a whole embedded stack: sign-in, the role
 * check, the live dashboard, and for each fault override that its mechanism is really in place
 * (what the page is served, what the browser really sends on the socket).
 */

const HOOK = 'pg-functions://postgres/public/custom_access_token_hook';
const PASSWORD = 'helpdesk-demo-password';
const USERS = {
  client: { email: 'client@helpdesk.test', id: '00000000-0000-4000-8000-00000000c001' },
  agent: { email: 'agent@helpdesk.test', id: '00000000-0000-4000-8000-00000000a001' },
  admin: { email: 'admin@helpdesk.test', id: '00000000-0000-4000-8000-00000000ad01' },
} as const;
const CHANNEL: Record<PortalName, string> = {
  client: 'realtime:public:tickets',
  agent: 'realtime:public:tickets',
  admin: 'realtime:tickets-changes',
};
const WAIT_MS = 10_000;

type Frame = [string | null, string | null, string, string, Record<string, unknown>];

/** Every WebSocket the page opens, every text frame both ways (Phoenix V2 arrays), and console lines. */
class PageRecorder {
  readonly sockets: { url: string; sent: Frame[]; received: Frame[] }[] = [];
  readonly console: { type: string; text: string }[] = [];
  /** Requests to the API (auth, rest), for failure messages. */
  readonly requests: string[] = [];
  private wakers = new Set<() => void>();

  constructor(page: Page) {
    page.on('console', (m) => this.record(() => this.console.push({ type: m.type(), text: m.text() })));
    page.on('pageerror', (e) => this.record(() => this.console.push({ type: 'pageerror', text: String(e) })));
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) this.record(() => this.requests.push(`navigated to ${f.url()}`));
    });
    // Recorded synchronously on the response event, so the order against sockets is the page's.
    page.on('response', (r) => {
      if (!/\/(auth|rest)\/v1\//.test(r.url())) return;
      this.record(() =>
        this.requests.push(`${r.request().method()} ${r.url().split('?')[0]} → ${r.status()}`),
      );
    });
    page.on('requestfailed', (r) =>
      this.record(() =>
        this.requests.push(`${r.method()} ${r.url().split('?')[0]} failed: ${r.failure()?.errorText}`),
      ),
    );
    page.on('websocket', (ws) => {
      const socket = { url: ws.url(), sent: [] as Frame[], received: [] as Frame[] };
      this.record(() => {
        this.sockets.push(socket);
        this.requests.push(`socket opened ${new URL(ws.url()).pathname}`);
      });
      const parse = (payload: string | Buffer) =>
        typeof payload === 'string' ? (JSON.parse(payload) as Frame) : null;
      ws.on('framesent', (f) => this.record(() => pushFrame(socket.sent, parse(f.payload))));
      ws.on('framereceived', (f) => this.record(() => pushFrame(socket.received, parse(f.payload))));
    });
  }

  sent(topic: string, event: string): Frame[] {
    return this.sockets.flatMap((s) => s.sent).filter((f) => f[2] === topic && f[3] === event);
  }

  received(topic: string, event: string): Frame[] {
    return this.sockets.flatMap((s) => s.received).filter((f) => f[2] === topic && f[3] === event);
  }

  /** postgres_changes is ready on the topic (the server's `system` ok): safe to insert. */
  changesReady(topic: string): boolean {
    return this.received(topic, 'system').some(
      (f) => f[4]['extension'] === 'postgres_changes' && f[4]['status'] === 'ok',
    );
  }

  /** Resolve once `done()` holds; on timeout fail with everything recorded. */
  until(what: string, done: () => boolean, timeoutMs = WAIT_MS): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const wake = () => {
        if (!done()) return;
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(() => {
        this.wakers.delete(wake);
        reject(new Error(`Timed out after ${timeoutMs} ms waiting for ${what}. Recorded:\n${this.dump()}`));
      }, timeoutMs);
      this.wakers.add(wake);
    });
  }

  dump(): string {
    const frames = this.sockets.map(
      (s) =>
        `socket ${s.url.replace(/apikey=[^&]+/, 'apikey=…')}\n` +
        [...s.sent.map((f) => `  → ${brief(f)}`), ...s.received.map((f) => `  ← ${brief(f)}`)].join('\n'),
    );
    const lines = this.console.map((c) => `console.${c.type}: ${c.text}`);
    return [...this.requests, ...frames, ...lines].join('\n') || '(nothing)';
  }

  private record(change: () => void): void {
    change();
    for (const wake of [...this.wakers]) wake();
  }
}

function pushFrame(into: Frame[], frame: Frame | null): void {
  if (Array.isArray(frame)) into.push(frame);
}

/** A frame for a failure message, with any token cut to its payload's claims of interest. */
function brief(f: Frame): string {
  const payload = { ...f[4] };
  if (typeof payload['access_token'] === 'string')
    payload['access_token'] = describeToken(payload['access_token']);
  return JSON.stringify([f[0], f[1], f[2], f[3], payload]).slice(0, 400);
}

function describeToken(token: string): string {
  const claims = decodeJwt(token);
  return `<jwt role=${claims['role']} sub=${claims.sub ?? '-'} exp=${claims.exp}>`;
}

let stack: Stack;
let service: SupabaseClient;
let browser: Browser;
const portals = new Map<PortalName, { server: PortalServer; overrides: PortalOverrides }>();
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  stack = await startTestStack({ local: { accessTokenHook: HOOK } });
  service = client(stack, stack.local.config.serviceRoleKey);
  browser = await chromium.launch(chromiumLaunchOptions());
  for (const portal of Object.keys(USERS) as PortalName[]) {
    // Mutated by tests, read by the server on every page load (as the fault board is).
    const overrides: PortalOverrides = {};
    const server = await startPortalServer({
      portal,
      host: '127.0.0.1',
      port: 0,
      supabaseUrl: apiUrl(stack),
      anonKey: stack.local.config.anonKey,
      overrides: () => ({ ...overrides }),
    });
    portals.set(portal, { server, overrides });
  }
});

afterEach(async () => {
  for (const { overrides } of portals.values()) {
    for (const key of Object.keys(overrides)) delete overrides[key as keyof PortalOverrides];
  }
  await Promise.all(contexts.splice(0).map((c) => c.close()));
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([...portals.values()].map((p) => p.server.stop()));
  await service?.from('tickets').delete().like('title', '[rtm:portals-%');
  await stack?.stop();
});

function portalUrl(portal: PortalName, path = '/'): string {
  return `${portals.get(portal)!.server.url}${path}`;
}

async function openPage(): Promise<{ page: Page; recorder: PageRecorder }> {
  const context = await browser.newContext();
  contexts.push(context);
  // Bounded waits: a locator that never matches fails the test with Playwright's own call log.
  context.setDefaultTimeout(WAIT_MS);
  const page = await context.newPage();
  return { page, recorder: new PageRecorder(page) };
}

async function signIn(page: Page, portal: PortalName, email: string, password = PASSWORD): Promise<void> {
  await page.goto(portalUrl(portal));
  await page.waitForURL('**/login');
  await page.getByTestId('sign-in-email').fill(email);
  await page.getByTestId('sign-in-password').fill(password);
  await page.getByTestId('sign-in-submit').click();
}

async function signedInDashboard(page: Page, portal: PortalName): Promise<void> {
  await signIn(page, portal, USERS[portal].email);
  await page.waitForURL('**/dashboard');
  await page.getByTestId('signed-in-as').filter({ hasText: USERS[portal].email }).waitFor();
}

describe('portals, healthy', () => {
  it.each(Object.keys(USERS) as PortalName[])(
    '%s: signs in, joins as the user, and keeps the ticket list live',
    async (portal) => {
      const { page, recorder } = await openPage();
      await signedInDashboard(page, portal);
      expect(await page.getByTestId('signed-in-as').getAttribute('data-user-role')).toBe(portal);

      const topic = CHANNEL[portal];
      await recorder.until(`postgres_changes ready on ${topic}`, () => recorder.changesReady(topic));
      const joins = recorder.sent(topic, 'phx_join');
      expect(joins, recorder.dump()).toHaveLength(1);
      const joinToken = decodeJwt(String(joins[0]![4]['access_token']));
      expect(joinToken).toMatchObject({ role: 'authenticated', sub: USERS[portal].id, user_role: portal });
      expect(joins[0]![4]['config']).toMatchObject({
        postgres_changes: [{ event: '*', schema: 'public', table: 'tickets' }],
      });
      if (portal === 'agent') {
        // The agent console confirms the user with the server before it opens realtime.
        const order = recorder.requests.filter((r) => r.startsWith('GET') || r.startsWith('socket'));
        const user = order.findIndex((r) => r.includes('/auth/v1/user'));
        expect(user, order.join('\n')).toBeGreaterThanOrEqual(0);
        expect(user, order.join('\n')).toBeLessThan(order.findIndex((r) => r.startsWith('socket opened')));
      }
      if (portal !== 'admin')
        await page.getByTestId('realtime-status').filter({ hasText: 'SUBSCRIBED' }).waitFor();
      else expect(await page.getByTestId('realtime-status').count()).toBe(0);

      // The seeded "VPN" ticket is the client's, assigned to the agent: every portal's user sees it.
      await page
        .locator('[data-testid="ticket-row"][data-ticket-id="00000000-0000-4000-8000-0000000000e2"]')
        .waitFor();

      const title = `[rtm:portals-${randomUUID().slice(0, 8)}] ${portal} live insert`;
      const { data, error } = await service
        .from('tickets')
        .insert({
          title,
          created_by: portal === 'client' ? USERS.client.id : USERS.admin.id,
          assigned_to: portal === 'agent' ? USERS.agent.id : null,
        })
        .select('id')
        .single();
      expect(error).toBeNull();
      const row = page.locator(`[data-testid="ticket-row"][data-ticket-id="${data!.id}"]`);
      await row.filter({ hasText: title }).waitFor();

      await service
        .from('tickets')
        .update({ title: `${title}, renamed` })
        .eq('id', data!.id);
      await row.filter({ hasText: `${title}, renamed` }).waitFor();

      await service.from('tickets').delete().eq('id', data!.id);
      await row.waitFor({ state: 'detached' });
    },
  );

  it("shows the server's answer when the password is wrong", async () => {
    const { page } = await openPage();
    await signIn(page, 'client', USERS.client.email, 'not-the-password');
    await page.getByTestId('sign-in-error').filter({ hasText: 'Invalid login credentials' }).waitFor();
    expect(page.url()).toBe(portalUrl('client', '/login'));
  });

  it('sends a user of another role to /unauthorized', async () => {
    const { page, recorder } = await openPage();
    await signIn(page, 'client', USERS.agent.email);
    await page.waitForURL('**/unauthorized');
    await page.getByTestId('unauthorized').waitFor();
    expect(await page.getByTestId('unauthorized').getAttribute('data-user-role')).toBe('agent');
    expect(await page.getByTestId('signed-in-as').count()).toBe(0);
    expect(recorder.sockets, 'no realtime socket for an unauthorized user').toHaveLength(0);
  });

  it('stays signed in across a reload (session in localStorage)', async () => {
    const { page, recorder } = await openPage();
    await signedInDashboard(page, 'agent');
    await recorder.until(
      'the first join answered',
      () => recorder.received(CHANNEL.agent, 'phx_reply').length === 1,
    );
    await page.reload();
    await page.getByTestId('signed-in-as').filter({ hasText: USERS.agent.email }).waitFor();
    expect(page.url()).toBe(portalUrl('agent', '/dashboard'));
    await recorder.until(
      'a second join after the reload',
      () => recorder.sent(CHANNEL.agent, 'phx_join').length === 2,
    );
    const rejoin = recorder.sent(CHANNEL.agent, 'phx_join')[1]!;
    expect(decodeJwt(String(rejoin[4]['access_token']))).toMatchObject({ sub: USERS.agent.id });
  });

  it('signs out back to /login', async () => {
    const { page } = await openPage();
    await signedInDashboard(page, 'admin');
    await page.getByTestId('sign-out').click();
    await page.waitForURL('**/login');
    await page.getByTestId('sign-in-form').waitFor();
  });
});

describe('portal server', () => {
  it('serves security headers, the deployment config and never a service key', async () => {
    const response = await fetch(portalUrl('agent', '/login'));
    const html = await response.text();
    expect(response.status).toBe(200);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('content-security-policy')).toBeNull();
    expect(html).toContain(stack.local.config.anonKey);
    expect(html).not.toContain(stack.local.config.serviceRoleKey);
    expect(html).not.toContain(stack.local.config.jwtSecret);
  });

  it('in production: the healthy CSP, immutable hashed assets, and no debug logging in the app', async () => {
    const csp = `default-src 'self'; connect-src 'self' ${apiUrl(stack)} ${apiUrl(stack).replace('http', 'ws')}`;
    const server = await startPortalServer({
      portal: 'client',
      host: '127.0.0.1',
      port: 0,
      supabaseUrl: apiUrl(stack),
      anonKey: stack.local.config.anonKey,
      csp,
      production: true,
    });
    try {
      const { page, recorder } = await openPage();
      const response = await page.goto(`${server.url}/login`);
      expect(response!.headers()['content-security-policy']).toBe(csp);
      const assets = await page.evaluate(() =>
        [...document.querySelectorAll('script[src], link[rel=stylesheet]')].map(
          (e) => (e as HTMLScriptElement).src || (e as HTMLLinkElement).href,
        ),
      );
      for (const asset of assets) {
        const r = await fetch(asset);
        expect(r.headers.get('cache-control'), asset).toBe('public, max-age=31536000, immutable');
      }
      await page.getByTestId('sign-in-email').fill(USERS.client.email);
      await page.getByTestId('sign-in-password').fill(PASSWORD);
      await page.getByTestId('sign-in-submit').click();
      await page.getByTestId('realtime-status').filter({ hasText: 'SUBSCRIBED' }).waitFor();
      expect(recorder.console.filter((c) => c.type === 'debug')).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('in development the app logs its realtime status (the control for the production check)', async () => {
    const { page, recorder } = await openPage();
    await signedInDashboard(page, 'client');
    await recorder.until('a debug line with the realtime status', () =>
      recorder.console.some((c) => c.type === 'debug' && c.text.includes('SUBSCRIBED')),
    );
  });
});

describe('portal overrides (faults by their real mechanism)', () => {
  it('csp: serves that CSP, and Chromium really blocks the socket while sign-in still works', async () => {
    const csp = `default-src 'self'; connect-src 'self' ${apiUrl(stack)}`;
    portals.get('client')!.overrides.csp = csp;
    const { page, recorder } = await openPage();
    const response = await page.goto(portalUrl('client', '/login'));
    expect(response!.headers()['content-security-policy']).toBe(csp);
    await page.getByTestId('sign-in-email').fill(USERS.client.email);
    await page.getByTestId('sign-in-password').fill(PASSWORD);
    await page.getByTestId('sign-in-submit').click();
    await page.getByTestId('signed-in-as').waitFor();
    await recorder.until('a CSP violation for the realtime socket', () =>
      recorder.console.some((c) => c.text.includes('Content Security Policy') && c.text.includes('ws://')),
    );
    await page.getByTestId('realtime-status').filter({ hasText: 'CHANNEL_ERROR' }).waitFor();
    expect(recorder.sockets).toHaveLength(0);

    // Read on every load: clearing the override restores the healthy page.
    delete portals.get('client')!.overrides.csp;
    const healthy = await page.goto(portalUrl('client', '/dashboard'));
    expect(healthy!.headers()['content-security-policy']).toBeUndefined();
  });

  it('anonKey: the page is built with that key and really sends it', async () => {
    const wrongKey = await stack.local.ctx.jwt.sign({ role: 'anon', iss: 'stale-build', exp: 1983812996 });
    portals.get('agent')!.overrides.anonKey = wrongKey;
    const { page } = await openPage();
    await page.goto(portalUrl('agent', '/login'));
    expect(
      await page.evaluate(
        () => (window as unknown as { __PORTAL_CONFIG__: { anonKey: string } }).__PORTAL_CONFIG__.anonKey,
      ),
    ).toBe(wrongKey);
    const tokenRequest = page.waitForRequest((r) => r.url().includes('/auth/v1/token'));
    await page.getByTestId('sign-in-email').fill(USERS.agent.email);
    await page.getByTestId('sign-in-password').fill(PASSWORD);
    await page.getByTestId('sign-in-submit').click();
    expect((await tokenRequest).headers()['apikey']).toBe(wrongKey);
  });

  it('forwardSession false: the app is signed in but its channel joins as anon', async () => {
    portals.get('client')!.overrides.forwardSession = false;
    const { page, recorder } = await openPage();
    await signedInDashboard(page, 'client');
    // The app itself has the session: its REST call lists the user's tickets.
    await page.locator('[data-testid="ticket-row"]').first().waitFor();
    const topic = CHANNEL.client;
    await recorder.until('the join reply', () => recorder.received(topic, 'phx_reply').length > 0);
    const anonKey = stack.local.config.anonKey;
    const socket = recorder.sockets.find((s) => s.sent.some((f) => f[2] === topic))!;
    expect(new URL(socket.url).searchParams.get('apikey')).toBe(anonKey);
    // supabase-js#1733: a client that never saw the session joins with no access_token (the server
    // falls back to the URL apikey) and afterwards pushes the anon key; never the user's JWT.
    const joins = recorder.sent(topic, 'phx_join');
    expect(joins).toHaveLength(1);
    expect([undefined, anonKey]).toContain(joins[0]![4]['access_token']);
    for (const push of recorder.sent(topic, 'access_token')) expect(push[4]['access_token']).toBe(anonKey);
  });

  it('staleAccessToken: the join carries that expired token and the server refuses it', async () => {
    const now = Math.floor(Date.now() / 1000);
    const stale = await stack.local.ctx.jwt.sign({
      sub: USERS.agent.id,
      role: 'authenticated',
      aud: 'authenticated',
      user_role: 'agent',
      iat: now - 7200,
      exp: now - 3600,
    });
    portals.get('agent')!.overrides.staleAccessToken = stale;
    const { page, recorder } = await openPage();
    await signedInDashboard(page, 'agent');
    await recorder.until('the join reply', () => recorder.received(CHANNEL.agent, 'phx_reply').length > 0);
    expect(recorder.sent(CHANNEL.agent, 'phx_join')[0]![4]['access_token']).toBe(stale);
    const reply = recorder.received(CHANNEL.agent, 'phx_reply')[0]![4];
    expect(reply['status']).toBe('error');
    expect(String((reply['response'] as { reason?: string }).reason)).toMatch(
      /^InvalidJWTToken: Token has expired \d+ seconds ago$/,
    );
    await page.getByTestId('realtime-status').filter({ hasText: 'CHANNEL_ERROR' }).waitFor();
  });

  it('filter: the join subscribes with that filter', async () => {
    portals.get('admin')!.overrides.filter = 'status=eq.__never__';
    const { page, recorder } = await openPage();
    await signedInDashboard(page, 'admin');
    await recorder.until('the join', () => recorder.sent(CHANNEL.admin, 'phx_join').length > 0);
    expect(recorder.sent(CHANNEL.admin, 'phx_join')[0]![4]['config']).toMatchObject({
      postgres_changes: [{ event: '*', schema: 'public', table: 'tickets', filter: 'status=eq.__never__' }],
    });
  });

  it('subscribeTwice: two joins of the topic, both as the user, and each change arrives twice', async () => {
    portals.get('client')!.overrides.subscribeTwice = true;
    const { page, recorder } = await openPage();
    await signedInDashboard(page, 'client');
    const topic = CHANNEL.client;
    await recorder.until('two channels ready', () => recorder.received(topic, 'system').length >= 2);
    const joins = recorder.sent(topic, 'phx_join');
    expect(joins).toHaveLength(2);
    for (const join of joins)
      expect(decodeJwt(String(join[4]['access_token']))).toMatchObject({ sub: USERS.client.id });

    const title = `[rtm:portals-${randomUUID().slice(0, 8)}] twice`;
    const { data } = await service
      .from('tickets')
      .insert({ title, created_by: USERS.client.id })
      .select('id')
      .single();
    const deliveries = () =>
      recorder
        .received(topic, 'postgres_changes')
        .filter((f) => (f[4]['data'] as { record?: { id?: string } }).record?.id === data!.id).length;
    await recorder.until('the insert delivered on both channels', () => deliveries() === 2);
    // The list is keyed by id, so the user still sees one row: the duplicate is on the wire.
    await page.locator(`[data-ticket-id="${data!.id}"]`).waitFor();
    expect(await page.locator(`[data-ticket-id="${data!.id}"]`).count()).toBe(1);
  });
});
