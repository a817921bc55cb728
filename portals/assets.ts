import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The portal app as a production build would ship it: the browser modules of `portals/app/` under a
 * content-hashed prefix (so they can be cached forever), and the unmodified supabase-js UMD build.
 * Read once at server start; the app does not change while a server runs.
 */
export interface AppAssets {
  /** Hash of every app file: changes whenever any of them does. */
  buildId: string;
  /** The HTML shell with a placeholder for the injected config. */
  shell: string;
  /** app file name → body and content type. */
  files: Map<string, { body: Buffer; contentType: string }>;
  vendor: { body: Buffer; version: string };
}

const APP_DIR = fileURLToPath(new URL('./app/', import.meta.url));
const SHELL = 'index.html';

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

export async function loadAppAssets(): Promise<AppAssets> {
  const names = (await readdir(APP_DIR))
    .filter((n) => n in CONTENT_TYPES || extname(n) in CONTENT_TYPES)
    .sort();
  const hash = createHash('sha256');
  const files = new Map<string, { body: Buffer; contentType: string }>();
  let shell: string | undefined;
  for (const name of names) {
    const body = await readFile(join(APP_DIR, name));
    hash.update(name).update(body);
    if (name === SHELL) shell = body.toString('utf8');
    else files.set(name, { body, contentType: CONTENT_TYPES[extname(name)] ?? 'application/octet-stream' });
  }
  if (!shell)
    throw new Error(`Portal app shell ${join(APP_DIR, SHELL)} is missing; the portal cannot be served.`);
  return { buildId: hash.digest('hex').slice(0, 12), shell, files, vendor: await loadSupabaseUmd() };
}

/** The browser build supabase-js publishes (`dist/umd/supabase.js`, global `supabase`). */
export async function loadSupabaseUmd(): Promise<{ body: Buffer; version: string }> {
  const require = createRequire(import.meta.url);
  const pkgJson = require.resolve('@supabase/supabase-js/package.json');
  const { version } = JSON.parse(await readFile(pkgJson, 'utf8')) as { version: string };
  const file = join(dirname(pkgJson), 'dist', 'umd', 'supabase.js');
  try {
    return { body: await readFile(file), version };
  } catch (cause) {
    throw new Error(
      `The supabase-js browser build is missing at ${file} (supabase-js ${version}). Run \`npm ci\` to restore it.`,
      { cause },
    );
  }
}
