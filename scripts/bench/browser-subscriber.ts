/**
 * A browser subscriber: Chromium loading the published supabase-js UMD build from node_modules on a
 * page served here, signed in with a password, one INSERT binding on public.tickets. Arrival is
 * stamped in the page (`performance.timeOrigin + performance.now()`, the page's wall clock) and the
 * page↔Node clock offset is measured over loopback HTTP (best of 40 round trips), so page stamps are
 * put on Node's clock with an error of at most half the best round trip.
 */
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { type Browser, chromium, type Page } from '@playwright/test';
import { chromiumLaunchOptions } from '../../fixtures/config/browser.ts';
import { listen } from '../../stack/project.ts';
import type { Target } from './child-stack.ts';

export interface BrowserSubscriber {
  /** Page clock minus Node wall clock (ms), and the round trip it was measured with. */
  offsetMs: number;
  calibrationRttMs: number;
  close(): Promise<void>;
}

/** Node's wall clock with sub-millisecond resolution (the same construction the page uses). */
export function nodeWallMs(): number {
  return performance.timeOrigin + performance.now();
}

export async function subscribeBrowser(
  target: Target,
  credentials: { email: string; password: string },
  topic: string,
  /** arrivedAtNode: the page's stamp converted to Node's performance.now() timeline. */
  onInsert: (id: string, arrivedAtNode: number) => void,
): Promise<BrowserSubscriber> {
  const require = createRequire(import.meta.url);
  const umd = await readFile(
    join(dirname(require.resolve('@supabase/supabase-js/package.json')), 'dist', 'umd', 'supabase.js'),
  );
  const server: Server = createServer((req, res) => {
    if (req.url === '/supabase.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(umd);
    else if (req.url === '/clock')
      res
        .writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'no-store' })
        .end(String(nodeWallMs()));
    else
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<!doctype html><title>bench</title><script src="/supabase.js"></script>');
  });
  await listen(server, 0, '127.0.0.1');
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let browser: Browser | undefined;
  try {
    browser = await chromium.launch(chromiumLaunchOptions());
    const page: Page = await browser.newPage();
    let offsetMs = 0;
    await page.exposeFunction('rtmArrived', (id: string, pageWallMs: number) => {
      // Page wall → Node wall → Node's performance.now() timeline.
      onInsert(id, pageWallMs - offsetMs - performance.timeOrigin);
    });
    await page.goto(origin);
    const calibration = await page.evaluate(async () => {
      let best = { rtt: Number.POSITIVE_INFINITY, offset: 0 };
      for (let i = 0; i < 40; i++) {
        const t0 = performance.timeOrigin + performance.now();
        const node = Number(await (await fetch('/clock')).text());
        const t1 = performance.timeOrigin + performance.now();
        if (t1 - t0 < best.rtt) best = { rtt: t1 - t0, offset: (t0 + t1) / 2 - node };
      }
      return best;
    });
    offsetMs = calibration.offset;
    await page.evaluate(
      async ({ url, key, email, password, topic }) => {
        const w = window as unknown as {
          supabase: typeof import('@supabase/supabase-js');
          rtmArrived(id: string, at: number): void;
        };
        const sb = w.supabase.createClient(url, key);
        const signIn = await sb.auth.signInWithPassword({ email, password });
        if (signIn.error) throw new Error(`browser sign-in of ${email} failed: ${signIn.error.message}`);
        await new Promise<void>((resolve, reject) => {
          sb.channel(topic)
            .on('postgres_changes', { event: 'INSERT', schema: 'public', table: 'tickets' }, (p) => {
              const at = performance.timeOrigin + performance.now();
              w.rtmArrived((p.new as { id: string }).id, at);
            })
            .on('system', {}, (m: { extension?: string; status?: string; message?: string }) => {
              if (m.extension !== 'postgres_changes') return;
              if (m.status === 'ok') resolve();
              else reject(new Error(`browser channel: postgres_changes refused: ${m.message}`));
            })
            .subscribe((status) => {
              if (status === 'CHANNEL_ERROR' || status === 'TIMED_OUT')
                reject(new Error(`browser channel: ${status}`));
            });
        });
      },
      {
        url: target.url,
        key: target.anonKey,
        email: credentials.email,
        password: credentials.password,
        topic,
      },
    );
    const opened = browser;
    return {
      offsetMs,
      calibrationRttMs: calibration.rtt,
      async close() {
        await opened.close();
        server.closeAllConnections();
        await new Promise<void>((r) => server.close(() => r()));
      },
    };
  } catch (error) {
    await browser?.close();
    server.closeAllConnections();
    server.close();
    throw error;
  }
}
