/**
 * Helpers for the postgres_changes engine suites: subscriptions that record what they receive and
 * promise-based waits on a delivery condition (never on time).
 */
import { randomUUID } from 'node:crypto';
import type { Claims } from '../../stack/jwt.ts';
import type {
  ChangeData,
  ChangesEngine,
  PostgresChangesParams,
  SubscribeResult,
} from '../../stack/realtime/changes-api.ts';

export interface Received {
  ids: number[];
  data: ChangeData;
  at: number;
}

export interface Recorder {
  key: string;
  received: Received[];
  /** Resolves with the first delivery (already received or future) matching `predicate`. */
  waitFor(predicate: (r: Received) => boolean, what: string): Promise<Received>;
  result: SubscribeResult;
}

export function claimsFor(role: string, sub?: string, extra: Record<string, unknown> = {}): Claims {
  return {
    role,
    exp: Math.floor(Date.now() / 1000) + 3600,
    ...(sub ? { sub, aud: 'authenticated' } : {}),
    ...extra,
  } as Claims;
}

/** Subscribe one channel (key) with the given bindings (ids 1, 2, …) and record its deliveries. */
export async function record(
  engine: ChangesEngine,
  claims: Claims,
  bindings: PostgresChangesParams[],
): Promise<Recorder> {
  const received: Received[] = [];
  const waiters: { predicate: (r: Received) => boolean; resolve: (r: Received) => void }[] = [];
  const key = randomUUID();
  const result = await engine.subscribe({
    key,
    claims,
    bindings: bindings.map((params, i) => ({ id: i + 1, params })),
    deliver(ids, data) {
      const r = { ids, data, at: performance.now() };
      received.push(r);
      for (const w of [...waiters]) {
        if (w.predicate(r)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(r);
        }
      }
    },
  });
  return {
    key,
    received,
    result,
    waitFor(predicate, what) {
      const hit = received.find(predicate);
      if (hit) return Promise.resolve(hit);
      return new Promise<Received>((resolve, reject) => {
        const waiter = { predicate, resolve };
        waiters.push(waiter);
        // Bounded by the test's own timeout; this only makes the failure say what never came.
        setTimeout(() => {
          if (!waiters.includes(waiter)) return;
          reject(
            new Error(
              `Timed out waiting for ${what}. Received ${received.length} deliveries: ${JSON.stringify(received.map((r) => r.data))}`,
            ),
          );
        }, 15_000).unref();
      });
    },
  };
}

/** A delivery whose new or old record has this id. */
export function byId(id: unknown, type?: ChangeData['type']) {
  return (r: Received) =>
    (type === undefined || r.data.type === type) &&
    (r.data.record?.['id'] === id || r.data.old_record?.['id'] === id);
}
