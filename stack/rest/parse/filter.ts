import { Cursor, quotedValue } from './cursor.ts';
import { type Field, field } from './field.ts';

export type SimpleOp = 'neq' | 'cs' | 'cd' | 'ov' | 'sl' | 'sr' | 'nxr' | 'nxl' | 'adj';
export type QuantOp = 'eq' | 'gte' | 'gt' | 'lte' | 'lt' | 'like' | 'ilike' | 'match' | 'imatch';
export type FtsOp = 'fts' | 'plfts' | 'phfts' | 'wfts';
export type IsValue = 'null' | 'not_null' | 'true' | 'false' | 'unknown';

export type Operation =
  | { kind: 'simple'; op: SimpleOp; value: string }
  | { kind: 'quant'; op: QuantOp; quant?: 'any' | 'all'; value: string }
  | { kind: 'in'; values: string[] }
  | { kind: 'is'; value: IsValue }
  | { kind: 'isdistinct'; value: string }
  | { kind: 'fts'; op: FtsOp; lang?: string; value: string };

export interface OpExpr {
  negate: boolean;
  operation: Operation;
}

export interface Filter {
  field: Field;
  expr: OpExpr;
}

export type LogicTree =
  | { kind: 'filter'; filter: Filter }
  | { kind: 'expr'; negate: boolean; op: 'and' | 'or'; children: LogicTree[] };

// Longest first where one name prefixes another (gte before gt, imatch after match is fine).
const SIMPLE_OPS: SimpleOp[] = ['neq', 'cs', 'cd', 'ov', 'sl', 'sr', 'nxr', 'nxl', 'adj'];
const QUANT_OPS: QuantOp[] = ['eq', 'gte', 'gt', 'lte', 'lt', 'like', 'ilike', 'match', 'imatch'];
const FTS_OPS: FtsOp[] = ['fts', 'plfts', 'phfts', 'wfts'];
const IS_VALUES: IsValue[] = ['null', 'not_null', 'true', 'false', 'unknown'];

type ValueParser = (c: Cursor) => string;

/** A top-level filter value: the rest of the parameter, verbatim. */
const restOfInput: ValueParser = (c) => {
  const v = c.text.slice(c.pos);
  c.pos = c.text.length;
  return v;
};

/** A value inside `or=(…)`/`and=(…)`: quoted, a `{…}` array literal, or up to `,`/`)`. */
const logicValue: ValueParser = (c) => {
  const start = c.pos;
  const quoted = quotedValue(c);
  if (quoted !== undefined && (c.done || c.peek() === ',' || c.peek() === ')')) return quoted;
  c.pos = start;
  if (c.peek() === '{') {
    const close = c.text.indexOf('}', c.pos);
    const inner = close < 0 ? '' : c.text.slice(c.pos + 1, close);
    if (close >= 0 && !inner.includes('{')) {
      c.pos = close + 1;
      return `{${inner}}`;
    }
  }
  return c.takeWhile((ch) => ch !== ',' && ch !== ')');
};

function listValue(c: Cursor): string[] {
  c.skipSpaces();
  c.expect('(');
  c.skipSpaces();
  const values: string[] = [];
  for (;;) {
    const start = c.pos;
    const quoted = quotedValue(c);
    if (quoted !== undefined && (c.peek() === ',' || c.peek() === ')')) values.push(quoted);
    else {
      c.pos = start;
      values.push(c.takeWhile((ch) => ch !== ',' && ch !== ')'));
    }
    if (!c.eat(',')) break;
  }
  c.skipSpaces();
  c.expect(')');
  c.skipSpaces();
  return values;
}

function opExpr(c: Cursor, value: ValueParser): OpExpr {
  const negate = c.eat('not.');
  return { negate, operation: operation(c, value) };
}

function operation(c: Cursor, value: ValueParser): Operation {
  if (c.eat('in.')) return { kind: 'in', values: listValue(c) };
  if (c.eat('is.')) {
    const word = c.text.slice(c.pos).toLowerCase();
    const is = IS_VALUES.find((v) => word.startsWith(v) && !/[a-z_]/.test(word[v.length] ?? ''));
    if (!is) throw c.fail('isVal: (null, not_null, true, false, unknown)');
    c.pos += is.length;
    return { kind: 'is', value: is };
  }
  if (c.eat('isdistinct.')) return { kind: 'isdistinct', value: value(c) };
  for (const op of FTS_OPS) {
    const m = new RegExp(`^${op}(?:\\(([\\p{L}\\p{N}_ ]+)\\))?\\.`, 'u').exec(c.text.slice(c.pos));
    if (m) {
      c.pos += m[0].length;
      const lang = m[1]?.trim();
      return { kind: 'fts', op, value: value(c), ...(lang ? { lang } : {}) };
    }
  }
  for (const op of SIMPLE_OPS) {
    if (c.eat(`${op}.`)) return { kind: 'simple', op, value: value(c) };
  }
  for (const op of QUANT_OPS) {
    const m = new RegExp(`^${op}(?:\\((any|all)\\))?\\.`).exec(c.text.slice(c.pos));
    if (m) {
      c.pos += m[0].length;
      const quant = m[1] as 'any' | 'all' | undefined;
      return { kind: 'quant', op, value: value(c), ...(quant ? { quant } : {}) };
    }
  }
  throw c.fail('"not" or operator (eq, gt, ...)');
}

/** A filter on the top-level table (empty path) or on an embedded resource (`rel.col=…`). */
export interface PathFilter {
  path: string[];
  filter: Filter;
}

/** `col=<op>.<value>` or `rel.col=<op>.<value>`: the key is the field, the value the expression. */
export function parseFilter(key: string, value: string): PathFilter {
  const kc = new Cursor(key, 'tree path');
  const names: string[] = [];
  let f = field(kc);
  while (kc.peek() === '.' && f.json.length === 0) {
    kc.pos++;
    names.push(f.name);
    f = field(kc);
  }
  if (!kc.done) throw kc.fail('"->", "->>", delimiter (.) or end of input');
  const vc = new Cursor(value, 'filter');
  const expr = opExpr(vc, restOfInput);
  if (!vc.done) throw vc.fail('end of input');
  return { path: names, filter: { field: f, expr } };
}

/** `or=(…)`, `and=(…)`, `not.or=(…)`: the key gives the operator, the value its operands. */
export function parseLogic(key: 'and' | 'or' | 'not.and' | 'not.or', value: string): LogicTree {
  const c = new Cursor(`${key}${value}`, 'logic tree');
  const tree = logicTree(c);
  if (!c.done) throw c.fail('end of input');
  return tree;
}

function logicTree(c: Cursor): LogicTree {
  const start = c.pos;
  const negate = c.eat('not.');
  const op = c.eat('and(') ? 'and' : c.eat('or(') ? 'or' : undefined;
  if (op) {
    const children: LogicTree[] = [];
    for (;;) {
      c.skipSpaces();
      children.push(c.nested(() => logicTree(c)));
      c.skipSpaces();
      if (!c.eat(',')) break;
    }
    c.expect(')');
    return { kind: 'expr', negate, op, children };
  }
  c.pos = start;
  const f = field(c);
  c.expect('.', 'delimiter (.)');
  return { kind: 'filter', filter: { field: f, expr: opExpr(c, logicValue) } };
}
