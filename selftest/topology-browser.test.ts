import { type Browser, type BrowserContext, chromium, type Page } from '@playwright/test';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { chromiumLaunchOptions } from '../fixtures/config/browser.ts';
import type { Stack } from '../stack/index.ts';
import type { Portal } from '../stack/topology/cells.ts';
import type { Deployment } from '../stack/topology/deployment.ts';
import { deployment, startDeployment } from './topology-support.ts';

/**
 * The prod-like deployment in a real Chromium: `*.prod.localhost` resolved by the browser itself,
 * TLS from the edge's boot-time certificate (accepted with ignoreHTTPSErrors, as the matrix does),
 * the API on its own host with an origin allow-list, and the portal's CSP enforced by the browser.
 */
const WAIT_MS = 15_000;

describe('prod-like deployment in Chromium', () => {
  let stack: Stack;
  let prod: Deployment;
  let browser: Browser;
  let context: BrowserContext;

  beforeAll(async () => {
    stack = await startDeployment({ envs: ['prod'] });
    prod = deployment(stack, 'prod');
    browser = await chromium.launch(chromiumLaunchOptions());
  });
  afterEach(async () => {
    await context?.close();
    await stack.faults.clear();
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  async function signIn(portal: Portal): Promise<{ page: Page; console: string[]; sockets: string[] }> {
    context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    const console: string[] = [];
    const sockets: string[] = [];
    page.on('console', (m) => console.push(m.text()));
    page.on('websocket', (ws) => sockets.push(ws.url()));
    const response = await page.goto(`${prod.portals?.portals[portal]?.url}/login`);
    expect(response?.status()).toBe(200);
    await page.getByTestId('sign-in-email').fill(prod.users[portal]!.email);
    await page.getByTestId('sign-in-password').fill(prod.users[portal]!.password);
    await page.getByTestId('sign-in-submit').click();
    await page.getByTestId('signed-in-as').waitFor({ timeout: WAIT_MS });
    return { page, console, sockets };
  }

  it('signs the agent in through the edge and subscribes over wss to the API host', async () => {
    const { page, sockets } = await signIn('agent');
    await expect
      .poll(() => page.getByTestId('realtime-status').textContent(), { timeout: WAIT_MS })
      .toBe('SUBSCRIBED');
    expect(sockets).toHaveLength(1);
    expect(sockets[0]).toMatch(
      new RegExp(`^wss://api\\.prod\\.localhost:${stack.edge?.port}/realtime/v1/websocket\\?apikey=`),
    );
    expect(await page.getByTestId('signed-in-as').getAttribute('data-user-role')).toBe('agent');
  });

  it('csp-blocks-socket: Chromium refuses the wss connection before any handshake', async () => {
    await stack.faults.set('agent-prod', 'csp-blocks-socket', true);
    const { page, console, sockets } = await signIn('agent');
    await expect
      .poll(() => console.find((line) => line.includes('Content Security Policy')), { timeout: WAIT_MS })
      .toContain(`wss://api.prod.localhost:${stack.edge?.port}/realtime/v1/websocket`);
    expect(sockets).toEqual([]);
    expect(await page.getByTestId('realtime-status').textContent()).not.toBe('SUBSCRIBED');
  });

  it('edge-drops-upgrade: the browser opens the socket and it fails without a 101', async () => {
    await stack.faults.set('agent-prod', 'edge-drops-upgrade', true);
    context = await browser.newContext({ ignoreHTTPSErrors: true });
    const page = await context.newPage();
    const failures: string[] = [];
    page.on('websocket', (ws) => ws.on('socketerror', (error) => failures.push(error)));
    await page.goto(`${prod.portals?.portals.agent?.url}/login`);
    await page.getByTestId('sign-in-email').fill(prod.users.agent!.email);
    await page.getByTestId('sign-in-password').fill(prod.users.agent!.password);
    await page.getByTestId('sign-in-submit').click();
    await expect.poll(() => failures[0], { timeout: WAIT_MS }).toBeDefined();
    expect(await page.getByTestId('realtime-status').textContent()).not.toBe('SUBSCRIBED');
  });
});
