import { TAG_PREFIX } from '../../../fixtures/rows/service-rows.ts';
import type { Stack } from '../../../stack/index.ts';

/**
 * The matrix's own rows still in a project's tickets table, read with the admin connection (not
 * through the API the matrix used), so a row RLS or a broken REST path would hide is still counted.
 */
export async function taggedRows(stack: Stack): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const [env, d] of stack.deployments) {
    const { rows } = await d.project.ctx.db.admin.query<{ title: string }>(
      'select title from public.tickets where starts_with(title, $1) order by created_at',
      [TAG_PREFIX],
    );
    out[env] = rows.map((r) => r.title);
  }
  return out;
}

/** Resolves once a tagged row exists in any project (polled every 25 ms), or the run ended without one. */
export async function firstTaggedRow(stack: Stack, isDone: () => boolean): Promise<string | undefined> {
  for (;;) {
    const rows = Object.values(await taggedRows(stack)).flat();
    if (rows.length > 0) return rows[0];
    if (isDone()) return undefined;
    await new Promise<void>((resolve) => setTimeout(resolve, 25));
  }
}
