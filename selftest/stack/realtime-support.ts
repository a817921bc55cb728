/**
 * Test support for the realtime channel layer: a realtime service mounted on its own API server
 * over a real stack's context (Postgres, JWT keys), with a changes engine the test controls, plus
 * raw-socket and supabase-js helpers that wait on frames and statuses, never on time.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient, type RealtimeChannel, type SupabaseClient } from '@supabase/supabase-js';
import WebSocket from 'ws';
import type { ProjectConfig } from '../../stack/config.ts';
import type { ProjectContext } from '../../stack/context.ts';
import type { RealtimeFaults } from '../../stack/faults/hooks.ts';
import { createApiServer } from '../../stack/http/server.ts';
import type { Stack } from '../../stack/index.ts';
import { listen } from '../../stack/project.ts';
import type {
  ChangeData,
  ChangesEngine,
  ChangesSubscription,
  SubscribeResult,
} from '../../stack/realtime/changes-api.ts';
import type { RealtimeServerOptions } from '../../stack/realtime/server.ts';
import { buildRealtimeService, type RealtimeService } from '../../stack/realtime/service.ts';

/** A ChangesEngine the test drives: records subscriptions, answers with `nextResult`, emits on demand. */
export class ScriptedEngine implements ChangesEngine {
  readonly live = new Map<string, ChangesSubscription>();
  readonly history: ChangesSubscription[] = [];
  readonly unsubscribed: string[] = [];
  nextResult: SubscribeResult = { ok: true };

  async subscribe(sub: ChangesSubscription): Promise<SubscribeResult> {
    this.history.push(sub);
    if (this.nextResult.ok) this.live.set(sub.key, sub);
    return this.nextResult;
  }
  unsubscribe(key: string): void {
    if (this.live.delete(key)) this.unsubscribed.push(key);
  }
  async stop(): Promise<void> {
    this.live.clear();
  }
  /** Deliver a change to every live subscription, naming all its binding ids. */
  emit(data: ChangeData): void {
    for (const sub of this.live.values()) {
      sub.deliver(
        sub.bindings.map((b) => b.id),
        data,
      );
    }
  }
}

export interface MountOptions {
  engine?: ChangesEngine;
  config?: Partial<ProjectConfig>;
  faults?: RealtimeFaults;
  server?: RealtimeServerOptions;
}

export interface MountedRealtime {
  url: string;
  wsUrl: string;
  ctx: ProjectContext;
  service: RealtimeService;
  stop(): Promise<void>;
}

