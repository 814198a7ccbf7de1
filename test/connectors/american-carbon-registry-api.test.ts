import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { acrGreenTrace } from '../../connectors/greentrace/platform.ts';
import { HttpClient } from '../../connectors/runtime/http.ts';
import { BatchRejected } from '../../jobs/ingest.ts';
import { ingestFile } from '../../jobs/ingest-file.ts';
import { syncSource } from '../../jobs/sync.ts';
import { rows, type Database } from '../../schema/database.ts';
import { readCsv } from '../helpers/csv.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { capturedDataset, greenTraceResults, greenTraceRoutes, padded, reportOf, type GreenTraceData, type Row } from '../helpers/greentrace-emulator.ts';
import type { RecordedRequest, ReplayResponse } from '../helpers/replay-server.ts';
import { startReplayServer, type ReplayServer } from '../helpers/replay-server.ts';

// ACR's API mode (ICE GreenTrace, tenant ACR_REGISTRY) against a local server that answers like
// GreenTrace: the real captured answers (test/fixtures/api-captures/acr-*.json: 12 projects, 31 issued
// batches, 21 retirements, 7 cancellations) plus rows built from them with other projects, serials,
// vintages and keys, served in pages of 25 so paging runs as it does live in pages of 2,000.

const REGISTRY = 'american-carbon-registry';
const TENANT = 'ACR_REGISTRY';
const PAGE = 25;
const captured = {
  projects: capturedDataset('acr-projects.json'),
  issued: capturedDataset('acr-issuances.json'),
  retired: capturedDataset('acr-retirements.json'),
  cancelled: capturedDataset('acr-cancellations.json'),
};
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const qty = (row: Row) => Number(row.holdingQuantity);
/** `ACR0885` → `ACR885`, as the reports and serials write it. */
const reportId = (id: unknown) => String(id).replace(/^ACR0*/, 'ACR');
const isConversion = (row: Row) => /^Convert to ARB/i.test(String(row.cancellationReasonDisplayName));

/** The captured rows, and eight more projects built on them: three vintages each, two batches per issuance. */
function buildRegistry(): GreenTraceData {
  const [projectTemplate] = captured.projects.rows;
  const [issuedTemplate] = captured.issued.rows;
  const [retiredTemplate] = captured.retired.rows;
  const conversionTemplate = captured.cancelled.rows.find(isConversion)!;
  const reversalTemplate = captured.cancelled.rows.find((r) => r.isReserve === true)!;
  const data: GreenTraceData = {
    projects: [...captured.projects.rows],
    issued: [...captured.issued.rows],
    retired: [...captured.retired.rows],
    cancelled: [...captured.cancelled.rows],
  };
  let batch = 5000;
  for (let p = 0; p < 8; p += 1) {
    const n = 401 + p;
    const projectId = padded('ACR', n);
    const projectKey = `P9TEST${n}`;
    const projectName = `Test Forest ${n}`;
    const arb = p % 4 === 0;
    const project = { projectKey, projectReferenceId: projectId, projectName, projectLink: { type: 'link', url: `/acr/projects/registry/${TENANT}/project/${projectKey}`, method: 'GET', params: [], label: projectName } };
    let issuedCredits = 0;
    for (const [v, vintage] of [2021, 2022, 2023].entries()) {
      const issuanceKey = `I9TEST${n}${vintage}`;
      const issuance = { issuanceKey, issuanceVintageStartDate: `${vintage}-01-01`, vintage: String(vintage), issuanceDate: `2024-0${1 + v}-1${p}` };
      const sizes = [10_000 + p * 100, 2_000 + v];
      const batches = sizes.map((size) => ({ number: batch++, size }));
      issuedCredits += sum(sizes);
      for (const b of batches) {
        data.issued.push({ ...issuedTemplate, ...project, ...issuance, holdingKey: `C9TEST${b.number}`, holdingSerialNumber: `ACR-US-${n}-${vintage}-${b.number}-1 to ${b.size}`,
          holdingQuantity: b.size, issuanceQuantity: sum(sizes) });
      }
      const [main, second] = batches as [{ number: number; size: number }, { number: number; size: number }];
      for (let r = 0; r < 6; r += 1) {
        const start = 1 + r * 100;
        data.retired.push({ ...retiredTemplate, ...project, ...issuance, issuanceQuantity: sum(sizes), holdingKey: `H9TEST${main.number}${r}`, retirementKey: `R9TEST${main.number}${r}`,
          holdingSerialNumber: `ACR-US-${n}-${vintage}-${main.number}-${start} to ${start + 99}`, holdingQuantity: 100,
          retirementDate: `2026-0${1 + r}-10`, holdingStatusEffectiveTimestamp: `2026-0${1 + r}-10T11:00:00-04:00`,
          retirementOnBehalfOfName: r % 2 === 0 ? `Buyer ${n}-${r}` : null, retirementPurpose: `Offsetting ${vintage} emissions` });
      }
      const template = arb ? conversionTemplate : reversalTemplate;
      data.cancelled.push({ ...template, ...project, ...issuance, issuanceQuantity: sum(sizes), holdingKey: `H9TEST${second.number}`, cancellationKey: `C9TESTX${second.number}`,
        holdingSerialNumber: `ACR-US-${n}-${vintage}-${second.number}-1 to 500`, holdingQuantity: 500, cancellationDate: `2026-02-0${1 + v}` });
    }
    data.projects.push({ ...projectTemplate, projectId, projectKey, projectName, issuedCredits, projectStatus: 'ACTIVE',
      creditingProgram: arb ? 'California Air Resources Board' : 'ACR', details: { ...(projectTemplate!.details as object), url: project.projectLink.url, label: projectName } });
  }
  return data;
}

