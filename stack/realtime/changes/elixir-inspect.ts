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

export function inspect(value: unknown): string {
  return render(value, 0);
}

function render(value: unknown, indent: number): string {
  if (value === null || value === undefined) return 'nil';
  if (value instanceof Atom) return value.name;
  if (typeof value === 'string') return inspectString(value);
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : inspectFloat(value);
  if (value instanceof Tuple) return group('{', '}', value.items, indent);
  if (Array.isArray(value)) return group('[', ']', value, indent);
  if (typeof value === 'object') {
    // Maps print with sorted keys (Erlang's term order for small maps; string keys sort bytewise).
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return group(
      '%{',
      '}',
      entries.map(([k, v]) => new MapEntry(k, v)),
      indent,
    );
  }
  return inspectString(String(value));
}

class MapEntry {
  constructor(
    readonly key: string,
    readonly value: unknown,
  ) {}
}

function renderItem(item: unknown, indent: number): string {
  if (item instanceof MapEntry) return `${inspectString(item.key)} => ${render(item.value, indent)}`;
  return render(item, indent);
}

/**
 * One line when it fits in 80 columns (exact), otherwise one element per line. The multi-line form
 * only approximates Inspect.Algebra (tuples break `:flex`, filling lines); it is reached only by
 * filters longer than a line, e.g. an `in` list near the 100-value limit.
 */
function group(open: string, close: string, items: unknown[], indent: number): string {
  if (items.length === 0) return `${open}${close}`;
  const flat = `${open}${items.map((i) => renderItem(i, indent + 2)).join(', ')}${close}`;
  if (indent + flat.length <= WIDTH && !flat.includes('\n')) return flat;
  const pad = ' '.repeat(indent + 2);
  const lines = items.map((i) => `${pad}${renderItem(i, indent + 2)}`);
  return `${open}\n${lines.join(',\n')}\n${' '.repeat(indent)}${close}`;
}

function inspectString(s: string): string {
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
  return `${out}"`;
}

function inspectFloat(n: number): string {
  const s = String(n);
  return s.includes('e') || s.includes('.') ? s : `${s}.0`;
}
