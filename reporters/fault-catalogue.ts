import { causeOf } from '../fixtures/doctor/cause.ts';
import type { DoctorReport, Finding, FindingId } from '../fixtures/doctor/types.ts';
import type { Aspect } from './diagnosis-aspects.ts';
import { ASPECTS } from './diagnosis-aspects.ts';
import type { SummaryCell } from './summary-schema.ts';

/**
 * shared/FAILURES.md as code: which catalogue fault a failing cell's evidence matches, which aspects
 * prove it (listed first in the diagnosis), and what to do next. Matching reads evidence, not the
 * stack's fault switches, so it works the same against a real deployment.
 */
export interface FaultMatch {
  fault: string | null;
  /** The aspects that show the fault, most telling first. */
  aspects: Aspect[];
  nextStep: string;
  /** The doctor's finding the fault rests on, when the cell ran the doctor and it found a cause. */
  doctorCause?: Finding;
}

/**
 * The catalogue fault each doctor finding is the database-side cause of. Findings without a switch
 * in the catalogue (a row filter, a column list, no primary key) name no fault, only their cause.
 */
const FAULT_OF_FINDING: Partial<Record<FindingId, string>> = {
  'publication.missing': 'table-not-published',
  'publication.no_insert': 'insert-not-published',
  'grant.schema_usage': 'schema-usage-revoked',
  'grant.table_select': 'select-revoked',
  'filter.excludes_row': 'filter-mismatch',
  'rls.no_policy': 'rls-hides-rows',
  'rls.row_hidden': 'rls-hides-rows',
  'broadcast.read_denied': 'broadcast-no-select-policy',
  'broadcast.policy_error': 'broadcast-no-select-policy',
  'broadcast.topic_mismatch': 'broadcast-topic-mismatch',
  'broadcast.private_mismatch': 'broadcast-not-private',
  'broadcast.not_security_definer': 'broadcast-not-security-definer',
  'broadcast.private_only': 'broadcast-private-only',
};

/**
 * A read check refused to anon is not a missing policy: the private channel was joined before the
 * session reached realtime (the join carried the anon key), and the fix is the portal's, not SQL.
 */
function faultOfFinding(cause: Finding, doctor: DoctorReport): string | null {
  if (cause.id === 'broadcast.read_denied' && doctor.input.role === 'anon') return 'broadcast-anon-join';
  return FAULT_OF_FINDING[cause.id] ?? null;
}

const DOCTOR_ASPECTS: Partial<Record<SummaryCell['verdict'], Aspect[]>> = {
  CHANGES_UNAVAILABLE: ['system_message', 'subscription'],
  NO_EVENT: ['events', 'subscription', 'join_identity'],
  JOIN_UNAUTHORIZED: ['join_reply', 'join_identity'],
  JOIN_ERROR: ['join_reply', 'join_identity'],
};

/** The watched table as the cell's evidence names it (the app's config), for the SQL in a next step. */
function tableOf(cell: SummaryCell): string {
  return cell.table ? `${cell.table.schema}.${cell.table.name}` : '<schema>.<table>';
}

function claimsOf(cell: SummaryCell): string {
  const claims = Object.entries(cell.requiredClaims ?? {});
  return claims.length ? claims.map(([k, v]) => `\`${k}=${v}\``).join(', ') : 'the claim';
}

