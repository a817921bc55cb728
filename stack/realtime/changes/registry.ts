import type { ChangesSubscription } from '../changes-api.ts';
import type { CompiledFilter } from './filters.ts';
import type { Action } from './params.ts';

/** One binding of one subscription on one table (a wildcard binding yields one entry per table). */
export interface Entry {
  sub: ChangesSubscription;
  bindingId: number;
  action: Action;
  filters: CompiledFilter[];
  selected: string[] | null;
  role: string;
  /** Stable text of the claims: subscribers with equal claims share one authorization. */
  claimsKey: string;
  /** Short hash of the claims for logs (never the token or the claims themselves). */
  claimsFingerprint: string;
  /** Key of the claims in a database session's claims registry (`claimsRegistryKey`). */
  claimsRegistryKey: string;
}

/** Live subscriptions, indexed by table so a change only looks at its own subscribers. */
export class Registry {
  private readonly byTable = new Map<number, Set<Entry>>();
  private readonly byKey = new Map<string, { oid: number; entry: Entry }[]>();

  /** Register (or re-register, after a token refresh) a subscription's entries atomically. */
  replace(key: string, entries: { oid: number; entry: Entry }[]): void {
    this.remove(key);
    for (const e of entries) {
      const set = this.byTable.get(e.oid) ?? new Set<Entry>();
      set.add(e.entry);
      this.byTable.set(e.oid, set);
    }
    this.byKey.set(key, entries);
  }

  remove(key: string): void {
    for (const { oid, entry } of this.byKey.get(key) ?? []) {
      const set = this.byTable.get(oid);
      set?.delete(entry);
      if (set?.size === 0) this.byTable.delete(oid);
    }
    this.byKey.delete(key);
  }

  forTable(oid: number): Iterable<Entry> {
    return this.byTable.get(oid) ?? [];
  }

  isLive(oid: number, entry: Entry): boolean {
    return this.byTable.get(oid)?.has(entry) ?? false;
  }

  clear(): void {
    this.byTable.clear();
    this.byKey.clear();
  }

  get size(): number {
    return this.byKey.size;
  }
}

/** JSON with sorted object keys, so equal claims give equal keys whatever order the token used. */
export function stableClaimsKey(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableClaimsKey).join(',')}]`;
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return `{${Object.keys(obj)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableClaimsKey(obj[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
