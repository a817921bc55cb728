/**
 * The fuzz suite's stack, booted with `startTestStack()` in a process of its own (forked by
 * child-stack.ts). Issue 22 asks whether one bad frame can take the stack down: in its own process a
 * crash is an exit the test sees and a hang is a stack that stops answering while the test process
 * keeps its timers, where in-process either would take the test runner down with it. Talks over IPC
 * only (stack/child-ipc.ts, shared with the benchmark's child), so keys never reach a terminal.
 */
import '../../stack/node-support.ts';
import { serveToParent } from '../../stack/child-ipc.ts';
import { apiUrl, startTestStack } from '../support/stack.ts';

/**
 * Realtime Authorization for the private lanes of the channel fuzz (realtime-frames.test.ts): anyone
 * may join `fz-private-*` (the join's read probe runs and admits) and broadcast on `fz-private-1`
 * but not track presence there (the lazy write probe runs on the first send or track, and says
 * yes or no); `fz-num:<n>` is admitted by a policy that casts the topic's tail to int, so a hostile
 * tail makes the probe itself fail inside Postgres.
 */
const PRIVATE_LANES = `
  create policy "fuzz: anyone hears fz-private" on realtime.messages for select to anon, authenticated
    using (realtime.topic() like 'fz-private-%');
  create policy "fuzz: fz-num by number" on realtime.messages for select to anon, authenticated
    using (case when realtime.topic() like 'fz-num:%' then split_part(realtime.topic(), ':', 2)::int >= 0 else false end);
  create policy "fuzz: broadcasts on fz-private-1" on realtime.messages for insert to anon, authenticated
    with check (realtime.topic() = 'fz-private-1' and extension = 'broadcast');
`;

async function startFuzzStack() {
  const stack = await startTestStack();
  await stack.local.ctx.db.admin.query(PRIVATE_LANES);
  return stack;
}

await serveToParent('fuzz stack', startFuzzStack, (stack) => {
  const config = stack.local.config;
  return {
    url: apiUrl(stack),
    anonKey: config.anonKey,
    serviceRoleKey: config.serviceRoleKey,
    publishableKey: config.publishableKey,
    jwtSecret: config.jwtSecret,
    dataDir: stack.cluster.dataDir,
  };
});
