import { isAbsolute, relative, sep } from 'node:path';
import { LOCAL_API_PORT } from '../../stack/config.ts';
import { DEMO } from '../../stack/keys.ts';
import { describeKinds } from './choose-table.ts';
import type { Proposal } from './propose.ts';

/** The files init writes, by path relative to the output folder. */
export type Rendered = Record<string, string>;

export const CONFIG_FILE = 'realtime-matrix.config.ts';
export const LOCAL_ENV_FILE = 'environments/local.env';
/**
 * Not `prod.env`: the matrix makes an environment of every `<env>.env` in the folder and validates
 * it at load, so a commented-out prod.env would stop every run with "TARGET_KIND is required".
 */
export const PROD_ENV_EXAMPLE_FILE = 'environments/prod.env.example';

export const OUTPUT_FILES = [CONFIG_FILE, LOCAL_ENV_FILE, PROD_ENV_EXAMPLE_FILE] as const;

export interface RenderInput {
  /** The app's name: reports and the stack's boot summary show it. */
  name: string;
  proposal: Proposal;
  /** Absolute paths, to write the Supabase folder relative to the config. */
  outDir: string;
  supabaseDir: string;
  /** config.toml's custom access token hook, when enabled (`pg-functions://…`). */
  accessTokenHook?: string;
}

const PORTAL = 'web';
const PORTAL_KEYS = {
  url: 'PORTAL_WEB_URL',
  email: 'USER_WEB_EMAIL',
  passwordVar: 'USER_WEB_PASSWORD_VAR',
} as const;
const LOCAL_PORTAL_URL = 'http://localhost:3000';

export function render(input: RenderInput): Rendered {
  return {
    [CONFIG_FILE]: renderConfig(input),
    [LOCAL_ENV_FILE]: renderLocalEnv(input),
    [PROD_ENV_EXAMPLE_FILE]: renderProdEnv(input),
  };
}

const q = (s: string) => `'${s.replace(/[\\']/g, '\\$&')}'`;

function renderConfig({ name, proposal, outDir, supabaseDir, accessTokenHook }: RenderInput): string {
  const { table, tag, createdAtColumn, factory, primaryKey, warnings } = proposal;
  const usesUser = factory.some((c) => /\buser\b/.test(c.value));
  // Beside the config: a path relative to it, so the app's folder can move; elsewhere: absolute.
  const inside = relative(outDir, supabaseDir);
  const supabaseDirSource =
    inside && !inside.startsWith('..') && !isAbsolute(inside)
      ? `fileURLToPath(new URL(${q(`./${inside.split(sep).join('/')}/`)}, import.meta.url))`
      : q(supabaseDir);
  const lines: string[] = [
    ...(supabaseDirSource.startsWith('fileURLToPath') ? [`import { fileURLToPath } from 'node:url';`] : []),
    `import { defineMatrix } from 'realtime-matrix';`,
    '',
    '/**',
    ` * The realtime-matrix config of ${name}, first written by \`npm run init\` from its Supabase folder.`,
    ` * Run the matrix from the realtime-matrix checkout: RTM_CONFIG=<this file> npx playwright test`,
    ' * Fill in the TODOs: the row factory (a row the portal user may see) and how the portal shows that',
    ' * it signed in. README "Test your own app" describes every key.',
    ...(warnings.length
      ? [
          ' *',
          ' * Before the first run:',
          ...warnings.flatMap((w) => [
            ...wrap(`- ${w.text}`, ' * ', ' *   '),
            ...(w.sql ? [` *     ${w.sql}`] : []),
          ]),
        ]
      : []),
    ' */',
    'export default defineMatrix({',
    `  name: ${q(name)},`,
    '  // Beside this file: one <env>.env per environment (local.env is the embedded stack; copy',
    '  // prod.env.example to prod.env to test a real deployment).',
    `  environmentsDir: 'environments',`,
    ...wrap(`The table the cells watch: ${describeKinds(table.kinds)}.`, '  // ', '  // '),
    '  table: {',
    `    schema: ${q(table.schema)},`,
    `    name: ${q(table.name)},`,
    '    // Its primary key, from the catalog: each realtime event is matched to the inserted row by it.',
    `    primaryKey: [${primaryKey.map(q).join(', ')}],`,
    ...(tag.added
      ? [
          `    // TODO: ${table.schema}.${table.name} has no text column the run tag fits in; add this one in a`,
          `    // migration: ${tag.sql}`,
        ]
      : [
          '    // A text column each inserted row carries the run tag in; leftovers of a killed run are swept by it.',
        ]),
    `    tagColumn: ${q(tag.column)},`,
    ...(createdAtColumn
      ? [
          '    // Filled by the database on insert: the sweeper removes only tagged rows older than the run,',
          "    // so two runs against one project never delete each other's rows.",
          `    createdAtColumn: ${q(createdAtColumn)},`,
        ]
      : [
          '    // No timestamp column filled by default (e.g. created_at timestamptz default now()); with one,',
          '    // set createdAtColumn so the sweeper leaves rows of runs in progress alone.',
        ]),
    '  },',
    "  // One row the portal's user may see under your RLS policies, inserted with the service role for",
    `  // each sample. runTag must go in ${tag.column}. The columns below are NOT NULL without a default.`,
    `  row: ({ ${usesUser ? 'user, ' : ''}portal, env, runTag, label }) => ({`,
    `    ${tag.column}: \`\${runTag} \${portal}-\${env} \${label}\`,`,
    ...factory.flatMap((c) => [
      ...wrap(`TODO ${c.todo}`, '    // ', '    // '),
      `    ${c.name}: ${c.value},`,
    ]),
    '  }),',
    '  portals: {',
    '    // A portal is a web app of yours that the matrix opens in Chromium, signs in to as a test user,',
    `    // and watches for the row it inserts. One entry per portal; the cells are <portal>-<env> (${PORTAL}-local).`,
    `    ${PORTAL}: {`,
    "      // The env-file key holding this portal's URL.",
    `      urlKey: '${PORTAL_KEYS.url}',`,
    '      // The env-file keys of the user the matrix signs in as: its email, and the NAME of the variable',
    '      // that holds its password (never the password). The matrix creates the user when missing.',
    "      // Add appMetadata: { role: 'member' } if your RLS or portal reads the user's app_metadata.",
    `      user: { emailKey: '${PORTAL_KEYS.email}', passwordVarKey: '${PORTAL_KEYS.passwordVar}' },`,
    '      // The sign-in page, relative to the portal URL. The form is found by its labels (/e-?mail/i,',
    '      // /password/i) and a "Sign in" or "Log in" button; give email, password or submit as',
    "      // (page) => Locator where yours differ. SSO only? { strategy: 'api', path: '/' } signs in from",
    '      // Node and hands the session to the page.',
    `      signIn: { strategy: 'ui', path: '/' },`,
    '      // TODO: how your portal shows that the user is signed in: a URL it goes to (url: /\\/dashboard$/)',
    '      // and/or an element only a signed-in user sees. When both are given, both must hold.',
    `      signedIn: { locator: (page) => page.getByRole('button', { name: /sign out|log out/i }) },`,
    '      // Optional: the new row as the page shows it, checked once its event arrived.',
    `      // shows: (page, row) => page.getByText(String(row['${tag.column}'])),`,
    '    },',
    '  },',
    '  // How the embedded stack deploys this app for TARGET_KIND=embedded environments: a',
    `  // Supabase-compatible project on http://127.0.0.1:${LOCAL_API_PORT} with this Supabase folder's migrations`,
    '  // and seed. It serves none of your portals: start yours on PORTAL_WEB_URL (environments/local.env),',
    '  // pointed at that URL and anon key, or give the stack a server per portal (stack/app.ts).',
    '  embedded: {',
    `    name: ${q(name)},`,
    `    supabaseDir: ${supabaseDirSource},`,
    ...(accessTokenHook ? [`    accessTokenHook: ${q(accessTokenHook)},`] : []),
    `    table: { schema: ${q(table.schema)}, name: ${q(table.name)} },`,
    '    portals: [],',
    '  },',
    '});',
    '',
  ];
  return lines.join('\n');
}

