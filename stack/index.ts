import { HELP_DESK_APP } from '../portals/help-desk-app.ts';
import { appPortalNames, type StackApp, teamServedUrl } from './app.ts';
import {
  localProjectConfig,
  PROD_DOMAIN,
  type ProjectConfig,
  prodOrigin,
  prodProjectConfig,
} from './config.ts';
import { makeEdgeCertificate } from './edge/cert.ts';
import { type Edge, startEdge } from './edge/server.ts';
import { FaultBoard } from './faults/board.ts';
import { type ControlServer, startControlServer } from './faults/control-server.ts';
import { FaultController } from './faults/controller.ts';
import type { FaultSpec } from './faults/spec.ts';
import { createLogger } from './log.ts';
import { freePort } from './ports.ts';
import { type Cluster, SUPERUSER, startCluster } from './postgres/cluster.ts';
import { type Project, startProject } from './project.ts';
import { cellName, type Env, type Portal } from './topology/cells.ts';
import { healthyPortalCsp } from './topology/csp.ts';
import { DEFAULT_PORTS, localPortalPorts } from './topology/default-ports.ts';
import type { Deployment } from './topology/deployment.ts';
import { startPortalFleet } from './topology/portals.ts';
import { type RuntimeEnv, removeRuntimeFile, writeRuntimeFile } from './topology/runtime-file.ts';
import { migrationsOnlyDir } from './topology/schema-dir.ts';
import { seedAppUsers } from './topology/users.ts';

export type { StackApp };
export { DEFAULT_PORTS };

export interface StackPorts {
  db?: number;
  localApi?: number;
  /** The prod project's internal loopback port, reached only through the edge (default: free). */
  prodApi?: number;
  edge?: number;
  /** Local portals are what the browser opens: http://localhost:<port> (default: each portal's `localPort`). */
  localPortals?: Partial<Record<Portal, number>>;
  /** Prod portals' internal ports behind the edge (default: free). */
  prodPortals?: Partial<Record<Portal, number>>;
  control?: number;
}

export interface StackOptions {
  /** The app to deploy in each env (default: the help-desk demo, portals/help-desk-app.ts). */
  app?: StackApp;
  /** Keep the database in this directory across runs (default: a temp dir removed on stop). */
  persistDir?: string;
  /** Same as `ports.db` (kept for existing callers). */
  dbPort?: number;
  local?: Partial<ProjectConfig>;
  prod?: Partial<ProjectConfig>;
  /** Which environments to deploy (default: local only, the fast programmatic case). */
  envs?: Env[];
  /** Start the app's portals in each env (default: no; the CLI starts them). */
  portals?: boolean;
  ports?: StackPorts;
  /** Faults switched on once everything is up. */
  faults?: FaultSpec[];
  /** Serve the run-time fault control endpoint (default: no; the CLI serves it). */
  control?: boolean;
  /** Write the runtime file here, and remove it on stop (default: none; the CLI writes `.stack/runtime.json`). */
  runtimeFile?: string;
}

export interface Stack {
  /** The app deployed in every env. */
  app: StackApp;
  cluster: Cluster;
  /** The local project (throws if the stack was started without `local`). */
  local: Project;
  /** The prod-like project, when started. */
  prod: Project | undefined;
  deployments: ReadonlyMap<Env, Deployment>;
  edge: Edge | undefined;
  faults: FaultController;
  control: ControlServer | undefined;
  stop(): Promise<void>;
}

