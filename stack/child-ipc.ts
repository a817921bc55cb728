/**
 * A stack served from a process of its own to the parent that forked it, over the IPC channel only
 * (so the keys it hands back never reach a terminal): `ready` with what the parent needs once it
 * serves, or `error` if booting failed; it stops, and the process exits, when the parent sends
 * `stop`, disconnects or sends SIGTERM. The entry points that use it differ in how they boot the
 * stack and what they hand back (the benchmark's and the fuzz suite's).
 */

export interface Stoppable {
  stop(): Promise<void>;
}

/** `name` prefixes the one line printed when stopping fails. */
export async function serveToParent<S extends Stoppable>(
  name: string,
  boot: () => Promise<S>,
  ready: (stack: S) => Record<string, unknown>,
): Promise<void> {
  const send = (message: unknown) => process.send?.(message);
  try {
    const stack = await boot();
    send({ ...ready(stack), type: 'ready' });
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      stack.stop().then(
        () => process.exit(0),
        (error: Error) => {
          console.error(`${name}: stopping failed: ${error.message}`);
          process.exit(1);
        },
      );
    };
    process.on('message', (m: { type?: string }) => m?.type === 'stop' && stop());
    process.on('disconnect', stop);
    process.on('SIGTERM', stop);
  } catch (error) {
    // The parent reports the failure (it owns the terminal); the exit is what ends its wait.
    send({ type: 'error', message: (error as Error).message });
    process.exit(1);
  }
}
