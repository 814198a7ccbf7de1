import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bioCarbon } from '../../connectors/biocarbon/index.ts';
import { parseBioCarbonSerial } from '../../connectors/biocarbon/serial.ts';
import { HttpClient } from '../../connectors/runtime/http.ts';
import { BatchRejected } from '../../jobs/ingest.ts';
import { ingestFile } from '../../jobs/ingest-file.ts';
import { readSources } from '../../jobs/scheduler.ts';
import { sourceConfig, syncSource } from '../../jobs/sync.ts';
import { rows, type Database } from '../../schema/database.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startReplayServer, type RecordedRequest, type ReplayResponse, type ReplayServer, type ScriptedResponse } from '../helpers/replay-server.ts';

// BioCarbon's API mode (Global CarbonTrace) against a local server that serves the real captured
// bodies (test/fixtures/api-captures/biocarbon-*.json) as the live Laravel API serves them: the project
// list in its two captured pages (5 a page), the 144 issued blocks in one page, the 60 retirements in
// two pages (40 a page), a detail and a cancellation list per project, and the 403-inside-a-200 it
// answers a request without the public x-api-key. Totals are computed here from the capture files.

type Entity = Record<string, unknown>;
type Paginator = { data: Entity[]; total: number; last_page: number; current_page: number; per_page: number };
const capture = <T>(name: string) => JSON.parse(readFileSync(new URL(`../fixtures/api-captures/${name}`, import.meta.url), 'utf8')) as T;
const captureFile = (name: string) => new URL(`../fixtures/api-captures/${name}`, import.meta.url);
const projectPages = [capture<Paginator>('biocarbon-projects-page1.json'), capture<Paginator>('biocarbon-projects-page2.json')];
const credits = capture<Paginator>('biocarbon-carbon-credits.json');
const retirementPages = [capture<Paginator>('biocarbon-retreats-page1.json'), capture<Paginator>('biocarbon-retreats-page2.json')];
const details = capture<Record<string, Entity>>('biocarbon-details.json');
const cancellations = capture<Record<string, { status: number; data: Entity[] }>>('biocarbon-cancellations.json');

const KEY = 'SboCiHaHxtC2xRM92hpBjy1S2Y5La7IwjeB76z';
/** The API's quantities: `"299,564"` or `299564`. */
const units = (value: unknown) => Number(String(value).replace(/,/g, ''));
const sum = (list: Entity[], field: string) => list.reduce((s, e) => s + units(e[field]), 0);
const projects = projectPages.flatMap((p) => p.data);
const retirements = retirementPages.flatMap((p) => p.data);
const cancelled = Object.values(cancellations).flatMap((c) => c.data);
const projectIds = projects.map((p) => String(p.id));

const config = (url: string, more: Record<string, unknown> = {}) => ({
  baseUrl: `${url}/api`, perPage: 1000, minIntervalMs: 0, baseDelayMs: 1, retries: 2, timeoutMs: 5_000, ...more,
});

async function ledger(db: Database) {
  const [t] = await rows<Record<string, number | string>>(db, sql`select
    (select count(*)::int from projects where registry_id = 'biocarbon') as projects,
    (select count(*)::int from issuances where registry_id = 'biocarbon') as issuances,
    (select coalesce(sum(quantity), 0)::text from issuances where registry_id = 'biocarbon') as issued,
    (select count(*)::int from unit_blocks where registry_id = 'biocarbon' and status = 'retired') as retired_blocks,
    (select coalesce(sum(quantity), 0)::text from unit_blocks where registry_id = 'biocarbon' and status = 'retired') as retired,
    (select count(*)::int from unit_blocks where registry_id = 'biocarbon' and status = 'cancelled') as cancelled_blocks,
    (select coalesce(sum(quantity), 0)::text from unit_blocks where registry_id = 'biocarbon' and status = 'cancelled') as cancelled,
    (select coalesce(sum(quantity), 0)::text from events where registry_id = 'biocarbon' and kind = 'issued') as issued_events,
    (select coalesce(sum(quantity), 0)::text from events where registry_id = 'biocarbon' and kind = 'retired') as retired_events,
    (select coalesce(sum(quantity), 0)::text from events where registry_id = 'biocarbon' and kind = 'cancelled') as cancelled_events`);
  return t!;
}

