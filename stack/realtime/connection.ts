import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import { Channel, type ChannelDeps, type ChannelHost, type JoinOutcome } from './channel.ts';
import { closeReason, errorText, preview } from './wire/bounds.ts';
import {
  FrameError,
  type Incoming,
  type Outgoing,
  type PhxMessage,
  reply,
  type Serializer,
} from './wire/message.ts';

export interface ConnectionLimits {
  /** Close a socket whose unsent bytes exceed this (a consumer that stopped reading). */
  sendBufferLimit: number;
}

/** WebSocket close codes this server uses, each with the reason text clients and logs see. */
export const CLOSE = {
  /**
   * Hosted: the socket process crashes on an undecodable frame and Cowboy closes with 1011. Any
   * other unexpected error while handling one socket's frame closes that socket the same way.
   */
  badFrame: 1011,
  /** Slow consumer: the server will not buffer without bound for one client. */
  slowConsumer: 1013,
  shutdown: 1001,
} as const;

/**
 * One WebSocket (`Phoenix.Socket` + `user_socket.ex`): decodes frames, answers heartbeats, routes
 * channel traffic by topic and join_ref, and owns the send path with its bounded buffer. Frames are
 * handled one at a time, as the socket process does, so a push right after a join sees the channel.
 */
export class Connection implements ChannelHost {
  readonly id = randomUUID().slice(0, 8);
  private readonly channels = new Map<string, Channel>();
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly deps: ChannelDeps,
    private readonly ws: WebSocket,
    private readonly serializer: Serializer,
    readonly origin: string | undefined,
    readonly socketToken: string,
    private readonly limits: ConnectionLimits,
    readonly headers: Record<string, string> = {},
  ) {
    ws.on('message', (data, isBinary) => {
      const frame = toBuffer(data);
      try {
        this.onFrame(frame, isBinary);
      } catch (error) {
        // Nothing a client sends may throw out of this handler: it would take the process down.
        this.crash('frame handling failed', error, frame, isBinary);
      }
    });
    ws.on('close', () => {
      try {
        this.onClose();
      } catch (error) {
        // Leaving channels fans out presence leaves to other sockets; a failure there is a bug
        // to log, never a reason for the process to end.
        deps.log.error('closing the socket’s channels failed', { socket: this.id, error: errorText(error) });
      }
    });
    ws.on('error', (error) => {
      // ws reports protocol violations (bad opcodes, oversized frames) here and closes the socket
      // itself (1002/1009); only this socket is affected.
      deps.log.info('socket error', { socket: this.id, error: error.message });
    });
  }

  /**
   * Never throws: a fan-out calls this once per member, and one member's frame that cannot be
   * encoded must not stop the others. Such a frame is dropped and logged (a server bug, since
   * decoding bounds what clients can put in one).
   */
  send(out: Outgoing): void {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > this.limits.sendBufferLimit) {
      this.overflow();
      return;
    }
    try {
      const frame = this.serializer.encode(out);
      if (!frame) return;
      this.ws.send(frame.data, { binary: frame.binary });
    } catch (error) {
      this.deps.log.error('could not send a frame; dropped', {
        socket: this.id,
        vsn: this.serializer.vsn,
        frame:
          out.kind === 'message' ? `${out.message.topic} ${out.message.event}` : `${out.topic} broadcast`,
        error: errorText(error),
      });
    }
  }

  detach(channel: Channel): void {
    if (this.channels.get(channel.topic) === channel) this.channels.delete(channel.topic);
  }

  /** Server shutdown: close the socket; clients reconnect on their own (1001 is not final). */
  shutdown(): Promise<void> {
    this.onClose();
    return this.closeSocket(CLOSE.shutdown, 'server shutting down');
  }

  private onFrame(data: Buffer, isBinary: boolean): void {
    if (this.closed) return;
    let frame: Incoming;
    try {
      frame = this.serializer.decode(data, isBinary);
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      this.deps.log.info('closing socket on undecodable frame', {
        socket: this.id,
        vsn: this.serializer.vsn,
        code: error.code,
        error: error.message,
      });
      this.fail(`${error.code}: ${error.message}`);
      return;
    }
    if (
      frame.kind === 'message' &&
      frame.message.topic === 'phoenix' &&
      frame.message.event === 'heartbeat'
    ) {
      // Answered at once, ahead of queued channel work: heartbeats only prove the socket is alive.
      this.send(reply(null, frame.message.ref, 'phoenix', 'ok', {}));
      return;
    }
    this.queue = this.queue
      .then(() => this.route(frame))
      .catch((error: unknown) => this.crash('frame handling failed', error, data, isBinary));
  }

  /**
   * An unexpected error while handling this socket's frame: logged once with what arrived (bounded,
   * tokens masked), and this socket alone is closed with 1011, as the hosted socket process crashes.
   */
  private crash(what: string, error: unknown, data: Buffer, isBinary: boolean): void {
    if (this.closed) return;
    this.deps.log.error(what, {
      socket: this.id,
      vsn: this.serializer.vsn,
      origin: this.origin,
      frame: isBinary
        ? `binary, ${data.length} bytes, kind ${data[0] ?? 'none'}`
        : preview(data.subarray(0, 400).toString('utf8')),
      bytes: data.length,
      error: errorText(error),
    });
    this.fail('internal error handling a frame');
  }

  /** Close this socket with 1011 and a reason that fits a close frame. */
  private fail(reason: string): void {
    this.onClose();
    void this.closeSocket(CLOSE.badFrame, closeReason(reason));
  }

  private async route(frame: Incoming): Promise<void> {
    if (this.closed) return;
    if (frame.kind === 'message' && frame.message.event === 'phx_join') {
      await this.join(frame.message);
      return;
    }
    const { topic, joinRef, ref, event } = addressOf(frame);
    const channel = this.channels.get(topic);
    if (!channel) {
      if (event === 'phx_leave') {
        // Phoenix answers a leave of an unknown topic with ok (the client raced a server close).
        this.send(reply(joinRef, ref, topic, 'ok', {}));
      } else if (frame.kind !== 'binary_push') {
        this.send(reply(null, ref, topic, 'error', { reason: 'unmatched topic' }));
      }
      return;
    }
    // A non-null join_ref of an earlier join is stale: the client raced a close; ignore it.
    if (joinRef !== null && joinRef !== channel.joinRef) return;
    if (event === 'phx_leave') {
      channel.leave(ref);
      return;
    }
    await channel.handleIn(frame);
  }

  private async join(msg: PhxMessage): Promise<void> {
    const { topic, ref, joinRef } = msg;
    if (!topic.startsWith('realtime:')) {
      this.send(reply(null, ref, topic, 'error', { reason: 'unmatched topic' }));
      return;
    }
    // Phoenix closes the existing channel of a topic before joining it again (socket.ex:771).
    this.channels.get(topic)?.close(true);
    if (this.deps.ctx.realtimeFaults.ignoreJoins(this.origin)) {
      this.deps.log.info('fault join-unanswered: ignoring phx_join', {
        socket: this.id,
        topic,
        origin: this.origin,
      });
      return;
    }
    let outcome: JoinOutcome;
    try {
      outcome = await Channel.join(this.deps, this, msg);
    } catch (error) {
      // Hosted rescues any exception in join/3 the same way, so the client is told instead of
      // waiting for its join timeout.
      this.deps.log.error('join failed unexpectedly', {
        socket: this.id,
        topic,
        error: errorText(error),
      });
      outcome = { ok: false, reason: `UnknownErrorOnChannel: ${(error as Error)?.message ?? String(error)}` };
    }
    if (this.closed) {
      if (outcome.ok) outcome.channel.close(false);
      return;
    }
    if (!outcome.ok) {
      const backoff = this.deps.ctx.config.realtimeChannelErrorBackoffMs ?? 0;
      if (backoff > 0) {
        // Hosted delays every join error reply; frames after it on this socket wait, as they do
        // behind the channel process there.
        await new Promise((resolve) => setTimeout(resolve, backoff).unref());
        if (this.closed) return;
      }
      this.send(reply(joinRef, ref, topic, 'error', { reason: outcome.reason }));
      return;
    }
    this.channels.set(topic, outcome.channel);
    this.send(reply(joinRef, ref, topic, 'ok', outcome.response));
    outcome.channel.start();
  }

  private overflow(): void {
    const reason = `slow consumer: over ${this.limits.sendBufferLimit} bytes unsent`;
    this.deps.log.warn('closing slow consumer', {
      socket: this.id,
      origin: this.origin,
      buffered: this.ws.bufferedAmount,
      limit: this.limits.sendBufferLimit,
    });
    this.onClose();
    void this.closeSocket(CLOSE.slowConsumer, reason);
  }

  /**
   * Close with a code and reason; a peer that does not answer the close handshake within a second
   * (one that stopped reading, or is gone) is cut off instead of holding the socket for ws's 30 s.
   */
  private closeSocket(code: number, reason: string): Promise<void> {
    const ws = this.ws;
    if (ws.readyState === ws.CLOSED) return Promise.resolve();
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    if (ws.readyState === ws.OPEN) ws.close(code, closeReason(reason));
    const kill = setTimeout(() => ws.terminate(), 1000);
    kill.unref();
    return closed.finally(() => clearTimeout(kill));
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const channel of [...this.channels.values()]) channel.close(false);
    this.channels.clear();
  }
}

function addressOf(frame: Incoming): {
  topic: string;
  joinRef: string | null;
  ref: string | null;
  event: string;
} {
  switch (frame.kind) {
    case 'message':
      return frame.message;
    case 'user_broadcast':
      return { topic: frame.topic, joinRef: frame.joinRef, ref: frame.ref, event: 'broadcast' };
    case 'binary_push':
      return { topic: frame.topic, joinRef: frame.joinRef, ref: null, event: frame.event };
  }
}

function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