/** Start the embedded stack programmatically; `npm run stack` is a thin CLI over this. */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const log = createLogger('stack');
  const envs = new Set<Env>(options.envs ?? ['local']);
  const ports = options.ports ?? {};
  // Everything started so far, stopped in reverse if a later step fails or on stop().
  const undo: { what: string; run: () => Promise<void> }[] = [];
  const deployments = new Map<Env, Deployment>();
  const app = options.app ?? HELP_DESK_APP;
  const board = new FaultBoard();
  const controller = new FaultController(app, deployments, board);
  let edge: Edge | undefined;
  let control: ControlServer | undefined;

  /** Stop everything started so far, newest first; every step runs even if an earlier one failed. */
  async function unwind(): Promise<void> {
    const failures: Error[] = [];
    for (const step of undo.splice(0).reverse()) {
      await step.run().catch((error: Error) => {
        log.error(`stopping the ${step.what} failed`, { error: error.message });
        failures.push(new Error(`stopping the ${step.what} failed: ${error.message}`, { cause: error }));
      });
    }
    if (failures.length) {
      throw new AggregateError(failures, failures.map((f) => f.message).join('; '));
    }
  }

  const cluster = await startCluster({
    port: ports.db ?? options.dbPort ?? DEFAULT_PORTS.db,
    persistDir: options.persistDir,
  });
  undo.push({ what: 'Postgres', run: () => cluster.stop() });

  try {
    if (envs.has('prod')) {
      const certificate = await makeEdgeCertificate(PROD_DOMAIN, ['api', ...appPortalNames(app)]);
      edge = await startEdge({
        port: ports.edge ?? DEFAULT_PORTS.edge,
        certificate,
        faults: board.edgeFaults(),
        log: log.child('edge'),
      });
      undo.push({ what: 'edge', run: () => edge?.stop() ?? Promise.resolve() });
    }
    if (envs.has('local')) {
      deployments.set('local', await deployLocal(app, cluster, board, options, undo));
    }
    if (edge) {
      deployments.set('prod', await deployProd(app, cluster, board, edge, options, undo));
    }
    for (const [env, deployment] of deployments) {
      for (const [portal, origin] of Object.entries(deployment.origins)) {
        board.registerCell(cellName(portal, env), origin);
      }
    }
    // Faults change databases: turn them off before anything stops, so a persisted cluster is healthy.
    undo.push({
      what: 'faults',
      run: async () => {
        await controller.clear();
      },
    });
    for (const spec of options.faults ?? []) await controller.set(spec.cell, spec.fault, true);
    if (options.control) {
      control = await startControlServer(controller, log.child('control'), ports.control ?? 0);
      const started = control;
      undo.push({ what: 'control endpoint', run: () => started.stop() });
    }
    if (options.runtimeFile) {
      const file = options.runtimeFile;
      if (!control) throw new Error('A runtime file needs the control endpoint: pass control: true.');
      await writeRuntimeFile(file, {
        version: 1,
        app: app.name,
        pid: process.pid,
        startedAt: new Date().toISOString(),
        control: { url: control.url, token: control.token },
        envs: Object.fromEntries([...deployments].map(([env, d]) => [env, runtimeEnv(d)])),
      });
      undo.push({ what: 'runtime file', run: () => removeRuntimeFile(file) });
    }
  } catch (error) {
    // The boot error is what the caller must see; a failed cleanup is added to it, not lost.
    const cleanup = await unwind().then(
      () => undefined,
      (cleanupError: Error) => cleanupError,
    );
    if (!cleanup) throw error;
    throw new Error(`${(error as Error).message} (then cleaning up failed: ${cleanup.message})`, {
      cause: error,
    });
  }

  let stopping: Promise<void> | undefined;
  return {
    app,
    cluster,
    get local(): Project {
      const local = deployments.get('local')?.project;
      if (!local) throw new Error('This stack was started without the local env (envs option).');
      return local;
    },
    prod: deployments.get('prod')?.project,
    deployments,
    edge,
    faults: controller,
    control,
    stop() {
      stopping ??= unwind();
      return stopping;
    },
  };
}

type Undo = { what: string; run: () => Promise<void> }[];

async function deployLocal(
  app: StackApp,
  cluster: Cluster,
  board: FaultBoard,
  options: StackOptions,
  undo: Undo,
): Promise<Deployment> {
  const ports = options.ports ?? {};
  const config = localProjectConfig({
    ...(app.accessTokenHook ? { accessTokenHook: app.accessTokenHook } : {}),
    ...(privateOnly(app, 'local') ? { realtimePrivateOnly: true } : {}),
    ...(ports.localApi !== undefined ? { apiPort: ports.localApi } : {}),
    ...options.local,
  });
  const project = await startProject(config, cluster, {
    supabaseDir: app.supabaseDir,
    realtimeFaults: board.realtimeFaults('local'),
  });
  undo.push({ what: 'local project', run: () => project.stop() });
  const portalPorts = { ...localPortalPorts(app), ...ports.localPortals };
  const deployment: Deployment = {
    env: 'local',
    app,
    project,
    supabaseUrl: project.config.publicUrl,
    origins: originsFrom(app, (p) => teamUrl(app, p) ?? `http://localhost:${portalPorts[p]}`),
    csp: undefined,
    healthyAllowedOrigins: project.config.allowedOrigins ? [...project.config.allowedOrigins] : undefined,
    portals: undefined,
    users: await seedAppUsers(project, app, 'local'),
  };
  if (options.portals) {
    // A dev server: plain HTTP on localhost, no CSP, talking to the API directly.
    const fleet = await startPortalFleet({
      app,
      supabaseUrl: project.config.publicUrl,
      anonKey: project.config.anonKey,
      csp: undefined,
      production: false,
      ports: portalPorts,
      overrides: (portal) => board.portalOverrides(portal, 'local'),
      publicUrl: (_portal, port) => `http://localhost:${port}`,
    });
    undo.push({ what: 'local portals', run: () => fleet.stop() });
    deployment.portals = fleet;
    deployment.origins = originsFrom(app, (p) => teamUrl(app, p) ?? fleet.portals[p]?.url ?? '');
  }
  return deployment;
}

