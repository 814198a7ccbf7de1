import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSources, startScheduler } from '../../jobs/scheduler.ts';
import { openDatabase, rows } from '../../schema/database.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { platformSearch } from '../helpers/platform-emulator.ts';
import { startReplayServer, type ReplayServer } from '../helpers/replay-server.ts';

// The scheduler against a local Plan Vivo-shaped registry: a source that cannot be reached is a
// recorded failed run that is retried with backoff, never a crash; a second run of the same source
// while one holds its lock is skipped, within one process and across two (on a server).

const capture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/api-captures/${name}`, import.meta.url), 'utf8')) as { entities: Record<string, unknown>[] };

describe('scheduler', () => {
  let t: TestDatabase;
  let server: ReplayServer;
  let dir: string;
  let failing = true;
  let slow = 0;
  const search = platformSearch({
    project: capture('planvivo-projects.json').entities,
    issuances: capture('planvivo-issuances.json').entities,
    holdings: capture('planvivo-holdings.json').entities,
  }, { window: 10_000, knownFilters: [] });

  beforeAll(async () => {
    t = await openTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'tally-sources-'));
    server = await startReplayServer(['project', 'issuances', 'holdings'].map((resource) => ({
      method: 'POST',
      path: `/es/public/${resource}/publicReportPageSearch`,
      responses: [(req) => (failing ? { status: 503, body: 'Service Unavailable' } : { ...search(req), delayMs: slow })],
    })));
  });
  afterAll(async () => {
    await server.close();
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const sources = () => {
    const path = join(dir, 'sources.json');
    writeFileSync(path, JSON.stringify({ 'plan-vivo': { schedule: '0 3 * * *', config: { baseUrl: `${server.url}/es/public`, minIntervalMs: 0, baseDelayMs: 1, retries: 1, timeoutMs: 5_000 } } }));
    return readSources(path);
  };

  it('when the sources file names an unknown registry or a bad schedule, then it is refused with the reason', () => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, JSON.stringify({ 'plan-vivo': { schedule: 'every day' } }));
    expect(() => readSources(path)).toThrow(/schedule: is not a cron expression/);
    writeFileSync(path, JSON.stringify({ 'no-such-registry': { schedule: '0 3 * * *' } }));
    expect(() => readSources(path)).toThrow(/no connector for "no-such-registry"/);
  });

  it('when the registry cannot be reached, then the run is recorded as failed and retried with backoff until it succeeds', async () => {
    failing = true;
    const scheduler = startScheduler(t.handle, sources(), { retryBaseMs: 200 });
    try {
      expect(await scheduler.runNow('plan-vivo')).toBe('failed');
      const [state] = await rows<{ consecutive_failures: number; last_error: string }>(t.handle.db,
        sql`select consecutive_failures, last_error from connector_state where connector = 'plan-vivo-api'`);
      expect(state!.consecutive_failures).toBe(1);
      expect(state!.last_error).toMatch(/503/);
      const [failed] = await rows<{ n: number }>(t.handle.db, sql`select count(*)::int as n from batches where status = 'failed' and registry_id = 'plan-vivo'`);
      expect(failed!.n).toBe(1);

      // The registry comes back; the retry scheduled after the failure pulls it without anyone asking.
      failing = false;
      // The run is done when its state is recorded (after the batch commits and is checked).
      await expect.poll(async () => (await rows<{ consecutive_failures: number; last_error: string | null }>(t.handle.db,
        sql`select consecutive_failures, last_error from connector_state where connector = 'plan-vivo-api'`))[0], { timeout: 15_000, interval: 100 })
        .toEqual({ consecutive_failures: 0, last_error: null });
      const [committed] = await rows<{ n: number }>(t.handle.db, sql`select count(*)::int as n from batches where status = 'committed' and registry_id = 'plan-vivo'`);
      expect(committed!.n).toBe(1);
    } finally {
      await scheduler.stop();
    }
  });

  it('when a source is already being pulled, then a second run of it is skipped; the committed one has its public downloads written ahead', async () => {
    failing = false;
    slow = 300;
    const downloads = join(dir, 'downloads');
    const scheduler = startScheduler(t.handle, sources(), { downloads });
    try {
      const [first, second] = await Promise.all([scheduler.runNow('plan-vivo'), scheduler.runNow('plan-vivo')]);
      expect([first, second].sort()).toEqual(['committed', 'skipped']);
    } finally {
      slow = 0;
      await scheduler.stop();
    }
    // stop() waited for the files: the version the API would serve now is on disk, whole.
    const [version] = await rows<{ n: number }>(t.handle.db, sql`select count(*)::int as n from batches where status = 'committed' and not is_private`);
    expect(readdirSync(downloads)).toEqual([`public-${version!.n}`]);
    const manifest = JSON.parse(readFileSync(join(downloads, `public-${version!.n}`, 'manifest.json'), 'utf8')) as { files: { name: string; rows: number }[] };
    expect(manifest.files.map((f) => f.name).sort()).toEqual(['credits.csv', 'credits.parquet', 'projects.csv', 'projects.parquet']);
    expect(manifest.files.find((f) => f.name === 'projects.csv')!.rows).toBe(capture('planvivo-projects.json').entities.length);
  });

  it('when the full integrity check is due, then it runs every rule under its lock, and a second one at the same time is skipped', async () => {
    const scheduler = startScheduler(t.handle, sources(), { checkSchedule: '0 0 1 1 *' });
    try {
      const [first, second] = await Promise.all([scheduler.checkNow(), scheduler.checkNow()]);
      const ran = [first, second].filter((s) => s !== undefined);
      expect(ran).toHaveLength(1);
      expect(ran[0]!.scope).toBe('full');
      expect(Object.keys(ran[0]!.rules)).toEqual(['serial-overlap', 'unnetted-conversion', 'same-activity-overlap', 'cdm-overlap',
        'retired-twice', 'tokenized-after-retirement', 'export-not-imported', 'mirror-disagrees',
        'ca-unreported-first-transfer', 'ca-quantity-mismatch', 'ca-range-mismatch', 'ca-mirror-missing', 'ca-unauthorized-use', 'ca-status-overdue', 'contribution-claim-overlap']);
    } finally {
      await scheduler.stop();
    }
  });

  it('when snapshots of the downloads are due, then each is a dated folder of every file and its manifest, and only the newest are kept', async () => {
    const snapshotDir = join(dir, 'snapshots');
    const scheduler = startScheduler(t.handle, [], { snapshots: { schedule: '0 0 1 1 *', dir: snapshotDir, keep: 2 } });
    try {
      const written: string[] = [];
      for (let n = 0; n < 3; n++) written.push((await scheduler.snapshotNow())!);
      expect(readdirSync(snapshotDir).sort()).toEqual(written.slice(1).map((d) => basename(d)));
      expect(readdirSync(written[2]!).sort()).toEqual(['credits.csv', 'credits.parquet', 'manifest.json', 'projects.csv', 'projects.parquet']);
      const manifest = JSON.parse(readFileSync(join(written[2]!, 'manifest.json'), 'utf8')) as { organization: string | null; files: { name: string }[] };
      expect(manifest.organization).toBeNull();
      expect(manifest.files).toHaveLength(4);
    } finally {
      await scheduler.stop();
    }
  });

  it.runIf(onServer())('when two Tally processes share a server, then only one of them pulls a source at a time', async () => {
    slow = 300;
    const other = await openDatabase(t.options);
    const mine = startScheduler(t.handle, sources());
    const theirs = startScheduler(other, sources());
    try {
      const outcomes = await Promise.all([mine.runNow('plan-vivo'), theirs.runNow('plan-vivo')]);
      expect(outcomes.sort()).toEqual(['committed', 'skipped']);
    } finally {
      slow = 0;
      await mine.stop();
      await theirs.stop();
      await other.close();
    }
  });
});

/** Two handles can share a database only on a server (PGlite belongs to one process). */
function onServer(): boolean {
  return Boolean(process.env.TEST_DATABASE_URL);
}
