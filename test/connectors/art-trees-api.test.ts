import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BatchRejected } from '../../jobs/ingest.ts';
import { ingestFile } from '../../jobs/ingest-file.ts';
import { syncSource } from '../../jobs/sync.ts';
import { rows, type Database } from '../../schema/database.ts';
import { resolveCountry } from '../../schema/taxonomy/countries.ts';
import { readCsv } from '../helpers/csv.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { capturedDataset, greenTraceResults, greenTraceRoutes, padded, reportOf, type GreenTraceData, type Row } from '../helpers/greentrace-emulator.ts';
import { startReplayServer, type RecordedRequest, type ReplayResponse, type ReplayServer } from '../helpers/replay-server.ts';

// ART TREES' API mode (ICE GreenTrace, tenant ART_REGISTRY: the same API as ACR's with one path
// segment changed). No ART answer was captured, so the server here serves rows shaped exactly as the
// captured ACR ones (test/fixtures/api-captures/acr-*.json) carrying ART's whole registry as its
// reports hold it (test/fixtures/registry-samples/art-trees: 28 programs, 11 issuances, 8 retirements,
// 3 cancellations), in pages of 3. The issued ledger's batch serials are made up (the issuance report
// has none): one batch per issuance, numbered from 900. Ids are served zero-padded, as GreenTrace
// writes ACR's (`ACR0934`), to show they meet the reports' `ART102` either way.

const REGISTRY = 'art-trees';
const TENANT = 'ART_REGISTRY';
const PAGE = 3;
const sample = (name: string) => readCsv(new URL(`../fixtures/registry-samples/${REGISTRY}/${name}`, import.meta.url));
const csv = { programs: sample('projects.csv'), issuances: sample('issuances.csv'), retirements: sample('retirements.csv'), cancellations: sample('cancellations.csv') };
const num = (v: string | undefined) => Number((v ?? '').replace(/,/g, '') || 0);
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
/** Month-first `3/9/2026 4:16:10 PM` or `03/09/2026` → `2026-03-09`. */
const iso = (v: string | undefined) => {
  const [m, d, y] = (v ?? '').split(' ')[0]!.split('/') as [string, string, string];
  return `${y}-${m.padStart(2, '0')}-${d.padStart(2, '0')}`;
};
/** An issuance is (program, vintage, approval day) in every report. */
const identity = (r: Record<string, string>) => `${r['Program ID']}|${r.Vintage}|${iso(r['Date Approved'])}`;

