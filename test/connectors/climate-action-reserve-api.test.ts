import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { carApi, carApiConfig, requoteApxCsv } from '../../connectors/climate-action-reserve/api.ts';
import { HttpClient } from '../../connectors/runtime/http.ts';
import { BatchRejected } from '../../jobs/ingest.ts';
import { ingestFile } from '../../jobs/ingest-file.ts';
import { syncSource } from '../../jobs/sync.ts';
import { rows, type Database } from '../../schema/database.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startReplayServer, type RecordedRequest, type ReplayResponse, type ReplayServer } from '../helpers/replay-server.ts';

// CAR's API mode against a local server that behaves like thereserve2.apx.com as measured on
// 2026-08-05 (rb-carbon-scraper docs/api-contract-car.md): GET `myrpt.asp?r=<id>` serves the captured
// report page with a fresh ASP session cookie and that session's `c16e` token written into its forms;
// POST `rptdownload.asp` answers the report's CSV only with that cookie, that token and the form's 15
// fields, and the site's home page at HTTP 200 otherwise (car-detail-notfound.html, the same site
// shell titled "The Reserve", stands in for it). The CSVs are the captured exports of reports 111 and
// 206 byte for byte (embedded quotes not doubled), and for 112 and 308, whose exports were not
// captured, the captured pages' grids written the way APX writes its CSV. The captures are trimmed, so
// each page's total is set to the rows served, except where a test wants it otherwise.

const fixture = (name: string) => new URL(`../fixtures/api-captures/${name}`, import.meta.url);
const bytes = (name: string) => readFileSync(fixture(name));
const text = (name: string) => bytes(name).toString('utf8');
const HOME_PAGE = fixture('car-detail-notfound.html');
const SESSION_COOKIE = 'ASPSESSIONIDCQSDTQQD';
const DOWNLOAD_FIELDS = ['c16e', 'myFilter', 'Data', 'Title', 'Exclude', 'Columns', 'Masks', 'ClassMasks', 'Headings', 'Parameters',
  'ParametersOriginal', 'SortORder', 'FormatType', 'ReplaceExpression', 'ReplaceValue'];

// ---- what the server serves, read here without the connector's code -----------------------------

const entity = (s: string) => s.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n))).replace(/&nbsp;/g, ' ').replace(/&amp;/g, '&');

/** A captured page's report grid: the header row (the one with the sort links) and the data rows, cell texts. */
function grid(html: string): string[][] {
  const sortLink = html.indexOf("submitform2('Asc'");
  const start = html.lastIndexOf('<tr>', sortLink);
  const end = html.indexOf('name="r"', sortLink);
  return html.slice(start, end).split('</tr>')
    .map((tr) => [...tr.matchAll(/<td\b[^>]*>([\s\S]*?)<\/td>/gi)].map((m) => entity(m[1]!.replace(/<[^>]+>/g, '')).trim()))
    .filter((cells) => cells.length > 0);
}

/** Rows as APX's exporter writes them: every cell quoted (inner quotes left alone), a comma after each. */
const apxCsv = (table: string[][]) => table.map((cells) => `${cells.map((c) => `"${c}"`).join(',')},\n`).join('');
/** The grid shows `8,000` where the CSV writes `8000`. */
const plain = (cell: string) => (/^\d{1,3}(,\d{3})+$/.test(cell) ? cell.replace(/,/g, '') : cell);

const issuanceGrid = grid(text('car-issuances.html')).map((r) => r.map(plain));
// The export carries `Export Notes`, which the grid hides (its form's Exclude list).
const cancellationGrid = grid(text('car-cancellations.html')).map((r, i) => [...r.map(plain), i === 0 ? 'Export Notes' : '']);

