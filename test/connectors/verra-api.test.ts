import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BatchRejected } from '../../jobs/ingest.ts';
import { syncSource } from '../../jobs/sync.ts';
import { rows, type Database } from '../../schema/database.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { capturedEntity, platformSearch, type Entity } from '../helpers/platform-emulator.ts';
import { startReplayServer, type ReplayServer, type ScriptedResponse } from '../helpers/replay-server.ts';

// Verra's API mode against a local server that answers like the S&P platform, from entities shaped
// exactly as the captured ones (test/fixtures/api-captures/verra-*-first-entity.json), with varied ids,
// serials, vintages and countries. The window is 1,000 here (10,000 live) so partitioning is exercised
// on a data set small enough for a test.

const WINDOW = 1_000;
const COUNTRIES = ['India', 'Brazil', 'China', 'Kenya'];
const VINTAGES = ['2019', '2020', '2021', '2022', '2020 - 2021'];

function buildRegistry() {
  const project = capturedEntity('verra-projects-first-entity.json');
  const issuance = capturedEntity('verra-issuances-first-entity.json');
  const retirement = capturedEntity('verra-retirements-first-entity.json');
  const cancellation = capturedEntity('verra-cancellations-first-entity.json');
  const projects: Entity[] = [];
  const issuances: Entity[] = [];
  const retirements: Entity[] = [];
  const cancellations: Entity[] = [];
  let entityId = 110200000000000;
  let serial = 900_000_000;
  let batch = 20000;
  for (let p = 0; p < 12; p += 1) {
    const id = String(4000 + p);
    const countryName = COUNTRIES[p % COUNTRIES.length]!;
    projects.push({ ...project, entityId: entityId++, id: String(entityId), vcsProjectId: id, projectId: Number(id), projectName: `Project ${id}`, countryName, status: 'Registered' });
    for (const vintage of VINTAGES) {
      const [from, to] = vintage.split(' - ');
      const years = { start: `0101${from}`, end: `3112${to ?? from}` };
      const size = 5_000;
      const first = serial;
      const serialNo = (s: number, e: number) => `${batch}-${s}-${e}-VCS-VCU-500-VER-IN-1-${id}-${years.start}-${years.end}-0`;
      issuances.push({ ...issuance, entityId: entityId++, vcsProjectId: id, projectId: Number(id), projectName: `Project ${id}`, countryName, vintage, holdingQuantity: size, serialNo: serialNo(first, first + size - 1), issueDate: `20${23 + (p % 3)}-03-0${1 + (p % 8)}T10:00:00`, unitsIssuedInPermanenceBufferAccount: 0 });
      // The 2021 vintage of India gets enough retirements to need a second split, by country.
      const count = vintage === '2021' ? (countryName === 'India' ? 300 : 120) : 10;
      for (let r = 0; r < count; r += 1) {
        const s = first + r * 10;
        retirements.push({ ...retirement, entityId: entityId++, vcsProjectId: id, projectId: Number(id), projectName: `Project ${id}`, countryName, vintage, holdingQuantity: 10, serialNo: serialNo(s, s + 9), retiredDate: `2026-0${1 + (r % 9)}-15T12:00:00` });
      }
      const c = first + size - 100;
      cancellations.push({ ...cancellation, entityId: entityId++, vcsProjectId: id, projectId: Number(id), countryName, vintage, holdingQuantity: 100, serial_no: serialNo(c, c + 99), cancellation_date: '2026-06-02T00:00:00' });
      serial += size;
      batch += 1;
    }
  }
  return { project: projects, issuances, retirements, cancellations };
}

const config = (url: string) => ({ baseUrl: `${url}/es/public`, window: WINDOW, pageSize: 100, minIntervalMs: 0, baseDelayMs: 1, retries: 2, timeoutMs: 5_000 });

async function ledger(db: Database) {
  const [t] = await rows<Record<string, number | string>>(db, sql`select
    (select count(*)::int from projects where registry_id = 'verra') as projects,
    (select count(*)::int from issuances where registry_id = 'verra') as issuances,
    (select coalesce(sum(quantity), 0)::text from issuances where registry_id = 'verra') as issued,
    (select count(*)::int from unit_blocks where registry_id = 'verra' and status = 'retired') as retired_blocks,
    (select coalesce(sum(quantity), 0)::text from unit_blocks where registry_id = 'verra' and status = 'retired') as retired,
    (select coalesce(sum(quantity), 0)::text from unit_blocks where registry_id = 'verra' and status = 'cancelled') as cancelled,
    (select coalesce(sum(quantity), 0)::text from events where registry_id = 'verra' and kind = 'issued') as issued_events`);
  return t!;
}

