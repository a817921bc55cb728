import { appPortalNames, type StackApp, teamServedUrl } from '../app.ts';
import { cellName, cellsOf, type Env, isEnv, splitCell } from '../topology/cells.ts';
import type { Deployment } from '../topology/deployment.ts';
import type { FaultBoard } from './board.ts';
import { FAULTS, findFault } from './catalogue.ts';
import { type FaultDefinition, type FaultTarget, supports, unsupportedReason } from './definition.ts';

/** A request the controller refuses: the caller named something that does not exist or cannot be. */
export class FaultRequestError extends Error {
  constructor(
    message: string,
    readonly code: 'unknown_fault' | 'unknown_target' | 'not_available' | 'not_supported',
  ) {
    super(message);
    this.name = 'FaultRequestError';
  }
}

export interface ActiveFault {
  /** The cell (`agent-prod`) or, for env-wide faults, the env (`prod`). */
  target: string;
  fault: string;
  since: string;
}

export interface FaultInfo {
  name: string;
  description: string;
  scope: 'cell' | 'env';
  envs: Env[];
}

/** The faults `app` can express (all of them for the help-desk demo). */
export function describeFaults(app: StackApp): FaultInfo[] {
  return FAULTS.filter((f) => supports(f, app)).map((f) => ({
    name: f.name,
    description: f.description,
    scope: f.scope,
    envs: [...(f.envs ?? ['local', 'prod'])],
  }));
}

/**
 * Switches faults on and off for the running deployments, one change at a time (apply/revert may
 * touch a database, and two at once on the same object would race). Switching a fault that is
 * already in the asked state does nothing.
 */
export class FaultController {
  private readonly active = new Map<string, ActiveFault>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly app: StackApp,
    private readonly deployments: ReadonlyMap<Env, Deployment>,
    private readonly board: FaultBoard,
  ) {}

  list(): ActiveFault[] {
    return [...this.active.values()];
  }

  /** `target` is a cell (`agent-prod`) or, for env-wide faults, an env (`prod`) or any of its cells. */
  async set(target: string, fault: string, on: boolean): Promise<ActiveFault> {
    const resolved = this.resolve(target, fault);
    return this.serially(async () => {
      const key = `${resolved.definition.name}@${resolved.target}`;
      const entry = this.active.get(key) ?? {
        target: resolved.target,
        fault: resolved.definition.name,
        since: new Date().toISOString(),
      };
      if (on && !this.active.has(key)) {
        await resolved.definition.apply(resolved.faultTarget);
        this.active.set(key, entry);
      } else if (!on && this.active.has(key)) {
        await resolved.definition.revert(resolved.faultTarget);
        this.active.delete(key);
      }
      return entry;
    });
  }

  /** Turn every active fault off, newest first, so the stack is healthy again. */
  clear(): Promise<ActiveFault[]> {
    return this.serially(async () => {
      const cleared: ActiveFault[] = [];
      for (const [key, entry] of [...this.active].reverse()) {
        const resolved = this.resolve(entry.target, entry.fault);
        await resolved.definition.revert(resolved.faultTarget);
        this.active.delete(key);
        cleared.push(entry);
      }
      return cleared;
    });
  }

  private serially<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private resolve(
    target: string,
    faultName: string,
  ): { definition: FaultDefinition; target: string; faultTarget: FaultTarget } {
    const definition = findFault(faultName);
    if (!definition) {
      throw new FaultRequestError(
        `Unknown fault "${faultName}". Valid faults: ${FAULTS.map((f) => f.name).join(', ')}.`,
        'unknown_fault',
      );
    }
    const unsupported = unsupportedReason(definition, this.app);
    if (unsupported) {
      throw new FaultRequestError(
        `${unsupported}. Faults for "${this.app.name}": ${describeFaults(this.app)
          .map((f) => f.name)
          .join(', ')}.`,
        'not_supported',
      );
    }
    const running = [...this.deployments.keys()];
    const cell = splitCell(target, appPortalNames(this.app));
    const env = cell?.env ?? (isEnv(target) ? target : undefined);
    if (!env) {
      throw new FaultRequestError(
        `Unknown target "${target}" for ${definition.name}. Valid ${definition.scope === 'env' ? 'envs' : 'cells'}: ` +
          `${validTargets(definition, running, this.app).join(', ')}.`,
        'unknown_target',
      );
    }
    if (definition.scope === 'cell' && !cell) {
      throw new FaultRequestError(
        `${definition.name} acts on one cell, not a whole env; name one of: ${validTargets(definition, running, this.app).join(', ')}.`,
        'unknown_target',
      );
    }
    const deployment = this.deployments.get(env);
    const envs = definition.envs ?? ['local', 'prod'];
    if (!deployment || !envs.includes(env)) {
      throw new FaultRequestError(
        `${definition.name} is not available for "${target}": ` +
          (deployment
            ? `it exists only in ${envs.join(', ')}`
            : `env "${env}" is not running in this stack`) +
          `. Valid: ${validTargets(definition, running, this.app).join(', ') || '(none in this stack)'}.`,
        'not_available',
      );
    }
    if (definition.needsPortals && !deployment.portals) {
      throw new FaultRequestError(
        `${definition.name} acts on the portal deployments, which this stack did not start (start with portals).`,
        'not_available',
      );
    }
    const teamUrl = cell && definition.servedPortal ? teamServedUrl(this.app, cell.portal) : undefined;
    if (teamUrl !== undefined) {
      throw new FaultRequestError(
        `${definition.name} acts on what the stack serves for the ${cell!.portal} portal, but the team serves it itself at ${teamUrl}: nothing of the stack's is in front of it, so the fault could not act. ` +
          `Valid: ${validTargets(definition, running, this.app).join(', ') || '(none in this stack)'}.`,
        'not_available',
      );
    }
    const normalized = definition.scope === 'env' ? env : target;
    return {
      definition,
      target: normalized,
      faultTarget: {
        env,
        portal: definition.scope === 'cell' ? cell?.portal : undefined,
        cell: definition.scope === 'cell' && cell ? cellName(cell.portal, cell.env) : undefined,
        deployment,
        board: this.board,
      },
    };
  }
}

function validTargets(definition: FaultDefinition, running: Env[], app: StackApp): string[] {
  const envs = (definition.envs ?? ['local', 'prod']).filter((e) => running.includes(e));
  if (definition.scope === 'env') return envs;
  const portals = appPortalNames(app).filter(
    (p) => !definition.servedPortal || teamServedUrl(app, p) === undefined,
  );
  return cellsOf(portals, envs);
}
