import { randomUUID } from 'node:crypto';
import type { ProjectContext } from '../context.ts';
import { type Claims, JwtError } from '../jwt.ts';
import type { Logger } from '../log.ts';
import { describeToken, joinErrorReason, joinToken, shutdownMessage } from './auth.ts';
import { checkRead, checkWrite, type Extension, type Policies } from './authorization.ts';
import { bindingId } from './binding-id.ts';
import type { ChangeData, ChangesEngine, PostgresChangesParams, SubscribeResult } from './changes-api.ts';
import { Hub, type Member } from './hub.ts';
import type { PresenceRegistry } from './presence.ts';
import { type Incoming, message, type Outgoing, type PhxMessage, reply } from './wire/message.ts';

/** What every channel of a server shares. */
export interface ChannelDeps {
  ctx: ProjectContext;
  engine: ChangesEngine;
  hub: Hub;
  presence: PresenceRegistry;
  log: Logger;
}

/** The socket a channel lives on (stack/realtime/connection.ts). */
export interface ChannelHost {
  readonly id: string;
  readonly origin: string | undefined;
  /** The verified JWT the socket connected with (the mapped `apikey`). */
  readonly socketToken: string;
  /** The upgrade request's `x-*` headers: `request.headers` in private-channel policies. */
  readonly headers: Record<string, string>;
  send(out: Outgoing): void;
  detach(channel: Channel): void;
}

export type JoinOutcome =
  | { ok: true; channel: Channel; response: { postgres_changes: Record<string, unknown>[] } }
  | { ok: false; reason: string };

// Hosted re-checks the token every min(5 min, exp - now) (`confirm_token`).
const CONFIRM_TOKEN_INTERVAL_MS = 5 * 60 * 1000;

interface JoinConfig {
  ack: boolean;
  self: boolean;
  /** `broadcast.replication_ready`: the client wants to hear when replication is up. */
  replicationReady: boolean;
  presenceKey: string;
  presenceEnabled: boolean;
  isPrivate: boolean;
  bindings: { id: number; params: PostgresChangesParams }[];
}

/**
 * One joined `realtime:<name>` channel on one socket (`realtime_channel.ex`): its token and expiry,
 * its postgres_changes subscription in the changes engine, broadcast and presence. Everything it
 * sends carries its join_ref (pushes) or null (fan-out), as clients require (PROTOCOL.md §2.3).
 */
export class Channel implements Member {
  private closed = false;
  private changesKey: string | undefined;
  /** The first subscription while the engine registers it: its early deliveries count (and wait). */
  private joiningKey: string | undefined;
  private subscribeSeq = 0;
  private tokenTimer: NodeJS.Timeout | undefined;
  private readonly pendingDeliveries = new Set<NodeJS.Timeout>();
  private presenceTracked = false;
  /** The join's subscribe outcome, announced by start() once the join reply is out. */
  private subscription: SubscribeResult | undefined;
  /**
   * Frames from others (changes, broadcasts) that arrive between subscribing and the join reply:
   * a client drops them before it is joined, so they wait for start().
   */
  private held: Outgoing[] | undefined = [];
  private presenceEnabled: boolean;
  private readonly hubKey: string;
  readonly subTopic: string;

  private constructor(
    private readonly deps: ChannelDeps,
    private readonly host: ChannelHost,
    readonly topic: string,
    readonly joinRef: string | null,
    private readonly config: JoinConfig,
    private accessToken: string,
    private claims: Claims,
    /** Private channels only: what RLS on realtime.messages lets this token do on this topic. */
    private policies: Policies | undefined,
  ) {
    this.subTopic = topic.slice('realtime:'.length);
    this.hubKey = Hub.key(topic, config.isPrivate);
    this.presenceEnabled = config.presenceEnabled;
  }

