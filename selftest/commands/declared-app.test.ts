import { rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadMatrixConfig, MatrixConfigError } from '../../fixtures/config/matrix-config.ts';
import { childEnv } from '../../stack/commands/child-env.ts';
import { substitute, unknownPlaceholders } from '../../stack/commands/substitute.ts';
import { WEB_EMBEDDED, writeTeamApp } from './app-fixture.ts';

// biome-ignore lint/suspicious/noTemplateCurlyInString: the shell's own syntax is what is tested.
const SHELL_VAR = '${HOME}';

/** The declarative `embedded` form without a stack: placeholders, the child's env, validation, conversion. */
describe('placeholders', () => {
  const values = {
    port: '4173',
    host: '127.0.0.1',
    supabaseUrl: 'https://api.prod.localhost:8443',
    anonKey: 'eyJ.a.b',
  };

  it('fills {port}, {host}, {supabaseUrl} and {anonKey}, every occurrence', () => {
    expect(substitute('npm run preview -- --host {host} --port {port} # {port}', values)).toBe(
      'npm run preview -- --host 127.0.0.1 --port 4173 # 4173',
    );
    expect(substitute('{supabaseUrl}|{anonKey}', values)).toBe('https://api.prod.localhost:8443|eyJ.a.b');
  });

  it("leaves the shell's own $-braces alone and names unknown ones", () => {
    expect(substitute(`echo ${SHELL_VAR} {port}`, values)).toBe(`echo ${SHELL_VAR} 4173`);
    expect(unknownPlaceholders(`echo ${SHELL_VAR} {port} {serviceRoleKey} {Port}`)).toEqual([
      'serviceRoleKey',
      'Port',
    ]);
  });
});

describe("the command's environment", () => {
  it('drops secret-like and Supabase variables of the parent, keeps the rest, declared values win', () => {
    const env = childEnv(
      {
        PATH: '/usr/bin',
        HOME: '/home/ci',
        SUPABASE_SERVICE_ROLE_KEY: 'x',
        PROD_SUPABASE_SERVICE_ROLE_KEY: 'x',
        LOCAL_CLIENT_PASSWORD: 'x',
        PROD_DATABASE_URL: 'x',
        PGPASSWORD: 'x',
        GITHUB_TOKEN: 'x',
        STRIPE_SECRET_KEY: 'x',
        OPENAI_API_KEY: 'x',
        NEXT_PUBLIC_SUPABASE_ANON_KEY: 'another deployment',
        RTM_RUNTIME_FILE: '/repo/.stack/runtime.json',
        NODE_ENV: 'test',
      },
      { VITE_SUPABASE_ANON_KEY: 'anon', PORT: '4173' },
    );
    expect(env).toEqual({
      PATH: '/usr/bin',
      HOME: '/home/ci',
      NODE_ENV: 'test',
      VITE_SUPABASE_ANON_KEY: 'anon',
      PORT: '4173',
    });
  });
});

