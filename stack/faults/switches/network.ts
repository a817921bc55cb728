import { type Deployment, portalOrigin } from '../../topology/deployment.ts';
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
/** The project's own allow-list array, which the API server's CORS layer also holds. */
const original = new WeakMap<Deployment, string[] | undefined>();

/**
 * Give realtime a new allow-list (it reads `config.allowedOrigins` on every upgrade) without the
 * refused origins. An env with none (local: any origin) gets its other portals' origins while a
 * fault is on. The array the API server captured for CORS is never edited, so sign-in and REST
 * keep working and the failure shows where the catalogue says: the upgrade is refused with 403.
 * With no fault left, the original array (and so the healthy state) is put back.
 */
function applyAllowList(deployment: Deployment): void {
  const config = deployment.project.config;
  if (!original.has(deployment)) original.set(deployment, config.allowedOrigins);
  const off = refused.get(deployment) ?? new Set<string>();
  if (!off.size) {
    config.allowedOrigins = original.get(deployment);
    original.delete(deployment);
    return;
  }
  const base = deployment.healthyAllowedOrigins ?? Object.values(deployment.origins);
  config.allowedOrigins = base.filter((o) => !off.has(o));
}

export const originNotAllowed: FaultDefinition = {
  name: 'origin-not-allowed',
  description:
    "the API's origin allow-list loses this portal's origin; its socket upgrade is refused with 403",
  scope: 'cell',
  async apply(t) {
    const { portal, deployment } = cellTarget(t);
    const off = refused.get(deployment) ?? new Set<string>();
    off.add(portalOrigin(deployment, portal));
    refused.set(deployment, off);
    applyAllowList(deployment);
  },
  async revert(t) {
    const { portal, deployment } = cellTarget(t);
    refused.get(deployment)?.delete(portalOrigin(deployment, portal));
    applyAllowList(deployment);
  },
};
