import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../../jobs/batches.ts';
import { BatchRejected } from '../../jobs/ingest.ts';
import { detectFileFormat, ingestFile } from '../../jobs/ingest-file.ts';
import { runChecks } from '../../jobs/integrity/index.ts';
import { readSources } from '../../jobs/scheduler.ts';
import { syncSource } from '../../jobs/sync.ts';
import { rows, type Database } from '../../schema/database.ts';
import { csvLine, readCsv } from '../helpers/csv.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startReplayServer, type ReplayServer } from '../helpers/replay-server.ts';

// CARB's offset credit issuance table: the first 100 rows of its fourth sheet, as CarbonPlan saved them
// to CSV (test/fixtures/registry-samples/arb/). Every figure below is computed here from that CSV with
// plain code and compared with SQL over the ledger. The workbook form is built in this file from the
// same rows (no real workbook is in the fixtures): four sheets, title rows above the header, a total
// row and a footnote below the table.

const REGISTRY = 'arb';
const sample = (registry: string, name: string) => new URL(`../fixtures/registry-samples/${registry}/${name}`, import.meta.url).pathname;
const ARB_CSV = sample('arb', 'nc-arboc_issuance_sheet3.csv');
const csv = readCsv(ARB_CSV);
const headers = Object.keys(csv[0]!);

const num = (v: string | undefined) => Number(v || 0);
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const groupSum = <T, K>(list: T[], key: (t: T) => K, value: (t: T) => number) => {
  const out = new Map<K, number>();
  for (const t of list) out.set(key(t), (out.get(key(t)) ?? 0) + value(t));
  return out;
};

/** The columns whose credits left an issuance's supply, and what the ledger should call them. */
const RETIRED_COLUMNS = [
  'Retired Voluntarily', 'Retired 1st Compliance Period (CA)', 'Retired 2nd Compliance Period (CA)', 'Retired 3rd Compliance Period (CA)',
  'Retired 4th Compliance Period (CA)', 'Retired 5th Compliance Period (CA)', 'Retired for Compliance in Quebec',
  'Retired for Intentional Reversal', 'Buffer Pool Retired',
];
const CANCELLED_COLUMNS = ['Invalidated or Canceled'];
const issuing = csv.filter((r) => num(r['ARB Offset Credits Issued']) > 0);

async function ledger(db: Database) {
  const [issuances] = await rows<{ n: number; t: string; buffer: string }>(db, sql`select count(*)::int as n, coalesce(sum(quantity), 0)::text as t,
      coalesce(sum(buffer_quantity), 0)::text as buffer from issuances where registry_id = ${REGISTRY}`);
  const byVintage = await rows<{ vintage: number; t: string }>(db, sql`select vintage_year as vintage, sum(quantity)::text as t
    from issuances where registry_id = ${REGISTRY} group by 1 order by 1`);
  const byColumn = await rows<{ column: string; status: string; n: number; t: number; linked: number }>(db, sql`select retirement_reason as column,
      status::text as status, count(*)::int as n, sum(quantity)::float8 as t, count(issuance_id)::int as linked
    from unit_blocks where registry_id = ${REGISTRY} group by 1, 2 order by 1, 2`);
  const events = await rows<{ kind: string; n: number; t: string }>(db, sql`select kind::text, count(*)::int as n, sum(quantity)::text as t
    from events where registry_id = ${REGISTRY} group by 1 order by 1`);
  const [projects] = await rows<{ n: number }>(db, sql`select count(*)::int as n from projects where registry_id = ${REGISTRY}`);
  return { issuances: issuances!, byVintage, byColumn, events, projects: projects!.n };
}

