import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import type { PortalServeOptions } from '../../stack/app.ts';
import { groupMembers, until } from '../../stack/commands/process-group.ts';
import {
  type CommandPortal,
  PortalCommandError,
  serveCommandPortal,
} from '../../stack/commands/serve-command.ts';
import { processAlive, SERVER_SCRIPT } from './app-fixture.ts';

/**
 * One command portal without a stack: what a command that dies or never answers is told with, and
 * that its process group is gone whichever way the stack ends (stop, SIGTERM, process exit).
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'rtm-serve-command-'));
writeFileSync(join(dir, 'server.mjs'), SERVER_SCRIPT);
writeFileSync(
  join(dir, 'dies.mjs'),
  `for (let i = 1; i <= 40; i++) (i % 2 ? console.log : console.error)('line ' + i + ' key=' + process.env.KEY);
process.exit(3);\n`,
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const OPTIONS: PortalServeOptions = {
  portal: 'web',
  host: '127.0.0.1',
  port: 0,
  supabaseUrl: 'http://127.0.0.1:54321',
  anonKey: 'anon-key-under-test',
  overrides: () => ({}),
  production: false,
};

function portal(command: string, extra: Partial<CommandPortal> = {}): CommandPortal {
  return {
    name: 'web',
    command,
    cwd: dir,
    url: 'http://{host}:{port}/',
    env: { PORT: '{port}', KEY: '{anonKey}' },
    timeoutMs: 20_000,
    declaredAt: 'rtm.config.ts: embedded.portals.web',
    ...extra,
  };
}

async function failure(p: CommandPortal): Promise<PortalCommandError> {
  const error = await serveCommandPortal(p, OPTIONS).then(
    (served) => served.stop().then(() => undefined),
    (e: unknown) => e,
  );
  if (!(error instanceof PortalCommandError))
    throw new Error(`expected a PortalCommandError, got ${String(error)}`);
  return error;
}

describe('a command portal that does not come up', () => {
  it('exits early: the command, cwd, exit code, its last 30 lines interleaved, the next step', async () => {
    const error = await failure(portal('node dies.mjs --port {port}'));
    expect(error.code).toBe('PORTAL_COMMAND_EXITED');
    const [first, command, cwd, heading, ...rest] = error.message.split('\n');
    expect(first).toMatch(
      /^The web portal's command exited before http:\/\/127\.0\.0\.1:\d+\/ answered \(exit code 3\)\.$/,
    );
    expect(command).toMatch(/^ {2}command: node dies\.mjs --port \d+$/);
    expect(cwd).toBe(`  cwd:     ${dir}`);
    expect(heading).toBe('  last 30 lines of its output (stdout and stderr):');
    // Lines 11–40 in the order written (odd ones to stdout, even to stderr), the key masked.
    expect(rest.slice(0, 30)).toEqual(
      Array.from({ length: 30 }, (_, i) => `    | line ${i + 11} key={anonKey}`),
    );
    expect(error.message).not.toContain(OPTIONS.anonKey);
    expect(rest[30]).toBe(
      `  next: run the command yourself in ${dir} and fix what it prints; it must keep running and serve ${/http:\/\/\S+\//.exec(first!)![0]}.`,
    );
  });

  it('never answers: the timeout, the last poll, and which setting to change', async () => {
    const error = await failure(
      portal('node -e "console.log(\'not listening\'); setInterval(() => {}, 60000)" {port}', {
        // Long enough for one refused poll to come back on a loaded machine; the last poll, cut
        // short by the deadline, must not hide that answer.
        timeoutMs: 1_500,
      }),
    );
    expect(error.code).toBe('PORTAL_COMMAND_TIMEOUT');
    expect(error.message).toMatch(
      /^The web portal's command did not answer http:\/\/127\.0\.0\.1:\d+\/ within 1500 ms \(last poll: ECONNREFUSED\)\.\n/,
    );
    expect(error.message).toContain('    | not listening\n');
    expect(error.message).toContain('raise rtm.config.ts: embedded.portals.web.timeoutMs');
  });

  it('a missing cwd says so before anything starts', async () => {
    const error = await failure(portal('node server.mjs {port}', { cwd: join(dir, 'nope') }));
    expect(error.code).toBe('PORTAL_COMMAND_CWD');
    expect(error.message).toContain(`its cwd ${join(dir, 'nope')} does not exist`);
  });
});

/** Runs a script that serves one command portal, prints its pids, then ends as `how` says. */
function host(how: 'sigterm' | 'exit' | 'sigkill'): Promise<{ pids: number[]; code: number | null }> {
  const script = join(dir, `host-${how}.mts`);
  writeFileSync(
    script,
    `import { serveCommandPortal } from ${JSON.stringify(join(ROOT, 'stack/commands/serve-command.ts'))};
const served = await serveCommandPortal(${JSON.stringify(portal('node server.mjs {host}'))}, { ...${JSON.stringify(OPTIONS)}, overrides: () => ({}) });
const seen = await (await fetch(served.url)).text();
const pids = JSON.parse(/<script id="seen" type="application\\/json">(.*?)<\\/script>/s.exec(seen)[1]).pids;
${
  how === 'sigterm'
    ? // As stack/cli.ts does: the signal stops the stack, which stops the portals.
      "process.on('SIGTERM', () => served.stop().then(() => process.exit(0)));"
    : how === 'exit'
      ? 'setImmediate(() => process.exit(0)); // no stop(): the exit hook must take the group'
      : 'setInterval(() => {}, 60_000); // killed with SIGKILL: only the orphan guard can take the group'
}
console.log(JSON.stringify({ pids }));
`,
  );
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    let pids: number[] = [];
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = /\{"pids":\[[\d,]+\]\}/.exec(out)?.[0];
      if (line && !pids.length) {
        pids = (JSON.parse(line) as { pids: number[] }).pids;
        if (how === 'sigterm') child.kill('SIGTERM');
        if (how === 'sigkill') child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ pids, code }));
  });
}

describe('the process group ends with the stack', () => {
  // Playwright SIGKILLs a webServer that has not stopped within its graceful-shutdown timeout (a
  // stack slow to stop on a loaded CI machine): no handler of the stack runs, the guard does.
  it('on SIGKILL of the stack: the orphan guard stops the group (TERM, then KILL after 5 s)', async () => {
    const { pids, code } = await host('sigkill');
    expect(code).toBeNull();
    expect(pids).toHaveLength(2);
    expect(await until(() => !pids.some(processAlive), 10_000)).toBe(true);
    expect(pids.flatMap((pid) => groupMembers(pid))).toEqual([]);
  });

  for (const how of ['sigterm', 'exit'] as const) {
    it(`${how === 'sigterm' ? 'on SIGTERM (Ctrl-C is the same path)' : 'on process.exit without a stop'}: no member is left`, async () => {
      const { pids, code } = await host(how);
      expect(code).toBe(0);
      expect(pids).toHaveLength(2);
      // Everything the command started was in one group; none of it is alive now.
      expect(await until(() => !pids.some(processAlive), 5_000)).toBe(true);
      expect(pids.flatMap((pid) => groupMembers(pid))).toEqual([]);
    });
  }
});
