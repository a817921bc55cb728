import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ProjectConfig } from './config.ts';
import type { ProjectContext } from './context.ts';
import { NO_REALTIME_FAULTS, type RealtimeFaults } from './faults/hooks.ts';
import { createApiServer } from './http/server.ts';
import { JwtKeys } from './jwt.ts';
import { createLogger } from './log.ts';
import { type Cluster, ensureDatabase } from './postgres/cluster.ts';
import { Database } from './postgres/db.ts';
import { migrate } from './postgres/migrate.ts';
import { projectServices, type Service } from './services.ts';

export interface Project {
  config: ProjectConfig;
  ctx: ProjectContext;
  /** The URL the API really listens on (differs from config.publicUrl behind an edge). */
  listenUrl: string;
  server: Server;
  stop(): Promise<void>;
}

export interface StartProjectOptions {
  /** Directory with migrations/ and seed.sql (default: the repo's supabase/). */
  supabaseDir?: string;
  realtimeFaults?: RealtimeFaults;
}

/** Boot one Supabase-compatible project on a running cluster: schema, services, HTTP API. */
export async function startProject(
  config: ProjectConfig,
  cluster: Cluster,
  options: StartProjectOptions = {},
): Promise<Project> {
  const log = createLogger(`project:${config.name}`);
  await ensureDatabase(cluster, config.database);
  await migrate(cluster.url(config.database), options.supabaseDir);
  const db = new Database('127.0.0.1', cluster.port, config.database);
  const ctx: ProjectContext = {
    config,
    db,
    jwt: new JwtKeys(config.jwtSecret),
    keys: config,
    log,
    realtimeFaults: options.realtimeFaults ?? NO_REALTIME_FAULTS,
  };
  const services: Service[] = await projectServices(ctx);
  const server = createApiServer({
    routes: services.flatMap((s) => s.routes),
    allowedOrigins: config.allowedOrigins,
    onError: (error, req) =>
      log.error(`unhandled error on ${req.method} ${req.url?.split('?')[0]}`, { error: String(error) }),
  });
  await listen(server, config.apiPort, config.apiHost);
  const port = (server.address() as AddressInfo).port;
  if (config.apiPort === 0) {
    // Port 0 (tests): the public URL and token issuer are only known now.
    config.publicUrl = `http://${config.apiHost}:${port}`;
    config.issuer = `${config.publicUrl}/auth/v1`;
  }
  config.apiPort = port;
  log.info(`API listening on http://${config.apiHost}:${port}`);
  return {
    config,
    ctx,
    listenUrl: `http://${config.apiHost}:${port}`,
    server,
    async stop() {
      // Upgraded WebSockets still count as server connections, so close() only completes once the
      // services (realtime) have closed their sockets: start it, stop the services, then wait.
      server.closeAllConnections();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of services.reverse()) await s.stop?.();
      await closed;
      await db.end();
    },
  };
}

export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(
          new Error(
            `Port ${host}:${port} is already in use. Find the holder with \`ss -ltnp 'sport = :${port}'\`; ` +
              'if it is a running stack or `supabase start`, reuse it, otherwise stop it or pick another port.',
            { cause: error },
          ),
        );
      } else reject(error);
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
