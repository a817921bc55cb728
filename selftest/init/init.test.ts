import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMatrixConfig, portalEnvKeys } from '../../fixtures/config/matrix-config.ts';
import { environmentNames, loadEnvironment } from '../../fixtures/env/load.ts';
import { InitError, type InitErrorCode } from '../../scripts/init/errors.ts';
import { type InitOptions, runInit } from '../../scripts/init/run.ts';
import { freePort } from '../../stack/ports.ts';
import { type Cluster, startCluster } from '../../stack/postgres/cluster.ts';
import { ROOT, tempDirs, typeErrors, writeApp } from './support.ts';

/**
 * `npm run init` against real Postgres: one cluster for the file, a fresh database per run (the CLI
 * boots a cluster of its own per run; two tests below drive it end to end that way).
 */
const dirs = tempDirs();
let cluster: Cluster;
let databases = 0;

beforeAll(async () => {
  cluster = await startCluster({ port: await freePort() });
});
afterAll(async () => {
  await cluster?.stop();
  dirs.cleanup();
});

function init(options: InitOptions) {
  return runInit({ ...options, inspect: { cluster, database: `init_${++databases}` } });
}

async function initError(options: InitOptions): Promise<InitError> {
  const error = await init(options).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof InitError)) throw new Error(`expected an InitError, got ${String(error)}`);
  return error;
}

function expectCode(error: InitError, code: InitErrorCode) {
  expect(error.code, error.message).toBe(code);
}

/** tsc reads @playwright/test's types and the repo's config modules: seconds, more on a busy machine. */
const TSC_TIMEOUT = 120_000;
const CHAT = join(ROOT, 'examples/chat/supabase');
const RUN = { user: { id: 'user-1', email: 'web@x.test' }, portal: 'web', env: 'local', label: 'sample 1/1' };

describe('init on examples/chat', () => {
  it(
    'proposes public.messages keyed by id, tagged in body, swept by created_at; the config loads and type-checks',
    async () => {
      // Two levels below the temp dir: the checkout is then never "within one level up" of the
      // output folder (a checkout under the temp dir, as CI's may be, would be named relatively).
      const out = join(dirs.make('chat'), 'team', 'matrix');
      const result = await init({ supabaseDir: CHAT, outDir: out });
      expect(result.app.candidates.map((t) => `${t.schema}.${t.name}`)).toEqual(['public.messages']);
      expect(result.proposal).toMatchObject({
        primaryKey: ['id'],
        tag: { column: 'body', added: false },
        createdAtColumn: 'created_at',
        warnings: [],
      });
      expect(result.proposal.factory.map((c) => c.name)).toEqual(['room_id']);

      const file = join(out, 'realtime-matrix.config.ts');
      expect(result.written).toEqual([
        file,
        join(out, 'environments/local.env'),
        join(out, 'environments/prod.env'),
      ]);
      const config = await loadMatrixConfig(file);
      expect(config.table).toEqual({
        schema: 'public',
        name: 'messages',
        primaryKey: ['id'],
        tagColumn: 'body',
        createdAtColumn: 'created_at',
      });
      expect(config.portalNames).toEqual(['web']);
      expect(config.portals['web']).toMatchObject({
        urlKey: 'PORTAL_WEB_URL',
        signIn: { strategy: 'ui', path: '/' },
      });
      // The Supabase folder is far from the output folder: named absolutely. The portal is a command.
      expect(config.embedded).toMatchObject({
        supabaseDir: CHAT,
        table: { schema: 'public', name: 'messages' },
        portals: [{ name: 'web', localPort: 3000 }],
      });
      const text = readFileSync(file, 'utf8');
      expect(text).toContain('    portals: {\n      web: {\n');
      expect(text).toContain("        command: 'npm run dev -- --host {host} --port {port}',\n");
      expect(text).toContain(`        cwd: '${join(ROOT, 'examples/chat')}',\n`);
      expect(text).toContain(
        "        env: { VITE_SUPABASE_URL: '{supabaseUrl}', VITE_SUPABASE_ANON_KEY: '{anonKey}' },\n",
      );
      // Published as well as broadcast by a trigger: postgres_changes, the default, so no changes key.
      expect(result.proposal.changes).toEqual({ kind: 'postgres_changes' });
      expect(config.changes).toEqual({ kind: 'postgres_changes' });
      expect(config.row({ ...RUN, runTag: '[rtm:abc]' })).toEqual({
        body: '[rtm:abc] web-local sample 1/1',
        room_id: 1,
      });
      expect(text).toContain(
        '    // TODO bigint, NOT NULL, no default; references public.rooms.id: the key of an existing row there',
      );

      // Both environments are the embedded stack: local on the portal's localPort, prod behind the edge.
      const envDir = join(out, 'environments');
      expect(environmentNames(envDir)).toEqual(['local', 'prod']);
      const email = `web@${out.split('/').pop()!.toLowerCase()}.test`;
      const local = loadEnvironment(envDir, 'local', {}, out, portalEnvKeys(config));
      expect(local.values).toMatchObject({ TARGET_KIND: 'embedded', SUPABASE_URL: 'http://127.0.0.1:54321' });
      expect(local.portals['web']).toEqual({
        url: 'http://localhost:3000',
        email,
        passwordVar: 'LOCAL_WEB_PASSWORD',
      });
      const prod = loadEnvironment(envDir, 'prod', {}, out, portalEnvKeys(config));
      expect(prod.values).toMatchObject({
        TARGET_KIND: 'embedded',
        SUPABASE_URL: 'https://api.prod.localhost:8443',
      });
      expect(prod.portals['web']).toEqual({
        url: 'https://web.prod.localhost:8443',
        email,
        passwordVar: 'PROD_WEB_PASSWORD',
      });
      // The real-deployment example is there, commented out.
      expect(readFileSync(join(envDir, 'prod.env'), 'utf8')).toContain('#   TARGET_KIND=external\n');

      expect(typeErrors(file)).toEqual([]);
    },
    TSC_TIMEOUT,
  );
});

