import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../../jobs/batches.ts';
import { BatchRejected } from '../../jobs/ingest.ts';
import { detectFileFormat, ingestFile } from '../../jobs/ingest-file.ts';
import { rows, textArray, type Database } from '../../schema/database.ts';
import { csvLine, readCsv } from '../helpers/csv.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';

// Cercarbono's EcoRegistry records as CarbonPlan flattens them (test/fixtures/registry-samples/cercarbono:
// 50 projects with their serials as Python-repr lists, 100 issued serials, 100 retirements), and the
// "Projects Report" workbook the EcoRegistry site exports. No such workbook is among the real samples:
// the one here is written by the test from the real project rows, under a title block above a header on
// row 18 as the site lays it out (reference/offsetsdb.md §2.7); the title lines and the note under the
// table are the test's. Its `Project ID` holds each project's code (`CDC-1`, the export's `code` column),
// as the site's report does; an earlier version of this test wrote the numeric ids there, which the real
// report does not. Totals are computed here from the CSV text with plain code.

const REGISTRY = 'cercarbono';
const fixture = (name: string) => new URL(`../fixtures/registry-samples/${REGISTRY}/${name}`, import.meta.url).pathname;
const csv = {
  projects: readCsv(fixture('projects.csv')),
  issuances: readCsv(fixture('issuances.csv')),
  retirements: readCsv(fixture('retirements.csv')),
};
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const count = <T>(list: T[], key: (t: T) => string) => {
  const out = new Map<string, number>();
  for (const t of list) out.set(key(t), (out.get(key(t)) ?? 0) + 1);
  return out;
};

