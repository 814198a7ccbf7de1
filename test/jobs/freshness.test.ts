import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordSchedules, sourceFreshness, type SourceFreshness } from '../../jobs/freshness.ts';
import { ingestFile } from '../../jobs/ingest-file.ts';
import { readSources, startScheduler } from '../../jobs/scheduler.ts';
import { syncSource } from '../../jobs/sync.ts';
import { organizations } from '../../schema/db/index.ts';
import { rows } from '../../schema/database.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { platformSearch, type Entity } from '../helpers/platform-emulator.ts';
import { startReplayServer, type ReplayServer } from '../helpers/replay-server.ts';

// Freshness of a scheduled registry against a local Plan Vivo-shaped registry serving the real captured
// entities (test/fixtures/api-captures/planvivo-*.json): the clock is simulated, the pulls are real.
// The schedule is daily at 03:00 in the process's time zone (node-cron's, and these dates' too), so a
// pull's window closes at 04:00: the grace is a tenth of the day, at most an hour.

const capturePath = (name: string) => new URL(`../fixtures/api-captures/${name}`, import.meta.url).pathname;
const capture = (name: string) => (JSON.parse(readFileSync(capturePath(name), 'utf8')) as { entities: Entity[] }).entities;
const captured = { project: capture('planvivo-projects.json'), issuances: capture('planvivo-issuances.json'), holdings: capture('planvivo-holdings.json') };
const capturedRows = captured.project.length + captured.issuances.length + captured.holdings.length;
const heldTonnes = (holdings: Entity[]) => holdings.reduce((sum, h) => sum + Number(h.holdingQuantity), 0);

/** A local time, in the zone the scheduler reads its cron expressions in. */
const at = (day: number, hour: number, minute = 0, second = 0) => new Date(2026, 2, day, hour, minute, second);

