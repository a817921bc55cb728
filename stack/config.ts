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
