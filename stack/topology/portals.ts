import { type PortalServer, startPortalServer } from '../../portals/server.ts';
import type { PortalOverrides } from '../faults/hooks.ts';
import { PORTALS, type Portal } from './cells.ts';

export interface PortalHandle {
  portal: Portal;
  /** What the browser opens (through the edge for prod). */
  url: string;
  /** The loopback port the portal server itself listens on. */
  port: number;
  running(): boolean;
  /** Take the deployment down: its port stops answering. */
  stop(): Promise<void>;
  /** Bring it back on the same port. */
  start(): Promise<void>;
}

export interface PortalFleet {
  portals: Record<Portal, PortalHandle>;
  stop(): Promise<void>;
}

export interface PortalFleetOptions {
  supabaseUrl: string;
  anonKey: string;
  csp: string | undefined;
  production: boolean;
  /** Port per portal (0 = free port). */
  ports: Record<Portal, number>;
  overrides(portal: Portal): PortalOverrides;
  /** The public URL of a portal once its port is known. */
  publicUrl(portal: Portal, port: number): string;
}

/** Start the three portals of one environment. */
export async function startPortalFleet(options: PortalFleetOptions): Promise<PortalFleet> {
  const handles: Partial<Record<Portal, PortalHandle>> = {};
  try {
    for (const portal of PORTALS) handles[portal] = await startHandle(portal, options);
  } catch (error) {
    await Promise.allSettled(Object.values(handles).map((h) => h.stop()));
    throw error;
  }
  const portals = handles as Record<Portal, PortalHandle>;
  return {
    portals,
    async stop() {
      await Promise.all(PORTALS.map((p) => portals[p].stop()));
    },
  };
}

async function startHandle(portal: Portal, options: PortalFleetOptions): Promise<PortalHandle> {
  const launch = (port: number) =>
    startPortalServer({
      portal,
      host: '127.0.0.1',
      port,
      supabaseUrl: options.supabaseUrl,
      anonKey: options.anonKey,
      ...(options.csp ? { csp: options.csp } : {}),
      overrides: () => options.overrides(portal),
      production: options.production,
    });
  let server: PortalServer | undefined = await launch(options.ports[portal]);
  const port = server.port;
  return {
    portal,
    url: options.publicUrl(portal, port),
    port,
    running: () => server !== undefined,
    async stop() {
      const s = server;
      server = undefined;
      await s?.stop();
    },
    async start() {
      server ??= await launch(port);
    },
  };
}
