import { Cursor } from './cursor.ts';
import { type Field, field } from './field.ts';

export interface OrderTerm {
  field: Field;
  direction?: 'asc' | 'desc';
  nulls?: 'first' | 'last';
}

/** `order=a.desc.nullslast,b` (PostgREST `pOrder`); anything else is a PGRST100. */
export function parseOrder(text: string): OrderTerm[] {
  const c = new Cursor(text, 'order');
  const terms: OrderTerm[] = [];
  for (;;) {
    const f = field(c);
    if (c.peek() === '(') throw c.fail('delimiter (.), "," or end of input');
    const term: OrderTerm = { field: f };
    if (c.eat('.asc')) term.direction = 'asc';
    else if (c.eat('.desc')) term.direction = 'desc';
    if (c.eat('.nullsfirst')) term.nulls = 'first';
    else if (c.eat('.nullslast')) term.nulls = 'last';
    c.skipSpaces();
    terms.push(term);
    if (c.done) return terms;
    if (!c.eat(',')) throw c.fail('"asc", "desc", "nullsfirst", "nullslast", "," or end of input');
  }
}
