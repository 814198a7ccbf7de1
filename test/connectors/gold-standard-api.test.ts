import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { goldStandard } from '../../connectors/gold-standard/index.ts';
import { retirements as retirementExport } from '../../connectors/gold-standard/map-retirements.ts';
import { HttpClient } from '../../connectors/runtime/http.ts';
import type { CanonicalInput } from '../../schema/canonical.ts';
import { BatchRejected } from '../../jobs/ingest.ts';
import { ingestFile } from '../../jobs/ingest-file.ts';
import { sourceConfig, syncSource } from '../../jobs/sync.ts';
import { rows, type Database } from '../../schema/database.ts';
import { csvLine } from '../helpers/csv.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startReplayServer, type RecordedRequest, type ReplayResponse, type ReplayServer, type ScriptedResponse } from '../helpers/replay-server.ts';

// Gold Standard's API mode against a local server that answers like public-api.goldstandard.org
// (reference/registries.md §2.1): bare JSON arrays, pages numbered from 1, records in descending id,
// totals only in the X-Total-Count / X-Total-Number-Of-Credits headers, `projects` clamping size to
// 150, `credits` refusing size above 25 with a 403, and Cloudflare's 403 page for a client without a
// browser User-Agent. It serves the real captured records (test/fixtures/api-captures/gs-*.json)
// and records built from them with varied ids, serials, batches and statuses.

