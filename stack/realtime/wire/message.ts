/**
 * The Phoenix channel messages the realtime server reads and writes, independent of the serializer
 * (vsn 1.0.0 JSON objects, vsn 2.0.0 JSON arrays plus binary broadcast frames).
 */

/** Refs are strings chosen by the client (a socket-wide counter) or null. */
export type Ref = string | null;

export interface PhxMessage {
  joinRef: Ref;
  ref: Ref;
  topic: string;
  event: string;
  payload: unknown;
}

/**
 * A broadcast whose user payload travels as raw bytes: what a binary kind-3 frame carries in, and
 * what a binary kind-4 frame carries out (PROTOCOL.md §2.2). JSON payloads stay bytes so that the
 * fan-out to vsn 2.0.0 clients never re-encodes them, exactly as the hosted server forwards them.
 */
export interface UserBroadcast {
  userEvent: string;
  encoding: 'json' | 'binary';
  data: Buffer;
  /** Frame metadata (currently only `persist` from the client); absent = none. */
  meta?: Record<string, unknown>;
}

/** A decoded client frame. */
export type Incoming =
  | { kind: 'message'; message: PhxMessage }
  | { kind: 'user_broadcast'; joinRef: Ref; ref: Ref; topic: string; broadcast: UserBroadcast }
  /** vsn 2.0.0 binary kind 0: a push with a binary payload. No realtime event uses it; it is dropped. */
  | { kind: 'binary_push'; joinRef: Ref; topic: string; event: string; data: Buffer };

/** A server frame before serialization. */
export type Outgoing =
  | { kind: 'message'; message: PhxMessage }
  | { kind: 'user_broadcast'; topic: string; broadcast: UserBroadcast };

/** One WebSocket frame as `ws` sends it. */
export interface Frame {
  data: string | Buffer;
  binary: boolean;
}

export interface Serializer {
  readonly vsn: '1.0.0' | '2.0.0';
  decode(data: Buffer, isBinary: boolean): Incoming;
  /** undefined when this serializer cannot represent the frame (a binary payload for vsn 1.0.0). */
  encode(out: Outgoing): Frame | undefined;
}

/**
 * A frame the server cannot decode. The hosted server's socket process crashes on these and Cowboy
 * closes the connection with 1011; `code` is stable for tests and logs.
 */
export class FrameError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'FrameError';
  }
}

export function message(joinRef: Ref, ref: Ref, topic: string, event: string, payload: unknown): Outgoing {
  return { kind: 'message', message: { joinRef, ref, topic, event, payload } };
}

export function reply(
  joinRef: Ref,
  ref: Ref,
  topic: string,
  status: 'ok' | 'error',
  response: unknown,
): Outgoing {
  return message(joinRef, ref, topic, 'phx_reply', { status, response });
}
