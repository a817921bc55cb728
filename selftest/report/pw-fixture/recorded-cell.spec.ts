import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from '@playwright/test';
import { CELL_ATTACHMENT, type CellResult } from '../../../fixtures/evidence.ts';

const RECORDED = join(import.meta.dirname, '..', 'recorded');

// biome-ignore lint/correctness/noEmptyPattern: Playwright reads fixture names from a destructuring pattern.
test('realtime: postgres_changes reach the signed-in portal', async ({}, testInfo) => {
  const cellName = testInfo.project.name;
  const fault = process.env['RTM_FIXTURE_FAULT'];
  const faulty = fault ? join(RECORDED, 'faults', fault, `${cellName}.json`) : null;
  const path = faulty && existsSync(faulty) ? faulty : join(RECORDED, 'pass', `${cellName}.json`);
  const cell = JSON.parse(readFileSync(path, 'utf8')) as CellResult;
  // A leak planted on purpose: the reporters must redact it from everything they write.
  const leak = process.env['RTM_FIXTURE_LEAK_SERVICE_ROLE_KEY'];
  if (leak && cell.verdict !== 'PASS') {
    cell.cause = `${cell.cause} (inserted with ${leak})`;
    console.log(`service role key in use: ${leak}`);
    // Stands for a Playwright trace: binary, unredactable, must not be copied into Allure results.
    await testInfo.attach('trace', {
      body: Buffer.from(`network log Authorization: Bearer ${leak}`),
      contentType: 'application/zip',
    });
  }
  await testInfo.attach(CELL_ATTACHMENT, { body: JSON.stringify(cell), contentType: 'application/json' });
  if (cell.verdict !== 'PASS')
    throw new Error(`${cellName}: ${cell.verdict} at ${cell.failedStage}: ${cell.cause}`);
});