type Entity = Record<string, unknown>;
const capture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/api-captures/${name}`, import.meta.url), 'utf8')) as Entity[];
const capturedProjects = capture('gs-projects.json');
const capturedCredits = capture('gs-credits.json');
const byId = (list: Entity[], id: string) => list.find((e) => e.id === id)!;
const sum = (list: Entity[]) => list.reduce((s, e) => s + Number(e.number_of_credits), 0);
const abbreviation = (e: Entity) => (e.product as { abbreviation: string }).abbreviation;
const gsid = (e: Entity) => `GS${(e.project as Entity).sustaincert_id}`;

const COUNTRIES = [['Kenya', 'KE'], ['India', 'IN'], ['Uganda', 'UG'], ['Rwanda', 'RW']] as const;
const STATUSES = ['LISTED', 'GOLD_STANDARD_CERTIFIED_DESIGN', 'GOLD_STANDARD_CERTIFIED_PROJECT'];

function buildRegistry() {
  const projects: Entity[] = capturedProjects.map((p) => ({ ...p }));
  // A credit embeds its whole project; the registry lists those projects too.
  for (const c of capturedCredits) {
    const p = c.project as Entity;
    if (!projects.some((x) => x.sustaincert_id === p.sustaincert_id)) projects.push({ ...p });
  }
  const credits: Entity[] = capturedCredits.map((c) => ({ ...c }));
  const heldTemplate = byId(capturedCredits, '11686'); // ISSUED, GS817 batch 1303, units 1–92
  const retiredTemplate = byId(capturedCredits, '280123'); // RETIRED, GS716 batch 1302, with a note
  // GS716 batch 1302: the captured blocks are its retired top (5360–15564); units 1–5359 are still held.
  credits.push({ ...byId(capturedCredits, '134187'), id: '11600', status: 'ISSUED', note: undefined, number_of_credits: 5359, starting_credit_number: 1,
    ending_credit_number: 5359, serial_number: 'GS1-1-IN-GS716-4-2011-1302-1-5359', created_at: '2013-10-08T00:00:00Z', updated_at: '2020-10-09T11:42:56Z' });

  const template = byId(capturedProjects, '5658'); // Standalone, Bhutan
  let creditId = 600_000;
  let batch = 40_000;
  for (let p = 0; p < 12; p += 1) {
    const [country, code] = COUNTRIES[p % COUNTRIES.length]!;
    const sid = 30_000 + p;
    const project: Entity = {
      ...template, id: String(7_000 + p), sustaincert_id: sid, name: `Cookstoves ${sid}`, status: STATUSES[p % STATUSES.length], country, country_code: code,
      sustaincert_url: `https://assurance-platform.goldstandard.org/project-documents/GS${sid}`,
      latitude: p % 2 === 0 ? `-0.${100 + p}` : null, longitude: p % 2 === 0 ? `37.${500 + p}` : null,
      labels: p === 3 ? ['ICVCM_CCP'] : [],
    };
    projects.push(project);
    for (const vintage of [2021, 2022, 2023]) {
      const size = 1_000 + 37 * p + vintage % 10;
      const serial = (start: number, end: number) => `GS1-1-${code}-GS${sid}-16-${vintage}-${batch}-${start}-${end}`;
      const block = (status: 'ISSUED' | 'RETIRED', start: number, end: number, extra: Entity = {}): Entity => ({
        ...(status === 'ISSUED' ? heldTemplate : retiredTemplate), id: String(creditId++), status, number_of_credits: end - start + 1,
        starting_credit_number: start, ending_credit_number: end, batch_number: batch, serial_number: serial(start, end), vintage: String(vintage),
        certified_date: `${vintage + 1}-0${1 + (p % 9)}-15`, monitoring_period_start_date: `${vintage}-01-01`, monitoring_period_end_date: `${vintage}-12-31`,
        labels: p === 3 ? ['EMISSION_REDUCTION', 'ICVCM_CCP'] : ['EMISSION_REDUCTION'], is_corsia_eligible: vintage === 2022 && p < 2,
        project: { ...project }, ...extra,
      });
      // The issuance's block keeps the lowest id and the units left; each retirement split off the top.
      const retired = [40, 25, 10 + p];
      const held = size - retired.reduce((s, n) => s + n, 0);
      credits.push(block('ISSUED', 1, held));
      let start = held + 1;
      for (const [i, n] of retired.entries()) {
        credits.push(block('RETIRED', start, start + n - 1, {
          note: i === 0 ? `Retired on behalf of Buyer ${sid} for the compensation of travel emissions` : 'VER purchased',
          retirement_use_case: i === 0 ? 'Voluntary' : undefined,
        }));
        start += n;
      }
      batch += 1;
    }
  }
  // A PER block (planned emission reductions: a block, no issuance), and a CER carried with its Kyoto
  // serial, shaped like the captured blocks (the capture has neither; the file export has both).
  const kenya = projects.find((x) => x.sustaincert_id === 30_000)!;
  credits.push({ ...heldTemplate, id: String(creditId++), number_of_credits: 500, starting_credit_number: 1, ending_credit_number: 500, batch_number: 49_999,
    serial_number: 'GS1-1-KE-GS30000-16-2024-49999-1-500', vintage: '2024', product: { name: 'Planned Emission Reduction', abbreviation: 'PER' }, project: { ...kenya } });
  const rwanda = projects.find((x) => x.sustaincert_id === 30_003)!;
  credits.push({ ...retiredTemplate, id: String(creditId++), number_of_credits: 3657, starting_credit_number: null, ending_credit_number: null, batch_number: null,
    serial_number: 'RW-5-1463953-2-2-0-7014 - RW-5-1467609-2-2-0-7014', vintage: '2019', monitoring_period_start_date: '2017-08-19',
    monitoring_period_end_date: '2019-08-16', product: { name: 'Certified Emission Reduction', abbreviation: 'CER' }, project: { ...rwanda } });
  return { projects, credits };
}

const CLOUDFLARE_BLOCK = '<!DOCTYPE html><html><head><title>Attention Required! | Cloudflare</title></head><body>Sorry, you have been blocked</body></html>';

/** Answers like the live API from a data set; `extraTotal` inflates the reported total of one collection. */
function goldStandardServer(data: { projects: Entity[]; credits: Entity[] }, options: { extraTotal: Partial<Record<string, number>> }) {
  return (request: RecordedRequest): ReplayResponse => {
    if (!/^Mozilla\/5\.0 /.test(String(request.headers['user-agent']))) {
      return { status: 403, headers: { 'content-type': 'text/html' }, body: CLOUDFLARE_BLOCK };
    }
    const collection = request.path.slice(1) as 'projects' | 'credits';
    const page = Number(request.query.page ?? '1');
    const asked = Number(request.query.size ?? '25');
    if (collection === 'credits' && asked > 25) return { status: 403, headers: { 'content-type': 'text/html' }, body: CLOUDFLARE_BLOCK };
    const size = Math.min(asked, 150);
    const sorted = [...data[collection]].sort((a, b) => Number(b.id) - Number(a.id));
    const headers: Record<string, string> = { 'x-total-count': String(sorted.length + (options.extraTotal[collection] ?? 0)) };
    if (collection === 'credits') headers['x-total-number-of-credits'] = String(sum(sorted));
    return { headers, json: sorted.slice((page - 1) * size, page * size) };
  };
}

