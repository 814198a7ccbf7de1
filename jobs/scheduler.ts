import { readFileSync } from 'node:fs';
import cron, { type ScheduledTask } from 'node-cron';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { DatabaseHandle } from '../schema/database.ts';
import { rows } from '../schema/database.ts';
import { log } from '../schema/log.ts';
import { DownloadCache, writeSnapshot } from './downloads.ts';
import { recordSchedules } from './freshness.ts';
import { runChecks, type CheckSummary } from './integrity/index.ts';
import { apiConnector, sourceConfig, syncSource } from './sync.ts';
import { startDeliveries, type DeliveryOptions } from './webhooks.ts';

// One schedule per configured source (TALLY_SOURCES, a JSON file). A run takes the source's lock, so
// any number of Tally instances may schedule the same source and only one pulls it at a time; a run
// that fails is recorded with its reason (connector_state, and the failed batch) and retried with
// exponential backoff, and an unreachable registry never takes the process down.

export const SourcesFile = z.record(
  z.string(),
  z.object({
    /** A cron expression (node-cron: optional seconds field first), e.g. "0 3 * * *" for 03:00 daily. */
    schedule: z.string().refine((expression) => cron.validate(expression), 'is not a cron expression'),
    /** The connector's configuration; its defaults fill what is not given. */
    config: z.unknown().optional(),
  }),
);

export type SourceSchedule = { registry: string; schedule: string; config?: unknown };

