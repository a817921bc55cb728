import { readFileSync } from 'node:fs';
import type { TestResult } from '@playwright/test/reporter';
import { CELL_ATTACHMENT, type CellResult } from '../fixtures/evidence.ts';
import { parseCell } from './read-json-report.ts';

/** The CellResult a test attached (the last one, if a fixture attached twice), or null. */
export function cellOf(result: Pick<TestResult, 'attachments'>): CellResult | null {
  const found = [...result.attachments].reverse().find((a) => a.name === CELL_ATTACHMENT);
  if (!found) return null;
  if (found.body) return parseCell(found.body.toString('utf8'), CELL_ATTACHMENT);
  if (found.path) return parseCell(readFileSync(found.path, 'utf8'), found.path);
  return null;
}
