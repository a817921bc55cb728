/**
 * The embedded stack in its own process, so a benchmark can read the server's CPU and RSS from /proc
 * without counting the load generator's. Started by `child-stack.ts`; talks over the IPC channel only
 * (stack/child-ipc.ts), so the keys it hands back never reach a terminal.
 */
import { serveToParent } from '../../stack/child-ipc.ts';
import { startStack } from '../../stack/index.ts';
import { freePort } from '../../stack/ports.ts';

const started = performance.now();
// RTM_BENCH_PERSIST_DIR: the warm-boot case reuses a data directory made by an earlier boot.
const persistDir = process.env['RTM_BENCH_PERSIST_DIR'] || undefined;

await serveToParent(
  'bench stack',
  async () => startStack({ dbPort: await freePort(), local: { apiPort: 0 }, persistDir }),
  (stack) => {
    const config = stack.local.config;
    return {
      bootMs: performance.now() - started,
      url: stack.local.listenUrl,
      anonKey: config.anonKey,
      serviceRoleKey: config.serviceRoleKey,
      jwtSecret: config.jwtSecret,
      issuer: config.issuer,
      dbUrl: stack.cluster.url(config.database),
    };
  },
);
