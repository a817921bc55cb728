import type { AppMechanism, StackApp } from '../app.ts';
import type { Cell, Env, Portal } from '../topology/cells.ts';
import type { Deployment } from '../topology/deployment.ts';
import type { FaultBoard } from './board.ts';

/** What a fault acts on: one cell (portal × env) or, for env-wide mechanisms, one environment. */
export interface FaultTarget {
  env: Env;
  /** Set for cell-scoped faults. */
  portal: Portal | undefined;
  cell: Cell | undefined;
  deployment: Deployment;
  board: FaultBoard;
}

export interface CellTarget extends FaultTarget {
  portal: Portal;
  cell: Cell;
}

/**
 * One real failure of shared/FAILURES.md and how the stack reproduces it by its real mechanism.
 * `revert` restores the healthy state exactly; both are idempotent per target.
 */
export interface FaultDefinition {
  name: string;
  /** One line: the mechanism, as `--list-faults` prints it. */
  description: string;
  scope: 'cell' | 'env';
  /** Environments where the mechanism exists (default: all). */
  envs?: readonly Env[];
  /** What else must be running (e.g. the portals) for the mechanism to exist. */
  needsPortals?: boolean;
  /**
   * Acts through what the stack serves for the cell's portal (its page, headers, process): a portal
   * the team serves itself (`url` only) has nothing of the stack's in front of it, so the fault is
   * refused for that cell instead of switching on and changing nothing.
   */
  servedPortal?: boolean;
  /** A piece of the app the mechanism acts through (default: none, it works on any app). */
  needs?: AppMechanism;
  apply(target: FaultTarget): Promise<void>;
  revert(target: FaultTarget): Promise<void>;
}

/** For cell-scoped definitions: the target, with the portal guaranteed. */
export function cellTarget(target: FaultTarget): CellTarget {
  if (!target.portal || !target.cell) {
    throw new Error(`A cell-scoped fault was given the env-wide target "${target.env}"; name a cell.`);
  }
  return target as CellTarget;
}

/** What each app mechanism is, in the words a refusal uses. */
const MECHANISM_WHAT: Record<AppMechanism, string> = {
  'user-role-hook':
    'an access token hook public.custom_access_token_hook that copies app_metadata.user_role into the user_role claim',
  'select-policy-per-role':
    "one SELECT policy per portal role on public.tickets naming the role as '<portal>'::text",
  'forward-session':
    'portals that honour the forwardSession override (hand or withhold the session to realtime)',
  'stale-access-token': 'portals that honour the staleAccessToken override (hand realtime a given token)',
  filter: 'portals that honour the filter override (subscribe with a given filter)',
  'subscribe-twice': 'portals that honour the subscribeTwice override (subscribe to the topic twice)',
  'join-before-session':
    'portals on a private channel that honour the joinBeforeSession override (join before handing realtime the session)',
  'private-channel':
    'portals on Broadcast that honour the privateChannel override (join the topic with that private flag)',
};

/** Why `app` cannot express this fault, or undefined when it can. */
export function unsupportedReason(definition: FaultDefinition, app: StackApp): string | undefined {
  const need = definition.needs;
  if (!need || app.mechanisms?.includes(need)) return undefined;
  return (
    `${definition.name} is not available for app "${app.name}": its mechanism needs ${MECHANISM_WHAT[need]}, ` +
    `and "${app.name}" does not declare "${need}" in its StackApp mechanisms`
  );
}

export function supports(definition: FaultDefinition, app: StackApp): boolean {
  return unsupportedReason(definition, app) === undefined;
}

/**
 * An env-wide fault that changes something and remembers what it was, so revert restores exactly
 * that: `change` returns the state to restore, `restore` puts it back. Idempotent per project (a
 * second apply while on, or a revert while off, does nothing).
 */
export function rememberingEnvFault<T>(definition: {
  name: string;
  description: string;
  change(deployment: Deployment): Promise<T>;
  restore(deployment: Deployment, saved: T): Promise<void>;
}): FaultDefinition {
  const saved = new WeakMap<Deployment, { value: T }>();
  return {
    name: definition.name,
    description: definition.description,
    scope: 'env',
    async apply({ deployment }) {
      if (saved.has(deployment)) return;
      saved.set(deployment, { value: await definition.change(deployment) });
    },
    async revert({ deployment }) {
      const before = saved.get(deployment);
      if (!before) return;
      await definition.restore(deployment, before.value);
      saved.delete(deployment);
    },
  };
}