type Report = { id: string; page: string; csv: Buffer };
const reports: Record<string, Report> = {
  '111': { id: '111', page: text('car-projects.html'), csv: bytes('car-projects.csv') },
  '112': { id: '112', page: text('car-issuances.html'), csv: Buffer.from(apxCsv(issuanceGrid)) },
  '206': { id: '206', page: text('car-retirements.html'), csv: bytes('car-retirements.csv') },
  '308': { id: '308', page: text('car-cancellations.html'), csv: Buffer.from(apxCsv(cancellationGrid)) },
};
/** Records in an APX export without multi-line cells: lines that open a quoted cell, less the header. */
const recordCount = (csv: Buffer) => csv.toString('utf8').split('\n').filter((l) => l.startsWith('"')).length - 1;

const expected = (() => {
  const head = (table: string[][], column: string) => table[0]!.indexOf(column);
  const projectsCsv = text('car-projects.csv').split('\n').slice(1).filter(Boolean);
  // The first five cells of a retirement come before any badly quoted one: Vintage, serial, quantity, date, project.
  const retirementsCsv = text('car-retirements.csv').split('\n').slice(1).filter(Boolean)
    .map((line) => ({ line, m: line.match(/^"(\d{4})","([^"]+)","(\d+)","([^"]+)","(CAR\d+)"/)! }));
  // CAR's CORSIA columns say "Eligible" where the archived reports say "Yes".
  const corsiaEligible = retirementsCsv.filter((r) => r.line.includes('"Eligible"'));
  const retired = retirementsCsv;
  const issued = issuanceGrid.slice(1).map((r) => ({
    project: r[head(issuanceGrid, 'Project ID')]!, key: `${r[head(issuanceGrid, 'Project ID')]}|${r[head(issuanceGrid, 'Vintage')]}|${r[head(issuanceGrid, 'Date Issued')]}`,
    quantity: Number(r[head(issuanceGrid, 'Total Offset Credits Issued')]),
  }));
  const cancelled = cancellationGrid.slice(1).map((r) => ({
    project: r[head(cancellationGrid, 'Project ID')]!, quantity: Number(r[head(cancellationGrid, 'Quantity of Offset Credits')]),
    reason: r[head(cancellationGrid, 'Cancellation Reason')]!,
  }));
  const projectIds = new Set([
    ...projectsCsv.map((l) => l.match(/^"(CAR\d+)"/)![1]!), ...issued.map((r) => r.project), ...retired.map((r) => r.m[5]!), ...cancelled.map((r) => r.project),
  ]);
  return {
    ledger: {
      projects: projectIds.size,
      issuances: new Set(issued.map((r) => `${r.key}|${r.quantity}`)).size,
      issued: issued.reduce((s, r) => s + r.quantity, 0),
      retired_blocks: new Set(retired.map((r) => r.m[2])).size,
      retired: retired.reduce((s, r) => s + Number(r.m[3]), 0),
      // Every captured cancellation is ARB or WA ECO: a conversion, stored as `exported`.
      exported_blocks: cancelled.filter((r) => /^(ARB|WA ECO)$/.test(r.reason)).length,
      exported: cancelled.filter((r) => /^(ARB|WA ECO)$/.test(r.reason)).reduce((s, r) => s + r.quantity, 0),
    },
    corsiaEligible: new Set(corsiaEligible.map((r) => r.m[2]!)).size,
  };
})();

async function ledger(db: Database) {
  const [t] = await rows<Record<string, number | string>>(db, sql`select
    (select count(*)::int from projects where registry_id = 'climate-action-reserve') as projects,
    (select count(*)::int from issuances where registry_id = 'climate-action-reserve') as issuances,
    (select coalesce(sum(quantity), 0)::text from issuances where registry_id = 'climate-action-reserve') as issued,
    (select count(*)::int from unit_blocks where registry_id = 'climate-action-reserve' and status = 'retired') as retired_blocks,
    (select coalesce(sum(quantity), 0)::text from unit_blocks where registry_id = 'climate-action-reserve' and status = 'retired') as retired,
    (select count(*)::int from unit_blocks where registry_id = 'climate-action-reserve' and status = 'exported') as exported_blocks,
    (select coalesce(sum(quantity), 0)::text from unit_blocks where registry_id = 'climate-action-reserve' and status = 'exported') as exported,
    (select coalesce(sum(quantity), 0)::text from events where registry_id = 'climate-action-reserve' and kind = 'issued') as issued_events,
    (select coalesce(sum(quantity), 0)::text from events where registry_id = 'climate-action-reserve' and kind = 'converted-out') as converted_events`);
  return t!;
}
const numbers = (t: Record<string, number | string>) => Object.fromEntries(Object.entries(t).map(([k, v]) => [k, Number(v)]));

