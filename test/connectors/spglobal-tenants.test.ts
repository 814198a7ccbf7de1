import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { identifyJsonStream } from '../../connectors/index.ts';
import { HttpClient } from '../../connectors/runtime/http.ts';
import { BatchRejected } from '../../jobs/ingest.ts';
import { ingestFile } from '../../jobs/ingest-file.ts';
import { readSources } from '../../jobs/scheduler.ts';
import { apiConnector, sourceConfig, syncSource } from '../../jobs/sync.ts';
import { rows, type Database } from '../../schema/database.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { capturedEntity, standardsByRegistry, tenantSearch, type Entity, type TenantStandard } from '../helpers/platform-emulator.ts';
import { startReplayServer, type RecordedRequest, type ReplayResponse, type ReplayServer, type ScriptedResponse } from '../helpers/replay-server.ts';

// The S&P Global platform's other tenants: BC Carbon Registry (BCCR), Global Carbon Council (GCC), UK
// Land Carbon Registry (UKLR) and OxCarbon (OxCP). No capture of any of these tenants exists: the records
// served here are the captured Plan Vivo and Verra entities (test/fixtures/api-captures/planvivo-*.json,
// verra-*-first-entity.json), field for field, with each tenant's standard id and name and their own
// project ids, entity ids and serials. The standard lists the platform answers are constructed too: only
// BCCR's (140000000000001, "BC Carbon Registry", "BC") is documented; the other ids below are invented,
// and the names are the programmes' own names, which is what the connectors look for.

