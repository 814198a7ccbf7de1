import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { acrGreenTrace } from '../../connectors/greentrace/platform.ts';
import { HttpClient } from '../../connectors/runtime/http.ts';
import { BatchRejected, type IngestSummary } from '../../jobs/ingest.ts';
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
      credit_type: 'ert', issuance_key: '2024/2025-10-28', registry_project_id: 'ACR885' });

    // ACR885's 2025 issuance is three batches (3,188 + 11,068 + 3,456): one issuance of 17,712, keyed as
    // file mode keys the report's two rows of it (14,256 and 3,456 at 10/28/2025 9:50:47 PM GMT).
    const [issuance] = await rows<Record<string, unknown>>(db, sql`select quantity::bigint::text as quantity, issued_on::text as issued_on, vintage_year, credit_type
      from issuances i join projects p on p.id = i.project_id where i.registry_id = ${REGISTRY} and p.registry_project_id = 'ACR885' and i.issuance_key = '2025/2025-10-28'`);
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

// Two GreenTrace issuances of one project and vintage on one day would share the key `<vintage>/<day>`
// (none do in the captures: 24 issuances, each alone on its project, vintage and day). The ledger then
// holds one issuance, their sum, as file mode sums the report's rows of that day.
describe('ACR API mode, two issuances of one vintage on one day', () => {
  let t: TestDatabase;
  let db: Database;
  let server: ReplayServer;
  const issued = captured.issued.rows;
  const first = issued.filter((r) => r.issuanceKey === 'I3323C9XKDJE');
  // A second issuance of ACR885's 2025 vintage on 2025-10-28, its two batches served between the first's.
  const second = [5_000, 1_200].map((size, i) => ({ ...first[0]!, issuanceKey: 'I9SAMEDAY', issuanceQuantity: 6_200, holdingKey: `S9SAMEDAY${i}`,
    holdingSerialNumber: `ACR-US-885-2025-${9100 + i}-1 to ${size}`, holdingQuantity: size }));
  const data: GreenTraceData = { projects: [], issued: [first[0]!, second[0]!, ...first.slice(1), second[1]!], retired: [], cancelled: [] };

  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    server = await startReplayServer(greenTraceRoutes(TENANT, greenTraceResults(data)));
  });
  afterAll(async () => {
    await server.close();
    await t.close();
  });

  it('when both are pulled, then the ledger holds one issuance of their sum, and pulling again changes nothing', async () => {
    expect(first.map(qty)).toHaveLength(3);
    const stored = async () => rows<Record<string, unknown>>(db, sql`select i.issuance_key, i.quantity::bigint::text as quantity, i.issued_on::text as issued_on,
        (select sum(quantity)::bigint::text from events e where e.issuance_id = i.id and e.kind = 'issued') as issued_events
      from issuances i where i.registry_id = ${REGISTRY}`);
    const summary = await syncSource(db, REGISTRY, { config: config(server.url) });
    expect(summary).toMatchObject({ status: 'committed', rowsRejected: 0 });
    const expected = [{ issuance_key: '2025/2025-10-28', quantity: String(17_712 + 6_200), issued_on: '2025-10-28', issued_events: String(17_712 + 6_200) }];
    expect(sum(data.issued.map(qty))).toBe(17_712 + 6_200);
    expect(await stored()).toEqual(expected);

    const again = await syncSource(db, REGISTRY, { config: config(server.url) });
    expect(again.issuances.new + again.issuances.changed).toBe(0);
    expect(again.events.new).toBe(0);
    expect(await stored()).toEqual(expected);
  });
});