export async function mountRealtime(stack: Stack, options: MountOptions = {}): Promise<MountedRealtime> {
  const base = stack.local.ctx;
  const config = { ...base.config, ...options.config };
  const ctx: ProjectContext = {
    ...base,
    config,
    keys: config,
    realtimeFaults: options.faults ?? base.realtimeFaults,
  };
  const service = buildRealtimeService(ctx, options.engine ?? new ScriptedEngine(), options.server);
  const server: Server = createApiServer({ routes: service.routes, allowedOrigins: config.allowedOrigins });
  await listen(server, 0, '127.0.0.1');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    wsUrl: `${url.replace('http', 'ws')}/realtime/v1/websocket`,
    ctx,
    service,
    async stop() {
      await service.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Unmodified supabase-js on Node 20, as selftest/support/stack.ts makes it, but pointed at `url`.
 * `token` makes realtime authenticate with that JWT (supabase-js's `accessToken` option), the way an
 * app with its own auth does; `realtime.setAuth()` re-reads it and pushes `access_token`.
 */
export function sbClient(
  url: string,
  key: string,
  vsn: '1.0.0' | '2.0.0',
  token?: () => string,
): SupabaseClient {
  return createClient(url, key, {
    auth: { persistSession: false, autoRefreshToken: false },
    realtime: { transport: WebSocket as never, vsn },
    ...(token ? { accessToken: async () => token() } : {}),
  });
}

export type Status = { status: string; err?: Error };

/** Subscribe and resolve with the first status callback (SUBSCRIBED, CHANNEL_ERROR, …). */
export function subscribe(channel: RealtimeChannel): Promise<Status> {
  return new Promise((resolve) => {
    channel.subscribe((status, err) => resolve({ status, ...(err ? { err } : {}) }));
  });
}

/** Every status a channel reports, with a way to wait for one. */
export function statuses(channel: RealtimeChannel): {
  seen: Status[];
  until(status: string): Promise<Status>;
} {
  const seen: Status[] = [];
  const waiters: { status: string; resolve: (s: Status) => void }[] = [];
  channel.subscribe((status, err) => {
    const s = { status, ...(err ? { err } : {}) };
    seen.push(s);
    for (const w of waiters.filter((w) => w.status === status)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(s);
    }
  });
  return {
    seen,
    until(status) {
      const already = seen.find((s) => s.status === status);
      if (already) return Promise.resolve(already);
      return new Promise((resolve) => waiters.push({ status, resolve }));
    },
  };
}

/** Resolves with the first value an event source hands to `on` that satisfies `match`. */
export function first<T>(
  register: (cb: (value: T) => void) => void,
  match: (value: T) => boolean = () => true,
) {
  let done = false;
  return new Promise<T>((resolve) => {
    register((value) => {
      if (!done && match(value)) {
        done = true;
        resolve(value);
      }
    });
  });
}

export type Refusal = {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
};

/** Try the upgrade with `ws` directly: the open socket, or the HTTP answer that refused it. */
export function rawConnect(
  url: string,
  options: { headers?: Record<string, string> } = {},
): Promise<{ ws: RawSocket } | { refused: Refusal }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers: options.headers ?? {} });
    ws.once('open', () => resolve({ ws: new RawSocket(ws) }));
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({
          refused: {
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            headers: res.headers,
          },
        });
        ws.terminate();
      });
    });
    ws.once('error', (error) =>
      reject(new Error(`raw connect to ${url} failed: ${error.message}`, { cause: error })),
    );
  });
}

export async function rawOpen(url: string, headers?: Record<string, string>): Promise<RawSocket> {
  const result = await rawConnect(url, headers ? { headers } : {});
  if ('refused' in result) {
    throw new Error(`upgrade to ${url} refused: ${result.refused.status} ${result.refused.body}`);
  }
  return result.ws;
}

/** A `ws` client that records every frame, decoded as JSON when text. */
export class RawSocket {
  readonly frames: unknown[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly waiters: { match: (f: unknown) => boolean; resolve: (f: unknown) => void }[] = [];

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const frame = isBinary ? (data as Buffer) : JSON.parse(String(data));
      this.frames.push(frame);
      for (const w of [...this.waiters]) {
        if (w.match(frame)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(frame);
        }
      }
    });
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })),
    );
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame));
  }

  /** The first frame (already received or still to come) that matches. */
  next<T = unknown>(match: (frame: T) => boolean): Promise<T> {
    const seen = this.frames.find((f) => match(f as T));
    if (seen !== undefined) return Promise.resolve(seen as T);
    return new Promise((resolve) =>
      this.waiters.push({
        match: match as (f: unknown) => boolean,
        resolve: resolve as (f: unknown) => void,
      }),
    );
  }

  close(): void {
    this.ws.terminate();
  }
}

/** Matches a v2 array frame by topic/event (and ref when given). */
export function v2(topic: string, event: string, ref?: string) {
  return (f: unknown) =>
    Array.isArray(f) && f[2] === topic && f[3] === event && (ref === undefined || f[1] === ref);
}

/** Matches a v1 object frame by topic/event (and ref when given). */
export function v1(topic: string, event: string, ref?: string) {
  return (f: unknown) => {
    const m = f as { topic?: string; event?: string; ref?: string } | null;
    return (
      !!m &&
      !Array.isArray(m) &&
      m.topic === topic &&
      m.event === event &&
      (ref === undefined || m.ref === ref)
    );
  };
}
