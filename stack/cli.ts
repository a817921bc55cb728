import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { configFilePath, loadMatrixConfig } from '../fixtures/config/matrix-config.ts';
import { appPortalNames, type StackApp } from './app.ts';
import { describeFaults } from './faults/controller.ts';
import { type FaultSpec, parseFaultList, parseFaultSpec } from './faults/spec.ts';
import type { Stack } from './index.ts';
import { cellsOf, ENVS, type Env, isEnv } from './topology/cells.ts';
import { DEFAULT_PORTS } from './topology/default-ports.ts';
import { takenPorts } from './topology/listen.ts';
import { RUNTIME_FILE, readRuntimeFile } from './topology/runtime-file.ts';
import { describeStack, describeStackBrief } from './topology/summary.ts';

const { values } = parseArgs({
  options: {
    persist: { type: 'string' },
    env: { type: 'string', multiple: true },
    envs: { type: 'string' },
    fault: { type: 'string', multiple: true },
    'list-faults': { type: 'boolean', default: false },
    'show-secrets': { type: 'boolean', default: false },
    'summary-file': { type: 'string' },
    'stop-on-stdin-end': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

if (values.help) {
  console.log(`npm run stack [-- options]

  Deploys the app named by the matrix config's \`embedded\` section (RTM_CONFIG=<path>, default
  realtime-matrix.config.ts: the help-desk demo): Postgres (127.0.0.1:${DEFAULT_PORTS.db}), the local project
  (http://127.0.0.1:${DEFAULT_PORTS.localApi}) with the app's portals on http://localhost:<their localPort>, the
  prod-like project and portals behind the HTTPS edge (https://{api,<portal>}.prod.localhost:${DEFAULT_PORTS.edge}),
  and the fault control endpoint.

  --env ENV          start only this env (local or prod; repeatable; default both);
                     --envs local,prod is the same as a list
  --fault CELL:NAME  switch a fault on at boot, e.g. agent-prod:csp-blocks-socket (repeatable;
                     also RTM_FAULTS=cell:name,cell:name)
  --list-faults      print every fault with its scope and mechanism, then exit
  --persist DIR      keep the database in DIR across runs (default: temp dir, removed on exit)
  --show-secrets     print keys and passwords in full (default: role + fingerprint)
  --summary-file F   write the boot summary (never secrets) to F and print one line instead;
                     RTM_STACK_VERBOSE=1 prints it all as well (the matrix's webServer uses this)
  --stop-on-stdin-end  stop when stdin closes: the process that started the stack is gone
                     (the matrix's webServer uses this)
`);
  process.exit(0);
}

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

const configFile = configFilePath();
const app: StackApp = await loadMatrixConfig(configFile).then(
  (config) =>
    config.embedded ??
    fail(
      `${relative(process.cwd(), configFile)} has no \`embedded\` section, so the stack has no app to deploy. ` +
        'Add `embedded: <StackApp>` (see stack/app.ts), or point RTM_CONFIG at a config that has one.',
    ),
  (error: Error) => fail(`Could not load the matrix config: ${error.message}`),
);

if (values['list-faults']) {
  const faults = describeFaults(app);
  console.log(`Faults app "${app.name}" supports (${relative(process.cwd(), configFile)}):`);
  const width = Math.max(...faults.map((f) => f.name.length));
  for (const f of faults) {
    const scope = f.scope === 'env' ? 'env ' : 'cell';
    const where = f.envs.length === ENVS.length ? '' : ` [${f.envs.join(', ')} only]`;
    console.log(`${f.name.padEnd(width)}  ${scope}  ${f.description}${where}`);
  }
  console.log(
    `\nCells: ${cellsOf(appPortalNames(app)).join(', ')}; env-wide faults take an env (local, prod).`,
  );
  process.exit(0);
}

let envs: Env[] = [...ENVS];
let faults: FaultSpec[] = [];
try {
  const asked = [...(values.env ?? []), ...(values.envs?.split(',') ?? [])]
    .map((e) => e.trim())
    .filter(Boolean);
  if (asked.length) {
    const bad = asked.filter((e) => !isEnv(e));
    if (bad.length) throw new Error(`--env ${bad.join(', ')}: unknown env; use ${ENVS.join(' or ')}.`);
    envs = [...new Set(asked)] as Env[];
  }
  faults = [
    ...parseFaultList(process.env['RTM_FAULTS'], 'RTM_FAULTS'),
    ...(values.fault ?? []).map((f) => parseFaultSpec(f, '--fault')),
  ];
} catch (error) {
  fail((error as Error).message);
}

// A stack that is still running owns the fixed ports and the runtime file: say so instead of failing later.
const previous = await readRuntimeFile(RUNTIME_FILE).catch((error: Error) => {
  // Missing is the normal case; an unreadable leftover is replaced once this stack is up.
  if (!error.message.startsWith('No running stack'))
    console.warn(`Ignoring the old runtime file: ${error.message}`);
  return undefined;
});
if (previous && previous.pid !== process.pid && isAlive(previous.pid)) {
  fail(
    `A stack is already running (pid ${previous.pid}, started ${previous.startedAt}; ${RUNTIME_FILE}). ` +
      `Reuse it, or stop it with \`kill ${previous.pid}\`.`,
  );
}
const fixed = [
  { port: DEFAULT_PORTS.db, what: 'Postgres' },
  ...(envs.includes('local')
    ? [
        { port: DEFAULT_PORTS.localApi, what: 'local API' },
        ...app.portals.map((p) => ({ port: p.localPort, what: `local ${p.name} portal` })),
      ]
    : []),
  ...(envs.includes('prod') ? [{ port: DEFAULT_PORTS.edge, what: 'HTTPS edge' }] : []),
];
const taken = await takenPorts(fixed);
if (taken.length) {
  fail(
    `Cannot start the stack:\n  ${taken.join('\n  ')}\n` +
      'If that is a running `npm run stack` or `supabase start`, reuse it; otherwise stop it ' +
      '(`ss -ltnp` shows the holder) and run again.',
  );
}

// Loaded only to boot: it pulls in supabase-js (for seeding), which --list-faults does not need.
const { startStack } = await import('./index.ts');
const started = performance.now();
let stack: Stack;
try {
  stack = await startStack({
    app,
    persistDir: values.persist,
    envs,
    portals: true,
    control: true,
    faults,
    runtimeFile: RUNTIME_FILE,
  });
} catch (error) {
  fail(`Could not start the stack: ${(error as Error).message}`);
}

const readyMs = Math.round(performance.now() - started);
const summaryFile = values['summary-file'];
const appLine = `  app: ${app.name} (${relative(process.cwd(), configFile)}), cells ${cellsOf(appPortalNames(app), envs).join(', ')}`;
const verbose = !summaryFile || process.env['RTM_STACK_VERBOSE'] === '1';
if (summaryFile) {
  // A file in test-results/ is an artifact CI uploads: fingerprints only, whatever --show-secrets says.
  mkdirSync(dirname(summaryFile), { recursive: true });
  writeFileSync(
    summaryFile,
    `Embedded stack ready in ${readyMs} ms\n\n${appLine}\n${describeStack(stack, { showSecrets: false, runtimeFile: RUNTIME_FILE })}\n`,
  );
}
if (verbose) {
  console.log(`\nEmbedded stack ready in ${readyMs} ms\n`);
  console.log(`${appLine}\n`);
  console.log(describeStack(stack, { showSecrets: values['show-secrets'], runtimeFile: RUNTIME_FILE }));
  console.log('\nCtrl-C stops everything.');
} else {
  console.log(describeStackBrief(stack, readyMs, summaryFile!));
}
/** Lifecycle lines after boot: the terminal when verbose, else the summary file only. */
function note(line: string): void {
  if (summaryFile) appendFileSync(summaryFile, `${line}\n`);
  if (verbose) console.log(`\n${line}`);
}

let stopping = false;
function stop(why: string): void {
  if (stopping) return;
  stopping = true;
  note(`${why}: stopping the stack…`);
  stack.stop().then(
    () => process.exit(0),
    (error: Error) => {
      console.error(`Stopping failed: ${error.message}`);
      process.exit(1);
    },
  );
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => stop(signal));
// Playwright starts its webServer in a process group of its own and holds the other end of its
// stdin. A runner killed by SIGTERM to its group (a cancelled CI job) or SIGKILL never signals that
// group, so the stack — and the app's portal commands — would outlive the run; stdin ending says so.
if (values['stop-on-stdin-end']) {
  process.stdin.on('end', () => stop('stdin closed (the process that started the stack is gone)'));
  process.stdin.resume();
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but is not ours, so it is alive.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
