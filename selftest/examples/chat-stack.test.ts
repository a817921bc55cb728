import { type Browser, type BrowserContext, chromium, type Page } from '@playwright/test';
import { createClient } from '@supabase/supabase-js';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import ws from 'ws';
import { CHAT_APP } from '../../examples/chat/stack-app.ts';
import { chromiumLaunchOptions } from '../../fixtures/config/browser.ts';
import type { Stack } from '../../stack/index.ts';
import { type Deployment, seededUser } from '../../stack/topology/deployment.ts';
import { deployment, startDeployment } from '../topology-support.ts';

/**
 * examples/chat deployed by the embedded stack (the stack is generic over its StackApp): the member
 * signs in through the labelled form and sees a message of its room arrive live, never one of a room
 * it is not in; the SSO-only moderator page, given a stored supabase-js session, gets every room's.
 * Inserts wait for realtime's "Subscribed to PostgreSQL" on the page's own socket, never on time.
 */
const WAIT_MS = 15_000;

let stack: Stack;
let browser: Browser;
let context: BrowserContext | undefined;

beforeAll(async () => {
  stack = await startDeployment({ app: CHAT_APP, envs: ['local', 'prod'] });
  browser = await chromium.launch(chromiumLaunchOptions());
}, 120_000);
afterEach(async () => {
  await context?.close();
  context = undefined;
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

function serviceClient(d: Deployment) {
  return createClient(d.project.listenUrl, d.project.config.serviceRoleKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: ws as never },
  });
}

async function insertMessage(d: Deployment, roomId: number, body: string): Promise<number> {
  const { data, error } = await serviceClient(d)
    .from('messages')
    .insert({ room_id: roomId, body, author_email: 'test@chat.test' })
    .select('id')
    .single();
  if (error) throw new Error(`Inserting into ${d.env} public.messages failed: ${error.message}`);
  return (data as { id: number }).id;
}

/** Resolves once realtime tells this page that its channel on `topic` has changes ready. */
function changesReady(page: Page, topic: string): Promise<void> {
  return new Promise((resolve) => {
    page.on('websocket', (socket) =>
      socket.on('framereceived', ({ payload }) => {
        const text = String(payload);
        if (text.includes(`"${topic}"`) && text.includes('Subscribed to PostgreSQL')) resolve();
      }),
    );
  });
}

async function newPage(): Promise<Page> {
  context = await browser.newContext({ ignoreHTTPSErrors: true });
  return context.newPage();
}

const portalUrl = (d: Deployment, portal: string) => d.portals?.portals[portal]?.url ?? '';
const messages = (page: Page) => page.getByRole('list', { name: 'Messages' }).getByRole('listitem');

