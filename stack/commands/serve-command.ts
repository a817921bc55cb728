import { existsSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { PortalServeOptions, ServedPortal } from '../app.ts';
import { proxyHttp, proxyUpgrade, type Upstream } from '../edge/proxy.ts';
import { freePort } from '../ports.ts';
import { listenOn } from '../topology/listen.ts';
import { childEnv } from './child-env.ts';
import { type CommandExit, type RunningCommand, runCommand } from './process-group.ts';
import { type PlaceholderValues, substitute } from './substitute.ts';

/** A portal the config declares as a command, resolved (absolute cwd, defaults filled in). */
export interface CommandPortal {
  name: string;
  command: string;
  /** Absolute. */
  cwd: string;
  /** What is polled until it answers; placeholders allowed. */
  url: string;
  env: Readonly<Record<string, string>>;
  timeoutMs: number;
  /** Where the config declares it, for messages: `my.config.ts: embedded.portals.web`. */
  declaredAt: string;
}

export type PortalCommandErrorCode =
  | 'PORTAL_COMMAND_EXITED'
  | 'PORTAL_COMMAND_TIMEOUT'
  | 'PORTAL_COMMAND_CWD';

export class PortalCommandError extends Error {
  constructor(
    message: string,
    readonly code: PortalCommandErrorCode,
    readonly lastLines: readonly string[],
  ) {
    super(message);
    this.name = 'PortalCommandError';
  }
}

/**
 * Start one environment's instance of a command portal: the command on a free port with that env's
 * Supabase URL and anon key, polled until its URL answers, behind a small proxy on the portal's own
 * port. The proxy is what makes the command a deployment like the demo portals: it adds the CSP a
 * host would (the app's own wins) and the CSP a fault asks for, read on every response; the command
 * cannot know either. Its port is the one browsers open (the edge's upstream in prod).
 */
export async function serveCommandPortal(
  portal: CommandPortal,
  options: PortalServeOptions,
): Promise<ServedPortal> {
  if (!existsSync(portal.cwd)) {
    throw new PortalCommandError(
      `The ${portal.name} portal's command cannot start: its cwd ${portal.cwd} does not exist (${portal.declaredAt}.cwd is relative to the config file).`,
      'PORTAL_COMMAND_CWD',
      [],
    );
  }
  const values: PlaceholderValues = {
    port: String(await freePort(options.host)),
    host: options.host,
    supabaseUrl: options.supabaseUrl,
    anonKey: options.anonKey,
  };
  const command = substitute(portal.command, values);
  const url = substitute(portal.url, values);
  const env = childEnv(
    process.env,
    Object.fromEntries(Object.entries(portal.env).map(([k, v]) => [k, substitute(v, values)])),
  );
  const running = runCommand(command, { cwd: portal.cwd, env });
  // Messages show the command as declared with its port filled in, never the key it was given.
  const shown = substitute(portal.command, { ...values, anonKey: '{anonKey}' });
  const redact = (line: string) => line.replaceAll(options.anonKey, '{anonKey}');
  try {
    await waitForAnswer(url, running, portal.timeoutMs);
  } catch (error) {
    // The boot error is what the caller must see; a failed stop is added to it, not lost.
    const stopFailure = await running.stop().then(
      () => undefined,
      (stopError: Error) => stopError,
    );
    const failure =
      error instanceof NotReady ? notReadyError(portal, shown, url, running, error, redact) : error;
    if (stopFailure) (failure as Error).message += `\n  then stopping it failed: ${stopFailure.message}`;
    throw failure;
  }

  const upstreamUrl = new URL(url);
  const upstream: Upstream = {
    host: upstreamUrl.hostname.replace(/^\[|\]$/g, ''),
    port: Number(values.port),
  };
  const server = createServer((req, res) => forward(req, res, upstream, options, portal.name));
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    proxyUpgrade(req, socket, head, upstream, {
      stripUpgrade: false,
      onUnreachable: () => socket.destroy(),
    });
  });
  let port: number;
  try {
    port = await listenOn(server, options.port, options.host, `${portal.name} portal`);
  } catch (error) {
    await running.stop();
    throw error;
  }
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
    port,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await running.stop();
    },
  };
}

