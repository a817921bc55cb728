import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { MigrationError } from '../../stack/postgres/migrate.ts';
import { InitError } from './errors.ts';
import { shown } from './paths.ts';
import { indexOfPosition, lineAt, type Statement, splitStatements } from './statements.ts';

interface Located {
  /** Where the statement Postgres refused starts. */
  statementLine: number;
  /** Where Postgres points inside it, when its error has a position. */
  at?: { line: number; column: number };
}

/**
 * A migration Postgres refused, as a message a user can act on: the file, the line of the statement
 * and Postgres's own error (message, SQLSTATE, detail, hint, context). A position in the error is
 * relative to the whole file (migrate() sends the file as one query). Without one, the file's
 * statements are replayed one by one in a transaction that is rolled back, on the database as the
 * earlier files left it, until one fails with the same error.
 */
export async function explainMigrationFailure(error: unknown, connectionString: string): Promise<unknown> {
  if (!(error instanceof MigrationError) || !(error.cause instanceof pg.DatabaseError)) return error;
  const pgError = error.cause;
  const sql = await readFile(error.file, 'utf8');
  const statements = splitStatements(sql);
  let located: Located | undefined;
  let unplaced = '';
  if (pgError.position) {
    const index = indexOfPosition(sql, Number(pgError.position));
    const statement = [...statements].reverse().find((s) => s.start <= index);
    located = {
      statementLine: lineAt(sql, statement?.start ?? index).line,
      at: lineAt(sql, index),
    };
  } else {
    const replayed = await replay(connectionString, statements);
    if (replayed && replayed.error.message === pgError.message) {
      const pos = replayed.error.position;
      located = {
        statementLine: lineAt(sql, replayed.statement.start).line,
        ...(pos
          ? {
              at: lineAt(
                sql,
                replayed.statement.start + indexOfPosition(replayed.statement.text, Number(pos)),
              ),
            }
          : {}),
      };
    } else {
      unplaced = replayed
        ? ` (replaying its statements one by one failed differently, at line ${lineAt(sql, replayed.statement.start).line}: ${replayed.error.message})`
        : ' (its statements succeed one by one, so the failure depends on running them together)';
    }
  }
  const file = shown(error.file);
  const where = located
    ? `${file}:${located.at ? `${located.at.line}:${located.at.column}` : located.statementLine}`
    : file;
  const statementNote = located
    ? located.at && located.at.line !== located.statementLine
      ? ` in the statement starting on line ${located.statementLine}`
      : located.at
        ? ''
        : ` (the statement starting on line ${located.statementLine})`
    : '';
  const lines = [
    `${where}: Postgres refused this migration${statementNote}: ${pgError.message} (SQLSTATE ${pgError.code})${unplaced}`,
  ];
  if (pgError.detail) lines.push(`  Detail: ${pgError.detail}`);
  if (pgError.hint) lines.push(`  Hint: ${pgError.hint}`);
  if (pgError.where) lines.push(`  Context: ${pgError.where}`);
  lines.push(
    '  The files before it applied; this one was rolled back. Fix it (it must apply to a fresh Supabase project, as `supabase db reset` would), then run init again.',
  );
  return new InitError('MIGRATION_FAILED', lines.join('\n'), { cause: error });
}

const TRANSACTION_CONTROL = /^(begin|start\s+transaction|commit|end|rollback|abort)\b/i;

async function replay(
  connectionString: string,
  statements: Statement[],
): Promise<{ statement: Statement; error: pg.DatabaseError } | undefined> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    await client.query('begin');
    for (const statement of statements) {
      // The file's own transaction control would end the replay's transaction (and commit it).
      if (TRANSACTION_CONTROL.test(statement.text)) continue;
      try {
        await client.query(statement.text);
      } catch (error) {
        if (error instanceof pg.DatabaseError) return { statement, error };
        throw error;
      }
    }
    return undefined;
  } finally {
    await client.query('rollback').catch(() => undefined);
    await client.end();
  }
}
