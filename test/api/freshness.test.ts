import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../api/auth.ts';
import { recordSchedules } from '../../jobs/freshness.ts';
import { ingestFile } from '../../jobs/ingest-file.ts';
import { syncSource } from '../../jobs/sync.ts';
import { organizations } from '../../schema/db/index.ts';
import { startApi } from '../helpers/api.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { platformSearch, type Entity } from '../helpers/platform-emulator.ts';
import { startReplayServer, type ReplayServer } from '../helpers/replay-server.ts';

// Freshness through the API: GraphQL `registries { freshness }` and the gauges on /metrics, on the real
// clock, after two real pulls of a local Plan Vivo-shaped registry serving the captured entities (the
// second without one holding), an upload of ARB's table, and an organization's private upload that
// must show in no one's figures. The statuses against a simulated clock: test/jobs/freshness.test.ts.

const capturePath = (name: string) => new URL(`../fixtures/api-captures/${name}`, import.meta.url).pathname;
const capture = (name: string) => (JSON.parse(readFileSync(capturePath(name), 'utf8')) as { entities: Entity[] }).entities;
const captured = { project: capture('planvivo-projects.json'), issuances: capture('planvivo-issuances.json'), holdings: capture('planvivo-holdings.json') };
const capturedRows = captured.project.length + captured.issuances.length + captured.holdings.length;

const QUERY = `{ registries { id freshness { status flags schedule lastSuccessAt ageSeconds dueAt nextRunAt consecutiveFailures lastError
  latestPull { batch { id kind private } rows tonnes issuedTonnes startedAt finishedAt } previousPull { batch { id } rows tonnes }
  change { rows tonnes issuedTonnes } missingRecords { count sample } lastBatch { id kind private } } } }`;

type Freshness = {
  status: string; flags: string[]; schedule: string | null; ageSeconds: number | null; latestPull: { batch: { id: string; private: boolean }; rows: number; tonnes: number } | null;
  previousPull: { rows: number } | null; change: { rows: number } | null; missingRecords: { count: number; sample: string[] } | null; lastBatch: { id: string; kind: string; private: boolean } | null;
};

describe('freshness in the API', () => {
  let t: TestDatabase;
  let server: ReplayServer;
  let api: Awaited<ReturnType<typeof startApi>>;
  let served = captured;
  let privateBatch: number;
  let readerKey: string;

  beforeAll(async () => {
    t = await openTestDatabase();
    const { db } = t.handle;
    server = await startReplayServer(['project', 'issuances', 'holdings'].map((resource) => ({
      method: 'POST',
      path: `/es/public/${resource}/publicReportPageSearch`,
      responses: [(req) => platformSearch(served, { window: 10_000, knownFilters: [] })(req)],
    })));
    await recordSchedules(db, [{ registry: 'plan-vivo', schedule: '0 3 * * *' }]);
    const config = { baseUrl: `${server.url}/es/public`, minIntervalMs: 0, baseDelayMs: 1, retries: 1, timeoutMs: 5_000 };
    await syncSource(db, 'plan-vivo', { config });
    served = { ...captured, holdings: captured.holdings.slice(1) };
    await syncSource(db, 'plan-vivo', { config });
    await ingestFile(db, new URL('../fixtures/registry-samples/arb/nc-arboc_issuance_sheet3.csv', import.meta.url).pathname);
    const [org] = await db.insert(organizations).values({ slug: 'holder', name: 'A holder of Plan Vivo units' }).returning();
    privateBatch = (await ingestFile(db, capturePath('planvivo-holdings.json'), { ownerOrganizationId: org!.id, isPrivate: true })).batchId;
    readerKey = (await createApiKey(db, { name: 'holder', role: 'reader', organizationId: org!.id })).key;
    api = await startApi(t.handle);
  });
  afterAll(async () => {
    await api?.close();
    await server?.close();
    await t?.close();
  });

  const freshnessOf = async (key?: string) => {
    const response = await api.gql<{ registries: { id: string; freshness: Freshness }[] }>(QUERY, {}, key ? { key } : {});
    expect(response.errors).toBeUndefined();
    return new Map(response.data!.registries.map((r) => [r.id, r.freshness]));
  };

  it('when a scheduled registry was just pulled with one holding fewer, then it is fresh, flagged as shrunk, with the missing holding named', async () => {
    const planVivo = (await freshnessOf()).get('plan-vivo')!;
    expect(planVivo).toMatchObject({ status: 'FRESH', flags: ['SHRANK'], schedule: '0 3 * * *', consecutiveFailures: 0, lastError: null });
    expect(planVivo.ageSeconds).toBeLessThan(600);
    expect(planVivo.latestPull).toMatchObject({ rows: capturedRows - 1, batch: { private: false } });
    expect(planVivo.previousPull).toMatchObject({ rows: capturedRows });
    expect(planVivo.change!.rows).toBeCloseTo(-1 / capturedRows, 10);
    expect(planVivo.missingRecords).toEqual({ count: 1, sample: [String(captured.holdings[0]!.serialNo)] });
    expect(planVivo.lastBatch).toEqual({ id: planVivo.latestPull!.batch.id, kind: 'SYNC', private: false });
  });

  it('when a registry is only uploaded, then it is unscheduled and reports its last batch', async () => {
    const arb = (await freshnessOf()).get('arb')!;
    expect(arb).toMatchObject({ status: 'UNSCHEDULED', flags: [], schedule: null, latestPull: null, missingRecords: null, lastBatch: { kind: 'UPLOAD', private: false } });
    expect((await freshnessOf()).get('verra')).toMatchObject({ status: 'UNSCHEDULED', lastBatch: null });
  });

  it('when an organization uploaded a private copy, then neither the public nor the organization itself sees it counted', async () => {
    for (const key of [undefined, readerKey]) {
      const planVivo = (await freshnessOf(key)).get('plan-vivo')!;
      expect(Number(planVivo.lastBatch!.id)).not.toBe(privateBatch);
      expect(planVivo.latestPull!.rows).toBe(capturedRows - 1);
    }
  });

  it('when /metrics is scraped, then each reported registry has its status, flags, age, rows, tonnes and missing records as gauges', async () => {
    const text = await (await fetch(`${api.url}/metrics`)).text();
    const heldKept = captured.holdings.slice(1).reduce((s, h) => s + Number(h.holdingQuantity), 0);
    expect(text).toContain('tally_source_status{registry="plan-vivo",status="fresh"} 1');
    expect(text).toContain('tally_source_status{registry="plan-vivo",status="stale"} 0');
    expect(text).toContain('tally_source_status{registry="arb",status="unscheduled"} 1');
    expect(text).toContain('tally_source_flag{registry="plan-vivo",flag="shrank"} 1');
    expect(text).toContain('tally_source_flag{registry="plan-vivo",flag="not-answering"} 0');
    expect(text).toContain(`tally_source_rows{registry="plan-vivo"} ${capturedRows - 1}`);
    expect(text).toContain(`tally_source_tonnes{registry="plan-vivo",measure="listed"} ${heldKept}`);
    expect(text).toContain('tally_source_missing_records{registry="plan-vivo"} 1');
    expect(text).toMatch(/tally_source_age_seconds\{registry="plan-vivo"\} \d+/);
    expect(text).not.toContain('registry="verra"');
  });
});