export function matchFault(cell: SummaryCell, peers: readonly SummaryCell[]): FaultMatch {
  const byDoctor = doctorMatch(cell);
  if (byDoctor) return byDoctor;
  const project = `--project=${cell.cell}`;
  switch (cell.verdict) {
    case 'PORTAL_UNREACHABLE':
      return {
        fault: 'portal-down',
        aspects: ['portal'],
        nextStep: `Check the deployment and routing behind ${cell.origin ?? cell.portalUrl ?? 'the portal'} (the page did not load), then rerun ${project}.`,
      };
    case 'ROLE_REJECTED':
      return {
        fault: 'role-claim-missing',
        aspects: ['sign_in', 'join_identity'],
        nextStep: `The access token lacks ${claimsOf(cell)}, which the portal requires: make sure the user's app_metadata has it (\`npm run seed -- --env ${cell.env}\`) and, if a custom access token hook puts it in the token, that the hook is enabled for this project.`,
      };
    case 'SOCKET_BLOCKED':
      return socketBlocked(cell, peers);
    case 'SOCKET_REJECTED':
      return socketRejected(cell, peers);
    case 'JOINED_AS_ANON':
      if (privateBroadcast(cell))
        return {
          fault: 'broadcast-anon-join',
          aspects: ['join_identity', 'join_reply'],
          nextStep: `The private channel ${cell.channelTopic ?? ''} was joined with the anon key, before the session reached realtime, and the read check refused it: await supabase.realtime.setAuth(session.access_token) (or let supabase-js forward INITIAL_SESSION) before subscribe(); a policy that admits anon would hide this and run the channel as anon for its whole life.`,
        };
      return {
        fault: 'session-not-forwarded',
        aspects: ['join_identity'],
        nextStep:
          "The portal's realtime client joins without the user's JWT (the URL apikey is the anon key in every cell; that part is normal): create the channel after sign-in with the same supabase client, or call supabase.realtime.setAuth(session.access_token); global.headers do not reach realtime.",
      };
    case 'JOIN_UNAUTHORIZED':
      return {
        fault: 'broadcast-no-select-policy',
        aspects: ['join_reply', 'join_identity'],
        nextStep: `The read check on realtime.messages refused ${cell.portal}'s user for ${cell.channelTopic ?? 'the topic'} on ${cell.env}: add (in a migration) a SELECT policy on realtime.messages for the role that admits this topic and user — compare (select realtime.topic()) with the sub-topic, without \`realtime:\` — then rerun ${project}.`,
      };
    case 'JOIN_ERROR': {
      const reason = ASPECTS.join_reply.read(cell);
      if (/PrivateOnly/.test(reason))
        return {
          fault: 'broadcast-private-only',
          aspects: ['join_reply'],
          nextStep: `The ${cell.env} project allows private channels only ("Allow public access" is off in its Realtime settings), and ${cell.portal} joins ${cell.channelTopic ?? 'its channel'} as a public channel: join with { config: { private: true } } and a SELECT policy on realtime.messages, or allow public access again.`,
        };
      if (/expired/i.test(reason))
        return {
          fault: 'expired-token',
          aspects: ['join_reply', 'join_identity'],
          nextStep:
            'Realtime got an access token past its exp: hand it the current session token (supabase.realtime.setAuth after TOKEN_REFRESHED), not a cached one.',
        };
      return { fault: null, aspects: ['join_reply', 'join_identity'], nextStep: cell.nextStep };
    }
    case 'JOIN_TIMEOUT':
      return {
        fault: 'join-unanswered',
        aspects: ['join_reply'],
        nextStep: `Realtime never answered phx_join on ${cell.env}: check the realtime service's health and logs for that project, then rerun ${project}.`,
      };
    case 'CHANGES_UNAVAILABLE': {
      const system = ASPECTS.system_message.read(cell);
      if (/Please check Realtime is enabled/i.test(system))
        return {
          fault: 'table-not-published',
          aspects: ['system_message'],
          nextStep: `Add the table to the publication on ${cell.env} in a migration: \`alter publication supabase_realtime add table ${tableOf(cell)};\` (npm run doctor checks pg_publication_tables).`,
        };
      return { fault: null, aspects: ['system_message', 'subscription'], nextStep: cell.nextStep };
    }
    case 'NO_EVENT':
      return noEvent(cell, peers);
    case 'EVENT_LATE':
      return {
        fault: 'slow-delivery',
        aspects: ['latency'],
        nextStep: `Delivery on ${cell.env} took p95 ${cell.latency.p95 ?? '?'} ms against a ${cell.latency.budgetMs ?? '?'} ms budget: check realtime load and WAL lag there, or revisit the budget in environments/${cell.env}.env.`,
      };
    case 'DUPLICATE_EVENT':
    case 'DUPLICATE_JOIN':
      return {
        fault: 'duplicate-subscription',
        aspects: ['subscription', 'events'],
        nextStep:
          'The portal subscribes to the same topic more than once (retry logic or a re-render): subscribe once and removeChannel() before subscribing again.',
      };
    case 'TOKEN_EXPIRED':
      return {
        fault: 'token-not-refreshed',
        aspects: ['join_identity', 'system_message'],
        nextStep:
          'The channel was shut when the token expired: keep autoRefreshToken on and let supabase-js push access_token to realtime after TOKEN_REFRESHED.',
      };
    default:
      return { fault: null, aspects: [], nextStep: cell.nextStep };
  }
}

