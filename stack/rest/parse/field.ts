import { Cursor, quotedValue } from './cursor.ts';

/** One step of a JSON path: `->key`, `->>key`, `->0`. */
export interface JsonOp {
  arrow: '->' | '->>';
  key: string;
  index: boolean;
}

/** A column reference with an optional JSON path (`data->a->>b`). */
export interface Field {
  name: string;
  json: JsonOp[];
}

// PostgREST's identifier characters: letters, digits, `_`, `$` and spaces (trimmed).
const IDENT = /[\p{L}\p{N}_$ ]/u;

function identifier(c: Cursor): string {
  const raw = c.takeWhile((ch) => IDENT.test(ch));
  return raw.trim();
}

/** A field name: `"quoted"` or identifiers joined by single dashes (not `->`). */
export function fieldName(c: Cursor): string {
  const quoted = quotedValue(c);
  if (quoted !== undefined) return quoted;
  const parts: string[] = [];
  for (;;) {
    const part = identifier(c);
    if (!part) throw c.fail('field name (* or [a..z0..9_$])');
    parts.push(part);
    if (c.peek() === '-' && c.peek(1) !== '>') {
      c.pos++;
      continue;
    }
    return parts.join('-');
  }
}

function jsonKey(c: Cursor): string {
  const quoted = quotedValue(c);
  if (quoted !== undefined) return quoted;
  const key = c.takeWhile((ch) => !'(-:.,>)'.includes(ch)).trim();
  if (!key) throw c.fail('any non reserved character different from: .,>()');
  return key;
}

export function jsonPath(c: Cursor): JsonOp[] {
  const ops: JsonOp[] = [];
  for (;;) {
    let arrow: JsonOp['arrow'];
    if (c.eat('->>')) arrow = '->>';
    else if (c.eat('->')) arrow = '->';
    else return ops;
    const m = /^-?\d+(?=->|::|\.|,|\)|$)/.exec(c.text.slice(c.pos));
    if (m) {
      c.pos += m[0].length;
      ops.push({ arrow, key: m[0], index: true });
    } else {
      ops.push({ arrow, key: jsonKey(c), index: false });
    }
  }
}

/** `name` plus JSON path, surrounding blanks ignored (PostgREST `pField`). */
export function field(c: Cursor): Field {
  c.skipSpaces();
  const name = fieldName(c);
  const json = jsonPath(c);
  c.skipSpaces();
  return { name, json };
}

/** The `columns=` and `on_conflict=` lists: field names separated by commas. */
export function parseColumnList(text: string, what: string): string[] {
  const c = new Cursor(text, what);
  const names: string[] = [];
  for (;;) {
    c.skipSpaces();
    names.push(fieldName(c));
    c.skipSpaces();
    if (c.done) return names;
    c.expect(',', '"," or end of input');
  }
}
