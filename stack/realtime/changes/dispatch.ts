/**
 * From a decoded change to deliveries: pick the table's subscribers for the action, evaluate their
 * filters (Node where exact, else one SQL batch), authorize once per distinct claims set in one query,
 * then build one payload per role and `select` list and hand it to each channel with the ids of its
 * matching bindings. Changes are processed concurrently but delivered strictly in commit order.
 */
import type pg from 'pg';
import type { Claims } from '../../jwt.ts';
import type { Logger } from '../../log.ts';
import type { ChangeData, ChangesSubscription } from '../changes-api.ts';
import { authorize, type CastRequest } from './authorize.ts';
import type { Catalog, TableMeta } from './catalog.ts';
import { type CompiledFilter, evaluateInNode, evaluateInSql, type Row } from './filters.ts';
import {
  buildPayload,
  errorPayload,
  type JsonRow,
  type Kind,
  MAX_RECORD_BYTES,
  walSizeEstimate,
} from './payload.ts';
import { type Relation, type Tuple, UNCHANGED_TOAST } from './pgoutput.ts';
import type { Entry, Registry } from './registry.ts';

export interface ChangesMetrics {
  /** Row changes decoded on subscribed tables. */
  changes: number;
  /** Changes authorized through `realtime.rtm_authorize` (one round trip each, plus one more when
   * the connection lacked some claims: see `claimsShipped`). */
  authorizationQueries: number;
  /** Authorizations repeated with the claims JSON because the pooled connection had not registered
   * all of them yet (about once per connection and new claims set). */
  claimsShipped: number;
  /** Claims sets checked in those queries (one per distinct claims set per change). */
  claimsChecked: number;
  /** Filter batches sent to SQL (only for filters Node cannot evaluate exactly). */
  filterQueries: number;
  /** `deliver()` calls. */
  deliveries: number;
}

export interface Change {
  kind: Kind;
  relation: Relation;
  newTuple: Tuple | null;
  oldTuple: Tuple | null;
  oldIsKeyOnly: boolean;
  commitTimestamp: string;
  xid: number;
}

/**
 * Changes authorized at once. They share the project's admin pool (10 connections) with auth and
 * the rest of the stack, so a burst must not take all of it; 4 keeps both cores busy.
 */
const MAX_IN_FLIGHT = 4;

interface Delivery {
  entries: Entry[];
  data: ChangeData;
  role: string;
}

export class Dispatcher {
  readonly metrics: ChangesMetrics = {
    changes: 0,
    authorizationQueries: 0,
    claimsShipped: 0,
    claimsChecked: 0,
    filterQueries: 0,
    deliveries: 0,
  };
  private tail: Promise<void> = Promise.resolve();
  private inFlight = 0;
  private readonly queued: (() => void)[] = [];

  constructor(
    private readonly pool: pg.Pool,
    private readonly catalog: Catalog,
    private readonly registry: Registry,
    private readonly log: Logger,
  ) {}

  /** Called synchronously per decoded change, so the subscriber set is the one live at decode time. */
  handle(change: Change): void {
    const entries = [...this.registry.forTable(change.relation.oid)].filter(
      (e) => e.action === '*' || e.action === change.kind,
    );
    if (!entries.length) return;
    this.metrics.changes++;
    const job = this.limited(() => this.process(change, entries)).catch((error: Error) => {
      this.log.error('could not authorize a change; it is not delivered', {
        table: `${change.relation.schema}.${change.relation.table}`,
        type: change.kind,
        error: error.message,
        next: 'a SELECT policy that raises, or a table dropped mid-flight, fails the check; run the RLS check by hand as the role',
      });
      return [] as Delivery[];
    });
    this.tail = this.tail.then(async () => this.deliver(change.relation.oid, await job));
  }

  /** Resolves once every change handed over so far has been delivered. */
  drain(): Promise<void> {
    return this.tail;
  }

  private async limited<T>(fn: () => Promise<T>): Promise<T> {
    // A finishing job hands its slot straight to the next waiter, so the cap is never exceeded.
    if (this.inFlight >= MAX_IN_FLIGHT) await new Promise<void>((resolve) => this.queued.push(resolve));
    else this.inFlight++;
    try {
      return await fn();
    } finally {
      const next = this.queued.shift();
      if (next) next();
      else this.inFlight--;
    }
  }

