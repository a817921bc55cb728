import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium, expect as pwExpect, selectors } from '@playwright/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumLaunchOptions } from '../../fixtures/config/browser.ts';
import { buildSummary } from '../../reporters/build-summary.ts';
import { writeReport } from '../../reporters/write-report.ts';
import { RUN_FACTS, realRun, recordedRun } from './support/recorded.ts';

const dir = mkdtempSync(join(tmpdir(), 'rtm-html-'));
let browser: Browser;
let indexHtml: string;

beforeAll(async () => {
  // The report marks its parts with data-report (data-testid belongs to the apps under test).
  selectors.setTestIdAttribute('data-report');
  const summary = buildSummary(recordedRun('session-not-forwarded', 'slow-delivery'), RUN_FACTS);
  const paths = await writeReport(summary, dir);
  indexHtml = paths.find((p) => p.endsWith('index.html'))!;
  // The matrix's own launch options: Playwright's Chromium if installed, else the system one, no network.
  browser = await chromium.launch(chromiumLaunchOptions());
});
afterAll(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('index.html in Chromium', () => {
  it('opens offline and shows the heatmap, the failing ladder and the latency against budget', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const remote: string[] = [];
    // Any request that is not the file itself would mean the page is not self-contained.
    await page.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith('file:')) return route.continue();
      remote.push(url);
      return route.abort();
    });
    await page.goto(pathToFileURL(indexHtml).href);

    await pwExpect(page.getByTestId('title')).toHaveText('Realtime matrix: 4/6 cells passed');
    const heatmap = page.getByTestId('heatmap');
    await pwExpect(heatmap.locator('td.hm')).toHaveCount(6);
    await pwExpect(heatmap.locator('td.hm.pass')).toHaveCount(4);
    await pwExpect(heatmap.locator('td[data-cell="agent-prod"]')).toHaveClass(/fail/);
    await pwExpect(heatmap.locator('td[data-cell="agent-prod"]')).toContainText('JOINED_AS_ANON');
    await pwExpect(heatmap.locator('td[data-cell="admin-prod"]')).toContainText('EVENT_LATE');

    // The failing cell is open: its ladder shows where it broke, its identities what the socket carried.
    const ladder = page.getByTestId('ladder-agent-prod');
    await pwExpect(ladder).toBeVisible();
    await pwExpect(ladder.locator('li.stage.failed')).toHaveAttribute('data-stage', 'socket_identity');
    await pwExpect(ladder.locator('li.stage.failed')).toContainText(
      'phx_join carries the anon key, not the user JWT',
    );
    await pwExpect(ladder.locator('li.stage.not_reached')).toHaveCount(5);
    await pwExpect(page.getByTestId('identities-agent-prod')).toContainText('join_access_token');
    await pwExpect(page.getByTestId('frames-agent-prod')).toBeVisible();
    await pwExpect(page.getByTestId('diagnosis-agent-prod')).toContainText('session-not-forwarded');

    // The late cell's chart draws every sample over the budget line.
    const chart = page.getByTestId('latency-admin-prod');
    await pwExpect(chart).toBeVisible();
    await pwExpect(chart.locator('rect.bar.over')).toHaveCount(5);
    await pwExpect(chart.locator('line.budget')).toHaveCount(1);

    // Passing cells fold away; the heatmap links to each cell.
    await pwExpect(page.getByTestId('ladder-client-local')).toBeHidden();
    await heatmap.locator('td[data-cell="agent-prod"] a').click();
    expect(new URL(page.url()).hash).toBe('#cell-agent-prod');

    const shot = join(dir, 'matrix-report.png');
    await page.screenshot({ path: shot, fullPage: false });
    expect(readFileSync(shot).length).toBeGreaterThan(10_000);
    expect(remote).toEqual([]);
    await page.close();
  });

  it("shows the doctor's checks in a failing cell: the failed grant with its next step and SQL, the skipped policy check", async () => {
    const doctorDir = mkdtempSync(join(tmpdir(), 'rtm-html-doctor-'));
    try {
      const paths = await writeReport(buildSummary(realRun('select-revoked'), RUN_FACTS), doctorDir);
      const page = await browser.newPage();
      await page.goto(pathToFileURL(paths.find((p) => p.endsWith('index.html'))!).href);
      const doctor = page.getByTestId('doctor-agent-prod');
      await pwExpect(doctor).toBeVisible();
      await pwExpect(doctor.locator('h4')).toContainText('public.tickets INSERT as authenticated');
      await pwExpect(doctor.locator('h4')).toContainText('1 failed, 10 ok, 1 not checked');
      await pwExpect(doctor.locator('tr.check')).toHaveCount(12);
      const failed = doctor.locator('tr.check.fail');
      await pwExpect(failed).toHaveAttribute('data-check', 'grant.table_select');
      await pwExpect(failed.locator('.next')).toContainText('Grant authenticated SELECT on public.tickets');
      await pwExpect(failed.locator('pre.sql')).toHaveText(
        'grant select on public.tickets to authenticated;',
      );
      await pwExpect(doctor.locator('tr.check.skipped')).toHaveAttribute('data-check', 'rls.row_hidden');
      // What held shows no fix; the catalog values stay folded until asked for.
      await pwExpect(doctor.locator('tr.check.ok pre.sql')).toHaveCount(0);
      await pwExpect(failed.locator('details pre')).toBeHidden();
      // Passing cells ran no doctor.
      await pwExpect(page.getByTestId('doctor-agent-local')).toHaveCount(0);
      await page.close();
    } finally {
      rmSync(doctorDir, { recursive: true, force: true });
    }
  });

  it('is one file: no external script, stylesheet or image reference', () => {
    const html = readFileSync(indexHtml, 'utf8');
    expect(html).not.toMatch(/<(script|link)\b/i);
    expect(html).not.toMatch(/\b(src|href)="(https?:)?\/\//);
  });
});
