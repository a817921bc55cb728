import type { FaultDefinition } from './definition.ts';
import {
  broadcastAnonJoin,
  broadcastNoSelectPolicy,
  broadcastNotPrivate,
  broadcastNotSecurityDefiner,
  broadcastPrivateOnly,
  broadcastTopicMismatch,
} from './switches/broadcast.ts';
import {
  insertNotPublished,
  rlsHidesRows,
  roleClaimMissing,
  schemaUsageRevoked,
  selectRevoked,
  tableNotPublished,
} from './switches/database.ts';
import { edgeDropsUpgrade, originNotAllowed } from './switches/network.ts';
import {
  badApikey,
  cspBlocksSocket,
  duplicateSubscription,
  expiredToken,
  filterMismatch,
  portalDown,
  sessionNotForwarded,
} from './switches/portal.ts';
import { joinUnanswered, slowDelivery } from './switches/realtime.ts';

/**
 * Every switchable fault of shared/FAILURES.md, in its table's order. `token-not-refreshed` is not
 * here: it is the matrix's opt-in long check, driven by token lifetime rather than a switch.
 */
export const FAULTS: readonly FaultDefinition[] = [
  portalDown,
  roleClaimMissing,
  cspBlocksSocket,
  edgeDropsUpgrade,
  originNotAllowed,
  badApikey,
  sessionNotForwarded,
  expiredToken,
  joinUnanswered,
  tableNotPublished,
  insertNotPublished,
  rlsHidesRows,
  selectRevoked,
  schemaUsageRevoked,
  filterMismatch,
  slowDelivery,
  duplicateSubscription,
  broadcastAnonJoin,
  broadcastNoSelectPolicy,
  broadcastTopicMismatch,
  broadcastNotPrivate,
  broadcastNotSecurityDefiner,
  broadcastPrivateOnly,
];

export function findFault(name: string): FaultDefinition | undefined {
  return FAULTS.find((f) => f.name === name);
}
