import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import StreamZip from 'node-stream-zip';
import { fingerprint } from '../stack/keys.ts';
import type { KnownSecret } from './known-secrets.ts';

/**
 * The secret scan: every artifact a run leaves (matrix report, Allure results, Playwright reports,
 * blob and trace zips) searched for known secrets, signed JWTs and opaque secret keys. A hit names
 * the file, line and what was found by name and fingerprint, never the value, so the scan's own
 * output is safe to print in CI.
 */
export interface SecretHit {
  /** File path; for a zip member `archive.zip!member/path`. */
  file: string;
  line: number;
  /** "runtime.json envs.prod.serviceRoleKey", "signed JWT (role service_role)", "sb_secret key". */
  what: string;
  fingerprint: string;
}

/** A JWT with a real signature; `header.claims.<signature removed>` is the redacted form and passes. */
const SIGNED_JWT = /eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{16,}/g;
const SECRET_KEY = /sb_secret_[A-Za-z0-9_-]{8,}/g;
/** Binary files we cannot meaningfully scan as text (images, video); zips are opened instead. */
const SKIP = /\.(png|jpe?g|gif|webp|webm|mp4|woff2?|ttf|ico)$/i;
const ZIP = /\.zip$/i;

export interface ScanOptions {
  /**
   * Accept signed JWTs whose role is `anon`: the public anon key ships to every browser, so Playwright
   * traces of a portal page hold it. Our own reports never do (they show `<anon key fingerprint>`).
   */
  allowAnonKey?: boolean;
}

export function scanText(
  file: string,
  text: string,
  secrets: readonly KnownSecret[],
  options: ScanOptions = {},
): SecretHit[] {
  const hits: SecretHit[] = [];
  const lines = text.split('\n');
  lines.forEach((content, index) => {
    const line = index + 1;
    for (const secret of secrets) {
      if (content.includes(secret.value))
        hits.push({ file, line, what: secret.name, fingerprint: fingerprint(secret.value) });
    }
    for (const jwt of content.match(SIGNED_JWT) ?? []) {
      const role = jwtRole(jwt);
      if (options.allowAnonKey && role === 'role anon') continue;
      hits.push({ file, line, what: `signed JWT (${role})`, fingerprint: fingerprint(jwt) });
    }
    for (const key of content.match(SECRET_KEY) ?? []) {
      hits.push({ file, line, what: 'sb_secret key', fingerprint: fingerprint(key) });
    }
  });
  return hits;
}

/** Scan files and directories (recursively), opening zip archives (traces, blob reports). */
export async function scanPaths(
  paths: readonly string[],
  secrets: readonly KnownSecret[],
  options: ScanOptions = {},
): Promise<SecretHit[]> {
  const hits: SecretHit[] = [];
  for (const path of paths) {
    const info = await stat(path);
    if (info.isDirectory()) {
      const entries = await readdir(path);
      hits.push(
        ...(await scanPaths(
          entries.sort().map((e) => join(path, e)),
          secrets,
          options,
        )),
      );
    } else if (ZIP.test(path)) {
      hits.push(...(await scanZip(path, secrets, options)));
    } else if (!SKIP.test(path)) {
      hits.push(...scanText(path, (await readFile(path)).toString('utf8'), secrets, options));
    }
  }
  return hits;
}

async function scanZip(
  path: string,
  secrets: readonly KnownSecret[],
  options: ScanOptions,
): Promise<SecretHit[]> {
  const zip = new StreamZip.async({ file: path });
  const hits: SecretHit[] = [];
  try {
    for (const entry of Object.values(await zip.entries())) {
      if (entry.isDirectory || SKIP.test(entry.name)) continue;
      const data = await zip.entryData(entry.name);
      hits.push(...scanText(`${path}!${entry.name}`, data.toString('utf8'), secrets, options));
    }
  } finally {
    await zip.close();
  }
  return hits;
}

export function formatHits(hits: readonly SecretHit[]): string {
  return hits.map((h) => `${h.file}:${h.line}: ${h.what} (fingerprint ${h.fingerprint})`).join('\n');
}

function jwtRole(jwt: string): string {
  try {
    const claims = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString('utf8')) as {
      role?: unknown;
    };
    return typeof claims.role === 'string' ? `role ${claims.role}` : 'no role claim';
  } catch (error) {
    if (error instanceof SyntaxError) return 'undecodable claims';
    throw error;
  }
}
