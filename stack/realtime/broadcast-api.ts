import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ProjectContext } from '../context.ts';
import { gatewayCredentials } from '../http/gateway.ts';
import { HttpError, sendJson } from '../http/server.ts';
import { type Claims, JwtError } from '../jwt.ts';
import type { Logger } from '../log.ts';
import { checkWrite, policyHeaders } from './authorization.ts';
import { Hub } from './hub.ts';
import { message, type Outgoing } from './wire/message.ts';

const API_PREFIX = '/realtime/v1/api/broadcast';
// Hosted validates against the tenant's max payload; the socket's frame limit is the same order.
const MAX_BODY = 5_000_000;

/**
 * The broadcast REST API (`router.ex`): `POST /api/broadcast` (batch, what `channel.send()` falls
 * back to when not joined) and `POST /api/broadcast/:topic/events/:event` (`httpSend`). Both answer
 * 202 with an empty body. Auth as `AuthTenant`: a JWT from `Authorization: Bearer` else `apikey`,
 * behind the gateway's key mapping; any failure is 401 `{"message":"Unauthorized"}`.
 */
export async function handleBroadcastApi(
  ctx: ProjectContext,
  hub: Hub,
  log: Logger,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
): Promise<void> {
  const single = /^\/realtime\/v1\/api\/broadcast\/([^/]+)\/events\/([^/]+)\/?$/.exec(url.pathname);
  const batch = url.pathname === API_PREFIX || url.pathname === `${API_PREFIX}/`;
  if (!single && !batch) throw new HttpError(404, { message: 'Not Found' });
  if (req.method !== 'POST')
    throw new HttpError(405, { message: `Method ${req.method} not allowed; use POST` });
  const claims = await authenticate(ctx, req, url);
  const headers = policyHeaders(req.headers);
  // One write check per distinct private topic of the request (hosted's batch does the same).
  const writes = new Map<string, Promise<boolean>>();
  const mayWrite = (topic: string) => {
    let allowed = writes.get(topic);
    if (!allowed) {
      allowed = checkWrite(ctx, { topic, claims, headers }, 'broadcast').then((r) => {
        if (!r.ok)
          log.info('broadcast api: write check failed to run', { topic, role: claims.role, error: r.error });
        return r.ok && r.allowed;
      });
      writes.set(topic, allowed);
    }
    return allowed;
  };
  const bytes = await readBytes(req, MAX_BODY);
  const body = bytes.toString('utf8');
  if (single) {
    const topic = pathParam(single[1]!, 'topic');
    const event = pathParam(single[2]!, 'event');
    const isPrivate = url.searchParams.get('private') === 'true';
    const binary = (req.headers['content-type'] ?? '').startsWith('application/octet-stream');
    if (!binary) parseJson(body, 'payload');
    // The single endpoint says no where the batch one drops silently (§3.5).
    if (isPrivate && !(await mayWrite(topic))) throw new HttpError(403, { message: 'Unauthorized' });
    await send(hub, log, claims, topic, isPrivate, mayWrite, {
      kind: 'user_broadcast',
      topic: `realtime:${topic}`,
      broadcast: { userEvent: event, encoding: binary ? 'binary' : 'json', data: bytes },
    });
  } else {
    for (const m of validateBatch(parseJson(body, 'body'))) {
      const payload: Record<string, unknown> = { event: m.event, payload: m.payload, type: 'broadcast' };
      if (typeof m.id === 'string') payload['meta'] = { id: m.id };
      await send(
        hub,
        log,
        claims,
        m.topic,
        m.private,
        mayWrite,
        message(null, null, `realtime:${m.topic}`, 'broadcast', payload),
      );
    }
  }
  sendJson(res, 202, undefined);
}

async function authenticate(ctx: ProjectContext, req: IncomingMessage, url: URL): Promise<Claims> {
  const { token } = gatewayCredentials(req, url, ctx.keys);
  try {
    return await ctx.jwt.verify(token);
  } catch (error) {
    if (!(error instanceof JwtError)) throw error;
    throw new HttpError(401, { message: 'Unauthorized' });
  }
}

/**
 * Private topics need an INSERT policy on `realtime.messages` for the caller's role (the write
 * probe); without one, hosted drops the message silently and still answers 202.
 */
async function send(
  hub: Hub,
  log: Logger,
  claims: Claims,
  topic: string,
  isPrivate: boolean,
  mayWrite: (topic: string) => Promise<boolean>,
  out: Outgoing,
): Promise<void> {
  if (isPrivate && !(await mayWrite(topic))) {
    log.info('broadcast api: private message dropped (no write permission)', { topic, role: claims.role });
    return;
  }
  const n = hub.fanout(Hub.key(`realtime:${topic}`, isPrivate), out);
  log.debug('broadcast api', { topic, isPrivate, receivers: n, role: claims.role });
}

interface BatchMessage {
  topic: string;
  event: string;
  payload: unknown;
  private: boolean;
  id?: unknown;
}

function validateBatch(body: unknown): BatchMessage[] {
  const messages = (body as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new HttpError(422, { errors: { messages: ["can't be blank"] } });
  }
  return messages.map((m, i) => {
    const r = (m ?? {}) as Record<string, unknown>;
    const missing = ['topic', 'event', 'payload'].filter((k) => r[k] === undefined || r[k] === null);
    if (missing.length > 0 || typeof r['topic'] !== 'string' || typeof r['event'] !== 'string') {
      throw new HttpError(422, {
        errors: {
          messages: [{ index: i, ...Object.fromEntries(missing.map((k) => [k, ["can't be blank"]])) }],
        },
      });
    }
    return {
      topic: r['topic'],
      event: r['event'],
      payload: r['payload'],
      private: r['private'] === true || r['private'] === 'true',
      id: r['id'],
    };
  });
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new HttpError(400, { message: `${what} is not valid JSON: ${(cause as Error).message}` });
  }
}

/** The body as bytes: `application/octet-stream` payloads must reach clients unchanged. */
async function readBytes(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, { message: `Payload Too Large: over ${limit} bytes` });
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function pathParam(raw: string, name: string): string {
  try {
    return decodeURIComponent(raw);
  } catch (cause) {
    if (!(cause instanceof URIError)) throw cause;
    throw new HttpError(400, { message: `The ${name} in the path is not valid percent-encoding: ${raw}` });
  }
}
