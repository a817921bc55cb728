import { queryParamError } from '../errors.ts';

/**
 * A position in one query-parameter value, for the small recursive-descent parsers that follow
 * PostgREST's grammar (`ApiRequest/QueryParams.hs`). Failures are PGRST100 with the parameter, the
 * 1-based column and what was expected, as PostgREST reports them.
 */
/**
 * Deepest nesting of embedded resources (`select=a(b(c))`) or logic trees (`or=(and(…))`) a request
 * may use. PostgREST's Haskell parser has no limit; these parsers recurse on Node's stack, which a
 * hostile query a few thousand levels deep would overflow. No real query comes near 64.
 */
export const MAX_NESTING = 64;

export class Cursor {
  pos = 0;
  private depth = 0;
  constructor(
    readonly text: string,
    /** "select parameter", "filter", "order", "logic tree" … as PostgREST names it. */
    readonly what: string,
  ) {}

  get done(): boolean {
    return this.pos >= this.text.length;
  }

  peek(n = 0): string {
    return this.text[this.pos + n] ?? '';
  }

  startsWith(s: string): boolean {
    return this.text.startsWith(s, this.pos);
  }

  /** Consume `s` if it is next. */
  eat(s: string): boolean {
    if (!this.startsWith(s)) return false;
    this.pos += s.length;
    return true;
  }

  expect(s: string, description = `"${s}"`): void {
    if (!this.eat(s)) throw this.fail(description);
  }

  skipSpaces(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.pos++;
  }

  /** Consume characters while `ok` holds. */
  takeWhile(ok: (ch: string) => boolean): string {
    const start = this.pos;
    while (!this.done && ok(this.peek())) this.pos++;
    return this.text.slice(start, this.pos);
  }

  /** Run `inner` one nesting level deeper, refusing past MAX_NESTING as a parse error. */
  nested<T>(inner: () => T): T {
    if (this.depth >= MAX_NESTING) throw this.fail(`at most ${MAX_NESTING} nested levels`);
    this.depth++;
    try {
      return inner();
    } finally {
      this.depth--;
    }
  }

  fail(expecting: string): Error {
    const found = this.done ? 'end of input' : JSON.stringify(this.peek());
    return queryParamError(this.what, this.text, this.pos + 1, `unexpected ${found} expecting ${expecting}`);
  }
}

/** `"…"` with backslash escapes, as PostgREST's `pQuotedValue`. */
export function quotedValue(c: Cursor): string | undefined {
  if (c.peek() !== '"') return undefined;
  c.pos++;
  let out = '';
  while (!c.done && c.peek() !== '"') {
    if (c.peek() === '\\') c.pos++;
    if (c.done) break;
    out += c.peek();
    c.pos++;
  }
  c.expect('"', 'closing quote');
  return out;
}