// The same registry read both ways on one ledger: the APX report samples
// (test/fixtures/registry-samples/american-carbon-registry), and GreenTrace answering with what those
// reports hold, shaped as GreenTrace shapes it: an issuance per project, vintage and day in New York,
// its batches the report's rows of that issuance (a removal row and the rest, as ACR885's 2025 issuance
// is batches of 11,068 + 3,188 and 3,456), and the retired and cancelled blocks with their issuance's id
// and day. Whichever mode comes first, the second adds no issuance, block or event: issuances meet on
// `<vintage>/<issue day>`, blocks on the serial, events on keys made of those.
describe('ACR file mode and API mode on the same ledger', () => {
  const sample = (name: string) => readCsv(new URL(`../fixtures/registry-samples/${REGISTRY}/${name}`, import.meta.url));
  /** Month-first `6/30/2025 7:43:26 PM` → `2025-06-30`, the day as written. */
  const iso = (v: string | undefined) => {
    const [m, d, y] = (v ?? '').split(' ')[0]!.split('/') as [string, string, string];
    return `${y}-${m.padStart(2, '0')}-${d.padStart(2, '0')}`;
  };
  const newYork = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/New_York', year: 'numeric', month: '2-digit', day: '2-digit' });
  /** A GMT time `10/1/2025 12:08:20 AM` → `2025-09-30`: its day in New York, the day GreenTrace gives (its timestamps are New York's). */
  const dayInNewYork = (v: string | undefined) => {
    const [date, time, meridiem] = (v ?? '').trim().split(/\s+/) as [string, string, string];
    const [m, d, y] = date.split('/').map(Number) as [number, number, number];
    const [h, min, sec] = time.split(':').map(Number) as [number, number, number];
    return newYork.format(new Date(Date.UTC(y, m - 1, d, (h % 12) + (meridiem.toUpperCase() === 'PM' ? 12 : 0), min, sec)));
  };
  const n = (v: string | undefined) => Number(v || 0);
  const files = ['projects.csv', 'issuances.csv', 'retirements.csv', 'cancellations.csv'];
  const report = { issuances: sample('issuances.csv'), retirements: sample('retirements.csv'), cancellations: sample('cancellations.csv') };
  const blockRows = [...report.retirements, ...report.cancellations];
  /** An issuance: its project, vintage and day in New York. */
  const identity = (r: Record<string, string>) => `${r['Project ID']}|${r.Vintage}|${dayInNewYork(r['Date Issued (GMT)'])}`;
  const issuanceRows = new Map<string, Record<string, string>[]>();
  for (const r of report.issuances) issuanceRows.set(identity(r), [...(issuanceRows.get(identity(r)) ?? []), r]);

  // What the ledger must hold, computed from the report files, whatever mode fed it and in whatever order.
  const expected = {
    issuances: issuanceRows.size,
    issued: sum(report.issuances.map((r) => n(r['Total Credits Issued']))),
    buffer: sum(report.issuances.map((r) => n(r['Credits Issued to Buffer Pool']) + n(r['Credits Transferred to Buffer Pool']))),
    blocks: blockRows.length,
    linked: blockRows.filter((r) => issuanceRows.has(identity(r))).length,
  };

  /** GreenTrace's answer for what the reports hold. */
  function greenTrace(): GreenTraceData {
    const [issuedTemplate] = capturedDataset('acr-issuances.json').rows;
    const [retiredTemplate] = capturedDataset('acr-retirements.json').rows;
    const [cancelledTemplate] = capturedDataset('acr-cancellations.json').rows;
    const ids = new Map<string, string>();
    const issuanceOf = (r: Record<string, string>) => {
      if (!ids.has(identity(r))) ids.set(identity(r), `I9FILE${ids.size}`);
      return { issuanceKey: ids.get(identity(r))!, issuanceDate: dayInNewYork(r['Date Issued (GMT)']), vintage: r.Vintage };
    };
    const projectOf = (r: Record<string, string>) => ({
      projectKey: `P9FILE${r['Project ID']!.slice(3)}`, projectReferenceId: padded('ACR', r['Project ID']!.slice(3)), projectName: r['Project Name'],
      projectSiteLocationState: r['Project Site State'], projectSiteLocationCountry: r['Project Site Country'], developerProfileName: null,
      registryLabels: [], arbEligible: r['ARB Eligible'] || 'No', ecologyEligible: r['Ecology Eligible'] || 'No',
    });
    let batch = 90_000;
    const issued = [...issuanceRows.values()].flatMap((rowsOf) => rowsOf.map((r) => {
      const number = batch++;
      const quantity = n(r['Total Credits Issued']);
      return { ...issuedTemplate, ...projectOf(r), ...issuanceOf(r), issuanceQuantity: sum(rowsOf.map((x) => n(x['Total Credits Issued']))),
        issuanceVintageStartDate: r.ReportingPeriodBegin ? iso(r.ReportingPeriodBegin) : null, holdingKey: `S9FILE${number}`,
        holdingSerialNumber: `ACR-${r['Project Site Country']}-${r['Project ID']!.slice(3)}-${r.Vintage}-${number}-1 to ${quantity}`, holdingQuantity: quantity };
    }));
    const credit = (r: Record<string, string>, i: number) => ({
      ...projectOf(r), ...issuanceOf(r), holdingKey: `H9FILE${i}`, holdingSerialNumber: r['Credit Serial Numbers'], holdingQuantity: n(r['Quantity of Credits']),
      accountHolderProfileName: r['Account Holder'],
      issuanceVintageStartDate: r['Vintage Assignment Period Start Date'] ? iso(r['Vintage Assignment Period Start Date']) : null,
    });
    const retired = report.retirements.map((r, i) => ({ ...retiredTemplate, ...credit(r, i), retirementDate: iso(r['Status Effective (GMT)']),
      retirementOnBehalfOfName: r['Retired on Behalf of'], retirementReasonDisplayName: r['Retirement Reason'], retirementPurpose: r['Purpose of Retirement'] }));
    // The raw header has two spaces here (the CSV reader normalizes it for file mode).
    const cancelled = report.cancellations.map((r, i) => ({ ...cancelledTemplate, ...credit(r, 1000 + i), cancellationDate: iso(r['Status Effective  (GMT)']),
      cancellationReasonDisplayName: r['Cancellation Type'], isReserve: false }));
    return { projects: [], issued, retired, cancelled };
  }

  let server: ReplayServer;
  beforeAll(async () => {
    server = await startReplayServer(greenTraceRoutes(TENANT, greenTraceResults(greenTrace())));
  });
  afterAll(async () => {
    await server.close();
  });

  async function both(db: Database) {
    const [t] = await rows<Record<string, number | string>>(db, sql`select
      (select count(*)::int from issuances where registry_id = ${REGISTRY}) as issuances,
      (select coalesce(sum(quantity), 0)::bigint::text from issuances where registry_id = ${REGISTRY}) as issued,
      (select coalesce(sum(buffer_quantity), 0)::bigint::text from issuances where registry_id = ${REGISTRY}) as buffer,
      (select count(*)::int from unit_blocks where registry_id = ${REGISTRY}) as blocks,
      (select count(issuance_id)::int from unit_blocks where registry_id = ${REGISTRY}) as linked,
      (select coalesce(sum(quantity), 0)::bigint::text from events where registry_id = ${REGISTRY} and kind = 'issued') as issued_events,
      (select count(*)::int from events where registry_id = ${REGISTRY} and kind <> 'issued' and issuance_id is not null) as linked_events,
      (select count(*)::int from events where registry_id = ${REGISTRY} and kind <> 'issued') as block_events,
      (select coalesce(sum(quantity), 0)::bigint::text from unit_blocks where registry_id = ${REGISTRY}) as block_tonnes`);
    return Object.fromEntries(Object.entries(t!).map(([k, v]) => [k, Number(v)]));
  }

  type Mode = (db: Database) => Promise<IngestSummary[]>;
  const readReports: Mode = async (db) => {
    const summaries: IngestSummary[] = [];
    for (const file of files) {
      const summary = await ingestFile(db, new URL(`../fixtures/registry-samples/${REGISTRY}/${file}`, import.meta.url).pathname, { registry: REGISTRY });
      expect(summary, file).toMatchObject({ status: 'committed', rowsRejected: 0 });
      summaries.push(summary);
    }
    return summaries;
  };
  const pull: Mode = async (db) => {
    const summary = await syncSource(db, REGISTRY, { config: config(server.url) });
    expect(summary).toMatchObject({ status: 'committed', rowsRejected: 0 });
    return [summary];
  };

  /** Feeds one mode, then the other, checking the ledger against the report files after each. */
  async function feed(first: Mode, second: Mode) {
    const t = await openTestDatabase();
    try {
      const db = t.handle.db;
      await first(db);
      const before = await both(db);
      expect({ issuances: before.issuances, issued: before.issued }).toEqual({ issuances: expected.issuances, issued: expected.issued });
      const summaries = await second(db);
      const after = await both(db);
      // One count: each issuance once, with the report's quantity (the sum of its rows) and buffer.
      expect(after).toMatchObject({ issuances: expected.issuances, issued: expected.issued, buffer: expected.buffer, issued_events: expected.issued });
      // Blocks and their events meet, and attach to the issuance whichever mode stored it.
      expect(after).toMatchObject({ blocks: expected.blocks, linked: expected.linked, linked_events: expected.linked, block_events: expected.blocks });
      expect({ ...after, buffer: 0 }).toEqual({ ...before, buffer: 0 });
      // Nothing the second mode read was new to the ledger.
      expect({
        issuances: sum(summaries.map((x) => x.issuances.new)), blocks: sum(summaries.map((x) => x.blocks.new)), events: sum(summaries.map((x) => x.events.new)),
      }).toEqual({ issuances: 0, blocks: 0, events: 0 });
    } finally {
      await t.close();
    }
  }

  it('when the report sample is computed as GreenTrace would serve it, then its issuances are fewer than its rows, and its blocks link to some', () => {
    // 100 rows: 12 issuances are a removal row and another; ACR554's batches (blocks stamped 13:11:53 and 13:11:54) are one issuance.
    expect(expected).toMatchObject({ issuances: 88, issued: 7_749_713, buffer: 195_800, blocks: 150, linked: 40 });
  });

  it('when the reports are ingested and then GreenTrace is pulled, then each issuance is in the ledger once, with the report\'s quantity', async () => {
    await feed(readReports, pull);
  });

  it('when GreenTrace is pulled and then the reports are ingested, then each issuance is in the ledger once, with the report\'s quantity', async () => {
    await feed(pull, readReports);
  });
});
