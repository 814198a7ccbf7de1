import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../../jobs/batches.ts';
import { ingestFile } from '../../jobs/ingest-file.ts';
import { rows, type Database } from '../../schema/database.ts';
import { classifyMethodology } from '../../schema/taxonomy/index.ts';
import { csvLine, readCsv } from '../helpers/csv.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';

// The JCM's project list (147 projects, 15 partner countries) and the Mongolia–Japan issuance table
// (22 rows), as a public parser derived them from jcm.go.jp's pages. Counts and totals per country, per
// status and per allocation are computed here from the CSVs with plain code and compared with SQL.

const fixture = (name: string) => new URL(`../fixtures/registry-samples/jcm/${name}`, import.meta.url).pathname;
const projectsCsv = readCsv(fixture('projects_all_jcm.csv'));
const issuanceCsv = readCsv(fixture('issuance_records.csv'));
const methodologiesCsv = readCsv(new URL('../fixtures/jcm/methodologies.csv', import.meta.url));

const countBy = <T>(list: T[], key: (t: T) => string) => {
  const out = new Map<string, number>();
  for (const t of list) out.set(key(t), (out.get(key(t)) ?? 0) + 1);
  return out;
};
const sumBy = <T>(list: T[], key: (t: T) => string, value: (t: T) => number) => {
  const out = new Map<string, number>();
  for (const t of list) out.set(key(t), (out.get(key(t)) ?? 0) + value(t));
  return out;
};
/** Issued: an issuance date and a positive issued amount; the rest was notified and not issued. */
const isIssued = (r: Record<string, string>) => r.issuance_date !== '' && Number(r.issued_amount || 0) > 0;
const issuedRows = issuanceCsv.filter(isIssued);
const notIssuedRows = issuanceCsv.filter((r) => !isIssued(r));
/** A row whose issuance precedes its period's end or the decision to notify it. */
const outOfPeriod = (r: Record<string, string>) => r.issuance_date! < r.monitoring_end! || r.issuance_date! < r.decision_date!;
const allocationCode = (country: string) => (country === 'Japan' ? 'JP' : 'MN');

async function ledger(db: Database) {
  const byAllocation = await rows<{ allocation: string; n: number; t: number }>(db, sql`select split_part(issuance_key, ':', 2) as allocation,
      count(*)::int as n, sum(quantity)::float8 as t from issuances where registry_id = 'jcm' group by 1 order by 1`);
  const byProject = await rows<{ ref: string; t: number }>(db, sql`select p.registry_project_id as ref, sum(i.quantity)::float8 as t
    from issuances i join projects p on p.id = i.project_id where i.registry_id = 'jcm' group by 1 order by 1`);
  const events = await rows<{ kind: string; year: number; n: number; t: number }>(db, sql`select kind::text, extract(year from occurred_on)::int as year,
      count(*)::int as n, sum(quantity)::float8 as t from events where registry_id = 'jcm' group by 1, 2 order by 1, 2`);
  return { byAllocation, byProject, events };
}

