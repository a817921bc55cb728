import type pg from 'pg';
import { HttpError } from '../http/server.ts';

/**
 * PostgREST's error body: always these four keys, `details` and `hint` null when absent
 * (PostgREST `Error.hs` `toJsonPgrstError Verbose`).
 */
export interface PgrstErrorBody {
  code: string;
  /** Text, or for an ambiguous embedding the list of candidate relationships. */
  details: string | unknown[] | null;
  hint: string | null;
  message: string;
}

/** An error answered exactly as PostgREST answers it; `cause` keeps what went wrong underneath. */
export class PgrstError extends HttpError {
  constructor(
    status: number,
    readonly pgrst: PgrstErrorBody,
    headers: Record<string, string> = {},
    options: { cause?: unknown } = {},
  ) {
    super(status, pgrst, { 'Proxy-Status': `PostgREST; error=${pgrst.code}`, ...headers });
    this.name = 'PgrstError';
    if (options.cause !== undefined) this.cause = options.cause;
  }
}

export function pgrstError(
  status: number,
  code: string,
  message: string,
  details: string | unknown[] | null = null,
  hint: string | null = null,
  headers: Record<string, string> = {},
): PgrstError {
  return new PgrstError(status, { code, details, hint, message }, headers);
}

/** PGRST100: a query parameter PostgREST's parser refuses (the message names the parameter). */
export function queryParamError(what: string, input: string, column: number, details: string): PgrstError {
  return pgrstError(
    400,
    'PGRST100',
    `"failed to parse ${what} (${input})" (line 1, column ${column})`,
    details,
  );
}

/** 42703 as Postgres words it for a qualified column (`column todos.x does not exist`). */
export function columnNotFound(table: string, column: string): PgrstError {
  return pgrstError(400, '42703', `column ${table}.${column} does not exist`);
}

/** PGRST204: a payload or `columns=` key that is not a column of the target. */
export function payloadColumnNotFound(table: string, column: string): PgrstError {
  return pgrstError(
    400,
    'PGRST204',
    `Could not find the '${column}' column of '${table}' in the schema cache`,
  );
}

export function singularityError(rows: number): PgrstError {
  return pgrstError(
    406,
    'PGRST116',
    'Cannot coerce the result to a single JSON object',
    `The result contains ${rows} rows`,
  );
}

/**
 * Map a Postgres error to PostgREST's status (`Error.hs` `mapSQLtoHTTP`). `authed` is "the role is
 * not the anon role": PostgREST answers insufficient privilege with 401 only to anonymous callers.
 */
export function pgErrorStatus(code: string, message: string, authed: boolean): number {
  if (code === '23503' || code === '23505') return 409;
  if (code === '25006') return 405;
  if (code === '21000') return message.endsWith('requires a WHERE clause') ? 400 : 500;
  if (code === '22023') return message.startsWith('role') && message.endsWith('does not exist') ? 401 : 400;
  if (code === '42883') return message.startsWith('function xmlagg(') ? 406 : 404;
  if (code === '42P01') return 404;
  if (code === '42P17') return 500;
  if (code === '42501') return authed ? 403 : 401;
  if (code === 'P0001') return 400;
  if (code === '53400') return 500;
  if (code === '57P01') return 503;
  const byClass: Record<string, number> = {
    '08': 503,
    '09': 500,
    '0L': 403,
    '0P': 403,
    '25': 500,
    '28': 403,
    '2D': 500,
    '38': 500,
    '39': 500,
    '3B': 500,
    '40': 500,
    '53': 503,
    '54': 500,
    '55': 500,
    '57': 500,
    '58': 500,
    F0: 500,
    HV: 500,
    P0: 500,
    XX: 500,
  };
  return byClass[code.slice(0, 2)] ?? 400;
}

export function isPgError(error: unknown): error is pg.DatabaseError {
  return (
    error instanceof Error &&
    typeof (error as Partial<pg.DatabaseError>).code === 'string' &&
    (error as Partial<pg.DatabaseError>).severity !== undefined
  );
}

/** A Postgres error as PostgREST relays it: SQLSTATE, message, DETAIL and HINT verbatim. */
export function fromPgError(error: pg.DatabaseError, authed: boolean): PgrstError {
  const code = error.code ?? 'XX000';
  const status = pgErrorStatus(code, error.message, authed);
  return new PgrstError(
    status,
    { code, details: error.detail ?? null, hint: error.hint ?? null, message: error.message },
    status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {},
    { cause: error },
  );
}

/**
 * Map what running a statement threw: Postgres errors as PostgREST relays them, a lost or refused
 * connection as its 503 PGRST000; anything else is a bug here and propagates (500, logged).
 */
export function fromExecutionError(error: unknown, authed: boolean): unknown {
  if (isPgError(error)) return fromPgError(error, authed);
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const lostConnection =
    error instanceof Error &&
    ((typeof code === 'string' && /^E[A-Z]+$/.test(code)) ||
      /Connection terminated|connection timeout/i.test(error.message));
  if (!lostConnection) return error;
  return new PgrstError(
    503,
    {
      code: 'PGRST000',
      details: error.message,
      hint: null,
      message: 'Database connection error. Retrying the connection.',
    },
    {},
    { cause: error },
  );
}