function socketBlocked(cell: SummaryCell, peers: readonly SummaryCell[]): FaultMatch {
  const cspError = cell.consoleErrors.some((e) => /Content Security Policy|connect-src/i.test(e));
  const wsAllowed = (cell.cspConnectSrc ?? []).some((s) => /^wss?:/i.test(s) || s === '*');
  const peerAllowed = peers.find((p) => p.cspConnectSrc?.some((s) => /^wss?:/i.test(s)));
  if (cspError || (cell.csp && !wsAllowed)) {
    // The ws origin the passing cells allow; else the API's http(s) origin this CSP already lists, as wss.
    const wanted =
      peerAllowed?.cspConnectSrc?.find((s) => /^wss?:/i.test(s)) ??
      cell.cspConnectSrc?.find((s) => /^https?:\/\//i.test(s))?.replace(/^http/i, 'ws');
    return {
      fault: 'csp-blocks-socket',
      aspects: ['csp_connect_src', 'handshake'],
      nextStep: `Add the realtime origin${wanted ? ` (${wanted}${peerAllowed ? ', as the passing cells allow' : ''})` : ' (wss://<api host>)'} to the portal's Content-Security-Policy connect-src.`,
    };
  }
  return { fault: null, aspects: ['handshake', 'socket_url'], nextStep: cell.nextStep };
}

function socketRejected(cell: SummaryCell, peers: readonly SummaryCell[]): FaultMatch {
  const status = cell.handshake?.status;
  const body = cell.handshake?.body ?? '';
  const apikey = (c: SummaryCell) => (c.socketUrl ? new URL(c.socketUrl).searchParams.get('apikey') : null);
  const sameEnv = peers.filter((p) => p.env === cell.env);
  const keyDiffers = sameEnv.some((p) => apikey(p) !== null && apikey(p) !== apikey(cell));
  if (keyDiffers || /API key|JWT|token/i.test(body) || status === 401) {
    return {
      fault: 'bad-apikey',
      aspects: ['socket_url', 'handshake'],
      nextStep: `The portal was built with an apikey realtime refuses (${apikey(cell) ?? 'unknown key'}): rebuild it with the project's current anon/publishable key.`,
    };
  }
  if (status === 403) {
    return {
      fault: 'origin-not-allowed',
      aspects: ['origin', 'handshake'],
      nextStep: `Add ${cell.origin ?? 'the portal origin'} to the API's allowed origins on ${cell.env}.`,
    };
  }
  return {
    fault: 'edge-drops-upgrade',
    aspects: ['handshake', 'socket_url'],
    nextStep: `The proxy in front of the realtime endpoint answered the upgrade with HTTP ${status ?? '?'}: pass the Upgrade and Connection headers through to realtime.`,
  };
}

/**
 * The database's word over the frames': when the doctor ran for a cell and a check failed, that
 * check names the cause (a revoked grant is not a policy). An expired token stays the token's fault.
 */
function doctorMatch(cell: SummaryCell): FaultMatch | undefined {
  const aspects = DOCTOR_ASPECTS[cell.verdict];
  if (!aspects || !cell.doctor) return undefined;
  if (cell.verdict === 'JOIN_ERROR' && /expired/i.test(ASPECTS.join_reply.read(cell))) return undefined;
  const cause = causeOf(cell.doctor);
  const rerun = `\`npm run doctor -- --env ${cell.env}\` rechecks it.`;
  if (cause) {
    return {
      fault: faultOfFinding(cause, cell.doctor),
      aspects,
      nextStep: `${cause.nextStep ?? cell.nextStep}${cause.fixSql ? ` SQL: ${cause.fixSql.replace(/\n/g, ' ')}` : ''} ${rerun}`,
      doctorCause: cause,
    };
  }
  if (cell.verdict === 'NO_EVENT' && cell.doctor.source !== 'none' && cell.doctor.checks.length > 0) {
    const b = cell.doctor.input.broadcast;
    const notChecked = cell.doctor.skipped.length
      ? ` (not checked: ${cell.doctor.skipped.map((s) => `${s.check}, ${s.why}`).join('; ')})`
      : '';
    if (b) {
      return {
        fault: null,
        aspects,
        nextStep: `The database shows no cause: the trigger on ${cell.doctor.input.table} sends ${b.event} to ${b.topic} (${b.private ? 'private' : 'public'}) as the portal joined it, and ${cell.doctor.input.role} may read the topic${notChecked}. Look at realtime itself on ${cell.env}: its logs (WarnSendingBroadcastMessage), the realtime.messages partition for today and its replication slot.`,
      };
    }
    return {
      fault: null,
      aspects,
      nextStep: `The database shows no cause: ${cell.doctor.input.table} is published for ${cell.doctor.input.event}, ${cell.doctor.input.role} may read it, and the row passes its policies and the filter${cell.doctor.skipped.length ? ` (not checked: ${cell.doctor.skipped.map((s) => `${s.check}, ${s.why}`).join('; ')})` : ''}. Look at realtime itself on ${cell.env}: its logs and replication slot.`,
    };
  }
  return undefined;
}

/** The cell proves a Broadcast on a private channel (config `changes.private`, the default). */
function privateBroadcast(cell: SummaryCell): boolean {
  return cell.changes?.kind === 'broadcast' && cell.changes.private;
}

function noEvent(cell: SummaryCell, peers: readonly SummaryCell[]): FaultMatch {
  if (cell.changes?.kind === 'broadcast') return noBroadcast(cell);
  const mine = ASPECTS.subscription.read(cell);
  const filtered = / filter /.test(mine) && peers.some((p) => !/ filter /.test(ASPECTS.subscription.read(p)));
  if (filtered) {
    return {
      fault: 'filter-mismatch',
      aspects: ['subscription', 'events'],
      nextStep:
        "The portal's postgres_changes binding has a filter the inserted row does not match: fix the filter or the row's columns.",
    };
  }
  const unchecked = cell.doctor?.skipped.find((s) => s.check === 'database');
  return {
    fault: 'rls-hides-rows',
    aspects: ['events', 'join_identity'],
    nextStep: `Subscribed, but nothing came. The frames cannot tell a policy from a revoked grant or a publication that skips INSERT${unchecked ? ` and the doctor could not look (${unchecked.why})` : ''}: run \`npm run doctor -- --env ${cell.env}\`, and check the SELECT policy on ${tableOf(cell)} for the ${cell.portal} user (the row must be visible to that user; RLS decides delivery per subscriber).`,
  };
}

/**
 * A Broadcast that never came. The frames tell one cause (the page joined the topic with the other
 * `private` flag); a trigger sending elsewhere or not at all leaves nothing on the wire, and only the
 * doctor's Broadcast checks can name it.
 */
function noBroadcast(cell: SummaryCell): FaultMatch {
  const stage = cell.stages.find((s) => s.stage === 'event_delivered');
  const hint = typeof stage?.evidence['hint'] === 'string' ? stage.evidence['hint'] : '';
  if (/with private: false|as a private channel/.test(hint))
    return {
      fault: 'broadcast-not-private',
      aspects: ['subscription', 'events'],
      nextStep: `${hint.charAt(0).toUpperCase()}${hint.slice(1)}.`,
    };
  if (/did arrive as a broadcast on/.test(hint))
    return { fault: 'broadcast-topic-mismatch', aspects: ['events', 'subscription'], nextStep: `${hint}.` };
  return {
    fault: null,
    aspects: ['events', 'subscription', 'join_identity'],
    nextStep: `Joined, but no broadcast came, and nothing on the wire says why: check that ${tableOf(cell)} has an enabled trigger calling realtime.broadcast_changes with the topic ${cell.changes?.kind === 'broadcast' ? cell.changes.topic : ''} for this row (security definer when users write), and run \`npm run doctor -- --env ${cell.env}\`.`,
  };
}