/** Every ledger row ARB wrote, by natural key, with the fields a second reading of the table must reproduce. */
async function snapshot(db: Database) {
  return {
    projects: await rows(db, sql`select key, name, proponent, country, region, methodology_raw, methodologies, category, other_programs
      from projects where registry_id = ${REGISTRY} order by key`),
    issuances: await rows(db, sql`select p.key, i.issuance_key, i.vintage_year, i.vintage_start::text as vs, i.vintage_end::text as ve,
        i.issued_on::text as issued_on, i.quantity::text as quantity, i.buffer_quantity::text as buffer, i.credit_type
      from issuances i join projects p on p.id = i.project_id where i.registry_id = ${REGISTRY} order by 1, 2`),
    blocks: await rows(db, sql`select b.block_key, b.quantity::text as quantity, b.status::text as status, b.retirement_reason, b.retirement_purpose::text as purpose,
        b.retirement_details, b.vintage_year, i.issuance_key
      from unit_blocks b left join issuances i on i.id = b.issuance_id where b.registry_id = ${REGISTRY} order by 1`),
    events: await rows(db, sql`select event_key, kind::text as kind, quantity::text as quantity, occurred_on::text as occurred_on, vintage_year
      from events where registry_id = ${REGISTRY} order by 1`),
  };
}

/** The table as CARB publishes it: a workbook whose fourth sheet holds it below a title block. */
async function writeWorkbook(path: string, table: Record<string, string>[]) {
  const book = new ExcelJS.Workbook();
  book.addWorksheet('Read Me').addRow(['ARB Offset Credit Issuance Table: see the issuance sheet.']);
  const summary = book.addWorksheet('Summary by Type');
  summary.addRow(['Summary of ARB Offset Credits Issued by Project Type']);
  summary.addRow(['Project Type', 'ARB Offset Credits Issued']);
  for (const [type, total] of groupSum(table, (r) => r['Project Type']!, (r) => num(r['ARB Offset Credits Issued']))) summary.addRow([type, total]);
  book.addWorksheet('Notes').addRow(['Retirements are cumulative as of the date of the table.']);
  const sheet = book.addWorksheet('ARBOC Issuance');
  sheet.addRow(['ARB Offset Credit Issuance Table']);
  sheet.addRow(['Compliance Offset Program']);
  sheet.addRow([]);
  sheet.addRow(headers);
  // Excel holds numbers as numbers and dates as dates, not the CSV's pandas text (`79565.0`).
  const cell = (value: string) => {
    if (value === '') return null;
    if (/^-?\d+(\.\d+)?$/.test(value)) return Number(value);
    if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return new Date(`${value}T00:00:00Z`);
    return value;
  };
  for (const row of table) sheet.addRow(headers.map((h) => cell(row[h] ?? '')));
  sheet.addRow(headers.map((h, i) => (i === 0 ? 'Total' : h === 'ARB Offset Credits Issued' || RETIRED_COLUMNS.includes(h) ? sum(table.map((r) => num(r[h]))) : null)));
  sheet.addRow(['Values are cumulative; forest issuances include the Forest Buffer Account contribution.']);
  await book.xlsx.writeFile(path);
}