describe('init on an app of its own', () => {
  const SHOP = {
    '20260101000000_shop.sql': `
create type public.order_status as enum ('placed', 'shipped');
create table public.customers (id bigint generated always as identity primary key, name text not null);
create table public.orders (
  id bigint generated always as identity primary key,
  customer_id bigint not null references public.customers (id),
  owner_id uuid not null references auth.users (id),
  status public.order_status not null,
  quantity integer not null check (quantity > 0),
  code varchar(12) not null,
  summary text not null,
  note text,
  placed_at timestamptz not null default now()
);
alter publication supabase_realtime add table public.orders;
`,
  };

  it(
    'a bigint key and NOT NULL foreign keys: the factory lists each column with a typed placeholder and what it needs',
    async () => {
      const app = dirs.make('shop');
      writeFileSync(join(app, 'package.json'), JSON.stringify({ name: '@acme/shop' }));
      const supabaseDir = writeApp(app, SHOP);
      const result = await init({ supabaseDir });
      expect(result.outDir).toBe(app);
      expect(result.name).toBe('shop');
      expect(result.proposal).toMatchObject({
        primaryKey: ['id'],
        // code (varchar(12)) is too short for a tag; note is the preferred name over summary.
        tag: { column: 'note', added: false },
        createdAtColumn: 'placed_at',
      });
      expect(result.proposal.factory.map((c) => [c.name, c.value])).toEqual([
        ['customer_id', '1'],
        ['owner_id', 'user.id'],
        ['status', "'placed'"],
        ['quantity', '0'],
        ['code', "''"],
        ['summary', "''"],
      ]);
      const file = join(app, 'realtime-matrix.config.ts');
      const text = readFileSync(file, 'utf8');
      expect(text).toContain(
        '    // TODO bigint, NOT NULL, no default; references public.customers.id: the key of an existing row\n',
      );
      expect(text).toContain('    // TODO order_status, NOT NULL, no default; one of placed, shipped\n');
      // Beside the config: relative paths, so the app and its config move together.
      expect(text).toContain("    supabaseDir: './supabase',\n");
      expect(text).toContain("        cwd: '.',\n");

      const config = await loadMatrixConfig(file);
      expect(config.embedded?.supabaseDir).toBe(supabaseDir);
      expect(config.row({ ...RUN, runTag: '[rtm:abc]' })).toEqual({
        note: '[rtm:abc] web-local sample 1/1',
        customer_id: 1,
        owner_id: 'user-1',
        status: 'placed',
        quantity: 0,
        code: '',
        summary: '',
      });
      expect(typeErrors(file)).toEqual([]);
    },
    TSC_TIMEOUT,
  );

  const SEVERAL = {
    '20260101000000_game.sql': `
create table public.room_events (
  room_id bigint not null, seq integer not null, body text, at timestamp default now(),
  primary key (room_id, seq)
);
alter publication supabase_realtime add table public.room_events;

create table public.scores (id uuid primary key, player text not null, points int not null default 0);
create function public.broadcast_score() returns trigger language plpgsql security definer as $$
begin
  perform realtime.broadcast_changes('scores', tg_op, tg_op, tg_table_name, tg_table_schema, new, old);
  return null;
end $$;
create trigger scores_broadcast after insert or update or delete on public.scores
  for each row execute function public.broadcast_score();

-- A disabled broadcasting trigger delivers nothing.
create table public.quiet (id int primary key, t text);
create function public.quiet_send() returns trigger language plpgsql as $$
begin perform realtime.send('{}'::jsonb, 'e', 't'); return null; end $$;
create trigger quiet_send after insert on public.quiet for each row execute function public.quiet_send();
alter table public.quiet disable trigger quiet_send;
`,
  };

  it('several candidates without --table: lists each with its kind and asks for --table, writing nothing', async () => {
    const app = dirs.make('several');
    const supabaseDir = writeApp(app, SEVERAL);
    const error = await initError({ supabaseDir });
    expectCode(error, 'SEVERAL_CANDIDATES');
    expect(error.message).toBe(
      [
        '2 tables reach clients through Realtime:',
        '  public.room_events: postgres_changes (in publication supabase_realtime)',
        '  public.scores: broadcast (trigger scores_broadcast runs public.broadcast_score, which calls realtime.broadcast_changes)',
        'Pass the one your portals listen to: --table public.room_events',
      ].join('\n'),
    );
    expect(existsSync(join(app, 'realtime-matrix.config.ts'))).toBe(false);
  });

  it('--table picks one: a composite key, both key columns in the factory', async () => {
    const app = dirs.make('composite');
    const result = await init({ supabaseDir: writeApp(app, SEVERAL), table: 'room_events' });
    expect(result.proposal).toMatchObject({
      primaryKey: ['room_id', 'seq'],
      tag: { column: 'body' },
      createdAtColumn: 'at',
    });
    expect(result.proposal.factory.map((c) => c.name)).toEqual(['room_id', 'seq']);
    expect(result.proposal.factory[0]!.todo).toContain('part of the primary key');
    const config = await loadMatrixConfig(join(app, 'realtime-matrix.config.ts'));
    expect(config.table.primaryKey).toEqual(['room_id', 'seq']);
  });

  it(
    'a table delivered by a broadcast trigger: changes is its Broadcast, with the constant topic the trigger sends to',
    async () => {
      const app = dirs.make('broadcast');
      const result = await init({ supabaseDir: writeApp(app, SEVERAL), table: 'public.scores' });
      expect(result.proposal.factory).toEqual([
        expect.objectContaining({ name: 'id', value: 'crypto.randomUUID()' }),
      ]);
      expect(result.proposal.warnings).toEqual([
        { text: expect.stringContaining('public.scores has no timestamp column filled by default') },
      ]);
      expect(result.proposal.changes).toMatchObject({
        kind: 'broadcast',
        trigger: 'scores_broadcast',
        proposal: { expression: "'scores'", topic: { kind: 'constant', value: 'scores' }, private: true },
      });
      const file = join(app, 'realtime-matrix.config.ts');
      const text = readFileSync(file, 'utf8');
      expect(text).toContain(
        [
          '  changes: {',
          "    kind: 'broadcast',",
          "    // TODO: check this is the topic your portal joins: the trigger sends to 'scores'.",
          "    topic: () => 'scores',",
        ].join('\n'),
      );
      const config = await loadMatrixConfig(file);
      expect(config.changes).toMatchObject({ kind: 'broadcast', private: true });
      expect(typeErrors(file)).toEqual([]);
    },
    TSC_TIMEOUT,
  );

  it(
    "a trigger sending to 'room:' || NEW.room_id: topic() computes it from the row; another expression is a TODO",
    async () => {
      const app = dirs.make('rooms');
      const supabaseDir = writeApp(app, {
        '20260101000000_rooms.sql': `
create table public.posts (id bigint generated always as identity primary key, room_id bigint not null,
  body text, created_at timestamptz not null default now());
create function public.post_broadcast() returns trigger language plpgsql security definer as $$
begin
  perform realtime.broadcast_changes('room:' || coalesce(NEW.room_id, OLD.room_id)::text, tg_op, tg_op,
    tg_table_name, tg_table_schema, new, old);
  return null;
end $$;
create trigger posts_broadcast after insert on public.posts for each row execute function public.post_broadcast();

create table public.pings (id bigint primary key, note text, created_at timestamptz default now());
create function public.ping_send() returns trigger language plpgsql security definer as $$
begin
  perform realtime.send(to_jsonb(new), 'ping', format('user:%s', new.id), false);
  return null;
end $$;
create trigger pings_send after insert on public.pings for each row execute function public.ping_send();

-- The send made by a helper of the app's, not by the trigger function itself.
create table public.alerts (id bigint primary key, room_id bigint not null, created_at timestamptz default now());
create function public.notify_room(p_room bigint, p_op text, p_row jsonb) returns void language plpgsql as $$
begin perform realtime.send(p_row, p_op, 'room:' || p_room, true); end $$;
create function public.alert_changed() returns trigger language plpgsql security definer as $$
begin perform public.notify_room(new.room_id, tg_op, to_jsonb(new)); return null; end $$;
create trigger alerts_changed after insert on public.alerts for each row execute function public.alert_changed();
`,
      });
      const posts = await init({ supabaseDir, table: 'posts' });
      const file = join(app, 'realtime-matrix.config.ts');
      let text = readFileSync(file, 'utf8');
      expect(text).toContain(`    topic: ({ row }) => \`room:\${row['room_id']}\`,\n`);
      let config = await loadMatrixConfig(file);
      expect(config.changes.kind).toBe('broadcast');
      const topicOf = (c: typeof config) =>
        c.changes.kind === 'broadcast'
          ? c.changes.topic({
              row: c.row({ ...RUN, runTag: 't' }),
              user: RUN.user,
              portal: 'web',
              env: 'local',
            })
          : undefined;
      expect(posts.proposal.factory.map((c) => c.name)).toEqual(['room_id']);
      expect(topicOf(config)).toBe('room:0');

      const pings = await init({ supabaseDir, table: 'pings', outDir: join(app, 'pings') });
      text = readFileSync(join(pings.outDir, 'realtime-matrix.config.ts'), 'utf8');
      expect(pings.proposal.changes).toMatchObject({
        kind: 'broadcast',
        proposal: { expression: "format('user:%s', new.id)", event: 'ping', private: false },
      });
      expect(text).toContain(
        "    // TODO: return the topic the trigger computes for the row (format('user:%s', new.id)), as your\n",
      );
      expect(text).toContain(
        "    topic: () => 'TODO',\n    // The event the trigger sends.\n    event: 'ping',\n",
      );
      expect(text).toContain('    private: false,\n');
      config = await loadMatrixConfig(join(pings.outDir, 'realtime-matrix.config.ts'));
      expect(topicOf(config)).toBe('TODO');
      expect(typeErrors(file)).toEqual([]);

      // Through a helper: found by following the call; its parameter read as the trigger's argument.
      const alerts = await init({ supabaseDir, table: 'alerts', outDir: join(app, 'alerts') });
      expect(alerts.proposal.changes).toMatchObject({
        kind: 'broadcast',
        trigger: 'alerts_changed',
        fn: 'public.alert_changed → public.notify_room',
        proposal: {
          expression: "'room:' || new.room_id",
          topic: { kind: 'column', prefix: 'room:', column: 'room_id' },
          private: true,
        },
      });
      expect(readFileSync(join(alerts.outDir, 'realtime-matrix.config.ts'), 'utf8')).toContain(
        `    topic: ({ row }) => \`room:\${row['room_id']}\`,\n`,
      );
    },
    TSC_TIMEOUT,
  );

  it('--table naming a table Realtime does not deliver: says so, with the SQL and the candidates', async () => {
    const error = await initError({
      supabaseDir: writeApp(dirs.make('quiet'), SEVERAL),
      table: 'public.quiet',
    });
    expectCode(error, 'UNKNOWN_TABLE');
    expect(error.message).toContain(
      '--table public.quiet: public.quiet exists but reaches no client through Realtime. Publish it in a migration (alter publication supabase_realtime add table public.quiet;)',
    );
  });

  it('no text column for the tag: the config names an added column and the SQL that adds it', async () => {
    const app = dirs.make('notag');
    const supabaseDir = writeApp(app, {
      '20260101000000_t.sql': `create table public.ticks (id bigint primary key, n int, state text not null default 'new');
alter publication supabase_realtime add table public.ticks;`,
    });
    const result = await init({ supabaseDir });
    expect(result.proposal.tag).toEqual({
      column: 'rtm_tag',
      added: true,
      why: "public.ticks has no text column the matrix can tag its rows in (a text or varchar column without a default, not part of the key or a foreign key): state has a default ('new'::text).",
      sql: 'alter table public.ticks add column rtm_tag text;',
    });
    const text = readFileSync(join(app, 'realtime-matrix.config.ts'), 'utf8');
    expect(text).toContain('    // migration: alter table public.ticks add column rtm_tag text;\n');
    await loadMatrixConfig(join(app, 'realtime-matrix.config.ts'));
  });
});

