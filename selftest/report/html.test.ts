import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Browser, chromium, expect as pwExpect, selectors } from '@playwright/test';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumLaunchOptions } from '../../fixtures/config/browser.ts';
import { reportFromFacts } from '../../fixtures/doctor/run.ts';
import { buildSummary } from '../../reporters/build-summary.ts';
import { writeReport } from '../../reporters/write-report.ts';
import { healthyFacts } from '../doctor/support/facts.ts';
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

describe("the doctor's checks fit the window", () => {
  const fitDir = mkdtempSync(join(tmpdir(), 'rtm-html-fit-'));
  let fitHtml: string;

  beforeAll(async () => {
    // The recorded select-revoked run: agent-prod and admin-prod keep the doctor's report the real
    // run produced (a failed grant, short SQL). client-prod gets the report the doctor writes when
    // RLS hides the row from that same user: its reproduction SQL carries the user's claims as JSON
    // on one long line, and its catalog values a long USING expression, the widest a report gets.
    const run = realRun('select-revoked');
    const client = run.find((c) => c.project === 'client-prod')!.cell!;
    const recorded = client.doctor!;
    const facts = healthyFacts((f) => {
      f.row!.key = { id: recorded.input.rowId };
      f.row!.visibility = { visible: false, method: 'as_role', error: null };
      f.policies = [
        {
          name: 'tickets: clients read their own',
          permissive: true,
          cmd: 'SELECT',
          roles: ['authenticated'],
          appliesToRole: true,
          using:
            "(((auth.jwt() ->> 'user_role'::text) = 'client'::text) AND (created_by = auth.uid()) AND (EXISTS ( SELECT 1 FROM public.ticket_members m WHERE ((m.ticket_id = tickets.id) AND (m.user_id = auth.uid())))))",
        },
      ];
    });
    const input = {
      table: { schema: 'public', name: 'tickets' },
      event: 'INSERT' as const,
      role: recorded.input.role,
      claims: recorded.input.claims,
      rowId: recorded.input.rowId!,
      filter: null,
    };
    client.doctor = reportFromFacts(facts, input, 'database', recorded.via, performance.now());
    expect(
      client.doctor.checks.find((c) => c.id === 'rls.row_hidden')?.fixSql?.split('\n')[2]?.length,
    ).toBeGreaterThan(150);
    const paths = await writeReport(buildSummary(run, RUN_FACTS), fitDir);
    fitHtml = paths.find((p) => p.endsWith('index.html'))!;
  });
  afterAll(() => rmSync(fitDir, { recursive: true, force: true }));

  it.each([1280, 1400, 1920])(
    '%i px wide: no page scroll sideways, statuses and check ids on one line, SQL wrapped in its block',
    async (width) => {
      const page = await browser.newPage({ viewport: { width, height: 900 } });
      await page.goto(pathToFileURL(fitHtml).href);
      const doctors = page.locator('[data-report^="doctor-"]');
      await pwExpect(doctors).toHaveCount(3);
      // The catalog values open too: their JSON has the longest lines of all.
      await doctors.locator('details').evaluateAll((all) => {
        for (const d of all) (d as HTMLDetailsElement).open = true;
      });

      const layout = await page.evaluate(() => {
        const box = (e: Element) => e.getBoundingClientRect();
        /** How many line boxes an element's text takes. */
        const lines = (e: Element) => {
          const range = document.createRange();
          range.selectNodeContents(e);
          return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
        };
        const tables = [...document.querySelectorAll('.doctor table.checks')];
        return {
          scrollWidth: document.documentElement.scrollWidth,
          innerWidth: window.innerWidth,
          tablesInsideCell: tables.map((t) => box(t).right <= box(t.closest('.cell')!).right),
          statusLines: tables.flatMap((t) => [...t.querySelectorAll('td.st')].map(lines)),
          // nowrap alone keeps one line; the text must also end inside its own column.
          statusInsideCell: tables.flatMap((t) =>
            [...t.querySelectorAll('td.st')].map((td) => {
              const range = document.createRange();
              range.selectNodeContents(td);
              return range.getBoundingClientRect().right <= box(td).right;
            }),
          ),
          idsInsideCell: tables.flatMap((t) =>
            [...t.querySelectorAll('td > code')].map((c) => box(c).right <= box(c.parentElement!).right),
          ),
          sqlScrolls: tables.flatMap((t) =>
            [...t.querySelectorAll('pre.sql')].map((p) => p.scrollWidth > p.clientWidth),
          ),
          presInsideCell: tables.flatMap((t) =>
            [...t.querySelectorAll('pre')].map((p) => box(p).right <= box(p.closest('td')!).right),
          ),
        };
      });
      expect(layout.scrollWidth).toBeLessThanOrEqual(layout.innerWidth);
      expect(layout.tablesInsideCell).toEqual([true, true, true]);
      expect(layout.statusLines.length).toBe(36);
      expect(layout.statusLines.every((n) => n === 1)).toBe(true);
      expect(layout.statusInsideCell.every(Boolean)).toBe(true);
      expect(layout.idsInsideCell.every(Boolean)).toBe(true);
      expect(layout.sqlScrolls).toEqual([false, false, false]);
      expect(layout.presInsideCell.every(Boolean)).toBe(true);

      const hidden = page.getByTestId('doctor-client-prod').locator('tr.check.fail');
      await pwExpect(hidden).toHaveAttribute('data-check', 'rls.row_hidden');
      await hidden.scrollIntoViewIfNeeded();
      const shot = join(fitDir, `doctor-${width}.png`);
      await page.screenshot({ path: shot });
      expect(readFileSync(shot).length).toBeGreaterThan(10_000);
      await page.close();
    },
  );
});
