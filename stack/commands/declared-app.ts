import { isAbsolute, resolve } from 'node:path';
import type { PortalServeOptions, ServedPortal, StackApp, StackAppPortal } from '../app.ts';
import type { CommandPortal } from './serve-command.ts';
import { PLACEHOLDERS, unknownPlaceholders, usesPlaceholder } from './substitute.ts';

/**
 * The declarative `embedded` section of a matrix config: an app the team already builds, described by
 * values instead of a `StackApp` in TypeScript. Each portal is a command the stack starts per
 * environment (or a URL the team already serves); everything else a `StackApp` says comes from the
 * matrix config (its name, its table) or keeps its default (no seeded users: the matrix seeds its own,
 * no app-specific fault mechanisms).
 */
export interface DeclaredPortal {
  /** Started once per environment through the shell, in `cwd`; must listen on `{port}`. */
  command?: string;
  /** Relative to the config file (default: the config file's folder). */
  cwd?: string;
  /** What to poll until the command serves (default `http://{host}:{port}/`); alone: where the team already serves the portal. */
  url?: string;
  /** Variables the command gets on top of the stack's own, minus any secret-like ones. */
  env?: Record<string, string>;
  /** How long the URL may take to answer (default 60 000 ms). */
  timeoutMs?: number;
  /** The port browsers open locally (http://localhost:<localPort>); default a free one. */
  localPort?: number;
}

export interface DeclaredApp {
  /** The app's Supabase CLI folder, relative to the config file. */
  supabaseDir: string;
  /** `pg-functions://postgres/public/<fn>`, as config.toml names it. */
  accessTokenHook?: string;
  /** The project's Realtime settings (StackApp `realtime`): `privateOnly` per app or per env. */
  realtime?: StackApp['realtime'];
  portals: Record<string, DeclaredPortal>;
}

export const DEFAULT_PORTAL_URL = 'http://{host}:{port}/';
export const DEFAULT_TIMEOUT_MS = 60_000;

export function isStackApp(value: unknown): value is StackApp {
  return typeof value === 'object' && value !== null && Array.isArray((value as StackApp).portals);
}

/**
 * What the schema alone cannot check, as `<key>: <problem>` lines: every config portal deployed,
 * no unknown one, placeholders known, the port taken from `{port}`.
 */
export function declaredAppProblems(app: DeclaredApp, portalNames: readonly string[]): string[] {
  const problems: string[] = [];
  for (const name of Object.keys(app.portals)) {
    if (!portalNames.includes(name)) {
      problems.push(
        `embedded.portals.${name}: the config declares no portal "${name}" (it declares ${portalNames.join(', ')})`,
      );
    }
  }
  const missing = portalNames.filter((n) => !(n in app.portals));
  if (missing.length) {
    problems.push(
      `embedded.portals: must deploy every portal of the config; missing ${missing.join(', ')} (give each a command, or the url it is served at)`,
    );
  }
  for (const [name, p] of Object.entries(app.portals)) {
    const at = `embedded.portals.${name}`;
    const templates: [string, string | undefined][] = [
      ['command', p.command],
      ['url', p.url],
      ...Object.entries(p.env ?? {}).map(([k, v]): [string, string] => [`env.${k}`, v]),
    ];
    for (const [key, template] of templates) {
      const unknown = template === undefined ? [] : unknownPlaceholders(template);
      if (unknown.length) {
        problems.push(
          `${at}.${key}: unknown placeholder ${unknown.map((u) => `{${u}}`).join(', ')} (known: ${PLACEHOLDERS.map((x) => `{${x}}`).join(', ')})`,
        );
      }
    }
    if (p.command === undefined) {
      if (p.url === undefined)
        problems.push(`${at}: needs a command (to start it) or a url (where it already runs)`);
      else if (p.url && /(?<!\$)\{[A-Za-z]+\}/.test(p.url))
        problems.push(
          `${at}.url: without a command it is where the portal already runs, so it takes no placeholders`,
        );
      for (const key of ['cwd', 'env', 'timeoutMs', 'localPort'] as const) {
        if (p[key] !== undefined) problems.push(`${at}.${key}: only applies with a command`);
      }
      continue;
    }
    const takesPort = [p.command, ...Object.values(p.env ?? {})].some((t) => usesPlaceholder(t, 'port'));
    if (!takesPort) {
      problems.push(
        `${at}.command: must listen on the port the stack gives it, as {port} in the command or an env value (e.g. "npm run preview -- --port {port}", or env PORT: '{port}'): it runs once per environment`,
      );
    }
    if (p.url !== undefined && !usesPlaceholder(p.url, 'port')) {
      problems.push(
        `${at}.url: must contain {port} (it is the command's address, e.g. "http://localhost:{port}/")`,
      );
    }
  }
  return problems;
}

/** The `StackApp` a declared app is: the rest of the stack deploys it like any other. */
export function stackAppFrom(
  app: DeclaredApp,
  context: {
    name: string;
    configDir: string;
    configLabel: string;
    table: { schema: string; name: string };
  },
): StackApp {
  const at = (path: string) => (isAbsolute(path) ? path : resolve(context.configDir, path));
  const portals = Object.entries(app.portals).map(([name, p]): StackAppPortal => {
    if (p.command === undefined) {
      const url = p.url ?? '';
      return { name, localPort: 0, url, serve: () => Promise.reject(notServed(name, url)) };
    }
    const portal: CommandPortal = {
      name,
      command: p.command,
      cwd: at(p.cwd ?? '.'),
      url: p.url ?? DEFAULT_PORTAL_URL,
      env: p.env ?? {},
      timeoutMs: p.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      declaredAt: `${context.configLabel}: embedded.portals.${name}`,
    };
    return {
      name,
      localPort: p.localPort ?? 0,
      // Loaded only when a portal starts: configs are read by every Playwright worker.
      async serve(options: PortalServeOptions): Promise<ServedPortal> {
        const { serveCommandPortal } = await import('./serve-command.ts');
        return serveCommandPortal(portal, options);
      },
    };
  });
  return {
    name: context.name,
    supabaseDir: at(app.supabaseDir),
    ...(app.accessTokenHook ? { accessTokenHook: app.accessTokenHook } : {}),
    ...(app.realtime ? { realtime: app.realtime } : {}),
    table: context.table,
    portals,
  };
}

function notServed(name: string, url: string): Error {
  return new Error(
    `The ${name} portal is served by the team at ${url}; the stack has nothing to start for it.`,
  );
}