describe('init refuses, saying why', () => {
  it('no published table and no broadcast trigger: the SQL that publishes one', async () => {
    const app = dirs.make('unpublished');
    const supabaseDir = writeApp(app, {
      '20260101000000_notes.sql': 'create table public.notes (id bigint primary key, body text);\n',
    });
    const error = await initError({ supabaseDir });
    expectCode(error, 'NO_REALTIME_TABLE');
    expect(error.message).toBe(
      [
        'No table of this app reaches clients through Realtime: none is in the supabase_realtime publication, and no enabled trigger calls realtime.broadcast_changes or realtime.send.',
        "The app's tables: public.notes.",
        'Publish the table your app listens to, in a new migration:',
        '  alter publication supabase_realtime add table public.notes;',
        'then run init again.',
      ].join('\n'),
    );
    expect(existsSync(join(app, 'environments'))).toBe(false);
  });

  it('a migration Postgres refuses, with a position: file, line and column, and its error', async () => {
    const app = dirs.make('broken');
    const supabaseDir = writeApp(app, {
      '20260101000000_ok.sql': 'create table public.t (id int primary key, body text);\n',
      '20260101000100_broken.sql': [
        '-- A function whose body has semicolons, then a string with one.',
        'create function public.f() returns int language sql as $$ select 1; $$;',
        '',
        "insert into public.t (id, body) values (1, 'a;b');",
        'select id,',
        '       nope',
        '  from public.t;',
      ].join('\n'),
    });
    const error = await initError({ supabaseDir });
    expectCode(error, 'MIGRATION_FAILED');
    const file = join(supabaseDir, 'migrations/20260101000100_broken.sql');
    expect(error.message.split('\n')[0]).toBe(
      `${file}:6:8: Postgres refused this migration in the statement starting on line 5: column "nope" does not exist (SQLSTATE 42703)`,
    );
  });

  it('a migration Postgres refuses without a position: the line of the statement, found by replaying them', async () => {
    const app = dirs.make('broken-nopos');
    const supabaseDir = writeApp(app, {
      '20260101000000_ok.sql': 'create table public.t (id int primary key, body text);\n',
      '20260101000100_again.sql': [
        "insert into public.t values (1, E'it\\'s; fine');",
        '/* a comment; /* nested; */ still a comment */',
        'create table public.t (',
        '  id int',
        ');',
      ].join('\n'),
    });
    const error = await initError({ supabaseDir });
    expectCode(error, 'MIGRATION_FAILED');
    const file = join(supabaseDir, 'migrations/20260101000100_again.sql');
    expect(error.message.split('\n')[0]).toBe(
      `${file}:3: Postgres refused this migration (the statement starting on line 3): relation "t" already exists (SQLSTATE 42P07)`,
    );
  });

  it('a seed.sql Postgres refuses is named like a migration', async () => {
    const app = dirs.make('broken-seed');
    const supabaseDir = writeApp(
      app,
      { '20260101000000_ok.sql': 'create table public.t (id int primary key);\n' },
      '\ninsert into public.t values (1);\ninsert into public.t values (1);\n',
    );
    const error = await initError({ supabaseDir });
    expectCode(error, 'MIGRATION_FAILED');
    expect(error.message).toContain(
      `${join(supabaseDir, 'seed.sql')}:3: Postgres refused this migration (the statement starting on line 3): duplicate key value violates unique constraint "t_pkey" (SQLSTATE 23505)\n  Detail: Key (id)=(1) already exists.`,
    );
  });

  it('a missing folder, and a folder with nothing to apply', async () => {
    const app = dirs.make('empty');
    expectCode(await initError({ supabaseDir: join(app, 'nope') }), 'SUPABASE_DIR_MISSING');
    writeApp(app, { 'x.sql': 'select 1;' });
    // The app's root, not its supabase/ folder: the error says which one was meant.
    const error = await initError({ supabaseDir: app });
    expectCode(error, 'SUPABASE_DIR_EMPTY');
    expect(error.message).toBe(
      `${app}: no migrations/*.sql and no seed.sql, so there is no schema to read. It has a supabase/ folder: did you mean --supabase-dir ${join(app, 'supabase')}?`,
    );
  });

  it('an existing file is kept unless --force', async () => {
    const out = dirs.make('force');
    const config = join(out, 'realtime-matrix.config.ts');
    writeFileSync(config, '// mine\n');
    const error = await initError({ supabaseDir: CHAT, outDir: out });
    expectCode(error, 'FILE_EXISTS');
    expect(error.message).toBe(
      `Not overwriting ${config}. Pass --force to replace it, or --out <dir> to write elsewhere.`,
    );
    expect(readFileSync(config, 'utf8')).toBe('// mine\n');
    expect(existsSync(join(out, 'environments'))).toBe(false);

    await init({ supabaseDir: CHAT, outDir: out, force: true });
    expect(readFileSync(config, 'utf8')).toContain("tagColumn: 'body'");
  });
});

