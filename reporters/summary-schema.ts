import { z } from 'zod';
import { doctorReportSchema } from '../fixtures/doctor/report-schema.ts';
import { STAGES, VERDICTS } from '../fixtures/evidence.ts';

/**
 * `matrix-report/summary.json`, version 1: the gate's input and the only thing the Markdown, HTML and
 * diagnosis are rendered from, so a summary rebuilt from a merged blob report renders the same page.
 * docs/report.md documents every field; bump SUMMARY_VERSION only for a breaking change.
 */
export const SUMMARY_VERSION = 1;
export const SUMMARY_SCHEMA_ID = 'realtime-matrix/summary';

/** A test that ended without a CellResult (fixture crash, timeout before evidence) still gets a row. */
export const SUMMARY_VERDICTS = [...VERDICTS, 'NO_RESULT'] as const;

const stage = z.enum(STAGES);

const identity = z.object({
  source: z.enum(['url_apikey', 'join_access_token', 'access_token_push']),
  kind: z.enum(['jwt', 'opaque', 'missing']),
  role: z.string().optional(),
  sub: z.string().optional(),
  email: z.string().optional(),
  userRole: z.string().optional(),
  exp: z.number().optional(),
  iss: z.string().optional(),
  fingerprint: z.string().optional(),
  unsigned: z.string().optional(),
});

const frame = z.object({
  direction: z.enum(['sent', 'received']),
  atMs: z.number(),
  topic: z.string().optional(),
  event: z.string().optional(),
  ref: z.string().nullable().optional(),
  joinRef: z.string().nullable().optional(),
  payload: z.unknown().optional(),
  raw: z.string().optional(),
  binary: z.boolean().optional(),
});

export const summaryCellSchema = z.object({
  cell: z.string(),
  portal: z.string(),
  env: z.string(),
  targetKind: z.enum(['embedded', 'external']),
  /** 'off' when the cell ran without frame recording (MATRIX_RECORD=0): stages 3–6 were inferred. */
  recording: z.enum(['on', 'off']).default('on'),
  verdict: z.enum(SUMMARY_VERDICTS),
  /** verdict === PASS and the latency held (the gate re-checks it). */
  passed: z.boolean(),
  failedStage: stage.nullable(),
  /** The last stage that was decided (the failed one, or `exactly_once` for PASS); null when no evidence. */
  stageReached: stage.nullable(),
  cause: z.string(),
  nextStep: z.string(),
  stages: z.array(
    z.object({
      stage,
      status: z.enum(['passed', 'failed', 'not_reached']),
      summary: z.string(),
      evidence: z.record(z.string(), z.unknown()),
      atMs: z.number().optional(),
    }),
  ),
  latency: z.object({
    samplesMs: z.array(z.number()),
    p50: z.number().nullable(),
    p95: z.number().nullable(),
    p99: z.number().nullable(),
    budgetMs: z.number().nullable(),
    /** p95 ≤ budget; null when there are no samples (the cell never got that far). */
    withinBudget: z.boolean().nullable(),
  }),
  portalUrl: z.string().nullable(),
  /** The table the cell watched, as the app's config names it; null when no evidence. */
  table: z
    .object({ schema: z.string(), name: z.string(), primaryKey: z.array(z.string()) })
    .nullable()
    .default(null),
  /** The channel the cell was judged on (found by its bindings or broadcast topic, or the config's). */
  channelTopic: z.string().nullable().default(null),
  /**
   * How the change travels: `{kind: 'postgres_changes'}`, or `{kind: 'broadcast', topic, event,
   * private}` (the topic as the app's trigger computes it for the cell's row); null when no evidence.
   */
  changes: z
    .discriminatedUnion('kind', [
      z.object({ kind: z.literal('postgres_changes') }),
      z.object({
        kind: z.literal('broadcast'),
        topic: z.string(),
        event: z.string().optional(),
        private: z.boolean(),
      }),
    ])
    .nullable()
    .default(null),
  /** Who wrote the cell's rows: `service_role` (default) or `user` (REST as the portal's user). */
  writeAs: z.enum(['service_role', 'user']).nullable().default(null),
  /** How the portal signed the user in (ui, api, custom). */
  signInStrategy: z.string().nullable().default(null),
  /** Claims the portal requires of the user's token. */
  requiredClaims: z.record(z.string(), z.string()).nullable().default(null),
  /** Scheme://host:port of the portal, i.e. the Origin the browser sends on the upgrade. */
  origin: z.string().nullable(),
  /** Socket URL with the apikey shown as `<role key fingerprint>`; null when no socket was opened. */
  socketUrl: z.string().nullable(),
  handshake: z
    .object({
      status: z.number().optional(),
      outcome: z.enum(['open', 'rejected', 'blocked', 'none']),
      body: z.string().optional(),
    })
    .nullable(),
  csp: z.string().nullable(),
  /** The `connect-src` directive of `csp`, split into sources. */
  cspConnectSrc: z.array(z.string()).nullable(),
  /** Decoded tokens: header and claims only, never a signature. */
  identities: z.array(identity),
  joinReply: z.unknown(),
  systemMessages: z.array(z.unknown()),
  events: z.object({
    matched: z.number(),
    duplicates: z.number(),
    joinsPerTopic: z.record(z.string(), z.number()),
  }),
  frames: z.array(frame),
  consoleErrors: z.array(z.string()),
  versions: z.object({
    supabaseJs: z.string().optional(),
    realtimeVsn: z.string().optional(),
    playwright: z.string().optional(),
  }),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  /** What Playwright said about the test that produced the cell. */
  test: z.object({
    title: z.string(),
    file: z.string(),
    status: z.enum(['passed', 'failed', 'timedOut', 'skipped', 'interrupted']),
    attempts: z.number(),
    durationMs: z.number(),
    /** First line of the test's error, redacted; null when it passed. */
    error: z.string().nullable(),
  }),
  /** The doctor's database checks, for cells that failed where the database can say why; else null. */
  doctor: doctorReportSchema.nullable().default(null),
});
export type SummaryCell = z.infer<typeof summaryCellSchema>;

