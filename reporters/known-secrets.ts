import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO } from '../stack/keys.ts';

/**
 * Every secret this machine knows of, for redaction and for the secret scan: the service-role keys
 * and passwords of embedded targets (`.stack/runtime.json`), secret-looking environment variables
 * (CI secrets such as PROD_SUPABASE_SERVICE_ROLE_KEY), and the demo service-role values, which are
 * public but still a service role that must not appear in an artifact.
 */
export interface KnownSecret {
  /** Where it came from, e.g. "runtime.json envs.prod.serviceRoleKey" or "env PROD_CLIENT_PASSWORD". */
  name: string;
  value: string;
}

const SECRET_ENV = /(SERVICE_ROLE|SECRET|PASSWORD|PRIVATE_KEY|CONTROL_TOKEN|DATABASE_URL)/i;
/** Values shorter than this would redact ordinary words; no real key or generated password is. */
const MIN_LENGTH = 8;
const DEMO_PASSWORD = 'helpdesk-demo-password';

export function knownSecrets(
  root: string = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): KnownSecret[] {
  const found: KnownSecret[] = [
    { name: 'demo serviceRoleKey', value: DEMO.serviceRoleKey },
    { name: 'demo secretKey', value: DEMO.secretKey },
    { name: 'demo jwtSecret', value: DEMO.jwtSecret },
    { name: 'seed.sql demo password', value: DEMO_PASSWORD },
    ...fromRuntimeFile(join(root, '.stack', 'runtime.json')),
    // A matrix pointed at another stack's runtime file (RTM_RUNTIME_FILE) knows that stack's secrets.
    ...(env['RTM_RUNTIME_FILE'] ? fromRuntimeFile(env['RTM_RUNTIME_FILE']) : []),
  ];
  for (const [key, value] of Object.entries(env)) {
    if (value && SECRET_ENV.test(key)) found.push({ name: `env ${key}`, value });
    // The doctor's <ENV>_DATABASE_URL: its password alone may show up too (a driver's error).
    if (value && /DATABASE_URL$/i.test(key)) {
      const password = urlPassword(value);
      if (password) found.push({ name: `env ${key} password`, value: password });
    }
  }
  const seen = new Set<string>();
  return found.filter((s) => s.value.length >= MIN_LENGTH && !seen.has(s.value) && seen.add(s.value));
}

function urlPassword(url: string): string | undefined {
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch (error) {
    if (error instanceof TypeError) return undefined; // not a URL: the whole value is redacted anyway
    throw error;
  }
}

export function secretValues(root?: string, env?: NodeJS.ProcessEnv): string[] {
  return knownSecrets(root, env).map((s) => s.value);
}

interface RuntimeFile {
  control?: { token?: unknown };
  envs?: Record<
    string,
    {
      serviceRoleKey?: unknown;
      secretKey?: unknown;
      jwtSecret?: unknown;
      dbUrl?: unknown;
      users?: Record<string, { password?: unknown }>;
    }
  >;
}

function fromRuntimeFile(path: string): KnownSecret[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []; // no embedded stack has run here
    throw error;
  }
  let runtime: RuntimeFile;
  try {
    runtime = JSON.parse(text) as RuntimeFile;
  } catch (error) {
    throw new Error(
      `${path} is not valid JSON, so its secrets cannot be redacted; restart \`npm run stack\``,
      {
        cause: error,
      },
    );
  }
  const out: KnownSecret[] = [];
  const add = (name: string, value: unknown) => {
    if (typeof value === 'string') out.push({ name: `runtime.json ${name}`, value });
  };
  add('control.token', runtime.control?.token);
  for (const [envName, target] of Object.entries(runtime.envs ?? {})) {
    add(`envs.${envName}.serviceRoleKey`, target.serviceRoleKey);
    add(`envs.${envName}.secretKey`, target.secretKey);
    add(`envs.${envName}.jwtSecret`, target.jwtSecret);
    // The whole URL (the embedded superuser's password is the well-known "postgres", too common a
    // word to redact on its own).
    add(`envs.${envName}.dbUrl`, target.dbUrl);
    for (const [user, creds] of Object.entries(target.users ?? {}))
      add(`envs.${envName}.users.${user}.password`, creds.password);
  }
  return out;
}
