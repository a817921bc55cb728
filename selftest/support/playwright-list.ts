import { spawn } from 'node:child_process';
import { ROOT } from '../catalogue/support/matrix.ts';

/**
 * `npx playwright test --list` from the repo root with extra environment: the cheapest real check
 * of what the matrix config makes of a config file (no stack, no browser). Resolves with the exit
 * code, everything printed and how long it took.
 */
export function listMatrix(
  env: Record<string, string>,
): Promise<{ code: number | null; output: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('npx', ['playwright', 'test', '--list'], {
      cwd: ROOT,
      env: { ...process.env, CI: '', FORCE_COLOR: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output, ms: performance.now() - started }));
  });
}
