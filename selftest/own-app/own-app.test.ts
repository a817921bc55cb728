import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Summary, summarySchema } from '../../reporters/summary-schema.ts';
import { groupMembers } from '../../stack/commands/process-group.ts';
import { DEFAULT_PORTS } from '../../stack/topology/default-ports.ts';
import { RUNTIME_FILE } from '../../stack/topology/runtime-file.ts';
import { processAlive } from '../commands/app-fixture.ts';
import { ROOT } from '../init/support.ts';
import { portsStillTaken } from '../matrix/support/matrix-run.ts';
import { type FixtureApp, recordedPids, writeFixtureApp } from './fixture-app.ts';

/**
 * README "Test your own app", done as a user does it, on a small app made in a temp dir (no
 * package.json anywhere near it): `npm run init -- --supabase-dir <app>/supabase`, fill in the
 * portal's command and how it shows it signed in, then `RTM_CONFIG=<app>/realtime-matrix.config.ts
 * npx playwright test` from the checkout — web-local and web-prod green, the app's command started
 * by the stack in both environments — and no process of that command left after the run, nor after
 * a run interrupted with SIGINT (Ctrl-C) or SIGTERM (a CI job cancelled).
 *
 * The matrix here is the real one, webServer included: it starts `npm run stack`, which binds the
 * fixed ports of `supabase start` (54321, 54322), the portal's localPort (3000) and the edge (8443).
 * The stack's CLI takes no other ports, so run this file in a network namespace of its own:
 *   unshare -n bash -c 'ip link set lo up && npx vitest run selftest/own-app'
 * It refuses to start when those ports are taken, naming the holder.
 */
const RUN_TIMEOUT = 300_000;
const PORTS = [
  { port: DEFAULT_PORTS.db, what: 'Postgres' },
  { port: DEFAULT_PORTS.localApi, what: 'local API' },
  { port: 3000, what: 'local web portal' },
  { port: DEFAULT_PORTS.edge, what: 'HTTPS edge' },
];

let root: string;
/** Run outputs: inside the checkout (test-results/ is gitignored), where the wrapper config loads as ESM. */
let runs: string;
let app: FixtureApp;
let configFile: string;

beforeAll(async () => {
  const taken = await portsStillTaken(PORTS);
  if (taken.length) {
    throw new Error(
      `The matrix's stack needs these ports, and they are taken:\n  ${taken.join('\n  ')}\nRun this file in its own network namespace: unshare -n bash -c 'ip link set lo up && npx vitest run selftest/own-app'`,
    );
  }
  root = mkdtempSync(join(tmpdir(), 'rtm-own-app-'));
  mkdirSync(join(ROOT, 'test-results'), { recursive: true });
  runs = mkdtempSync(join(ROOT, 'test-results', 'own-app-'));
  app = writeFixtureApp(join(root, 'notes'));
  configFile = join(app.dir, 'realtime-matrix.config.ts');
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
  if (runs) rmSync(runs, { recursive: true, force: true });
});

/** Exactly the text init wrote must be there: the README tells the user to change these lines. */
function fillIn(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`init's config no longer has the line to fill in:\n${from}`);
  return text.replace(from, to);
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
  summary?: Summary;
}

/**
 * `RTM_CONFIG=… npx playwright test` from the checkout, in a process group of its own (so a signal
 * reaches it as a terminal's Ctrl-C does), through a config that is the project's own with only the
 * outputs moved to `dir`: webServer (the stack), projects and reporters are the user's.
 */
function runMatrix(dir: string, onSpawn?: (child: ChildProcess, output: () => string) => void): Promise<Run> {
  mkdirSync(dir, { recursive: true });
  const summaryDir = join(dir, 'matrix-report');
  const wrapper = join(dir, 'playwright.config.ts');
  writeFileSync(
    wrapper,
    `import base from ${JSON.stringify(join(ROOT, 'playwright.config.ts'))};\n` +
      `export default { ...base, testDir: ${JSON.stringify(join(ROOT, 'tests'))}, outputDir: ${JSON.stringify(join(dir, 'test-results'))},\n` +
      `  webServer: base.webServer && { ...base.webServer, cwd: ${JSON.stringify(ROOT)} },\n` +
      `  reporter: [['list'], [${JSON.stringify(join(ROOT, 'reporters/matrix-reporter.ts'))}, { outputDir: ${JSON.stringify(summaryDir)} }]] };\n`,
  );
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['playwright', 'test', '--config', wrapper], {
      cwd: ROOT,
      env: { ...process.env, RTM_CONFIG: configFile, CI: '', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.on('error', reject);
    onSpawn?.(child, () => output);
    child.on('close', (code, signal) => {
      writeFileSync(join(dir, 'output.log'), output);
      let summary: Summary | undefined;
      try {
        summary = summarySchema.parse(JSON.parse(readFileSync(join(summaryDir, 'summary.json'), 'utf8')));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return reject(error);
      }
      resolve({ code, signal, output, ...(summary ? { summary } : {}) });
    });
  });
}

/** Resolves once `ready()` holds, re-checked on every change in the app's folder and every output chunk. */
function until(child: ChildProcess, ready: () => boolean, what: string, output: () => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const watcher = watch(app.dir);
    const check = () => {
      if (!ready()) return;
      done();
      resolve();
    };
    const exited = (code: number | null) => {
      done();
      reject(new Error(`The run exited (${code}) before ${what}:\n${output().slice(-3000)}`));
    };
    const done = () => {
      watcher.close();
      child.stdout?.off('data', check);
      child.off('exit', exited);
    };
    watcher.on('change', check);
    child.stdout?.on('data', check);
    child.on('exit', exited);
    check();
  });
}

