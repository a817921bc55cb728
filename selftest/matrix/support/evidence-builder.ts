import type { CellEvidence, RawFrame, RecordedSocket } from '../../../fixtures/ladder/recorded.ts';
import { JwtKeys } from '../../../stack/jwt.ts';
import { DEMO } from '../../../stack/keys.ts';

/**
 * Recorded evidence for a cell, shaped as the matrix records it from a real run (the frames are the
 * ones supabase-js 2.119 and the stack exchange, see PROTOCOL.md §2), so each verdict can be
 * produced by changing the one thing a real fault changes.
 */
export const USER_ID = '00000000-0000-4000-8000-00000000c001';
export const ROW_ID = '38922706-2731-4c09-93cc-7484dcb43149';
export const FENCE_ID = '2f752e40-1366-4113-83b6-50cc45d9d9a2';
export const TOPIC = 'realtime:public:tickets';
export const PASSWORD = 'generated-password-4f1b';
export const SERVICE_KEY = DEMO.serviceRoleKey;
const keys = new JwtKeys(DEMO.jwtSecret);

export async function userToken(claims: Record<string, unknown> = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return keys.sign({
    iss: 'http://127.0.0.1:54321/auth/v1',
    sub: USER_ID,
    aud: 'authenticated',
    role: 'authenticated',
    email: 'client@helpdesk.test',
    user_role: 'client',
    iat: now,
    exp: now + 3600,
    ...claims,
  });
}

export const frame = (direction: RawFrame['direction'], atMs: number, message: unknown[]): RawFrame => ({
  direction,
  atMs,
  data: JSON.stringify(message),
});

export const joinFrame = (atMs: number, token: string | undefined, ref = '6') =>
  frame('sent', atMs, [
    ref,
    ref,
    TOPIC,
    'phx_join',
    {
      config: {
        broadcast: { ack: false, self: false },
        presence: { key: '', enabled: false },
        postgres_changes: [{ event: '*', schema: 'public', table: 'tickets' }],
        private: false,
      },
      ...(token ? { access_token: token } : {}),
      version: 'realtime-js/2.119.1',
    },
  ]);

export const joinOk = (atMs: number, ref = '6') =>
  frame('received', atMs, [
    ref,
    ref,
    TOPIC,
    'phx_reply',
    {
      status: 'ok',
      response: { postgres_changes: [{ event: '*', schema: 'public', table: 'tickets', id: 23815140 }] },
    },
  ]);

export const systemFrame = (
  atMs: number,
  status: 'ok' | 'error',
  message: string,
  ref = '6',
  extension = 'postgres_changes',
) =>
  frame('received', atMs, [
    ref,
    null,
    TOPIC,
    'system',
    { extension, status, message, channel: 'public:tickets' },
  ]);

export const insertEvent = (atMs: number, id: string) =>
  frame('received', atMs, [
    null,
    null,
    TOPIC,
    'postgres_changes',
    {
      ids: [23815140],
      data: {
        schema: 'public',
        table: 'tickets',
        type: 'INSERT',
        commit_timestamp: '2026-11-23T01:07:47.464Z',
        columns: [{ name: 'id', type: 'uuid' }],
        record: { id, title: '[rtm:22c734d1] client-local sample 1/1 e9040e45' },
        errors: null,
      },
    },
  ]);

export function socket(frames: RawFrame[], patch: Partial<RecordedSocket> = {}): RecordedSocket {
  return {
    id: 1,
    url: `ws://127.0.0.1:54321/realtime/v1/websocket?apikey=${DEMO.anonKey}&vsn=2.0.0`,
    createdAtMs: 1990,
    handshake: { status: 101, statusText: 'Switching Protocols', atMs: 2000 },
    errors: [],
    frames,
    ...patch,
  };
}

/** A healthy client-local cell: every stage holds. Latency 150 ms against a 1000 ms budget. */
export async function healthyEvidence(): Promise<CellEvidence> {
  const token = await userToken();
  return {
    portal: 'client',
    env: 'local',
    targetKind: 'embedded',
    portalUrl: 'http://localhost:3000',
    channelTopic: TOPIC,
    table: { schema: 'public', name: 'tickets', primaryKey: ['id'] },
    budgetMs: 1000,
    user: { email: 'client@helpdesk.test', id: USER_ID, requiredClaims: { user_role: 'client' } },
    signInStrategy: 'ui',
    startedAt: '2026-11-23T01:07:45.000Z',
    finishedAt: '2026-11-23T01:07:48.000Z',
    portalResponse: { status: 200 },
    signIn: {
      strategy: 'ui',
      outcome: 'signed_in',
      url: 'http://localhost:3000/dashboard',
      shownEmail: 'Signed in as client@helpdesk.test',
      waitedMs: 800,
    },
    sockets: [
      socket([
        joinFrame(2060, token),
        joinOk(2110),
        systemFrame(2117, 'ok', 'Subscribed to PostgreSQL'),
        insertEvent(2300, ROW_ID),
        insertEvent(2500, FENCE_ID),
      ]),
    ],
    consoleErrors: [],
    readiness: { waitedMs: 120, timedOut: false, timeoutMs: 15000 },
    inserts: [
      { rowId: ROW_ID, sentAtMs: 2150, ackAtMs: 2190 },
      { rowId: FENCE_ID, sentAtMs: 2350, ackAtMs: 2390, fence: true },
    ],
    eventWait: { waitedMs: 350, timedOut: false, timeoutMs: 5000 },
    secrets: [SERVICE_KEY, PASSWORD],
    versions: { playwright: '1.64.1' },
  };
}
