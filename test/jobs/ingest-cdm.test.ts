import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectFileFormat, ingestFile } from '../../jobs/ingest-file.ts';
import { verifyChain } from '../../jobs/batches.ts';
import { rows, type Database } from '../../schema/database.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';

// The CDM's published reports, cut to the rows of 102 projects (test/fixtures/cdm/README.md): the UNFCCC
// CDM Registry issuance report, its voluntary and administrative cancellations, and the UNEP-CCC
// pipeline's project and issuance sheets. Every figure the ledger is checked against is computed here
// from the workbooks themselves, read whole with exceljs (not the streaming reader the ingest uses) and
// plain code.

const fixture = (name: string) => new URL(`../fixtures/registry-samples/cdm/${name}`, import.meta.url).pathname;
const FILES = {
  issuances: fixture('CDM-Issuance-CompletedApril2025.xlsx'),
  voluntary: fixture('CDM_Registry_VC_31082023_pub.xlsx'),
  administrative: fixture('Admincancellations_31082023.xlsx'),
  pipelineIssuances: fixture('UNEP-CCC-pipeline-issuances-April2025.xlsx'),
  pipelineProjects: fixture('UNEP-CCC-pipeline-projects-many-countries.xlsx'),
};

type Cell = ExcelJS.CellValue;
type Report = { sheet: string; header: number; rows: { n: number; v: Record<string, Cell> }[]; total: number | undefined };

/** A report's data rows below its header (the row holding `first`), up to the Total row or the first blank row. */
async function readReport(path: string, first: string): Promise<Report> {
  const book = new ExcelJS.Workbook();
  await book.xlsx.readFile(path);
  const ws = book.worksheets[0]!;
  let header = 0;
  let names: string[] = [];
  const out: Report = { sheet: ws.name, header: 0, rows: [], total: undefined };
  let done = false;
  ws.eachRow((row, n) => {
    const cells = Array.from((row.values as Cell[]).slice(1), (c) => c);
    if (!header) {
      if (cells.some((c) => c === first)) {
        header = n;
        names = cells.map((c) => String(c ?? '').replace(/\s+/g, ' ').trim());
      }
      return;
    }
    if (done) return;
    const lead = cells[0];
    if (typeof lead === 'string' && /^total$/i.test(lead)) {
      const formula = cells.find((c) => c && typeof c === 'object' && 'formula' in c) as ExcelJS.CellFormulaValue | undefined;
      out.total = formula ? Number(formula.result) : undefined;
      done = true;
      return;
    }
    if (cells.every((c) => c === null || c === undefined || c === '')) return;
    out.rows.push({ n, v: Object.fromEntries(names.map((h, i) => [h, cells[i] ?? null]).filter(([h]) => h !== '')) });
  });
  out.header = header;
  return out;
}

const sum = (values: Iterable<number>) => [...values].reduce((a, b) => a + b, 0);
const group = <T>(list: T[], key: (t: T) => string, value: (t: T) => number) => {
  const out = new Map<string, number>();
  for (const t of list) out.set(key(t), (out.get(key(t)) ?? 0) + value(t));
  return out;
};
const sorted = (m: Map<string, number>) => [...m].sort(([a], [b]) => a.localeCompare(b));
const range = (text: unknown) => String(text).split(' - ').map(Number) as [number, number];
const year = (d: Cell) => (d as Date).getUTCFullYear();

let issued: Report;
let voluntary: Report;
let administrative: Report;
let pipelineIssued: Report;
let pipelineProjects: Report;

