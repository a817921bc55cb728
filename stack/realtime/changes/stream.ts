/**
 * The decoded change stream of one engine: pgoutput messages turned into row changes with their
 * relation, commit timestamp and xid, and a replication connection that comes back (on a new
 * temporary slot) when it is lost. Changes committed while it is down are not delivered, as with
 * hosted Realtime when its slot is recreated; the log says so.
 */
import type { Logger } from '../../log.ts';
import type { Change } from './dispatch.ts';
import { commitTimestamp, type PgOutputMessage, type Relation } from './pgoutput.ts';
import { type ReplicationStream, type ReplicationTarget, startReplication } from './replication.ts';

/** Delays between reconnection attempts; the last one repeats. */
const RECONNECT_DELAYS_MS = [500, 1_000, 2_000, 5_000, 10_000];

export interface ChangeStreamOptions {
  target: ReplicationTarget;
  log: Logger;
  onChange(change: Change): void;
  /** A relation was (re)described: its schema may have changed. */
  onRelation(oid: number): void;
}

export class ChangeStream {
  private replication: ReplicationStream | undefined;
  private lost: Error | undefined;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;
  private attempts = 0;
  /** Times the stream came back after being lost. */
  reconnects = 0;
  private readonly relations = new Map<number, Relation>();
  private commitTs = '';
  private xid = 0;

  private constructor(private readonly options: ChangeStreamOptions) {}

  /** Resolves once streaming has started; a failure to start the first time is thrown. */
  static async start(options: ChangeStreamOptions): Promise<ChangeStream> {
    const stream = new ChangeStream(options);
    await stream.connect();
    return stream;
  }

  /** Why the stream is down right now, or undefined while it streams. */
  get failure(): Error | undefined {
    return this.lost;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    await this.replication?.stop();
  }

  private async connect(): Promise<void> {
    // A new slot describes every relation again before its first change.
    this.relations.clear();
    this.replication = await startReplication(
      this.options.target,
      (m) => this.onMessage(m),
      (error) => this.onLost(error),
      this.options.log,
    );
  }

  private onLost(error: Error): void {
    if (this.stopped || this.lost) return;
    this.lost = error;
    this.replication = undefined;
    this.options.log.error(
      'replication stream lost; reconnecting on a new slot. Changes committed until it is back are not delivered',
      { error: error.message },
    );
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    const delay = RECONNECT_DELAYS_MS[Math.min(this.attempts, RECONNECT_DELAYS_MS.length - 1)];
    this.attempts++;
    this.retry = setTimeout(() => {
      if (this.stopped) return;
      this.connect().then(
        () => {
          if (this.stopped) {
            void this.replication?.stop();
            return;
          }
          this.options.log.info('replication stream restored', { attempts: this.attempts });
          this.lost = undefined;
          this.attempts = 0;
          this.reconnects++;
        },
        (error: Error) => {
          this.options.log.warn('reconnecting the replication stream failed; retrying', {
            attempt: this.attempts,
            error: error.message,
          });
          this.scheduleReconnect();
        },
      );
    }, delay);
    this.retry.unref();
  }

  private onMessage(m: PgOutputMessage): void {
    switch (m.tag) {
      case 'begin':
        // Changes arrive only after their commit, so the begin message already has its timestamp.
        this.commitTs = commitTimestamp(m.commitTimeMicros);
        this.xid = m.xid;
        return;
      case 'relation':
        this.relations.set(m.relation.oid, m.relation);
        this.options.onRelation(m.relation.oid);
        return;
      case 'insert':
      case 'update':
      case 'delete': {
        const relation = this.relations.get(m.relationOid);
        if (!relation) {
          this.options.log.error('change for a relation the stream never described; skipped', {
            oid: m.relationOid,
          });
          return;
        }
        this.options.onChange({
          kind: m.tag === 'insert' ? 'INSERT' : m.tag === 'update' ? 'UPDATE' : 'DELETE',
          relation,
          newTuple: m.tag === 'delete' ? null : m.newTuple,
          oldTuple: m.tag === 'insert' ? null : m.oldTuple,
          oldIsKeyOnly: m.tag === 'insert' ? false : m.oldIsKeyOnly,
          commitTimestamp: this.commitTs,
          xid: this.xid,
        });
        return;
      }
      default:
        return;
    }
  }
}
