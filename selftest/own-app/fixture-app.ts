import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * A team's app as README "Test your own app" meets it, in a folder of its own with no package.json:
 * `supabase/migrations` (a bigint-identity-keyed `notes` table, RLS with a SELECT policy for
 * authenticated, published in supabase_realtime), and `server.mjs`, the command that serves its one
 * page. The page signs in with a labelled email/password form, says "Signed in as <email>", and
 * subscribes to postgres_changes on `notes` with the session, as a supabase-js app does.
 *
 * The server records its pid and its helper process's pid in `pids.log` (the helper stands for a dev
 * server's watcher or esbuild service: a grandchild of the stack), so a test can prove none is left.
 * Its script comes from a file, not an inline <script>: the prod-like edge serves the page with a CSP
 * whose script-src is 'self', as a real host does.
 */
export const MIGRATION = `create table public.notes (
  id bigint generated always as identity primary key,
  body text,
  created_at timestamptz not null default now()
);
alter table public.notes enable row level security;
create policy "signed-in users read notes" on public.notes for select to authenticated using (true);
grant select on public.notes to authenticated;
alter publication supabase_realtime add table public.notes;
`;

const SERVER = `import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { host: { type: 'string' }, port: { type: 'string' } } });
const helper = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore' });
// pid, process group (field 5 of /proc/self/stat) and role, read while alive.
const stat = readFileSync('/proc/self/stat', 'utf8');
const pgid = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2];
appendFileSync('pids.log', process.pid + ' ' + pgid + ' server\\n' + helper.pid + ' ' + pgid + ' helper\\n');

const url = process.env.VITE_SUPABASE_URL;
const key = process.env.VITE_SUPABASE_ANON_KEY;
if (!url || !key) throw new Error('VITE_SUPABASE_URL and VITE_SUPABASE_ANON_KEY must be set');
const attr = (s) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;');
const page = readFileSync(new URL('./index.html', import.meta.url), 'utf8')
  .replace('__URL__', attr(url)).replace('__KEY__', attr(key));
const files = {
  '/': ['text/html; charset=utf-8', page],
  '/app.js': ['text/javascript', readFileSync(new URL('./app.js', import.meta.url))],
  '/vendor/supabase.js': ['text/javascript', readFileSync(new URL('./vendor/supabase.js', import.meta.url))],
};
createServer((req, res) => {
  const file = files[new URL(req.url, 'http://x').pathname];
  if (!file) { res.writeHead(404).end('not found'); return; }
  res.writeHead(200, { 'Content-Type': file[0] }).end(file[1]);
}).listen(Number(values.port), values.host, () => console.log('notes on ' + values.host + ':' + values.port));
`;

const INDEX = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Notes</title>
  <meta name="supabase-url" content="__URL__">
  <meta name="supabase-anon-key" content="__KEY__">
  <script src="/vendor/supabase.js"></script>
  <script src="/app.js" defer></script>
</head>
<body>
  <form id="sign-in">
    <label for="email">Email</label> <input id="email" type="email" autocomplete="username">
    <label for="password">Password</label> <input id="password" type="password" autocomplete="current-password">
    <button type="submit">Sign in</button>
    <p id="error" role="alert" hidden></p>
  </form>
  <p id="who" hidden></p>
  <p id="status"></p>
  <ul id="notes" aria-label="Notes"></ul>
</body>
</html>
`;

const APP = `const meta = (name) => document.querySelector('meta[name="' + name + '"]').content;
const client = supabase.createClient(meta('supabase-url'), meta('supabase-anon-key'));
const $ = (id) => document.getElementById(id);

$('sign-in').addEventListener('submit', async (event) => {
  event.preventDefault();
  const { data, error } = await client.auth.signInWithPassword({
    email: $('email').value,
    password: $('password').value,
  });
  if (error) {
    $('error').textContent = error.message;
    $('error').hidden = false;
    return;
  }
  $('sign-in').hidden = true;
  $('who').textContent = 'Signed in as ' + data.user.email;
  $('who').hidden = false;
  // After sign-in: supabase-js has handed the session to realtime, so the join carries the user's JWT.
  client
    .channel('notes')
    .on('postgres_changes', { event: '*', schema: 'public', table: 'notes' }, (change) => {
      if (change.eventType !== 'INSERT') return;
      const li = document.createElement('li');
      li.textContent = change.new.body;
      $('notes').append(li);
    })
    .subscribe((status) => {
      $('status').textContent = 'Realtime: ' + status;
    });
});
`;

export interface FixtureApp {
  /** The app's root: no package.json, as the config init writes there must load without one. */
  dir: string;
  supabaseDir: string;
  pidsFile: string;
}

export function writeFixtureApp(dir: string): FixtureApp {
  const supabaseDir = join(dir, 'supabase');
  mkdirSync(join(supabaseDir, 'migrations'), { recursive: true });
  writeFileSync(join(supabaseDir, 'migrations', '20260301000000_notes.sql'), MIGRATION);
  writeFileSync(join(dir, 'server.mjs'), SERVER);
  writeFileSync(join(dir, 'index.html'), INDEX);
  writeFileSync(join(dir, 'app.js'), APP);
  // The app ships the supabase-js browser build, as a built app bundles it.
  const require = createRequire(import.meta.url);
  const umd = join(dirname(require.resolve('@supabase/supabase-js/package.json')), 'dist/umd/supabase.js');
  mkdirSync(join(dir, 'vendor'));
  copyFileSync(umd, join(dir, 'vendor', 'supabase.js'));
  return { dir, supabaseDir, pidsFile: join(dir, 'pids.log') };
}

/** The processes the app's command recorded (server and helper, per start), with their group. */
export function recordedPids(app: FixtureApp): { pid: number; pgid: number; role: string }[] {
  let text: string;
  try {
    text = readFileSync(app.pidsFile, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [pid, pgid, role] = line.split(' ');
      return { pid: Number(pid), pgid: Number(pgid), role: role! };
    });
}