/** The serials inside a project row's `serials` cell, read with a pattern (independently of the connector's parser). */
type Serial = { serial: string; quantity: number; year: number; buffer: boolean; project: string };
const SERIAL = /'serial': '([^']+)', 'issued_quantity': (\d+), 'issuance_date': '[^']*', 'year': (\d+), 'is_buffer': (True|False)/g;
const serials: Serial[] = csv.projects.flatMap((p) => [...p.serials!.matchAll(SERIAL)].map((m) => ({
  serial: m[1]!, quantity: Number(m[2]), year: Number(m[3]), buffer: m[4] === 'True', project: p.id!,
})));
const issued = serials.filter((s) => s.quantity > 0);
/** Projects EcoRegistry lists with no name ("-") and no serials: unused ids. */
const placeholders = csv.projects.filter((p) => p.name!.trim() === '-' && p.serials === '[]');
const named = csv.projects.filter((p) => !placeholders.includes(p));

async function ledger(db: Database) {
  const [t] = await rows<Record<string, unknown>>(db, sql`select
    (select count(*)::int from projects where registry_id = ${REGISTRY}) as projects,
    (select count(*)::int from issuances where registry_id = ${REGISTRY}) as issuances,
    (select coalesce(sum(quantity), 0)::bigint::text from issuances where registry_id = ${REGISTRY}) as issued,
    (select coalesce(sum(buffer_quantity), 0)::bigint::text from issuances where registry_id = ${REGISTRY}) as buffer,
    (select count(*)::int from unit_blocks where registry_id = ${REGISTRY} and status = 'retired') as retirements,
    (select coalesce(sum(quantity), 0)::bigint::text from unit_blocks where registry_id = ${REGISTRY} and status = 'retired') as retired,
    (select count(*)::int from events where registry_id = ${REGISTRY}) as events`);
  return t!;
}

async function versions(db: Database): Promise<string> {
  const [v] = await rows<{ v: string | null }>(db, sql`select string_agg(t, ',') as v from (
    select 'p' || xmin::text as t from projects union all select 'i' || xmin::text from issuances
    union all select 'b' || xmin::text from unit_blocks) x`);
  return v?.v ?? '';
}

/** The Cercarbono project ids the ledger holds, sorted as text. */
async function projectIds(db: Database): Promise<string[]> {
  const found = await rows<{ id: string }>(db, sql`select registry_project_id as id from projects where registry_id = ${REGISTRY}`);
  return found.map((r) => r.id).sort();
}

/** The site's Projects Report laid out from the real project rows: a title block, the header on row 18 (projects by their codes), a note below. */
async function writeProjectsReport(path: string): Promise<void> {
  const book = new ExcelJS.Workbook();
  const sheet = book.addWorksheet('Projects Report');
  sheet.addRow(['Projects Report']);
  sheet.addRow(['Cercarbono']);
  while (sheet.rowCount < 17) sheet.addRow([]);
  const headers = ['Project ID', 'Project Name', 'Host Country', 'Project Stage', 'Sector', 'Methodology', 'Protocol', 'Crediting periord start', 'Crediting period end'];
  sheet.getRow(18).values = headers;
  let at = 19;
  for (const p of csv.projects) {
    const country = /'country': '([^']+)'/.exec(p.locations!)?.[1] ?? '';
    const sectors = [...new Set([...p.sector!.matchAll(/'description': '([^']+)'/g)].map((m) => m[1]))].join('; ');
    sheet.getRow(at++).values = [p.code, p.name, country, p.stage, sectors, p.quantification_method, p.evaluation_criteria, null, null];
  }
  sheet.getRow(at + 1).values = ['Report generated by EcoRegistry'];
  await book.xlsx.writeFile(path);
}

describe('Cercarbono file mode (EcoRegistry records, flattened)', () => {
  let t: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
  });
  afterAll(() => t.close());

  it('when the projects are ingested, then each named project is stored with its issued serials, and the unused ids and empty serials are warnings', async () => {
    expect(placeholders.length).toBe(7);
    const summary = await ingestFile(db, fixture('projects.csv'));
    expect(summary).toMatchObject({ status: 'committed', format: 'cercarbono-projects', rowsRead: csv.projects.length, rowsRejected: 0, errors: [] });
    expect(summary.warnings.map((w) => w.code).sort()).toEqual([
      ...Array<string>(serials.length - issued.length).fill('nothing-issued'), ...Array<string>(placeholders.length).fill('placeholder-project'),
    ]);
    expect(summary.projects.new).toBe(named.length);
    expect(summary.issuances.new).toBe(issued.length);

    expect(await ledger(db)).toMatchObject({
      projects: named.length,
      issuances: issued.length,
      issued: String(sum(issued.map((s) => s.quantity))),
      buffer: String(sum(issued.filter((s) => s.buffer).map((s) => s.quantity))),
    });
    const stages = await rows<{ raw: string; n: number }>(db, sql`select status_raw as raw, count(*)::int as n from projects where registry_id = ${REGISTRY} group by 1`);
    expect(new Map(stages.map((s) => [s.raw, s.n]))).toEqual(count(named, (p) => p.stage!));
    const perProject = await rows<{ id: string; t: string }>(db, sql`select p.registry_project_id as id, sum(i.quantity)::bigint::text as t
      from issuances i join projects p on p.id = i.project_id where i.registry_id = ${REGISTRY} group by 1`);
    const expectedPerProject = new Map<string, string>();
    for (const p of named) {
      const total = sum(issued.filter((s) => s.project === p.id).map((s) => s.quantity));
      if (total > 0) expectedPerProject.set(p.id!, String(total));
    }
    expect(new Map(perProject.map((r) => [r.id, r.t]))).toEqual(expectedPerProject);

    // ICC (Colombian carbon tax) and CV (voluntary compensation) of the serials become the project's eligibility tags.
    const tagged = await rows<{ tag: string; n: number }>(db, sql`select unnest(eligibility) as tag, count(*)::int as n from projects
      where registry_id = ${REGISTRY} group by 1 order by 1`);
    expect(tagged).toEqual([
      { tag: 'colombia-carbon-tax', n: csv.projects.filter((p) => p.serials!.includes("'code': 'ICC'")).length },
      { tag: 'voluntary-compensation', n: csv.projects.filter((p) => p.serials!.includes("'code': 'CV'")).length },
    ]);
    const first = csv.projects[0]!;
    const [project] = await rows<Record<string, unknown>>(db, sql`select name, proponent, country, region, methodologies, category, status::text,
        registry_url, latitude, co_benefits from projects where key = ${`${REGISTRY}:${first.id}`}`);
    expect(project).toEqual({
      name: first.name, proponent: first.developer, country: 'CO', region: 'Cordoba', methodologies: ['ar-acm0003'], category: 'forest',
      status: 'registered', registry_url: `https://www.ecoregistry.io/projects/${first.id}`, latitude: 8.412918740997307, co_benefits: [],
    });
  });

  it('when the issued serials are ingested after the projects, then they are the issuances the projects listed: nothing new, the same figures', async () => {
    const summary = await ingestFile(db, fixture('issuances.csv'));
    expect(summary).toMatchObject({ status: 'committed', format: 'cercarbono-issuances', rowsRead: csv.issuances.length, rowsRejected: 0, errors: [] });
    expect(summary.issuances).toEqual({ new: 0, changed: 0, unchanged: csv.issuances.length });
    const keys = csv.issuances.map((i) => i.serial!);
    const [stored] = await rows<{ n: number; t: string; buffer: string }>(db, sql`select count(*)::int as n, sum(quantity)::bigint::text as t,
        sum(buffer_quantity)::bigint::text as buffer from issuances where registry_id = ${REGISTRY} and issuance_key = any(${textArray(keys)})`);
    expect(stored).toEqual({
      n: csv.issuances.length,
      t: String(sum(csv.issuances.map((i) => Number(i.issued_quantity)))),
      buffer: String(sum(csv.issuances.filter((i) => i.is_buffer === 'True').map((i) => Number(i.issued_quantity)))),
    });
    // A multi-year serial keeps its period and the registry's own year for it (not the period's end).
    const multi = csv.issuances.find((i) => i.serial === 'CDC_1_1_1_321_14_1')!;
    const [vintage] = await rows<Record<string, unknown>>(db, sql`select vintage_start::text as start, vintage_end::text as "end", vintage_year, issued_on::text as issued_on
      from issuances where registry_id = ${REGISTRY} and issuance_key = 'CDC_1_1_1_321_14_1'`);
    const [start, end] = multi.vintage_of_credits!.split(' / ');
    expect(vintage).toEqual({ start, end, vintage_year: Number(multi.year), issued_on: multi.issuance_date!.slice(0, 10) });
  });

  it('when the retirements are ingested, then each is a retired unit range of its serial, linked to the serial\'s issuance, with its use and beneficiary', async () => {
    const rowsIn = csv.retirements;
    const summary = await ingestFile(db, fixture('retirements.csv'));
    expect(summary).toMatchObject({ status: 'committed', format: 'cercarbono-retirements', rowsRead: rowsIn.length, rowsRejected: 0, errors: [] });
    expect(summary.blocks.new).toBe(rowsIn.length);
    expect(summary.projects.new).toBe(0);
    expect(await ledger(db)).toMatchObject({ retirements: rowsIn.length, retired: String(sum(rowsIn.map((r) => Number(r.quantity)))) });

    const byYear = await rows<{ year: number; t: string }>(db, sql`select extract(year from occurred_on)::int as year, sum(quantity)::bigint::text as t
      from events where registry_id = ${REGISTRY} and kind = 'retired' group by 1`);
    const expectedByYear = new Map<number, number>();
    for (const r of rowsIn) expectedByYear.set(Number(r.date!.slice(0, 4)), (expectedByYear.get(Number(r.date!.slice(0, 4))) ?? 0) + Number(r.quantity));
    expect(new Map(byYear.map((y) => [y.year, Number(y.t)]))).toEqual(expectedByYear);

    // Ranges inside the serial's batch; every serial retired from was issued, so every block finds its issuance.
    const blocks = await rows<{ number_space: string; serial_start: number; serial_end: number; quantity: string; linked: boolean }>(db, sql`select number_space,
        serial_start::float8 as serial_start, serial_end::float8 as serial_end, quantity::text, issuance_id is not null as linked from unit_blocks where registry_id = ${REGISTRY} order by id`);
    expect(blocks.map((b) => [b.number_space, b.serial_start, b.serial_end])).toEqual(rowsIn.map((r) => [`cercarbono:${r.serial}`, Number(r.from), Number(r.to)]));
    expect(blocks.filter((b) => b.linked)).toHaveLength(rowsIn.filter((r) => issued.some((s) => s.serial === r.serial)).length);

    const uses = await rows<{ reason: string; purpose: string; n: number }>(db, sql`select retirement_reason as reason, retirement_purpose::text as purpose,
        count(*)::int as n from unit_blocks where registry_id = ${REGISTRY} group by 1, 2 order by 1`);
    expect(uses).toEqual([
      { reason: 'Colombian Carbon Tax', purpose: 'compliance', n: rowsIn.filter((r) => r.certificate_destination === 'Colombian Carbon Tax').length },
      { reason: 'Voluntary compensation', purpose: 'voluntary', n: rowsIn.filter((r) => r.certificate_destination === 'Voluntary compensation').length },
    ]);
    // "Not public" hides the end user; the carbon-tax payer who used the units is named instead.
    const [{ n: withBeneficiary }] = (await rows<{ n: number }>(db, sql`select count(*)::int as n from unit_blocks
      where registry_id = ${REGISTRY} and retirement_beneficiary is not null`)) as [{ n: number }];
    expect(withBeneficiary).toBe(rowsIn.filter((r) => r.end_user !== 'Not public' || r.passive_subject).length);
    const primax = rowsIn.find((r) => r.serial === 'CDC_1_1_1_321_14_1' && r.from === '0')!;
    const [block] = await rows<Record<string, unknown>>(db, sql`select block_key, retirement_beneficiary, retirement_details, vintage_year, status_date::text as date
      from unit_blocks where registry_id = ${REGISTRY} and serial_start = 0 and number_space = 'cercarbono:CDC_1_1_1_321_14_1'`);
    expect(block).toEqual({
      block_key: `CDC_1_1_1_321_14_1 ${primax.date!.replace(' ', 'T')} ${primax.quantity}`, retirement_beneficiary: primax.passive_subject,
      retirement_details: `carbon tax passive subject: ${primax.passive_subject}`, vintage_year: Number(primax.vintage), date: primax.date!.slice(0, 10),
    });
  });

  it('when the site\'s Projects Report workbook is read, then its header is found below the title block and it describes the same projects', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tally-cercarbono-'));
    try {
      const workbook = join(dir, 'projects-report.xlsx');
      await writeProjectsReport(workbook);
      expect((await detectFileFormat(workbook)).format.id).toBe('cercarbono-projects-report');
      const summary = await ingestFile(db, workbook);
      expect(summary).toMatchObject({ status: 'committed', format: 'cercarbono-projects-report', rowsRead: csv.projects.length + 1, rowsRejected: 0, errors: [] });
      expect(summary.warnings.map((w) => w.code)).toEqual(Array<string>(placeholders.length).fill('placeholder-project'));
      // The same projects, the same facts: nothing new and nothing changed.
      expect(summary.projects).toEqual({ new: 0, changed: 0, unchanged: named.length });
      const [raw] = await rows<{ locator: string }>(db, sql`select locator from raw_records where source = 'projects-report.xlsx' order by id limit 1`);
      expect(raw!.locator).toBe('sheet "Projects Report" row 19');

      // Alone, on an empty ledger, the report describes every named project, each filed under its code
      // until a project record pairs the code with the id.
      const fresh = await openTestDatabase();
      try {
        const fdb = fresh.handle.db;
        const alone = await ingestFile(fdb, workbook);
        expect(alone).toMatchObject({ rowsRejected: 0, errors: [] });
        expect(alone.projects.new).toBe(named.length);
        const stages = await rows<{ raw: string; n: number }>(fdb, sql`select status_raw as raw, count(*)::int as n from projects group by 1`);
        expect(new Map(stages.map((s) => [s.raw, s.n]))).toEqual(count(named, (p) => p.stage!));
        const [{ n }] = (await rows<{ n: number }>(fdb, sql`select count(*)::int as n from projects where country = 'CO'`)) as [{ n: number }];
        expect(n).toBe(named.length);
        expect(await projectIds(fdb)).toEqual(named.map((p) => p.code!).sort());

        // The projects export pairs them: each project takes its id (CDC-271 is 274), none is doubled,
        // and the report read again finds them by their codes.
        await ingestFile(fdb, fixture('projects.csv'));
        expect(await projectIds(fdb)).toEqual(named.map((p) => p.id!).sort());
        expect(await ledger(fdb)).toMatchObject({ projects: named.length, issuances: issued.length });
        const again = await ingestFile(fdb, workbook);
        expect(again.projects).toEqual({ new: 0, changed: 0, unchanged: named.length });
      } finally {
        await fresh.close();
      }

      // A project already stored under its id by a source without codes, then filed under its code by
      // the report: the export that pairs them folds the two into one, which keeps the report's rows as its provenance.
      const folding = await openTestDatabase();
      try {
        const fdb = folding.handle.db;
        const withoutCodes = join(dir, 'projects-without-codes.csv');
        const header = Object.keys(csv.projects[0]!).filter((c) => c !== 'code');
        writeFileSync(withoutCodes, [csvLine(header), ...csv.projects.map((p) => csvLine(header.map((c) => p[c] ?? '')))].join('\n') + '\n');
        await ingestFile(fdb, withoutCodes);
        await ingestFile(fdb, workbook);
        expect((await ledger(fdb)).projects).toBe(2 * named.length);
        await ingestFile(fdb, fixture('projects.csv'));
        expect(await projectIds(fdb)).toEqual(named.map((p) => p.id!).sort());
        expect(await ledger(fdb)).toMatchObject({ projects: named.length, issuances: issued.length });
        const [linked] = await rows<{ n: number }>(fdb, sql`select count(distinct l.project_id)::int as n from record_lineage l
          join raw_records r on r.id = l.raw_record_id join projects p on p.id = l.project_id
          where r.source = 'projects-report.xlsx' and p.registry_project_id ~ '^[0-9]+$'`);
        expect(linked!.n).toBe(named.length);
      } finally {
        await folding.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('when every file is ingested again, then nothing new is stored and the ledger is unchanged', async () => {
    const before = await ledger(db);
    const stamp = await versions(db);
    for (const name of ['projects.csv', 'issuances.csv', 'retirements.csv']) {
      const summary = await ingestFile(db, fixture(name));
      expect(summary.status, name).toBe('committed');
      expect(summary.rawRecords.new, name).toBe(0);
      expect(summary.projects.new + summary.projects.changed, name).toBe(0);
      expect(summary.issuances.new + summary.issuances.changed, name).toBe(0);
      expect(summary.blocks.new + summary.blocks.changed, name).toBe(0);
      expect(summary.events.new, name).toBe(0);
    }
    expect(await ledger(db)).toEqual(before);
    expect(await versions(db)).toBe(stamp);
    expect((await verifyChain(db)).ok).toBe(true);
  });
});

describe('Cercarbono file mode, malformed retirements', () => {
  let t: TestDatabase;
  let db: Database;
  let dir: string;
  let path: string;
  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    dir = mkdtempSync(join(tmpdir(), 'tally-cercarbono-'));
    await ingestFile(db, fixture('projects.csv'));
    const headerLine = readFileSync(fixture('retirements.csv'), 'utf8').split(/\r?\n/)[0]!;
    const headers = Object.keys(csv.retirements[0]!);
    const line = (r: Record<string, string>) => csvLine(headers.map((h) => r[h] ?? ''));
    const [first, second] = csv.retirements as [Record<string, string>, Record<string, string>];
    const corrupt = (changes: Record<string, string>) => ({ ...second, ...changes });
    path = join(dir, 'cercarbono-retirements-broken.csv');
    writeFileSync(path, [
      headerLine,
      line(first), // line 2
      line(corrupt({ to: String(Number(second.to) + 1) })), // line 3: one unit more than the quantity
      line(corrupt({ from: '4425', to: '2262' })), // line 4: backwards
      line(corrupt({ project_id: '2' })), // line 5: the serial names project 1
      line(corrupt({ date: '2021-13-21 13:13:20' })), // line 6: no month 13
      line(corrupt({ serial: 'CDC-1-1-1' })), // line 7: not the registry's serial form
      '',
    ].join('\n'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t.close();
  });

  it('when rows have ranges that do not hold their quantity, another project or unreadable values, then each is reported with its line and none is stored', async () => {
    const summary = await ingestFile(db, path);
    expect(summary).toMatchObject({ status: 'committed', format: 'cercarbono-retirements', rowsRead: 6, rowsRejected: 5 });
    const byLine = (n: number) => summary.errors.filter((e) => e.locator === `line ${n}`);
    expect(byLine(3)).toEqual([expect.objectContaining({ field: 'to', code: 'serial-quantity-mismatch', message: expect.stringMatching(/^line 3: to: units 2262 to 4426: .*2,165 units but the row says 2,164/) })]);
    expect(byLine(4)).toEqual([expect.objectContaining({ field: 'from', code: 'bad-serial', message: expect.stringMatching(/^line 4: from: .*end 2262 is before start 4425/) })]);
    expect(byLine(5)).toEqual([expect.objectContaining({ field: 'serial', code: 'serial-project-mismatch', message: 'line 5: serial: the serial names project 1 but the row is project 2' })]);
    expect(byLine(6)).toEqual([expect.objectContaining({ field: 'date', code: 'bad-date', message: expect.stringMatching(/^line 6: date: "2021-13-21 13:13:20" is not a calendar date/) })]);
    expect(byLine(7)).toEqual([expect.objectContaining({ field: 'serial', code: 'bad-serial', message: expect.stringMatching(/^line 7: serial: serial "CDC-1-1-1": expected underscore-separated fields/) })]);
    expect(summary.errors).toHaveLength(5);
    const stored = await rows<{ start: number; end: number }>(db, sql`select serial_start::float8 as start, serial_end::float8 as "end" from unit_blocks order by id`);
    expect(stored).toEqual([{ start: Number(csv.retirements[0]!.from), end: Number(csv.retirements[0]!.to) }]);
  });

  it('when the upload must be whole, then one bad row leaves nothing of the file in the ledger', async () => {
    const error = await ingestFile(db, path, { rejectOnRowErrors: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchRejected);
    expect((error as BatchRejected).summary.failure).toMatch(/5 row\(s\) have errors; nothing from this file was stored/);
    const [{ n }] = (await rows<{ n: number }>(db, sql`select count(*)::int as n from unit_blocks`)) as [{ n: number }];
    expect(n).toBe(1);
  });
});
