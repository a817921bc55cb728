/**
 * A migration file cut into its statements, each with the offset it starts at, the way psql cuts a
 * script: semicolons end statements except inside quotes ('…', E'…', "…"), dollar quotes ($$…$$,
 * $tag$…$tag$), comments (-- and nested /* *\/) and parentheses. Used only to say which statement
 * of a file Postgres refused when its error carries no position. A `BEGIN ATOMIC … END` function body
 * is not kept whole (psql needs a grammar for that too); a wrong cut there shows up as a replayed
 * error that differs from the original, which the caller reports as such.
 */
export interface Statement {
  /** Index into the file's text where the statement's first token starts. */
  start: number;
  text: string;
}

export function splitStatements(sql: string): Statement[] {
  const out: Statement[] = [];
  let start = -1;
  let depth = 0;
  let i = 0;
  const push = (end: number) => {
    if (start >= 0) out.push({ start, text: sql.slice(start, end) });
    start = -1;
  };
  while (i < sql.length) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      const eol = sql.indexOf('\n', i);
      i = eol < 0 ? sql.length : eol + 1;
      continue;
    }
    if (c === '/' && next === '*') {
      i = skipBlockComment(sql, i);
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (start < 0) start = i;
    if (c === ';' && depth === 0) {
      push(i + 1);
      i++;
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    if (c === "'") {
      const escapes = i > 0 && /[eE]/.test(sql[i - 1]!) && !/[\w$]/.test(sql[i - 2] ?? ' ');
      i = skipQuoted(sql, i, "'", escapes);
      continue;
    }
    if (c === '"') {
      i = skipQuoted(sql, i, '"', false);
      continue;
    }
    if (c === '$') {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i))?.[0];
      // `$1` (a parameter) and `a$b` (an identifier) are not dollar quotes.
      if (tag && !/[\w$]/.test(sql[i - 1] ?? ' ')) {
        const end = sql.indexOf(tag, i + tag.length);
        i = end < 0 ? sql.length : end + tag.length;
        continue;
      }
    }
    i++;
  }
  push(sql.length);
  return out;
}

function skipBlockComment(sql: string, from: number): number {
  let depth = 0;
  let i = from;
  while (i < sql.length) {
    if (sql[i] === '/' && sql[i + 1] === '*') {
      depth++;
      i += 2;
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else i++;
  }
  return i;
}

/** Past the closing quote; a doubled quote is a quote, and in E'…' a backslash escapes. */
function skipQuoted(sql: string, from: number, quote: string, backslashEscapes: boolean): number {
  let i = from + 1;
  while (i < sql.length) {
    const c = sql[i];
    if (backslashEscapes && c === '\\') i += 2;
    else if (c === quote && sql[i + 1] === quote) i += 2;
    else if (c === quote) return i + 1;
    else i++;
  }
  return i;
}

/** 1-based line and column of a JS string index. */
export function lineAt(text: string, index: number): { line: number; column: number } {
  const before = text.slice(0, index);
  const line = before.split('\n').length;
  return { line, column: index - before.lastIndexOf('\n') };
}

/**
 * Postgres's error `position` (1-based, counted in characters of the query string) as a JS string
 * index: they differ only past characters outside the BMP, which JS counts twice.
 */
export function indexOfPosition(text: string, position: number): number {
  let index = 0;
  for (let n = 1; n < position && index < text.length; n++) {
    index += (text.codePointAt(index) ?? 0) > 0xffff ? 2 : 1;
  }
  return index;
}