describe('JCM file mode (project list and issuance table)', () => {
  let t: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
  });
  afterAll(() => t.close());

  it('when the project list is ingested, then every partner country\'s projects are stored with their status, date and methodologies', async () => {
    const summary = await ingestFile(db, fixture('projects_all_jcm.csv'));
    expect(summary).toMatchObject({ status: 'committed', format: 'jcm-projects', rowsRead: 147, rowsRejected: 0, errors: [], warnings: [] });

    // The reference number's prefix is the host country.
    const byCountry = countBy(projectsCsv, (r) => r.reference_no!.slice(0, 2));
    expect(byCountry.get('ID')).toBe(40);
    const stored = await rows<{ country: string; n: number }>(db, sql`select country, count(*)::int as n from projects where registry_id = 'jcm' group by 1`);
    expect(new Map(stored.map((s) => [s.country, s.n]))).toEqual(byCountry);

    const STATUS: Record<string, string> = { 'Project registered': 'registered', Validation: 'listed', 'Request for Registration withdrawn': 'withdrawn' };
    const statuses = await rows<{ status: string; n: number }>(db, sql`select status::text, count(*)::int as n from projects where registry_id = 'jcm' group by 1`);
    expect(new Map(statuses.map((s) => [s.status, s.n]))).toEqual(new Map([...countBy(projectsCsv, (r) => r.status!)].map(([k, n]) => [STATUS[k]!, n])));

    // `DD Mon YY` dates read from the site's own string agree with the parser's ISO reading.
    const dates = await rows<{ ref: string; d: string | null }>(db, sql`select registry_project_id as ref, registered_on::text as d from projects where registry_id = 'jcm'`);
    expect(new Map(dates.map((d) => [d.ref, d.d ?? '']))).toEqual(new Map(projectsCsv.map((r) => [r.reference_no!, r.registration_date!])));

    // Methodologies come from the HTML anchors, one per methodology.
    const methodologies = await rows<{ ref: string; m: string }>(db, sql`select registry_project_id as ref, methodology_raw as m from projects where registry_id = 'jcm'`);
    expect(new Map(methodologies.map((m) => [m.ref, m.m]))).toEqual(new Map(projectsCsv.map((r) => [r.reference_no!,
      [...r.methodology_no!.matchAll(/[A-Z]{2}_AM\d{3} Ver[\d.]+/g)].map((x) => x[0]).join('; ')])));
    const [id006] = methodologies.filter((m) => m.ref === 'ID006');
    expect(id006!.m.split('; ')).toHaveLength(3);

    const [participants] = await rows<{ proponent: string }>(db, sql`select proponent from projects where key = 'jcm:VN020'`);
    const vn020 = projectsCsv.find((r) => r.reference_no === 'VN020')!;
    expect(participants!.proponent).toBe(`${vn020.host_country_participant} / ${vn020.japanese_participant}`);
  });

  it('when the Mongolia methodologies are classified, then each maps to the category its title names', async () => {
    for (const m of methodologiesCsv) {
      const result = classifyMethodology(`${m.methodology_code} ${m.latest_version}`);
      expect(result.category, m.title).toBe(/solar|photovoltaic/i.test(m.title!) ? 'renewable-energy' : 'energy-efficiency');
    }
    const mongolia = await rows<{ ref: string; category: string }>(db, sql`select registry_project_id as ref, category from projects where registry_id = 'jcm' and country = 'MN' order by 1`);
    const solar = new Set(methodologiesCsv.filter((m) => /solar/i.test(m.title!)).map((m) => m.methodology_code));
    expect(mongolia.map((p) => [p.ref, p.category])).toEqual(projectsCsv.filter((r) => r.reference_no!.startsWith('MN')).sort((x, y) => x.reference_no!.localeCompare(y.reference_no!))
      .map((r) => [r.reference_no, solar.has(r.methodology_no!.split(' ')[0]!) ? 'renewable-energy' : 'energy-efficiency']));
  });

  it('when the issuance table is ingested, then each allocation is its own issuance, Japan\'s a first transfer, and notified-only rows are not issued', async () => {
    const expected = {
      issued: issuedRows.length,
      byAllocation: sumBy(issuedRows, (r) => allocationCode(r.country!), (r) => Number(r.issued_amount)),
      countByAllocation: countBy(issuedRows, (r) => allocationCode(r.country!)),
      byProject: sumBy(issuedRows, (r) => r.reference_no!, (r) => Number(r.issued_amount)),
      japanByYear: sumBy(issuedRows.filter((r) => r.country === 'Japan'), (r) => r.issuance_date!.slice(0, 4), (r) => Number(r.issued_amount)),
      issuedByYear: sumBy(issuedRows, (r) => r.issuance_date!.slice(0, 4), (r) => Number(r.issued_amount)),
      notified: notIssuedRows.length,
      outOfPeriod: issuedRows.filter(outOfPeriod).length,
    };
    expect(expected).toMatchObject({ issued: 18, notified: 4, outOfPeriod: 2 });
    expect(expected.byAllocation).toEqual(new Map([['MN', 19_645], ['JP', 103_451]]));

    const summary = await ingestFile(db, fixture('issuance_records.csv'));
    expect(summary).toMatchObject({ status: 'committed', format: 'jcm-issuances', rowsRead: 22, rowsRejected: 0, errors: [] });
    expect(summary.issuances.new).toBe(expected.issued);
    const warned = (code: string) => summary.warnings.filter((w) => w.code === code);
    expect(warned('notified-not-issued').map((w) => w.locator)).toEqual(notIssuedRows.map((r) => `line ${issuanceCsv.indexOf(r) + 2}`));
    expect(warned('period-not-this-issuance')).toHaveLength(expected.outOfPeriod);

    const l = await ledger(db);
    expect(new Map(l.byAllocation.map((a) => [a.allocation, a.t]))).toEqual(expected.byAllocation);
    expect(new Map(l.byAllocation.map((a) => [a.allocation, a.n]))).toEqual(expected.countByAllocation);
    expect(new Map(l.byProject.map((p) => [p.ref, p.t]))).toEqual(expected.byProject);
    const byYear = (kind: string) => new Map(l.events.filter((e) => e.kind === kind).map((e) => [String(e.year), e.t]));
    expect(byYear('issued')).toEqual(expected.issuedByYear);
    // Every Japan allocation is also a first transfer by the host, on its issuance date.
    expect(byYear('first-transferred')).toEqual(expected.japanByYear);
    const [transfer] = await rows<{ details: Record<string, unknown>; key: string }>(db, sql`select e.details, i.issuance_key as key
      from events e join issuances i on i.id = e.issuance_id where e.kind = 'first-transferred' order by e.occurred_on limit 1`);
    expect(transfer!.details).toMatchObject({ firstTransferringParty: 'MNG', acquiringParty: 'JPN', basis: 'JCM allocation to Japan' });
    expect(transfer!.key).toMatch(/:JP:/);

    // Issuances dated before their period ends keep their quantity and date, without the period.
    const [periods] = await rows<{ without: number }>(db, sql`select count(*) filter (where vintage_start is null)::int as without from issuances where registry_id = 'jcm'`);
    expect(periods!.without).toBe(expected.outOfPeriod);
  });

  it('when the table\'s own project totals are compared with its rows, then the gaps are where the derived table dropped rows', () => {
    // `total_notified` is the project's total over all periods and allocations.
    const gap = new Map([...sumBy(issuanceCsv, (r) => r.reference_no!, (r) => Number(r.notified_amount))]
      .map(([ref, notified]) => [ref, Number(issuanceCsv.find((r) => r.reference_no === ref)!.total_notified) - notified]));
    const withGap = [...gap].filter(([, g]) => g !== 0).map(([ref]) => ref).sort();
    expect(withGap).toEqual([...new Set(issuedRows.filter(outOfPeriod).map((r) => r.reference_no!))].sort());
    expect(Object.fromEntries([...gap].filter(([, g]) => g !== 0))).toEqual({ MN001: 24, MN002: 42 });
  });

  it('when both files are ingested again, then nothing changes', async () => {
    const before = await ledger(db);
    for (const name of ['projects_all_jcm.csv', 'issuance_records.csv']) {
      const again = await ingestFile(db, fixture(name));
      expect(again.rawRecords.new, name).toBe(0);
      expect(again.projects.new + again.projects.changed, name).toBe(0);
      expect(again.issuances.new + again.issuances.changed, name).toBe(0);
      expect(again.events.new, name).toBe(0);
    }
    expect(await ledger(db)).toEqual(before);
    expect((await verifyChain(db)).ok).toBe(true);
  });
});

