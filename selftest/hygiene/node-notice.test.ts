import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { nodeMajor } from '../../stack/node-support.ts';

/**
 * supabase-js's Node-version warning, counted in real processes: each child imports supabase-js
 * (with or without the project's module first) and warns something else too, so the filter is seen
 * to drop exactly the library's message and nothing more.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const LIBRARY = 'Node.js 20 and below are deprecated';
const NOTICE = 'supported by realtime-matrix';

function run(code: string, env: NodeJS.ProcessEnv): string {
  // A module file inside the checkout, so that its imports resolve like the project's own.
  const dir = join(ROOT, '.scratch');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `node-notice-${randomUUID()}.mts`);
  writeFileSync(file, code.replaceAll("'./stack/", "'../stack/"));
  try {
    const { RTM_NODE_NOTICE_SHOWN: _, ...rest } = process.env;
    const r = spawnSync('npx', ['tsx', file], { cwd: ROOT, env: { ...rest, ...env }, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    return `${r.stdout}${r.stderr}`;
  } finally {
    rmSync(file, { force: true });
  }
}
const count = (text: string, s: string) => text.split(s).length - 1;
const oldNode = nodeMajor() <= 20;

describe('the Node notice', () => {
  it.runIf(oldNode)('without the project module, supabase-js warns (the message the filter matches)', () => {
    const out = run("await import('@supabase/supabase-js');", {});
    expect(count(out, LIBRARY)).toBe(1);
  });

  it('a first process says it once and drops the library copy; other warnings pass', () => {
    const out = run(
      "await import('./stack/node-support.ts'); await import('@supabase/supabase-js'); console.warn('other warning');",
      {},
    );
    expect(count(out, LIBRARY)).toBe(0);
    expect(count(out, NOTICE)).toBe(oldNode ? 1 : 0);
    expect(count(out, 'other warning')).toBe(1);
  });

  it('a child of a run that already said it stays silent', () => {
    const out = run("await import('./stack/node-support.ts'); await import('@supabase/supabase-js');", {
      RTM_NODE_NOTICE_SHOWN: '1',
    });
    expect(count(out, LIBRARY) + count(out, NOTICE)).toBe(0);
  });
});
