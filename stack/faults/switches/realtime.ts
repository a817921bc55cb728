import { cellTarget, type FaultDefinition } from '../definition.ts';

/** Faults inside realtime, aimed at one portal by the Origin of its socket. */

/** Longer than any environment's latency budget, short enough that a run does not stall on it. */
export const SLOW_DELIVERY_MS = 3000;

export const joinUnanswered: FaultDefinition = {
  name: 'join-unanswered',
  description: "realtime never replies to phx_join on sockets from this portal's origin",
  scope: 'cell',
  async apply(t) {
    const { cell, board } = cellTarget(t);
    board.setJoinIgnored(cell, true);
  },
  async revert(t) {
    const { cell, board } = cellTarget(t);
    board.setJoinIgnored(cell, false);
  },
};

export const slowDelivery: FaultDefinition = {
  name: 'slow-delivery',
  description: `realtime holds postgres_changes for this portal's origin ${SLOW_DELIVERY_MS} ms, past the latency budget`,
  scope: 'cell',
  async apply(t) {
    const { cell, board } = cellTarget(t);
    board.setDeliveryDelay(cell, SLOW_DELIVERY_MS);
  },
  async revert(t) {
    const { cell, board } = cellTarget(t);
    board.setDeliveryDelay(cell, 0);
  },
};
