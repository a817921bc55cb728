import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderHtml } from './html/render.ts';
import { renderMarkdown } from './markdown.ts';
import type { Summary } from './summary-schema.ts';

export const DEFAULT_REPORT_DIR = 'matrix-report';

/** Writes summary.json, summary.md and index.html; returns their paths. */
export async function writeReport(summary: Summary, dir: string = DEFAULT_REPORT_DIR): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const files: [string, string][] = [
    ['summary.json', `${JSON.stringify(summary, null, 2)}\n`],
    ['summary.md', renderMarkdown(summary)],
    ['index.html', renderHtml(summary)],
  ];
  const paths: string[] = [];
  for (const [name, content] of files) {
    const path = join(dir, name);
    await writeFile(path, content, 'utf8');
    paths.push(path);
  }
  return paths;
}
