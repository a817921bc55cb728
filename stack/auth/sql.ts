import pg from 'pg';

/** A pool or a checked-out client: auth's queries run on either. */
export type Queryable = pg.Pool | pg.PoolClient;

const TIMESTAMPTZ_OID = 1184;
const TIMESTAMP_OID = 1114;

/**
 * Timestamps stay text, so the microseconds Postgres stores reach the wire as GoTrue (Go's
 * RFC3339Nano) sends them; a JS Date would cut them to milliseconds.
 */
const rawTimestamps = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === TIMESTAMPTZ_OID || oid === TIMESTAMP_OID) return (value: string) => value;
    return pg.types.getTypeParser(oid, format);
  },
};

export async function query<R extends pg.QueryResultRow>(
  db: Queryable,
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  const result = await db.query<R>({ text, values, types: rawTimestamps as pg.CustomTypesConfig });
  return result.rows;
}

/** Run `fn` in one transaction on a client of `pool`; roll back and rethrow on any error. */
export async function transaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const result = await fn(client);
    await client.query('commit');
    return result;
  } catch (error) {
    // If the rollback fails too the connection is gone; the original error is the one worth reporting.
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Postgres timestamp text ("2026-01-01 00:00:00.123456+00", timestamptz in any session time zone,
 * or a plain timestamp taken as UTC) → Go's RFC3339Nano in UTC: "2026-01-01T00:00:00.123456Z",
 * trailing fractional zeros dropped.
 */
export function rfc3339(raw: string | null | undefined): string | undefined {
  if (raw === null || raw === undefined) return undefined;
  const m = /^(\d{4,}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d+))?([+-]\d\d(?::?\d\d)?(?::?\d\d)?)?$/.exec(raw);
  if (!m) throw new Error(`Unexpected timestamp text from Postgres: "${raw}"`);
  const [, date, time, fraction = '', offset = '+00'] = m;
  const offsetIso = normaliseOffset(offset);
  const utc = new Date(`${date}T${time}${offsetIso}`).toISOString().slice(0, 19);
  const digits = fraction.replace(/0+$/, '');
  return `${utc}${digits ? `.${digits}` : ''}Z`;
}

function normaliseOffset(offset: string): string {
  const sign = offset[0];
  const parts = offset.slice(1).replace(/:/g, '');
  const hh = parts.slice(0, 2);
  const mm = parts.slice(2, 4) || '00';
  // Seconds in an offset (historic zones only) are below Date's resolution for our purpose.
  return `${sign}${hh}:${mm}`;
}
