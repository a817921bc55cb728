/**
 * `npm run report:scan -- [paths…]`: fails (exit 1) if any run artifact holds a secret, a signed JWT
 * or an sb_secret key. CI runs it over everything it is about to upload. Secrets known to this machine
 * come from .stack/runtime.json and secret-named environment variables (reporters/known-secrets.ts).
 */
import { existsSync } from 'node:fs';
import { knownSecrets } from '../reporters/known-secrets.ts';
import { formatHits, scanPaths } from '../reporters/redact-check.ts';

const DEFAULT_PATHS = [
  'matrix-report',
  'allure-results',
  'allure-report',
  'playwright-report',
  'blob-report',
  'test-results',
];

const argv = process.argv.slice(2);
if (argv.includes('--help') || argv.includes('-h')) {
  process.stdout.write(
    `Usage: npm run report:scan -- [--allow-anon-key] [paths…]   (default: ${DEFAULT_PATHS.join(', ')} where present)
  --allow-anon-key  accept the public anon key JWT (Playwright traces of a portal page hold it)
Exit codes: 0 clean, 1 secrets found (listed as file:line, never the value), 2 a path does not exist.\n`,
  );
  process.exit(0);
}
const allowAnonKey = argv.includes('--allow-anon-key');
const args = argv.filter((a) => a !== '--allow-anon-key');
const missing = args.filter((p) => !existsSync(p));
if (missing.length > 0) {
  process.stderr.write(`report:scan: no such file or directory: ${missing.join(', ')}\n`);
  process.exit(2);
}
const paths = args.length > 0 ? args : DEFAULT_PATHS.filter((p) => existsSync(p));
const secrets = knownSecrets();
const hits = await scanPaths(paths, secrets, { allowAnonKey });
if (hits.length > 0) {
  process.stderr.write(
    `report:scan: ${hits.length} secret(s) found in run artifacts:\n${formatHits(hits)}\n`,
  );
  process.exit(1);
}
process.stdout.write(
  `report:scan: clean (${paths.join(', ') || 'no artifacts'}; ${secrets.length} known secrets and JWT/sb_secret patterns)\n`,
);