describe('validation of the declarative form', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });
  async function problems(embedded: string): Promise<{ label: string; problems: string[] }> {
    const app = writeTeamApp(embedded);
    dirs.push(app.dir);
    const label = relative(process.cwd(), app.configFile);
    const error = await loadMatrixConfig(app.configFile).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(error instanceof MatrixConfigError))
      throw new Error(`expected a MatrixConfigError, got ${String(error)}`);
    return { label, problems: error.problems };
  }

  it('names the file and the key of a value of the wrong type', async () => {
    const { label, problems: found } = await problems(
      `{ supabaseDir: './supabase', portals: { web: { command: 42, timeoutMs: '60s', localPort: 70000, env: { PORT: 3 } } } }`,
    );
    expect(found).toEqual([
      `${label}: embedded.portals.web.command: must be a string (a shell command, e.g. "npm run preview -- --port {port}")`,
      `${label}: embedded.portals.web.env.PORT: must be a string (the value, placeholders allowed)`,
      `${label}: embedded.portals.web.timeoutMs: must be a number (milliseconds)`,
      `${label}: embedded.portals.web.localPort: must be a port number from 1 to 65535`,
    ]);
  });

  it('refuses unknown keys, a missing supabaseDir and an access token hook of another shape', async () => {
    const { label, problems: found } = await problems(
      `{ accessTokenHook: 'custom_access_token_hook', portals: { web: { command: 'x {port}', comand: 'typo' } } }`,
    );
    expect(found).toEqual([
      `${label}: embedded.supabaseDir: must be a string (the app's supabase/ folder, relative to the config file)`,
      `${label}: embedded.accessTokenHook: must be "pg-functions://postgres/<schema>/<function>", as config.toml names it`,
      `${label}: embedded.portals.web: Unrecognized key: "comand"`,
    ]);
  });

  it('checks placeholders, the port, and that every portal is deployed', async () => {
    const { label, problems: found } = await problems(
      `{ supabaseDir: './supabase', portals: { web: { command: 'vite preview', url: 'http://localhost:5173/', env: { KEY: '{serviceRoleKey}' } }, admin: { url: 'http://localhost:3000' } } }`,
    );
    expect(found).toEqual([
      `${label}: embedded.portals.admin: the config declares no portal "admin" (it declares web)`,
      `${label}: embedded.portals.web.env.KEY: unknown placeholder {serviceRoleKey} (known: {port}, {host}, {supabaseUrl}, {anonKey})`,
      `${label}: embedded.portals.web.command: must listen on the port the stack gives it, as {port} in the command or an env value (e.g. "npm run preview -- --port {port}", or env PORT: '{port}'): it runs once per environment`,
      `${label}: embedded.portals.web.url: must contain {port} (it is the command's address, e.g. "http://localhost:{port}/")`,
    ]);
    const missing = await problems(`{ supabaseDir: './supabase', portals: {} }`);
    expect(missing.problems).toEqual([
      `${missing.label}: embedded.portals: must deploy every portal of the config; missing web (give each a command, or the url it is served at)`,
    ]);
  });

  it('a url without a command is a portal the team serves: nothing else applies', async () => {
    const { label, problems: found } = await problems(
      `{ supabaseDir: './supabase', portals: { web: { url: 'http://localhost:{port}', cwd: './app' } } }`,
    );
    expect(found).toEqual([
      `${label}: embedded.portals.web.url: without a command it is where the portal already runs, so it takes no placeholders`,
      `${label}: embedded.portals.web.cwd: only applies with a command`,
    ]);
  });
});

describe('conversion into a StackApp', () => {
  it('paths relative to the config file, the name and table from the matrix config, no seeded users', async () => {
    const app = writeTeamApp(WEB_EMBEDDED);
    try {
      const config = await loadMatrixConfig(app.configFile);
      const stackApp = config.embedded!;
      expect(stackApp.name).toBe('notes');
      expect(stackApp.supabaseDir).toBe(join(app.dir, 'supabase'));
      expect(stackApp.table).toEqual({ schema: 'public', name: 'notes' });
      expect(stackApp.accessTokenHook).toBeUndefined();
      expect(stackApp.localSeedUsers).toBeUndefined();
      expect(stackApp.mechanisms).toBeUndefined();
      expect(stackApp.portals.map((p) => [p.name, p.localPort, p.seedEmail, p.url])).toEqual([
        ['web', 0, undefined, undefined],
      ]);
    } finally {
      rmSync(app.dir, { recursive: true, force: true });
    }
  });

  it('a url-only portal keeps its URL and is never served', async () => {
    const app = writeTeamApp(
      `{ supabaseDir: '/abs/supabase', accessTokenHook: 'pg-functions://postgres/public/hook', portals: { web: { url: 'http://localhost:5173/' } } }`,
    );
    try {
      const stackApp = (await loadMatrixConfig(app.configFile)).embedded!;
      expect(stackApp.supabaseDir).toBe('/abs/supabase');
      expect(stackApp.accessTokenHook).toBe('pg-functions://postgres/public/hook');
      expect(stackApp.portals[0]?.url).toBe('http://localhost:5173/');
    } finally {
      rmSync(app.dir, { recursive: true, force: true });
    }
  });
});