describe('examples/chat on the embedded stack', () => {
  it('deploys the chat schema, its reference data and its users in both envs, and names the app', async () => {
    expect(stack.app.name).toBe('chat');
    for (const env of ['local', 'prod'] as const) {
      const d = deployment(stack, env);
      expect(Object.keys(d.origins)).toEqual(['member', 'live', 'moderator']);
      expect(seededUser(d, 'member').email).toBe('member@chat.test');
      const { rows } = await d.project.ctx.db.admin.query(
        `select (select count(*)::int from public.rooms) as rooms,
                (select count(*)::int from pg_publication_tables
                  where pubname = 'supabase_realtime' and tablename = 'messages') as published`,
      );
      expect(rows[0], env).toEqual({ rooms: 2, published: 1 });
    }
    expect(deployment(stack, 'prod').project.config.allowedOrigins).toEqual([
      `https://member.prod.localhost:${stack.edge?.port}`,
      `https://live.prod.localhost:${stack.edge?.port}`,
      `https://moderator.prod.localhost:${stack.edge?.port}`,
    ]);
    expect(deployment(stack, 'local').project.config.accessTokenHook).toBeUndefined();
  });

  for (const env of ['local', 'prod'] as const) {
    it(`${env}: the member signs in by the labels and sees its room's message live, not room 2's`, {
      timeout: 60_000,
    }, async () => {
      const d = deployment(stack, env);
      const user = seededUser(d, 'member');
      const page = await newPage();
      const ready = changesReady(page, 'realtime:room:1');
      await page.goto(`${portalUrl(d, 'member')}/sign-in`);
      await page.getByLabel('Email address').fill(user.email);
      await page.getByLabel('Password').fill(user.password);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(/\/rooms\/1$/, { timeout: WAIT_MS });
      await page.getByRole('heading', { name: 'general' }).waitFor({ timeout: WAIT_MS });
      await page.getByText(`Signed in as ${user.email}`).waitFor({ timeout: WAIT_MS });
      await ready;

      const hidden = `room 2 ${env} ${Date.now()}`;
      const shown = `room 1 ${env} ${Date.now()}`;
      await insertMessage(d, 2, hidden);
      await insertMessage(d, 1, shown);
      // Room 2's insert went first: once room 1's is shown, room 2's had its chance.
      await messages(page).filter({ hasText: shown }).waitFor({ timeout: WAIT_MS });
      expect(await messages(page).filter({ hasText: hidden }).count()).toBe(0);
      expect(await page.locator('[data-testid]').count()).toBe(0);
    });
  }

  for (const env of ['local', 'prod'] as const) {
    it(`${env}: the live page hears its room by Broadcast from Database on a private channel, not room 2`, {
      timeout: 60_000,
    }, async () => {
      const d = deployment(stack, env);
      const user = seededUser(d, 'live');
      const page = await newPage();
      await page.goto(`${portalUrl(d, 'live')}/sign-in`);
      await page.getByLabel('Email address').fill(user.email);
      await page.getByLabel('Password').fill(user.password);
      await page.getByRole('button', { name: 'Log in' }).click();
      await page.waitForURL(/\/rooms\/1$/, { timeout: WAIT_MS });
      // "Live" = SUBSCRIBED: the private join passed the read check on realtime.messages.
      await page
        .getByRole('status')
        .filter({ hasText: /^Live$/ })
        .waitFor({ timeout: WAIT_MS });

      const hidden = `live room 2 ${env} ${Date.now()}`;
      const shown = `live room 1 ${env} ${Date.now()}`;
      await insertMessage(d, 2, hidden);
      await insertMessage(d, 1, shown);
      await messages(page).filter({ hasText: shown }).waitFor({ timeout: WAIT_MS });
      expect(await messages(page).filter({ hasText: hidden }).count()).toBe(0);
    });
  }

  it('the member sees a sign-in error in the alert', async () => {
    const d = deployment(stack, 'local');
    const page = await newPage();
    await page.goto(`${portalUrl(d, 'member')}/sign-in`);
    await page.getByLabel('Email address').fill('member@chat.test');
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent(), { timeout: WAIT_MS })
      .toMatch(/Could not log in: Invalid login credentials/);
  });

  it("the moderator page, given a stored session, gets every room's messages live", {
    timeout: 60_000,
  }, async () => {
    const d = deployment(stack, 'local');
    const user = seededUser(d, 'moderator');
    const res = await fetch(`${d.project.listenUrl}/auth/v1/token?grant_type=password`, {
      method: 'POST',
      headers: { apikey: d.project.config.anonKey, 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: user.email, password: user.password }),
    });
    expect(res.status).toBe(200);
    const session = await res.json();
    // supabase-js's own storage key: sb-<first label of the Supabase URL's host>-auth-token.
    const key = `sb-${new URL(d.supabaseUrl).hostname.split('.')[0]}-auth-token`;
    const page = await newPage();
    await page
      .context()
      .addInitScript(
        ([k, v]) => window.localStorage.setItem(k as string, v as string),
        [key, JSON.stringify(session)],
      );
    const ready = changesReady(page, 'realtime:moderation');
    await page.goto(`${portalUrl(d, 'moderator')}/queue`);
    await page.getByRole('heading', { name: 'Moderation queue' }).waitFor({ timeout: WAIT_MS });
    await page.getByText(`Signed in as ${user.email}`).waitFor({ timeout: WAIT_MS });
    await ready;
    const body = `moderated ${Date.now()}`;
    await insertMessage(d, 2, body);
    await messages(page).filter({ hasText: body }).waitFor({ timeout: WAIT_MS });
  });

  it('the moderator portal sends a member session to /not-allowed and offers SSO only', async () => {
    const d = deployment(stack, 'local');
    const member = seededUser(d, 'member');
    const res = await fetch(`${d.project.listenUrl}/auth/v1/token?grant_type=password`, {
      method: 'POST',
      headers: { apikey: d.project.config.anonKey, 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: member.email, password: member.password }),
    });
    const key = `sb-${new URL(d.supabaseUrl).hostname.split('.')[0]}-auth-token`;
    const page = await newPage();
    await page.goto(portalUrl(d, 'moderator'));
    await page.getByRole('button', { name: 'Continue with SSO' }).waitFor({ timeout: WAIT_MS });
    expect(await page.getByLabel('Password').count()).toBe(0);
    await page.evaluate(
      ([k, v]) => window.localStorage.setItem(k as string, v as string),
      [key, JSON.stringify(await res.json())],
    );
    await page.goto(`${portalUrl(d, 'moderator')}/queue`);
    await page.waitForURL(/\/not-allowed$/, { timeout: WAIT_MS });
    await page.getByRole('heading', { name: 'Not allowed' }).waitFor({ timeout: WAIT_MS });
  });

  it('refuses help-desk-only faults for the chat app, naming the app, fault and why', async () => {
    await expect(stack.faults.set('member-local', 'rls-hides-rows', true)).rejects.toThrow(
      /rls-hides-rows is not available for app "chat": its mechanism needs one SELECT policy per portal role/,
    );
    await expect(stack.faults.set('moderator-prod', 'session-not-forwarded', true)).rejects.toThrow(
      /not available for app "chat".*"forward-session"/,
    );
    await stack.faults.set('prod', 'table-not-published', true);
    const prod = deployment(stack, 'prod');
    const published = () =>
      prod.project.ctx.db.admin.query(
        `select 1 from pg_publication_tables where pubname = 'supabase_realtime' and tablename = 'messages'`,
      );
    expect((await published()).rowCount).toBe(0);
    await stack.faults.set('prod', 'table-not-published', false);
    expect((await published()).rowCount).toBe(1);
  });
});