describe('Verra API mode (S&P Global platform)', () => {
  const data = buildRegistry();
  let t: TestDatabase;
  let db: Database;
  let server: ReplayServer;
  let scripted: Record<string, ScriptedResponse[]>;
  const search = platformSearch(data, { window: WINDOW, knownFilters: ['vintage', 'countryName'] });

  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    const routes = Object.keys(data).map((resource) => ({
      method: 'POST',
      path: `/es/public/${resource}/publicReportPageSearch`,
      // Each resource answers from a per-test script first (faults), then from the data set.
      responses: [(req: Parameters<typeof search>[0]) => (scripted[resource]?.shift() as ((r: typeof req) => ReturnType<typeof search>) | undefined)?.(req) ?? search(req)] as ScriptedResponse[],
    }));
    server = await startReplayServer(routes);
  });
  beforeEach(() => {
    scripted = {};
  });
  afterAll(async () => {
    await server.close();
    await t.close();
  });

  it('when the registry is pulled, then every stream reconciles and the ledger holds exactly what it serves', async () => {
    const summary = await syncSource(db, 'verra', { config: config(server.url) });
    expect(summary.status).toBe('committed');
    expect(summary.rowsRejected).toBe(0);

    const expected = {
      projects: data.project.length,
      issuances: data.issuances.length,
      issued: data.issuances.reduce((s, e) => s + Number(e.holdingQuantity), 0),
      retired_blocks: data.retirements.length,
      retired: data.retirements.reduce((s, e) => s + Number(e.holdingQuantity), 0),
      cancelled: data.cancellations.reduce((s, e) => s + Number(e.holdingQuantity), 0),
    };
    const got = await ledger(db);
    expect({ ...got, issued: Number(got.issued), retired: Number(got.retired), cancelled: Number(got.cancelled) })
      .toMatchObject(expected);
    expect(Number(got.issued_events)).toBe(expected.issued);

    // 2,460 retirements exceed the 1,000 window: split by vintage, and the 2021 vintage again by country.
    const retirementFilters = server.requests.filter((r) => r.path.includes('/retirements/')).map((r) => Object.keys((r.body as { searchFilter: { filterModel: object } }).searchFilter.filterModel).join('+'));
    expect(retirementFilters).toContain('vintage');
    expect(retirementFilters).toContain('vintage+countryName');
    const pageSizes = server.requests.map((r) => (r.body as { searchFilter: { pagination: { limit: number; sortOptions: { sort: string }[] } } }).searchFilter.pagination);
    expect(pageSizes.every((p) => p.limit <= 400 && p.sortOptions[0]?.sort === 'entityId')).toBe(true);
  });

  it('when the registry is pulled again, then nothing new is stored', async () => {
    const before = await ledger(db);
    const summary = await syncSource(db, 'verra', { config: config(server.url) });
    expect(summary.rawRecords.new).toBe(0);
    expect(summary.blocks.new + summary.blocks.changed).toBe(0);
    expect(summary.events.new).toBe(0);
    expect(await ledger(db)).toEqual(before);
  });

  it('when the registry answers 429 and 500 before it answers, then the pull succeeds', async () => {
    scripted.issuances = [() => ({ status: 429, headers: { 'retry-after': '0' }, json: { message: 'slow down' } }), () => ({ status: 500, body: 'Internal Server Error' })];
    const summary = await syncSource(db, 'verra', { config: config(server.url) });
    expect(summary.status).toBe('committed');
  });

  it('when a page comes back as an HTML page with status 200, then the sync fails, says so, and the ledger is unchanged', async () => {
    const before = await ledger(db);
    const [batchesBefore] = await rows<{ n: number }>(db, sql`select count(*)::int as n from batches where status = 'committed'`);
    scripted.retirements = [() => ({ status: 200, headers: { 'content-type': 'text/html' }, body: '<!doctype html><html><head><title>Verra Registry</title></head><body></body></html>' })];
    const error = await syncSource(db, 'verra', { config: config(server.url) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchRejected);
    expect((error as BatchRejected).summary.failure).toMatch(/HTML page.*Verra Registry/);
    expect(await ledger(db)).toEqual(before);
    const [batchesAfter] = await rows<{ n: number }>(db, sql`select count(*)::int as n from batches where status = 'committed'`);
    expect(batchesAfter!.n).toBe(batchesBefore!.n);
    const [state] = await rows<{ last_error: string; consecutive_failures: number }>(db, sql`select last_error, consecutive_failures from connector_state where connector = 'verra-api'`);
    expect(state).toMatchObject({ consecutive_failures: 1 });
    expect(state!.last_error).toMatch(/HTML/);
  });

  it('when the body is cut off on every attempt, then the sync fails with a clear error and stores nothing', async () => {
    const before = await ledger(db);
    scripted.project = [1, 2, 3, 4].map(() => (req) => ({ ...search(req), truncateAfterBytes: 50 }));
    const error = await syncSource(db, 'verra', { config: config(server.url) }).catch((e: unknown) => e);
    expect((error as BatchRejected).summary.failure).toMatch(/malformed|cut off|parse/i);
    expect(await ledger(db)).toEqual(before);
  });

  it('when the API ignores the filter a large stream would be split by, then the sync refuses rather than lose rows', async () => {
    const ignoring = platformSearch(data, { window: WINDOW, knownFilters: [] });
    scripted.retirements = Array.from({ length: 10 }, () => ignoring);
    const error = await syncSource(db, 'verra', { config: config(server.url) }).catch((e: unknown) => e);
    expect((error as BatchRejected).summary.failure).toMatch(/ignores the filter on vintage/);
  });
});
