/**
 * Limits on what one client frame may cost the server, and renderings of bad input that stay
 * bounded whatever arrived. Every function here is iterative or depth-capped: a frame is at most
 * 5 MB (Cowboy's `max_frame_size`), but 5 MB of `[` is 5 million levels, and the recursive JSON
 * walks of V8 (`JSON.stringify`) overflow the stack long before that.
 */
import { FrameError } from './message.ts';

/**
 * Deepest JSON a frame may nest. Hosted has no such limit (Jason decodes recursively on the BEAM,
 * whose stacks grow on the heap); Node's `JSON.stringify` throws a RangeError a few thousand levels
 * down, and every frame the server sends embeds what a client sent (presence metas, broadcasts)
 * a few levels deeper. 512 is far beyond any real payload and far inside what encodes safely; a
 * deeper frame is refused as undecodable (README, "Hostile input").
 */
export const MAX_JSON_DEPTH = 512;

/** WebSocket close reasons are at most 123 bytes of UTF-8 (RFC 6455 §5.5: 125 minus the code). */
export const MAX_CLOSE_REASON_BYTES = 123;

/** Longest rendering of a bad frame in an error, a log line or a close reason. */
const PREVIEW_CHARS = 200;

/**
 * Whether `value` (a parsed JSON value) nests deeper than `max` arrays/objects. Iterative, and it
 * stops at the first path that is too deep, so a hostile frame costs one pass at most.
 */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [unknown, number];
    if (typeof node !== 'object' || node === null) continue;
    if (depth + 1 > max) return true;
    const children = Array.isArray(node) ? node : Object.values(node);
    for (const child of children) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return false;
}

/**
 * A short JSON-like rendering of a bad frame for errors, logs and close reasons: at most
 * PREVIEW_CHARS characters, nested values past a few levels shown as `[…]`/`{…}`, and never more
 * work than the characters it writes. A malformed frame can still carry a token (a join payload in
 * the wrong shape), so JWTs and opaque keys are masked.
 */
export function preview(value: unknown): string {
  const out = new Limited(PREVIEW_CHARS + 1);
  render(value, 0, out);
  const text = out.text
    .replace(/eyJ[\w-]*\.[\w-]*\.[\w-]*/g, '<jwt>')
    .replace(/sb_(publishable|secret)_[\w-]+/g, '<$1 key>');
  return text.length > PREVIEW_CHARS || out.full ? `${text.slice(0, PREVIEW_CHARS)}…` : text;
}

const PREVIEW_DEPTH = 8;

class Limited {
  text = '';
  constructor(private readonly max: number) {}
  get full(): boolean {
    return this.text.length >= this.max;
  }
  write(s: string): void {
    if (!this.full) this.text += s.length > this.max ? s.slice(0, this.max) : s;
  }
}

function render(value: unknown, depth: number, out: Limited): void {
  if (out.full) return;
  if (value === undefined) {
    out.write('undefined');
    return;
  }
  if (typeof value !== 'object' || value === null) {
    // Primitives: JSON's own rendering, on a string cut first so a 5 MB string costs nothing.
    const v =
      typeof value === 'string' && value.length > PREVIEW_CHARS ? value.slice(0, PREVIEW_CHARS) : value;
    out.write(JSON.stringify(v) ?? String(v));
    return;
  }
  const isArray = Array.isArray(value);
  if (depth >= PREVIEW_DEPTH) {
    out.write(isArray ? '[…]' : '{…}');
    return;
  }
  out.write(isArray ? '[' : '{');
  let first = true;
  for (const key in value) {
    if (out.full) return;
    if (!Object.hasOwn(value, key)) continue;
    if (!first) out.write(',');
    first = false;
    if (!isArray)
      out.write(`${JSON.stringify(key.length > PREVIEW_CHARS ? key.slice(0, PREVIEW_CHARS) : key)}:`);
    render((value as Record<string, unknown>)[key], depth + 1, out);
  }
  out.write(isArray ? ']' : '}');
}

/**
 * `text` cut to fit a close reason: at most 123 bytes of UTF-8, never splitting a character (`ws`
 * throws on a longer reason, and a split character is invalid UTF-8 the peer must reject).
 */
export function closeReason(text: string): string {
  if (Buffer.byteLength(text) <= MAX_CLOSE_REASON_BYTES) return text;
  const ellipsis = '…'; // 3 bytes
  let bytes = 0;
  let cut = '';
  for (const ch of text) {
    const size = Buffer.byteLength(ch);
    if (bytes + size > MAX_CLOSE_REASON_BYTES - 3) break;
    bytes += size;
    cut += ch;
  }
  return cut + ellipsis;
}

/**
 * A text frame's JSON, refused as undecodable when it is not JSON or nests deeper than
 * MAX_JSON_DEPTH (so nothing downstream can overflow re-encoding it).
 */
export function parseFrameJson(data: Buffer): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data.toString('utf8'));
  } catch (cause) {
    throw new FrameError('INVALID_JSON', `text frame is not JSON: ${(cause as Error).message}`);
  }
  if (nestsDeeperThan(parsed, MAX_JSON_DEPTH)) {
    throw new FrameError(
      'TOO_DEEP',
      `text frame nests deeper than ${MAX_JSON_DEPTH} levels (${data.length} bytes)`,
    );
  }
  return parsed;
}

/** An error for a log line: bounded, and never throws itself, whatever was thrown. */
export function errorText(error: unknown): string {
  try {
    return error instanceof Error ? String(error.stack ?? error.message).slice(0, 2000) : preview(error);
  } catch {
    return 'an error that cannot be rendered';
  }
}
