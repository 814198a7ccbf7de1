import { Gauge } from 'prom-client';
import { FRESHNESS_FLAGS, FRESHNESS_STATUSES, sourceFreshness, type SourceFreshness } from '../jobs/freshness.ts';
import type { Database } from '../schema/database.ts';
import { log } from '../schema/log.ts';
import { metrics } from './metrics.ts';

// Each registry's freshness (jobs/freshness.ts) as Prometheus gauges on /metrics, read from the
// database when scraped, so that every process serving the API reports the same figures. Registries
// with nothing to report (not scheduled, no batch) are left out. Public pulls only, as everywhere in
// freshness.

let database: Database | undefined;
let reading: { at: number; found: Promise<SourceFreshness[]> } | undefined;
/** The gauges of one scrape share one reading: each collects in turn, the first reads. */
const READING_REUSED_MS = 5_000;

/** Where the gauges read from: the database of the application serving /metrics. */
export function watchFreshness(db: Database): void {
  database = db;
  reading = undefined;
}

function current(): Promise<SourceFreshness[]> {
  const db = database;
  if (!db) return Promise.resolve([]);
  if (!reading || Date.now() - reading.at > READING_REUSED_MS) {
    reading = { at: Date.now(), found: sourceFreshness(db).catch((error: unknown) => {
      log.warn({ err: error }, 'freshness gauges not read: the database did not answer');
      return [];
    }) };
  }
  return reading.found;
}

function gauge<L extends string>(name: string, help: string, labelNames: readonly L[], set: (g: Gauge<L>, f: SourceFreshness) => void): Gauge<L> {
  return new Gauge<L>({
    name, help, labelNames, registers: [metrics],
    async collect() {
      const found = await current();
      this.reset();
      for (const f of found) if (f.status !== 'unscheduled' || f.lastBatchId !== null) set(this, f);
    },
  });
}

gauge('tally_source_status', 'Freshness status of each registry (1 for its status, 0 for the others): fresh, late, stale, pending, unscheduled',
  ['registry', 'status'], (g, f) => FRESHNESS_STATUSES.forEach((status) => g.set({ registry: f.registry, status }, status === f.status ? 1 : 0)));

gauge('tally_source_flag', 'Whether a registry is flagged (1) or not (0): shrank (latest complete pull more than 1 % smaller), not-answering (last three runs failed)',
  ['registry', 'flag'], (g, f) => FRESHNESS_FLAGS.forEach((flag) => g.set({ registry: f.registry, flag }, f.flags.includes(flag) ? 1 : 0)));

gauge('tally_source_age_seconds', 'Seconds since the last successful pull of each registry started', ['registry'], (g, f) => {
  if (f.ageSeconds !== null) g.set({ registry: f.registry }, f.ageSeconds);
});

gauge('tally_source_consecutive_failures', 'Runs of each registry\'s pull that failed since its last successful one', ['registry'], (g, f) => {
  if (f.schedule !== null || f.latestPull) g.set({ registry: f.registry }, f.consecutiveFailures);
});

gauge('tally_source_rows', 'Rows read by the latest complete pull of each registry', ['registry'], (g, f) => {
  if (f.latestPull) g.set({ registry: f.registry }, f.latestPull.rows);
});

gauge('tally_source_tonnes', 'Tonnes in the latest complete pull of each registry: listed in its blocks (measure="listed"), or in its issuances (measure="issued")',
  ['registry', 'measure'], (g, f) => {
    if (f.latestPull?.tonnes != null) g.set({ registry: f.registry, measure: 'listed' }, f.latestPull.tonnes);
    if (f.latestPull?.issuedTonnes != null) g.set({ registry: f.registry, measure: 'issued' }, f.latestPull.issuedTonnes);
  });

gauge('tally_source_missing_records', 'Blocks earlier pulls of each registry listed that its latest complete pull no longer lists', ['registry'], (g, f) => {
  if (f.missingRecords) g.set({ registry: f.registry }, f.missingRecords.count);
});