const config = (url: string, more: Record<string, unknown> = {}) => ({
  baseUrl: url, projectsPageSize: 4, creditsPageSize: 6, minIntervalMs: 0, baseDelayMs: 1, retries: 2, timeoutMs: 5_000, ...more,
});

async function ledger(db: Database) {
  const [t] = await rows<Record<string, number | string>>(db, sql`select
    (select count(*)::int from projects where registry_id = 'gold-standard') as projects,
    (select count(*)::int from issuances where registry_id = 'gold-standard') as issuances,
    (select coalesce(sum(quantity), 0)::text from issuances where registry_id = 'gold-standard') as issued,
    (select count(*)::int from unit_blocks where registry_id = 'gold-standard') as blocks,
    (select coalesce(sum(quantity), 0)::text from unit_blocks where registry_id = 'gold-standard') as block_units,
    (select count(*)::int from unit_blocks where registry_id = 'gold-standard' and status = 'held') as held_blocks,
    (select coalesce(sum(quantity), 0)::text from unit_blocks where registry_id = 'gold-standard' and status = 'held') as held,
    (select count(*)::int from unit_blocks where registry_id = 'gold-standard' and status = 'retired') as retired_blocks,
    (select coalesce(sum(quantity), 0)::text from unit_blocks where registry_id = 'gold-standard' and status = 'retired') as retired,
    (select coalesce(sum(quantity), 0)::text from unit_blocks where registry_id = 'gold-standard' and credit_type = 'per') as per,
    (select coalesce(sum(quantity), 0)::text from events where registry_id = 'gold-standard' and kind = 'issued') as issued_events,
    (select count(*)::int from events where registry_id = 'gold-standard' and kind = 'retired') as retired_events,
    (select count(*)::int from mirror_records where reported_by = 'gold-standard') as mirrored,
    (select coalesce(sum(quantity), 0)::text from mirror_records where reported_by = 'gold-standard') as mirrored_units`);
  return t!;
}

/** A CSV file of export rows, every cell quoted. */
function writeCsv(dir: string, name: string, records: Record<string, string>[]): string {
  const header = Object.keys(records[0]!);
  const path = join(dir, name);
  writeFileSync(path, [csvLine(header), ...records.map((r) => csvLine(header.map((h) => r[h] ?? '')))].join('\n'));
  return path;
}

/** The export's view of an API block (reference §2.2 column names), as a person would download it. */
function exportRow(e: Entity, extra: Record<string, string>): Record<string, string> {
  const p = e.project as Entity;
  return {
    Vintage: String(e.vintage), 'Credit Status': 'Issued', Quantity: String(e.number_of_credits), GSID: String(p.sustaincert_id), 'Project Name': String(p.name),
    'Project Developer': String(p.project_developer), Country: String(p.country), 'Product Type': abbreviation(e), 'Project Type': String(p.type),
    Methodology: String(p.methodology ?? ''), 'Programme of Activities': String(p.programme_of_activities), 'POA GSID': '',
    'Issuance Date': String(e.certified_date), 'Retirement Date': '', 'Monitoring Period Start': String(e.monitoring_period_start_date),
    'Monitoring Period End': String(e.monitoring_period_end_date), 'Serial Number': String(e.serial_number), Note: String(e.note ?? ''),
    'Aeroplane Operator Name': '', Label: 'Emission Reduction', 'Use Case': '', 'Using Entity': '', 'Article Six Authorization': 'Not Applicable', ...extra,
  };
}