describe('California ARB issuance table (CSV)', () => {
  let t: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
  });
  afterAll(() => t.close());

  it('when the table is ingested, then each issuing row is an issuance and the issued totals per vintage are the table\'s', async () => {
    const expected = {
      projects: new Set(csv.map((r) => r['CARB Project ID'])).size,
      issuances: issuing.length,
      issued: sum(issuing.map((r) => num(r['ARB Offset Credits Issued']))),
      buffer: sum(issuing.map((r) => num(r['Forest Buffer Account Contribution']))),
      byVintage: groupSum(issuing, (r) => num(r.Vintage), (r) => num(r['ARB Offset Credits Issued'])),
    };
    // Two reporting periods issued nothing: CAFR5012's fourth (an intentional reversal) and CALS5014's sixth.
    expect(expected).toMatchObject({ projects: 38, issuances: 98, issued: 8_069_970, buffer: 879_193 });

    const summary = await ingestFile(db, ARB_CSV);
    expect(summary).toMatchObject({ status: 'committed', format: 'arb-issuance-table', rowsRead: 100, rowsRejected: 0, errors: [], warnings: [] });
    const l = await ledger(db);
    expect(l.projects).toBe(expected.projects);
    expect(l.issuances.n).toBe(expected.issuances);
    expect(Number(l.issuances.t)).toBe(expected.issued);
    expect(Number(l.issuances.buffer)).toBe(expected.buffer);
    expect(new Map(l.byVintage.map((v) => [v.vintage, Number(v.t)]))).toEqual(expected.byVintage);
    expect(l.events.find((e) => e.kind === 'issued')).toEqual({ kind: 'issued', n: expected.issuances, t: expect.any(String) });
    expect(Number(l.events.find((e) => e.kind === 'issued')!.t)).toBe(expected.issued);

    // The key is CARB's issuance id; the reporting period is the vintage period.
    const [cafr] = await rows<Record<string, unknown>>(db, sql`select i.quantity::float8 as quantity, i.buffer_quantity::float8 as buffer,
        i.vintage_year, i.vintage_start::text as vs, i.vintage_end::text as ve, i.issued_on::text as issued_on, i.credit_type
      from issuances i where i.registry_id = ${REGISTRY} and i.issuance_key = 'CAFR5003-A'`);
    const row = csv.find((r) => r['CARB Issuance ID'] === 'CAFR5003-A')!;
    expect(cafr).toEqual({ quantity: num(row['ARB Offset Credits Issued']), buffer: num(row['Forest Buffer Account Contribution']), vintage_year: num(row.Vintage),
      vs: row['Reporting Period Start Date'], ve: row['Reporting Period End Date'], issued_on: row['Issuance Date'], credit_type: 'arboc' });
  });

  it('when the table is ingested, then every retirement column is a block per issuance, without serial or date, and totals per column match', async () => {
    const all = [...RETIRED_COLUMNS, ...CANCELLED_COLUMNS];
    const expected = new Map(all.map((column) => [column, {
      n: csv.filter((r) => num(r[column]) > 0).length,
      t: sum(csv.map((r) => num(r[column]))),
    }]));
    expect(sum([...expected.values()].map((e) => e.n))).toBe(111);
    expect(expected.get('Retired 1st Compliance Period (CA)')!.t).toBe(2_753_123);
    expect(expected.get('Retired for Compliance in Quebec')!.t).toBe(393_539);
    expect(expected.get('Invalidated or Canceled')!.t).toBe(466);

    const l = await ledger(db);
    const stored = new Map(l.byColumn.map((c) => [c.column, c]));
    for (const [column, e] of expected) {
      if (e.n === 0) {
        expect(stored.has(column), column).toBe(false);
        continue;
      }
      expect(stored.get(column), column).toEqual({ column, status: CANCELLED_COLUMNS.includes(column) ? 'cancelled' : 'retired', n: e.n, t: e.t, linked: e.n });
    }
    expect(l.byColumn).toHaveLength([...expected.values()].filter((e) => e.n > 0).length);
    const retired = sum(RETIRED_COLUMNS.map((c) => expected.get(c)!.t));
    const cancelled = sum(CANCELLED_COLUMNS.map((c) => expected.get(c)!.t));
    expect(Number(l.events.find((e) => e.kind === 'retired')!.t)).toBe(retired);
    expect(Number(l.events.find((e) => e.kind === 'cancelled')!.t)).toBe(cancelled);

    const purposes = await rows<{ purpose: string | null; t: number }>(db, sql`select retirement_purpose::text as purpose, sum(quantity)::float8 as t
      from unit_blocks where registry_id = ${REGISTRY} and status = 'retired' group by 1 order by 1`);
    const compliance = sum(RETIRED_COLUMNS.filter((c) => /Compliance/.test(c)).map((c) => expected.get(c)!.t));
    expect(purposes).toEqual([
      { purpose: 'compliance', t: compliance },
      { purpose: 'other', t: expected.get('Retired for Intentional Reversal')!.t + expected.get('Buffer Pool Retired')!.t },
      { purpose: 'voluntary', t: expected.get('Retired Voluntarily')!.t },
    ]);
    const [block] = await rows<Record<string, unknown>>(db, sql`select number_space, serial_start, status_date, retirement_details
      from unit_blocks where registry_id = ${REGISTRY} and block_key = 'CAOD1007-A/retired-ca-cp4'`);
    expect(block).toEqual({ number_space: null, serial_start: null, status_date: null,
      retirement_details: 'surrendered for California cap-and-trade compliance period 4 (2021–2023)' });
  });

  it('when a project moved its OPR between reporting periods, then it declares both; the taxonomy places every project type', async () => {
    const oprs = (id: string) => [...new Set(csv.filter((r) => r['CARB Project ID'] === id).map((r) => r['OPR Project ID']))];
    expect(oprs('CAMM1009')).toEqual(['ACR1009', 'CAR2111']);
    const [camm] = await rows<{ other_programs: unknown }>(db, sql`select other_programs from projects where key = 'arb:CAMM1009'`);
    expect(camm!.other_programs).toEqual([
      { program: 'American Carbon Registry', projectId: 'ACR1009', relation: 'converted-from', field: 'OPR Project ID' },
      { program: 'Climate Action Reserve', projectId: 'CAR2111', relation: 'converted-from', field: 'OPR Project ID' },
    ]);
    // CAOD5001's comment names the OPR listing of its second verification.
    const [caod] = await rows<{ other_programs: { projectId: string; field: string }[] }>(db, sql`select other_programs from projects where key = 'arb:CAOD5001'`);
    expect(caod!.other_programs.map((o) => [o.projectId, o.field])).toEqual([['CAR992', 'OPR Project ID'], ['ACR258', 'Comment']]);

    const types = await rows<{ methodologies: string[]; category: string; n: number }>(db, sql`select methodologies, category, count(*)::int as n
      from projects where registry_id = ${REGISTRY} group by 1, 2 order by 1`);
    const byType = groupSum([...new Map(csv.map((r) => [r['CARB Project ID'], r['Project Type']])).values()], (t) => t, () => 1);
    expect(types).toEqual([
      { methodologies: ['arb-forest'], category: 'forest', n: byType.get('Forest') },
      { methodologies: ['arb-livestock'], category: 'ghg-management', n: byType.get('Livestock') },
      { methodologies: ['arb-mine-methane'], category: 'ghg-management', n: byType.get('MMC') },
      { methodologies: ['arb-ozone'], category: 'ghg-management', n: byType.get('ODS') },
    ]);
  });

  it('when the table is ingested again, then nothing new is stored and the ledger is unchanged', async () => {
    const before = await snapshot(db);
    const summary = await ingestFile(db, ARB_CSV);
    expect(summary).toMatchObject({ status: 'committed', rowsRejected: 0, rawRecords: { new: 0 } });
    expect(summary.projects).toMatchObject({ new: 0, changed: 0 });
    expect(summary.issuances).toMatchObject({ new: 0, changed: 0 });
    expect(summary.blocks).toMatchObject({ new: 0, changed: 0 });
    expect(summary.events.new).toBe(0);
    expect(await snapshot(db)).toEqual(before);
    expect((await verifyChain(db)).ok).toBe(true);
  });
});