const config = (url: string) => ({ baseUrl: url, minIntervalMs: 0, baseDelayMs: 1, retries: 2, timeoutMs: 5_000 });

describe('Climate Action Reserve API mode (APX report export)', () => {
  let t: TestDatabase;
  let db: Database;
  let server: ReplayServer;
  const sessions = new Map<string, { token: string; report: string }>();
  let pageFaults: Record<string, ((req: RecordedRequest) => ReplayResponse)[]>;
  let downloadFaults: Record<string, ((req: RecordedRequest) => ReplayResponse)[]>;
  let windows1252 = false;

  const homePage = (): ReplayResponse => ({ status: 200, headers: { 'content-type': 'text/html' }, file: HOME_PAGE });

  /** The captured page of report `r` in a new session: its token in the forms, its total line set. */
  function reportPage(req: RecordedRequest, options: { total?: number; staleToken?: boolean } = {}): ReplayResponse {
    const report = reports[req.query.r ?? ''];
    if (!report) return homePage();
    const session = randomBytes(12).toString('hex').toUpperCase();
    const token = randomBytes(16).toString('hex');
    sessions.set(session, { token, report: report.id });
    const captured = report.page.match(/name="c16e" value="([0-9a-f]{32})"/)![1]!;
    const total = options.total ?? recordCount(report.csv);
    const page = (options.staleToken ? report.page : report.page.replaceAll(captured, token))
      .replace(/<td align="center">\d+ - \d+ : \d+<\/td>/, `<td align="center">1 - ${Math.min(50, total)} : ${total}</td>`);
    return {
      status: 200,
      headers: { 'content-type': 'text/html', 'set-cookie': `${SESSION_COOKIE}=${session}; path=/; HttpOnly; secure; SameSite=Strict` },
      body: page,
    };
  }

  function sessionOf(req: RecordedRequest) {
    const id = new RegExp(`${SESSION_COOKIE}=([^;]+)`).exec(String(req.headers.cookie ?? ''))?.[1];
    return id ? sessions.get(id) : undefined;
  }

  /** The export, only for the session's own token and the whole form; the home page otherwise, at 200. */
  function download(req: RecordedRequest): ReplayResponse {
    const session = sessionOf(req);
    const form = (req.body ?? {}) as Record<string, string>;
    const complete = DOWNLOAD_FIELDS.every((f) => f in form) && form.Data === 'Stamp_0' && form.FormatType === 'csv';
    if (!session || form.c16e !== session.token || !complete) return homePage();
    const csv = reports[session.report]!.csv;
    return {
      status: 200,
      headers: { 'content-type': 'application/save', 'content-disposition': 'attachment; filename=temp.csv;' },
      // The live export is Windows-1252 with no charset; the captures are stored as UTF-8.
      body: windows1252 ? Buffer.from(csv.toString('utf8'), 'latin1') : csv,
    };
  }

  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    server = await startReplayServer([
      { method: 'GET', path: '/myModule/rpt/myrpt.asp', responses: [(req) => pageFaults[req.query.r ?? '']?.shift()?.(req) ?? reportPage(req)] },
      { method: 'POST', path: '/myModule/include/rptdownload.asp', responses: [(req) => downloadFaults[sessionOf(req)?.report ?? '']?.shift()?.(req) ?? download(req)] },
    ]);
  });
  beforeEach(() => {
    pageFaults = {};
    downloadFaults = {};
    windows1252 = false;
    server.requests.length = 0;
  });
  afterAll(async () => {
    await server.close();
    await t.close();
  });

  it('when the registry is synced, then each report is a page and a download in one session, every stream reconciles and the ledger holds what was served', async () => {
    const summary = await syncSource(db, 'climate-action-reserve', { config: config(server.url) });
    expect(summary.status).toBe('committed');
    expect(summary.rowsRead).toBe(Object.values(reports).reduce((s, r) => s + recordCount(r.csv), 0));
    expect(numbers(await ledger(db))).toMatchObject(expected.ledger);
    const got = numbers(await ledger(db));
    expect(got.issued_events).toBe(expected.ledger.issued);
    expect(got.converted_events).toBe(expected.ledger.exported);

    expect(summary.rowsRejected).toBe(0);
    const [eligible] = await rows<{ n: number }>(db, sql`select count(*)::int as n from unit_blocks
      where registry_id = 'climate-action-reserve' and status = 'retired' and eligibility && array['corsia-pilot-phase', 'corsia-first-phase']`);
    expect(eligible!.n).toBe(expected.corsiaEligible);

    // Each report: GET its page, then POST the page's 15 form fields with that page's cookie and token.
    const requests = server.requests.map((r) => ({ method: r.method, r: r.query.r, cookie: String(r.headers.cookie ?? ''), form: r.body as Record<string, string> | undefined }));
    expect(requests.map((r) => r.method)).toEqual(['GET', 'POST', 'GET', 'POST', 'GET', 'POST', 'GET', 'POST']);
    expect(requests.filter((r) => r.method === 'GET').map((r) => r.r)).toEqual(['111', '112', '206', '308']);
    for (const post of requests.filter((r) => r.method === 'POST')) {
      expect(Object.keys(post.form!)).toEqual(DOWNLOAD_FIELDS);
      const session = sessions.get(post.cookie.split('=')[1]!);
      expect(post.form!.c16e).toBe(session?.token);
    }
    expect(requests[1]!.form).toMatchObject({ Data: 'Stamp_0', Title: 'Projects', SortORder: '', FormatType: 'csv' });

    // A retirement written `""…, …""` by the exporter arrives whole, its own quotes kept.
    const [details] = await rows<{ retirement_details: string }>(db, sql`select retirement_details from unit_blocks
      where registry_id = 'climate-action-reserve' and block_key = 'CAR-1-MX-1399-42-938-OA-2021-6501-1 to 207'`);
    expect(details?.retirement_details).toBe('"Retirement of Carbon Offsets in behalf of Palo Alto City Utilities, from CARBIOIN project in Oaxaca. Developed under Climate Action Reserve Mexico Forest Protocol"');
  });

  it('when the registry is synced again, then nothing new is stored', async () => {
    const before = await ledger(db);
    const summary = await syncSource(db, 'climate-action-reserve', { config: config(server.url) });
    expect(summary.rawRecords.new).toBe(0);
    expect(summary.blocks.new + summary.blocks.changed).toBe(0);
    expect(summary.issuances.new + summary.issuances.changed).toBe(0);
    expect(summary.events.new).toBe(0);
    expect(await ledger(db)).toEqual(before);
  });

  it('when the same export is ingested as a file, then it meets the API rows: same raw records, same projects', async () => {
    const before = await ledger(db);
    const summary = await ingestFile(db, fixture('car-projects.csv').pathname, { registry: 'climate-action-reserve' });
    expect(summary.format).toBe('climate-action-reserve-projects');
    expect(summary.rowsRead).toBe(60);
    expect(summary.rawRecords.new).toBe(0);
    expect(summary.projects.new).toBe(0);
    expect(await ledger(db)).toEqual(before);
  });

  it('when the export comes in Windows-1252 with no charset, as it does live, then the accents survive and the rows are the same', async () => {
    windows1252 = true;
    const summary = await syncSource(db, 'climate-action-reserve', { config: config(server.url) });
    expect(summary.status).toBe('committed');
    expect(summary.rawRecords.new).toBe(0);
    const names = await rows<{ name: string }>(db, sql`select name from projects where registry_id = 'climate-action-reserve' and registry_project_id in ('CAR1399', 'CAR1411')`);
    expect(names.map((n) => n.name).sort()).toEqual(['Carbono, Agua y Biodiversidad Indígena La Trinidad', 'Carbono, Agua y Biodiversidad Indígena Xiacuí']);
  });

  it('when a page answers 429 with Retry-After and a download answers 500, then both are retried and the sync commits', async () => {
    pageFaults['111'] = [() => ({ status: 429, headers: { 'retry-after': '1' }, body: 'Too Many Requests' })];
    downloadFaults['206'] = [() => ({ status: 500, body: 'Internal Server Error' })];
    const summary = await syncSource(db, 'climate-action-reserve', { config: config(server.url) });
    expect(summary.status).toBe('committed');
    const pages = server.requests.filter((r) => r.method === 'GET' && r.query.r === '111');
    expect(pages).toHaveLength(2);
    expect(pages[1]!.at - pages[0]!.at).toBeGreaterThanOrEqual(900);
    // The retried download is the same session's: same cookie, same token.
    const retirementPosts = server.requests.filter((r) => r.method === 'POST' && sessionOf(r)?.report === '206');
    expect(retirementPosts).toHaveLength(2);
    expect(retirementPosts[1]!.headers.cookie).toBe(retirementPosts[0]!.headers.cookie);
    expect((retirementPosts[1]!.body as Record<string, string>).c16e).toBe((retirementPosts[0]!.body as Record<string, string>).c16e);
  });

  it('when a value holds \'","\' so its cells cannot be placed, then that row is rejected by line and the rest commit', async () => {
    const before = await ledger(db);
    const notes = cancellationGrid.map((r, i) => (i === 1 ? [...r.slice(0, -1), 'moved to "ARB","WA ECO"'] : r));
    downloadFaults['308'] = [(req) => ({ ...download(req), body: apxCsv(notes) })];
    const summary = await syncSource(db, 'climate-action-reserve', { config: config(server.url) });
    expect(summary.status).toBe('committed');
    const misaligned = summary.errors.filter((e) => e.code === 'misaligned-row');
    expect(misaligned.map((e) => e.message)).toEqual([`report 308 line 2: ${cancellationGrid[0]!.length + 1} cells where the header has ${cancellationGrid[0]!.length}: a value holds '","', so its cells cannot be placed; the row is not read`]);
    expect(await ledger(db)).toEqual(before);
  });

  it('when the token is stale, then the download is the home page at 200, the sync fails saying so and the ledger is unchanged', async () => {
    const before = await ledger(db);
    const [batchesBefore] = await rows<{ n: number }>(db, sql`select count(*)::int as n from batches where status = 'committed'`);
    pageFaults['206'] = [(req) => reportPage(req, { staleToken: true })];
    const error = await syncSource(db, 'climate-action-reserve', { config: config(server.url) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchRejected);
    expect((error as BatchRejected).summary.failure).toMatch(/report r=206 \(retirements\): the CSV download answered HTTP 200 with a page titled "The Reserve" instead of the CSV: .*c16e token is missing or stale/);
    expect(await ledger(db)).toEqual(before);
    const [batchesAfter] = await rows<{ n: number }>(db, sql`select count(*)::int as n from batches where status = 'committed'`);
    expect(batchesAfter!.n).toBe(batchesBefore!.n);
    const [state] = await rows<{ last_error: string; consecutive_failures: number }>(db, sql`select last_error, consecutive_failures from connector_state where connector = 'climate-action-reserve-api'`);
    expect(state).toMatchObject({ consecutive_failures: 1 });
    expect(state!.last_error).toMatch(/stale/);
  });

  it('when the report page itself is the home page, then the sync fails naming it and stores nothing', async () => {
    const before = await ledger(db);
    pageFaults['112'] = [() => homePage()];
    const error = await syncSource(db, 'climate-action-reserve', { config: config(server.url) }).catch((e: unknown) => e);
    expect((error as BatchRejected).summary.failure).toMatch(/report r=112 \(issuances\): .*answered a page titled "The Reserve" without the frmDownload form/);
    expect(await ledger(db)).toEqual(before);
  });

  it('when the export is cut off on every attempt, then the sync fails with a clear error and stores nothing', async () => {
    const before = await ledger(db);
    downloadFaults['308'] = [1, 2, 3].map(() => (req) => ({ ...download(req), truncateAfterBytes: 700 }));
    const error = await syncSource(db, 'climate-action-reserve', { config: config(server.url) }).catch((e: unknown) => e);
    expect((error as BatchRejected).summary.failure).toMatch(/report r=308 \(cancellations\): the CSV download ends mid-record .*cut off \(3 attempts\); nothing was stored/);
    expect(await ledger(db)).toEqual(before);
  });

  it('when the page reports more records than the export holds, then the sync fails with the reconciliation error', async () => {
    const before = await ledger(db);
    // The page as captured: 1,277 projects, against the 60 rows of the captured export.
    pageFaults['111'] = [(req) => reportPage(req, { total: 1277 })];
    const error = await syncSource(db, 'climate-action-reserve', { config: config(server.url) }).catch((e: unknown) => e);
    expect((error as BatchRejected).summary.failure)
      .toBe('climate-action-reserve projects: received 60 records but the registry reports 1,277 ("1 - 50 : N" total line); the pull is incomplete and nothing was stored');
    expect(await ledger(db)).toEqual(before);
  });

  it('when the source is checked, then it reports the projects page total, and a home page instead fails', async () => {
    const options = carApi.http(carApiConfig.parse(config(server.url)));
    const http = new HttpClient(options);
    try {
      expect(await carApi.check(http, carApiConfig.parse(config(server.url)))).toBe(`climate-action-reserve: 60 projects in APX report r=111 at ${server.url}, CSV export form present`);
      pageFaults['111'] = [() => homePage()];
      await expect(carApi.check(http, carApiConfig.parse(config(server.url)))).rejects.toThrow(/without the frmDownload form/);
    } finally {
      await http.close();
    }
  });
});

