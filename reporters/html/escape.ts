/** Text into HTML: every value in the page comes from evidence a server or browser produced. */
export function esc(value: unknown): string {
  const text = typeof value === 'string' ? value : value === undefined ? '' : String(value);
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Pretty JSON for a <pre>, escaped. */
export function json(value: unknown): string {
  return esc(JSON.stringify(value, null, 2) ?? 'undefined');
}

/** An id safe for `id=""` and `href="#…"`. */
export function anchor(cell: string): string {
  return `cell-${cell.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}
