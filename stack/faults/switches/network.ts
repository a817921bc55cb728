import type { Deployment } from '../../topology/deployment.ts';
import { cellTarget, type FaultDefinition } from '../definition.ts';

/** Faults between the browser and the API: the edge in front of it and its origin allow-list. */

export const edgeDropsUpgrade: FaultDefinition = {
  name: 'edge-drops-upgrade',
  description:
    "the edge strips Upgrade from this portal's socket request, so the API answers it as plain HTTP (local has no proxy in front of the API)",
  scope: 'cell',
  envs: ['prod'],
  async apply(t) {
    const { cell, board } = cellTarget(t);
    board.setUpgradeDropped(cell, true);
  },
  async revert(t) {
    const { cell, board } = cellTarget(t);
    board.setUpgradeDropped(cell, false);
  },
};

/** Origins currently refused per project, so several cells of one env can be off at once. */
const refused = new WeakMap<Deployment, Set<string>>();

/**
 * Rewrite the project's live allow-list (realtime reads `config.allowedOrigins` on every upgrade).
 * An env with no allow-list (local: any origin) gets one made of its own portals' origins while a
 * fault is on, and goes back to none when the last is off. The prod array is edited in place
 * because the API server's CORS layer holds that same array.
 */
function applyAllowList(deployment: Deployment): void {
  const config = deployment.project.config;
  const off = refused.get(deployment) ?? new Set<string>();
  const healthy = deployment.healthyAllowedOrigins;
  if (!off.size) {
    if (healthy && config.allowedOrigins) config.allowedOrigins.splice(0, Infinity, ...healthy);
    else config.allowedOrigins = healthy ? [...healthy] : undefined;
    return;
  }
  const base = healthy ?? Object.values(deployment.origins);
  const list = base.filter((o) => !off.has(o));
  if (config.allowedOrigins && healthy) config.allowedOrigins.splice(0, Infinity, ...list);
  else config.allowedOrigins = list;
}

export const originNotAllowed: FaultDefinition = {
  name: 'origin-not-allowed',
  description:
    "the API's origin allow-list loses this portal's origin; its socket upgrade is refused with 403",
  scope: 'cell',
  async apply(t) {
    const { portal, deployment } = cellTarget(t);
    const off = refused.get(deployment) ?? new Set<string>();
    off.add(deployment.origins[portal]);
    refused.set(deployment, off);
    applyAllowList(deployment);
  },
  async revert(t) {
    const { portal, deployment } = cellTarget(t);
    refused.get(deployment)?.delete(deployment.origins[portal]);
    applyAllowList(deployment);
  },
};
