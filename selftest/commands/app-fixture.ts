import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A team's app as the declarative `embedded` form sees it, in a temp folder: `supabase/` with one
 * migration, `app/server.mjs` (a static server that starts a grandchild, so stopping must take the
 * whole process group), and the matrix config beside them, naming both by relative paths.
 *
 * The page echoes what the command was given — its argv and its whole environment — so a test can
 * prove what reached the child and what did not.
 */
export const SERVER_SCRIPT = `
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
const grandchild = spawn(process.execPath, ['-e', 'setInterval(() => {}, 60000)'], { stdio: 'ignore' });
const seen = { argv: process.argv.slice(2), env: process.env, pids: [process.pid, grandchild.pid] };
createServer((req, res) => {
  const body = '<!doctype html><title>web</title><script id="seen" type="application/json">' +
    JSON.stringify(seen).replace(/</g, '\\\\u003c') + '</script>';
  res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
  res.end(body);
}).listen(Number(process.env.PORT), process.argv[2], () => console.log('listening on ' + process.env.PORT));
`;

export interface Seen {
  argv: string[];
  env: Record<string, string>;
  pids: number[];
}

export function seenIn(body: string): Seen {
  const json = /<script id="seen" type="application\/json">(.*?)<\/script>/s.exec(body)?.[1];
  if (!json) throw new Error(`The page echoes nothing: ${body.slice(0, 300)}`);
  return JSON.parse(json) as Seen;
}

export function writeTeamApp(embedded: string): { dir: string; configFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rtm-commands-'));
  mkdirSync(join(dir, 'supabase', 'migrations'), { recursive: true });
  writeFileSync(
    join(dir, 'supabase', 'migrations', '20250101000000_notes.sql'),
    `create table public.notes (id bigint generated always as identity primary key, body text not null,
       created_at timestamptz not null default now());
     alter table public.notes enable row level security;
     create policy "read notes" on public.notes for select to authenticated using (true);
     grant select on public.notes to authenticated;
     alter publication supabase_realtime add table public.notes;\n`,
  );
  mkdirSync(join(dir, 'app'));
  writeFileSync(join(dir, 'app', 'server.mjs'), SERVER_SCRIPT);
  const configFile = join(dir, 'rtm.config.ts');
  writeFileSync(
    configFile,
    `import { defineMatrix } from 'realtime-matrix';
export default defineMatrix({
  name: 'notes',
  table: { name: 'notes', tagColumn: 'body', createdAtColumn: 'created_at' },
  row: ({ runTag, label }) => ({ body: \`\${runTag} \${label}\` }),
  portals: {
    web: {
      urlKey: 'PORTAL_WEB_URL',
      user: { emailKey: 'USER_WEB_EMAIL' },
      signedIn: { url: /\\/notes$/ },
    },
  },
  embedded: ${embedded},
});
`,
  );
  return { dir, configFile };
}

/** The declarative section the boot test deploys. */
export const WEB_EMBEDDED = `{
    supabaseDir: './supabase',
    portals: {
      web: {
        command: 'node server.mjs {host} --label web-{port}',
        cwd: './app',
        env: { PORT: '{port}', VITE_SUPABASE_URL: '{supabaseUrl}', VITE_SUPABASE_ANON_KEY: '{anonKey}' },
        timeoutMs: 20000,
      },
    },
  }`;

/** Alive and not a zombie: kill(0) answers for zombies, which stay when PID 1 does not reap (containers). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
}

/** The process group of a live process, from /proc. */
export function processGroup(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
}
