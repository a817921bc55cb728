/**
 * The seam between the Phoenix channel layer (sockets, joins, frames) and postgres_changes (the
 * replication stream, subscriptions, per-subscriber authorization). The channel layer owns ids and
 * wire frames; the changes engine owns everything Postgres.
 */
import type { Claims } from '../jwt.ts';
import type { DbBroadcast } from './db-broadcast/index.ts';

/** One `config.postgres_changes[]` entry exactly as the client sent it (PROTOCOL.md §2.5). */
export interface PostgresChangesParams {
  event: string;
  /** Absent when the client gave only a table (hosted then uses `public`). */
  schema?: string;
  table?: string;
  filter?: string;
  /** A list of column names; hosted refuses a string with a parse error. */
  select?: string[] | string;
  [key: string]: unknown;
}

/** The `data` object of a postgres_changes event (PROTOCOL.md §2.8). */
export interface ChangeData {
  schema: string;
  table: string;
  type: 'INSERT' | 'UPDATE' | 'DELETE';
  /** null only on the hosted 400/401 error events, which carry no commit data. */
  commit_timestamp: string | null;
  columns?: { name: string; type: string }[];
  record?: Record<string, unknown>;
  old_record?: Record<string, unknown> | null;
  errors: string[] | null;
}

export interface ChangesSubscription {
  /** Unique per channel join (a rejoin or a re-subscribe gets a new one). */
  key: string;
  /** Verified claims of the channel's current token: role and RLS context for every check. */
  claims: Claims;
  /** Bindings with the integer ids the join reply echoed, in request order. */
  bindings: { id: number; params: PostgresChangesParams }[];
  /** Called once per change with every binding id of this subscription that matched. */
  deliver(ids: number[], data: ChangeData): void;
}

/** Outcome of subscribing, turned by the channel into the `system` message of §2.7. */
export type SubscribeResult = { ok: true } | { ok: false; message: string };

export interface ChangesEngine {
  /**
   * Validate and register. Resolves only once the subscription is live, so a change committed after
   * the join reply is delivered (the embedded stack has no lost-first-event window).
   */
  subscribe(sub: ChangesSubscription): Promise<SubscribeResult>;
  unsubscribe(key: string): void;
  /**
   * Broadcast from Database: hear every committed `realtime.messages` row, in commit order. An
   * engine without a replication stream (a test double) has none. Returns the way to stop hearing.
   */
  onBroadcast?(listener: (message: DbBroadcast) => void): () => void;
  stop(): Promise<void>;
}
