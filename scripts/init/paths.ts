import { isAbsolute, relative, resolve } from 'node:path';

/** The directory the user ran `npm run init` from (npm runs scripts in the package's own folder). */
export function userCwd(env: NodeJS.ProcessEnv = process.env): string {
  return env['INIT_CWD'] ?? process.cwd();
}

/** A path the user typed, resolved against where they typed it. */
export function fromUser(path: string, env: NodeJS.ProcessEnv = process.env): string {
  return isAbsolute(path) ? path : resolve(userCwd(env), path);
}

/** A path as the user should read it: relative to where they are when that is shorter, else absolute. */
export function shown(path: string, base: string = userCwd()): string {
  const rel = relative(base, path);
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}