describe('Gold Standard API records → canonical records', () => {
  const [projectStream, creditStream] = goldStandard.api!.streams(sourceConfig(goldStandard as never, {}));
  const mapCredit = (e: Entity) => creditStream!.map({ stream: 'credits', locator: `credits id ${String(e.id)}`, payload: e });
  const only = <T extends CanonicalInput['type']>(records: CanonicalInput[], type: T) => records.filter((r) => r.type === type) as Extract<CanonicalInput, { type: T }>[];

  it('when a captured project is mapped, then its sustaincert_id is the project and its goals, period and status are read', () => {
    const { records, errors } = projectStream!.map({ stream: 'projects', locator: 'projects id 5672', payload: byId(capturedProjects, '5672') });
    expect(errors).toEqual([]);
    // Named "GS23711- …" after its programme, the VPA is GS23718.
    expect(records).toEqual([expect.objectContaining({
      registryProjectId: 'GS23718', name: 'GS23711- Mozambique Off Grid Electrification VPA1', proponent: 'Anthesis B.V.', country: 'Mozambique',
      status: 'listed', statusRaw: 'LISTED', estimatedAnnualQuantity: 9000, creditingPeriodStart: '2026-06-26', creditingPeriodEnd: '2031-06-25',
      coBenefits: ['sdg-4', 'sdg-5', 'sdg-7', 'sdg-8', 'sdg-13'], latitude: undefined, registryUrl: 'https://registry.goldstandard.org/projects?q=gs23718',
    })]);
    const certified = projectStream!.map({ stream: 'projects', locator: 'p', payload: byId(capturedCredits, '134202').project as Entity });
    expect(certified.records[0]).toMatchObject({ registryProjectId: 'GS817', status: 'registered', latitude: 13.0078, longitude: 76.084396 });
  });

  it('when captured blocks are mapped, then each is a block in its current state, keyed as the retirement export keys it', () => {
    const held = mapCredit(byId(capturedCredits, '595379'));
    expect(held.errors).toEqual([]);
    expect(only(held.records, 'block')).toEqual([expect.objectContaining({
      registryProjectId: 'GS7495', blockKey: 'GS1-1-KE-GS7495-16-2025-30645-608-30350', issuanceKey: '2025/30645', status: 'held', quantity: 29743,
      creditType: 'ver', vintageYear: 2025, vintageStart: '2024-02-13', vintageEnd: '2025-02-12',
    })]);
    expect(only(held.records, 'issuance')).toEqual([expect.objectContaining({ issuanceKey: '2025/30645', issuedOn: '2026-07-28', quantityFromBlocks: true, serial: undefined })]);

    // The project a VPA's name misstates ("GS11638 GS11639 RVPA-1 …") is still its sustaincert_id.
    expect(only(mapCredit(byId(capturedCredits, '595386')).records, 'project')[0]).toMatchObject({ registryProjectId: 'GS12308' });

    const retired = mapCredit(byId(capturedCredits, '280123'));
    expect(only(retired.records, 'block')[0]).toMatchObject({
      status: 'retired', statusDate: undefined, retirementBeneficiary: 'The Human Business Limited (11565096) 2020',
      retirementDetails: 'Retired on behalf of The Human Business Limited (11565096) 2020',
    });

    // The same block as the retirement export writes it meets the API's in one ledger row.
    const e = byId(capturedCredits, '134202');
    const fromFile = retirementExport.map(exportRow(e, { 'Credit Status': 'Retired', 'Retirement Date': '2020-10-09' }), 'line 2');
    const keys = (records: CanonicalInput[]) => records.map((r) => [r.type, r.registryProjectId, 'blockKey' in r ? r.blockKey : undefined, 'issuanceKey' in r ? r.issuanceKey : undefined]);
    expect(keys(mapCredit(e).records)).toEqual(keys(fromFile.records));
  });

  it('when a block\'s batch or unit numbers disagree with its serial, or it has no project, then the record is rejected with the API\'s field named', () => {
    const e = byId(capturedCredits, '595379');
    expect(mapCredit({ ...e, batch_number: 30644 }).errors).toEqual([expect.objectContaining({ field: 'batch_number', code: 'serial-fields-mismatch' })]);
    expect(mapCredit({ ...e, number_of_credits: 29742 }).errors).toEqual([expect.objectContaining({
      field: 'serial_number', code: 'serial-quantity-mismatch', message: expect.stringMatching(/^credits id 595379: serial_number: /),
    })]);
    expect(mapCredit({ ...e, status: 'PENDING' }).errors).toEqual([expect.objectContaining({ field: 'status', code: 'unknown-status' })]);
    expect(mapCredit({ ...e, project: null }).errors).toEqual([expect.objectContaining({ field: 'project', code: 'missing' })]);
  });

  it('when a block is flagged CORSIA-eligible, then its vintage names the phase', () => {
    const e = byId(capturedCredits, '134202');
    expect(only(mapCredit({ ...e, is_corsia_eligible: true, vintage: '2018', serial_number: 'GS1-1-IN-GS817-4-2018-1303-93-4644' }).records, 'block')[0]!.eligibility).toEqual(['corsia-pilot-phase']);
    expect(only(mapCredit(e).records, 'block')[0]!.eligibility).toEqual([]);
  });
});

