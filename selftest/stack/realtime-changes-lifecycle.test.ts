/**
 * The engine's life on a shared database: its temporary slot, stale slots from killed runs, a second
 * engine beside it, run-time publication changes, no lost first event, and delivery latency.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Stack } from '../../stack/index.ts';
import { changesMetrics, createChangesEngine } from '../../stack/realtime/changes/index.ts';
import { SLOT_PREFIX } from '../../stack/realtime/changes/replication.ts';
import type { ChangesEngine } from '../../stack/realtime/changes-api.ts';
import { startTestStack } from '../support/stack.ts';
import { byId, claimsFor, record } from './realtime-changes-support.ts';

let stack: Stack;
let engine: ChangesEngine;
const sql = (text: string, values?: unknown[]) => stack.local.ctx.db.admin.query(text, values);
const service = claimsFor('service_role');
const ours = async () =>
  (
    await sql(`select slot_name, active, temporary from pg_replication_slots where slot_name like $1`, [
      `${SLOT_PREFIX}%`,
    ])
  ).rows as { slot_name: string; active: boolean; temporary: boolean }[];

beforeAll(async () => {
  stack = await startTestStack();
  await sql(`
    create table public.rtl (id int primary key, label text);
    alter publication supabase_realtime add table public.rtl;
  `);
  // A persistent slot with our prefix, as a run killed mid-creation could leave behind.
  await sql(`select pg_create_logical_replication_slot('${SLOT_PREFIX}stale_from_killed_run', 'pgoutput')`);
  engine = await createChangesEngine(stack.local.ctx);
});

afterAll(async () => {
  await engine?.stop();
  await stack?.stop();
});

describe('slots', () => {
  it('drops inactive slots with its prefix at start and streams from its own temporary slot', async () => {
    const slots = await ours();
    expect(slots.map((s) => s.slot_name)).not.toContain(`${SLOT_PREFIX}stale_from_killed_run`);
    expect(slots.length).toBeGreaterThanOrEqual(1);
    for (const s of slots) expect(s).toMatchObject({ active: true, temporary: true });
  });

  it('a second engine on the same database gets its own slot; stopping it leaves the first working', async () => {
    const before = (await ours()).map((s) => s.slot_name);
    const second = await createChangesEngine(stack.local.ctx);
    const added = (await ours()).map((s) => s.slot_name).filter((n) => !before.includes(n));
    expect(added).toHaveLength(1);

    const a = await record(engine, service, [{ event: 'INSERT', schema: 'public', table: 'rtl' }]);
    const b = await record(second, service, [{ event: 'INSERT', schema: 'public', table: 'rtl' }]);
    await sql(`insert into rtl values (1, 'both')`);
    await a.waitFor(byId(1), 'row 1 on the first engine');
    await b.waitFor(byId(1), 'row 1 on the second engine');

    await second.stop();
    expect((await ours()).map((s) => s.slot_name)).not.toContain(added[0]);
    await sql(`insert into rtl values (2, 'first only')`);
    await a.waitFor(byId(2), 'row 2 on the first engine after the second stopped');
    expect(a.received).toHaveLength(2);
    expect(b.received).toHaveLength(1);
    engine.unsubscribe(a.key);
  });
});

describe('connection loss', () => {
  it('comes back on a new slot when the walsender is terminated, and delivers again', async () => {
    const before = changesMetrics(engine).reconnects;
    await sql(
      `select pg_terminate_backend(active_pid) from pg_replication_slots where slot_name like $1 and active`,
      [`${SLOT_PREFIX}%`],
    );
    await expect.poll(() => changesMetrics(engine).reconnects, { timeout: 20_000 }).toBe(before + 1);
    expect(changesMetrics(engine).streaming).toBe(true);
    const rec = await record(engine, service, [{ event: 'INSERT', schema: 'public', table: 'rtl' }]);
    expect(rec.result).toEqual({ ok: true });
    await sql(`insert into rtl values (500, 'after reconnect')`);
    await rec.waitFor(byId(500), 'insert after the reconnect');
    engine.unsubscribe(rec.key);
  });
});

describe('subscriptions over time', () => {
  it('delivers a change committed right after subscribe resolves (no lost first event)', async () => {
    for (let i = 0; i < 5; i++) {
      const rec = await record(engine, service, [
        { event: 'INSERT', schema: 'public', table: 'rtl', filter: `id=eq.${100 + i}` },
      ]);
      await sql(`insert into rtl values ($1, 'first')`, [100 + i]);
      await rec.waitFor(byId(100 + i), `the first event ${100 + i}`);
      engine.unsubscribe(rec.key);
    }
  });

  it('publication changes take effect for new subscriptions', async () => {
    await sql(`alter publication supabase_realtime drop table public.rtl`);
    const refused = await record(engine, service, [{ event: '*', schema: 'public', table: 'rtl' }]);
    expect(refused.result).toEqual({
      ok: false,
      message:
        'Unable to subscribe to changes with given parameters. Please check Realtime is enabled for the given connect parameters: [event: *, schema: public, table: rtl, filters: [], select: nil]',
    });
    await sql(`alter publication supabase_realtime add table public.rtl`);
    const rec = await record(engine, service, [{ event: 'INSERT', schema: 'public', table: 'rtl' }]);
    expect(rec.result).toEqual({ ok: true });
    await sql(`insert into rtl values (200, 'republished')`);
    await rec.waitFor(byId(200), 'insert after re-adding the table');
    engine.unsubscribe(rec.key);
  });

  it('a column added at run time appears in columns and record (relation cache invalidated)', async () => {
    const rec = await record(engine, service, [{ event: 'INSERT', schema: 'public', table: 'rtl' }]);
    await sql(`insert into rtl values (250, 'before')`);
    await rec.waitFor(byId(250), 'insert before the new column');
    await sql(`alter table rtl add column extra jsonb default '{"k": 1}'`);
    await sql(`insert into rtl values (251, 'after')`);
    const got = await rec.waitFor(byId(251), 'insert after the new column');
    expect(got.data.columns?.map((c) => `${c.name}:${c.type}`)).toEqual([
      'id:int4',
      'label:text',
      'extra:jsonb',
    ]);
    expect(got.data.record).toEqual({ id: 251, label: 'after', extra: { k: 1 } });
    engine.unsubscribe(rec.key);
  });

  it('unsubscribe stops deliveries', async () => {
    const gone = await record(engine, service, [{ event: 'INSERT', schema: 'public', table: 'rtl' }]);
    const witness = await record(engine, service, [{ event: 'INSERT', schema: 'public', table: 'rtl' }]);
    engine.unsubscribe(gone.key);
    await sql(`insert into rtl values (300, 'after unsubscribe')`);
    await witness.waitFor(byId(300), 'the witness copy');
    expect(gone.received).toEqual([]);
    engine.unsubscribe(witness.key);
  });

  it('measures commit → deliver latency for one subscriber (printed, not asserted)', async () => {
    const rec = await record(engine, service, [{ event: 'INSERT', schema: 'public', table: 'rtl' }]);
    let next = 400;
    const measure = async (label: string, commitMode: 'on' | 'off') => {
      const samples: number[] = [];
      for (let i = 0; i < 10; i++) {
        const id = next++;
        const t0 = performance.now();
        await sql(
          `begin; set local synchronous_commit = ${commitMode}; insert into rtl values (${id}, 'timed'); commit;`,
        );
        const got = await rec.waitFor(byId(id), `timed row ${id}`);
        // From sending the INSERT to delivery: an upper bound on commit → deliver (the delivery can
        // even beat the INSERT's own reply to the client).
        samples.push(got.at - t0);
      }
      samples.sort((x, y) => x - y);
      const p = (q: number) =>
        samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]?.toFixed(2);
      console.log(
        `postgres_changes insert sent→delivered, ${label}, ${samples.length} inserts: p50 ${p(0.5)} ms, p90 ${p(0.9)} ms, max ${p(1)} ms`,
      );
    };
    // Logical decoding only reads flushed WAL: an asynchronous commit waits for the WAL writer
    // (wal_writer_delay, 200 ms by default), a synchronous one is decoded at once.
    await measure('synchronous_commit=on', 'on');
    await measure('synchronous_commit=off', 'off');
    engine.unsubscribe(rec.key);
  });
});
