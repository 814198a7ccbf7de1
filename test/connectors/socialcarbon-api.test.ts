import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpClient } from '../../connectors/runtime/http.ts';
import { socialCarbon } from '../../connectors/socialcarbon/index.ts';
import { parseSocialCarbonSerial } from '../../connectors/socialcarbon/serial.ts';
import { BatchRejected } from '../../jobs/ingest.ts';
import { ingestFile } from '../../jobs/ingest-file.ts';
import { readSources } from '../../jobs/scheduler.ts';
import { sourceConfig, syncSource } from '../../jobs/sync.ts';
import { rows, type Database } from '../../schema/database.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startReplayServer, type RecordedRequest, type ReplayResponse, type ReplayServer, type ScriptedResponse } from '../helpers/replay-server.ts';

// SocialCarbon's API mode (the registry's Bubble Data API) against a local server that serves the
// real captured bodies (test/fixtures/api-captures/socialcarbon-*.json): projects, issuances and
// cancellations in one page each, retirements in the two captured pages (cursor 0 and cursor 50).
// Bubble serves at most 100 whatever `limit` asks; the server here serves the captured pages whatever
// is asked, which is what a clamp looks like to the client. Totals are computed here from the files.

type Entity = Record<string, unknown>;
type Envelope = { response: { cursor: number; results: Entity[]; count: number; remaining: number } };
const capture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/api-captures/${name}`, import.meta.url), 'utf8')) as Envelope;
const captureFile = (name: string) => new URL(`../fixtures/api-captures/${name}`, import.meta.url);
const projects = capture('socialcarbon-projects.json').response.results;
const issuances = capture('socialcarbon-issuances.json').response.results;
const retirementPages = [capture('socialcarbon-retirements-page1.json'), capture('socialcarbon-retirements-page2.json')];
const retirements = retirementPages.flatMap((p) => p.response.results);
const cancellations = capture('socialcarbon-cancellations.json').response.results;
const sum = (list: Entity[], field: string) => list.reduce((s, e) => s + Number(e[field]), 0);

const config = (url: string) => ({ baseUrl: `${url}/api/1.1`, minIntervalMs: 0, baseDelayMs: 1, retries: 2, timeoutMs: 5_000 });

async function ledger(db: Database) {
  const [t] = await rows<Record<string, number | string>>(db, sql`select
    (select count(*)::int from projects where registry_id = 'socialcarbon') as projects,
    (select count(*)::int from issuances where registry_id = 'socialcarbon') as issuances,
    (select coalesce(sum(quantity), 0)::int from issuances where registry_id = 'socialcarbon') as issued,
    (select count(*)::int from unit_blocks where registry_id = 'socialcarbon' and status = 'retired') as retired_blocks,
    (select coalesce(sum(quantity), 0)::int from unit_blocks where registry_id = 'socialcarbon' and status = 'retired') as retired,
    (select count(*)::int from unit_blocks where registry_id = 'socialcarbon' and status = 'cancelled') as cancelled_blocks,
    (select coalesce(sum(quantity), 0)::int from unit_blocks where registry_id = 'socialcarbon' and status = 'cancelled') as cancelled,
    (select coalesce(sum(quantity), 0)::int from events where registry_id = 'socialcarbon' and kind = 'issued') as issued_events,
    (select coalesce(sum(quantity), 0)::int from events where registry_id = 'socialcarbon' and kind = 'retired') as retired_events,
    (select coalesce(sum(quantity), 0)::int from events where registry_id = 'socialcarbon' and kind = 'cancelled') as cancelled_events`);
  return t!;
}

async function contents(db: Database) {
  return {
    projects: await rows(db, sql`select registry_project_id, name, proponent, country, methodology_raw, status, status_raw, crediting_period_start,
        crediting_period_end, estimated_annual_quantity::text, latitude, longitude, co_benefits, registry_url
      from projects where registry_id = 'socialcarbon' order by registry_project_id`),
    issuances: await rows(db, sql`select p.registry_project_id, i.issuance_key, i.quantity::text, i.vintage_year, i.issued_on, i.credit_type,
        i.number_space, i.serial_start, i.serial_end
      from issuances i join projects p on p.id = i.project_id where i.registry_id = 'socialcarbon' order by i.issuance_key`),
    blocks: await rows(db, sql`select b.block_key, p.registry_project_id, i.issuance_key, b.number_space, b.serial_start, b.serial_end, b.quantity::text,
        b.status, b.status_date, b.vintage_year, b.credit_type, b.retirement_beneficiary, b.retirement_reason, b.retirement_details, b.account_holder
      from unit_blocks b join projects p on p.id = b.project_id left join issuances i on i.id = b.issuance_id
      where b.registry_id = 'socialcarbon' order by b.block_key`),
  };
}

/** Used units (retired or cancelled) that two records of one batch share: what the registry counts twice. */
function sharedUnits(): number {
  const used = [...retirements, ...cancellations].map((e) => /^(.*)-(\d+)-(\d+)$/.exec(String(e['Serial Numbers']))!)
    .map((m) => ({ batch: m[1]!, start: Number(m[2]), end: Number(m[3]) }));
  let shared = 0;
  for (const [i, a] of used.entries()) {
    for (const b of used.slice(i + 1)) {
      if (a.batch === b.batch && a.start <= b.end && b.start <= a.end) shared += Math.min(a.end, b.end) - Math.max(a.start, b.start) + 1;
    }
  }
  return shared;
}

describe('SocialCarbon serials and records', () => {
  const [projectStream, issuanceStream] = socialCarbon.api!.streams(sourceConfig(socialCarbon as never, {}));

  it('when every captured serial is parsed, then its range holds the record\'s quantity in its batch', () => {
    for (const e of issuances) {
      const parsed = parseSocialCarbonSerial(e['Serial Number Batch']);
      expect(parsed.ok, String(e['Serial Number Batch'])).toBe(true);
      if (!parsed.ok) continue;
      expect(parsed.range.end - parsed.range.start + 1).toBe(e['Quantity requested']);
      expect(parsed.range.numberSpace).toBe(`socialcarbon:${String(e.Batch_ID)}`);
    }
    for (const e of [...retirements, ...cancellations]) {
      const parsed = parseSocialCarbonSerial(e['Serial Numbers']);
      expect(parsed.ok && parsed.range.end - parsed.range.start + 1, String(e['Serial Numbers'])).toBe(e.Quantity);
    }
    expect(parseSocialCarbonSerial('SCU-SOCIALCARBON-8-USA-2023-32042024101700-1-2')).toMatchObject({ ok: false, error: expect.stringMatching(/batch stamp/) });
    expect(parseSocialCarbonSerial('SCU-SOCIALCARBON-8-USA-2023-09042024101700-9-2')).toMatchObject({ ok: false, error: expect.stringMatching(/before start/) });
  });

  it('when a project is mapped, then its Bubble dates give back the day that was typed and its _id is the key', () => {
    const southAfrica = projectStream!.map({ stream: 'projects', locator: 'p', payload: projects[0]! });
    expect(southAfrica.records[0]).toMatchObject({
      registryProjectId: projects[0]!._id, name: 'Spekboom Regeneration and Carbon Sequestration', country: 'South Africa',
      // 2023-01-31T22:00:00.000Z is South Africa's 1 February.
      creditingPeriodStart: '2023-02-01', creditingPeriodEnd: '2033-02-01', status: 'listed',
    });
    const india = projects.find((p) => p['Project ID'] === 'SOCIALCARBON-9')!;
    expect(projectStream!.map({ stream: 'projects', locator: 'p', payload: india }).records[0]).toMatchObject({ creditingPeriodStart: '2021-03-01' });
  });

  it('when an issuance is not approved or not complete, then it is a request: a warning, and nothing counted', () => {
    const request = issuanceStream!.map({ stream: 'issuances', locator: 'issuance cursor 0', payload: { ...issuances[0]!, 'Issuance complete': false } });
    expect(request.records).toEqual([]);
    expect(request.errors).toEqual([]);
    expect(request.warnings).toEqual([expect.objectContaining({ field: 'Issuance complete', code: 'not-issued' })]);
    const wrongBatch = issuanceStream!.map({ stream: 'issuances', locator: 'issuance cursor 1', payload: { ...issuances[1]!, 'Quantity requested': 876 } });
    expect(wrongBatch.errors).toEqual([expect.objectContaining({ code: 'serial-quantity-mismatch', message: expect.stringMatching(/^issuance cursor 1: Serial Number Batch: 875 units/) })]);
  });
});

describe('SocialCarbon API mode', () => {
  let t: TestDatabase;
  let db: Database;
  let server: ReplayServer;
  let scripted: Record<string, ((req: RecordedRequest) => ReplayResponse)[]>;

  const route = (type: string, served: (req: RecordedRequest) => ReplayResponse) => ({
    path: `/api/1.1/obj/${type}`,
    responses: [(req: RecordedRequest) => scripted[type]?.shift()?.(req) ?? served(req)] as ScriptedResponse[],
  });
  const byCursor = (files: Record<string, string>) => (req: RecordedRequest): ReplayResponse => {
    const file = files[req.query.cursor ?? '0'];
    return file ? { file: captureFile(file) } : { status: 404, json: { status: 'NOT_FOUND', message: `no page at cursor ${req.query.cursor}` } };
  };

  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    server = await startReplayServer([
      route('project', byCursor({ 0: 'socialcarbon-projects.json' })),
      route('issuance', byCursor({ 0: 'socialcarbon-issuances.json' })),
      route('retirement', byCursor({ 0: 'socialcarbon-retirements-page1.json', 50: 'socialcarbon-retirements-page2.json' })),
      route('cancellations', byCursor({ 0: 'socialcarbon-cancellations.json' })),
    ]);
  });
  beforeEach(() => {
    scripted = {};
  });
  afterAll(async () => {
    await server.close();
    await t.close();
  });

  it('when the registry is pulled, then every type reconciles with count + remaining and the ledger holds what the captures hold', async () => {
    const summary = await syncSource(db, 'socialcarbon', { config: config(server.url) });
    expect(summary).toMatchObject({ status: 'committed', rowsRejected: 0, rowsRead: projects.length + issuances.length + retirements.length + cancellations.length });
    // The registry's own totals, stated on the first page of each type.
    const first = retirementPages[0]!.response;
    expect(first.count + first.remaining).toBe(retirements.length);

    expect(await ledger(db)).toEqual({
      projects: new Set(projects.map((p) => p._id)).size,
      issuances: issuances.length,
      issued: sum(issuances, 'Quantity requested'),
      retired_blocks: retirements.length,
      retired: sum(retirements, 'Quantity'),
      cancelled_blocks: cancellations.length,
      cancelled: sum(cancellations, 'Quantity'),
      issued_events: sum(issuances, 'Quantity requested'),
      retired_events: sum(retirements, 'Quantity'),
      cancelled_events: sum(cancellations, 'Quantity'),
    });
    // Two projects publish SOCIALCARBON-19: keyed by _id, they stay two.
    const nineteen = projects.filter((p) => p['Project ID'] === 'SOCIALCARBON-19');
    expect(nineteen).toHaveLength(2);
    const [named] = await rows<{ n: number }>(db, sql`select count(*)::int as n from projects where registry_id = 'socialcarbon' and name in (${nineteen[0]!['Project Name'] as string}, ${String(nineteen[1]!['Project Name']).trim()})`);
    expect(named!.n).toBe(2);
    // Every retirement and cancellation sits in its issuance.
    const [orphans] = await rows<{ n: number }>(db, sql`select count(*)::int as n from unit_blocks where registry_id = 'socialcarbon' and issuance_id is null`);
    expect(orphans!.n).toBe(0);
    // Unit 26 of the Utah batch was retired by two records: both are kept, and the check reports it.
    const [twice] = await rows<{ n: number; tonnes: number }>(db, sql`select count(*)::int as n, coalesce(sum(tonnes_at_risk), 0)::int as tonnes from findings where kind = 'retired-twice'`);
    expect(twice).toEqual({ n: 1, tonnes: sharedUnits() });
    expect(sharedUnits()).toBe(1);

    const cursors = server.requests.filter((r) => r.path === '/api/1.1/obj/retirement').map((r) => r.query.cursor);
    expect(cursors).toEqual(['0', '50']);
    expect(server.requests.every((r) => r.query.limit === '100')).toBe(true);
  });

  it('when the registry is pulled again, then nothing new is stored', async () => {
    const before = { totals: await ledger(db), all: await contents(db) };
    const summary = await syncSource(db, 'socialcarbon', { config: config(server.url) });
    expect(summary.rawRecords.new).toBe(0);
    expect(summary.blocks.new + summary.blocks.changed + summary.blocks.superseded).toBe(0);
    expect(summary.issuances.new + summary.issuances.changed).toBe(0);
    expect(summary.events.new).toBe(0);
    expect({ totals: await ledger(db), all: await contents(db) }).toEqual(before);
  });

  it('when the registry answers 429 with Retry-After and then 502, then the client waits as asked and the pull succeeds', async () => {
    scripted.issuance = [() => ({ status: 429, headers: { 'retry-after': '1' }, json: { message: 'rate limited' } }), () => ({ status: 502, body: 'Bad Gateway' })];
    const first = server.requests.length;
    const summary = await syncSource(db, 'socialcarbon', { config: config(server.url) });
    expect(summary.status).toBe('committed');
    const asked = server.requests.slice(first).filter((r) => r.path === '/api/1.1/obj/issuance');
    expect(asked).toHaveLength(3);
    expect(asked[1]!.at - asked[0]!.at).toBeGreaterThanOrEqual(950);
  });

  it('when a page comes back as an HTML page with status 200, then the sync fails, says so, and the ledger is unchanged', async () => {
    const before = await ledger(db);
    scripted.retirement = [byCursor({ 0: 'socialcarbon-retirements-page1.json' }),
      () => ({ status: 200, headers: { 'content-type': 'text/html' }, body: '<!DOCTYPE html><html><head><title>SocialCarbon Registry</title></head><body></body></html>' })];
    const error = await syncSource(db, 'socialcarbon', { config: config(server.url) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchRejected);
    expect((error as BatchRejected).summary.failure).toMatch(/HTML page.*SocialCarbon Registry/);
    expect(await ledger(db)).toEqual(before);
  });

  it('when records are added during the pull, then the moving total fails the pull instead of skipping records', async () => {
    const before = await ledger(db);
    const moved = structuredClone(retirementPages[1]!);
    moved.response.remaining = 1;
    scripted.retirement = [byCursor({ 0: 'socialcarbon-retirements-page1.json' }), () => ({ json: moved })];
    const error = await syncSource(db, 'socialcarbon', { config: config(server.url) }).catch((e: unknown) => e);
    expect((error as BatchRejected).summary.failure).toMatch(`socialcarbon retirement: the registry's total went from ${retirements.length} to ${retirements.length + 1}`);
    expect(await ledger(db)).toEqual(before);
  });

  it('when the source is checked, then it reports the registry\'s own totals', async () => {
    const api = socialCarbon.api!;
    const settings = sourceConfig(socialCarbon as never, config(server.url));
    const http = new HttpClient(api.http(settings));
    try {
      expect(await api.check(http, settings)).toBe(`socialcarbon: ${projects.length} projects, ${issuances.length} issuances, ${retirements.length} retirements, ${cancellations.length} cancellations on the registry's Bubble Data API`);
    } finally {
      await http.close();
    }
  });

  it('when the saved responses are ingested as files, then the ledger is the one the API pull built', async () => {
    const other = await openTestDatabase();
    try {
      const sample = (name: string) => new URL(`../fixtures/registry-samples/socialcarbon/${name}`, import.meta.url).pathname;
      for (const name of ['projects.json', 'issuances.json', 'retirements-page1.json', 'retirements-page2.json', 'cancellations.json']) {
        const summary = await ingestFile(other.handle.db, sample(name));
        expect(summary, name).toMatchObject({ status: 'committed', rowsRejected: 0 });
        expect(summary.format, name).toMatch(/^socialcarbon-/);
      }
      expect(await contents(other.handle.db)).toEqual(await contents(db));
      const again = await ingestFile(other.handle.db, sample('issuances.json'));
      expect([again.rawRecords.new, again.issuances.new, again.issuances.changed, again.events.new]).toEqual([0, 0, 0, 0]);
    } finally {
      await other.close();
    }
  });

  it('when SocialCarbon is configured as a scheduled source, then the scheduler accepts its configuration and refuses a page size Bubble would clamp', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tally-sources-'));
    try {
      const path = join(dir, 'sources.json');
      writeFileSync(path, JSON.stringify({ socialcarbon: { schedule: '30 4 * * *', config: { minIntervalMs: 2_000 } } }));
      expect(readSources(path)).toEqual([{ registry: 'socialcarbon', schedule: '30 4 * * *', config: { minIntervalMs: 2_000 } }]);
      writeFileSync(path, JSON.stringify({ socialcarbon: { schedule: '30 4 * * *', config: { pageSize: 200 } } }));
      expect(() => readSources(path)).toThrow(/socialcarbon configuration is invalid: pageSize/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
