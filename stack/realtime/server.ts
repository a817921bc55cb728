import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { ProjectContext } from '../context.ts';
import { originAllowed, rejectUpgrade } from '../http/server.ts';
import { authorizeUpgrade } from './auth.ts';
import { policyHeaders } from './authorization.ts';
import type { ChangesEngine } from './changes-api.ts';
import type { ChannelDeps } from './channel.ts';
import { Connection, type ConnectionLimits } from './connection.ts';
import { Hub } from './hub.ts';
import { PresenceRegistry } from './presence.ts';
import { errorText } from './wire/bounds.ts';
import { serializerFor } from './wire/serializer.ts';

export const SOCKET_PATH = '/realtime/v1/websocket';

export interface RealtimeServerOptions {
  /**
   * Largest frame accepted, in bytes. Hosted Cowboy's `max_frame_size` is 5 000 000; a bigger frame
   * makes `ws` close that socket with 1009 "Max payload size exceeded".
   */
  maxPayload?: number;
  /** Unsent bytes one socket may hold before it is closed as a slow consumer (default 16 MiB). */
  sendBufferLimit?: number;
}

export interface RealtimeServer {
  deps: ChannelDeps;
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): void;
  /** Open sockets, for tests and diagnostics. */
  connectionCount(): number;
  stop(): Promise<void>;
}

/**
 * The WebSocket side of the realtime service: the upgrade checks of `user_socket.ex connect/3` and
 * Phoenix's transport (origin, vsn, apikey), then one Connection per socket. The changes engine is
 * passed in so the channel layer can be tested against any ChangesEngine.
 */
export function createRealtimeServer(
  ctx: ProjectContext,
  engine: ChangesEngine,
  options: RealtimeServerOptions = {},
): RealtimeServer {
  const log = ctx.log.child('realtime');
  const hub = new Hub((error, key) =>
    log.error('a member threw during fan-out; the others still got the frame', {
      topic: key,
      error: errorText(error),
    }),
  );
  const deps: ChannelDeps = { ctx, engine, hub, presence: new PresenceRegistry(hub), log };
  const limits: ConnectionLimits = { sendBufferLimit: options.sendBufferLimit ?? 16 * 1024 * 1024 };
  const wss = new WebSocketServer({ noServer: true, maxPayload: options.maxPayload ?? 5_000_000 });
  // Broadcast from Database: each committed realtime.messages row goes to the subscribers of exactly
  // its (private, topic) pair, as a user broadcast whose metadata is the row id (§1.8).
  const stopHearing = engine.onBroadcast?.((m) => {
    const topic = `realtime:${m.topic}`;
    const n = hub.fanout(Hub.key(topic, m.private), {
      kind: 'user_broadcast',
      topic,
      broadcast: { userEvent: m.event, encoding: m.encoding, data: m.data, meta: { id: m.id } },
    });
    log.debug('database broadcast', { topic: m.topic, private: m.private, event: m.event, receivers: n });
  });
  const connections = new Set<Connection>();

  async function accept(req: IncomingMessage, socket: Duplex, head: Buffer, url: URL): Promise<void> {
    const origin = req.headers.origin;
    // Phoenix checks the origin before calling connect/3, so a bad origin wins over a bad key.
    if (!originAllowed(origin, ctx.config.allowedOrigins)) {
      log.info('upgrade refused: origin not allowed', { origin, allowed: ctx.config.allowedOrigins });
      rejectUpgrade(socket, 403, { error: `Origin not allowed: ${origin}` });
      return;
    }
    const vsn = url.searchParams.get('vsn');
    const serializer = serializerFor(vsn);
    if (!serializer) {
      log.info('upgrade refused: unsupported vsn', { vsn });
      rejectUpgrade(socket, 403, { error: `Unsupported serializer version "${vsn}"; use 1.0.0 or 2.0.0` });
      return;
    }
    const auth = await authorizeUpgrade(ctx, req, url);
    if (!auth.ok) {
      log.info('upgrade refused: apikey', { status: auth.status, why: auth.why, origin });
      rejectUpgrade(socket, auth.status, auth.body);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const connection = new Connection(
        deps,
        ws,
        serializer,
        origin,
        auth.token,
        limits,
        policyHeaders(req.headers, (name) => name.startsWith('x-')),
      );
      connections.add(connection);
      ws.once('close', () => connections.delete(connection));
      log.debug('socket open', {
        socket: connection.id,
        vsn: serializer.vsn,
        role: auth.claims.role,
        origin,
      });
    });
  }

  return {
    deps,
    upgrade(req, socket, head, url) {
      if (url.pathname !== SOCKET_PATH && url.pathname !== `${SOCKET_PATH}/`) {
        rejectUpgrade(socket, 404, { message: 'no Route matched with those values' });
        return;
      }
      accept(req, socket, head, url).catch((error: unknown) => {
        log.error('upgrade failed', { error: errorText(error) });
        if (socket.writable) rejectUpgrade(socket, 500, { error: 'Error connecting to Realtime' });
      });
    },
    connectionCount: () => connections.size,
    /** Close every socket (1001, clients reconnect elsewhere) and resolve once they are gone. */
    async stop() {
      stopHearing?.();
      await Promise.all([...connections].map((c) => c.shutdown()));
      connections.clear();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
