import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A Supabase directory with the app's migrations and no seed.sql, for the prod-like project:
 * `supabase db push` applies migrations to a hosted project but never the local seed, so prod has
 * no demo rows and no demo-password users.
 */
export async function migrationsOnlyDir(
  supabaseDir: string,
): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'rtm-prod-schema-'));
  await symlink(join(supabaseDir, 'migrations'), join(dir, 'migrations'), 'dir');
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