const config = (url: string) => ({ baseUrl: `${url}/api/greentraceservice/v1`, pageSize: PAGE, minIntervalMs: 0, baseDelayMs: 1, retries: 2, timeoutMs: 5_000, maxRetryAfterMs: 1_000 });

async function ledger(db: Database) {
  const [t] = await rows<Record<string, number | string>>(db, sql`select
    (select count(*)::int from projects where registry_id = ${REGISTRY}) as projects,
    (select count(*)::int from issuances where registry_id = ${REGISTRY}) as issuances,
    (select coalesce(sum(quantity), 0)::text from issuances where registry_id = ${REGISTRY}) as issued,
    (select count(*)::int from unit_blocks where registry_id = ${REGISTRY} and status = 'retired') as retired_blocks,
    (select coalesce(sum(quantity), 0)::text from unit_blocks where registry_id = ${REGISTRY} and status = 'retired') as retired,
    (select count(issuance_id)::int from unit_blocks where registry_id = ${REGISTRY} and status = 'retired') as retired_linked,
    (select coalesce(sum(quantity), 0)::text from unit_blocks where registry_id = ${REGISTRY} and status = 'cancelled') as cancelled,
    (select coalesce(sum(quantity), 0)::text from unit_blocks where registry_id = ${REGISTRY} and status = 'exported') as exported,
    (select coalesce(sum(quantity), 0)::text from events where registry_id = ${REGISTRY} and kind = 'issued') as issued_events,
    (select count(*)::int from events where registry_id = ${REGISTRY} and kind = 'converted-out' and counterparty_registry_id = 'arb') as converted_events,
    (select coalesce(sum(quantity), 0)::text from events where registry_id = ${REGISTRY} and kind = 'converted-out') as converted`);
  return t!;
}

