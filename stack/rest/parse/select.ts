import { PgrstError } from '../errors.ts';
import { Cursor } from './cursor.ts';
import { type Field, field, fieldName } from './field.ts';

export type SelectItem =
  | { kind: 'star' }
  | { kind: 'field'; field: Field; alias?: string; cast?: string; aggregate?: string }
  | {
      kind: 'relation';
      name: string;
      alias?: string;
      /** `!hint`: a foreign key's name or column, or the target table, picking one relationship. */
      hint?: string;
      /** `!inner` keeps only parents with a match; `!left` (the default) keeps all. */
      join?: 'inner' | 'left';
      spread: boolean;
      children: SelectItem[];
    }
  | { kind: 'count'; alias?: string };

// Cast and aggregate-cast targets: PostgREST's identifier characters minus `$`. Spliced into
// `CAST(… AS <type>)`, so nothing outside letters, digits, `_` and blanks may pass.
const CAST_TYPE = /^[A-Za-z_][A-Za-z0-9_ ]*$/;

/** Parse `select=` (PostgREST `pFieldForest`). Default `*`. */
export function parseSelect(text: string): SelectItem[] {
  if (text.trim() === '') return [];
  const c = new Cursor(text, 'select parameter');
  const items = forest(c);
  if (!c.done) throw c.fail('"," or end of input');
  return items;
}

function forest(c: Cursor): SelectItem[] {
  const items: SelectItem[] = [];
  for (;;) {
    items.push(item(c));
    if (!c.eat(',')) return items;
  }
}

function atEnd(c: Cursor): boolean {
  return c.done || c.peek() === ',' || c.peek() === ')';
}

function castType(c: Cursor): string | undefined {
  if (!c.eat('::')) return undefined;
  const type = c.takeWhile((ch) => /[A-Za-z0-9_ ]/.test(ch)).trim();
  if (!CAST_TYPE.test(type)) throw c.fail('letter or digit');
  return type;
}

function item(c: Cursor): SelectItem {
  c.skipSpaces();
  if (c.peek() === '*') {
    c.pos++;
    c.skipSpaces();
    if (atEnd(c)) return { kind: 'star' };
    throw c.fail('"," or end of input');
  }
  if (c.eat('...')) {
    const name = fieldName(c);
    return relation(c, name, undefined, true);
  }
  const start = c.pos;
  let alias: string | undefined;
  // `alias:` — a single colon (a double one starts a cast).
  const probe = new Cursor(c.text, c.what);
  probe.pos = c.pos;
  try {
    const name = fieldName(probe);
    if (probe.peek() === ':' && probe.peek(1) !== ':') {
      alias = name;
      c.pos = probe.pos + 1;
    }
  } catch (error) {
    if (!(error instanceof PgrstError)) throw error;
    c.pos = start;
  }
  c.skipSpaces();
  if (c.eat('count()')) {
    castType(c);
    c.skipSpaces();
    if (!atEnd(c)) throw c.fail('"," or end of input');
    return alias === undefined ? { kind: 'count' } : { kind: 'count', alias };
  }
  const nameStart = c.pos;
  const name = fieldName(c);
  if (c.peek() === '(' || c.peek() === '!') return relation(c, name, alias, false);
  c.pos = nameStart;
  const f = field(c);
  const cast = castType(c);
  let aggregate: string | undefined;
  const agg = /^\.(sum|avg|count|max|min)\(\)/.exec(c.text.slice(c.pos));
  if (agg) {
    c.pos += agg[0].length;
    aggregate = agg[1];
    castType(c);
  }
  c.skipSpaces();
  if (!atEnd(c)) throw c.fail('"->", "::", "." , "," or end of input');
  return {
    kind: 'field',
    field: f,
    ...(alias !== undefined ? { alias } : {}),
    ...(cast !== undefined ? { cast } : {}),
    ...(aggregate !== undefined ? { aggregate } : {}),
  };
}

function relation(c: Cursor, name: string, alias: string | undefined, spread: boolean): SelectItem {
  let hint: string | undefined;
  let join: 'inner' | 'left' | undefined;
  for (let i = 0; i < 2 && c.eat('!'); i++) {
    const param = fieldName(c);
    if (param === 'inner' || param === 'left') join = param;
    else hint = param;
  }
  c.expect('(', '"(" (embedded resource)');
  const children = c.peek() === ')' ? [] : c.nested(() => forest(c));
  c.expect(')');
  c.skipSpaces();
  if (!atEnd(c)) throw c.fail('"," or end of input');
  return {
    kind: 'relation',
    name,
    spread,
    children,
    ...(alias !== undefined ? { alias } : {}),
    ...(hint !== undefined ? { hint } : {}),
    ...(join !== undefined ? { join } : {}),
  };
}
