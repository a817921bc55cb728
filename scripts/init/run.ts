import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chooseTable } from './choose-table.ts';
import { InitError } from './errors.ts';
import { type AppSchema, type InspectOptions, inspectSupabaseDir } from './inspect.ts';
import { type Proposal, propose } from './propose.ts';
import { CONFIG_FILE, OUTPUT_FILES, render } from './render.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface InitOptions {
  /** Absolute path of the app's Supabase folder. */
  supabaseDir: string;
  /** Absolute path of the folder to write into; default: the Supabase folder's parent. */
  outDir?: string;
  /** `schema.name` (or `name`, in public). */
  table?: string;
  /** Overwrite files that exist. */
  force?: boolean;
  inspect?: InspectOptions;
}

export interface InitResult {
  app: AppSchema;
  proposal: Proposal;
  name: string;
  outDir: string;
  /** Absolute paths written, the config first. */
  written: string[];
  /** What to run next, from the realtime-matrix checkout. */
  next: string[];
}

/** `npm run init`: inspect the Supabase folder, choose the table, write the config and env files. */
export async function runInit(options: InitOptions): Promise<InitResult> {
  const supabaseDir = resolve(options.supabaseDir);
  const outDir = resolve(options.outDir ?? dirname(supabaseDir));
  const files = (name: string) => join(outDir, name);
  // Refuse before the minutes of booting Postgres, not after.
  const planned = OUTPUT_FILES.map(files);
  refuseOverwrite(planned, options.force ?? false);

  const app = await inspectSupabaseDir(supabaseDir, options.inspect);
  const proposal = propose(chooseTable(app, options.table));
  const name = appName(outDir);
  const hook = accessTokenHook(supabaseDir);
  const rendered = render({
    name,
    proposal,
    outDir,
    supabaseDir,
    ...(hook ? { accessTokenHook: hook } : {}),
  });
  const written: string[] = [];
  for (const [file, text] of Object.entries(rendered)) {
    const path = files(file);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    written.push(path);
  }
  const configFile = files(CONFIG_FILE);
  const inRepo = !relative(ROOT, configFile).startsWith('..');
  const rtmConfig = `RTM_CONFIG=${inRepo ? relative(ROOT, configFile) : configFile}`;
  const next = [
    `Fill in the TODOs in ${configFile}: the portal's command and env (embedded.portals.web), how it shows it signed in (portals.web.signedIn), and the row factory's values.`,
    `${rtmConfig} npx playwright test --list   # the cells: web-local, web-prod`,
    `${rtmConfig} npx playwright test          # starts the stack with your migrations and your portal in both environments; the report is in matrix-report/`,
  ];
  return { app, proposal, name, outDir, written, next };
}

function refuseOverwrite(paths: string[], force: boolean): void {
  const existing = paths.filter((p) => existsSync(p));
  if (existing.length && !force) {
    throw new InitError(
      'FILE_EXISTS',
      `Not overwriting ${existing.join(', ')}. Pass --force to replace ${existing.length > 1 ? 'them' : 'it'}, or --out <dir> to write elsewhere.`,
    );
  }
}

/** The folder's package.json name, else the folder's name. */
function appName(outDir: string): string {
  const pkg = join(outDir, 'package.json');
  if (existsSync(pkg)) {
    const name = (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name;
    if (typeof name === 'string' && name) return name.replace(/^@[^/]+\//, '');
  }
  return basename(outDir);
}

/** `[auth.hook.custom_access_token]` of config.toml, when enabled: the stack then runs it too. */
export function accessTokenHook(supabaseDir: string): string | undefined {
  const file = join(supabaseDir, 'config.toml');
  if (!existsSync(file)) return undefined;
  const section = /^\[auth\.hook\.custom_access_token\]\s*$([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(
    readFileSync(file, 'utf8'),
  )?.[1];
  if (!section || !/^\s*enabled\s*=\s*true\b/m.test(section)) return undefined;
  return /^\s*uri\s*=\s*"(pg-functions:\/\/[^"]+)"/m.exec(section)?.[1];
}