function renderLocalEnv({ name }: RenderInput): string {
  return [
    `# ${name}'s "local" environment: the embedded stack on this machine, serving the app's Supabase`,
    '# folder (RTM_CONFIG=<config> npm run stack; the matrix starts it when it is not running).',
    '# Committed, so no secrets: the anon key is the public `supabase start` demo key. Override per',
    '# machine in local.local.env (gitignored), or with LOCAL_<KEY> variables.',
    'TARGET_KIND=embedded',
    `SUPABASE_URL=http://127.0.0.1:${LOCAL_API_PORT}`,
    `SUPABASE_ANON_KEY=${DEMO.anonKey}`,
    '',
    '# Your portal, started by you and pointed at SUPABASE_URL with SUPABASE_ANON_KEY.',
    `${PORTAL_KEYS.url}=${LOCAL_PORTAL_URL}`,
    '',
    `${PORTAL_KEYS.email}=${PORTAL}@${slug(name)}.test`,
    '# The NAME of the variable holding the password. When it is not set, the matrix derives the',
    "# password from the embedded project's service-role key and creates the user itself.",
    `${PORTAL_KEYS.passwordVar}=LOCAL_${PORTAL.toUpperCase()}_PASSWORD`,
    '',
    '# The embedded stack streams changes from a logical replication slot: an event is late past this.',
    'LATENCY_BUDGET_MS=1000',
    'READY_TIMEOUT_MS=15000',
    '',
  ].join('\n');
}

function renderProdEnv({ name }: RenderInput): string {
  return [
    `# ${name}'s "prod" environment, for a real deployment. Copy this file to prod.env and uncomment it:`,
    '# the matrix makes an environment of every <env>.env here and validates it when it loads.',
    '# Committed, so no secrets: export PROD_SUPABASE_SERVICE_ROLE_KEY (the matrix inserts its rows with',
    '# it) and the variable USER_WEB_PASSWORD_VAR names, e.g. from CI secrets. Then create the user:',
    '#   RTM_CONFIG=<config> npm run seed -- --env prod',
    '#',
    '# TARGET_KIND=external',
    '# SUPABASE_URL=https://<project-ref>.supabase.co',
    '# SUPABASE_ANON_KEY=<anon or publishable key>',
    `# ${PORTAL_KEYS.url}=https://app.example.com`,
    `# ${PORTAL_KEYS.email}=rtm-${PORTAL}@example.com`,
    `# ${PORTAL_KEYS.passwordVar}=PROD_${PORTAL.toUpperCase()}_PASSWORD`,
    '# LATENCY_BUDGET_MS=2000',
    '# READY_TIMEOUT_MS=20000',
    '',
  ].join('\n');
}

function slug(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '') || 'app'
  );
}

/** Comment text wrapped at ~100 columns. */
function wrap(text: string, first: string, rest: string, width = 104): string[] {
  const out: string[] = [];
  let line = first;
  for (const word of text.split(/\s+/)) {
    const prefix = out.length === 0 ? first : rest;
    if (line.length > prefix.length && line.length + 1 + word.length > width) {
      out.push(line);
      line = rest + word;
    } else line += (line.length > prefix.length ? ' ' : '') + word;
  }
  out.push(line);
  return out;
}