describe('ACR API mode (ICE GreenTrace, ACR_REGISTRY)', () => {
  const data = buildRegistry();
  const results = greenTraceResults(data);
  let t: TestDatabase;
  let db: Database;
  let server: ReplayServer;
  /** Per test, answers served before the data set's, by report (`projects`, `ISSUED`, `RETIRED`, `CANCELED`). */
  let scripted: Record<string, ((req: RecordedRequest) => ReplayResponse)[]>;

  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    server = await startReplayServer(greenTraceRoutes(TENANT, (req) => scripted[reportOf(req)]?.shift()?.(req) ?? results(req)));
  });
  beforeEach(() => {
    scripted = {};
  });
  afterAll(async () => {
    await server.close();
    await t.close();
  });

  it('when the captures are read, then each is a whole answer: its rows are its totalCount, and each issuance\'s batches add up to its issuanceQuantity', () => {
    for (const d of Object.values(captured)) expect(d.rows.length).toBe(d.totalCount);
    expect(captured.issued.key).toBe('issuedCredits');
    const byIssuance = new Map<string, { batches: number; stated: number }>();
    for (const row of captured.issued.rows) {
      const e = byIssuance.get(String(row.issuanceKey)) ?? { batches: 0, stated: Number(row.issuanceQuantity) };
      e.batches += qty(row);
      byIssuance.set(String(row.issuanceKey), e);
    }
    expect([...byIssuance.values()].filter((e) => e.batches !== e.stated)).toEqual([]);
    // Summing issuanceQuantity per row would count ACR885's 2024 issuance three times.
    expect(sum(captured.issued.rows.map((r) => Number(r.issuanceQuantity)))).toBeGreaterThan(sum(captured.issued.rows.map(qty)));
  });

  it('when the source is checked, then it names the tenant and its project count', async () => {
    const http = new HttpClient(acrGreenTrace.http(acrGreenTrace.config.parse(config(server.url))));
    try {
      await expect(acrGreenTrace.check(http, acrGreenTrace.config.parse(config(server.url)))).resolves
        .toBe(`${REGISTRY}: ${data.projects.length} projects on ICE GreenTrace (ACR_REGISTRY)`);
    } finally {
      await http.close();
    }
  });

  it('when the registry is pulled, then every stream reconciles and the ledger holds exactly what it serves', async () => {
    const first = server.requests.length;
    const summary = await syncSource(db, REGISTRY, { config: config(server.url) });
    expect(summary.status).toBe('committed');
    expect(summary.errors).toEqual([]);
    expect(summary.rowsRead).toBe(data.projects.length + data.issued.length + data.retired.length + data.cancelled.length);

    const issuedKeys = new Set(data.issued.map((r) => String(r.issuanceKey)));
    const expected = {
      projects: new Set([...data.projects.map((r) => reportId(r.projectId)), ...[...data.issued, ...data.retired, ...data.cancelled].map((r) => reportId(r.projectReferenceId))]).size,
      issuances: issuedKeys.size,
      // The batches' quantities, never issuanceQuantity (the issuance's total restated on each batch).
      issued: sum(data.issued.map(qty)),
      retired_blocks: data.retired.length,
      retired: sum(data.retired.map(qty)),
      retired_linked: data.retired.filter((r) => issuedKeys.has(String(r.issuanceKey))).length,
      cancelled: sum(data.cancelled.filter((r) => !isConversion(r)).map(qty)),
      exported: sum(data.cancelled.filter(isConversion).map(qty)),
      converted_events: data.cancelled.filter(isConversion).length,
      converted: sum(data.cancelled.filter(isConversion).map(qty)),
    };
    // The captures alone: 20 issuances, 1,722,469 issued; the built projects add 24 issuances of 296,424.
    expect(expected).toMatchObject({ issuances: 20 + 24, issued: 1_722_469 + 296_424 });
    const got = await ledger(db);
    const numbers = Object.fromEntries(Object.entries(got).map(([k, v]) => [k, Number(v)]));
    expect(numbers).toMatchObject(expected);
    expect(numbers.issued_events).toBe(expected.issued);

    // Ids are written as the reports and serials write them: ACR885, never ACR0885.
    const [padding] = await rows<{ n: number }>(db, sql`select count(*)::int as n from projects where registry_id = ${REGISTRY} and registry_project_id ~ '^ACR0'`);
    expect(padding!.n).toBe(0);

    // The form body, max at most 2,000, and never the holdings view (holding-summaries without a holdingStatus).
    const requests = server.requests.slice(first);
    for (const req of requests) {
      expect(req.headers['content-type']).toMatch(/application\/x-www-form-urlencoded/);
      const fields = req.body as Record<string, string>;
      expect(Number(fields.max)).toBe(PAGE);
      expect(Number(fields.pageNumber)).toBe(Number(fields.offset) / PAGE + 1);
      if (req.path.includes('holding-summaries')) expect(['ISSUED', 'RETIRED', 'CANCELED']).toContain(fields.holdingStatus);
    }
    const pages = (report: string) => requests.filter((r) => reportOf(r) === report).length;
    expect(pages('RETIRED')).toBe(Math.ceil(data.retired.length / PAGE));
    expect(requests.length).toBe(pages('projects') + pages('ISSUED') + pages('RETIRED') + pages('CANCELED'));
  });

  it('when a captured row is stored, then it reads as the registry wrote it', async () => {
    const [block] = await rows<Record<string, unknown>>(db, sql`select b.retirement_beneficiary, b.retirement_reason, b.retirement_details, b.account_holder,
        b.status_date::text as status_date, b.vintage_start::text as vintage_start, b.number_space, b.serial_start::text as serial_start,
        b.credit_type, i.issuance_key, p.registry_project_id
      from unit_blocks b join projects p on p.id = b.project_id left join issuances i on i.id = b.issuance_id
      where b.registry_id = ${REGISTRY} and b.block_key = 'ACR-US-885-2024-3072-119446 to 130668'`);
    expect(block).toEqual({ retirement_beneficiary: 'Factory Mutual Insurance Company', retirement_reason: 'Environmental Benefit',
      retirement_details: "To balance FM's Greenhouse gas emissions and energy \nrelated emissions in 2025.", account_holder: 'Weyerhaeuser NR Company',
      status_date: '2026-07-20', vintage_start: '2024-01-01', number_space: 'american-carbon-registry:ACR885:2024:3072', serial_start: '119446',
      credit_type: 'ert', issuance_key: '2024/2025-10-28/I3323C9XKDJM', registry_project_id: 'ACR885' });

    // ACR885's 2025 issuance is three batches (3,188 + 11,068 + 3,456): one issuance of 17,712.
    const [issuance] = await rows<Record<string, unknown>>(db, sql`select quantity::bigint::text as quantity, issued_on::text as issued_on, vintage_year, credit_type
      from issuances where registry_id = ${REGISTRY} and issuance_key = '2025/2025-10-28/I3323C9XKDJE'`);
    expect(issuance).toEqual({ quantity: '17712', issued_on: '2025-10-28', vintage_year: 2025, credit_type: 'ert' });

    const projects = await rows<Record<string, unknown>>(db, sql`select registry_project_id, status::text as status, status_raw, eligibility, registry_url, region, proponent
      from projects where registry_id = ${REGISTRY} and registry_project_id in ('ACR885', 'ACR273', 'ACR838') order by 1`);
    expect(projects).toEqual([
      { registry_project_id: 'ACR273', status: 'deregistered', status_raw: 'TERMINATED', eligibility: ['arb-eligible'],
        registry_url: 'https://greentrace.ice.com/acr/projects/registry/ACR_REGISTRY/project/P2323C9VVN24', region: 'OREGON', proponent: 'Green Diamond Resource Company' },
      { registry_project_id: 'ACR838', status: 'unknown', status_raw: 'ACTIVE', eligibility: [],
        registry_url: expect.stringMatching(/\/acr\/projects\/registry\/ACR_REGISTRY\/project\/P/), region: null, proponent: expect.any(String) },
      { registry_project_id: 'ACR885', status: 'registered', status_raw: 'ACTIVE', eligibility: [],
        registry_url: 'https://greentrace.ice.com/acr/projects/registry/ACR_REGISTRY/project/P2323C9VXD25', region: 'ARKANSAS', proponent: 'Weyerhaeuser NR Company' },
    ]);

    // Conversions to ARB are exports with one converted-out event to arb; the reversal compensation from the buffer stays a cancellation.
    const cancelled = await rows<Record<string, unknown>>(db, sql`select block_key, status::text as status, retirement_reason, retirement_details, eligibility
      from unit_blocks where registry_id = ${REGISTRY} and block_key in ('ACR-US-234-2020-1356-1 to 16323', 'ACR-US-628-2023-2806-38345 to 40481') order by 1`);
    expect(cancelled).toEqual([
      { block_key: 'ACR-US-234-2020-1356-1 to 16323', status: 'exported', retirement_reason: 'Convert to ARB Offset Credits', retirement_details: null, eligibility: ['arb-eligible'] },
      { block_key: 'ACR-US-628-2023-2806-38345 to 40481', status: 'cancelled', retirement_reason: 'Compensation for Intentional Reversal',
        retirement_details: 'buffer pool (reserve) units', eligibility: [] },
    ]);
    const [event] = await rows<Record<string, unknown>>(db, sql`select count(*)::int as n, min(counterparty_registry_id) as counterparty, min(occurred_on)::text as occurred_on
      from events where registry_id = ${REGISTRY} and event_key = 'converted-out:ACR-US-234-2020-1356-1 to 16323'`);
    expect(event).toEqual({ n: 1, counterparty: 'arb', occurred_on: '2022-03-17' });
  });

  it('when the registry is pulled again, then nothing new is stored', async () => {
    const before = await ledger(db);
    const summary = await syncSource(db, REGISTRY, { config: config(server.url) });
    expect(summary.rawRecords.new).toBe(0);
    expect(summary.projects.new + summary.projects.changed).toBe(0);
    expect(summary.issuances.new + summary.issuances.changed).toBe(0);
    expect(summary.blocks.new + summary.blocks.changed).toBe(0);
    expect(summary.events.new).toBe(0);
    expect(await ledger(db)).toEqual(before);
  });

  it('when the registry answers 429 (with Retry-After) and 500 before it answers, then the pull succeeds', async () => {
    const before = server.requests.length;
    scripted.RETIRED = [
      () => ({ status: 429, headers: { 'retry-after': '0.05' }, body: 'error code: 1015' }),
      () => ({ status: 500, json: { status: 500, error: 'Internal Server Error' } }),
    ];
    const summary = await syncSource(db, REGISTRY, { config: config(server.url) });
    expect(summary.status).toBe('committed');
    expect(summary.blocks.new).toBe(0);
    expect(server.requests.slice(before).filter((r) => reportOf(r) === 'RETIRED').length).toBe(Math.ceil(data.retired.length / PAGE) + 2);
  });

  async function failedSync(): Promise<{ failure: string; elapsedMs: number }> {
    const before = await ledger(db);
    const [batches] = await rows<{ n: number }>(db, sql`select count(*)::int as n from batches where status = 'committed'`);
    const started = performance.now();
    const error = await syncSource(db, REGISTRY, { config: config(server.url) }).catch((e: unknown) => e);
    const elapsedMs = performance.now() - started;
    expect(error).toBeInstanceOf(BatchRejected);
    expect(await ledger(db)).toEqual(before);
    const [after] = await rows<{ n: number }>(db, sql`select count(*)::int as n from batches where status = 'committed'`);
    expect(after!.n).toBe(batches!.n);
    return { failure: (error as BatchRejected).summary.failure ?? '', elapsedMs };
  }

  it('when GreenTrace asks to come back in an hour (429, Retry-After: 3600), then the sync fails at once and says when to pull again', async () => {
    scripted.ISSUED = [() => ({ status: 429, headers: { 'retry-after': '3600' }, body: 'error code: 1015' })];
    const { failure, elapsedMs } = await failedSync();
    expect(failure).toMatch(/Retry-After: 3600.*60 min.*run the pull again after that time/);
    expect(elapsedMs).toBeLessThan(3_000);
  });

  it('when GreenTrace answers 401 "Invalid API Key", then the sync fails saying it is throttling, not a missing key', async () => {
    scripted.CANCELED = [() => ({ status: 401, json: { message: 'Invalid API Key' } })];
    const { failure } = await failedSync();
    expect(failure).toMatch(/401 "Invalid API Key".*takes no key.*throttles/);
    const [state] = await rows<{ last_error: string }>(db, sql`select last_error from connector_state where connector = 'american-carbon-registry-api'`);
    expect(state!.last_error).toMatch(/throttles/);
  });

  it('when a page comes back as an HTML page with status 200, then the sync fails, says so, and the ledger is unchanged', async () => {
    scripted.RETIRED = [() => ({ status: 200, headers: { 'content-type': 'text/html' }, body: '<html><head><title>Invalid page</title></head><body>You have reached an invalid page.</body></html>' })];
    const { failure } = await failedSync();
    expect(failure).toMatch(/HTML page.*Invalid page/);
  });

  it('when the body is cut off on every attempt, then the sync fails with a clear error and stores nothing', async () => {
    scripted.projects = [1, 2, 3, 4].map(() => (req: RecordedRequest) => ({ ...results(req), truncateAfterBytes: 300 }));
    const { failure } = await failedSync();
    expect(failure).toMatch(/does not parse.*cut off/);
  });

  it('when the registry reports more records than it serves, then the sync fails with the reconciliation error', async () => {
    const inflated = (req: RecordedRequest): ReplayResponse => {
      const answer = results(req) as { json: { datasets: { issuedCredits: { rows: Row[]; totalCount: number } } } };
      const d = answer.json.datasets.issuedCredits;
      return { json: { datasets: { issuedCredits: { rows: d.rows, totalCount: d.totalCount + 5 } } } };
    };
    scripted.ISSUED = Array.from({ length: 10 }, () => inflated);
    const { failure } = await failedSync();
    expect(failure).toBe(`${REGISTRY} issuances: received ${data.issued.length} records but the registry reports ${data.issued.length + 5} (totalCount of datasets.issuedCredits); the pull is incomplete and nothing was stored`);
  });

  it('when the registry ignores holdingStatus and answers with the whole holdings book, then the sync refuses rather than double count', async () => {
    scripted.RETIRED = [(req) => results({ ...req, body: { ...(req.body as object), holdingStatus: undefined } })];
    const { failure } = await failedSync();
    expect(failure).toMatch(/without the "retiredCredits" dataset \(found "holdings"\).*whole book/);
  });

  it('when records arrive between two pages, then the sync fails instead of storing a shifted read', async () => {
    scripted.RETIRED = [
      (req) => results(req),
      (req) => {
        const answer = results(req) as { json: { datasets: { retiredCredits: { rows: Row[]; totalCount: number } } } };
        const d = answer.json.datasets.retiredCredits;
        return { json: { datasets: { retiredCredits: { rows: d.rows, totalCount: d.totalCount + 1 } } } };
      },
    ];
    const { failure } = await failedSync();
    expect(failure).toMatch(/totalCount went from \d+ to \d+ during the pull/);
  });
});