  /**
   * Authorize and subscribe, in hosted's order (`join/3`), but with the postgres subscription live
   * BEFORE the reply so a change committed after "Subscribed to PostgreSQL" is never lost.
   */
  static async join(deps: ChannelDeps, host: ChannelHost, msg: PhxMessage): Promise<JoinOutcome> {
    const { topic } = msg;
    if (topic === 'realtime:')
      return { ok: false, reason: 'TopicNameRequired: You must provide a topic name' };
    const payload = asRecord(msg.payload);
    const config = parseConfig(payload);
    // The project's "private only" setting is checked before the token, as hosted does.
    if (deps.ctx.config.realtimePrivateOnly && !config.isPrivate) {
      return { ok: false, reason: 'PrivateOnly: This project only allows private channels' };
    }
    const token = joinToken(payload, host.socketToken);
    let claims: Claims;
    try {
      claims = await deps.ctx.jwt.verify(token);
    } catch (error) {
      if (!(error instanceof JwtError)) throw error;
      deps.log.info('join refused: token', {
        topic,
        socket: host.id,
        token: describeToken(token),
        problem: error.message,
      });
      return { ok: false, reason: joinErrorReason(error.problem) };
    }
    const subTopic = topic.slice('realtime:'.length);
    let policies: Policies | undefined;
    if (config.isPrivate) {
      policies = await readPolicies(deps, host, subTopic, claims, config.presenceEnabled);
      if (!policies) {
        return {
          ok: false,
          reason: `Unauthorized: You do not have permissions to read from this Channel topic: ${subTopic}`,
        };
      }
    }
    const channel = new Channel(deps, host, topic, msg.joinRef, config, token, claims, policies);
    channel.subscription = await channel.subscribeChanges();
    deps.hub.add(channel.hubKey, channel);
    channel.scheduleTokenCheck();
    deps.log.debug('joined', {
      topic,
      socket: host.id,
      token: describeToken(token, claims),
      bindings: config.bindings.length,
    });
    return {
      ok: true,
      channel,
      response: { postgres_changes: config.bindings.map((b) => ({ ...b.params, id: b.id })) },
    };
  }

  /** After the join reply: the postgres `system` message, then the presence state. */
  start(): void {
    if (this.closed) return;
    try {
      if (this.subscription) this.pushChangesStatus(this.subscription);
      this.subscription = undefined;
      if (this.config.replicationReady) {
        // Hosted polls its replication connection; here the engine streams before the service exists.
        this.pushOwn('system', {
          extension: 'system',
          status: 'ok',
          message: 'Replication connection established',
          channel: this.subTopic,
        });
      }
      if (this.presenceEnabled && this.mayRead('presence')) {
        this.pushOwn('presence_state', this.deps.presence.state(this.topic, this.config.isPrivate));
      }
    } finally {
      // Whatever happened above, the frames held for the join reply are released, never kept.
      const held = this.held ?? [];
      this.held = undefined;
      for (const out of held) this.host.send(out);
    }
  }

  /** A frame for this channel from its socket (join_ref already checked). */
  async handleIn(frame: Incoming): Promise<void> {
    if (this.closed) return;
    if (frame.kind === 'user_broadcast') {
      await this.broadcast(
        { kind: 'user_broadcast', topic: this.topic, broadcast: frame.broadcast },
        frame.ref,
      );
      return;
    }
    if (frame.kind === 'binary_push') return; // no realtime event takes a binary payload
    const msg = frame.message;
    switch (msg.event) {
      case 'broadcast':
        if (isRecord(msg.payload)) {
          await this.broadcast(message(null, null, this.topic, 'broadcast', msg.payload), msg.ref);
        }
        return;
      case 'presence':
        await this.handlePresence(msg);
        return;
      case 'access_token':
        await this.refreshToken(asRecord(msg.payload)['access_token']);
        return;
      default:
        // Hosted logs and drops unexpected events (`handle_in/3` catch-all); no reply.
        this.deps.log.debug('dropped unexpected event', { topic: this.topic, event: msg.event });
    }
  }

  /** `phx_leave`: reply ok, then `phx_close` (Phoenix `Channel.Server` + `socket.ex encode_close`). */
  leave(ref: string | null): void {
    this.host.send(reply(this.joinRef, ref, this.topic, 'ok', {}));
    this.close(true);
  }

  /**
   * Frames from other members of the topic (broadcast, presence_diff) and from the database arrive
   * here. A private channel hears broadcasts only with broadcast read, presence only with presence
   * read (hosted's fastlane metadata carries the same cached policies).
   */
  push(out: Outgoing): void {
    if (this.closed) return;
    const isPresence = out.kind === 'message' && out.message.event === 'presence_diff';
    if (!this.mayRead(isPresence ? 'presence' : 'broadcast')) return;
    this.forward(out);
  }

