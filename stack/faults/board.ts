import type { Cell, Env, Portal } from '../topology/cells.ts';
import type { EdgeFaults, PortalOverrides, RealtimeFaults } from './hooks.ts';

/**
 * The fault state that running components read through their hooks (portal servers on each page
 * load, realtime on each join and delivery, the edge on each request). Fault definitions write it;
 * nothing else does. Cells are found from what a real server sees: the Origin, or the Host.
 */
export class FaultBoard {
  private readonly overrides = new Map<Cell, PortalOverrides>();
  private readonly joinsIgnored = new Set<Cell>();
  private readonly delays = new Map<Cell, number>();
  private readonly down = new Set<Cell>();
  private readonly upgradesDropped = new Set<Cell>();
  private readonly originCells = new Map<string, Cell>();
  private readonly hostCells = new Map<string, Cell>();

  /** Teach the board which Origin (and edge Host, for prod) belongs to which cell. */
  registerCell(cell: Cell, origin: string): void {
    this.originCells.set(origin, cell);
    // Only the prod-like edge routes by Host; local portals all share "localhost".
    if (cell.endsWith('-prod')) this.hostCells.set(new URL(origin).hostname, cell);
  }

  portalOverrides(portal: Portal, env: Env): PortalOverrides {
    return { ...this.overrides.get(`${portal}-${env}`) };
  }

  setOverride<K extends keyof PortalOverrides>(cell: Cell, key: K, value: PortalOverrides[K]): void {
    this.overrides.set(cell, { ...this.overrides.get(cell), [key]: value });
  }

  clearOverride(cell: Cell, key: keyof PortalOverrides): void {
    const current = { ...this.overrides.get(cell) };
    delete current[key];
    if (Object.keys(current).length) this.overrides.set(cell, current);
    else this.overrides.delete(cell);
  }

  setJoinIgnored(cell: Cell, on: boolean): void {
    toggle(this.joinsIgnored, cell, on);
  }

  setDeliveryDelay(cell: Cell, ms: number): void {
    if (ms > 0) this.delays.set(cell, ms);
    else this.delays.delete(cell);
  }

  setPortalDown(cell: Cell, on: boolean): void {
    toggle(this.down, cell, on);
  }

  setUpgradeDropped(cell: Cell, on: boolean): void {
    toggle(this.upgradesDropped, cell, on);
  }

  private cellOfOrigin(env: Env, origin: string | undefined): Cell | undefined {
    const cell = origin ? this.originCells.get(origin) : undefined;
    return cell?.endsWith(`-${env}`) ? cell : undefined;
  }

  /** What one project's realtime consults, keyed by the socket's Origin. */
  realtimeFaults(env: Env): RealtimeFaults {
    return {
      ignoreJoins: (origin) => {
        const cell = this.cellOfOrigin(env, origin);
        return cell !== undefined && this.joinsIgnored.has(cell);
      },
      deliveryDelayMs: (origin) => {
        const cell = this.cellOfOrigin(env, origin);
        return cell ? (this.delays.get(cell) ?? 0) : 0;
      },
    };
  }

  /** What the prod-like edge consults. */
  edgeFaults(): EdgeFaults {
    return {
      portalDown: (host) => {
        const cell = this.hostCells.get(host);
        return cell !== undefined && this.down.has(cell);
      },
      dropsUpgrade: (origin) => {
        const cell = this.cellOfOrigin('prod', origin);
        return cell !== undefined && this.upgradesDropped.has(cell);
      },
    };
  }
}

function toggle<T>(set: Set<T>, value: T, on: boolean): void {
  if (on) set.add(value);
  else set.delete(value);
}
