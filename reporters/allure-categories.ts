import { Status } from 'allure-js-commons';
import type { Category } from 'allure-js-commons/sdk';
import { VERDICTS } from '../fixtures/evidence.ts';

/**
 * Allure categories, one per failing verdict, matched on the failure message (the matrix reporter's
 * Allure wrapper makes sure the verdict leads it), plus Allure's usual catch-alls last.
 */
const MEANING: Record<string, string> = {
  PORTAL_UNREACHABLE: 'portal unreachable',
  SIGN_IN_FAILED: 'sign-in failed',
  ROLE_REJECTED: 'role rejected by the portal',
  SOCKET_BLOCKED: 'socket blocked by the browser',
  SOCKET_REJECTED: 'socket upgrade rejected',
  JOINED_AS_ANON: 'channel joined as anon',
  JOIN_UNAUTHORIZED: 'private channel read refused',
  JOIN_ERROR: 'join refused',
  JOIN_TIMEOUT: 'join unanswered',
  CHANGES_UNAVAILABLE: 'postgres_changes unavailable',
  NO_EVENT: 'no event delivered',
  EVENT_LATE: 'event over budget',
  DUPLICATE_EVENT: 'duplicate event',
  DUPLICATE_JOIN: 'duplicate join',
  TOKEN_EXPIRED: 'token expired on the channel',
};

export function allureCategories(): Category[] {
  const perVerdict = VERDICTS.filter((v) => v !== 'PASS').map((v) => ({
    name: `${v}: ${MEANING[v] ?? v.toLowerCase()}`,
    messageRegex: `[\\s\\S]*\\b${v}\\b[\\s\\S]*`,
    matchedStatuses: [Status.FAILED, Status.BROKEN],
  }));
  return [
    ...perVerdict,
    { name: 'No matrix evidence (fixture or infrastructure error)', matchedStatuses: [Status.BROKEN] },
    { name: 'Failed without a verdict', matchedStatuses: [Status.FAILED] },
  ];
}

/**
 * The same categories for Allure 3's report config, which ignores categories.json in the results and
 * matches on labels instead: the wrapper tags each result with its verdict.
 */
export function allure3Categories() {
  return VERDICTS.filter((v) => v !== 'PASS').map((v) => ({
    id: `verdict-${v.toLowerCase()}`,
    name: `${v}: ${MEANING[v] ?? v.toLowerCase()}`,
    matchers: { labels: { tag: `^${v}$` }, statuses: ['failed', 'broken'] },
    groupBy: [{ label: 'story' }, { label: 'feature' }],
  }));
}