describe('APX CSV export reading', () => {
  it('when values hold unescaped quotes, commas and line ends, then each record keeps its cells', () => {
    const read = requoteApxCsv('"A","B","C",\n"1",""quoted, with comma"","say "hi"",\n"2","line one",\nline two","c",\n');
    expect(read.header).toEqual(['A', 'B', 'C']);
    expect(read.misaligned.size).toBe(0);
    expect(read.csv).toBe('"A","B","C",\n"1","""quoted, with comma""","say ""hi""",\n"2","line one"",\nline two","c",\n');
  });

  it('when a value holds \'","\', then its record has more cells than the header and is marked, not guessed', () => {
    const read = requoteApxCsv('"A","B","C",\r\n"1","two\r\nlines","c",\r\n"2","x","y","z",\r\n"3","b","c",\r\n');
    expect([...read.misaligned]).toEqual([[2, 4]]);
  });

  it('when the body stops inside a record, then it is reported as cut off', () => {
    expect(() => requoteApxCsv('"A","B",\n"1","tw')).toThrow(/ends mid-record/);
    expect(() => requoteApxCsv('"A","B",\n"1",\n')).toThrow(/never closed/);
    expect(() => requoteApxCsv('A,B\n1,2",\n')).toThrow(/not APX's CSV export/);
  });
});
