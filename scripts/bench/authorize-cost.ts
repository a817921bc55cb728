/**
 * Profile counter for the changes engine's hot path: the one SQL round trip a change costs
 * (`authorize()` from stack/realtime/changes/authorize.ts, i.e. `realtime.rtm_authorize`), timed for
 * 1, 500 and 2,000 distinct claims sets against the help-desk tickets table — the same call the
 * engine makes per insert with that many subscribers. Used by bench:latency and bench:fanout to say
 * what dominates delivery.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { authorize } from '../../stack/realtime/changes/authorize.ts';
import { Catalog } from '../../stack/realtime/changes/catalog.ts';
import { loadClaims } from './load-users.ts';
import { median } from './stats.ts';

export interface AuthorizeCost {
  claimsSets: number;
  medianMs: number;
  perClaimsUs: number;
  /** A bare `select 1` on the same connection, interleaved with the calls: the machine's share. */
  roundTripMs: number;
  /** The same call with check_rows off: privileges, casts and JSON only, no RLS loop. */
  withoutRowCheckMs: number;
}

/** A bare `select 1` round trip on the same kind of connection: the scheduler's share of every query. */
export async function measureRoundTrip(dbUrl: string, repeats = 60): Promise<number> {
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  try {
    const times: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const t0 = performance.now();
      await client.query('select 1');
      times.push(performance.now() - t0);
    }
    return median(times);
  } finally {
    await client.end();
  }
}

export async function measureAuthorizeCost(
  dbUrl: string,
  sizes = [1, 500, 2000],
  repeats = 15,
): Promise<AuthorizeCost[]> {
  const pool = new pg.Pool({ connectionString: dbUrl, max: 1 });
  try {
    const { rows } = await pool.query<{ oid: number }>("select 'public.tickets'::regclass::oid as oid");
    const meta = await new Catalog(pool).table(Number(rows[0]?.oid));
    const row = new Map<string, string>([
      ['id', randomUUID()],
      ['title', 'authorize cost'],
      ['created_by', randomUUID()],
    ]);
    // A committed transaction's 32-bit xid, as the stream gives for a change: the engine's
    // visibility wait then returns on its first check, as it does for almost every real change.
    const xidRow = await pool.query<{ x: string }>(
      'select (pg_current_xact_id()::text::bigint % 4294967296)::text as x',
    );
    const xid = Number(xidRow.rows[0]?.x);
    const out: AuthorizeCost[] = [];
    for (const n of sizes) {
      // Full access-token claims (as load users carry): the policies parse them on every check.
      const claims = Array.from({ length: n }, (_, i) =>
        loadClaims('http://127.0.0.1/auth/v1', {
          id: randomUUID(),
          email: `cost-${i}@rtm-bench.test`,
          role: 'client',
        }),
      );
      const times: number[] = [];
      const bare: number[] = [];
      const noRows: number[] = [];
      const request = (checkRows: boolean) => ({
        table: meta,
        roles: ['authenticated'],
        claims,
        pkValues: [row.get('id') as string],
        checkRows,
        xid,
        casts: [...row].map(([name, value]) => ({
          type: meta.columns.find((c) => c.name === name)?.regtype ?? 'text',
          value,
        })),
      });
      for (let i = 0; i < repeats; i++) {
        // Interleaved, so all three see the same moment of a shared machine.
        let t0 = performance.now();
        await pool.query('select 1');
        bare.push(performance.now() - t0);
        t0 = performance.now();
        await authorize(pool, request(false));
        noRows.push(performance.now() - t0);
        t0 = performance.now();
        await authorize(pool, {
          table: meta,
          roles: ['authenticated'],
          claims,
          pkValues: [row.get('id') as string],
          checkRows: true,
          xid,
          casts: [...row].map(([name, value]) => ({
            type: meta.columns.find((c) => c.name === name)?.regtype ?? 'text',
            value,
          })),
        });
        times.push(performance.now() - t0);
      }
      const m = median(times);
      out.push({
        claimsSets: n,
        medianMs: m,
        perClaimsUs: (1000 * m) / n,
        roundTripMs: median(bare),
        withoutRowCheckMs: median(noRows),
      });
    }
    return out;
  } finally {
    await pool.end();
  }
}
