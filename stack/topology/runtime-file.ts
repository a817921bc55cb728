import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Env, Portal } from './cells.ts';
import type { SeedUser } from './deployment.ts';

/**
 * `.stack/runtime.json` at the repo root: how the matrix and the fault client reach a running
 * `npm run stack`. It holds secrets (service-role keys, generated passwords, the control token), so
 * it is written 0600 in a 0700 directory, is gitignored, and is removed on a clean stop.
 */
export const RUNTIME_FILE = fileURLToPath(new URL('../../.stack/runtime.json', import.meta.url));

export interface RuntimeEnv {
  targetKind: 'embedded';
  supabaseUrl: string;
  anonKey: string;
  serviceRoleKey: string;
  /** The project's own database as the superuser, for `npm run doctor` and failing cells. */
  dbUrl: string;
  /** Every portal of the app, by name: what the browser opens. */
  portals: Record<Portal, string>;
  /** Only the portals the stack seeded a user for; the matrix seeds the others itself. */
  users: Record<Portal, SeedUser>;
}

export interface RuntimeFile {
  version: 1;
  /** The deployed app's name (StackApp.name). */
  app: string;
  pid: number;
  startedAt: string;
  control: { url: string; token: string };
  envs: Partial<Record<Env, RuntimeEnv>>;
}

export async function writeRuntimeFile(path: string, data: RuntimeFile): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // Written under another name and renamed, so a reader never sees half a file.
  const partial = `${path}.${process.pid}.tmp`;
  await writeFile(partial, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
  await chmod(partial, 0o600);
  await rename(partial, path);
}

export async function removeRuntimeFile(path: string): Promise<void> {
  await rm(path, { force: true });
}

export async function readRuntimeFile(path: string = RUNTIME_FILE): Promise<RuntimeFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(`No running stack: ${path} does not exist. Start one with \`npm run stack\`.`, {
        cause: error,
      });
    }
    throw new Error(`Could not read ${path}: ${(error as Error).message}`, { cause: error });
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw new Error(`${path} is not valid JSON (${(error as Error).message}); restart \`npm run stack\`.`, {
      cause: error,
    });
  }
  const file = data as Partial<RuntimeFile>;
  if (file.version !== 1 || typeof file.control?.url !== 'string' || typeof file.control.token !== 'string') {
    throw new Error(
      `${path} is not a version 1 runtime file with control.url and control.token; restart \`npm run stack\`.`,
    );
  }
  return file as RuntimeFile;
}
