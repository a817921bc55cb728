import { execFileSync } from 'node:child_process';

/**
 * The commit the run tested: GITHUB_SHA in Actions (merge jobs may run on a checkout without history),
 * else `git rev-parse HEAD`; null outside a git checkout or without git, which is not an error.
 */
export function gitSha(cwd: string = process.cwd(), env = process.env): string | null {
  if (env['GITHUB_SHA']) return env['GITHUB_SHA'];
  try {
    return (
      execFileSync('git', ['rev-parse', 'HEAD'], {
        cwd,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }).trim() || null
    );
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const status = (error as { status?: number }).status;
    // ENOENT: no git binary; a non-zero exit: not a repository (or no commit yet).
    if (code === 'ENOENT' || typeof status === 'number') return null;
    throw error;
  }
}
