import { execFile } from 'node:child_process';
import type { Server } from 'node:net';
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
