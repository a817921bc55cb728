/**
 * Invariant 3 of the fuzz suite (settings.ts says how to replay a run): raw anon-key sockets as an
 * attacker opens them, the probe that proves a batch was handled, and the judgement of how each
 * socket ended.
 */
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import type { Target } from './child-stack.ts';
import {
  MAX_CLOSE_REASON_BYTES,
  type Outcome,
  renderTree,
  type Tree,
  type Vsn,
  type Wire,
} from './frames.ts';
import { capped } from './settings.ts';
import { encodeAny } from './well-formed.ts';

export interface Closed {
  code: number;
  reason: Buffer;
}

export type Received = unknown;

/** A raw `ws` client with the anon key, as an attacker would open one; records all it receives. */
export class HostileSocket {
  readonly received: Received[] = [];
  readonly errors: string[] = [];
  closeInfo: Closed | undefined;
  readonly closed: Promise<Closed>;
  private readonly waiters = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      const buf = Buffer.isBuffer(data)
        ? data
        : Array.isArray(data)
          ? Buffer.concat(data)
          : Buffer.from(data);
      if (isBinary) this.received.push(buf);
      else {
        try {
          this.received.push(JSON.parse(buf.toString('utf8')));
        } catch {
          // Not JSON (a SyntaxError is all JSON.parse throws): kept as text for the judges to see.
          this.received.push({ unparsable: buf.toString('utf8').slice(0, 200) });
        }
      }
      this.wake();
    });
    ws.on('error', (error) => this.errors.push(error.message));
    this.closed = new Promise((resolve) =>
      ws.once('close', (code, reason) => {
        this.closeInfo = { code, reason };
        this.wake();
        resolve(this.closeInfo);
      }),
    );
  }

  static open(url: string, headers: Record<string, string> = {}): Promise<HostileSocket> {
    const ws = new WebSocket(url, { headers, perMessageDeflate: false });
    return capped(
      `opening a socket to ${url.replace(/apikey=[^&]*/, 'apikey=…')}`,
      new Promise<HostileSocket>((resolve, reject) => {
        ws.once('open', () => resolve(new HostileSocket(ws)));
        ws.once('unexpected-response', (_req, res) => {
          reject(new Error(`upgrade refused: ${res.statusCode}`));
          ws.terminate();
        });
        ws.once('error', (error) => reject(new Error(`socket failed to open: ${error.message}`)));
      }),
    ).catch((error: Error) => {
      ws.terminate();
      throw error;
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Put one frame (or raw bytes under `ws`) on the socket; after a close it is dropped. */
  put(wire: Wire): void {
    if (this.ws.readyState !== WebSocket.OPEN) return;
    const done = () => undefined;
    if (wire.kind === 'raw') {
      (this.ws as unknown as { _socket: Socket })._socket.write(wire.bytes, done);
      return;
    }
    wire.fragments.forEach((part, i) => {
      this.ws.send(part, { binary: wire.binary, fin: i === wire.fragments.length - 1 }, done);
    });
  }

  sendText(text: string): void {
    if (this.ws.readyState === WebSocket.OPEN) this.ws.send(text, () => undefined);
  }

  /** The first received frame that matches (already here or still to come), or the close. */
  until(match: (frame: Received) => boolean): Promise<{ frame: Received } | { closed: Closed }> {
    return new Promise((resolve) => {
      const check = () => {
        const frame = this.received.find(match);
        if (frame !== undefined) {
          this.waiters.delete(check);
          resolve({ frame });
        } else if (this.closeInfo) {
          this.waiters.delete(check);
          resolve({ closed: this.closeInfo });
        }
      };
      this.waiters.add(check);
      check();
    });
  }

  terminate(): void {
    this.ws.terminate();
  }
}

/** Hostile sockets a run left open on purpose (live through its invariants), closed by the next. */
export class Lingering {
  private socks: HostileSocket[] = [];

  keep(sock: HostileSocket): void {
    this.socks.push(sock);
  }

  closeAll(): void {
    for (const s of this.socks) s.terminate();
    this.socks = [];
  }
}

/** A socket with the public anon key, as every hostile client and witness of the suite opens one. */
export function openAnonSocket(target: Target, vsn: Vsn): Promise<HostileSocket> {
  return HostileSocket.open(socketUrl(target, vsn));
}

export function socketUrl(target: Target, vsn: Vsn, key: string = target.anonKey): string {
  return `${target.url.replace('http', 'ws')}/realtime/v1/websocket?apikey=${encodeAny(key)}&vsn=${vsn}`;
}

/** A v2 array or v1 object frame, as clients send them. */
export function phx(
  vsn: Vsn,
  joinRef: string | null,
  ref: string | null,
  topic: string,
  event: string,
  payload: Tree,
): string {
  if (vsn === '2.0.0')
    return `[${renderTree(joinRef)},${renderTree(ref)},${renderTree(topic)},${renderTree(event)},${renderTree(payload)}]`;
  return `{"join_ref":${renderTree(joinRef)},"ref":${renderTree(ref)},"topic":${renderTree(topic)},"event":${renderTree(event)},"payload":${renderTree(payload)}}`;
}

export interface Msg {
  joinRef: unknown;
  ref: unknown;
  topic: unknown;
  event: unknown;
  payload: unknown;
}

/** A received frame as a message (v2 array or v1 object), or undefined for anything else. */
export function asMsg(frame: Received): Msg | undefined {
  if (Array.isArray(frame) && frame.length === 5) {
    const [joinRef, ref, topic, event, payload] = frame as unknown[];
    return { joinRef, ref, topic, event, payload };
  }
  if (frame && typeof frame === 'object' && !Buffer.isBuffer(frame) && 'event' in frame) {
    const m = frame as Record<string, unknown>;
    return {
      joinRef: m['join_ref'],
      ref: m['ref'],
      topic: m['topic'],
      event: m['event'],
      payload: m['payload'],
    };
  }
  return undefined;
}

export const isReply = (topic: string, ref: string) => (f: Received) => {
  const m = asMsg(f);
  return !!m && m.topic === topic && m.ref === ref && m.event === 'phx_reply';
};

let probes = 0;

/**
 * After a hostile batch: a `phx_leave` of a topic nobody joined, answered `ok` through the socket's
 * frame queue (not ahead of it, as heartbeats are), so a reply proves every earlier frame was
 * handled. Resolves with the reply or the socket's close, whichever comes first.
 */
export function probe(sock: HostileSocket, vsn: Vsn): Promise<{ frame: Received } | { closed: Closed }> {
  const topic = `realtime:probe-${randomUUID()}`;
  const ref = `probe-${++probes}`;
  sock.sendText(phx(vsn, null, ref, topic, 'phx_leave', {}));
  return capped('a hostile socket: neither the probe reply nor a close', sock.until(isReply(topic, ref)));
}

/**
 * Invariant 3 for one hostile socket: its end matches what its first refused frame calls for, the
 * close code is one the server may use, and the reason fits a close frame. Returns the problems
 * (empty when all is well); closes the invariants allow but that hint at a bug go to `note`.
 */
export function judgeEnd(
  expected: Outcome,
  end: { frame: Received } | { closed: Closed },
  note: (key: string, detail: string) => void,
): string[] {
  const problems: string[] = [];
  if ('frame' in end) {
    if (expected.close !== false && expected.close !== 'any') {
      problems.push(
        `expected the server to close this socket (${JSON.stringify(expected)}) but it answered the probe`,
      );
    }
    return problems;
  }
  const { code, reason } = end.closed;
  const text = reason.toString('utf8');
  if (reason.length > MAX_CLOSE_REASON_BYTES) {
    problems.push(
      `close reason is ${reason.length} bytes (max ${MAX_CLOSE_REASON_BYTES}): ${JSON.stringify(text)}`,
    );
  }
  const allowed = [1011, 1009, 1002, 1007];
  if (expected.close === 'echo') {
    if (code !== expected.echo) problems.push(`a client close ${expected.echo} was answered with ${code}`);
    return problems;
  }
  if (!allowed.includes(code)) {
    problems.push(
      `socket closed with ${code} ${JSON.stringify(text)}: not a confined close (1011/1009/1002/1007)`,
    );
    return problems;
  }
  if (expected.close === false) {
    note(`decodable frames closed a socket with ${code}`, JSON.stringify(text));
  } else if (expected.close === 1011) {
    if (code !== 1011)
      problems.push(`an undecodable frame (${expected.code}) closed the socket with ${code}, not 1011`);
    else if (!text.startsWith(expected.code))
      note(`1011 reason without the FrameError code ${expected.code}`, JSON.stringify(text));
  } else if (expected.close !== 'any' && code !== expected.close) {
    problems.push(`expected close ${expected.close}, got ${code} ${JSON.stringify(text)}`);
  }
  return problems;
}