describe('Gold Standard API mode', () => {
  const data = buildRegistry();
  const extraTotal: Partial<Record<string, number>> = {};
  const serve = goldStandardServer(data, { extraTotal });
  let t: TestDatabase;
  let db: Database;
  let server: ReplayServer;
  let scripted: Record<string, ScriptedResponse[]>;
  let tmp: string;
  // GS716 batch 1302 is also uploaded from files before the first pull: one issuance-export row (the
  // batch whole, units 1–15564) and its three retired blocks in a retirement export.
  const gs716Retired = data.credits.filter((e) => gsid(e) === 'GS716' && e.status === 'RETIRED');

  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    server = await startReplayServer(['projects', 'credits'].map((collection) => ({
      path: `/${collection}`,
      // Each collection answers from a per-test script first (faults), then from the data set.
      responses: [(req: RecordedRequest) => {
        const next = scripted[collection]?.shift();
        return next === undefined ? serve(req) : typeof next === 'function' ? next(req) : next;
      }],
    })));
    tmp = mkdtempSync(join(tmpdir(), 'tally-gs-api-'));
  });
  beforeEach(() => {
    scripted = {};
  });
  afterAll(async () => {
    await server.close();
    await t.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('when the same batch was uploaded from the exports, then the pull meets those rows instead of adding to them', async () => {
    const whole = { ...gs716Retired[0]!, number_of_credits: 15564, serial_number: 'GS1-1-IN-GS716-4-2011-1302-1-15564' };
    const issued = await ingestFile(db, writeCsv(tmp, 'issuances.csv', [exportRow(whole, {})].map((r) => {
      const { 'Retirement Date': _d, Note: _n, 'Aeroplane Operator Name': _a, 'Use Case': _u, 'Using Entity': _e, ...issuanceColumns } = r;
      return issuanceColumns;
    })));
    const retired = await ingestFile(db, writeCsv(tmp, 'retirements.csv', gs716Retired.map((e) => exportRow(e, {
      'Credit Status': 'Retired', 'Retirement Date': String(e.created_at).slice(0, 10), 'Using Entity': 'Somerset Buyer',
    }))));
    expect([issued.format, issued.rowsRejected, retired.format, retired.rowsRejected]).toEqual(['gold-standard-issuances', 0, 'gold-standard-retirements', 0]);
  });

  it('when the registry is pulled, then every stream reconciles and the ledger holds exactly what it serves', async () => {
    const summary = await syncSource(db, 'gold-standard', { config: config(server.url) });
    expect(summary.status).toBe('committed');
    expect(summary.rowsRejected).toBe(0);
    expect(summary.errors).toEqual([]);
    expect(summary.rowsRead).toBe(data.projects.length + data.credits.length);

    // Computed from the served records, without Tally's mappers. CER blocks are the CDM's units (Kyoto
    // serials): Gold Standard's report of them, kept apart from its own.
    const cers = data.credits.filter((e) => abbreviation(e) === 'CER');
    const blocks = data.credits.filter((e) => abbreviation(e) !== 'CER');
    const issuable = blocks.filter((e) => abbreviation(e) !== 'PER');
    const issuanceKeys = new Set(issuable.map((e) => `${gsid(e)}|${e.vintage}|${e.batch_number}`));
    const ofStatus = (s: string) => blocks.filter((e) => e.status === s);
    const expected = {
      projects: new Set([...data.projects.map((p) => p.sustaincert_id), ...data.credits.map((e) => (e.project as Entity).sustaincert_id)]).size,
      issuances: issuanceKeys.size,
      issued: String(sum(issuable)),
      blocks: blocks.length,
      block_units: String(sum(blocks)),
      held_blocks: ofStatus('ISSUED').length,
      held: String(sum(ofStatus('ISSUED'))),
      retired_blocks: ofStatus('RETIRED').length,
      retired: String(sum(ofStatus('RETIRED'))),
      per: String(sum(blocks.filter((e) => abbreviation(e) === 'PER'))),
      issued_events: String(sum(issuable)),
      retired_events: ofStatus('RETIRED').length,
      mirrored: cers.length,
      mirrored_units: String(sum(cers)),
    };
    const got = await ledger(db);
    const numeric = (r: Record<string, number | string>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, String(Number(v))]));
    expect(numeric(got)).toEqual(numeric(expected));

    // The blocks and the CDM units it lists add up to the units the registry reports in X-Total-Number-Of-Credits.
    const lastCredits = server.requests.filter((r) => r.path === '/credits').at(-1)!;
    expect(serve(lastCredits).headers!['x-total-number-of-credits']).toBe(String(Number(got.block_units) + Number(got.mirrored_units)));

    // GS716 batch 1302 is one issuance with the export's figure and serial, and its retired blocks are
    // the rows the retirement export wrote, not copies of them.
    const gs716 = await rows<Record<string, unknown>>(db, sql`select i.issuance_key, i.quantity::int as quantity, i.quantity_from_blocks, i.serial_raw,
        (select count(*)::int from unit_blocks b where b.issuance_id = i.id) as blocks
      from issuances i join projects p on p.id = i.project_id where p.key = 'gold-standard:GS716'`);
    expect(gs716).toEqual([{ issuance_key: '2011/1302', quantity: 15564, quantity_from_blocks: false, serial_raw: 'GS1-1-IN-GS716-4-2011-1302-1-15564', blocks: 4 }]);

    // Page sizes stay within what the registry serves, with a browser User-Agent on every request.
    const asked = (path: string) => server.requests.filter((r) => r.path === path).map((r) => Number(r.query.size));
    expect(new Set(asked('/projects'))).toEqual(new Set([4]));
    expect(new Set(asked('/credits'))).toEqual(new Set([6]));
    expect(server.requests.filter((r) => r.path === '/credits').map((r) => Number(r.query.page))).toEqual(
      Array.from({ length: Math.floor(blocks.length / 6) + 1 }, (_, i) => i + 1));
  });

  it('when the registry is pulled again, then nothing new is stored', async () => {
    const before = await ledger(db);
    const summary = await syncSource(db, 'gold-standard', { config: config(server.url) });
    expect(summary.rawRecords.new).toBe(0);
    expect(summary.projects.new + summary.projects.changed).toBe(0);
    expect(summary.issuances.new + summary.issuances.changed).toBe(0);
    expect(summary.blocks.new + summary.blocks.changed).toBe(0);
    expect(summary.events.new).toBe(0);
    expect(await ledger(db)).toEqual(before);
  });

  it('when the registry answers 429 with Retry-After: 0 and then 500 before it answers, then the pull succeeds', async () => {
    scripted.credits = [
      { status: 429, headers: { 'retry-after': '0' }, json: { message: 'Too Many Requests' } },
      { status: 500, body: 'Internal Server Error' },
    ];
    scripted.projects = [{ status: 429, headers: { 'retry-after': '1' }, json: { message: 'Too Many Requests' } }];
    const started = performance.now();
    const summary = await syncSource(db, 'gold-standard', { config: config(server.url) });
    expect(summary.status).toBe('committed');
    expect(performance.now() - started).toBeGreaterThanOrEqual(950); // the 1 s Retry-After was honoured
    expect(scripted.credits).toEqual([]);
  });

  it('when a page comes back as an HTML page with status 200, then the sync fails, says so, and the ledger is unchanged', async () => {
    const before = await ledger(db);
    const [committedBefore] = await rows<{ n: number }>(db, sql`select count(*)::int as n from batches where status = 'committed'`);
    scripted.credits = [serve, () => ({ status: 200, headers: { 'content-type': 'text/html; charset=UTF-8' },
      body: '<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title></head><body>Checking your browser</body></html>' })];
    const error = await syncSource(db, 'gold-standard', { config: config(server.url) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchRejected);
    expect((error as BatchRejected).summary.failure).toMatch(/HTML page.*Just a moment/);
    expect(await ledger(db)).toEqual(before);
    const [committedAfter] = await rows<{ n: number }>(db, sql`select count(*)::int as n from batches where status = 'committed'`);
    expect(committedAfter!.n).toBe(committedBefore!.n);
    const [state] = await rows<{ last_error: string; consecutive_failures: number }>(db, sql`select last_error, consecutive_failures
      from connector_state where connector = 'gold-standard-api'`);
    expect(state).toMatchObject({ consecutive_failures: 1 });
    expect(state!.last_error).toMatch(/HTML/);
  });

  it('when the body is cut off on every attempt, then the sync fails with a clear error and stores nothing', async () => {
    const before = await ledger(db);
    scripted.projects = [1, 2, 3].map(() => (req: RecordedRequest) => ({ ...serve(req), truncateAfterBytes: 50 }));
    const error = await syncSource(db, 'gold-standard', { config: config(server.url) }).catch((e: unknown) => e);
    expect((error as BatchRejected).summary.failure).toMatch(/does not parse.*cut off/);
    expect(await ledger(db)).toEqual(before);
  });

  it('when the registry reports more records than it serves, then the sync fails with the reconciliation error and stores nothing', async () => {
    const before = await ledger(db);
    extraTotal.credits = 1;
    try {
      const error = await syncSource(db, 'gold-standard', { config: config(server.url) }).catch((e: unknown) => e);
      expect((error as BatchRejected).summary.failure).toBe(
        `gold-standard credits: received ${data.credits.length} records but the registry reports ${data.credits.length + 1} (X-Total-Count); ` +
        'the pull is incomplete and nothing was stored');
    } finally {
      delete extraTotal.credits;
    }
    expect(await ledger(db)).toEqual(before);
  });

  it('when a page is not in descending id order, then the sync refuses to trust the paging', async () => {
    scripted.credits = [serve, (req) => {
      const page = serve(req);
      return { ...page, json: [...(page.json as Entity[])].reverse() };
    }];
    const error = await syncSource(db, 'gold-standard', { config: config(server.url) }).catch((e: unknown) => e);
    expect((error as BatchRejected).summary.failure).toMatch(/credits page 2: record \d+ comes after record \d+.*descending id/);
  });

  it('when blocks are created while the pull runs, then the records they push onto the next page are read once and the pull reconciles', async () => {
    const before = await ledger(db);
    const template = byId(capturedCredits, '595379');
    const fresh = [1, 2].map((n) => ({ ...template, id: String(900_000 + n), number_of_credits: 10, batch_number: 30999, starting_credit_number: 10 * n - 9,
      ending_credit_number: 10 * n, serial_number: `GS1-1-KE-GS7495-16-2025-30999-${10 * n - 9}-${10 * n}` }));
    const served: string[] = [];
    const recording = (req: RecordedRequest) => {
      const page = serve(req);
      served.push(...(page.json as Entity[]).map((e) => String(e.id)));
      return page;
    };
    scripted.credits = Array.from({ length: 40 }, (_, i) => (i === 1 ? (req: RecordedRequest) => {
      const page = recording(req);
      data.credits.push(...fresh); // created between page 2 and page 3: every later page starts 2 records back
      return page;
    } : recording));
    const summary = await syncSource(db, 'gold-standard', { config: config(server.url) });
    expect(summary).toMatchObject({ status: 'committed', rowsRejected: 0, rowsRead: data.projects.length + data.credits.length - fresh.length });
    expect(served.length - new Set(served).size).toBe(fresh.length);
    expect(summary.blocks.new).toBe(0);
    expect(await ledger(db)).toEqual(before);

    // The next pull takes them.
    const next = await syncSource(db, 'gold-standard', { config: config(server.url) });
    expect([next.rowsRejected, next.blocks.new, next.issuances.new]).toEqual([0, 2, 1]);
  });

  it('when a page size the registry refuses is configured, then the configuration is rejected before any request', async () => {
    const requests = server.requests.length;
    await expect(syncSource(db, 'gold-standard', { config: config(server.url, { creditsPageSize: 26 }) })).rejects.toThrow(/creditsPageSize/);
    await expect(syncSource(db, 'gold-standard', { config: config(server.url, { projectsPageSize: 200 }) })).rejects.toThrow(/projectsPageSize/);
    expect(server.requests.length).toBe(requests);
  });

  it('when the source is checked, then it reports the registry\'s totals, and a client without a browser User-Agent is refused as Cloudflare refuses it', async () => {
    const api = goldStandard.api!;
    const settings = api.config.parse(config(server.url));
    const http = new HttpClient(api.http(settings));
    try {
      expect(await api.check(http, settings)).toBe(
        `gold-standard: ${data.projects.length} projects and ${data.credits.length} credit blocks (${sum(data.credits).toLocaleString('en-US')} credits) on the public API`);
    } finally {
      await http.close();
    }
    const plain = new HttpClient({ ...api.http(settings), browserUserAgent: false });
    try {
      await expect(api.check(plain, settings)).rejects.toThrow(/HTTP 403.*Cloudflare.*browserUserAgent/);
    } finally {
      await plain.close();
    }
  });

  // A pull is the registry's complete current state: a held block GS split since the last pull is
  // superseded, so the batch is issued once and the old serial no longer overlaps its pieces.
  it('when a held block is split between two pulls, then the old block is superseded and its batch is still issued once', async () => {
    const held = data.credits.find((e) => e.id === '11686')!; // GS817 batch 1303, held units 1–92
    Object.assign(held, { number_of_credits: 50, ending_credit_number: 50, serial_number: 'GS1-1-IN-GS817-4-2012-1303-1-50' });
    data.credits.push({ ...byId(capturedCredits, '134202'), id: '950000', number_of_credits: 42, starting_credit_number: 51, ending_credit_number: 92,
      serial_number: 'GS1-1-IN-GS817-4-2012-1303-51-92', created_at: '2026-08-01T09:00:00Z', updated_at: '2026-08-01T09:00:00Z' });
    const summary = await syncSource(db, 'gold-standard', { config: config(server.url) });
    expect(summary.status).toBe('committed');
    const [batch] = await rows<{ quantity: number; issued: number; held: number }>(db, sql`select i.quantity::int as quantity,
        (select sum(quantity)::int from events e where e.issuance_id = i.id and e.kind = 'issued') as issued,
        (select sum(quantity)::int from unit_blocks b where b.issuance_id = i.id and b.status = 'held') as held
      from issuances i join projects p on p.id = i.project_id where p.key = 'gold-standard:GS817' and i.issuance_key = '2012/1303'`);
    expect(summary.blocks.superseded).toBe(1);
    expect(batch).toEqual({ quantity: 4644, issued: 4644, held: 50 + 92 });
    const [current] = await rows<{ held: number }>(db, sql`select sum(b.quantity)::int as held from unit_blocks b join issuances i on i.id = b.issuance_id
      join projects p on p.id = i.project_id where p.key = 'gold-standard:GS817' and i.issuance_key = '2012/1303' and b.status = 'held' and b.superseded_in_batch_id is null`);
    expect(current!.held).toBe(50);
    const [overlaps] = await rows<{ n: number }>(db, sql`select count(*)::int as n from unit_blocks a join unit_blocks b
      on a.number_space = b.number_space and a.id < b.id and a.serial_range && b.serial_range
      where a.registry_id = 'gold-standard' and a.superseded_in_batch_id is null and b.superseded_in_batch_id is null`);
    expect(overlaps!.n).toBe(0);
  });
});
