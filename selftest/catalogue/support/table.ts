/** The catalogue table the suite prints: one row per faulted cell, and whether it held. */
export interface CatalogueRow {
  fault: string;
  cell: string;
  expected: string;
  got: string;
  causeNamed: string;
  ok: boolean;
}

export function renderCatalogue(rows: readonly CatalogueRow[]): string {
  const head = ['fault', 'cell', 'expected verdict', 'got', 'cause named', 'result'];
  const body = rows.map((r) => [r.fault, r.cell, r.expected, r.got, r.causeNamed, r.ok ? 'pass' : 'FAIL']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
