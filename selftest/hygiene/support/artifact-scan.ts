import { existsSync } from 'node:fs';
import type { KnownSecret } from '../../../reporters/known-secrets.ts';
import { formatHits, type SecretHit, scanPaths } from '../../../reporters/redact-check.ts';

/**
 * The report engineer's secret scan over everything a run left (trace and report zips opened): the
 * stack's own secrets by value, and any signed JWT or sb_secret key by shape. The public anon key is
 * accepted, as `npm run report:scan -- --allow-anon-key` does in CI: a portal page holds it by design,
 * so Playwright traces of that page do too.
 */
export async function scanArtifacts(
  paths: readonly string[],
  secrets: readonly KnownSecret[],
): Promise<{ scanned: string[]; hits: SecretHit[]; report: string }> {
  const scanned = paths.filter((p) => existsSync(p));
  const hits = await scanPaths(scanned, secrets, { allowAnonKey: true });
  return { scanned, hits, report: formatHits(hits) };
}
