import { type Browser, chromium, type Page } from '@playwright/test';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { chromiumLaunchOptions } from '../../fixtures/config/browser.ts';
import { decodeFrame, type PhoenixMessage } from '../../fixtures/phoenix/decode.ts';
import { TAG_PREFIX } from '../../fixtures/rows/service-rows.ts';
import type { Stack } from '../../stack/index.ts';
import { startDeployment } from '../topology-support.ts';

/**
 * The long check (FAILURES.md `token-not-refreshed`), smallest real version: the local project
 * issues access tokens that live LIFETIME_S seconds, the real client portal runs in Chromium, and
 * the realtime server confirms each channel's token at its `exp` as hosted does.
 * - Healthy: supabase-js refreshes (its 30 s tick refreshes any token with < 90 s left) and pushes
 *   `access_token`, so the channel outlives two expired tokens and still delivers an insert.
 * - Not refreshed: the page's clock is paused once the channel is ready (what a suspended tab does
 *   to supabase-js's refresh tick and heartbeat), so no new token reaches realtime; the server shuts
 *   the channel with its "Token has expired" system error and phx_close: TOKEN_EXPIRED.
 * The lifetime exceeds the refresh tick (30 s) with margin, or a healthy portal could not keep up.
 */
const LIFETIME_S = 45;
const TOPIC = 'realtime:public:tickets';

interface Recorded {
  dir: 'sent' | 'received';
  at: number;
  message: PhoenixMessage;
}

let stack: Stack;
let browser: Browser;

beforeAll(async () => {
  stack = await startDeployment({ envs: ['local'], local: { jwtExpiry: LIFETIME_S } });
  browser = await chromium.launch(chromiumLaunchOptions());
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
}, 60_000);

function claimsOf(token: string): { exp: number; role?: string } {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
}

/** Sign the client portal's user in through the UI and record every frame of its realtime socket. */
async function signedInPortal(page: Page): Promise<Recorded[]> {
  const frames: Recorded[] = [];
  page.on('websocket', (ws) => {
    if (!ws.url().includes('/realtime/v1/websocket')) return;
    const record = (dir: Recorded['dir']) => (data: { payload: string | Buffer }) => {
      const decoded = decodeFrame(
        typeof data.payload === 'string' ? data.payload : new Uint8Array(data.payload),
      );
      if (decoded.ok) frames.push({ dir, at: Date.now(), message: decoded.message });
    };
    ws.on('framesent', record('sent'));
    ws.on('framereceived', record('received'));
  });
  const d = stack.deployments.get('local')!;
  const portal = d.portals!.portals.client!.url;
  await page.goto(`${portal}/login`);
  await page.getByTestId('sign-in-email').fill(d.users.client!.email);
  await page.getByTestId('sign-in-password').fill(d.users.client!.password);
  await page.getByTestId('sign-in-submit').click();
  await expect
    .poll(() => page.getByTestId('realtime-status').textContent(), { timeout: 30_000 })
    .toBe('SUBSCRIBED');
  // Changes are ready only once the server says so (FAILURES.md, readiness).
  await vi.waitFor(() => expect(systemMessages(frames).some((m) => m.status === 'ok')).toBe(true), {
    timeout: 20_000,
    interval: 50,
  });
  return frames;
}

function systemMessages(frames: Recorded[]): { status?: string; message?: string; extension?: string }[] {
  return frames
    .filter((f) => f.dir === 'received' && f.message.topic === TOPIC && f.message.event === 'system')
    .map((f) => f.message.payload as { status?: string; message?: string; extension?: string });
}

/** Every user token the page handed realtime (join, then access_token pushes), in order. */
function tokensSent(frames: Recorded[]): string[] {
  const out: string[] = [];
  for (const f of frames) {
    if (f.dir !== 'sent' || f.message.topic !== TOPIC) continue;
    const token = (f.message.payload as { access_token?: unknown })?.access_token;
    if (typeof token === 'string' && claimsOf(token).role === 'authenticated' && !out.includes(token))
      out.push(token);
  }
  return out;
}

function shutdown(frames: Recorded[]): string | undefined {
  return systemMessages(frames).find((m) => m.status === 'error')?.message;
}