describe('CDM file mode (UNFCCC CDM Registry reports, UNEP-CCC pipeline)', () => {
  let t: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    [issued, voluntary, administrative, pipelineIssued, pipelineProjects] = await Promise.all([
      readReport(FILES.issuances, 'SERIAL RANGE'), readReport(FILES.voluntary, 'Serial Range'), readReport(FILES.administrative, 'SERIAL RANGE'),
      readReport(FILES.pipelineIssuances, 'Issuance process ID'), readReport(FILES.pipelineProjects, 'CDM project reference number'),
    ]);
  });
  afterAll(() => t.close());

  it('when the workbooks are given, then each is recognised below its title block', async () => {
    expect((await detectFileFormat(FILES.issuances)).format.id).toBe('cdm-issuance-report');
    expect((await detectFileFormat(FILES.voluntary)).format.id).toBe('cdm-voluntary-cancellations');
    expect((await detectFileFormat(FILES.administrative)).format.id).toBe('cdm-administrative-cancellations');
    expect((await detectFileFormat(FILES.pipelineIssuances)).format.id).toBe('cdm-pipeline-issuances');
    expect((await detectFileFormat(FILES.pipelineProjects)).format.id).toBe('cdm-pipeline-projects');
    // The cancellation reports open with a title row; the header is the second row.
    expect([voluntary.header, administrative.header, issued.header]).toEqual([2, 2, 1]);
  });

  it('when the issuance report is ingested, then every row is an issuance with its serial range, and totals by Party, unit type, CP and year match the workbook', async () => {
    const rowsIn = issued.rows.map((r) => r.v);
    const tonnes = (r: Record<string, Cell>) => Number(r.Total);
    const expected = {
      rows: rowsIn.length,
      projects: new Set(rowsIn.map((r) => `${r['PARTY CODE']}-${r['Project number']}`)).size,
      tonnes: sum(rowsIn.map(tonnes)),
      byParty: group(rowsIn, (r) => String(r['PARTY CODE']), tonnes),
      byUnit: group(rowsIn, (r) => String(r['Unit Type']).toLowerCase(), tonnes),
      byCp: group(rowsIn, (r) => String(r.CP), tonnes),
      byYear: group(rowsIn, (r) => String(year(r['Completion date'])), tonnes),
    };
    // The registry's own total (the workbook's SUM row) agrees with the rows.
    expect(issued.total).toBe(expected.tonnes);
    expect(expected).toMatchObject({ rows: 518, projects: 102, tonnes: 91_314_317 });
    // Every range holds exactly its Total: end − start + 1.
    expect(rowsIn.filter((r) => range(r['SERIAL RANGE'])[1] - range(r['SERIAL RANGE'])[0] + 1 !== tonnes(r))).toEqual([]);

    const summary = await ingestFile(db, FILES.issuances);
    // The Total row is read and skipped, not an error.
    expect(summary).toMatchObject({ status: 'committed', format: 'cdm-issuance-report', rowsRead: expected.rows + 1, rowsRejected: 0, errors: [], warnings: [] });
    expect(summary.issuances.new).toBe(expected.rows);
    expect(summary.projects.new).toBe(expected.projects);
    expect(summary.blocks.new).toBe(0);

    const [all] = await rows<{ n: number; t: string }>(db, sql`select count(*)::int as n, sum(quantity)::text as t from issuances where registry_id = 'cdm'`);
    expect({ n: all!.n, t: Number(all!.t) }).toEqual({ n: expected.rows, t: expected.tonnes });
    const by = async (expr: ReturnType<typeof sql>) => new Map((await rows<{ k: string; t: string }>(db, sql`select ${expr} as k, sum(i.quantity)::text as t
      from issuances i join projects p on p.id = i.project_id where i.registry_id = 'cdm' group by 1`)).map((r) => [r.k, Number(r.t)]));
    expect(sorted(await by(sql`p.country`))).toEqual(sorted(expected.byParty));
    expect(sorted(await by(sql`i.credit_type`))).toEqual(sorted(expected.byUnit));
    expect(sorted(await by(sql`substring(i.issuance_key from '^CP([12]) ')`))).toEqual(sorted(expected.byCp));
    // Completion dates arrive from the streaming reader as Excel serial numbers (the workbook stores its
    // styles after its sheet); read as dates, each year's issued events add up to the workbook's.
    expect(sorted(await by(sql`extract(year from i.issued_on)::text`))).toEqual(sorted(expected.byYear));
    const events = new Map((await rows<{ k: string; t: string }>(db, sql`select extract(year from occurred_on)::text as k, sum(quantity)::text as t
      from events where registry_id = 'cdm' and kind = 'issued' group by 1`)).map((r) => [r.k, Number(r.t)]));
    expect(sorted(events)).toEqual(sorted(expected.byYear));

    // Number spaces: the issuing Party's Kyoto numbering of the unit type (5 CER, 6 tCER, 7 lCER).
    const code: Record<string, string> = { CER: '5', tCER: '6', lCER: '7' };
    const spaces = await rows<{ key: string; number_space: string; serial_start: number; serial_end: number; quantity: number; project: string }>(db, sql`
      select i.issuance_key as key, i.number_space, i.serial_start::float8 as serial_start, i.serial_end::float8 as serial_end,
        i.quantity::float8 as quantity, p.registry_project_id as project
      from issuances i join projects p on p.id = i.project_id where i.registry_id = 'cdm'`);
    const want = new Set(rowsIn.map((r) => {
      const [s, e] = range(r['SERIAL RANGE']);
      return `${r['PARTY CODE']}-${r['Project number']}|cdm:${r['PARTY CODE']}:${code[String(r['Unit Type'])]}|${s}|${e}|CP${r.CP} ${r['Unit Type']} ${s}-${e}`;
    }));
    expect(new Set(spaces.map((s) => `${s.project}|${s.number_space}|${s.serial_start}|${s.serial_end}|${s.key}`))).toEqual(want);

    // The registry publishes no names: a project no other source names is called by its identifier.
    const [gs] = await rows<{ name: string; country: string }>(db, sql`select name, country from projects where key = 'cdm:RW-7014'`);
    expect(gs).toEqual({ name: 'CDM RW-7014', country: 'RW' });
  });

  it('when the voluntary cancellations are ingested, then each is a cancelled block, purpose voluntary, carved out of its issued range', async () => {
    const rowsIn = voluntary.rows.map((r) => r.v);
    const tonnes = (r: Record<string, Cell>) => Number(r.Total);
    const expected = {
      rows: rowsIn.length,
      tonnes: sum(rowsIn.map(tonnes)),
      byUnit: group(rowsIn, (r) => String(r.Unit).toLowerCase(), tonnes),
      byYear: group(rowsIn, (r) => String(year(r['Completion Date'])), tonnes),
      viaPlatform: rowsIn.filter((r) => r['VCP (From Voluntary Cancellation Platform)'] === 'Yes').length,
    };
    expect(voluntary.total).toBe(expected.tonnes);
    expect(expected).toMatchObject({ rows: 1774, tonnes: 38_511_215, viaPlatform: 1198 });

    const summary = await ingestFile(db, FILES.voluntary);
    expect(summary).toMatchObject({ status: 'committed', format: 'cdm-voluntary-cancellations', rowsRead: expected.rows + 1, rowsRejected: 0, errors: [] });
    expect(summary.blocks.new).toBe(expected.rows);
    const [blocks] = await rows<{ n: number; t: string; platform: number }>(db, sql`select count(*)::int as n, sum(quantity)::text as t,
        count(*) filter (where retirement_details = 'Cancelled through the UN Carbon Offset Platform')::int as platform
      from unit_blocks where registry_id = 'cdm' and status = 'cancelled' and retirement_reason = 'Voluntary cancellation' and retirement_purpose = 'voluntary'`);
    expect({ ...blocks!, t: Number(blocks!.t) }).toEqual({ n: expected.rows, t: expected.tonnes, platform: expected.viaPlatform });
    const byUnit = new Map((await rows<{ k: string; t: string }>(db, sql`select credit_type as k, sum(quantity)::text as t from unit_blocks
      where registry_id = 'cdm' and status = 'cancelled' group by 1`)).map((r) => [r.k, Number(r.t)]));
    expect(sorted(byUnit)).toEqual(sorted(expected.byUnit));
    const byYear = new Map((await rows<{ k: string; t: string }>(db, sql`select extract(year from occurred_on)::text as k, sum(quantity)::text as t from events
      where registry_id = 'cdm' and kind = 'cancelled' group by 1`)).map((r) => [r.k, Number(r.t)]));
    expect(sorted(byYear)).toEqual(sorted(expected.byYear));
  });

  it('when the administrative cancellations are ingested, then the units issued in error are cancelled blocks with the reason as written', async () => {
    const rowsIn = administrative.rows.map((r) => r.v);
    expect(rowsIn).toHaveLength(6);
    expect(administrative.total).toBe(sum(rowsIn.map((r) => Number(r['UNIT BLOCK TOTAL']))));
    const summary = await ingestFile(db, FILES.administrative);
    // Six rows, the TOTAL formula row and the footnote: the last two are skipped without an error.
    expect(summary).toMatchObject({ status: 'committed', format: 'cdm-administrative-cancellations', rowsRead: 8, rowsRejected: 0, errors: [] });
    const stored = await rows<{ project: string; block_key: string; quantity: number; credit_type: string; details: string; number_space: string }>(db, sql`
      select p.registry_project_id as project, b.block_key, b.quantity::float8 as quantity, b.credit_type, b.retirement_details as details, b.number_space
      from unit_blocks b join projects p on p.id = b.project_id where b.registry_id = 'cdm' and b.status = 'cancelled'
        and b.retirement_reason like 'Administrative cancellation%' order by b.status_date, b.id`);
    expect(stored).toEqual(rowsIn.map((r) => {
      const [s, e] = range(r['SERIAL RANGE']);
      const party = String(r['PROJECT IDENTIFIER']).slice(0, 2);
      return {
        project: r['PROJECT IDENTIFIER'], block_key: `${r['PROJECT IDENTIFIER']}:${s}-${e}`, quantity: Number(r['UNIT BLOCK TOTAL']),
        credit_type: String(r['Unit Type']).toLowerCase(), details: r['REASON FOR CANCELLATION'], number_space: `cdm:${party}:${r['Unit Type'] === 'tCER' ? 6 : 5}`,
      };
    }));
    // "See above" points at the reason of the row before; it is kept as the registry wrote it.
    expect(stored.filter((s) => s.details === 'See above')).toHaveLength(1);
  });

  it('when both cancellation reports are in, then each block lies inside an issued range of its project, and held = issued − cancelled per project', async () => {
    const outside = await rows<{ block_key: string }>(db, sql`select b.block_key from unit_blocks b
      where b.registry_id = 'cdm' and not exists (select 1 from issuances i where i.project_id = b.project_id and i.number_space = b.number_space
        and i.serial_start <= b.serial_start and b.serial_end <= i.serial_end)`);
    expect(outside).toEqual([]);

    // Per project, from the workbooks: issued, less voluntarily and administratively cancelled.
    const held = new Map<string, number>();
    for (const r of issued.rows) held.set(`${r.v['PARTY CODE']}-${r.v['Project number']}`, (held.get(`${r.v['PARTY CODE']}-${r.v['Project number']}`) ?? 0) + Number(r.v.Total));
    for (const r of voluntary.rows) held.set(String(r.v['Project Identifier']), held.get(String(r.v['Project Identifier']))! - Number(r.v.Total));
    for (const r of administrative.rows) held.set(String(r.v['PROJECT IDENTIFIER']), held.get(String(r.v['PROJECT IDENTIFIER']))! - Number(r.v['UNIT BLOCK TOTAL']));
    expect([...held.values()].every((n) => n >= 0)).toBe(true);
    const ledger = await rows<{ project: string; held: string }>(db, sql`select p.registry_project_id as project,
        (select coalesce(sum(quantity), 0) from issuances i where i.project_id = p.id)
        - (select coalesce(sum(quantity), 0) from unit_blocks b where b.project_id = p.id and b.status = 'cancelled' and b.superseded_in_batch_id is null) as held
      from projects p where p.registry_id = 'cdm'`);
    expect(sorted(new Map(ledger.map((l) => [l.project, Number(l.held)])))).toEqual(sorted(held));
    // CN-1177: 443,588 CERs issued in error on 2012-11-27, cancelled, and issued again on 2013-11-27.
    expect(held.get('CN-1177')).toBe(sum(issued.rows.filter((r) => r.v['PARTY CODE'] === 'CN' && r.v['Project number'] === '1177').map((r) => Number(r.v.Total))) - 443_588);
  });

  it('when the pipeline sheets are ingested, then the project sheet names the activities, one project per host Party, and the issuance rows are kept for their periods', async () => {
    const projectRows = pipelineProjects.rows.map((r) => r.v);
    const hosts = (r: Record<string, Cell>) => String(r['List of host countries (ISO 2)']).split('; ');
    const expectedIds = new Set(projectRows.flatMap((r) => (Number(r['CDM project reference number']) > 0
      ? hosts(r).map((h) => `${h}-${r['CDM project reference number']}`)
      : [String(r['Unique project identifier (traceable with Google)'])])));
    expect(projectRows).toHaveLength(80);

    const summary = await ingestFile(db, FILES.pipelineProjects);
    expect(summary).toMatchObject({ status: 'committed', format: 'cdm-pipeline-projects', rowsRead: 80, rowsRejected: 0, errors: [] });
    expect(summary.projects.new + summary.projects.changed).toBe(expectedIds.size);
    const named = await rows<{ id: string; name: string; url: string; country: string | null }>(db, sql`select registry_project_id as id, name,
        registry_url as url, country from projects where registry_id = 'cdm' and registry_url is not null`);
    expect(new Set(named.map((n) => n.id))).toEqual(expectedIds);
    const row7014 = projectRows.find((r) => r['CDM project reference number'] === 7014)!;
    const parts = named.filter((n) => n.id.endsWith('-7014')).sort((a, b) => a.id.localeCompare(b.id));
    expect(parts.map((p) => p.id)).toEqual(hosts(row7014).map((h) => `${h}-7014`).sort());
    expect(new Set(parts.map((p) => `${p.name}|${p.url}`))).toEqual(new Set([
      `${row7014['Registration project title']}|https://cdm.unfccc.int/Projects/Validation/DB/${row7014['Unique project identifier (traceable with Google)']}/view.html`,
    ]));
    // Titles whose Windows-1252 punctuation was kept as C1 control characters read as that punctuation.
    const c1 = /[\u0080-\u009f]/;
    const garbled = projectRows.filter((r) => c1.test(String(r['Registration project title'])));
    expect(garbled.length).toBeGreaterThan(0);
    expect(named.filter((p) => c1.test(p.name))).toEqual([]);
    const biogas = garbled.find((r) => String(r['Registration project title']).includes('Biogas (ACES'))!;
    expect(named.find((p) => p.url.includes(String(biogas['Unique project identifier (traceable with Google)'])))!.name)
      .toBe(String(biogas['Registration project title']).replace('\u0096', '\u2013'));
    // Never-registered activities have no reference number: one project under the UNFCCC identifier.
    const unregistered = projectRows.filter((r) => r['CDM project reference number'] === 0);
    const [{ n }] = (await rows<{ n: number }>(db, sql`select count(*)::int as n from projects where registry_id = 'cdm' and registry_project_id ~ '^[0-9A-Z]{30}$'`)) as [{ n: number }];
    expect(n).toBe(new Set(unregistered.map((r) => r['Unique project identifier (traceable with Google)'])).size);

    const before = await rows<{ n: number }>(db, sql`select count(*)::int as n from issuances`);
    const pipeline = await ingestFile(db, FILES.pipelineIssuances);
    expect(pipeline).toMatchObject({ status: 'committed', format: 'cdm-pipeline-issuances', rowsRead: pipelineIssued.rows.length, rowsRejected: 0, errors: [] });
    expect(await rows<{ n: number }>(db, sql`select count(*)::int as n from issuances`)).toEqual(before);
    const [kept] = await rows<{ n: number }>(db, sql`select count(*)::int as n from raw_records where registry_id = 'cdm' and stream = 'pipeline-issuances'`);
    expect(kept!.n).toBe(pipelineIssued.rows.length);
  });

  it('when every workbook is ingested again, then nothing is added and the ledger is as before', async () => {
    const snapshot = async () => ({
      issuances: await rows(db, sql`select issuance_key, quantity::text, issued_on::text, serial_start::text, serial_end::text from issuances order by id`),
      blocks: await rows(db, sql`select block_key, status::text, quantity::text, xmin::text as version from unit_blocks order by id`),
      projects: await rows<{ key: string; name: string; country: string | null; registry_url: string | null }>(db, sql`select key, name, country, registry_url from projects order by id`),
      events: await rows(db, sql`select count(*)::int as n, sum(quantity)::text as t from events`),
    });
    const before = await snapshot();
    // The registry's reports carry no project names: their identifier name never replaces the titles the
    // pipeline's project sheet gave, whichever is read last. Nothing changes, and nothing twice.
    expect(before.projects.filter((p) => p.registry_url !== null && p.name === `CDM ${String(p.key).slice('cdm:'.length)}`)).toEqual([]);
    for (const path of [FILES.issuances, FILES.voluntary, FILES.administrative, FILES.pipelineIssuances, FILES.pipelineProjects]) {
      const summary = await ingestFile(db, path);
      expect(summary.rawRecords.new, path).toBe(0);
      expect(summary.issuances.new + summary.issuances.changed, path).toBe(0);
      expect(summary.blocks.new + summary.blocks.changed, path).toBe(0);
      expect(summary.events.new, path).toBe(0);
      expect(summary.projects.new, path).toBe(0);
      expect(summary.projects.changed, path).toBe(0);
      const again = await ingestFile(db, path);
      expect(again.rawRecords.new + again.projects.new + again.projects.changed + again.blocks.new + again.blocks.changed + again.events.new, path).toBe(0);
    }
    expect(await snapshot()).toEqual(before);
    expect((await verifyChain(db)).ok).toBe(true);
  });
});