  private deliver(oid: number, deliveries: Delivery[]): void {
    for (const d of deliveries) {
      const bySub = new Map<ChangesSubscription, { ids: number[]; claims: string }>();
      for (const e of d.entries) {
        if (!this.registry.isLive(oid, e)) continue;
        const target = bySub.get(e.sub);
        if (!target) bySub.set(e.sub, { ids: [e.bindingId], claims: e.claimsFingerprint });
        else if (!target.ids.includes(e.bindingId)) target.ids.push(e.bindingId);
      }
      for (const [sub, { ids, claims }] of bySub) {
        this.metrics.deliveries++;
        this.log.debug('deliver', {
          table: `${d.data.schema}.${d.data.table}`,
          type: d.data.type,
          role: d.role,
          claims,
          ids,
        });
        try {
          sub.deliver(ids, d.data);
        } catch (error) {
          this.log.error('a subscriber threw while receiving a change', {
            key: sub.key,
            error: (error as Error).message,
          });
        }
      }
    }
  }

  private async process(change: Change, entries: Entry[]): Promise<Delivery[]> {
    const { kind, relation } = change;
    const newRow = kind === 'DELETE' ? new Map() : textRow(relation, change.newTuple);
    const identity = identityRow(change, newRow);
    // DELETE: filters see the old (identity) columns only, as wal2json sends no new ones.
    const filterRow: Row = kind === 'DELETE' ? identity : newRow;

    const meta = await this.catalog.table(relation.oid);
    if (kind !== 'DELETE' && meta.pk.length === 0) {
      return groupByRole(entries).map(([role, list]) => ({
        entries: list,
        role,
        data: errorPayload(kind, relation.schema, relation.table, 'Error 400: Bad Request, no primary key'),
      }));
    }

    const passing = await this.filter(entries, filterRow);
    if (!passing.length) return [];

    // Distinct claims, grouped by role so the SQL side switches role once per role.
    const claimsIndex = new Map<string, number>();
    const claims: Claims[] = [];
    const claimKeys: string[] = [];
    for (const [, roleEntries] of groupByRole(passing)) {
      for (const e of roleEntries) {
        if (claimsIndex.has(e.claimsKey)) continue;
        claimsIndex.set(e.claimsKey, claims.length);
        claims.push(e.sub.claims);
        claimKeys.push(e.claimsRegistryKey);
      }
    }
    const { casts, newSlots, identitySlots } = castsFor(meta, newRow, identity);
    const roles = [...new Set(entries.map((e) => e.role))];
    this.metrics.authorizationQueries++;
    this.metrics.claimsChecked += claims.length;
    const auth = await authorize(this.pool, {
      table: meta,
      roles,
      claims,
      claimKeys,
      pkValues: kind === 'DELETE' ? [] : meta.pk.map((c) => newRow.get(c) ?? ''),
      checkRows: kind !== 'DELETE',
      xid: change.xid,
      casts,
    });
    if (auth.claimsShipped) this.metrics.claimsShipped++;
    for (const f of auth.failed) {
      this.log.warn("a subscriber's RLS check raised; it does not see this change", {
        table: `${relation.schema}.${relation.table}`,
        error: f.error,
        sqlstate: f.sqlstate,
        subscriptions: passing.filter((e) => claimsIndex.get(e.claimsKey) === f.index).map((e) => e.sub.key),
        next: 'a SELECT policy raises for these claims (e.g. a cast of a claim); check the policy as that user',
      });
    }
    const oversized = walSizeEstimate(meta.columns, [newRow, identity]) > MAX_RECORD_BYTES;
    const newJson = jsonRow(newSlots, auth.values);
    const identityJson = jsonRow(identitySlots, auth.values);

    const deliveries: Delivery[] = [];
    for (const [role, roleEntries] of groupByRole(entries)) {
      if (kind !== 'DELETE' && !auth.pkOk[role]) {
        deliveries.push({
          entries: roleEntries,
          role,
          data: errorPayload(kind, relation.schema, relation.table, 'Error 401: Unauthorized'),
        });
        continue;
      }
      const visible = passing.filter(
        (e) => e.role === role && auth.visible[claimsIndex.get(e.claimsKey) as number] === true,
      );
      const bySelect = new Map<string, Entry[]>();
      for (const e of visible) {
        const k = e.selected ? JSON.stringify([...e.selected].sort()) : '*';
        const list = bySelect.get(k);
        if (list) list.push(e);
        else bySelect.set(k, [e]);
      }
      for (const list of bySelect.values()) {
        const first = list[0] as Entry;
        deliveries.push({
          entries: list,
          role,
          data: buildPayload({
            kind,
            schema: relation.schema,
            table: relation.table,
            meta,
            commitTimestamp: change.commitTimestamp,
            newRow: newJson,
            identityRow: identityJson,
            rls: auth.rls,
            privileges: auth.privileges[role] ?? [],
            selected: first.selected,
            oversized,
          }),
        });
      }
    }
    return deliveries;
  }

