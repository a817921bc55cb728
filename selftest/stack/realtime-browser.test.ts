import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { type Browser, chromium, type Page } from '@playwright/test';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { chromiumLaunchOptions } from '../../fixtures/config/browser.ts';
import type { Stack } from '../../stack/index.ts';
import { listen } from '../../stack/project.ts';
import { apiUrl, client, startTestStack } from '../support/stack.ts';

/**
 * The browser half of "unmodified supabase-js cannot tell": the published UMD build in Chromium
 * (native WebSocket, vsn 2.0.0, binary broadcast frames as ArrayBuffer) against the whole stack.
 */
let stack: Stack;
let page: Server;
let browser: Browser;
let origin: string;

beforeAll(async () => {
  stack = await startTestStack();
  const require = createRequire(import.meta.url);
  const umd = await readFile(
    join(dirname(require.resolve('@supabase/supabase-js/package.json')), 'dist', 'umd', 'supabase.js'),
  );
  page = createServer((req, res) => {
    if (req.url === '/supabase.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(umd);
    else
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<!doctype html><title>rt</title><script src="/supabase.js"></script>');
  });
  await listen(page, 0, '127.0.0.1');
  origin = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;
  browser = await chromium.launch(chromiumLaunchOptions());
});
afterAll(async () => {
  await browser?.close();
  page?.closeAllConnections();
  await new Promise<void>((resolve) => (page ? page.close(() => resolve()) : resolve()));
  await stack?.stop();
});

it('a signed-in browser joins, gets its own acked binary broadcast back, and receives an insert', async () => {
  const admin = client(stack, stack.local.config.serviceRoleKey);
  const email = `rt-browser-${crypto.randomUUID()}@example.test`;
  const password = 'realtime-browser-password';
  const created = await admin.auth.admin.createUser({ email, password, email_confirm: true });
  expect(created.error).toBeNull();
  const userId = created.data.user!.id;

  const tab: Page = await browser.newPage();
  const sockets: string[] = [];
  tab.on('websocket', (ws) => sockets.push(ws.url()));
  await tab.goto(origin);
  const joined = await tab.evaluate(
    async ({ url, key, email, password, userId }) => {
      const w = window as unknown as {
        supabase: typeof import('@supabase/supabase-js');
        rt: { events: unknown[]; echoes: unknown[]; statuses: string[] };
      };
      const sb = w.supabase.createClient(url, key);
      const signIn = await sb.auth.signInWithPassword({ email, password });
      if (signIn.error) throw new Error(`sign-in failed: ${signIn.error.message}`);
      w.rt = { events: [], echoes: [], statuses: [] };
      const channel = sb.channel('browser-room', { config: { broadcast: { self: true, ack: true } } });
      const ready = new Promise<unknown>((resolve) => {
        channel
          .on(
            'postgres_changes',
            { event: 'INSERT', schema: 'public', table: 'todos', filter: `user_id=eq.${userId}` },
            (p) => w.rt.events.push(p),
          )
          .on('broadcast', { event: 'echo' }, (m) => w.rt.echoes.push(m.payload))
          .on('system', {}, (m) => {
            if (m.extension === 'postgres_changes') resolve(m);
          })
          .subscribe((status) => w.rt.statuses.push(status));
      });
      const system = await ready;
      const ack = await channel.send({ type: 'broadcast', event: 'echo', payload: { from: 'browser' } });
      return { system, ack, statuses: w.rt.statuses };
    },
    { url: apiUrl(stack), key: stack.local.config.anonKey, email, password, userId },
  );
  expect(joined.statuses).toEqual(['SUBSCRIBED']);
  expect(joined.system).toMatchObject({ status: 'ok', message: 'Subscribed to PostgreSQL' });
  expect(joined.ack).toBe('ok');
  expect(sockets).toHaveLength(1);
  expect(sockets[0]).toMatch(/\/realtime\/v1\/websocket\?apikey=.+&vsn=2\.0\.0$/);

  await tab.waitForFunction(() => (window as unknown as { rt: { echoes: unknown[] } }).rt.echoes.length > 0);
  const task = `browser ${crypto.randomUUID()}`;
  expect((await admin.from('todos').insert({ task, user_id: userId })).error).toBeNull();
  const event = await (
    await tab.waitForFunction(() => (window as unknown as { rt: { events: unknown[] } }).rt.events[0])
  ).jsonValue();
  expect(event).toMatchObject({ eventType: 'INSERT', new: { task, user_id: userId } });
  expect(await tab.evaluate(() => (window as unknown as { rt: { echoes: unknown[] } }).rt.echoes)).toEqual([
    { from: 'browser' },
  ]);
  await tab.close();
});