// The same blocks ingested from the APX reports and then pulled from GreenTrace meet in one ledger row:
// the block key is the serial as written, the project id loses GreenTrace's zero padding. The API rows
// here are built from the report sample's rows (test/fixtures/registry-samples/american-carbon-registry).
describe('ACR file mode and API mode on the same ledger', () => {
  const sample = (name: string) => readCsv(new URL(`../fixtures/registry-samples/${REGISTRY}/${name}`, import.meta.url));
  /** Month-first `6/30/2025 7:43:26 PM` → `2025-06-30`. */
  const iso = (v: string | undefined) => {
    const [m, d, y] = (v ?? '').split(' ')[0]!.split('/') as [string, string, string];
    return `${y}-${m.padStart(2, '0')}-${d.padStart(2, '0')}`;
  };
  let t: TestDatabase;
  let db: Database;
  let server: ReplayServer;
  const data: GreenTraceData = { projects: [], issued: [], retired: [], cancelled: [] };

  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    for (const file of ['projects.csv', 'issuances.csv', 'retirements.csv', 'cancellations.csv']) {
      await ingestFile(db, new URL(`../fixtures/registry-samples/${REGISTRY}/${file}`, import.meta.url).pathname, { registry: REGISTRY });
    }
    const [retiredTemplate] = capturedDataset('acr-retirements.json').rows;
    const [cancelledTemplate] = capturedDataset('acr-cancellations.json').rows;
    const credit = (r: Record<string, string>, i: number) => ({
      holdingKey: `H9FILE${i}`, holdingSerialNumber: r['Credit Serial Numbers'], holdingQuantity: Number(r['Quantity of Credits']),
      projectKey: `P9FILE${r['Project ID']!.slice(3)}`, projectReferenceId: padded('ACR', r['Project ID']!.slice(3)), projectName: r['Project Name'],
      projectSiteLocationState: r['Project Site State'], projectSiteLocationCountry: r['Project Site Country'], vintage: r.Vintage,
      issuanceKey: `I9FILE${i}`, issuanceDate: iso(r['Date Issued (GMT)']), accountHolderProfileName: r['Account Holder'], registryLabels: [],
      issuanceVintageStartDate: r['Vintage Assignment Period Start Date'] ? iso(r['Vintage Assignment Period Start Date']) : null,
      developerProfileName: null, arbEligible: r['ARB Eligible'] || 'No', ecologyEligible: r['Ecology Eligible'] || 'No',
    });
    data.retired = sample('retirements.csv').map((r, i) => ({ ...retiredTemplate, ...credit(r, i), retirementDate: iso(r['Status Effective (GMT)']),
      retirementOnBehalfOfName: r['Retired on Behalf of'], retirementReasonDisplayName: r['Retirement Reason'], retirementPurpose: r['Purpose of Retirement'] }));
    // The raw header has two spaces here (the CSV reader normalizes it for file mode).
    data.cancelled = sample('cancellations.csv').map((r, i) => ({ ...cancelledTemplate, ...credit(r, 1000 + i), cancellationDate: iso(r['Status Effective  (GMT)']),
      cancellationReasonDisplayName: r['Cancellation Type'], isReserve: false }));
    server = await startReplayServer(greenTraceRoutes(TENANT, greenTraceResults(data)));
  });
  afterAll(async () => {
    await server.close();
    await t.close();
  });

  it('when the blocks the reports hold are pulled from GreenTrace, then they meet the same blocks, projects and events instead of adding to them', async () => {
    const before = await ledger(db);
    const [blocksBefore] = await rows<{ n: number }>(db, sql`select count(*)::int as n from unit_blocks where registry_id = ${REGISTRY}`);
    expect(blocksBefore!.n).toBe(data.retired.length + data.cancelled.length);

    const summary = await syncSource(db, REGISTRY, { config: config(server.url) });
    expect(summary).toMatchObject({ status: 'committed', rowsRejected: 0 });
    expect(summary.projects.new).toBe(0);
    expect(summary.blocks.new).toBe(0);
    expect(summary.events.new).toBe(0);
    const after = await ledger(db);
    // Block totals, exports and their converted-out events are unchanged. The blocks' links to the
    // report's issuances are not: the API's issuance key cannot be the report's (README, "API mode").
    expect({ ...after, retired_linked: 0 }).toEqual({ ...before, retired_linked: 0 });
  });
});