describe('freshness of a scheduled source', () => {
  let t: TestDatabase;
  let server: ReplayServer;
  let dir: string;
  let failing = false;
  let served = captured;

  beforeAll(async () => {
    t = await openTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'tally-freshness-'));
    server = await startReplayServer(['project', 'issuances', 'holdings'].map((resource) => ({
      method: 'POST',
      path: `/es/public/${resource}/publicReportPageSearch`,
      responses: [(req) => (failing ? { status: 503, body: 'Service Unavailable' } : platformSearch(served, { window: 10_000, knownFilters: [] })(req))],
    })));
  });
  afterAll(async () => {
    await server.close();
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const config = () => ({ baseUrl: `${server.url}/es/public`, minIntervalMs: 0, baseDelayMs: 1, retries: 1, timeoutMs: 5_000 });
  const sources = () => {
    const path = join(dir, 'sources.json');
    writeFileSync(path, JSON.stringify({ 'plan-vivo': { schedule: '0 3 * * *', config: config() } }));
    return readSources(path);
  };
  const freshness = async (now: Date): Promise<SourceFreshness> => (await sourceFreshness(t.handle.db, { now })).find((f) => f.registry === 'plan-vivo')!;
  /** As if the last successful pull had started at `when`. */
  const pulledAt = (when: Date) => t.handle.db.execute(sql`update connector_state set last_success_at = ${when.toISOString()} where connector = 'plan-vivo-api'`);

  it('when no scheduler pulls a registry, then it is unscheduled and reports only its last batch', async () => {
    const all = await sourceFreshness(t.handle.db, { now: at(2, 12) });
    expect(all.find((f) => f.registry === 'verra')).toMatchObject({ status: 'unscheduled', schedule: null, lastSuccessAt: null, latestPull: null, lastBatchId: null, flags: [] });
  });

  it('when a source is scheduled and not run yet, then it is pending', async () => {
    await recordSchedules(t.handle.db, sources());
    expect(await freshness(at(2, 12))).toMatchObject({ status: 'pending', schedule: '0 3 * * *', lastSuccessAt: null, nextRunAt: at(3, 3) });
  });

  it('when a scheduled source misses its window, then it turns late, and stale once it misses the next one', async () => {
    const scheduler = startScheduler(t.handle, sources());
    try {
      expect(await scheduler.runNow('plan-vivo')).toBe('committed');
    } finally {
      await scheduler.stop();
    }
    await pulledAt(at(2, 3, 0, 5));
    expect(await freshness(at(2, 9))).toMatchObject({ status: 'fresh', dueAt: at(3, 3), ageSeconds: 6 * 3600 - 5 });
    // The next pull was due at 03:00; until 04:00 it may still land.
    expect((await freshness(at(3, 3, 59, 59))).status).toBe('fresh');
    expect(await freshness(at(3, 4, 0, 0))).toMatchObject({ status: 'late', dueAt: at(3, 3), flags: [] });
    expect((await freshness(at(4, 3, 59, 59))).status).toBe('late');
    expect((await freshness(at(4, 4))).status).toBe('stale');
    expect((await freshness(at(20, 4))).status).toBe('stale');
    // A pull that lands makes it fresh again.
    await pulledAt(at(4, 5));
    expect((await freshness(at(4, 6))).status).toBe('fresh');
  });

  it('when a complete pull lists more than 1 % fewer rows or tonnes than the one before, then it is flagged, with the records it no longer lists', async () => {
    const first = await freshness(at(4, 6));
    expect(first.latestPull).toMatchObject({ rows: capturedRows, tonnes: heldTonnes(captured.holdings) });
    expect(first.previousPull).toBeNull();

    // The same again: nothing shrank, nothing is missing.
    await syncSource(t.handle.db, 'plan-vivo', { config: config() });
    const same = await freshness(at(4, 6));
    expect(same.change).toEqual({ rows: 0, tonnes: 0, issuedTonnes: 0 });
    expect(same.flags).toEqual([]);
    expect(same.missingRecords).toEqual({ count: 0, sample: [] });

    // The registry stops listing one holding: one row of twelve (8.3 %) and its tonnes are gone.
    const [dropped, ...kept] = captured.holdings;
    served = { ...captured, holdings: kept };
    await syncSource(t.handle.db, 'plan-vivo', { config: config() });
    const shrunk = await freshness(at(4, 6));
    expect(shrunk.latestPull).toMatchObject({ rows: capturedRows - 1, tonnes: heldTonnes(kept) });
    expect(shrunk.previousPull).toMatchObject({ rows: capturedRows, tonnes: heldTonnes(captured.holdings) });
    expect(shrunk.change!.rows).toBeCloseTo(-1 / capturedRows, 10);
    expect(shrunk.change!.tonnes).toBeCloseTo(-Number(dropped!.holdingQuantity) / heldTonnes(captured.holdings), 10);
    expect(shrunk.flags).toEqual(['shrank']);
    expect(shrunk.missingRecords).toEqual({ count: 1, sample: [String(dropped!.serialNo)] });
    served = captured;
  });

  it('when the registry stops answering, then it is flagged, and one missed run is enough to make it stale', async () => {
    failing = true;
    try {
      for (let run = 0; run < 3; run++) await expect(syncSource(t.handle.db, 'plan-vivo', { config: config() })).rejects.toThrow(/503/);
    } finally {
      failing = false;
    }
    await pulledAt(at(4, 5));
    const down = await freshness(at(4, 6));
    expect(down).toMatchObject({ status: 'fresh', consecutiveFailures: 3, flags: ['shrank', 'not-answering'] });
    expect(down.lastError).toMatch(/503/);
    expect((await freshness(at(5, 4))).status).toBe('stale');
  });

  it('when an organization uploads its own private copy, then no figure and no last batch of the registry counts it', async () => {
    const before = await freshness(at(5, 4));
    const [org] = await t.handle.db.insert(organizations).values({ slug: 'freshness-private', name: 'Private holder' }).returning();
    const upload = await ingestFile(t.handle.db, capturePath('planvivo-holdings.json'), { ownerOrganizationId: org!.id, isPrivate: true });
    const [batch] = await rows<{ registry_id: string; is_private: boolean }>(t.handle.db, sql`select registry_id, is_private from batches where id = ${upload.batchId}`);
    expect(batch).toEqual({ registry_id: 'plan-vivo', is_private: true });
    const after = await freshness(at(5, 4));
    expect(after).toEqual(before);
    expect(after.lastBatchId).not.toBe(upload.batchId);
  });

  it('when the scheduler starts without the source, then the source is unscheduled again', async () => {
    const scheduler = startScheduler(t.handle, []);
    await scheduler.stop();
    expect(await freshness(at(5, 4))).toMatchObject({ status: 'unscheduled', schedule: null, nextRunAt: null });
  });
});
