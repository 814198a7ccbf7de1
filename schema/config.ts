import { availableParallelism } from 'node:os';
import cron from 'node-cron';
import { z } from 'zod';

// Every setting Tally reads from the environment, in one place. The README's configuration table
// lists the same variables.

const blankAsUnset = (value: unknown) => (value === '' ? undefined : value);

const Settings = z.object({
  /** A PostgreSQL server (postgres://user:pass@host:5432/db). Unset: embedded PGlite in `TALLY_DATA_DIR`. */
  DATABASE_URL: z.preprocess(blankAsUnset, z.string().regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://').optional()),
  /**
   * A streaming replica of DATABASE_URL (postgres://…): GraphQL queries and downloads read from it, while
   * writes, migrations, checks and the scheduler use DATABASE_URL (README, "Running at scale").
   */
  DATABASE_READ_URL: z.preprocess(blankAsUnset, z.string().regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://').optional()),
  /** Folder for the embedded database, relative to the working directory unless absolute. */
  TALLY_DATA_DIR: z.preprocess(blankAsUnset, z.string().default('tally-data')),
  PORT: z.preprocess(blankAsUnset, z.coerce.number().int().min(0).max(65535).default(4000)),
  HOST: z.preprocess(blankAsUnset, z.string().default('127.0.0.1')),
  /** A JSON file of the sources to sync on a schedule: {"verra": {"schedule": "0 3 * * *", "config": {…}}}. */
  TALLY_SOURCES: z.preprocess(blankAsUnset, z.string().optional()),
  /** When the scheduler runs every integrity rule over the whole ledger (cron), or `off`. Batches are checked as they land. */
  TALLY_CHECK_SCHEDULE: z.preprocess(blankAsUnset, z.string().default('15 4 * * *')
    .refine((v) => v === 'off' || cron.validate(v), 'must be a cron expression ("15 4 * * *") or off')),
  /** When the scheduler writes a snapshot of the public downloads (cron), or `off`. */
  TALLY_SNAPSHOT_SCHEDULE: z.preprocess(blankAsUnset, z.string().default('45 4 * * *')
    .refine((v) => v === 'off' || cron.validate(v), 'must be a cron expression ("45 4 * * *") or off')),
  /** How many snapshots of the downloads to keep; older ones are removed. */
  TALLY_SNAPSHOTS_KEEP: z.preprocess(blankAsUnset, z.coerce.number().int().min(1).default(7)),
  /** Load the bundled registry samples when the embedded database is empty (`false` to start empty). */
  TALLY_LOAD_SAMPLES: z.preprocess(blankAsUnset, z.enum(['true', 'false']).default('true')),
  /** Requests per minute one address (or one API key) may make to the API; 0 turns the limit off. */
  TALLY_RATE_LIMIT: z.preprocess(blankAsUnset, z.coerce.number().int().min(0).default(600)),
  /** Largest file an upload may send, in megabytes. */
  TALLY_MAX_UPLOAD_MB: z.preprocess(blankAsUnset, z.coerce.number().positive().max(2048).default(100)),
  /** Most a workbook (a ZIP) may inflate to, in megabytes; unset: 20 × TALLY_MAX_UPLOAD_MB, at most 2048. */
  TALLY_MAX_INFLATED_MB: z.preprocess(blankAsUnset, z.coerce.number().positive().max(2048).optional()),
  /** Most entries a workbook (a ZIP) may hold. */
  TALLY_MAX_ZIP_ENTRIES: z.preprocess(blankAsUnset, z.coerce.number().int().positive().default(10_000)),
  /** Milliseconds one database statement of an API request may run: with an API key, and without one. */
  TALLY_STATEMENT_TIMEOUT_MS: z.preprocess(blankAsUnset, z.coerce.number().int().positive().default(30_000)),
  TALLY_ANONYMOUS_STATEMENT_TIMEOUT_MS: z.preprocess(blankAsUnset, z.coerce.number().int().positive().default(5_000)),
  /**
   * Processes that serve the API (`auto`: one per core), sharing HOST:PORT; the scheduler runs in the
   * first process only. More than one needs DATABASE_URL: the embedded database belongs to one process.
   */
  TALLY_WORKERS: z.preprocess(blankAsUnset, z.union([z.literal('auto'), z.coerce.number().int().min(1).max(64)]).default(1)),
  /**
   * Addresses (or CIDR ranges) a webhook may be delivered to although they are private, loopback or
   * otherwise not public, comma-separated: `127.0.0.1`, `10.0.0.0/8`. Unset: public addresses only.
   */
  TALLY_WEBHOOK_ALLOW: z.preprocess(blankAsUnset, z.string().default('')),
  /** Milliseconds before a failed webhook delivery's first retry; each further failure doubles it (at most 6 hours). */
  TALLY_WEBHOOK_RETRY_MS: z.preprocess(blankAsUnset, z.coerce.number().int().positive().default(30_000)),
  LOG_LEVEL: z.preprocess(blankAsUnset, z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
});

export type Config = {
  databaseUrl: string | undefined;
  databaseReadUrl: string | undefined;
  dataDir: string;
  port: number;
  host: string;
  logLevel: z.infer<typeof Settings>['LOG_LEVEL'];
  loadSamples: boolean;
  sourcesFile: string | undefined;
  checkSchedule: string | undefined;
  /** Nightly snapshots of the public downloads (TALLY_SNAPSHOT_SCHEDULE, TALLY_SNAPSHOTS_KEEP), into TALLY_DATA_DIR/snapshots. */
  snapshots: { schedule: string; keep: number } | undefined;
  /** API processes to serve with (TALLY_WORKERS, `auto` resolved to the cores available). */
  workers: number;
  api: ApiLimits;
};

export type ApiLimits = {
  /** Requests per minute per address and per key; 0: unlimited. */
  rateLimitPerMinute: number;
  maxUploadBytes: number;
  /** Milliseconds a database statement of one request may run (PostgreSQL server only), by caller. */
  statementTimeoutMs: { anonymous: number; key: number };
};

export const DEFAULT_API_LIMITS: ApiLimits = { rateLimitPerMinute: 600, maxUploadBytes: 100 * 1024 * 1024, statementTimeoutMs: { anonymous: 5_000, key: 30_000 } };

/** What a ZIP container (an XLSX workbook) may hold before it is refused unread. */
export type ArchiveLimits = { maxInflatedBytes: number; maxEntries: number };

const MB = 1024 * 1024;

function settings(env: NodeJS.ProcessEnv) {
  const parsed = Settings.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid configuration: ${problems.join('; ')}`);
  }
  return parsed.data;
}

const archiveLimitsOf = (s: z.infer<typeof Settings>): ArchiveLimits => ({
  maxInflatedBytes: Math.round(Math.min(s.TALLY_MAX_INFLATED_MB ?? 20 * s.TALLY_MAX_UPLOAD_MB, 2048) * MB),
  maxEntries: s.TALLY_MAX_ZIP_ENTRIES,
});

/** The archive limits in force (read where workbooks are opened, whichever command opens them). */
export function readArchiveLimits(env: NodeJS.ProcessEnv = process.env): ArchiveLimits {
  return archiveLimitsOf(settings(env));
}

/** Where webhooks may deliver and how they retry (read where webhooks are created and delivered). */
export type WebhookSettings = { allow: string[]; retryBaseMs: number };

export function readWebhookSettings(env: NodeJS.ProcessEnv = process.env): WebhookSettings {
  const s = settings(env);
  return { allow: s.TALLY_WEBHOOK_ALLOW.split(',').map((a) => a.trim()).filter(Boolean), retryBaseMs: s.TALLY_WEBHOOK_RETRY_MS };
}

/** Reads the configuration; a bad value stops the process with a message naming the variable. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const s = settings(env);
  if (s.DATABASE_READ_URL && !s.DATABASE_URL) throw new Error('invalid configuration: DATABASE_READ_URL: a replica needs DATABASE_URL, the primary it replicates');
  const workers = s.TALLY_WORKERS === 'auto' ? availableParallelism() : s.TALLY_WORKERS;
  if (workers > 1 && !s.DATABASE_URL) throw new Error('invalid configuration: TALLY_WORKERS: more than one process needs DATABASE_URL (the embedded database belongs to one process)');
  return { databaseUrl: s.DATABASE_URL, databaseReadUrl: s.DATABASE_READ_URL, dataDir: s.TALLY_DATA_DIR, port: s.PORT, host: s.HOST, logLevel: s.LOG_LEVEL, loadSamples: s.TALLY_LOAD_SAMPLES === 'true', sourcesFile: s.TALLY_SOURCES,
    checkSchedule: s.TALLY_CHECK_SCHEDULE === 'off' ? undefined : s.TALLY_CHECK_SCHEDULE,
    snapshots: s.TALLY_SNAPSHOT_SCHEDULE === 'off' ? undefined : { schedule: s.TALLY_SNAPSHOT_SCHEDULE, keep: s.TALLY_SNAPSHOTS_KEEP },
    workers,
    api: {
      rateLimitPerMinute: s.TALLY_RATE_LIMIT, maxUploadBytes: Math.round(s.TALLY_MAX_UPLOAD_MB * MB),
      statementTimeoutMs: { anonymous: s.TALLY_ANONYMOUS_STATEMENT_TIMEOUT_MS, key: s.TALLY_STATEMENT_TIMEOUT_MS },
    } };
}