function buildRegistry(): GreenTraceData {
  const [projectTemplate] = capturedDataset('acr-projects.json').rows;
  const [issuedTemplate] = capturedDataset('acr-issuances.json').rows;
  const [retiredTemplate] = capturedDataset('acr-retirements.json').rows;
  const [cancelledTemplate] = capturedDataset('acr-cancellations.json').rows;
  const programs = new Map(csv.programs.map((r) => [r['Program ID']!, r]));
  const program = (r: Record<string, string>) => {
    const id = r['Program ID']!;
    const p = programs.get(id) ?? r;
    const n = id.slice(3);
    const projectKey = `P9ART${n}`;
    return {
      projectKey, projectReferenceId: padded('ART', n), projectName: p['Program Name'], developerProfileName: p['Sovereign Program Developer'],
      projectSiteLocationState: p['Program Jurisdiction(s)'] || null, projectSiteLocationCountry: resolveCountry(p['Program  Country'])?.code ?? null,
      registryCode: 'ART', arbEligible: 'No', ecologyEligible: 'No', registryLabels: null,
      projectLink: { type: 'link', url: `/art/projects/registry/${TENANT}/project/${projectKey}`, method: 'GET', params: [], label: p['Program Name'] },
    };
  };
  const issuanceKeys = new Map(csv.issuances.map((r, i) => [identity(r), `I9ART${i}`]));
  const issuance = (r: Record<string, string>) => ({
    issuanceKey: issuanceKeys.get(identity(r)) ?? `I9ARTX${identity(r)}`, vintage: r.Vintage, issuanceVintageStartDate: `${r.Vintage}-01-01`, issuanceDate: iso(r['Date Approved']),
  });
  const issued = csv.issuances.map((r, i) => {
    const p = program(r);
    const prefix = /^FCPF/.test(r['Crediting Program and Standard'] ?? '') ? 'FCPF' : 'ART';
    const gross = num(r['Total Emission Reductions/Removals']);
    return { ...issuedTemplate, ...p, ...issuance(r), holdingKey: `S9ART${i}`, issuanceQuantity: gross, holdingQuantity: gross,
      holdingSerialNumber: `${prefix}-${p.projectSiteLocationCountry}-${r['Program ID']!.slice(3)}-${r.Vintage}-${900 + i}-1 to ${gross}` };
  });
  const closed = (r: Record<string, string>, i: number) => ({
    ...program(r), ...issuance(r), holdingKey: `H9ART${i}`, holdingSerialNumber: r['Credit Serial Numbers'], holdingQuantity: num(r['Quantity of Credits']),
    accountHolderProfileName: r['Account Holder'], isReserve: false, holdingStatusEffectiveTimestamp: `${iso(r['Status Effective'])}T12:00:00-04:00`,
  });
  const retired = csv.retirements.map((r, i) => ({ ...retiredTemplate, ...closed(r, i), retirementKey: `R9ART${i}`, retirementDate: iso(r['Status Effective']),
    retirementOnBehalfOfName: r['Retired on Behalf of'] || null, retirementReasonDisplayName: r['Retirement Reason'], retirementPurpose: r['Purpose of Retirement'] || null }));
  const cancelled = csv.cancellations.map((r, i) => ({ ...cancelledTemplate, ...closed(r, 100 + i), cancellationKey: `C9ART${i}`, cancellationDate: iso(r['Status Effective']),
    cancellationReason: 'CORSIA_COMPLIANCE', cancellationReasonDisplayName: r['Cancellation Reason'], cancellationReasonDescription: null }));
  const issuedBy = new Map<string, number>();
  for (const r of issued) issuedBy.set(String(r.projectReferenceId), (issuedBy.get(String(r.projectReferenceId)) ?? 0) + Number(r.holdingQuantity));
  const projects = csv.programs.map((r) => {
    const p = program(r);
    return { ...projectTemplate, projectId: p.projectReferenceId, projectKey: p.projectKey, projectName: r['Program Name'], projectStatus: 'ACTIVE',
      projectMethodology: r['Crediting Program and Standard'], projectType: r['Program Type'], projectDeveloper: r['Sovereign Program Developer'],
      creditingProgram: 'ART', country: p.projectSiteLocationCountry, issuedCredits: issuedBy.get(p.projectReferenceId) ?? 0, details: { ...p.projectLink } };
  });
  return { projects, issued, retired, cancelled };
}

const config = (url: string) => ({ baseUrl: `${url}/api/greentraceservice/v1`, pageSize: PAGE, minIntervalMs: 0, baseDelayMs: 1, retries: 2, timeoutMs: 5_000, maxRetryAfterMs: 1_000 });

async function ledger(db: Database) {
  const [t] = await rows<Record<string, number | string>>(db, sql`select
    (select count(*)::int from projects where registry_id = ${REGISTRY}) as projects,
    (select count(*)::int from issuances where registry_id = ${REGISTRY}) as issuances,
    (select coalesce(sum(quantity), 0)::text from issuances where registry_id = ${REGISTRY}) as issued,
    (select coalesce(sum(quantity), 0)::text from issuances where registry_id = ${REGISTRY} and credit_type = 'fcpf-er') as issued_fcpf,
    (select count(*)::int from unit_blocks where registry_id = ${REGISTRY}) as blocks,
    (select count(issuance_id)::int from unit_blocks where registry_id = ${REGISTRY}) as blocks_linked,
    (select coalesce(sum(quantity), 0)::text from unit_blocks where registry_id = ${REGISTRY} and status = 'retired') as retired,
    (select coalesce(sum(quantity), 0)::text from unit_blocks where registry_id = ${REGISTRY} and status = 'cancelled') as cancelled,
    (select count(*)::int from unit_blocks where registry_id = ${REGISTRY} and retirement_purpose = 'corsia') as corsia_blocks,
    (select coalesce(sum(quantity), 0)::text from events where registry_id = ${REGISTRY} and kind = 'issued') as issued_events,
    (select count(*)::int from events where registry_id = ${REGISTRY}) as events`);
  return t!;
}

