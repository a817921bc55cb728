import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SUPABASE_DIR } from '../postgres/migrate.ts';

/**
 * Faults that change a database object restore it from the app's own migrations, so "off" means
 * exactly what `supabase db push` would have created, not what the fault remembered.
 */

/**
 * Split SQL into statements at top-level `;`, honouring quotes, quoted identifiers, dollar quotes
 * and comments (function bodies contain `;`). Good for migration files, not a general SQL parser.
 */
export function splitStatements(sql: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i];
    const next = sql[i + 1];
    if (ch === '-' && next === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end + 1;
    } else if (ch === '/' && next === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end === -1 ? sql.length : end + 2;
    } else if (ch === "'" || ch === '"') {
      let j = i + 1;
      // A doubled quote is an escaped quote inside the literal.
      while (j < sql.length && !(sql[j] === ch && sql[j + 1] !== ch)) j += sql[j] === ch ? 2 : 1;
      i = j + 1;
    } else if (ch === '$') {
      const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(i))?.[0];
      if (tag) {
        const end = sql.indexOf(tag, i + tag.length);
        i = end === -1 ? sql.length : end + tag.length;
      } else i += 1;
    } else if (ch === ';') {
      statements.push(sql.slice(start, i + 1));
      start = i + 1;
      i += 1;
    } else i += 1;
  }
  const rest = sql.slice(start);
  if (stripComments(rest).trim()) statements.push(rest);
  return statements.map((s) => s.trim()).filter((s) => stripComments(s).trim());
}

function stripComments(sql: string): string {
  return sql.replace(/--[^\n]*\n?/g, '').replace(/\/\*[\s\S]*?\*\//g, '');
}

export interface MigrationStatement {
  file: string;
  sql: string;
}

/**
 * The last statement in `supabase/migrations/*.sql` (name order, as applied) whose text, with
 * comments removed, matches `pattern`. Later migrations win, as they do in the database.
 */
export async function findMigrationStatement(
  pattern: RegExp,
  what: string,
  supabaseDir: string = SUPABASE_DIR,
): Promise<MigrationStatement> {
  const dir = join(supabaseDir, 'migrations');
  const files = (await readdir(dir)).filter((n) => n.endsWith('.sql')).sort();
  let found: MigrationStatement | undefined;
  for (const name of files) {
    const file = join(dir, name);
    for (const sql of splitStatements(await readFile(file, 'utf8'))) {
      if (pattern.test(stripComments(sql))) found = { file, sql };
    }
  }
  if (!found) {
    throw new Error(
      `No migration in ${dir} defines ${what} (looked for ${pattern}); the fault cannot restore the ` +
        'healthy definition. Add it to a migration, or fix the pattern if it was renamed.',
    );
  }
  return found;
}
