import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Who holds a TCP port, from `ss -ltnp` (process name and pid when visible to us), or a sentence
 * saying why we could not tell. Only used to word an error, so it never throws.
 */
export async function describePortHolder(port: number): Promise<string> {
  try {
    const { stdout } = await run('ss', ['-Hltnp', `sport = :${port}`], { timeout: 3000 });
    const lines = stdout.trim().split('\n').filter(Boolean);
    if (!lines.length) return 'no listener is visible to `ss` any more (it may have just exited)';
    const users = lines.flatMap((l) =>
      [...l.matchAll(/\("([^"]+)",pid=(\d+)/g)].map((m) => `${m[1]} (pid ${m[2]})`),
    );
    return users.length ? [...new Set(users)].join(', ') : `a process ss cannot name: ${lines[0]?.trim()}`;
  } catch (error) {
    return `unknown (running \`ss -ltnp\` failed: ${(error as Error).message})`;
  }
}

/** Listen, and when the port is taken say by what and how to proceed. */
export async function listenOn(server: Server, port: number, host: string, what: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  }).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EADDRINUSE') {
      throw new Error(`The ${what} could not listen on ${host}:${port}: ${error.message}`, { cause: error });
    }
    throw new Error(
      `The ${what} cannot listen on ${host}:${port}: the port is taken by ${await describePortHolder(port)}. ` +
        'If that is a running `npm run stack`, reuse it (its settings are in .stack/runtime.json); ' +
        'otherwise stop it, or start on other ports.',
      { cause: error },
    );
  });
  const address = server.address();
  return typeof address === 'object' && address ? address.port : port;
}

/**
 * Before a fixed-port boot: which of these ports are already taken, and by what. Checking first
 * means nothing is half-started when one is busy (Postgres would otherwise fail deep in its log).
 */
export async function takenPorts(
  wanted: { port: number; what: string }[],
  host = '127.0.0.1',
): Promise<string[]> {
  const problems: string[] = [];
  for (const { port, what } of wanted) {
    if (!port) continue;
    const probe = createServer();
    const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      probe.once('error', resolve);
      probe.listen(port, host, () => probe.close(() => resolve(undefined)));
    });
    if (error?.code === 'EADDRINUSE')
      problems.push(`${what} port ${port} is taken by ${await describePortHolder(port)}`);
    else if (error) problems.push(`${what} port ${port} cannot be bound: ${error.message}`);
  }
  return problems;
}