/** The configured sources, each checked: a known registry with an API mode and a valid configuration. */
export function readSources(path: string): SourceSchedule[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`TALLY_SOURCES: cannot read ${path}: ${(error as Error).message}`);
  }
  const parsed = SourcesFile.safeParse(json);
  if (!parsed.success) {
    throw new Error(`TALLY_SOURCES (${path}): ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  return Object.entries(parsed.data).map(([registry, entry]) => {
    sourceConfig(apiConnector(registry), entry.config);
    return { registry, schedule: entry.schedule, config: entry.config };
  });
}

export type SchedulerOptions = {
  /** Cron expression for a full integrity check (`tally check`), or undefined for none. */
  checkSchedule?: string;
  /** Snapshots of the public downloads (jobs/downloads.ts) into `dir` on a schedule, keeping the newest `keep`. */
  snapshots?: { schedule: string; dir: string; keep: number } | undefined;
  /** First retry after a failure; doubles with every further failure. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /**
   * The folder the API serves the downloads from (TALLY_DATA_DIR/downloads): after a scheduled pull
   * commits, the public files of the new ledger version are written there, so no request waits for them.
   */
  downloads?: string | undefined;
  /** Sends the webhooks' queued deliveries (jobs/webhooks.ts) from this process, every `intervalMs`. */
  webhooks?: (DeliveryOptions & { intervalMs?: number }) | undefined;
};

export type RunOutcome = 'committed' | 'failed' | 'skipped';

export type Scheduler = {
  /** Runs a source now, as its schedule would: under its lock, failures recorded and retried. */
  runNow(registry: string): Promise<RunOutcome>;
  /** Runs the full integrity check now, as its schedule would: under its lock, so two never overlap. */
  checkNow(): Promise<CheckSummary | undefined>;
  /** Writes a snapshot of the downloads now, as its schedule would; undefined when another is being written. */
  snapshotNow(): Promise<string | undefined>;
  stop(): Promise<void>;
};

export function startScheduler(handle: DatabaseHandle, sources: SourceSchedule[], options: SchedulerOptions = {}): Scheduler {
  const retryBaseMs = options.retryBaseMs ?? 5 * 60_000;
  const retryMaxMs = options.retryMaxMs ?? 6 * 60 * 60_000;
  const retries = new Map<string, NodeJS.Timeout>();
  const bySource = new Map(sources.map((s) => [s.registry, s]));
  const inFlight = new Set<Promise<RunOutcome>>();
  const deliveries = options.webhooks && startDeliveries(handle.db, options.webhooks);
  const downloads = options.downloads === undefined ? undefined : new DownloadCache(options.downloads);
  let stopped = false;
  // Freshness (jobs/freshness.ts) reads each source's schedule from the database, in whichever process serves the API.
  const schedulesRecorded = recordSchedules(handle.db, sources).catch((error: unknown) => {
    log.error({ err: error }, 'the sources\' schedules could not be recorded: freshness reports them unscheduled');
  });

  /** Every run, scheduled or retried, is tracked so that stop() can wait for it to finish. */
  function run(registry: string): Promise<RunOutcome> {
    if (stopped) return Promise.resolve('skipped');
    const running = runOnce(registry).finally(() => inFlight.delete(running));
    inFlight.add(running);
    return running;
  }

  async function runOnce(registry: string): Promise<RunOutcome> {
    const source = bySource.get(registry);
    if (!source) throw new Error(`no schedule for ${registry}`);
    clearTimeout(retries.get(registry));
    retries.delete(registry);
    await schedulesRecorded;
    const outcome = await handle.withLock(`sync:${registry}`, async (): Promise<RunOutcome> => {
      try {
        const summary = await syncSource(handle.db, registry, { config: source.config });
        log.info({ registry, batch: summary.batchId, rows: summary.rowsRead, blocksNew: summary.blocks.new }, 'scheduled sync committed');
        deliveries?.poke();
        writeDownloadsAhead();
        return 'committed';
      } catch (error) {
        log.warn({ registry, reason: (error as Error).message }, 'scheduled sync failed');
        return 'failed';
      }
    });
    if (outcome === undefined) {
      log.info({ registry }, 'scheduled sync skipped: another run holds the source');
      return 'skipped';
    }
    if (outcome === 'failed' && !stopped) {
      const [state] = await rows<{ n: number }>(handle.db, sql`select consecutive_failures as n from connector_state where connector = ${`${registry}-api`}`);
      const delay = Math.min(retryBaseMs * 2 ** Math.max(0, (state?.n ?? 1) - 1), retryMaxMs);
      retries.set(registry, setTimeout(() => void run(registry).catch(() => {}), delay).unref());
      log.info({ registry, retryInMs: delay }, 'scheduled sync will be retried');
    }
    return outcome;
  }

  /** Writes the public downloads of the ledger's new version in the background, tracked like a run. */
  function writeDownloadsAhead(): void {
    if (!downloads || stopped) return;
    const writing = downloads.current(handle.db, { organizationId: null, organization: null }).then(() => 'committed' as const, (error: unknown) => {
      log.warn({ err: error }, 'the public downloads could not be written ahead: the first request writes them');
      return 'failed' as const;
    }).finally(() => inFlight.delete(writing));
    inFlight.add(writing);
  }

  function checkNow(): Promise<CheckSummary | undefined> {
    if (stopped) return Promise.resolve(undefined);
    const running = handle.withLock('check', () => runChecks(handle.db)).then((summary) => {
      if (summary) log.info({ rules: Object.fromEntries(Object.entries(summary.rules).map(([k, r]) => [k, r.found])) }, 'scheduled integrity check done');
      else log.info('scheduled integrity check skipped: another check is running');
      return summary;
    });
    const tracked = running.then(() => 'committed' as const, () => 'failed' as const).finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    return running;
  }

  function snapshotNow(): Promise<string | undefined> {
    const snapshots = options.snapshots;
    if (stopped || !snapshots) return Promise.resolve(undefined);
    const running = handle.withLock('snapshot', () => writeSnapshot(handle.db, snapshots.dir, snapshots.keep)).then((dir) => {
      if (dir) log.info({ dir }, 'snapshot of the downloads written');
      return dir;
    });
    const tracked = running.then(() => 'committed' as const, () => 'failed' as const).finally(() => inFlight.delete(tracked));
    inFlight.add(tracked);
    return running;
  }

  const tasks: ScheduledTask[] = sources.map((source) =>
    cron.schedule(source.schedule, () => run(source.registry).then(() => undefined).catch((error: unknown) => {
      log.error({ registry: source.registry, err: error }, 'scheduler error');
    }), { name: `sync:${source.registry}`, noOverlap: true }));
  if (options.checkSchedule) {
    tasks.push(cron.schedule(options.checkSchedule, () => checkNow().then(() => undefined).catch((error: unknown) => {
      log.error({ err: error }, 'scheduled integrity check failed');
    }), { name: 'check', noOverlap: true }));
  }

  if (options.snapshots) {
    tasks.push(cron.schedule(options.snapshots.schedule, () => snapshotNow().then(() => undefined).catch((error: unknown) => {
      log.error({ err: error }, 'snapshot of the downloads failed');
    }), { name: 'snapshot', noOverlap: true }));
  }

  return {
    runNow: run,
    checkNow,
    snapshotNow,
    /** Stops scheduling and retrying, and waits for runs under way to finish (their batches land whole). */
    async stop() {
      stopped = true;
      for (const timer of retries.values()) clearTimeout(timer);
      retries.clear();
      await Promise.all(tasks.map((t) => t.destroy()));
      await Promise.allSettled([...inFlight, schedulesRecorded]);
      await deliveries?.stop();
    },
  };
}