const data = buildRegistry();

describe('ART TREES API mode (ICE GreenTrace, ART_REGISTRY)', () => {
  const results = greenTraceResults(data);
  let t: TestDatabase;
  let db: Database;
  let server: ReplayServer;
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

  it('when the registry is pulled, then every stream reconciles and the ledger holds exactly what it serves', async () => {
    const summary = await syncSource(db, REGISTRY, { config: config(server.url) });
    expect(summary).toMatchObject({ status: 'committed', rowsRejected: 0, errors: [] });

    const corsia = csv.cancellations.filter((r) => r['Cancellation Reason'] === 'CORSIA Compliance');
    const expected = {
      projects: new Set([...csv.programs, ...csv.issuances, ...csv.retirements, ...csv.cancellations].map((r) => r['Program ID'])).size,
      issuances: new Set(csv.issuances.map(identity)).size,
      issued: sum(csv.issuances.map((r) => num(r['Total Emission Reductions/Removals']))),
      issued_fcpf: sum(csv.issuances.filter((r) => /^FCPF/.test(r['Crediting Program and Standard'] ?? '')).map((r) => num(r['Total Emission Reductions/Removals']))),
      blocks: csv.retirements.length + csv.cancellations.length,
      // Every block of the sample names an issuance the issuance report holds.
      blocks_linked: [...csv.retirements, ...csv.cancellations].filter((r) => csv.issuances.some((i) => identity(i) === identity(r))).length,
      retired: sum(csv.retirements.map((r) => num(r['Quantity of Credits']))),
      cancelled: sum(csv.cancellations.map((r) => num(r['Quantity of Credits']))),
      corsia_blocks: corsia.length,
    };
    expect(expected).toMatchObject({ projects: 28, issuances: 11, issued: 62_322_618, blocks: 11, blocks_linked: 11, corsia_blocks: 3 });
    const got = await ledger(db);
    expect(Object.fromEntries(Object.entries(got).map(([k, v]) => [k, Number(v)]))).toMatchObject({ ...expected, issued_events: expected.issued });

    const [padding] = await rows<{ n: number }>(db, sql`select count(*)::int as n from projects where registry_id = ${REGISTRY} and registry_project_id ~ '^ART0'`);
    expect(padding!.n).toBe(0);
    const [guyana] = await rows<Record<string, unknown>>(db, sql`select country, status::text as status, registry_url from projects where key = 'art-trees:ART102'`);
    expect(guyana).toEqual({ country: 'GY', status: 'registered', registry_url: 'https://greentrace.ice.com/art/projects/registry/ART_REGISTRY/project/P9ART102' });

    expect(server.requests.every((r) => r.path.includes(`/registry/${TENANT}/`) && (r.body as Record<string, string>).max === String(PAGE))).toBe(true);
    expect(server.requests.filter((r) => reportOf(r) === 'ISSUED')).toHaveLength(Math.ceil(data.issued.length / PAGE));
  });

  it('when the registry is pulled again, then nothing new is stored', async () => {
    const before = await ledger(db);
    const summary = await syncSource(db, REGISTRY, { config: config(server.url) });
    expect(summary.rawRecords.new).toBe(0);
    expect(summary.projects.new + summary.projects.changed + summary.issuances.new + summary.issuances.changed).toBe(0);
    expect(summary.blocks.new + summary.blocks.changed + summary.events.new).toBe(0);
    expect(await ledger(db)).toEqual(before);
  });

  it('when the registry answers 429 (with Retry-After) and 500 before it answers, then the pull succeeds', async () => {
    scripted.CANCELED = [
      () => ({ status: 429, headers: { 'retry-after': '0.05' }, body: 'error code: 1015' }),
      () => ({ status: 500, json: { status: 500, error: 'Internal Server Error' } }),
    ];
    await expect(syncSource(db, REGISTRY, { config: config(server.url) })).resolves.toMatchObject({ status: 'committed' });
  });

  const inflate = (req: RecordedRequest): ReplayResponse => {
    const answer = results(req) as { json: { datasets: Record<string, { rows: Row[]; totalCount: number }> } };
    const [key, d] = Object.entries(answer.json.datasets)[0]!;
    return { json: { datasets: { [key]: { rows: d.rows, totalCount: d.totalCount + 2 } } } };
  };
  const faults: { when: string; report: string; script: ((req: RecordedRequest) => ReplayResponse)[]; failure: RegExp }[] = [
    { when: 'a page is an HTML page with status 200', report: 'RETIRED', failure: /HTML page.*Invalid page/,
      script: [() => ({ status: 200, headers: { 'content-type': 'text/html' }, body: '<html><head><title>Invalid page</title></head></html>' })] },
    { when: 'the body is cut off on every attempt', report: 'projects', failure: /does not parse.*cut off/,
      script: [1, 2, 3].map(() => (req: RecordedRequest) => ({ ...results(req), truncateAfterBytes: 200 })) },
    { when: 'the registry reports more records than it serves', report: 'RETIRED', script: Array.from({ length: 10 }, () => inflate),
      failure: new RegExp(`art-trees retirements: received ${csv.retirements.length} records but the registry reports ${csv.retirements.length + 2} \\(totalCount of datasets.retiredCredits\\)`) },
    { when: 'GreenTrace answers 401 "Invalid API Key"', report: 'ISSUED', failure: /takes no key.*throttles/,
      script: [() => ({ status: 401, json: { message: 'Invalid API Key' } })] },
    { when: 'GreenTrace asks to come back in an hour', report: 'ISSUED', failure: /Retry-After: 3600/,
      script: [() => ({ status: 429, headers: { 'retry-after': '3600' }, body: 'error code: 1015' })] },
  ];
  for (const fault of faults) {
    it(`when ${fault.when}, then the sync fails with a clear message and the ledger is unchanged`, async () => {
      const before = await ledger(db);
      scripted[fault.report] = [...fault.script];
      const error = await syncSource(db, REGISTRY, { config: config(server.url) }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BatchRejected);
      expect((error as BatchRejected).summary.failure).toMatch(fault.failure);
      expect(await ledger(db)).toEqual(before);
    });
  }
});