describe('CDM file mode, malformed rows', () => {
  let t: TestDatabase;
  let db: Database;
  let dir: string;
  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    dir = mkdtempSync(join(tmpdir(), 'tally-cdm-'));
    issued ??= await readReport(FILES.issuances, 'SERIAL RANGE');
    voluntary ??= await readReport(FILES.voluntary, 'Serial Range');
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t.close();
  });

  /** A workbook laid out as the report is (title rows, header), holding real rows and corrupted copies of them. */
  async function workbook(name: string, sheet: string, titles: string[][], header: string[], data: Cell[][]): Promise<string> {
    const book = new ExcelJS.Workbook();
    const ws = book.addWorksheet(sheet);
    for (const t of titles) ws.addRow(t);
    ws.addRow(header);
    for (const d of data) ws.addRow(d);
    const path = join(dir, name);
    await book.xlsx.writeFile(path);
    return path;
  }

  it('when issuance rows have a range that does not hold its Total, an unknown unit type, a reversed range or an uncompleted status, then each is reported with its sheet and row and the good rows are committed', async () => {
    const header = Object.keys(issued.rows[0]!.v);
    const real = issued.rows.slice(0, 3).map((r) => header.map((h) => r.v[h]));
    const bad = (changes: Record<string, Cell>) => header.map((h, i) => (h in changes ? changes[h] : real[0]![i]));
    const path = await workbook('issuances-broken.xlsx', 'CDM_Registry_Issuance_Report', [], header, [
      ...real, // rows 2–4
      bad({ Total: 17_221 }), // row 5: the range holds 17,220
      bad({ 'Unit Type': 'ERU' }), // row 6
      bad({ 'SERIAL RANGE': '4423860 - 4406641' }), // row 7
      bad({ Status: '2 - Proposed' }), // row 8
      ['Total', '', '', '', '', '', null, '', { formula: 'SUM(I2:I8)', result: 0 }],
    ]);
    const summary = await ingestFile(db, path);
    expect(summary).toMatchObject({ status: 'committed', format: 'cdm-issuance-report', rowsRead: 8, rowsRejected: 4 });
    const at = (n: number) => summary.errors.filter((e) => e.locator === `sheet "CDM_Registry_Issuance_Report" row ${n}`);
    expect(at(5)).toEqual([expect.objectContaining({ field: 'SERIAL RANGE', code: 'serial-quantity-mismatch', message: expect.stringMatching(/row 5: SERIAL RANGE: .*17,220 units but the row says 17,221/) })]);
    expect(at(6)).toEqual([expect.objectContaining({ field: 'Unit Type', code: 'unknown-unit-type', message: expect.stringContaining('"ERU" is not a unit the CDM issues') })]);
    expect(at(7)).toEqual([expect.objectContaining({ field: 'SERIAL RANGE', code: 'bad-serial', message: expect.stringContaining('end 4406641 is before start 4423860') })]);
    expect(at(8)).toEqual([expect.objectContaining({ field: 'Status', code: 'not-completed' })]);
    expect(summary.errors).toHaveLength(4);
    const stored = await rows<{ key: string }>(db, sql`select issuance_key as key from issuances order by id`);
    expect(stored.map((s) => s.key)).toEqual(issued.rows.slice(0, 3).map((r) => `CP${r.v.CP} ${r.v['Unit Type']} ${String(r.v['SERIAL RANGE']).replace(' - ', '-')}`));
  });

  it('when a voluntary cancellation names no project a Party code and reference make, then that row is reported and nothing of it is stored', async () => {
    const header = Object.keys(voluntary.rows[0]!.v);
    const real = voluntary.rows[0]!;
    const row = (changes: Record<string, Cell>) => header.map((h) => (h in changes ? changes[h] : real.v[h]));
    const path = await workbook('vc-broken.xlsx', 'CDM_Registry_Voluntary Cancella', [['Voluntary Cancellations as at 31 August 2023']], header, [
      row({}), row({ 'Project Identifier': 'BR2569', 'Serial Range': '65142364 - 65142365', Total: 2 }),
    ]);
    const summary = await ingestFile(db, path);
    expect(summary).toMatchObject({ rowsRead: 2, rowsRejected: 1 });
    expect(summary.errors).toEqual([expect.objectContaining({
      locator: 'sheet "CDM_Registry_Voluntary Cancella" row 4', field: 'Project Identifier', code: 'bad-project-identifier',
      message: expect.stringContaining('"BR2569" is not a CDM project identifier'),
    })]);
    const [{ n }] = (await rows<{ n: number }>(db, sql`select count(*)::int as n from unit_blocks`)) as [{ n: number }];
    expect(n).toBe(1);
  });
});
