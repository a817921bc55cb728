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

await serveToParent('fuzz stack', startTestStack, (stack) => {
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