/** Everything the ledger holds for BioCarbon, without ids or batch numbers: what two ways in must agree on. */
async function contents(db: Database) {
  return {
    projects: await rows(db, sql`select registry_project_id, name, proponent, country, methodologies, methodology_unmatched, status, status_raw,
        crediting_period_start, crediting_period_end, registered_on, latitude, longitude, co_benefits, registry_url, other_programs
      from projects where registry_id = 'biocarbon' order by registry_project_id`),
    issuances: await rows(db, sql`select p.registry_project_id, i.issuance_key, i.quantity::text, i.vintage_start, i.vintage_end, i.vintage_year,
        i.issued_on, i.credit_type, i.number_space, i.serial_start, i.serial_end
      from issuances i join projects p on p.id = i.project_id where i.registry_id = 'biocarbon' order by i.issuance_key`),
    blocks: await rows(db, sql`select b.block_key, p.registry_project_id, i.issuance_key, b.number_space, b.serial_start, b.serial_end, b.quantity::text,
        b.status, b.status_date, b.vintage_year, b.credit_type, b.retirement_beneficiary, b.retirement_reason, b.retirement_purpose,
        b.retirement_details, b.account_holder
      from unit_blocks b join projects p on p.id = b.project_id left join issuances i on i.id = b.issuance_id
      where b.registry_id = 'biocarbon' order by b.block_key`),
    events: await rows(db, sql`select kind, quantity::text, occurred_on, vintage_year, count(*)::int as n from events
      where registry_id = 'biocarbon' group by 1, 2, 3, 4 order by 1, 2, 3, 4`),
  };
}

describe('BioCarbon serials', () => {
  it('when every captured serial is parsed, then its range holds the record\'s quantity in its issued block\'s number space', () => {
    for (const e of credits.data) {
      const parsed = parseBioCarbonSerial(e.serial);
      expect(parsed.ok, String(e.serial)).toBe(true);
      if (!parsed.ok) continue;
      expect(parsed.range.end - parsed.range.start + 1).toBe(units(e.amount));
      expect(parsed.range.start).toBe(1);
    }
    const blocks = new Set(credits.data.map((e) => (parseBioCarbonSerial(e.serial) as { range: { numberSpace: string } }).range.numberSpace));
    expect(blocks.size).toBe(credits.data.length);
    for (const e of [...retirements, ...cancelled]) {
      const parsed = parseBioCarbonSerial(e.serial);
      expect(parsed.ok, String(e.serial)).toBe(true);
      if (parsed.ok) expect(blocks.has(parsed.range.numberSpace), String(e.serial)).toBe(true);
    }
    expect(parseBioCarbonSerial('BCR-CO-259-14-002-2-2401-2409-0043903-0043804')).toMatchObject({ ok: false, error: expect.stringMatching(/end 43803|before start/) });
    expect(parseBioCarbonSerial('BCR-CO-259-14-002-2-2413-2409-0000001-0000002')).toMatchObject({ ok: false, error: expect.stringMatching(/YYMM/) });
    expect(parseBioCarbonSerial('VCS-1234')).toMatchObject({ ok: false });
  });
});

