/**
 * Elixir's `inspect(value, pretty: true)` for the values hosted Realtime prints into its
 * postgres_changes error messages (parsed filters, the raw params map). Clients and the matrix match
 * these messages verbatim, so the formatting follows Elixir's rules for the shapes that occur.
 */

/** A tuple (`{"id", "eq", "1", false}`), as opposed to a list. */
export class Tuple {
  constructor(readonly items: unknown[]) {}
}

/** An atom such as `nil`; strings are inspected quoted. */
export class Atom {
  constructor(readonly name: string) {}
}

export const NIL = new Atom('nil');
const WIDTH = 80;
/** `Inspect.Opts` defaults: items shown per collection, and characters per string. */
const LIMIT = 50;
const PRINTABLE_LIMIT = 4096;

/**
 * Rendering happens in two passes so the cost is linear in the value: first every node is built
 * once with its one-line width, then each node is printed on one line if that width fits at its
 * indent, else broken one element per line. (Rendering each child flat and again broken doubles the
 * work per level: a 41-level nesting never finished.)
 */
type Doc =
  | { kind: 'text'; text: string; width: number }
  | { kind: 'group'; open: string; close: string; items: Doc[]; width: number }
  | { kind: 'entry'; key: string; value: Doc; width: number };

export function inspect(value: unknown): string {
  const out: string[] = [];
  print(build(value), 0, out);
  return out.join('');
}

function text(t: string): Doc {
  return { kind: 'text', text: t, width: t.length };
}

function build(value: unknown): Doc {
  if (value === null || value === undefined) return text('nil');
  if (value instanceof Atom) return text(value.name);
  if (typeof value === 'string') return text(inspectString(value));
  if (typeof value === 'boolean') return text(String(value));
  if (typeof value === 'number') return text(Number.isInteger(value) ? String(value) : inspectFloat(value));
  if (value instanceof Tuple)
    return group('{', '}', value.items.slice(0, LIMIT).map(build), value.items.length);
  if (Array.isArray(value)) return group('[', ']', value.slice(0, LIMIT).map(build), value.length);
  if (typeof value === 'object') {
    // Maps print with sorted keys (Erlang's term order for small maps; string keys sort bytewise).
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    const docs = entries.slice(0, LIMIT).map(([k, v]): Doc => {
      const key = inspectString(k);
      const inner = build(v);
      return { kind: 'entry', key, value: inner, width: key.length + 4 + inner.width };
    });
    return group('%{', '}', docs, entries.length);
  }
  return text(inspectString(String(value)));
}

/** A collection past LIMIT items ends in `...`, as Elixir prints it. */
function group(open: string, close: string, items: Doc[], total: number): Doc {
  if (total > items.length) items.push(text('...'));
  const inner = items.reduce((w, d) => w + d.width, 0) + Math.max(0, items.length - 1) * 2;
  return { kind: 'group', open, close, items, width: open.length + inner + close.length };
}

/**
 * One line when it fits in 80 columns (exact), otherwise one element per line. The multi-line form
 * only approximates Inspect.Algebra (tuples break `:flex`, filling lines); it is reached only by
 * filters longer than a line, e.g. an `in` list near the 100-value limit.
 */
function print(doc: Doc, indent: number, out: string[]): void {
  if (doc.kind === 'text') {
    out.push(doc.text);
    return;
  }
  if (doc.kind === 'entry') {
    out.push(`${doc.key} => `);
    print(doc.value, indent, out);
    return;
  }
  if (doc.items.length === 0) {
    out.push(doc.open, doc.close);
    return;
  }
  const flat = indent + doc.width <= WIDTH;
  out.push(doc.open, flat ? '' : '\n');
  const pad = ' '.repeat(indent + 2);
  doc.items.forEach((item, i) => {
    if (i > 0) out.push(flat ? ', ' : ',\n');
    if (!flat) out.push(pad);
    print(item, indent + 2, out);
  });
  out.push(flat ? '' : `\n${' '.repeat(indent)}`, doc.close);
}

/** A quoted string; past PRINTABLE_LIMIT characters Elixir cuts it and appends ` <> ...`. */
function inspectString(full: string): string {
  const s = full.length > PRINTABLE_LIMIT ? full.slice(0, PRINTABLE_LIMIT) : full;
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i] as string;
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (ch === '#' && s[i + 1] === '{') out += '\\#';
    else out += ch;
  }
  return s === full ? `${out}"` : `${out}" <> ...`;
}

function inspectFloat(n: number): string {
  const s = String(n);
  return s.includes('e') || s.includes('.') ? s : `${s}.0`;
}