async function insertTicket(): Promise<string> {
  const d = stack.deployments.get('local')!;
  const { rows } = await d.project.ctx.db.admin.query<{ id: string }>(
    `insert into public.tickets (title, created_by, priority)
     select $1, id, 'normal' from auth.users where email = $2 returning id`,
    [`${TAG_PREFIX}token-lifetime] after expiries`, d.users.client!.email],
  );
  return rows[0]!.id;
}

async function deleteTickets(): Promise<void> {
  await stack.deployments
    .get('local')!
    .project.ctx.db.admin.query('delete from public.tickets where starts_with(title, $1)', [
      `${TAG_PREFIX}token-lifetime]`,
    ]);
}

describe(`the long check: access tokens living ${LIFETIME_S} s`, () => {
  it('a healthy portal keeps its channel across two expiries and still gets the event', {
    timeout: 240_000,
  }, async () => {
    const page = await browser.newPage();
    try {
      const frames = await signedInPortal(page);
      // The condition: two tokens the page handed realtime are past their exp, a newer one was pushed,
      // and the server never shut the channel.
      await vi.waitFor(
        () => {
          expect(shutdown(frames), 'the server shut the channel').toBeUndefined();
          const tokens = tokensSent(frames);
          const expired = tokens.filter((t) => claimsOf(t).exp * 1000 < Date.now());
          const seen = { expired: expired.length, live: tokens.length - expired.length };
          expect(
            seen.expired >= 2 && seen.live >= 1,
            `tokens handed to realtime: ${JSON.stringify(seen)}`,
          ).toBe(true);
        },
        { timeout: (LIFETIME_S * 3 + 30) * 1000, interval: 500 },
      );
      const id = await insertTicket();
      await vi.waitFor(
        () =>
          expect(
            frames.some(
              (f) =>
                f.dir === 'received' &&
                f.message.event === 'postgres_changes' &&
                JSON.stringify(f.message.payload).includes(id),
            ),
          ).toBe(true),
        { timeout: 10_000, interval: 50 },
      );
      expect(shutdown(frames)).toBeUndefined();
      process.stdout.write(
        `\nLong check, healthy: ${tokensSent(frames).length} tokens handed to realtime, channel alive, event for ${id} delivered\n`,
      );
    } finally {
      await page.close();
      await deleteTickets();
    }
  });

  it('a portal that stops refreshing is TOKEN_EXPIRED: the server shuts the channel at exp', {
    timeout: 180_000,
  }, async () => {
    const page = await browser.newPage();
    try {
      await page.clock.install();
      const frames = await signedInPortal(page);
      const last = tokensSent(frames).at(-1);
      expect(last, 'the join carried no user token').toBeDefined();
      // pauseAt only goes forward; 2 s ahead of the page's clock is still ahead when the call lands.
      await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 2_000);
      const pausedTokens = tokensSent(frames).length;
      await vi.waitFor(() => expect(shutdown(frames)).toBeDefined(), {
        timeout: (LIFETIME_S + 30) * 1000,
        interval: 500,
      });
      const reason = shutdown(frames)!;
      // The verdict the catalogue names for this cause, from the server's own words.
      const verdict = /expired/i.test(reason) ? 'TOKEN_EXPIRED' : `unexpected shutdown: ${reason}`;
      expect(verdict).toBe('TOKEN_EXPIRED');
      expect(reason).toMatch(/^Token has expired/);
      const shutAt = frames.find(
        (f) => f.message.event === 'system' && (f.message.payload as { status?: string }).status === 'error',
      )!.at;
      expect(shutAt).toBeGreaterThanOrEqual(claimsOf(tokensSent(frames).at(-1)!).exp * 1000);
      await vi.waitFor(
        () =>
          expect(
            frames.some(
              (f) => f.dir === 'received' && f.message.topic === TOPIC && f.message.event === 'phx_close',
            ),
          ).toBe(true),
        { timeout: 5_000, interval: 50 },
      );
      // A refresh already in flight when the clock stopped may still land; nothing after it does.
      expect(tokensSent(frames).length, 'tokens pushed after the page clock stopped').toBeLessThanOrEqual(
        pausedTokens + 1,
      );
      process.stdout.write(`\nLong check, not refreshed: ${verdict} ("${reason}")\n`);
    } finally {
      await page.close();
    }
  });
});