describe('California ARB and the scheduler: the table downloaded from its page', () => {
  let t: TestDatabase;
  let csvDb: TestDatabase;
  let server: ReplayServer;
  let dir: string;
  const editions: Buffer[] = [];
  // The next edition of the table: one issuance retired more in the 5th compliance period (a running total).
  const grown = csv.findIndex((r) => num(r['Retired 5th Compliance Period (CA)']) > 0 && num(r['Invalidated or Canceled']) === 0);
  const nextEdition = csv.map((r, i) => (i === grown ? { ...r, 'Retired 5th Compliance Period (CA)': String(num(r['Retired 5th Compliance Period (CA)']) + 100) } : r));
  beforeAll(async () => {
    [t, csvDb] = await Promise.all([openTestDatabase(), openTestDatabase()]);
    dir = mkdtempSync(join(tmpdir(), 'tally-arb-sync-'));
    for (const [name, table] of [['first', csv], ['next', nextEdition]] as const) {
      await writeWorkbook(join(dir, `${name}.xlsx`), table);
      editions.push(readFileSync(join(dir, `${name}.xlsx`)));
    }
    // CARB's issuance page links the workbook from a dated folder; the page here is written for the test.
    const page = '<html><body><a href="/sites/default/files/2026-10/nc-arboc-guide.pdf">Guide</a>'
      + '<a href="/sites/default/files/2026-11/arboc_issuance.xlsx">ARB Offset Credit Issuance Table</a></body></html>';
    server = await startReplayServer([
      { path: '/our-work/programs/compliance-offset-program/arb-offset-credit-issuance', responses: { body: page, headers: { 'content-type': 'text/html' } } },
      { path: '/sites/default/files/2026-11/arboc_issuance.xlsx', responses: [{ status: 503 }, { body: editions[0]! }, { body: editions[1]! }] },
    ]);
    await ingestFile(csvDb.handle.db, ARB_CSV);
  });
  afterAll(async () => {
    await Promise.all([t.close(), csvDb.close(), server.close()]);
    rmSync(dir, { recursive: true, force: true });
  });
  const config = () => ({ urls: { issuances: `${server.url}/our-work/programs/compliance-offset-program/arb-offset-credit-issuance` } });

  it('when ARB is put in the sources file, then it is accepted with its page address', () => {
    const path = join(dir, 'sources.json');
    writeFileSync(path, JSON.stringify({ arb: { schedule: '0 4 * * *', config: config() } }));
    expect(readSources(path)).toEqual([{ registry: 'arb', schedule: '0 4 * * *', config: config() }]);
    writeFileSync(path, JSON.stringify({ arb: { schedule: '0 4 * * *', config: { urls: { retirements: 'https://x.example/' } } } }));
    expect(() => readSources(path)).toThrow(/arb configuration is invalid: urls: streams are issuances/);
  });

  it('when a sync follows the page to the workbook (after one 503), then the ledger is the one the CSV upload gives', async () => {
    const summary = await syncSource(t.handle.db, 'arb', { config: config() });
    expect(summary).toMatchObject({ status: 'committed', rowsRejected: 0 });
    expect(await snapshot(t.handle.db)).toEqual(await snapshot(csvDb.handle.db));
  });

  it('when the next edition raises a running total, then the block grows and a top-up event keeps the events equal to the blocks', async () => {
    const summary = await syncSource(t.handle.db, 'arb', { config: config() });
    expect(summary.blocks).toMatchObject({ new: 0, changed: 1 });
    expect(summary.events.new).toBe(1);
    const [check] = await rows<{ blocks: number; events: number; topup: number }>(t.handle.db, sql`select
        (select sum(quantity)::float8 from unit_blocks where registry_id = 'arb' and status = 'retired') as blocks,
        (select sum(quantity)::float8 from events where registry_id = 'arb' and kind = 'retired') as events,
        (select quantity::float8 from events where registry_id = 'arb' and batch_id = ${summary.batchId}) as topup`);
    const expected = sum(nextEdition.flatMap((r) => RETIRED_COLUMNS.map((c) => Math.max(0, num(r[c])))));
    expect(check).toEqual({ blocks: expected, events: expected, topup: 100 });
  });
});

