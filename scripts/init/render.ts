import { dirname, isAbsolute, relative, sep } from 'node:path';
import { LOCAL_API_PORT, PROD_DOMAIN, PROD_EDGE_PORT } from '../../stack/config.ts';
import { DEMO } from '../../stack/keys.ts';
import { describeKinds } from './choose-table.ts';
import type { Proposal } from './propose.ts';

/** The files init writes, by path relative to the output folder. */
export type Rendered = Record<string, string>;

export const CONFIG_FILE = 'realtime-matrix.config.ts';
export const LOCAL_ENV_FILE = 'environments/local.env';
/**
 * The embedded production-like deployment (the same portal command behind the HTTPS edge, with the
 * prod project's own keys, CSP and origin allow-list). A real deployment replaces it by values in
 * prod.local.env, as its comments show: no second file the matrix would take for an environment.
 */
export const PROD_ENV_FILE = 'environments/prod.env';

export const OUTPUT_FILES = [CONFIG_FILE, LOCAL_ENV_FILE, PROD_ENV_FILE] as const;

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
/** The port browsers open the portal on locally: the stack's proxy in front of the command. */
export const LOCAL_PORTAL_PORT = 3000;
const LOCAL_PORTAL_URL = `http://localhost:${LOCAL_PORTAL_PORT}`;
const PROD_PORTAL_URL = `https://${PORTAL}.${PROD_DOMAIN}:${PROD_EDGE_PORT}`;
const PROD_API_URL = `https://api.${PROD_DOMAIN}:${PROD_EDGE_PORT}`;
/** A Vite app's dev server; `--host {host}`: Vite listens on `localhost`, which may be ::1 only. */
export const PORTAL_COMMAND = 'npm run dev -- --host {host} --port {port}';

export function render(input: RenderInput): Rendered {
  return {
    [CONFIG_FILE]: renderConfig(input),
    [LOCAL_ENV_FILE]: renderLocalEnv(input),
    [PROD_ENV_FILE]: renderProdEnv(input),
  };
}

const q = (s: string) => `'${s.replace(/[\\']/g, '\\$&')}'`;

function renderConfig({ name, proposal, outDir, supabaseDir, accessTokenHook }: RenderInput): string {
  const { table, tag, createdAtColumn, factory, primaryKey, warnings } = proposal;
  const usesUser = factory.some((c) => /\buser\b/.test(c.value));
  const lines: string[] = [
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
    '  // Beside this file: one <env>.env per environment (local.env and prod.env: the embedded stack;',
    '  // prod.local.env points prod at your real deployment, as prod.env says).',
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
    ...renderChanges(proposal),
    '  // The operations each cell proves arrive (default INSERT only): the matrix then updates and deletes',
    "  // its row, each change matched by the row's key.",
    "  // operations: ['INSERT', 'UPDATE', 'DELETE'],",
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
    '  // How the embedded stack deploys this app where TARGET_KIND=embedded (local.env, prod.env): a',
    "  // Supabase-compatible project with this Supabase folder's migrations and seed, and each portal",
    "  // started from its command once per environment, with that environment's URL and anon key.",
    '  embedded: {',
    `    supabaseDir: ${q(relativeTo(outDir, supabaseDir))},`,
    ...(accessTokenHook ? [`    accessTokenHook: ${q(accessTokenHook)},`] : []),
    '    portals: {',
    `      ${PORTAL}: {`,
    '        // TODO: the command that serves your app on {port} (a free port, one per environment) at',
    '        // {host} (127.0.0.1). It runs through /bin/sh in cwd, in its own process group; the stack',
    '        // stops the whole group when the run ends or is interrupted.',
    `        command: ${q(PORTAL_COMMAND)},`,
    "        // Your app's folder, relative to this file.",
    `        cwd: ${q(relativeTo(outDir, dirname(supabaseDir)))},`,
    "        // TODO: the variables your app reads its Supabase URL and anon key from (Vite's names here).",
    '        // It gets the anon key only: no service-role key or other secret reaches the command.',
    "        env: { VITE_SUPABASE_URL: '{supabaseUrl}', VITE_SUPABASE_ANON_KEY: '{anonKey}' },",
    `        // Browsers open it on ${LOCAL_PORTAL_URL} (${PORTAL_KEYS.url} in environments/local.env); in prod`,
    `        // on ${PROD_PORTAL_URL}, behind the HTTPS edge with a CSP and an origin allow-list.`,
    `        localPort: ${LOCAL_PORTAL_PORT},`,
    '      },',
    '    },',
    '  },',
    '});',
    '',
  ];
  return lines.join('\n');
}

