import { describe, expect, it } from 'vitest';
import { STAGES } from '../../fixtures/evidence.ts';
import { judgeCell } from '../../fixtures/ladder/judge.ts';
import type { CellEvidence } from '../../fixtures/ladder/recorded.ts';
import { DEMO } from '../../stack/keys.ts';
import {
  FENCE_ID,
  frame,
  healthyEvidence,
  insertEvent,
  joinFrame,
  joinOk,
  PASSWORD,
  ROW_ID,
  SERVICE_KEY,
  socket,
  systemFrame,
  TOPIC,
  userToken,
} from './support/evidence-builder.ts';

async function judgeWith(change: (e: CellEvidence) => void | Promise<void>) {
  const e = await healthyEvidence();
  await change(e);
  return judgeCell(e);
}

function statuses(result: ReturnType<typeof judgeCell>) {
  return result.stages.map((s) => s.status);
}

describe('judgeCell: the ladder from recorded evidence', () => {
  it('passes a healthy cell, with the latency measured insert → frame on one clock', async () => {
    const result = judgeCell(await healthyEvidence());
    expect(result.verdict).toBe('PASS');
    expect(result.failedStage).toBeNull();
    expect(result.cause).toBe('Every stage held.');
    expect(statuses(result)).toEqual(STAGES.map(() => 'passed'));
    expect(result.latency).toMatchObject({ samplesMs: [150], p50: 150, p95: 150, p99: 150, budgetMs: 1000 });
    expect(result.events).toEqual({ matched: 1, duplicates: 0, joinsPerTopic: { [TOPIC]: 1 } });
    expect(result.handshake).toEqual({ status: 101, outcome: 'open' });
    expect(result.socketUrl).toMatch(/apikey=<anon key [0-9a-f]{8}>&vsn=2\.0\.0$/);
    expect(result.versions.supabaseJs).toBeUndefined(); // filled by the walk, not the judge
    expect(result.stages[8]!.summary).toContain('a later fence row arrived after it');
  });

  it('operations on postgres_changes: UPDATE by record, DELETE by old_record, a duplicate UPDATE named', async () => {
    const change = (atMs: number, type: string, record: unknown, oldRecord: unknown) =>
      frame('received', atMs, [
        null,
        null,
        TOPIC,
        'postgres_changes',
        {
          ids: [23815140],
          data: { schema: 'public', table: 'tickets', type, record, old_record: oldRecord, errors: null },
        },
      ]);
    const token = await userToken();
    const e = await healthyEvidence();
    e.operations = ['INSERT', 'UPDATE', 'DELETE'];
    e.sockets = [
      socket([
        joinFrame(2060, token),
        joinOk(2110),
        systemFrame(2117, 'ok', 'Subscribed to PostgreSQL'),
        insertEvent(2300, ROW_ID),
        change(2340, 'UPDATE', { id: ROW_ID, title: 'x (updated)' }, {}),
        change(2380, 'DELETE', {}, { id: ROW_ID }),
        insertEvent(2500, FENCE_ID),
      ]),
    ];
    e.inserts = [
      { rowId: ROW_ID, sentAtMs: 2150, ackAtMs: 2190 },
      { rowId: ROW_ID, operation: 'UPDATE', sentAtMs: 2310, ackAtMs: 2320 },
      { rowId: ROW_ID, operation: 'DELETE', sentAtMs: 2350, ackAtMs: 2360 },
      { rowId: FENCE_ID, sentAtMs: 2400, ackAtMs: 2450, fence: true },
    ];
    const result = judgeCell(e);
    expect(result.verdict, result.cause).toBe('PASS');
    expect(result.latency.samplesMs).toEqual([150, 30, 30]);

    e.sockets[0]!.frames.splice(5, 0, change(2345, 'UPDATE', { id: ROW_ID, title: 'x (updated)' }, {}));
    const twice = judgeCell(e);
    expect(twice.verdict).toBe('DUPLICATE_EVENT');
    expect(twice.cause).toBe(`The UPDATE of row ${ROW_ID} arrived 2 times on ${TOPIC}.`);
  });

  it('never lets a signature, the service key or a password into the result', async () => {
    const e = await healthyEvidence();
    e.inserts[0]!.rowId = ROW_ID;
    e.insertError = undefined;
    const text = JSON.stringify(judgeCell(e));
    const token = await userToken();
    expect(text).not.toContain(token.split('.')[2]);
    expect(text).not.toContain(SERVICE_KEY);
    expect(text).not.toContain(DEMO.anonKey.split('.')[2]);
    expect(text).toContain('<signature removed>');
    const failed = judgeCell({ ...e, insertError: `HTTP 401 for ${SERVICE_KEY} with ${PASSWORD}` });
    expect(JSON.stringify(failed)).not.toContain(SERVICE_KEY);
    expect(JSON.stringify(failed)).not.toContain(PASSWORD);
  });

  it('PORTAL_UNREACHABLE: the portal answered 502; nothing after stage 1 is claimed', async () => {
    const result = await judgeWith((e) => {
      e.portalResponse = { status: 502 };
    });
    expect(result.verdict).toBe('PORTAL_UNREACHABLE');
    expect(result.failedStage).toBe('portal_reachable');
    expect(result.cause).toBe('GET http://localhost:3000 answered HTTP 502.');
    expect(statuses(result)).toEqual(['failed', ...STAGES.slice(1).map(() => 'not_reached')]);
  });

  it('PORTAL_UNREACHABLE: the page could not load at all', async () => {
    const result = await judgeWith((e) => {
      e.portalResponse = { error: 'page.goto: net::ERR_CONNECTION_REFUSED at http://localhost:3000/login' };
    });
    expect(result.cause).toBe(
      'Loading http://localhost:3000 failed: page.goto: net::ERR_CONNECTION_REFUSED at http://localhost:3000/login',
    );
  });

  it('SIGN_IN_FAILED quotes the form error', async () => {
    const result = await judgeWith((e) => {
      e.signIn = {
        strategy: 'ui',
        outcome: 'error',
        url: 'http://localhost:3000/login',
        errorText: 'Invalid login credentials',
        waitedMs: 300,
      };
    });
    expect(result.verdict).toBe('SIGN_IN_FAILED');
    expect(result.cause).toBe(
      'Signing in as client@helpdesk.test (ui sign-in) failed: "Invalid login credentials".',
    );
  });

  it('ROLE_REJECTED when the portal sends the user to /unauthorized', async () => {
    const result = await judgeWith((e) => {
      e.signIn = {
        strategy: 'ui',
        outcome: 'unauthorized',
        url: 'http://localhost:3000/unauthorized',
        waitedMs: 300,
      };
    });
    expect(result.verdict).toBe('ROLE_REJECTED');
    expect(result.failedStage).toBe('signed_in');
    expect(result.cause).toContain(
      'the portal says the user is not allowed (page at http://localhost:3000/unauthorized). The portal requires user_role=client',
    );
  });

  it('SOCKET_BLOCKED by CSP names the console violation', async () => {
    const csp =
      "Refused to connect to 'wss://api.prod.localhost:8443/realtime/v1/websocket?apikey=x&vsn=2.0.0' because it violates the following Content Security Policy directive: \"connect-src 'self' https://api.prod.localhost:8443\".";
    const result = await judgeWith((e) => {
      e.sockets = [];
      e.consoleErrors = [{ atMs: 2000, text: csp }];
    });
    expect(result.verdict).toBe('SOCKET_BLOCKED');
    expect(result.cause).toBe(`The browser blocked the socket before any handshake: ${csp}`);
    expect(result.handshake).toEqual({ outcome: 'blocked' });
  });

  it('SOCKET_BLOCKED when the page opened no realtime socket at all', async () => {
    const result = await judgeWith((e) => {
      e.sockets = [];
      e.readiness = { waitedMs: 15000, timedOut: true, timeoutMs: 15000 };
    });
    expect(result.cause).toBe('The page opened no realtime WebSocket within 15000 ms (sockets seen: none).');
  });

  it('SOCKET_REJECTED with the handshake status from CDP', async () => {
    const result = await judgeWith((e) => {
      e.sockets = [socket([], { handshake: { status: 403, statusText: 'Forbidden', atMs: 2000 } })];
    });
    expect(result.verdict).toBe('SOCKET_REJECTED');
    expect(result.cause).toMatch(
      /^The upgrade of ws:\/\/127\.0\.0\.1:54321\/realtime\/v1\/websocket\?apikey=<anon key [0-9a-f]{8}>&vsn=2\.0\.0 was answered HTTP 403 Forbidden instead of 101 Switching Protocols\.$/,
    );
    expect(result.handshake).toEqual({ status: 403, outcome: 'rejected' });
  });

  it("SOCKET_REJECTED from Chromium's socket error when no handshake was captured", async () => {
    const result = await judgeWith((e) => {
      e.sockets = [
        socket([], {
          handshake: undefined,
          errors: [
            { atMs: 2001, message: 'Error during WebSocket handshake: Unexpected response code: 401' },
          ],
        }),
      ];
    });
    expect(result.verdict).toBe('SOCKET_REJECTED');
    expect(result.cause).toContain(
      'answered HTTP 401 instead of 101 Switching Protocols (Chromium: "Error during WebSocket handshake: Unexpected response code: 401").',
    );
  });

  it('SOCKET_REJECTED for a 401, which Chromium reports only as an authentication failure', async () => {
    const result = await judgeWith((e) => {
      e.sockets = [
        socket([], {
          handshake: undefined,
          errors: [{ atMs: 2001, message: 'HTTP Authentication failed; no valid credentials available' }],
        }),
      ];
    });
    expect(result.verdict).toBe('SOCKET_REJECTED');
    expect(result.handshake).toEqual({ status: 401, outcome: 'rejected' });
    expect(result.cause).toMatch(
      /answered HTTP 401 instead of 101 Switching Protocols \(Chromium: "HTTP Authentication failed; no valid credentials available"\)\.$/,
    );
  });

  it('JOINED_AS_ANON when the join carries the anon key (the anon apikey in the URL alone is normal)', async () => {
    const result = await judgeWith((e) => {
      e.sockets[0]!.frames[0] = joinFrame(2060, DEMO.anonKey);
    });
    expect(result.verdict).toBe('JOINED_AS_ANON');
    expect(result.failedStage).toBe('socket_identity');
    expect(result.cause).toMatch(
      /^The channel realtime:public:tickets is authorized by the phx_join's access_token: anon key [0-9a-f]{8}, not client@helpdesk\.test's JWT\.$/,
    );
  });

  it('JOINED_AS_ANON when the join has no access_token: the server falls back to the URL apikey', async () => {
    const result = await judgeWith((e) => {
      e.sockets[0]!.frames[0] = joinFrame(2060, undefined);
    });
    expect(result.verdict).toBe('JOINED_AS_ANON');
    expect(result.cause).toContain('the URL apikey (the phx_join carried no user access_token');
  });

  it('passes an anon join upgraded by an access_token push before the insert', async () => {
    const token = await userToken();
    const result = await judgeWith((e) => {
      const frames = e.sockets[0]!.frames;
      frames[0] = joinFrame(2060, DEMO.anonKey);
      frames.splice(2, 0, frame('sent', 2112, ['6', '7', TOPIC, 'access_token', { access_token: token }]));
    });
    expect(result.verdict).toBe('PASS');
    expect(result.stages[3]!.summary).toContain(
      'channel identity from the latest access_token push: authenticated',
    );
    expect(result.identities.map((i) => i.source)).toEqual([
      'url_apikey',
      'join_access_token',
      'access_token_push',
    ]);
  });

  it("JOIN_ERROR carries the server's reason", async () => {
    const result = await judgeWith((e) => {
      e.sockets[0]!.frames = [
        e.sockets[0]!.frames[0]!,
        frame('received', 2110, [
          '6',
          '6',
          TOPIC,
          'phx_reply',
          { status: 'error', response: { reason: 'InvalidJWTToken: Token has expired 12 seconds ago' } },
        ]),
      ];
      e.inserts = [];
    });
    expect(result.verdict).toBe('JOIN_ERROR');
    expect(result.cause).toBe(
      'The server refused phx_join realtime:public:tickets: "InvalidJWTToken: Token has expired 12 seconds ago".',
    );
  });

  it('JOIN_TIMEOUT when the join is never answered', async () => {
    const result = await judgeWith((e) => {
      e.sockets[0]!.frames = [
        e.sockets[0]!.frames[0]!,
        frame('sent', 12060, ['6', '8', TOPIC, 'phx_leave', {}]),
      ];
      e.readiness = { waitedMs: 10100, timedOut: false, timeoutMs: 15000 };
      e.inserts = [];
    });
    expect(result.verdict).toBe('JOIN_TIMEOUT');
    expect(result.cause).toBe('No phx_reply to phx_join realtime:public:tickets (ref 6) within 10100 ms.');
  });

  it('CHANGES_UNAVAILABLE quotes the system error (table not in the publication)', async () => {
    const message =
      'Unable to subscribe to changes with given parameters. Please check Realtime is enabled for the given connect parameters: [event: *, schema: public, table: tickets, filters: [], select: nil]';
    const result = await judgeWith((e) => {
      e.sockets[0]!.frames = [...e.sockets[0]!.frames.slice(0, 2), systemFrame(2117, 'error', message)];
      e.inserts = [];
    });
    expect(result.verdict).toBe('CHANGES_UNAVAILABLE');
    expect(result.cause).toBe(`system error: "${message}".`);
  });

  it('CHANGES_UNAVAILABLE when SUBSCRIBED came but "Subscribed to PostgreSQL" never did', async () => {
    const result = await judgeWith((e) => {
      e.sockets[0]!.frames = e.sockets[0]!.frames.slice(0, 2);
      e.inserts = [];
      e.readiness = { waitedMs: 15000, timedOut: true, timeoutMs: 15000 };
    });
    expect(result.verdict).toBe('CHANGES_UNAVAILABLE');
    expect(result.cause).toContain('no "Subscribed to PostgreSQL" system message arrived within 15000 ms');
  });

  it('TOKEN_EXPIRED when the server shuts the channel on expiry', async () => {
    const result = await judgeWith((e) => {
      e.sockets[0]!.frames = [
        ...e.sockets[0]!.frames.slice(0, 2),
        systemFrame(2200, 'error', 'Token has expired 3 seconds ago', '6', 'system'),
        frame('received', 2201, ['6', '6', TOPIC, 'phx_close', {}]),
      ];
      e.inserts = [];
    });
    expect(result.verdict).toBe('TOKEN_EXPIRED');
    expect(result.cause).toBe('The server shut the channel down: "Token has expired 3 seconds ago".');
  });

  it('TOKEN_EXPIRED, not NO_EVENT, when the token expires after changes were ready and the row never comes', async () => {
    const result = await judgeWith((e) => {
      e.sockets[0]!.frames = [
        ...e.sockets[0]!.frames.slice(0, 3),
        systemFrame(2300, 'error', 'Token has expired 0 seconds ago', '6', 'system'),
        frame('received', 2301, ['6', '6', TOPIC, 'phx_close', {}]),
      ];
      e.inserts = [e.inserts[0]!];
      e.eventWait = { waitedMs: 5000, timedOut: true, timeoutMs: 5000 };
    });
    expect(result.verdict).toBe('TOKEN_EXPIRED');
    expect(result.failedStage).toBe('event_delivered');
    expect(result.cause).toContain('"Token has expired 0 seconds ago"');
  });

  it('NO_EVENT lists what the channel received instead', async () => {
    const result = await judgeWith((e) => {
      e.sockets[0]!.frames = [
        ...e.sockets[0]!.frames.slice(0, 3),
        frame('received', 2400, [null, '9', 'phoenix', 'phx_reply', { status: 'ok', response: {} }]),
      ];
      e.inserts = [e.inserts[0]!];
      e.eventWait = { waitedMs: 5000, timedOut: true, timeoutMs: 5000 };
    });
    expect(result.verdict).toBe('NO_EVENT');
    expect(result.cause).toBe(
      `1 of 1 inserted rows never arrived: row ${ROW_ID} of public.tickets was committed (REST answered after 40 ms), and no postgres_changes INSERT for it came on realtime:public:tickets within 5000 ms; frames received meanwhile: phoenix phx_reply ×1.`,
    );
    expect(result.latency.samplesMs).toEqual([]);
  });

  it('NO_EVENT names an insert the matrix itself could not make', async () => {
    const result = await judgeWith((e) => {
      e.inserts = [];
      e.insertError = 'Could not insert a test ticket: HTTP 401 {"message":"Invalid API key"}';
    });
    expect(result.verdict).toBe('NO_EVENT');
    expect(result.cause).toBe(
      'The matrix could not insert the test row: Could not insert a test ticket: HTTP 401 {"message":"Invalid API key"}',
    );
  });

  it('EVENT_LATE compares p95 with the budget', async () => {
    const result = await judgeWith((e) => {
      e.sockets[0]!.frames[3] = insertEvent(2150 + 1500, ROW_ID);
    });
    expect(result.verdict).toBe('EVENT_LATE');
    expect(result.cause).toBe(
      'p95 latency 1500 ms is over the local budget of 1000 ms (p50 1500 ms, 1 sample(s): 1500 ms).',
    );
  });

  it('p50/p95/p99 over several samples (MATRIX_SAMPLES)', async () => {
    const result = await judgeWith((e) => {
      const frames = e.sockets[0]!.frames.slice(0, 3);
      e.inserts = [];
      for (let i = 0; i < 20; i++) {
        const id = `00000000-0000-4000-8000-0000000000${String(i).padStart(2, '0')}`;
        const sent = 3000 + i * 100;
        e.inserts.push({ rowId: id, sentAtMs: sent, ackAtMs: sent + 5 });
        frames.push(insertEvent(sent + 10 + i, id));
      }
      e.inserts.push({ rowId: FENCE_ID, sentAtMs: 6000, ackAtMs: 6005, fence: true });
      frames.push(insertEvent(6010, FENCE_ID));
      e.sockets[0]!.frames = frames;
    });
    expect(result.verdict).toBe('PASS');
    expect(result.latency).toMatchObject({ p50: 19, p95: 28, p99: 29 });
  });

  it('DUPLICATE_EVENT when one row arrives twice', async () => {
    const result = await judgeWith((e) => {
      e.sockets[0]!.frames.splice(4, 0, insertEvent(2310, ROW_ID));
    });
    expect(result.verdict).toBe('DUPLICATE_EVENT');
    expect(result.cause).toBe(`Row ${ROW_ID} arrived 2 times on realtime:public:tickets.`);
    expect(result.events.duplicates).toBe(1);
  });

  it('DUPLICATE_JOIN when a second client joins the topic while the first is live', async () => {
    const token = await userToken();
    const result = await judgeWith((e) => {
      e.sockets.push(
        socket(
          [
            joinFrame(2070, token, '3'),
            joinOk(2120, '3'),
            systemFrame(2125, 'ok', 'Subscribed to PostgreSQL', '3'),
            insertEvent(2305, ROW_ID),
            insertEvent(2505, FENCE_ID),
          ],
          {
            id: 2,
          },
        ),
      );
    });
    expect(result.verdict).toBe('DUPLICATE_JOIN');
    expect(result.cause).toBe(
      'realtime:public:tickets was joined 2 times at once (2 phx_join sent); each live join gets its own copy of every event.',
    );
  });

  it('DUPLICATE_JOIN when the second client joins only after the fence arrived on the first', async () => {
    const token = await userToken();
    const result = await judgeWith((e) => {
      e.sockets.push(
        socket(
          [
            joinFrame(2600, token, '3'),
            joinOk(2620, '3'),
            systemFrame(2625, 'ok', 'Subscribed to PostgreSQL', '3'),
          ],
          {
            id: 2,
            createdAtMs: 2000,
            handshake: { status: 101, statusText: 'Switching Protocols', atMs: 2590 },
          },
        ),
      );
      e.settle = { waitedMs: 130, timedOut: false, timeoutMs: 5000, unsettledSocketIds: [] };
    });
    expect(result.verdict).toBe('DUPLICATE_JOIN');
    expect(result.failedStage).toBe('exactly_once');
  });

  it('a rejoin after the server closed the channel is not a duplicate', async () => {
    const token = await userToken();
    const result = await judgeWith((e) => {
      const s = e.sockets[0]!;
      s.frames = [
        joinFrame(1000, token, '3'),
        joinOk(1010, '3'),
        frame('received', 1020, ['3', '3', TOPIC, 'phx_error', {}]),
        ...s.frames,
      ];
    });
    expect(result.verdict).toBe('PASS');
  });
});