describe('ART TREES file mode and API mode on the same ledger', () => {
  let t: TestDatabase;
  let db: Database;
  let server: ReplayServer;

  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    server = await startReplayServer(greenTraceRoutes(TENANT, greenTraceResults(data)));
  });
  afterAll(async () => {
    await server.close();
    await t.close();
  });

  it('when the reports were ingested first, then the API\'s issuances, blocks and programs meet them: nothing is added and no total moves', async () => {
    for (const file of ['projects.csv', 'issuances.csv', 'retirements.csv', 'cancellations.csv']) {
      const summary = await ingestFile(db, new URL(`../fixtures/registry-samples/${REGISTRY}/${file}`, import.meta.url).pathname, { registry: REGISTRY });
      expect(summary.rowsRejected).toBe(0);
    }
    const before = await ledger(db);
    expect(Number(before.issuances)).toBe(11);

    const summary = await syncSource(db, REGISTRY, { config: config(server.url) });
    expect(summary).toMatchObject({ status: 'committed', rowsRejected: 0 });
    expect(summary.projects.new + summary.issuances.new + summary.blocks.new + summary.events.new).toBe(0);
    // Same issuance keys (`<vintage>/<approval day>`), so the blocks stay linked to the same issuances.
    expect(await ledger(db)).toEqual(before);
  });
});