async function deployProd(
  app: StackApp,
  cluster: Cluster,
  board: FaultBoard,
  edge: Edge,
  options: StackOptions,
  undo: Undo,
): Promise<Deployment> {
  const ports = options.ports ?? {};
  // A fixed internal port (not 0) keeps startProject from re-deriving publicUrl from the listener.
  const config = await prodProjectConfig(
    {
      edgePort: edge.port,
      apiPort: ports.prodApi || (await freePort()),
      portals: appPortalNames(app),
      ...(app.accessTokenHook ? { accessTokenHook: app.accessTokenHook } : {}),
    },
    {
      // A portal the team serves itself keeps its own origin, so the allow-list must name that one.
      allowedOrigins: appPortalNames(app).map((p) => teamUrl(app, p) ?? prodOrigin(p, edge.port)),
      ...(privateOnly(app, 'prod') ? { realtimePrivateOnly: true } : {}),
      ...options.prod,
    },
  );
  const schema = await migrationsOnlyDir(app.supabaseDir);
  undo.push({ what: 'prod schema dir', run: () => schema.remove() });
  const project = await startProject(config, cluster, {
    supabaseDir: schema.dir,
    realtimeFaults: board.realtimeFaults('prod'),
  });
  undo.push({ what: 'prod project', run: () => project.stop() });
  edge.route(new URL(config.publicUrl).hostname, {
    kind: 'api',
    upstream: { host: config.apiHost, port: project.config.apiPort },
  });
  const csp = healthyPortalCsp(config.publicUrl);
  const deployment: Deployment = {
    env: 'prod',
    app,
    project,
    supabaseUrl: config.publicUrl,
    origins: originsFrom(app, (p) => teamUrl(app, p) ?? prodOrigin(p, edge.port)),
    csp,
    healthyAllowedOrigins: config.allowedOrigins ? [...config.allowedOrigins] : undefined,
    portals: undefined,
    users: await seedAppUsers(project, app, 'prod'),
  };
  if (options.portals) {
    const fleet = await startPortalFleet({
      app,
      supabaseUrl: config.publicUrl,
      anonKey: config.anonKey,
      csp,
      production: true,
      ports: { ...ports.prodPortals },
      overrides: (portal) => board.portalOverrides(portal, 'prod'),
      publicUrl: (portal) => prodOrigin(portal, edge.port),
    });
    undo.push({ what: 'prod portals', run: () => fleet.stop() });
    for (const handle of Object.values(fleet.portals)) {
      if (teamUrl(app, handle.portal) !== undefined) continue;
      edge.route(new URL(prodOrigin(handle.portal, edge.port)).hostname, {
        kind: 'portal',
        upstream: { host: '127.0.0.1', port: handle.port },
      });
    }
    deployment.portals = fleet;
  }
  return deployment;
}

/** The origin of a portal the team serves itself (`StackAppPortal.url`), else undefined. */
function teamUrl(app: StackApp, portal: Portal): string | undefined {
  const url = teamServedUrl(app, portal);
  return url === undefined ? undefined : new URL(url).origin;
}

function originsFrom(app: StackApp, origin: (portal: Portal) => string): Record<Portal, string> {
  return Object.fromEntries(appPortalNames(app).map((p) => [p, origin(p)]));
}

function runtimeEnv(d: Deployment): RuntimeEnv {
  return {
    targetKind: 'embedded',
    supabaseUrl: d.supabaseUrl,
    anonKey: d.project.config.anonKey,
    serviceRoleKey: d.project.config.serviceRoleKey,
    dbUrl: `postgresql://${SUPERUSER.user}:${SUPERUSER.password}@${d.project.ctx.db.host}:${d.project.ctx.db.port}/${d.project.ctx.db.database}`,
    portals: d.portals ? originsFrom(d.app, (p) => d.portals?.portals[p]?.url ?? '') : d.origins,
    users: d.users,
  };
}

/** The app's "private only" Realtime setting for this environment (StackApp `realtime.privateOnly`). */
function privateOnly(app: StackApp, env: 'local' | 'prod'): boolean {
  const setting = app.realtime?.privateOnly;
  return typeof setting === 'object' ? setting[env] === true : setting === true;
}
