import { readFileSync } from 'node:fs';
import type { TestCase, TestResult } from '@playwright/test/reporter';
import { AllureReporter } from 'allure-playwright';
import type { CellResult } from '../fixtures/evidence.ts';
import { redactText } from '../fixtures/redact.ts';
import { allureCategories } from './allure-categories.ts';
import { splitProject } from './build-summary.ts';
import { cellOf } from './cell-attachment.ts';
import { secretValues } from './known-secrets.ts';
import { frameLog, ladderText } from './text-evidence.ts';

/**
 * allure-playwright, told what a matrix cell is: labels epic "Realtime", feature = portal, story = env;
 * parameters portal, env and target kind; the ladder and frame log as text attachments; failures
 * prefixed with their verdict so the per-verdict categories (categories.json) match; every text it
 * writes redacted. Allure reads all of this from the results it is handed, so the wrapper hands it a
 * copy and never touches the TestResult the other reporters see.
 */
const RUNTIME_MESSAGE = 'application/vnd.allure.message+json';
const TEXTUAL = /^(text\/|application\/(json|xml|javascript))/;

type AllureOptions = ConstructorParameters<typeof AllureReporter>[0];

export default class MatrixAllureReporter extends AllureReporter {
  private readonly secrets: string[];

  constructor(options: AllureOptions = {}) {
    super({
      resultsDir: 'allure-results',
      ...options,
      categories: options?.categories ?? allureCategories(),
    });
    this.secrets = secretValues();
  }

  override async onTestEnd(test: TestCase, result: TestResult): Promise<void> {
    const cell = cellOf(result);
    const project = test.parent.project()?.name ?? '';
    const { portal, env } = cell ?? splitProject(project);
    const extra: TestResult['attachments'] = [
      message({
        type: 'metadata',
        data: {
          labels: [
            { name: 'epic', value: 'Realtime' },
            { name: 'feature', value: portal },
            { name: 'story', value: env },
            ...(cell ? [{ name: 'tag', value: cell.verdict }] : []),
          ],
          // Every cell runs the same test title; the name says which cell it is.
          displayName: `${project || `${portal}-${env}`} › ${test.title}`,
          parameters: [
            { name: 'portal', value: portal },
            { name: 'env', value: env },
            { name: 'target kind', value: cell?.targetKind ?? 'unknown' },
          ],
        },
      }),
    ];
    if (cell) {
      extra.push(
        text('ladder.txt', this.redact(ladderText(cell))),
        text('frames.log', this.redact(frameLog(cell))),
      );
    }
    await super.onTestEnd(test, {
      ...result,
      error: this.withVerdict(result.error, cell),
      errors: result.errors.map((e, i) => (i === 0 ? (this.withVerdict(e, cell) ?? e) : e)),
      stdout: result.stdout.map((chunk) => this.redact(chunk.toString())),
      stderr: result.stderr.map((chunk) => this.redact(chunk.toString())),
      // Traces hold every request and frame verbatim (user JWTs included) and cannot be redacted:
      // they stay in Playwright's own report, not in Allure's.
      attachments: [
        ...result.attachments.filter((a) => !isTrace(a)).map((a) => this.redactAttachment(a)),
        ...extra,
      ],
    });
  }

  private redact(text: string): string {
    return redactText(text, this.secrets);
  }

  /** Text attachments (logs, JSON, Markdown) are redacted; binary ones (traces, screenshots) pass. */
  private redactAttachment(a: TestResult['attachments'][number]): TestResult['attachments'][number] {
    if (a.contentType === RUNTIME_MESSAGE || !TEXTUAL.test(a.contentType)) return a;
    const raw = a.body ? a.body.toString('utf8') : a.path ? readFileSync(a.path, 'utf8') : null;
    if (raw === null) return a;
    return { name: a.name, contentType: a.contentType, body: Buffer.from(this.redact(raw)) };
  }

  /** Categories match on the message: make the verdict lead it when the matrix's error did not say it. */
  private withVerdict<E extends { message?: string; stack?: string }>(
    error: E | undefined,
    cell: CellResult | null,
  ): E | undefined {
    if (!error) return error;
    const messageText = error.message ? this.redact(error.message) : undefined;
    const stack = error.stack ? this.redact(error.stack) : undefined;
    if (!cell || cell.verdict === 'PASS' || messageText?.includes(cell.verdict))
      return { ...error, message: messageText, stack };
    return { ...error, message: `${cell.verdict}: ${messageText ?? cell.cause}`, stack };
  }
}

function isTrace(a: TestResult['attachments'][number]): boolean {
  return a.name === 'trace' || a.contentType === 'application/zip';
}

function message(body: unknown): TestResult['attachments'][number] {
  return {
    name: 'allure-matrix-metadata',
    contentType: RUNTIME_MESSAGE,
    body: Buffer.from(JSON.stringify(body)),
  };
}

function text(name: string, content: string): TestResult['attachments'][number] {
  return { name, contentType: 'text/plain', body: Buffer.from(content) };
}