describe('BioCarbon API mode', () => {
  let t: TestDatabase;
  let db: Database;
  let server: ReplayServer;
  /** Per route, answers served before the captured ones (faults). */
  let scripted: Record<string, ((req: RecordedRequest) => ReplayResponse)[]>;

  /** Each route refuses a request without the public key as the live API does, at HTTP 200; else a fault script, else the capture. */
  const route = (path: string, name: string, served: (req: RecordedRequest) => ReplayResponse) => ({
    path: `/api/ghg/${path}`,
    responses: [(req: RecordedRequest) => {
      if (req.headers['x-api-key'] !== KEY) return { json: { status: 403, data: [], message: 'You do not have permissions to perform this action.' } };
      return scripted[name]?.shift()?.(req) ?? served(req);
    }] as ScriptedResponse[],
  });
  /** The captured pages by the page asked for, whatever page size was asked: the captures were taken at 5 and 40 a page. */
  const paged = (files: string[]) => (req: RecordedRequest): ReplayResponse => {
    const file = files[Number(req.query.page ?? '1') - 1];
    return file ? { file: captureFile(file) } : { status: 404, json: { message: 'Not Found' } };
  };

  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    server = await startReplayServer([
      route('projects', 'projects', paged(['biocarbon-projects-page1.json', 'biocarbon-projects-page2.json'])),
      route('carbon-credits', 'carbon-credits', paged(['biocarbon-carbon-credits.json'])),
      route('retreats', 'retreats', paged(['biocarbon-retreats-page1.json', 'biocarbon-retreats-page2.json'])),
      ...projectIds.map((id) => route(`projects/${id}`, 'detail', () => ({ json: details[id] }))),
      ...projectIds.map((id) => route(`carbon-credits/project/${id}/cancellations`, 'cancellations', () => ({ json: cancellations[id] }))),
    ]);
  });
  beforeEach(() => {
    scripted = {};
  });
  afterAll(async () => {
    await server.close();
    await t.close();
  });

  it('when the registry is pulled, then every stream reconciles with the registry\'s totals and the ledger holds what the captures hold', async () => {
    const summary = await syncSource(db, 'biocarbon', { config: config(server.url) });
    expect(summary).toMatchObject({ status: 'committed', rowsRejected: 0 });
    // Each list states its total; the pull ends when it has them all.
    expect([projectPages[0]!.total, credits.total, retirementPages[0]!.total]).toEqual([projects.length, credits.data.length, retirements.length]);
    expect(summary.rowsRead).toBe(projects.length * 2 + credits.data.length + retirements.length + cancelled.length);

    const got = await ledger(db);
    const expected = {
      projects: new Set(projectIds).size,
      issuances: credits.data.length,
      issued: String(sum(credits.data, 'amount')),
      retired_blocks: retirements.length,
      retired: String(sum(retirements, 'sold')),
      cancelled_blocks: cancelled.length,
      cancelled: String(sum(cancelled, 'amount')),
    };
    expect({ ...got, issued: String(Number(got.issued)), retired: String(Number(got.retired)), cancelled: String(Number(got.cancelled)) }).toMatchObject(expected);
    expect([Number(got.issued_events), Number(got.retired_events), Number(got.cancelled_events)])
      .toEqual([sum(credits.data, 'amount'), sum(retirements, 'sold'), sum(cancelled, 'amount')]);

    // Every retirement and cancellation sits in an issued block of its project.
    const [orphans] = await rows<{ n: number }>(db, sql`select count(*)::int as n from unit_blocks where registry_id = 'biocarbon' and issuance_id is null`);
    expect(orphans!.n).toBe(0);

    // The detail says project 22 migrated from the CDM; project 116's reversed period is left out, with a warning.
    const [migrated] = await rows<{ other_programs: unknown; crediting_period_start: string | null }>(db,
      sql`select other_programs, crediting_period_start from projects where key = 'biocarbon:22'`);
    expect(migrated!.other_programs).toEqual([{ program: 'Clean Development Mechanism', relation: 'converted-from', field: 'migration_standard_name' }]);
    const [reversed] = await rows<Record<string, unknown>>(db, sql`select crediting_period_start, crediting_period_end, latitude, longitude, country from projects where key = 'biocarbon:116'`);
    expect(reversed).toEqual({ crediting_period_start: null, crediting_period_end: null, latitude: 10.3034, longitude: 11.1716, country: 'NG' });
    expect(summary.warnings.filter((w) => w.code === 'period-reversed')).toHaveLength(2);

    // Every request carried the public key; the lists were walked page by page.
    expect(server.requests.every((r) => r.headers['x-api-key'] === KEY)).toBe(true);
    const pages = (path: string) => server.requests.filter((r) => r.path === `/api/ghg/${path}`).map((r) => r.query.page);
    expect(pages('projects')).toEqual(['1', '2']);
    expect(pages('retreats')).toEqual(['1', '2']);
    expect(server.requests.filter((r) => /\/cancellations$/.test(r.path))).toHaveLength(projectIds.length);
  });

  it('when the registry is pulled again, then nothing new is stored', async () => {
    const before = { totals: await ledger(db), all: await contents(db) };
    const summary = await syncSource(db, 'biocarbon', { config: config(server.url) });
    expect(summary.rawRecords.new).toBe(0);
    expect(summary.blocks.new + summary.blocks.changed + summary.blocks.superseded).toBe(0);
    expect(summary.issuances.new + summary.issuances.changed).toBe(0);
    expect(summary.events.new).toBe(0);
    expect({ totals: await ledger(db), all: await contents(db) }).toEqual(before);
  });

  it('when the registry answers 429 with Retry-After and then 500, then the client waits as asked and the pull succeeds', async () => {
    scripted.retreats = [() => ({ status: 429, headers: { 'retry-after': '1' }, json: { message: 'Too Many Attempts.' } }), () => ({ status: 500, body: 'Server Error' })];
    const first = server.requests.length;
    const summary = await syncSource(db, 'biocarbon', { config: config(server.url) });
    expect(summary.status).toBe('committed');
    const retreats = server.requests.slice(first).filter((r) => r.path === '/api/ghg/retreats');
    expect(retreats.map((r) => r.query.page)).toEqual(['1', '1', '1', '2']);
    expect(retreats[1]!.at - retreats[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('when a page comes back as an HTML page with status 200, then the sync fails, says so, and the ledger is unchanged', async () => {
    const before = await ledger(db);
    scripted['carbon-credits'] = [() => ({ status: 200, headers: { 'content-type': 'text/html' }, body: '<!DOCTYPE html><html><head><title>Global CarbonTrace</title></head><body></body></html>' })];
    const error = await syncSource(db, 'biocarbon', { config: config(server.url) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchRejected);
    expect((error as BatchRejected).summary.failure).toMatch(/HTML page.*Global CarbonTrace/);
    expect(await ledger(db)).toEqual(before);
  });

  it('when the key is wrong, then the refusal inside the HTTP 200 fails the sync with what to do, instead of reading an empty registry', async () => {
    const before = await ledger(db);
    const error = await syncSource(db, 'biocarbon', { config: config(server.url, { apiKey: 'rotated' }) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchRejected);
    expect((error as BatchRejected).summary.failure).toMatch(/projects page 1: the API refused the request inside an HTTP 200 \(status 403.*apiKey/);
    expect(await ledger(db)).toEqual(before);
  });

  it('when the registry reports more retirements than it serves, then the pull does not reconcile and nothing is stored', async () => {
    const before = await ledger(db);
    const inflated = retirementPages.map((p) => ({ ...p, total: p.total + 1 }));
    scripted.retreats = [() => ({ json: inflated[0] }), () => ({ json: inflated[1] })];
    const error = await syncSource(db, 'biocarbon', { config: config(server.url) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchRejected);
    expect((error as BatchRejected).summary.failure).toMatch(`biocarbon retirements: received ${retirements.length} records but the registry reports ${retirements.length + 1} (total)`);
    expect(await ledger(db)).toEqual(before);
  });

  it('when the registry ignores the page asked for, then the pull stops rather than read page 1 twice', async () => {
    scripted.projects = [paged(['biocarbon-projects-page1.json']), () => ({ file: captureFile('biocarbon-projects-page1.json') })];
    const error = await syncSource(db, 'biocarbon', { config: config(server.url) }).catch((e: unknown) => e);
    expect((error as BatchRejected).summary.failure).toMatch(/projects: asked for page 2 and was served page 1/);
  });

  it('when the source is checked, then it reports the registry\'s own totals', async () => {
    const api = bioCarbon.api!;
    const settings = sourceConfig(bioCarbon as never, config(server.url));
    const http = new HttpClient(api.http(settings));
    try {
      expect(await api.check(http, settings)).toBe(`biocarbon: ${projects.length} projects, ${credits.data.length} issued blocks and ${retirements.length} retirements on Global CarbonTrace`);
    } finally {
      await http.close();
    }
  });

  it('when the saved responses are ingested as files, then the ledger is the one the API pull built', async () => {
    const other = await openTestDatabase();
    try {
      const sample = (name: string) => new URL(`../fixtures/registry-samples/biocarbon/${name}`, import.meta.url).pathname;
      for (const name of ['projects-page1.json', 'projects-page2.json', 'project-details.json', 'carbon-credits.json', 'retreats-page1.json', 'retreats-page2.json', 'cancellations.json']) {
        const summary = await ingestFile(other.handle.db, sample(name));
        expect(summary, name).toMatchObject({ status: 'committed', rowsRejected: 0 });
        expect(summary.format, name).toMatch(/^biocarbon-/);
      }
      expect(await contents(other.handle.db)).toEqual(await contents(db));
      // The same file twice changes nothing.
      const again = await ingestFile(other.handle.db, sample('retreats-page1.json'));
      expect([again.rawRecords.new, again.blocks.new, again.blocks.changed, again.events.new]).toEqual([0, 0, 0, 0]);
    } finally {
      await other.close();
    }
  });

  it('when a retirement\'s serial disagrees with its quantity or its own range fields, then the row is rejected with its locator', () => {
    const [retirementStream] = bioCarbon.api!.streams(sourceConfig(bioCarbon as never, {})).filter((s) => s.name === 'retirements');
    const e = retirements[0]!;
    const wrongQuantity = retirementStream!.map({ stream: 'retirements', locator: 'retreats page 1 item 1', payload: { ...e, sold: '101' } });
    expect(wrongQuantity.errors).toEqual([expect.objectContaining({ code: 'serial-quantity-mismatch', message: expect.stringMatching(/^retreats page 1 item 1: serial: 100 units .* says 101/) })]);
    const wrongField = retirementStream!.map({ stream: 'retirements', locator: 'item 2', payload: { ...e, initial_serial: 1 } });
    expect(wrongField.errors).toEqual([expect.objectContaining({ field: 'initial_serial', code: 'serial-fields-mismatch' })]);
  });

  it('when BioCarbon is configured as a scheduled source, then the scheduler accepts its configuration and refuses a page size the API does not serve', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tally-sources-'));
    try {
      const path = join(dir, 'sources.json');
      writeFileSync(path, JSON.stringify({ biocarbon: { schedule: '0 4 * * *', config: { perPage: 500, projectDetails: false } } }));
      expect(readSources(path)).toEqual([{ registry: 'biocarbon', schedule: '0 4 * * *', config: { perPage: 500, projectDetails: false } }]);
      writeFileSync(path, JSON.stringify({ biocarbon: { schedule: '0 4 * * *', config: { perPage: 10_000 } } }));
      expect(() => readSources(path)).toThrow(/biocarbon configuration is invalid: perPage/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
