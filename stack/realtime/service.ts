import type { ProjectContext } from '../context.ts';
import type { Service } from '../services.ts';
import { handleBroadcastApi } from './broadcast-api.ts';
import type { ChangesEngine } from './changes-api.ts';
import { createRealtimeServer, type RealtimeServer, type RealtimeServerOptions } from './server.ts';

export interface RealtimeService extends Service {
  server: RealtimeServer;
  stop(): Promise<void>;
}

/**
 * The realtime service of one project over a given changes engine: `/realtime/v1/websocket`
 * upgrades and the broadcast REST API under `/realtime/v1`. Stopping it closes every socket, then the
 * engine (which the service owns from here on).
 */
export function buildRealtimeService(
  ctx: ProjectContext,
  engine: ChangesEngine,
  options: RealtimeServerOptions = {},
): RealtimeService {
  const server = createRealtimeServer(ctx, engine, options);
  const { hub, log } = server.deps;
  return {
    name: 'realtime',
    server,
    routes: [
      {
        prefix: '/realtime/v1',
        handle: (req, res, url) => handleBroadcastApi(ctx, hub, log, req, res, url),
        upgrade: (req, socket, head, url) => server.upgrade(req, socket, head, url),
      },
    ],
    async stop() {
      await server.stop();
      await engine.stop();
    },
  };
}