describe('JCM file mode, malformed rows', () => {
  let t: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    t = await openTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'tally-jcm-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t.close();
  });

  it('when rows have a bad reference, an unreadable period, a third country or a negative amount, then each is reported by line and the good rows are kept', async () => {
    const text = readFileSync(fixture('issuance_records.csv'), 'utf8').split(/\r?\n/);
    const headerLine = text[0]!;
    const headers = Object.keys(issuanceCsv[0]!);
    const line = (r: Record<string, string>) => csvLine(headers.map((h) => r[h] ?? ''));
    const good = issuanceCsv.find((r) => r.reference_no === 'MN004' && r.country === 'Japan')!;
    const corrupt = (changes: Record<string, string>) => ({ ...good, ...changes });
    const path = join(dir, 'jcm-broken.csv');
    writeFileSync(path, [
      headerLine,
      line(good), // line 2
      line(corrupt({ reference_no: 'MONGOLIA-4' })), // line 3
      line(corrupt({ monitoring_period_raw: '01 Aug 17 to 31 Dec 20' })), // line 4
      line(corrupt({ country: 'Viet Nam' })), // line 5
      line(corrupt({ issued_amount: '-35854.0' })), // line 6
      '',
    ].join('\n'));
    const summary = await ingestFile(t.handle.db, path);
    expect(summary).toMatchObject({ status: 'committed', format: 'jcm-issuances', rowsRead: 5, rowsRejected: 4 });
    const at = (n: number) => summary.errors.filter((e) => e.locator === `line ${n}`).map((e) => e.code);
    expect([at(3), at(4), at(5), at(6)]).toEqual([['bad-reference'], ['bad-period'], ['unknown-allocation'], ['quantity-negative']]);
    expect(summary.errors.find((e) => e.locator === 'line 5')!.message).toMatch(/^line 5: country: "Viet Nam" is neither Japan nor Mongolia, the partner country of MN004/);
    const [stored] = await rows<{ n: number; t: number }>(t.handle.db, sql`select count(*)::int as n, sum(quantity)::float8 as t from issuances`);
    expect(stored).toEqual({ n: 1, t: Number(good.issued_amount) });
  });
});