const PV = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/api-captures/${name}`, import.meta.url), 'utf8')) as { entities: Entity[] };
const pvProjects = PV('planvivo-projects.json').entities;
const pvIssuances = PV('planvivo-issuances.json').entities;
const pvHoldings = PV('planvivo-holdings.json').entities;
const verraRetirement = capturedEntity('verra-retirements-first-entity.json');
const verraCancellation = capturedEntity('verra-cancellations-first-entity.json');

type Tenant = { registry: string; code: string; standards: TenantStandard[] };
const TENANTS: Tenant[] = [
  { registry: 'bc-carbon-registry', code: 'BCCR', standards: [{ id: '140000000000001', acronym: 'BC', name: 'BC Carbon Registry' }] },
  { registry: 'global-carbon-council', code: 'GCC', standards: [{ id: '160000000000001', acronym: 'GCC', name: 'Global Carbon Council' }] },
  {
    registry: 'uk-land-carbon-registry',
    code: 'UKLR',
    standards: [
      { id: '170000000000001', acronym: 'WCC', name: 'Woodland Carbon Code', publicReports: { PROJECTS: true, ISSUANCES_LISTINGS: true, HOLDINGS: true, RETIREMENTS: true, CANCELLATIONS: true } },
      // A report a standard does not publish is never asked for: the platform would answer a 500.
      { id: '170000000000002', acronym: 'PC', name: 'Peatland Code', publicReports: { PROJECTS: true, ISSUANCES_LISTINGS: true, HOLDINGS: true, RETIREMENTS: true, CANCELLATIONS: false } },
    ],
  },
  { registry: 'oxcarbon', code: 'OxCP', standards: [{ id: '180000000000001', acronym: 'OxC', name: 'OxCarbon' }] },
];
const RESOURCES = ['project', 'issuances', 'holdings', 'retirements', 'cancellations'] as const;
type Data = Record<(typeof RESOURCES)[number], Entity[]>;

let nextEntity = 990_000_000_000_000;
/** One standard's records: the captured ones re-keyed to their own projects, entities and serials. */
function recordsOf(standard: TenantStandard, projectBase: number): Data {
  const as = (e: Entity, projectId: number): Entity => {
    const oldId = String(e.projectId);
    const reSerial = (serial: unknown) => (typeof serial === 'string' ? serial.replace(`-${oldId}-`, `-${projectId}-`) : serial);
    return {
      ...e, id: String(nextEntity), entityId: nextEntity++, standardId: Number(standard.id), standardName: standard.name,
      projectId, publicProjectId: projectId,
      ...('serialNo' in e ? { serialNo: reSerial(e.serialNo) } : {}),
      ...('serial_no' in e ? { serial_no: reSerial(e.serial_no) } : {}),
    };
  };
  const projectOf = new Map(pvProjects.map((p, i) => [String(p.projectId), projectBase + i]));
  const mapped = (e: Entity) => as(e, projectOf.get(String(e.projectId))!);
  const data: Data = {
    project: pvProjects.map(mapped),
    issuances: pvIssuances.map(mapped),
    holdings: pvHoldings.map(mapped),
    // Verra's retirement and cancellation shapes, moved onto this standard's first project, three each.
    retirements: [0, 1, 2].map((i) => {
      const e = as(verraRetirement, projectBase);
      return { ...e, holdingQuantity: 10 + i, serialNo: `${String(e.serialNo)}-R${i}`, retiredDate: `2026-0${i + 1}-15T10:00:00` };
    }),
    cancellations: [0, 1, 2].map((i) => {
      const e = as(verraCancellation, projectBase + 1);
      return { ...e, holdingQuantity: 100 + i, serial_no: `${String(e.serial_no)}-C${i}`, cancellation_date: `2026-0${i + 4}-02T00:00:00` };
    }),
  };
  // A standard that keeps a report private has none of its records to serve.
  for (const r of RESOURCES) {
    const report = { project: 'PROJECTS', issuances: 'ISSUANCES_LISTINGS', holdings: 'HOLDINGS', retirements: 'RETIREMENTS', cancellations: 'CANCELLATIONS' }[r];
    if (standard.publicReports?.[report] === false) data[r] = [];
  }
  return data;
}

const data = new Map<string, Data>();
for (const [t, tenant] of TENANTS.entries()) {
  const merged: Data = { project: [], issuances: [], holdings: [], retirements: [], cancellations: [] };
  for (const [s, standard] of tenant.standards.entries()) {
    const records = recordsOf(standard, 800_000_000 + 1_000 * t + 10 * s);
    for (const r of RESOURCES) merged[r].push(...records[r]);
  }
  data.set(tenant.registry, merged);
}
const sum = (list: Entity[]) => list.reduce((s, e) => s + Number(e.holdingQuantity), 0);
const config = (url: string, more: Record<string, unknown> = {}) => ({
  baseUrl: `${url}/es/public`, cmsBaseUrl: `${url}/cms-resources`, pageSize: 4, minIntervalMs: 0, baseDelayMs: 1, retries: 2, timeoutMs: 5_000, ...more,
});

async function ledger(db: Database, registry: string) {
  const [t] = await rows<Record<string, number>>(db, sql`select
    (select count(*)::int from projects where registry_id = ${registry}) as projects,
    (select count(*)::int from issuances where registry_id = ${registry}) as issuances,
    (select coalesce(sum(quantity), 0)::int from issuances where registry_id = ${registry}) as issued,
    (select count(*)::int from unit_blocks where registry_id = ${registry} and status in ('held', 'buffer')) as held_blocks,
    (select coalesce(sum(quantity), 0)::int from unit_blocks where registry_id = ${registry} and status in ('held', 'buffer')) as held,
    (select count(*)::int from unit_blocks where registry_id = ${registry} and status = 'retired') as retired_blocks,
    (select coalesce(sum(quantity), 0)::int from unit_blocks where registry_id = ${registry} and status = 'retired') as retired,
    (select count(*)::int from unit_blocks where registry_id = ${registry} and status = 'cancelled') as cancelled_blocks,
    (select coalesce(sum(quantity), 0)::int from unit_blocks where registry_id = ${registry} and status = 'cancelled') as cancelled,
    (select count(*)::int from unit_blocks where registry_id = ${registry} and (serial_raw is null or number_space is not null)) as parsed_serials`);
  return t!;
}

async function contents(db: Database, registry: string) {
  return {
    projects: await rows(db, sql`select registry_project_id, name, proponent, country, status, status_raw, crediting_period_start, crediting_period_end,
        registered_on, latitude, longitude from projects where registry_id = ${registry} order by registry_project_id`),
    issuances: await rows(db, sql`select p.registry_project_id, i.issuance_key, i.quantity::text, i.vintage_start, i.vintage_end, i.vintage_year, i.issued_on,
        i.credit_type from issuances i join projects p on p.id = i.project_id where i.registry_id = ${registry} order by i.issuance_key`),
    blocks: await rows(db, sql`select b.block_key, p.registry_project_id, b.serial_raw, b.quantity::text, b.status, b.status_date, b.vintage_year,
        b.credit_type, b.account_holder, b.retirement_reason, b.retirement_details from unit_blocks b join projects p on p.id = b.project_id
      where b.registry_id = ${registry} order by b.block_key`),
  };
}

describe('S&P Global platform tenants', () => {
  let t: TestDatabase;
  let db: Database;
  let server: ReplayServer;
  /** Per tenant code: faults served before the data set's answers. */
  let scripted: Record<string, ((req: RecordedRequest) => ReplayResponse)[]>;
  /** Per tenant code: the standard list the platform answers, when a test replaces it. */
  let listed: Record<string, TenantStandard[]>;
  /** Per tenant code: replaces the data set's answer (a saved response, an inflated total). */
  let answer: Record<string, (req: RecordedRequest, served: ReplayResponse) => ReplayResponse>;

  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    const byCode = new Map(TENANTS.map((tenant) => [tenant.code, tenant]));
    server = await startReplayServer([
      ...TENANTS.map((tenant) => ({
        path: `/cms-resources/public/standardsByRegistry/${tenant.code}`,
        responses: [() => standardsByRegistry(listed[tenant.code] ?? tenant.standards)] as ScriptedResponse[],
      })),
      ...RESOURCES.map((resource) => ({
        method: 'POST',
        path: `/es/public/${resource}/publicReportPageSearch`,
        responses: [(req: RecordedRequest) => {
          const tenant = byCode.get(String(req.headers.registry));
          if (!tenant) return { status: 500, json: { status: 500, message: 'Internal Server Error' } };
          const fault = scripted[tenant.code]?.shift();
          if (fault) return fault(req);
          const served = tenantSearch(tenant.code, tenant.standards, data.get(tenant.registry)!, { window: 10_000, knownFilters: [] })(req);
          return answer[tenant.code]?.(req, served) ?? served;
        }] as ScriptedResponse[],
      })),
    ]);
  });
  beforeEach(() => {
    scripted = {};
    listed = {};
    answer = {};
  });
  afterAll(async () => {
    await server.close();
    await t.close();
  });

  for (const tenant of TENANTS) {
    it(`when ${tenant.registry} (${tenant.code}) is pulled, then it sends its tenant's headers and each standard's ids, and the ledger holds what it serves`, async () => {
      const first = server.requests.length;
      const served = data.get(tenant.registry)!;
      const summary = await syncSource(db, tenant.registry, { config: config(server.url) });
      expect(summary).toMatchObject({ status: 'committed', rowsRejected: 0, rowsRead: RESOURCES.reduce((n, r) => n + served[r].length, 0) });
      expect(await ledger(db, tenant.registry)).toEqual({
        projects: new Set(served.project.map((e) => e.projectId)).size,
        issuances: served.issuances.length,
        issued: sum(served.issuances),
        held_blocks: served.holdings.length,
        held: sum(served.holdings),
        retired_blocks: served.retirements.length,
        retired: sum(served.retirements),
        cancelled_blocks: served.cancellations.length,
        cancelled: sum(served.cancellations),
        // No tenant's serial format is documented: every serial is kept as written, none parsed.
        parsed_serials: 0,
      });

      const requests = server.requests.slice(first);
      const lists = requests.filter((r) => r.path.startsWith('/cms-resources/'));
      expect(lists.map((r) => r.path)).toEqual([`/cms-resources/public/standardsByRegistry/${tenant.code}`]);
      const searches = requests.filter((r) => r.method === 'POST');
      expect(searches.length).toBeGreaterThan(0);
      for (const r of searches) {
        expect(r.headers.registry).toBe(tenant.code);
        expect(tenant.standards.map((s) => `${s.id}/${s.acronym}`)).toContain(`${String(r.headers.standardid)}/${String(r.headers.standardacronym)}`);
      }
      // Every standard is read, each for the reports it publishes and no other.
      for (const standard of tenant.standards) {
        const asked = new Set(searches.filter((r) => r.headers.standardid === standard.id).map((r) => r.path.split('/').at(-2)));
        const published = RESOURCES.filter((r) => standard.publicReports?.[{ project: 'PROJECTS', issuances: 'ISSUANCES_LISTINGS', holdings: 'HOLDINGS', retirements: 'RETIREMENTS', cancellations: 'CANCELLATIONS' }[r]] !== false);
        expect([...asked].sort()).toEqual([...published].sort());
      }
    });
  }

  it('when a tenant is pulled again, then nothing new is stored', async () => {
    const registry = 'uk-land-carbon-registry';
    const before = await contents(db, registry);
    const summary = await syncSource(db, registry, { config: config(server.url) });
    expect([summary.rawRecords.new, summary.blocks.new, summary.blocks.changed, summary.blocks.superseded, summary.issuances.new, summary.events.new]).toEqual([0, 0, 0, 0, 0, 0]);
    expect(await contents(db, registry)).toEqual(before);
  });

  it('when the platform answers 429 with Retry-After and then 503, then the client waits as asked and the pull succeeds', async () => {
    scripted.GCC = [() => ({ status: 429, headers: { 'retry-after': '1' }, json: { message: 'Too Many Requests' } }), () => ({ status: 503, body: 'Service Unavailable' })];
    const first = server.requests.length;
    const summary = await syncSource(db, 'global-carbon-council', { config: config(server.url) });
    expect(summary.status).toBe('committed');
    const searches = server.requests.slice(first).filter((r) => r.method === 'POST');
    expect(searches[1]!.at - searches[0]!.at).toBeGreaterThanOrEqual(950);
    expect(searches[2]!.body).toEqual(searches[0]!.body);
  });

  it('when a page comes back as an HTML page with status 200, then the sync fails, says so, and the ledger is unchanged', async () => {
    const before = await ledger(db, 'oxcarbon');
    answer.OxCP = (req, served) => (req.path.includes('/retirements/') && (req.body as { searchFilter: { pagination: { limit: number } } }).searchFilter.pagination.limit > 1
      ? { status: 200, headers: { 'content-type': 'text/html' }, body: '<!DOCTYPE html><html><head><title>S&amp;P Global Registry</title></head></html>' }
      : served);
    const error = await syncSource(db, 'oxcarbon', { config: config(server.url) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchRejected);
    expect((error as BatchRejected).summary.failure).toMatch(/HTML page/);
    expect(await ledger(db, 'oxcarbon')).toEqual(before);
  });

  it('when the platform reports more records than it serves, then the pull does not reconcile and nothing is stored', async () => {
    const before = await ledger(db, 'bc-carbon-registry');
    answer.BCCR = (req, served) => (req.path.includes('/holdings/') ? { ...served, json: { ...(served.json as object), totalEntities: data.get('bc-carbon-registry')!.holdings.length + 2 } } : served);
    const error = await syncSource(db, 'bc-carbon-registry', { config: config(server.url) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchRejected);
    expect((error as BatchRejected).summary.failure).toMatch(/bc-carbon-registry holdings \(standard BC, 140000000000001\): no filter reported 5 records and served 3/);
    expect(await ledger(db, 'bc-carbon-registry')).toEqual(before);
  });

  it('when the platform lists no standard of the registry the tenant is taken for, then nothing is read and the message names what it lists', async () => {
    listed.OxCP = [{ id: '180000000000009', acronym: 'XYZ', name: 'Some Other Programme' }];
    const first = server.requests.length;
    const error = await syncSource(db, 'oxcarbon', { config: config(server.url) }).catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/the platform lists Some Other Programme \(180000000000009, XYZ\) for tenant OxCP, none of them named for OxCarbon/);
    expect(server.requests.slice(first).filter((r) => r.method === 'POST')).toHaveLength(0);
  });

  it('when a tenant is checked, then it names the standards it read and counts their projects', async () => {
    const connector = apiConnector('uk-land-carbon-registry');
    const settings = sourceConfig(connector, config(server.url));
    const http = new HttpClient(connector.api.http(settings));
    try {
      const projects = data.get('uk-land-carbon-registry')!.project.length;
      expect(await connector.api.check(http, settings)).toBe(`uk-land-carbon-registry: ${projects} projects on the S&P Global registry platform (tenant UKLR: Woodland Carbon Code 170000000000001, Peatland Code 170000000000002)`);
    } finally {
      await http.close();
    }
  });

  it('when the responses are saved and ingested as files, then each tenant\'s ledger is the one its API pull built', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tally-spglobal-'));
    const other = await openTestDatabase();
    try {
      for (const tenant of TENANTS) {
        for (const resource of RESOURCES) {
          // The platform's own answer, as the web app receives it: one search per standard, saved whole.
          for (const standard of tenant.standards) {
            const answerOf = tenantSearch(tenant.code, tenant.standards, data.get(tenant.registry)!, { window: 10_000, knownFilters: [] });
            const request = {
              method: 'POST', path: `/es/public/${resource}/publicReportPageSearch`, query: {}, rawBody: '', at: 0,
              headers: { registry: tenant.code, standardid: standard.id, standardacronym: standard.acronym },
              body: { searchFilter: { pagination: { start: 0, limit: 400, sortOptions: [{ sort: 'entityId', dir: 'ASC' }] }, filterModel: {} } },
            } as RecordedRequest;
            const answered = answerOf(request);
            // A report the standard keeps private has nothing to save (the platform answers a 500).
            if (answered.status === 500) continue;
            const body = answered.json as { entities: Entity[] };
            const [first] = body.entities;
            expect(identifyJsonStream(first!).connector.registry.id).toBe(tenant.registry);
            const path = join(dir, `${tenant.code}-${standard.acronym}-${resource}.json`);
            writeFileSync(path, JSON.stringify(body));
            const summary = await ingestFile(other.handle.db, path);
            expect(summary, path).toMatchObject({ status: 'committed', rowsRejected: 0 });
          }
        }
        expect(await contents(other.handle.db, tenant.registry), tenant.registry).toEqual(await contents(db, tenant.registry));
      }
    } finally {
      await other.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('when the tenants are configured as scheduled sources, then the scheduler accepts each with its configuration', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tally-sources-'));
    try {
      const path = join(dir, 'sources.json');
      const sources = Object.fromEntries(TENANTS.map((tenant, i) => [tenant.registry, { schedule: `${i} 5 * * *`, config: { pageSize: 200, cmsBaseUrl: 'https://prod-us.api.platts.com/ci-raas-prod/cms-resources' } }]));
      writeFileSync(path, JSON.stringify(sources));
      expect(readSources(path).map((s) => s.registry)).toEqual(TENANTS.map((tenant) => tenant.registry));
      writeFileSync(path, JSON.stringify({ 'uk-land-carbon-registry': { schedule: '0 5 * * *', config: { pageSize: 500 } } }));
      expect(() => readSources(path)).toThrow(/uk-land-carbon-registry configuration is invalid: pageSize/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
