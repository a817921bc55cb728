/**
 * Raw HTTP over a net socket, for the upgrade and HTTP fuzz files: requests written byte by byte as
 * given, and one response read by its own framing. settings.ts says how to replay a run.
 */
import { connect } from 'node:net';
import { describeError } from './frames.ts';
import { CAP_MS } from './settings.ts';

export interface RawAnswer {
  /** Final status (after any 1xx but 101), or undefined when the server closed without one. */
  status: number | undefined;
  head: string;
  body: Buffer;
  /** How the exchange ended: a complete response, or the server closing/resetting the socket. */
  ended: 'complete' | 'closed';
}

/**
 * Send `request` on a fresh connection and read one response: status line, headers, and a body by
 * Content-Length or chunked framing (none for HEAD, 1xx, 204, 304), or until the server closes.
 * A 101 ends the exchange at once (the socket is then closed by us).
 */
export function rawExchange(port: number, request: Buffer, method: string): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let buf = Buffer.alloc(0);
    let settled = false;
    const finish = (answer: RawAnswer) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(answer);
    };
    const parse = (closed: boolean): RawAnswer | undefined => {
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0)
          return closed
            ? {
                status: undefined,
                head: buf.toString('latin1').slice(0, 300),
                body: Buffer.alloc(0),
                ended: 'closed',
              }
            : undefined;
        const head = buf.subarray(0, end).toString('latin1');
        const status = Number(/^HTTP\/\d\.\d (\d{3})/.exec(head)?.[1] ?? Number.NaN);
        const rest = buf.subarray(end + 4);
        if (status >= 100 && status < 200 && status !== 101) {
          buf = rest;
          continue;
        }
        const answer = (body: Buffer, ended: RawAnswer['ended']): RawAnswer => ({
          status: Number.isNaN(status) ? undefined : status,
          head,
          body,
          ended,
        });
        if (status === 101 || method === 'HEAD' || status === 204 || status === 304)
          return answer(Buffer.alloc(0), 'complete');
        const length = /\r\ncontent-length: *(\d+)/i.exec(head)?.[1];
        if (length !== undefined) {
          if (rest.length >= Number(length)) return answer(rest.subarray(0, Number(length)), 'complete');
          return closed ? answer(rest, 'closed') : undefined;
        }
        if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
          const body = dechunk(rest);
          if (body) return answer(body, 'complete');
          return closed ? answer(rest, 'closed') : undefined;
        }
        return closed ? answer(rest, 'closed') : undefined;
      }
    };
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const answer = parse(false);
      if (answer) finish(answer);
    });
    // A reset is an answer too: 'close' follows every 'error' and judges what arrived.
    socket.on('error', () => undefined);
    socket.on('close', () => finish(parse(true) as RawAnswer));
    socket.on('connect', () => socket.write(request));
    setTimeout(() => {
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(new Error(`no response and no close within ${CAP_MS} ms (${buf.length} bytes so far)`));
    }, CAP_MS).unref();
  });
}

/** A complete chunked body, or undefined while the last chunk has not arrived. */
function dechunk(data: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf('\r\n', at);
    if (eol < 0) return undefined;
    const size = Number.parseInt(data.subarray(at, eol).toString('latin1'), 16);
    if (Number.isNaN(size)) return Buffer.concat(parts);
    if (size === 0)
      return data.indexOf('\r\n\r\n', eol) >= 0 || data.length >= eol + 4 ? Buffer.concat(parts) : undefined;
    if (data.length < eol + 2 + size + 2) return undefined;
    parts.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}

/** One HTTP/1.x request as bytes: the request line and headers exactly as given, then the body. */
export interface RawRequest {
  method: string;
  target: string;
  version: string;
  headers: [string, string][];
  body?: Buffer;
}

export function requestBytes(r: RawRequest): Buffer {
  const head = `${r.method} ${r.target} ${r.version}\r\n${r.headers.map(([n, v]) => `${n}: ${v}\r\n`).join('')}\r\n`;
  return Buffer.concat([Buffer.from(head, 'utf8'), r.body ?? Buffer.alloc(0)]);
}

/** A request for a failure message: the head (cut), the body's size. */
export function describeRequest(r: RawRequest): string {
  const headers = r.headers.map(([n, v]) => `${n}: ${v.length > 80 ? `${v.slice(0, 80)}…(${v.length})` : v}`);
  const shown = headers.length > 12 ? [...headers.slice(0, 12), `…(${headers.length} headers)`] : headers;
  return `${r.method} ${r.target.length > 200 ? `${r.target.slice(0, 200)}…` : r.target} ${r.version}\n  ${shown.join('\n  ')}${r.body ? `\n  <body ${r.body.length} bytes: ${JSON.stringify(r.body.subarray(0, 80).toString())}>` : ''}`;
}

/**
 * `rawExchange` of `req` on the stack's port, judged as every fuzz file judges it (invariant 3):
 * silence and a status line outside 100–599 fail with the request; `tail` adds the stack's log.
 */
export async function answerTo(port: number, req: RawRequest, tail: () => string): Promise<RawAnswer> {
  let answer: RawAnswer;
  try {
    answer = await rawExchange(port, requestBytes(req), req.method);
  } catch (error) {
    throw new Error(`invariant 3: ${describeError(error)} for\n${describeRequest(req)}${tail()}`);
  }
  const { status } = answer;
  if (status !== undefined && (status < 100 || status > 599)) {
    throw new Error(`an answer with status ${status} to\n${describeRequest(req)}`);
  }
  return answer;
}
