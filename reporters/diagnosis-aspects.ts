import { STAGES, type Stage } from '../fixtures/evidence.ts';
import type { Difference, SummaryCell } from './summary-schema.ts';

/**
 * What the diagnosis compares between cells, each read from summary evidence and normalised so that
 * what differs by design (the portal's own name in its host, its user_role, token fingerprints of
 * different users) does not count as a difference, and what differs by fault does.
 */
export type Aspect = Difference['aspect'];

interface AspectSpec {
  /** The ladder stage that must have been reached for the value to mean anything. */
  stage: Stage;
  read(cell: SummaryCell): string;
}

export const ASPECTS: Record<Aspect, AspectSpec> = {
  portal: { stage: 'portal_reachable', read: portalValue },
  sign_in: { stage: 'signed_in', read: signInValue },
  origin: { stage: 'portal_reachable', read: (c) => (c.origin ? hostShape(c.origin, c.portal) : 'unknown') },
  csp_connect_src: {
    stage: 'portal_reachable',
    read: (c) => (c.cspConnectSrc ? [...c.cspConnectSrc].sort().join(' ') : 'no CSP connect-src'),
  },
  socket_url: { stage: 'socket_opened', read: socketValue },
  handshake: {
    stage: 'socket_opened',
    read: (c) =>
      c.handshake ? `${c.handshake.outcome}${c.handshake.status ? ` ${c.handshake.status}` : ''}` : 'none',
  },
  join_identity: { stage: 'socket_identity', read: joinIdentityValue },
  subscription: { stage: 'channel_joined', read: subscriptionValue },
  join_reply: { stage: 'channel_joined', read: joinReplyValue },
  system_message: { stage: 'changes_ready', read: systemValue },
  events: {
    stage: 'event_delivered',
    read: (c) => `matched ${c.events.matched}, duplicates ${c.events.duplicates}, joins ${maxJoins(c)}`,
  },
  latency: {
    stage: 'on_time',
    read: (c) =>
      c.latency.withinBudget === null
        ? 'no samples'
        : c.latency.withinBudget
          ? 'within budget'
          : 'over budget',
  },
};

/** The order the brief gives for "most telling first" when no catalogue fault ranks an aspect higher. */
export const DEFAULT_ORDER: Aspect[] = [
  'portal',
  'sign_in',
  'origin',
  'socket_url',
  'handshake',
  'csp_connect_src',
  'join_identity',
  'subscription',
  'join_reply',
  'system_message',
  'events',
  'latency',
];

/** Whether the cell got far enough for the aspect to be evidence rather than "not reached". */
export function reached(cell: SummaryCell, aspect: Aspect): boolean {
  if (!cell.stageReached) return false;
  return STAGES.indexOf(ASPECTS[aspect].stage) <= STAGES.indexOf(cell.stageReached);
}

/** Replace the portal's own name where it appears, so `agent.prod` and `client.prod` compare equal. */
export function normalise(text: string, portal: string): string {
  return portal ? text.split(portal).join('{portal}') : text;
}

function hostShape(url: string, portal: string): string {
  const u = new URL(url);
  // Local portals differ by port (3000/3001/3002) by design: compare scheme and host only.
  return `${u.protocol}//${normalise(u.hostname, portal)}`;
}

function portalValue(c: SummaryCell): string {
  const s = c.stages.find((x) => x.stage === 'portal_reachable');
  if (!s) return 'unknown';
  const status = s.evidence['status'];
  return `${s.status}${typeof status === 'number' ? ` (HTTP ${status})` : ''}`;
}

function signInValue(c: SummaryCell): string {
  const s = c.stages.find((x) => x.stage === 'signed_in');
  if (!s) return 'unknown';
  // The fixtures record what the dashboard showed (outcome, shownRole) and, when decoded, the claims.
  const e = s.evidence;
  const claims = (e['claims'] ?? {}) as Record<string, unknown>;
  const parts: string[] = [s.status];
  if (typeof e['outcome'] === 'string') parts.push(`outcome=${e['outcome']}`);
  if (typeof e['shownRole'] === 'string') parts.push(`role shown=${normalise(e['shownRole'], c.portal)}`);
  if (typeof claims['role'] === 'string') parts.push(`role=${claims['role']}`);
  if ('claims' in e) {
    const userRole = claims['user_role'] ?? claims['userRole'];
    parts.push(`user_role=${typeof userRole === 'string' ? normalise(userRole, c.portal) : '<missing>'}`);
  }
  return parts.join(', ');
}