  private async filter(entries: Entry[], row: Row): Promise<Entry[]> {
    const passing: Entry[] = [];
    const pending: Entry[] = [];
    for (const e of entries) {
      const verdict = evaluateInNode(e.filters, row);
      if (verdict === true) passing.push(e);
      else if (verdict === undefined) pending.push(e);
    }
    if (!pending.length) return passing;
    const sqlFilters: CompiledFilter[] = pending.flatMap((e) => e.filters.filter((f) => !f.evaluate));
    this.metrics.filterQueries++;
    const results = await evaluateInSql(this.pool, sqlFilters, row, (f, error) => {
      this.log.warn('a filter could not be evaluated; its subscriptions miss this change', {
        filter: `${f.column}=${f.negate ? 'not.' : ''}${f.op}.${f.value.slice(0, 200)}`,
        type: f.type,
        error: error.message,
        subscriptions: pending.filter((e) => e.filters.some((x) => x.key === f.key)).map((e) => e.sub.key),
      });
    });
    for (const e of pending) {
      if (e.filters.every((f) => (f.evaluate ? true : results.get(f.key) === true))) passing.push(e);
    }
    return passing;
  }
}

function groupByRole(entries: Entry[]): [string, Entry[]][] {
  const map = new Map<string, Entry[]>();
  for (const e of entries) {
    const list = map.get(e.role);
    if (list) list.push(e);
    else map.set(e.role, [e]);
  }
  return [...map];
}

/** Column name → text value of a tuple; unchanged TOAST values are left out. */
function textRow(relation: Relation, tuple: Tuple | null): Row {
  const row: Row = new Map();
  if (!tuple) return row;
  relation.columns.forEach((c, i) => {
    const cell = tuple[i];
    if (cell === undefined || cell === UNCHANGED_TOAST) return;
    row.set(c.name, cell);
  });
  return row;
}

/**
 * wal2json's `identity`: the full old row under REPLICA IDENTITY FULL, else the key columns, taken
 * from the new row when an UPDATE left the key unchanged (pgoutput then sends no old tuple).
 */
function identityRow(change: Change, newRow: Row): Row {
  const { relation } = change;
  if (change.oldTuple) {
    const full = textRow(relation, change.oldTuple);
    if (!change.oldIsKeyOnly) return full;
    return new Map([...full].filter(([name]) => relation.columns.some((c) => c.name === name && c.isKey)));
  }
  const row: Row = new Map();
  for (const c of relation.columns)
    if (c.isKey && newRow.has(c.name)) row.set(c.name, newRow.get(c.name) ?? null);
  return row;
}

/** Which values to cast in SQL: every cell of a known column; slot = index into the cast list. */
function castsFor(
  meta: TableMeta,
  newRow: Row,
  identity: Row,
): { casts: CastRequest[]; newSlots: Map<string, number>; identitySlots: Map<string, number> } {
  const casts: CastRequest[] = [];
  const types = new Map(meta.columns.map((c) => [c.name, c.regtype]));
  const slots = (row: Row) => {
    const out = new Map<string, number>();
    for (const [name, value] of row) {
      const type = types.get(name);
      if (type === undefined) continue;
      out.set(name, casts.length);
      casts.push({ type, value });
    }
    return out;
  };
  return { casts, newSlots: slots(newRow), identitySlots: slots(identity) };
}

function jsonRow(slots: Map<string, number>, values: unknown[]): JsonRow {
  const row: JsonRow = new Map();
  for (const [name, slot] of slots) row.set(name, values[slot] ?? null);
  return row;
}