  private mayRead(extension: Extension): boolean {
    if (!this.policies) return true;
    return extension === 'broadcast' ? this.policies.broadcastRead : this.policies.presenceRead === true;
  }

  /**
   * Write permission on a private channel, checked on first use and cached until the token
   * changes (`broadcast.write` / `presence.write`). A check that fails to run is "not allowed".
   */
  private async mayWrite(extension: Extension): Promise<boolean> {
    const policies = this.policies;
    if (!policies) return true;
    const key = extension === 'broadcast' ? 'broadcastWrite' : 'presenceWrite';
    const cached = policies[key];
    if (cached !== undefined) return cached;
    const result = await checkWrite(
      this.deps.ctx,
      { topic: this.subTopic, claims: this.claims, headers: this.host.headers },
      extension,
    );
    if (!result.ok) {
      this.deps.log.info('write check failed to run; treated as not allowed', {
        topic: this.topic,
        extension,
        role: this.claims.role,
        error: result.error,
      });
    }
    const allowed = result.ok && result.allowed;
    // A token refresh while the check ran resets the policies; only cache for the current ones.
    if (this.policies === policies) policies[key] = allowed;
    return allowed;
  }

  /** Stop the channel: unsubscribe, untrack, forget timers; `notify` sends `phx_close`. */
  close(notify: boolean): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.tokenTimer);
    for (const t of this.pendingDeliveries) clearTimeout(t);
    this.pendingDeliveries.clear();
    this.held = undefined;
    if (this.changesKey) this.deps.engine.unsubscribe(this.changesKey);
    this.changesKey = undefined;
    this.deps.hub.remove(this.hubKey, this);
    if (this.presenceTracked) this.deps.presence.untrack(this.topic, this.config.isPrivate, this);
    this.host.detach(this);
    if (notify) this.host.send(message(this.joinRef, this.joinRef, this.topic, 'phx_close', {}));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private async subscribeChanges(): Promise<SubscribeResult | undefined> {
    if (this.config.bindings.length === 0) return undefined;
    const key = `${this.host.id}:${this.topic}:${this.joinRef ?? ''}:${++this.subscribeSeq}`;
    if (this.changesKey === undefined) this.joiningKey = key;
    let result: SubscribeResult;
    try {
      result = await this.deps.engine.subscribe({
        key,
        claims: this.claims,
        bindings: this.config.bindings,
        deliver: (ids, data) => this.deliver(key, ids, data),
      });
    } catch (error) {
      this.deps.log.error('changes engine failed to subscribe', { topic: this.topic, error: String(error) });
      result = { ok: false, message: `Unable to subscribe to changes: ${(error as Error).message}` };
    }
    if (this.closed) {
      // The socket went away while the engine was subscribing.
      this.deps.engine.unsubscribe(key);
      return result;
    }
    if (result.ok) {
      const previous = this.changesKey;
      // Switch atomically: deliveries of the previous subscription stop counting from here on.
      this.changesKey = key;
      if (previous) this.deps.engine.unsubscribe(previous);
    } else {
      this.deps.engine.unsubscribe(key);
    }
    if (this.joiningKey === key) this.joiningKey = undefined;
    return result;
  }

  private pushChangesStatus(result: SubscribeResult): void {
    this.pushOwn('system', {
      extension: 'postgres_changes',
      status: result.ok ? 'ok' : 'error',
      message: result.ok ? 'Subscribed to PostgreSQL' : result.message,
      channel: this.subTopic,
    });
  }

  /** One change for this channel: `[null,null,topic,"postgres_changes",{ids,data}]` (§2.8). */
  private deliver(key: string, ids: number[], data: ChangeData): void {
    if (this.closed || !this.isCurrent(key)) return;
    const out = message(null, null, this.topic, 'postgres_changes', { ids, data });
    const delay = this.deps.ctx.realtimeFaults.deliveryDelayMs(this.host.origin);
    if (delay <= 0) {
      this.forward(out);
      return;
    }
    const timer = setTimeout(() => {
      this.pendingDeliveries.delete(timer);
      if (!this.closed && this.isCurrent(key)) this.forward(out);
    }, delay);
    this.pendingDeliveries.add(timer);
  }

  /** A send without write permission is dropped silently, with no reply even under `ack` (§3.3). */
  private async broadcast(out: Outgoing, ref: string | null): Promise<void> {
    if (!(await this.mayWrite('broadcast'))) {
      this.deps.log.debug('private broadcast dropped: no write permission', {
        topic: this.topic,
        role: this.claims.role,
      });
      return;
    }
    if (this.closed) return;
    this.deps.hub.fanout(this.hubKey, out, this.config.self ? undefined : this);
    if (this.config.ack) this.host.send(reply(this.joinRef, ref, this.topic, 'ok', {}));
  }

  /** `presence_handler.ex`: track/untrack; a missing event is a no-op ok, an unknown one an error. */
  private async handlePresence(msg: PhxMessage): Promise<void> {
    const payload = asRecord(msg.payload);
    const event = typeof payload['event'] === 'string' ? payload['event'].toLowerCase() : undefined;
    if (event === undefined) {
      this.host.send(reply(this.joinRef, msg.ref, this.topic, 'ok', {}));
      return;
    }
    if (event === 'track') {
      const meta = payload['payload'] ?? {};
      if (!isRecord(meta)) {
        this.host.send(
          reply(this.joinRef, msg.ref, this.topic, 'error', {
            reason: 'Presence track payload must be a map',
          }),
        );
        return;
      }
      if (!(await this.mayWrite('presence'))) {
        // Hosted logs `UnableToHandlePresence: :unauthorized` and answers an empty error.
        this.host.send(reply(this.joinRef, msg.ref, this.topic, 'error', {}));
        return;
      }
      if (this.closed) return;
      // Marked before tracking: the entry is stored before its diff fans out, and close() must
      // untrack it whatever happens during that fan-out.
      this.presenceTracked = true;
      this.presenceEnabled = true;
      this.deps.presence.track(this.topic, this.config.isPrivate, this, this.config.presenceKey, meta);
    } else if (event === 'untrack') {
      this.deps.presence.untrack(this.topic, this.config.isPrivate, this);
      this.presenceTracked = false;
    } else {
      this.deps.log.info('unknown presence event', { topic: this.topic, event });
      this.host.send(reply(this.joinRef, msg.ref, this.topic, 'error', {}));
      return;
    }
    this.host.send(reply(this.joinRef, msg.ref, this.topic, 'ok', {}));
  }

  /**
   * `access_token` push (§2.10): `sb_…`, null and the current token are ignored; anything else is
   * verified, and the postgres subscription is re-made under the new claims (no 1–3 s backoff here).
   */
  private async refreshToken(token: unknown): Promise<void> {
    if (token === null || token === undefined || token === this.accessToken) return;
    if (typeof token !== 'string' || token.startsWith('sb_')) return;
    this.accessToken = token;
    let claims: Claims;
    try {
      claims = await this.deps.ctx.jwt.verify(token);
    } catch (error) {
      if (!(error instanceof JwtError)) throw error;
      this.deps.log.info('access_token refused, closing channel', {
        topic: this.topic,
        token: describeToken(token),
        problem: error.message,
      });
      this.shutdown(shutdownMessage(error.problem));
      return;
    }
    if (this.config.isPrivate) {
      // A new token resets the cached policies: read is checked again now, write on next use.
      const before = this.policies;
      const after = await readPolicies(
        this.deps,
        this.host,
        this.subTopic,
        claims,
        this.config.presenceEnabled,
      );
      if (this.closed || token !== this.accessToken) return;
      if (!after) {
        this.shutdown(`You do not have permissions to read from this Channel topic: ${this.subTopic}`);
        return;
      }
      if (
        (before?.broadcastRead && !after.broadcastRead) ||
        (before?.presenceRead === true && after.presenceRead !== true)
      ) {
        this.shutdown(`You no longer have permission to read from this Channel topic: ${this.subTopic}`);
        return;
      }
      this.policies = after;
    }
    if (this.closed) return;
    this.claims = claims;
    this.scheduleTokenCheck();
    this.deps.log.debug('access_token accepted', { topic: this.topic, token: describeToken(token, claims) });
    const result = await this.subscribeChanges();
    if (result && !this.closed) this.pushChangesStatus(result);
  }

  private scheduleTokenCheck(): void {
    clearTimeout(this.tokenTimer);
    // +1 ms: `exp` is in whole seconds and hosted treats `exp == now` as expired.
    const delay = Math.min(CONFIRM_TOKEN_INTERVAL_MS, this.claims.exp * 1000 - Date.now() + 1);
    this.tokenTimer = setTimeout(() => void this.confirmToken(), Math.max(0, delay));
    this.tokenTimer.unref();
  }

  private async confirmToken(): Promise<void> {
    if (this.closed) return;
    const token = this.accessToken;
    try {
      this.claims = await this.deps.ctx.jwt.verify(token);
    } catch (error) {
      if (!(error instanceof JwtError)) throw error;
      if (this.closed || token !== this.accessToken) return;
      this.deps.log.info('token expired, closing channel', {
        topic: this.topic,
        token: describeToken(token),
        problem: error.message,
      });
      this.shutdown(shutdownMessage(error.problem));
      return;
    }
    if (!this.closed && token === this.accessToken) this.scheduleTokenCheck();
  }

  /** `shutdown_response`: a `system` error naming the reason, then `phx_close`; no auto-rejoin. */
  private shutdown(reason: string): void {
    if (this.closed) return;
    this.pushOwn('system', { extension: 'system', status: 'error', message: reason, channel: this.subTopic });
    this.close(true);
  }

  private isCurrent(key: string): boolean {
    return key === this.changesKey || (this.changesKey === undefined && key === this.joiningKey);
  }

  private forward(out: Outgoing): void {
    if (this.held) this.held.push(out);
    else this.host.send(out);
  }

  /** A push from this channel: carries its join_ref and no ref. */
  private pushOwn(event: string, payload: unknown): void {
    this.host.send(message(this.joinRef, null, this.topic, event, payload));
  }
}