/** The `changes` section: none for postgres_changes (the default), the Broadcast otherwise. */
function renderChanges({ table, changes, factory, tag }: Proposal): string[] {
  if (changes.kind === 'postgres_changes') return [];
  const { proposal: b } = changes;
  const lines = wrap(
    `${table.schema}.${table.name} reaches clients as Broadcast from Database, not postgres_changes: trigger ${changes.trigger} runs ${changes.fn}, which calls ${changes.calls}. A cell proves the broadcast arrives on the topic the portal joins.`,
    '  // ',
    '  // ',
  );
  const made = new Set([tag.column, ...factory.map((c) => c.name)]);
  let topic: string;
  let todo: string;
  if (b.topic?.kind === 'constant') {
    topic = `() => ${q(b.topic.value)}`;
    todo = `TODO: check this is the topic your portal joins: the trigger sends to ${b.expression}.`;
  } else if (b.topic?.kind === 'column') {
    topic = `({ row }) => \`${b.topic.prefix.replace(/[`\\]|\$\{/g, '\\$&')}\${row['${b.topic.column}']}\``;
    todo = `TODO: check this is the topic your trigger computes (${b.expression}) as your portal passes it to supabase.channel().${
      made.has(b.topic.column)
        ? ''
        : ` The row factory must set ${b.topic.column}: topic() sees the factory's values, not the database's defaults.`
    }`;
  } else {
    topic = `() => 'TODO'`;
    todo = `TODO: return the topic the trigger computes for the row (${b.expression ?? `see ${changes.fn}`}), as your portal passes it to supabase.channel(): ({ row, user }) => \`room:\${row['room_id']}\`.`;
  }
  lines.push(
    '  changes: {',
    "    kind: 'broadcast',",
    ...wrap(todo, '    // ', '    // '),
    `    topic: ${topic},`,
  );
  if (b.event !== undefined) lines.push('    // The event the trigger sends.', `    event: ${q(b.event)},`);
  else if (changes.calls === 'realtime.broadcast_changes')
    lines.push(
      '    // broadcast_changes names each message after its operation (INSERT, UPDATE, DELETE): the default.',
    );
  else lines.push("    // TODO: the event the trigger sends, if not 'INSERT': event: '…',");
  if (b.private !== undefined)
    lines.push(
      `    // ${b.private ? "Private: joined with the user's token and authorized by RLS on realtime.messages." : 'Public: the trigger sends with private = false.'}`,
      `    private: ${b.private},`,
    );
  else
    lines.push(
      "    // TODO: private: true when the trigger sends private messages (realtime.send's 4th argument).",
    );
  lines.push(
    '  },',
    "  // Who writes the rows: 'user' writes as the portal's user through REST, as your app does, and so",
    '  // catches a trigger function that is not security definer. Default: the service role.',
    "  // writeAs: 'user',",
  );
  return lines;
}

/**
 * A path as the config names it: relative to the config's folder (the declarative form resolves it
 * so) when that is within one level up, so the app and its config can move together; else absolute.
 */
function relativeTo(outDir: string, path: string): string {
  const rel = relative(outDir, path).split(sep).join('/');
  if (rel === '') return '.';
  if (rel.startsWith('../..') || isAbsolute(rel)) return path;
  return rel.startsWith('..') ? rel : `./${rel}`;
}

function userLines(name: string, env: 'LOCAL' | 'PROD'): string[] {
  return [
    `${PORTAL_KEYS.email}=${PORTAL}@${slug(name)}.test`,
    '# The NAME of the variable holding the password. When it is not set, the matrix derives the',
    "# password from the embedded project's service-role key and creates the user itself.",
    `${PORTAL_KEYS.passwordVar}=${env}_${PORTAL.toUpperCase()}_PASSWORD`,
  ];
}

function renderLocalEnv({ name }: RenderInput): string {
  return [
    `# ${name}'s "local" environment: the embedded stack on this machine, serving the app's Supabase`,
    '# folder and its portal command (the matrix starts it when it is not running; RTM_CONFIG=<config>',
    '# npm run stack keeps one running). Committed, so no secrets: the anon key is the public',
    '# `supabase start` demo key. Override per machine in local.local.env (gitignored), or with LOCAL_<KEY>',
    '# variables.',
    'TARGET_KIND=embedded',
    `SUPABASE_URL=http://127.0.0.1:${LOCAL_API_PORT}`,
    `SUPABASE_ANON_KEY=${DEMO.anonKey}`,
    '',
    `# embedded.portals.${PORTAL}.localPort in the config: the stack serves your portal's command here.`,
    `${PORTAL_KEYS.url}=${LOCAL_PORTAL_URL}`,
    '',
    ...userLines(name, 'LOCAL'),
    '',
    '# The embedded stack streams changes from a logical replication slot: an event is late past this.',
    'LATENCY_BUDGET_MS=1000',
    'READY_TIMEOUT_MS=15000',
    '',
  ].join('\n');
}

function renderProdEnv({ name }: RenderInput): string {
  return [
    `# ${name}'s "prod" environment. By default the embedded production-like deployment: a second project`,
    '# with its own JWT secret and keys (made at boot; the matrix reads them from .stack/runtime.json), and',
    '# your portal started again with them, behind the HTTPS edge with a CSP and an origin allow-list.',
    '#',
    '# To test your real deployment instead, put the values in prod.local.env (gitignored; they override',
    '# these) and export the secrets, e.g. from CI (committed files never hold one):',
    '#   TARGET_KIND=external',
    '#   SUPABASE_URL=https://<project-ref>.supabase.co',
    '#   SUPABASE_ANON_KEY=<anon or publishable key>',
    `#   ${PORTAL_KEYS.url}=https://app.example.com`,
    `#   ${PORTAL_KEYS.email}=rtm-${PORTAL}@example.com`,
    `#   export PROD_SUPABASE_SERVICE_ROLE_KEY=… PROD_${PORTAL.toUpperCase()}_PASSWORD=…`,
    '#   RTM_CONFIG=<config> npm run seed -- --env prod    # creates the user',
    'TARGET_KIND=embedded',
    `SUPABASE_URL=${PROD_API_URL}`,
    '',
    `${PORTAL_KEYS.url}=${PROD_PORTAL_URL}`,
    '',
    ...userLines(name, 'PROD'),
    '',
    '# Over TLS through the edge, as a hosted project is reached.',
    'LATENCY_BUDGET_MS=2000',
    'READY_TIMEOUT_MS=20000',
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
