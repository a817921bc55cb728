import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import type { KnownSecret } from '../../../reporters/known-secrets.ts';
import { knownSecrets } from '../../../reporters/known-secrets.ts';
import type { Stack, StackOptions } from '../../../stack/index.ts';
import { startDeployment } from '../../topology-support.ts';
import { ROOT } from './matrix.ts';

/**
 * A whole two-env deployment on free ports for the project's own matrix runs, with its control
 * endpoint and runtime file, and the values that point the real matrix at it. The fixed ports stay
 * free for a team's `npm run stack`; faults switched here never reach another engineer's stack.
 */
export interface MatrixDeployment {
  stack: Stack;
  /** Everything this suite writes (runs, reports, the runtime file), under test-results/. */
  dir: string;
  runtimeFile: string;
  /** Prefixed environment values and RTM_RUNTIME_FILE: how the matrix finds this stack. */
  env: Record<string, string>;
  /** This stack's secrets (service keys, JWT secrets, generated passwords, control token). */
  secrets: KnownSecret[];
}

export async function startMatrixDeployment(
  label: string,
  options: StackOptions = {},
): Promise<MatrixDeployment> {
  // Inside the repo (test-results/ is gitignored) so a wrapper config resolves as the same ESM.
  mkdirSync(join(ROOT, 'test-results'), { recursive: true });
  const dir = mkdtempSync(join(ROOT, 'test-results', `rtm-${label}-`));
  const runtimeFile = join(dir, 'runtime.json');
  const stack = await startDeployment({ control: true, runtimeFile, ...options });
  const env: Record<string, string> = { RTM_RUNTIME_FILE: runtimeFile };
  const secrets: KnownSecret[] = [...knownSecrets(ROOT, {})];
  for (const [name, d] of stack.deployments) {
    const prefix = name.toUpperCase();
    env[`${prefix}_SUPABASE_URL`] = d.supabaseUrl;
    env[`${prefix}_SUPABASE_ANON_KEY`] = d.project.config.anonKey;
    for (const portal of stack.app.portals.map((p) => p.name)) {
      const url = d.portals?.portals[portal]?.url;
      if (url) env[`${prefix}_PORTAL_${portal.toUpperCase()}_URL`] = url;
      const user = d.users[portal];
      if (user) secrets.push({ name: `${name} ${portal} password`, value: user.password });
    }
    secrets.push(
      { name: `${name} serviceRoleKey`, value: d.project.config.serviceRoleKey },
      { name: `${name} secretKey`, value: d.project.config.secretKey },
      { name: `${name} jwtSecret`, value: d.project.config.jwtSecret },
    );
  }
  if (stack.control) secrets.push({ name: 'control token', value: stack.control.token });
  return { stack, dir, runtimeFile, env, secrets: dedupe(secrets) };
}

function dedupe(secrets: KnownSecret[]): KnownSecret[] {
  const seen = new Set<string>();
  return secrets.filter((s) => s.value.length >= 8 && !seen.has(s.value) && seen.add(s.value));
}
