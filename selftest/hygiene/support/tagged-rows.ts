import { TAG_PREFIX } from '../../../fixtures/rows/service-rows.ts';
import type { Stack } from '../../../stack/index.ts';

/** Where an app keeps the matrix's rows: the help-desk's tickets by default. */
export interface TaggedTable {
  schema: string;
  name: string;
  tagColumn: string;
}

const HELP_DESK: TaggedTable = { schema: 'public', name: 'tickets', tagColumn: 'title' };

/**
 * The matrix's own rows still in a project's watched table, read with the admin connection (not
 * through the API the matrix used), so a row RLS or a broken REST path would hide is still counted.
 */
export async function taggedRows(
  stack: Stack,
  table: TaggedTable = HELP_DESK,
): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  const id = (name: string) => `"${name.replace(/"/g, '""')}"`;
  for (const [env, d] of stack.deployments) {
    const { rows } = await d.project.ctx.db.admin.query<{ tag: string }>(
      `select ${id(table.tagColumn)} as tag from ${id(table.schema)}.${id(table.name)} where starts_with(${id(table.tagColumn)}, $1)`,
      [TAG_PREFIX],
    );
    out[env] = rows.map((r) => r.tag);
  }
  return out;
}

/** Resolves once a tagged row exists in any project (polled every 25 ms), or the run ended without one. */
export async function firstTaggedRow(
  stack: Stack,
  isDone: () => boolean,
  table: TaggedTable = HELP_DESK,
): Promise<string | undefined> {
  for (;;) {
    const rows = Object.values(await taggedRows(stack, table)).flat();
    if (rows.length > 0) return rows[0];
    if (isDone()) return undefined;
    await new Promise<void>((resolve) => setTimeout(resolve, 25));
  }
}