/**
 * The read check of a private join: the policies a channel starts with, or undefined when the
 * token may neither read broadcasts nor presence on the topic (or the check raised).
 */
async function readPolicies(
  deps: ChannelDeps,
  host: ChannelHost,
  subTopic: string,
  claims: Claims,
  presence: boolean,
): Promise<Policies | undefined> {
  const read = await checkRead(deps.ctx, { topic: subTopic, claims, headers: host.headers }, presence);
  if (!read.ok || (!read.broadcast && read.presence !== true)) {
    deps.log.info('private channel: no read permission', {
      topic: subTopic,
      socket: host.id,
      role: claims.role,
      ...(read.ok ? {} : { RlsPolicyError: read.error }),
    });
    return undefined;
  }
  return { broadcastRead: read.broadcast, presenceRead: read.presence };
}

function parseConfig(payload: Record<string, unknown>): JoinConfig {
  const config = asRecord(payload['config']);
  const broadcast = asRecord(config['broadcast']);
  const presence = asRecord(config['presence']);
  const rawKey = presence['key'];
  const changes = Array.isArray(config['postgres_changes']) ? config['postgres_changes'] : [];
  return {
    ack: flag(broadcast['ack']),
    self: flag(broadcast['self']),
    replicationReady: flag(broadcast['replication_ready']),
    presenceEnabled: flag(presence['enabled']),
    presenceKey: presenceKey(rawKey),
    isPrivate: flag(config['private']),
    // The reply echoes the params exactly as sent (nulls dropped, as `pg_change_params` does).
    bindings: changes.filter(isRecord).map((params) => {
      const p = params as PostgresChangesParams;
      return { id: bindingId(p), params: p };
    }),
  };
}

/**
 * Hosted (`Join.presence_key`) generates a UUID when the key is "" or absent; a key that is not a
 * string or a number fails the join payload's validation, which hosted only logs before going on
 * with the default (a UUID). String() of an object such as `{"toString":0}` would throw.
 */
function presenceKey(raw: unknown): string {
  if (typeof raw === 'string' && raw !== '') return raw;
  if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  return randomUUID();
}

/** `FlexibleBoolean`: true/false or their case-insensitive strings. */
function flag(value: unknown): boolean {
  return value === true || (typeof value === 'string' && value.toLowerCase() === 'true');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function asRecord(value: unknown): Record<string, unknown> {
  return isRecord(value) ? value : {};
}