function forward(
  req: IncomingMessage,
  res: ServerResponse,
  upstream: Upstream,
  options: PortalServeOptions,
  name: string,
): void {
  const forced = options.overrides().csp;
  if (forced) {
    // A fault's CSP replaces whatever the app sends: the deployment really serves the broken policy.
    const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => ServerResponse;
    res.writeHead = ((status: number, message: unknown, headers: Record<string, unknown>) => {
      headers['content-security-policy'] = forced;
      return writeHead(status, message, headers);
    }) as typeof res.writeHead;
  }
  // A fault's anon key: the deployment was built with a stale one, so every page and script the
  // command serves carries it where the healthy key was (the command itself is not restarted).
  const staleKey = options.overrides().anonKey;
  const replace = staleKey ? { from: options.anonKey, to: staleKey } : undefined;
  proxyHttp(
    req,
    res,
    upstream,
    options.csp ? { 'Content-Security-Policy': options.csp } : {},
    (error) => {
      const text = `502 Bad Gateway: the ${name} portal's command is not answering on ${upstream.host}:${upstream.port} (${error.message}).\n`;
      res.writeHead(502, {
        'Content-Type': 'text/plain; charset=utf-8',
        'Content-Length': Buffer.byteLength(text),
      });
      res.end(text);
    },
    replace,
  );
}

class NotReady extends Error {
  constructor(
    readonly exit: CommandExit | undefined,
    readonly lastAnswer: string,
  ) {
    super(exit ? 'exited' : 'timed out');
  }
}

/** Ready as Playwright's webServer judges a URL: 2xx, 3xx, or 400–403 (an app that wants a login). */
function answers(status: number): boolean {
  return (status >= 200 && status < 400) || (status >= 400 && status <= 403);
}

/** Poll the URL until it answers, the command exits, or the timeout passes. */
async function waitForAnswer(url: string, running: RunningCommand, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let lastAnswer = 'no answer yet';
  let pause = 50;
  while (true) {
    if (running.exit) throw new NotReady(running.exit, lastAnswer);
    const left = deadline - performance.now();
    if (left <= 0) throw new NotReady(undefined, lastAnswer);
    const pollMs = Math.ceil(Math.min(left, 2_000));
    try {
      const res = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(pollMs) });
      await res.body?.cancel();
      if (answers(res.status)) return;
      lastAnswer = `HTTP ${res.status}`;
    } catch (error) {
      if ((error as Error).name === 'TimeoutError') {
        // A poll the deadline cut short says less than the answer before it (ECONNREFUSED, HTTP 404).
        if (lastAnswer === 'no answer yet' || pollMs === 2_000)
          lastAnswer = `no response within ${pollMs} ms`;
      } else {
        const cause = (error as { cause?: { code?: string } }).cause;
        lastAnswer = cause?.code ?? (error as Error).message;
      }
    }
    // Between polls, an exit ends the wait at once.
    await Promise.race([
      new Promise((resolve) =>
        setTimeout(resolve, Math.min(pause, Math.max(0, deadline - performance.now()))),
      ),
      running.exited,
    ]);
    pause = Math.min(pause * 2, 500);
  }
}

function notReadyError(
  portal: CommandPortal,
  command: string,
  url: string,
  running: RunningCommand,
  why: NotReady,
  redact: (line: string) => string,
): PortalCommandError {
  const lines = running.lastLines().map(redact);
  const exit = why.exit;
  const how = !exit
    ? `did not answer ${url} within ${portal.timeoutMs} ms (last poll: ${why.lastAnswer})`
    : exit.error
      ? `could not be started (${exit.error.message})`
      : `exited before ${url} answered (${exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`})`;
  const next = !exit
    ? `check that the command listens on the port it is given ({port}) and that ${url} answers with 2xx/3xx/400–403; if it needs longer, raise ${portal.declaredAt}.timeoutMs, or set ${portal.declaredAt}.url to a page that answers.`
    : `run the command yourself in ${portal.cwd} and fix what it prints; it must keep running and serve ${url}.`;
  const output = lines.length
    ? `  last ${lines.length} lines of its output (stdout and stderr):\n${lines.map((l) => `    | ${l}`).join('\n')}`
    : '  it printed nothing.';
  return new PortalCommandError(
    `The ${portal.name} portal's command ${how}.\n` +
      `  command: ${command}\n` +
      `  cwd:     ${portal.cwd}\n` +
      `${output}\n` +
      `  next: ${next}`,
    exit ? 'PORTAL_COMMAND_EXITED' : 'PORTAL_COMMAND_TIMEOUT',
    lines,
  );
}
