import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** What the bench needs to drive a stack; secrets stay in memory and are never printed. */
export interface Target {
  url: string;
  anonKey: string;
  serviceRoleKey: string;
  jwtSecret: string;
  issuer: string;
  /** Superuser connection for inserts, load users and the pgoutput floor. */
  dbUrl: string;
}

export interface ChildStack extends Target {
  pid: number;
  bootMs: number;
  stop(): Promise<void>;
}

const ENTRY = fileURLToPath(new URL('./stack-child.ts', import.meta.url));
const READY_TIMEOUT_MS = 120_000;

/** Boot the embedded stack in a child process (tsx) on free ports; resolves when it serves. */
export function startChildStack(): Promise<ChildStack> {
  const child: ChildProcess = fork(ENTRY, [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      reject(new Error(`The bench stack (pid ${child.pid}) was not ready within ${READY_TIMEOUT_MS} ms.`));
    }, READY_TIMEOUT_MS);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`The bench stack (pid ${child.pid}) exited with code ${code} before it was ready.`));
    });
    child.on('message', (m: { type: string; message?: string } & Target & { bootMs: number }) => {
      if (m.type === 'error') {
        clearTimeout(timer);
        reject(new Error(`The bench stack failed to boot: ${m.message}`));
        return;
      }
      if (m.type !== 'ready') return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve({
        url: m.url,
        anonKey: m.anonKey,
        serviceRoleKey: m.serviceRoleKey,
        jwtSecret: m.jwtSecret,
        issuer: m.issuer,
        dbUrl: m.dbUrl,
        bootMs: m.bootMs,
        pid: child.pid as number,
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
            child.once('exit', () => {
              clearTimeout(kill);
              done();
            });
            child.send({ type: 'stop' });
          }),
      });
    });
  });
}
