import { randomBytes } from 'node:crypto';
import { JwtKeys } from './jwt.ts';
import { DEMO } from './keys.ts';

/**
 * One Supabase-compatible project: its database, its API port and its secrets. The embedded stack
 * runs two (local and prod-like) side by side, exactly as a team has two hosted projects.
 */
export interface ProjectConfig {
  /** Short name used in logs and runtime files: "local", "prod". */
  name: string;
  /** Interface and port the API (auth, rest, realtime) listens on. */
  apiHost: string;
  apiPort: number;
  /** The public URL clients use (differs from host:port behind the prod-like edge). */
  publicUrl: string;
  /** Database inside the cluster that holds this project. */
  database: string;
  jwtSecret: string;
  anonKey: string;
  serviceRoleKey: string;
  publishableKey: string;
  secretKey: string;
  /** Access-token lifetime in seconds (GoTrue `jwt_expiry`, default 3600). */
  jwtExpiry: number;
  /** `iss` of user tokens (GoTrue `GOTRUE_JWT_ISSUER`). */
  issuer: string;
  /** `pg-functions://postgres/<schema>/<fn>` for the custom access token hook, if any. */
  accessTokenHook?: string;
  /** Allowed browser origins; undefined = any origin (the local default). */
  allowedOrigins?: string[];
  /**
   * Realtime's "private only" setting (dashboard: "Allow public access" off): public joins are
   * refused with `PrivateOnly: This project only allows private channels`.
   */
  realtimePrivateOnly?: boolean;
  /**
   * Realtime's `CHANNEL_ERROR_BACKOFF_MS`: how long a refused join waits before its error reply.
   * Hosted defaults to 5000; the stack answers at once unless told (tests wait on replies).
   */
  realtimeChannelErrorBackoffMs?: number;
}

export const LOCAL_API_PORT = 54321;
export const LOCAL_DB_PORT = 54322;

export function localProjectConfig(overrides: Partial<ProjectConfig> = {}): ProjectConfig {
  const apiPort = overrides.apiPort ?? LOCAL_API_PORT;
  const publicUrl = overrides.publicUrl ?? `http://127.0.0.1:${apiPort}`;
  return {
    name: 'local',
    apiHost: '127.0.0.1',
    apiPort,
    publicUrl,
    database: 'postgres',
    jwtSecret: DEMO.jwtSecret,
    anonKey: DEMO.anonKey,
    serviceRoleKey: DEMO.serviceRoleKey,
    publishableKey: DEMO.publishableKey,
    secretKey: DEMO.secretKey,
    jwtExpiry: 3600,
    issuer: `${publicUrl}/auth/v1`,
    ...overrides,
  };
}

/** Where the prod-like deployment is reachable: every name resolves to loopback (`*.localhost`). */
export const PROD_DOMAIN = 'prod.localhost';
export const PROD_EDGE_PORT = 8443;

/** Origin of a prod-like host behind the edge; the port is shown unless it is HTTPS's default. */
export function prodOrigin(sub: string, edgePort: number = PROD_EDGE_PORT): string {
  return `https://${sub}.${PROD_DOMAIN}${edgePort === 443 ? '' : `:${edgePort}`}`;
}

/** A `sb_…` key of the CLI's shape: prefix, 22 random characters, `_`, 8 more. Not a JWT. */
function opaqueKey(prefix: 'sb_publishable_' | 'sb_secret_'): string {
  return `${prefix}${randomBytes(16).toString('base64url').slice(0, 22)}_${randomBytes(6).toString('base64url')}`;
}

/**
 * The prod-like project: its own database, a JWT secret generated at boot (so nothing local is
 * accepted there), anon/service_role keys signed with it like a hosted project's, and a strict
 * origin allow-list of the app's prod portals. Reached only through the edge, so `publicUrl` and
 * `issuer` name the edge host while `apiPort` is an internal loopback port.
 */
export async function prodProjectConfig(
  options: { edgePort?: number; apiPort: number; portals: readonly string[]; accessTokenHook?: string },
  overrides: Partial<ProjectConfig> = {},
): Promise<ProjectConfig> {
  const edgePort = options.edgePort ?? PROD_EDGE_PORT;
  const publicUrl = prodOrigin('api', edgePort);
  const jwtSecret = overrides.jwtSecret ?? randomBytes(32).toString('base64url');
  const jwt = new JwtKeys(jwtSecret);
  const iat = Math.floor(Date.now() / 1000);
  // Hosted keys carry iss "supabase", the project ref and a ten-year exp.
  const keyClaims = (role: string) => ({
    iss: 'supabase',
    ref: 'prod',
    role,
    iat,
    exp: iat + 10 * 365 * 86400,
  });
  return {
    name: 'prod',
    apiHost: '127.0.0.1',
    apiPort: options.apiPort,
    publicUrl,
    database: 'prod',
    jwtSecret,
    anonKey: await jwt.sign(keyClaims('anon')),
    serviceRoleKey: await jwt.sign(keyClaims('service_role')),
    publishableKey: opaqueKey('sb_publishable_'),
    secretKey: opaqueKey('sb_secret_'),
    jwtExpiry: 3600,
    issuer: `${publicUrl}/auth/v1`,
    ...(options.accessTokenHook ? { accessTokenHook: options.accessTokenHook } : {}),
    allowedOrigins: options.portals.map((p) => prodOrigin(p, edgePort)),
    ...overrides,
  };
}