describe('California ARB issuance table (the workbook as published)', () => {
  let csvDb: TestDatabase;
  let xlsxDb: TestDatabase;
  let dir: string;
  let workbook: string;
  beforeAll(async () => {
    [csvDb, xlsxDb] = await Promise.all([openTestDatabase(), openTestDatabase()]);
    dir = mkdtempSync(join(tmpdir(), 'tally-arb-'));
    workbook = join(dir, 'nc-arboc_issuance.xlsx');
    await writeWorkbook(workbook, csv);
  });
  afterAll(async () => {
    await Promise.all([csvDb.close(), xlsxDb.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('when the workbook has three other sheets, a title block, a total row and a footnote, then it gives the same ledger as the CSV', async () => {
    expect((await detectFileFormat(workbook)).format.id).toBe('arb-issuance-table');
    const fromXlsx = await ingestFile(xlsxDb.handle.db, workbook);
    // The total row and the footnote are read and skipped, not errors.
    expect(fromXlsx).toMatchObject({ status: 'committed', format: 'arb-issuance-table', rowsRead: csv.length + 2, rowsRejected: 0, errors: [], warnings: [] });
    const [first] = await rows<{ locator: string }>(xlsxDb.handle.db, sql`select locator from raw_records order by id limit 1`);
    expect(first!.locator).toBe('sheet "ARBOC Issuance" row 5');
    expect(fromXlsx.issuances.new).toBe(issuing.length);

    await ingestFile(csvDb.handle.db, ARB_CSV);
    expect(await snapshot(xlsxDb.handle.db)).toEqual(await snapshot(csvDb.handle.db));
  });

  it('when the CSV follows the workbook into the same ledger, then nothing changes', async () => {
    const summary = await ingestFile(xlsxDb.handle.db, ARB_CSV);
    expect(summary.projects).toMatchObject({ new: 0, changed: 0 });
    expect(summary.issuances).toMatchObject({ new: 0, changed: 0 });
    expect(summary.blocks).toMatchObject({ new: 0, changed: 0 });
    expect(summary.events.new).toBe(0);
  });
});

describe('California ARB issuance table, malformed rows', () => {
  let t: TestDatabase;
  let db: Database;
  let dir: string;
  let path: string;
  const line = (r: Record<string, string>) => csvLine(headers.map((h) => r[h] ?? ''));
  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    dir = mkdtempSync(join(tmpdir(), 'tally-arb-bad-'));
    const [a, b, c, d, e, f, g] = csv as [Record<string, string>, ...Record<string, string>[]];
    path = join(dir, 'arb-broken.csv');
    writeFileSync(path, [
      readFileSync(ARB_CSV, 'utf8').split(/\r?\n/)[0]!,
      line(a), // line 2: CAOD1007-A
      line(b!), // line 3: CAMM1009-A
      line({ ...c!, 'Retired 2nd Compliance Period (CA)': '12a' }), // line 4
      line({ ...d!, 'Retired Voluntarily': String(num(d!['ARB Offset Credits Issued']) + 1) }), // line 5: more retired than issued
      line({ ...e!, 'CARB Issuance ID': '' }), // line 6
      line({ ...f!, 'Issuance Date': '2024-02-30' }), // line 7
      line({ ...g!, 'CARB Project ID': 'ACR1022' }), // line 8: an OPR id where CARB's belongs
      '',
    ].join('\n'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t.close();
  });

  it('when rows are malformed, then each is reported with its line and column, and stores nothing of itself', async () => {
    const summary = await ingestFile(db, path);
    expect(summary).toMatchObject({ status: 'committed', format: 'arb-issuance-table', rowsRead: 7, rowsRejected: 5 });
    const at = (n: number) => summary.errors.filter((e) => e.locator === `line ${n}`).map((e) => [e.field, e.code, e.message]);
    expect(at(4)).toEqual([['Retired 2nd Compliance Period (CA)', 'not-a-number', 'line 4: Retired 2nd Compliance Period (CA): "12a" is not a number']]);
    const issuedOn = (i: number) => num(csv[i]!['ARB Offset Credits Issued']);
    expect(at(5)).toEqual([['ARB Offset Credits Issued', 'disposed-exceeds-issued', `line 5: ARB Offset Credits Issued: ${issuedOn(3)} credits issued, but the row retires or invalidates ${issuedOn(3) + 1}`]]);
    expect(at(6)).toEqual([['CARB Issuance ID', 'missing', `line 6: CARB Issuance ID: is empty, but the row issues ${issuedOn(4)} credits`]]);
    expect(at(7)).toEqual([['Issuance Date', 'bad-date', 'line 7: Issuance Date: "2024-02-30" is not a calendar date']]);
    expect(at(8)).toEqual([['CARB Project ID', 'bad-project-id', expect.stringMatching(/^line 8: CARB Project ID: "ACR1022" is not a CARB project id/)]]);
    expect(summary.errors).toHaveLength(5);

    const keys = await rows<{ key: string }>(db, sql`select p.key || '/' || i.issuance_key as key from issuances i join projects p on p.id = i.project_id order by 1`);
    expect(keys.map((k) => k.key)).toEqual([`arb:CAMM1009/${csv[1]!['CARB Issuance ID']}`, `arb:CAOD1007/${csv[0]!['CARB Issuance ID']}`]);
    const [counts] = await rows<{ projects: number; blocks: number }>(db, sql`select (select count(*)::int from projects) as projects,
      (select count(*)::int from unit_blocks) as blocks`);
    // CAOD1007-A's one block (4th compliance period); the rejected rows leave no project, issuance or block.
    expect(counts).toEqual({ projects: 2, blocks: 1 });
  });

  it('when the upload must be all or nothing, then one bad row rejects the file and the ledger is as it was', async () => {
    const before = await snapshot(db);
    const error = await ingestFile(db, path, { rejectOnRowErrors: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchRejected);
    expect((error as BatchRejected).summary.failure).toMatch(/5 row\(s\) have errors; nothing from this file was stored/);
    expect(await snapshot(db)).toEqual(before);
  });
});

describe('ARB conversions from ACR and CAR', () => {
  let t: TestDatabase;
  let db: Database;
  const acr = { projects: readCsv(sample('american-carbon-registry', 'projects.csv')), cancellations: readCsv(sample('american-carbon-registry', 'cancellations.csv')) };
  const car = { projects: readCsv(sample('climate-action-reserve', 'projects.csv')), cancellations: readCsv(sample('climate-action-reserve', 'cancellations.csv')) };
  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
  });
  afterAll(() => t.close());

  it('when the ACR and CAR samples and the ARB table are in the ledger, then each ARB project is linked from the OPR project it declares, where the samples share it', async () => {
    for (const [registry, name] of [['american-carbon-registry', 'projects.csv'], ['american-carbon-registry', 'cancellations.csv'],
      ['climate-action-reserve', 'projects.csv'], ['climate-action-reserve', 'cancellations.csv']] as const) {
      expect((await ingestFile(db, sample(registry, name))).status, name).toBe('committed');
    }
    expect((await ingestFile(db, ARB_CSV)).status).toBe('committed');
    await runChecks(db);

    const inLedger = new Map<string, string>([
      ...[...acr.projects, ...acr.cancellations].map((r) => [r['Project ID']!, `american-carbon-registry:${r['Project ID']}`] as const),
      ...[...car.projects, ...car.cancellations].map((r) => [r['Project ID']!, `climate-action-reserve:${r['Project ID']}`] as const),
    ]);
    const expected = [...new Set(csv.filter((r) => inLedger.has(r['OPR Project ID']!))
      .map((r) => `${inLedger.get(r['OPR Project ID']!)} > arb:${r['CARB Project ID']}`))].sort();
    // 9 ACR projects converting in the ACR cancellation sample, ACR1007/1042 also in its project sample;
    // CAR2111 (CAMM1009's second reporting period) and CAR1011 (CAOD5018, in CAR's project sample).
    expect(expected).toEqual([
      'american-carbon-registry:ACR1007 > arb:CAOD1007', 'american-carbon-registry:ACR1042 > arb:CAOD1042',
      'american-carbon-registry:ACR1051 > arb:CAMM1051', 'american-carbon-registry:ACR1094 > arb:CAMM1094',
      'american-carbon-registry:ACR1100 > arb:CAMM1100', 'american-carbon-registry:ACR1118 > arb:CAMM1118',
      'american-carbon-registry:ACR1123 > arb:CAMM1123', 'american-carbon-registry:ACR1138 > arb:CAMM1138',
      'american-carbon-registry:ACR1163 > arb:CAOD1163', 'climate-action-reserve:CAR1011 > arb:CAOD5018',
      'climate-action-reserve:CAR2111 > arb:CAMM1009',
    ]);
    const links = await rows<{ pair: string; relation: string; source: string; field: string }>(db, sql`select a.key || ' > ' || b.key as pair,
        l.relation::text as relation, l.source::text as source, l.evidence->>'field' as field
      from project_links l join projects a on a.id = l.from_project_id join projects b on b.id = l.to_project_id
      where 'arb' in (a.registry_id, b.registry_id) order by 1`);
    // The names are the same on both sides of each pair, but a pair declared is not inferred again.
    expect(links.filter((l) => l.source === 'declared')).toEqual(expected.map((pair) => ({ pair, relation: 'converted-to', source: 'declared', field: 'OPR Project ID' })));
    const declaredPairs = new Set(expected);
    expect(links.filter((l) => l.source === 'inferred' && declaredPairs.has(l.pair))).toEqual([]);
    // Nothing is inferred by name alone: Marshall County Flare III and IV (ACR610, ACR752) and Flare VI (CAMM1011)
    // share every word but their phase, and are other phases of one operator, not one activity.
    expect(links.filter((l) => l.source === 'inferred').map((l) => l.pair)).toEqual([]);
  });

  it('when ACR and CAR cancelled credits "to ARB", then ARB\'s issuances of the linked projects net them vintage by vintage: no finding for those, one for each source ARB\'s sample lacks', async () => {
    const arbIssued = groupSum(issuing, (r) => `${r['OPR Project ID']}|${num(r.Vintage)}`, (r) => num(r['ARB Offset Credits Issued']));
    const converted = groupSum([
      ...acr.cancellations.filter((r) => r['Cancellation Type'] === 'Convert to ARB offset credits').map((r) => ({ id: r['Project ID']!, v: num(r.Vintage), q: num(r['Quantity of Credits']) })),
      ...car.cancellations.filter((r) => r['Cancellation Reason'] === 'ARB').map((r) => ({ id: r['Project ID']!, v: num(r.Vintage), q: num(r['Quantity of Offset Credits']) })),
    ], (c) => `${c.id}|${c.v}`, (c) => c.q);
    const linkedSources = new Set(csv.map((r) => r['OPR Project ID']));
    const sourcesMissing = new Set([...converted].filter(([key, q]) => q > (linkedSources.has(key.split('|')[0]!) ? arbIssued.get(key) ?? 0 : 0)).map(([key]) => key.split('|')[0]!));
    const sourcesMatched = [...new Set([...converted.keys()].map((k) => k.split('|')[0]!))].filter((s) => !sourcesMissing.has(s)).sort();
    // Every conversion of a project in ARB's sample has its ARB issuance, to the credit (ACR1007 2024: 79,565 = CAOD1007-A).
    expect(sourcesMatched).toEqual(['ACR1007', 'ACR1042', 'ACR1051', 'ACR1094', 'ACR1100', 'ACR1118', 'ACR1123', 'ACR1138', 'ACR1163', 'CAR2111']);
    expect(converted.get('ACR1007|2024')).toBe(arbIssued.get('ACR1007|2024'));

    const found = await rows<{ kind: string; source: string }>(db, sql`select f.kind::text as kind, f.evidence->'source'->>'project' as source
      from findings f where f.kind in ('export-not-imported', 'unnetted-conversion') and f.status = 'open' order by 2`);
    // ACR and CAR took the units out (cancelled, `exported`): never an unnetted conversion.
    expect(found.filter((f) => f.kind === 'unnetted-conversion')).toEqual([]);
    expect(found.map((f) => f.source)).toEqual([...sourcesMissing].sort());
    expect(found.some((f) => sourcesMatched.includes(f.source))).toBe(false);
  });
});
