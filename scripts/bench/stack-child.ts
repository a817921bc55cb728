/**
 * The embedded stack in its own process, so a benchmark can read the server's CPU and RSS from /proc
 * without counting the load generator's. Started by `child-stack.ts`; talks over the IPC channel only,
 * so the keys it hands back never reach a terminal.
 */
import { startStack } from '../../stack/index.ts';
import { freePort } from '../../stack/ports.ts';

const send = (message: unknown) => process.send?.(message);

try {
  const started = performance.now();
  // RTM_BENCH_PERSIST_DIR: the warm-boot case reuses a data directory made by an earlier boot.
  const persistDir = process.env['RTM_BENCH_PERSIST_DIR'] || undefined;
  const stack = await startStack({ dbPort: await freePort(), local: { apiPort: 0 }, persistDir });
  const config = stack.local.config;
  send({
    type: 'ready',
    bootMs: performance.now() - started,
    url: stack.local.listenUrl,
    anonKey: config.anonKey,
    serviceRoleKey: config.serviceRoleKey,
    jwtSecret: config.jwtSecret,
    issuer: config.issuer,
    dbUrl: stack.cluster.url(config.database),
  });
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    stack.stop().then(
      () => process.exit(0),
      (error: Error) => {
        console.error(`bench stack: stopping failed: ${error.message}`);
        process.exit(1);
      },
    );
  };
  process.on('message', (m: { type?: string }) => m?.type === 'stop' && stop());
  process.on('disconnect', stop);
  process.on('SIGTERM', stop);
} catch (error) {
  send({ type: 'error', message: (error as Error).message });
  process.exit(1);
}