/**
 * Polls `done` until it holds or `timeoutMs` passes, as Playwright's expect.poll does. For what has
 * no event to wait on: another process's exit.
 */
async function waitUntil(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline)
      throw new Error(`Timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The pid of the stack the run's webServer started, from its runtime file (written once it is up). */
function stackPid(): number {
  return (JSON.parse(readFileSync(RUNTIME_FILE, 'utf8')) as { pid: number }).pid;
}

function leftovers(): string[] {
  const recorded = recordedPids(app);
  const alive = recorded.filter((p) => processAlive(p.pid)).map((p) => `${p.role} ${p.pid}`);
  const groups = [...new Set(recorded.map((p) => p.pgid))].flatMap((g) =>
    groupMembers(g).map((m) => `pid ${m} in group ${g}`),
  );
  return [...alive, ...groups];
}

const describeRun = (run: Run) =>
  `exit ${run.code}${run.signal ? ` (${run.signal})` : ''}; cells: ${JSON.stringify(run.summary?.cells.map((c) => [c.cell, c.verdict]))}\n${run.output.slice(-4000)}`;

describe('README "Test your own app": from an app folder to green cells', () => {
  it(
    'npm run init writes the config beside the app; filled in, the matrix passes web-local and web-prod',
    async () => {
      // 1. npm run init -- --supabase-dir <app>/supabase   (from the checkout, a path relative to it)
      const init = spawnSync(
        'npm',
        ['run', '--silent', 'init', '--', '--supabase-dir', relative(ROOT, app.supabaseDir)],
        {
          cwd: ROOT,
          encoding: 'utf8',
          timeout: 120_000,
        },
      );
      expect(init.status, `${init.stdout}\n${init.stderr}`).toBe(0);
      expect(init.stdout).toContain(
        'Chose public.notes: primary key (id), tag column body, createdAtColumn created_at.',
      );

      // 2. Fill in the portal: the command that serves the app, and how it shows it signed in.
      let text = readFileSync(configFile, 'utf8');
      text = fillIn(
        text,
        "command: 'npm run dev -- --host {host} --port {port}',",
        "command: 'node server.mjs --host {host} --port {port}',",
      );
      text = fillIn(
        text,
        "signedIn: { locator: (page) => page.getByRole('button', { name: /sign out|log out/i }) },",
        'signedIn: { locator: (page) => page.getByText(/^Signed in as /) },',
      );
      text = fillIn(
        text,
        "// shows: (page, row) => page.getByText(String(row['body'])),",
        "shows: (page, row) => page.getByRole('listitem').filter({ hasText: String(row['body']) }),",
      );
      writeFileSync(configFile, text);

      // 3. RTM_CONFIG=<app>/realtime-matrix.config.ts npx playwright test
      const run = await runMatrix(join(runs, 'green'));
      expect(run.code, describeRun(run)).toBe(0);
      expect(
        run.summary?.cells.map((c) => [c.cell, c.verdict, c.targetKind]).sort(),
        describeRun(run),
      ).toEqual([
        ['web-local', 'PASS', 'embedded'],
        ['web-prod', 'PASS', 'embedded'],
      ]);
      // The stack started the app's command once per environment, and nothing of it is left. The
      // runner stops its webServer (the stack) as it exits; the stack stops the commands' process
      // groups a beat later (SIGTERM, then SIGKILL after 5 s), so wait for that before judging.
      expect(recordedPids(app).filter((p) => p.role === 'server')).toHaveLength(2);
      await waitUntil(() => leftovers().length === 0, 30_000, 'no process of the app is left').catch(
        () => undefined,
      );
      expect(leftovers()).toEqual([]);
    },
    RUN_TIMEOUT,
  );

  // SIGINT to the group: Ctrl-C in a terminal; Playwright stops its webServer. SIGTERM to the group:
  // a cancelled CI job; Playwright's runner dies without stopping the webServer, whose own process
  // group nobody signals, so the stack stops itself when its stdin (held by the runner) closes.
  it.each(['SIGINT', 'SIGTERM'] as const)(
    'a run interrupted with %s while the cells run leaves no process of the app behind',
    async (signal) => {
      rmSync(app.pidsFile, { force: true });
      let stack: number | undefined;
      const run = await runMatrix(join(runs, signal), (child, output) => {
        // Both environments' commands answer and the stack is ready: the cells are under way.
        until(
          child,
          () =>
            recordedPids(app).filter((p) => p.role === 'server').length === 2 &&
            /Embedded stack ready in \d+ ms/.test(output()),
          'both commands started',
          output,
        ).then(
          () => {
            stack = stackPid();
            process.kill(-child.pid!, signal);
          },
          () => undefined,
        );
      });
      expect(run.code === 0 && !run.signal, `the run was not interrupted: ${describeRun(run)}`).toBe(false);
      expect(recordedPids(app).filter((p) => p.role === 'server')).toHaveLength(2);
      expect(stack, describeRun(run)).toBeDefined();
      // The stack stops its portal commands before it exits; it may still be stopping when the runner is gone.
      await waitUntil(() => !processAlive(stack!), 30_000, `the stack (pid ${stack}) exited`);
      expect(leftovers(), describeRun(run)).toEqual([]);
    },
    RUN_TIMEOUT,
  );
});