export const differenceSchema = z.object({
  aspect: z.enum([
    'portal',
    'sign_in',
    'origin',
    'socket_url',
    'handshake',
    'csp_connect_src',
    'join_identity',
    'join_reply',
    'system_message',
    'subscription',
    'events',
    'latency',
  ]),
  /** The failing cell's value, normalised (portal names replaced by `{portal}` where they vary). */
  failing: z.string(),
  /** The distinct values among the compared passing cells. */
  passing: z.array(z.string()),
  /** Which passing cells were compared. */
  comparedWith: z.array(z.string()),
  note: z.string(),
});
export type Difference = z.infer<typeof differenceSchema>;

export const diagnosisSchema = z.object({
  cell: z.string(),
  verdict: z.enum(SUMMARY_VERDICTS),
  /** shared/FAILURES.md fault name the evidence matches, or null when none does. */
  fault: z.string().nullable(),
  headline: z.string(),
  differences: z.array(differenceSchema),
  nextStep: z.string(),
  /** The doctor's finding that names the cause (e.g. `grant.table_select`), when it ran and found one. */
  doctorCause: z
    .object({ id: z.string(), summary: z.string(), fixSql: z.string().nullable() })
    .nullable()
    .default(null),
});
export type Diagnosis = z.infer<typeof diagnosisSchema>;

export const summarySchema = z.object({
  schema: z.literal(SUMMARY_SCHEMA_ID),
  version: z.literal(SUMMARY_VERSION),
  run: z.object({
    startedAt: z.string(),
    finishedAt: z.string(),
    /** `git rev-parse HEAD`, or GITHUB_SHA, or null outside a checkout. */
    gitSha: z.string().nullable(),
    /** The shard this report covers; null for a whole or merged run. */
    shard: z.object({ current: z.number(), total: z.number() }).nullable(),
    /** Where the cells came from. */
    source: z.enum(['live', 'json-report']),
    /** Every matrix project the config declares, run or not: the gate's default required cells. */
    projects: z.array(z.string()),
    portals: z.array(z.string()),
    envs: z.array(z.string()),
    playwrightVersion: z.string().nullable(),
    totals: z.object({ cells: z.number(), passed: z.number(), failed: z.number() }),
  }),
  cells: z.array(summaryCellSchema),
  diagnoses: z.array(diagnosisSchema),
});
export type Summary = z.infer<typeof summarySchema>;
