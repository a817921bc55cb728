import type { PortalServeOptions, ServedPortal, StackApp, StackAppPortal } from '../app.ts';
import type { PortalOverrides } from '../faults/hooks.ts';
import type { Portal } from './cells.ts';

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
  app: StackApp;
  supabaseUrl: string;
  anonKey: string;
  csp: string | undefined;
  production: boolean;
  /** Port per portal (0 = free port). */
  ports: Readonly<Record<Portal, number | undefined>>;
  overrides(portal: Portal): PortalOverrides;
  /** The public URL of a portal once its port is known. */
  publicUrl(portal: Portal, port: number): string;
}

/** Start every portal of the app in one environment, each with its app's own server. */
export async function startPortalFleet(options: PortalFleetOptions): Promise<PortalFleet> {
  const handles: Record<Portal, PortalHandle> = {};
  try {
    for (const portal of options.app.portals) handles[portal.name] = await startHandle(portal, options);
  } catch (error) {
    await Promise.allSettled(Object.values(handles).map((h) => h.stop()));
    throw error;
  }
  return {
    portals: handles,
    async stop() {
      await Promise.all(Object.values(handles).map((h) => h.stop()));
    },
  };
}

async function startHandle(portal: StackAppPortal, options: PortalFleetOptions): Promise<PortalHandle> {
  if (portal.url !== undefined) {
    // The team runs it: nothing to start or stop here.
    const url = portal.url;
    return {
      portal: portal.name,
      url,
      port: Number(new URL(url).port),
      running: () => true,
      stop: () => Promise.resolve(),
      start: () => Promise.resolve(),
    };
  }
  const launch = (port: number): Promise<ServedPortal> => {
    const serve: PortalServeOptions = {
      portal: portal.name,
      host: '127.0.0.1',
      port,
      supabaseUrl: options.supabaseUrl,
      anonKey: options.anonKey,
      ...(options.csp ? { csp: options.csp } : {}),
      overrides: () => options.overrides(portal.name),
      production: options.production,
    };
    return portal.serve(serve);
  };
  let server: ServedPortal | undefined = await launch(options.ports[portal.name] ?? 0);
  const port = server.port;
  return {
    portal: portal.name,
    url: options.publicUrl(portal.name, port),
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