function socketValue(c: SummaryCell): string {
  if (!c.socketUrl) return 'no socket opened';
  try {
    const u = new URL(c.socketUrl);
    const query = [...u.searchParams.entries()].map(([k, v]) => `${k}=${v}`).join('&');
    return `${u.protocol}//${normalise(u.host, c.portal)}${u.pathname}?${query}`;
  } catch (error) {
    if (error instanceof TypeError) return c.socketUrl;
    throw error;
  }
}

function joinIdentityValue(c: SummaryCell): string {
  const id = c.identities.find((i) => i.source === 'join_access_token');
  if (!id || id.kind === 'missing') return 'no access_token in phx_join (claims come from the URL apikey)';
  if (id.kind === 'opaque') return 'opaque sb_ key in phx_join (server falls back to the URL apikey)';
  const started = c.startedAt ? Date.parse(c.startedAt) / 1000 : null;
  const expired = id.exp !== undefined && started !== null && id.exp < started ? ', expired' : '';
  const userRole = id.userRole ? normalise(id.userRole, c.portal) : '<missing>';
  return `role=${id.role ?? '<missing>'}, user_role=${userRole}${expired}`;
}

function joinFrames(c: SummaryCell) {
  return c.frames.filter((f) => f.direction === 'sent' && f.event === 'phx_join' && f.topic !== 'phoenix');
}

function subscriptionValue(c: SummaryCell): string {
  const joins = joinFrames(c);
  if (joins.length === 0) return 'no phx_join sent';
  const payload = (joins[0]!.payload ?? {}) as {
    config?: { postgres_changes?: unknown[]; private?: unknown };
  };
  if (c.changes?.kind === 'broadcast') {
    // A Broadcast cell's subscription is its topic and whether it joined it private.
    return `broadcast on ${c.channelTopic ?? '?'}, private: ${payload.config?.private === true}; joins sent ${joins.length}`;
  }
  const bindings = (payload.config?.postgres_changes ?? []) as Record<string, unknown>[];
  const shown = bindings.map(
    (b) =>
      `${String(b['event'] ?? '?')} ${String(b['schema'] ?? '?')}.${String(b['table'] ?? '*')}` +
      (b['filter'] ? ` filter ${String(b['filter'])}` : ' no filter'),
  );
  return `${shown.join('; ') || 'no postgres_changes binding'}; joins sent ${joins.length}`;
}

function joinReplyValue(c: SummaryCell): string {
  const reply = c.joinReply as { status?: unknown; response?: { reason?: unknown } } | null | undefined;
  if (!reply || typeof reply !== 'object') return 'no reply';
  const reason = reply.response?.reason;
  return `${String(reply.status ?? '?')}${typeof reason === 'string' ? `: ${numbersOut(reason)}` : ''}`;
}

function systemValue(c: SummaryCell): string {
  const messages = c.systemMessages as ({
    extension?: unknown;
    status?: unknown;
    message?: unknown;
  } | null)[];
  const changes = messages.find((m) => m?.extension === 'postgres_changes');
  const parts = [
    changes ? `${String(changes.status)}: ${numbersOut(String(changes.message ?? ''))}` : 'none',
  ];
  // A channel shutdown (token expired, permissions revoked) arrives as an `extension: system` error.
  for (const m of messages) {
    if (m?.extension === 'system' && m.status === 'error')
      parts.push(`shutdown: ${numbersOut(String(m.message))}`);
  }
  return parts.join('; ');
}

function maxJoins(c: SummaryCell): number {
  return Math.max(0, ...Object.values(c.events.joinsPerTopic));
}

/** "expired 12 seconds ago" and "expired 40 seconds ago" are the same fact. */
function numbersOut(text: string): string {
  return text.replace(/\d+/g, 'N');
}
