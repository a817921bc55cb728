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
