import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

/** Tracked text files (the tree CI clones); binary files and vendored bundles are not read. */
function trackedTextFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' });
  return out
    .split('\0')
    .filter(Boolean)
    .filter((f) => /\.(ts|mts|mjs|js|json|md|sql|env|toml|html|css|ya?ml)$|(^|\/)\.[a-z]+ignore$/.test(f))
    .filter((f) => !f.includes('/vendor/'));
}

/**
 * What a merge can leave behind and typecheck/lint never see: conflict markers in docs, SQL or env
 * files. Each hit is named file:line so the fix is one edit.
 */
describe('the committed tree', () => {
  it('holds no merge-conflict markers', () => {
    const hits: string[] = [];
    for (const file of trackedTextFiles()) {
      let text: string;
      try {
        text = readFileSync(join(ROOT, file), 'utf8');
      } catch {
        continue; // listed but deleted in the work tree
      }
      text.split('\n').forEach((line, i) => {
        if (/^(<{7}|>{7})( |$)|^={7}$/.test(line)) hits.push(`${file}:${i + 1}: ${line}`);
      });
    }
    expect(hits, `resolve these conflict markers:\n${hits.join('\n')}`).toEqual([]);
  });
});