describe('npm run init (the CLI, its own throwaway Postgres)', () => {
  const tsx = join(ROOT, 'node_modules/.bin/tsx');
  // npm runs scripts in the package folder and says where the user was in INIT_CWD.
  const cli = (cwd: string, ...args: string[]) =>
    spawnSync(tsx, ['scripts/init.ts', ...args], {
      cwd: ROOT,
      env: { ...process.env, INIT_CWD: cwd },
      encoding: 'utf8',
      timeout: 60_000,
    });

  it('writes the config beside the Supabase folder and prints the next commands', () => {
    const app = dirs.make('cli');
    const sql = readFileSync(join(CHAT, 'migrations/20260201000000_chat.sql'), 'utf8');
    writeApp(app, { '20260201000000_chat.sql': sql });
    const run = cli(app, '--supabase-dir', 'supabase');
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(
      [
        'Tables Realtime delivers:',
        '  public.messages: postgres_changes (in publication supabase_realtime)',
        'Chose public.messages: primary key (id), tag column body, createdAtColumn created_at.',
        'The row factory needs: room_id (TODOs in the config).',
        'Wrote:',
        '  realtime-matrix.config.ts',
        '  environments/local.env',
        '  environments/prod.env',
      ].join('\n'),
    );
    expect(run.stdout).toContain(`RTM_CONFIG=${join(app, 'realtime-matrix.config.ts')} npx playwright test`);
  });

  it('exits 1 with the error and its code; 2 on a bad argument', () => {
    const app = dirs.make('cli-fail');
    writeApp(app, { '20260101000000_n.sql': 'create table public.notes (id int primary key);\n' });
    const run = cli(app, '--supabase-dir', 'supabase');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('alter publication supabase_realtime add table public.notes;');
    expect(run.stderr).toContain('[NO_REALTIME_TABLE]');

    const bad = cli(app, '--supabase', 'supabase');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("Unknown option '--supabase'");
  });
});
