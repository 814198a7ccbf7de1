import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../../jobs/batches.ts';
import { BatchRejected } from '../../jobs/ingest.ts';
import { ingestFile } from '../../jobs/ingest-file.ts';
import { rows, type Database } from '../../schema/database.ts';
import { countryByCode } from '../../schema/taxonomy/index.ts';
import { csvLine, readCsv } from '../helpers/csv.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';

// Isometric's registry records as CarbonPlan flattens them (test/fixtures/registry-samples/isometric:
// 50 projects, 100 issuances, 100 retirements, dotted column names, Python-repr lists), ingested
// projects first. Quantities are fractional (kilograms): every total here is summed in whole
// kilograms from the CSV's `credit_kgs` columns and compared with the ledger's sum as text, exactly.

const REGISTRY = 'isometric';
const fixture = (name: string) => new URL(`../fixtures/registry-samples/${REGISTRY}/${name}`, import.meta.url).pathname;
const csv = {
  projects: readCsv(fixture('projects.csv')),
  issuances: readCsv(fixture('issuances.csv')),
  retirements: readCsv(fixture('retirements.csv')),
};
const kg = (v: string | undefined) => {
  if (!/^\d+$/.test(v ?? '')) throw new Error(`not whole kilograms: ${v}`);
  return BigInt(v!);
};
const sumKg = (values: bigint[]) => values.reduce((a, b) => a + b, 0n);
/** Whole kilograms as the ledger prints tonnes (numeric(20,3)). */
const tonnesText = (kilograms: bigint) => `${kilograms / 1000n}.${String(kilograms % 1000n).padStart(3, '0')}`;
const count = <T>(list: T[], key: (t: T) => string) => {
  const out = new Map<string, number>();
  for (const t of list) out.set(key(t), (out.get(key(t)) ?? 0) + 1);
  return out;
};
const byKey = <T extends Record<string, unknown>>(list: T[], key: keyof T, value: keyof T) => new Map(list.map((r) => [String(r[key]), r[value]]));

async function ledger(db: Database) {
  const [totals] = await rows<Record<string, unknown>>(db, sql`select
    (select count(*)::int from projects where registry_id = ${REGISTRY}) as projects,
    (select count(*)::int from issuances where registry_id = ${REGISTRY}) as issuances,
    (select coalesce(sum(quantity), 0)::text from issuances where registry_id = ${REGISTRY}) as issued,
    (select coalesce(sum(buffer_quantity), 0)::text from issuances where registry_id = ${REGISTRY}) as buffer,
    (select count(*)::int from unit_blocks where registry_id = ${REGISTRY} and status = 'retired') as retirements,
    (select coalesce(sum(quantity), 0)::text from unit_blocks where registry_id = ${REGISTRY} and status = 'retired') as retired,
    (select count(*)::int from events where registry_id = ${REGISTRY}) as events`);
  return totals!;
}

async function versions(db: Database): Promise<string> {
  const [v] = await rows<{ v: string | null }>(db, sql`select string_agg(t, ',') as v from (
    select 'p' || xmin::text as t from projects union all select 'i' || xmin::text from issuances
    union all select 'b' || xmin::text from unit_blocks) x`);
  return v?.v ?? '';
}

describe('Isometric file mode (registry records, flattened)', () => {
  let t: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
  });
  afterAll(() => t.close());

  it('when the projects are ingested, then each is stored under its prj_ id with its status, supplier, country, protocol and public page', async () => {
    const summary = await ingestFile(db, fixture('projects.csv'));
    expect(summary).toMatchObject({ status: 'committed', format: 'isometric-projects', rowsRead: csv.projects.length, rowsRejected: 0, errors: [], warnings: [] });
    expect(summary.projects.new).toBe(new Set(csv.projects.map((p) => p.id)).size);

    const statuses = await rows<{ raw: string; n: number }>(db, sql`select status_raw as raw, count(*)::int as n from projects
      where registry_id = ${REGISTRY} group by 1`);
    expect(new Map(statuses.map((s) => [s.raw, s.n]))).toEqual(count(csv.projects, (p) => p.status!));
    const mapped = await rows<{ raw: string; status: string }>(db, sql`select distinct status_raw as raw, status::text from projects
      where registry_id = ${REGISTRY} order by 1`);
    expect(mapped).toEqual([
      { raw: 'cancelled', status: 'withdrawn' }, { raw: 'under_validation', status: 'listed' },
      { raw: 'validated', status: 'validated' }, { raw: 'validation_unsuccessful', status: 'unknown' },
    ]);

    // Every project resolves to a country: by name where the project has a location, else by its alpha-3 code.
    const countries = await rows<{ id: string; country: string | null }>(db, sql`select registry_project_id as id, country
      from projects where registry_id = ${REGISTRY}`);
    expect(new Map(countries.map((c) => [c.id, c.country ? countryByCode(c.country)?.alpha3 : null])))
      .toEqual(new Map(csv.projects.map((p) => [p.id!, p.country_code!])));

    const ts26 = csv.projects.find((p) => p.short_code === 'TS26')!;
    const [stored] = await rows<Record<string, unknown>>(db, sql`select name, proponent, country, region, methodology_raw, methodologies,
        category, latitude, longitude, registry_url, crediting_period_start::text as start, crediting_period_end::text as "end"
      from projects where key = ${`${REGISTRY}:${ts26.id}`}`);
    expect(stored).toEqual({
      name: ts26.name, proponent: ts26['supplier.organisation.name'], country: 'IN', region: ts26['location.description'],
      methodology_raw: 'biochar', methodologies: ['iso-biochar'], category: 'carbon-capture',
      latitude: Number(ts26['location.latitude']), longitude: Number(ts26['location.longitude']),
      registry_url: `https://to.isometric.com/${ts26.id}`, start: ts26.crediting_period_start, end: ts26.crediting_period_end,
    });
    // Every protocol Isometric uses is a removal protocol Tally can place.
    const [{ unplaced }] = (await rows<{ unplaced: number }>(db, sql`select count(*)::int as unplaced from projects
      where registry_id = ${REGISTRY} and (category is null or category = 'unknown')`)) as [{ unplaced: number }];
    expect(unplaced).toBe(0);
  });

  it('when the issuances are ingested, then each fractional quantity is kept to the kilogram, gross, with the buffer pool beside it', async () => {
    const rowsIn = csv.issuances;
    const expected = {
      gross: sumKg(rowsIn.map((r) => kg(r['credit_batch_size_total.credit_kgs']))),
      buffer: sumKg(rowsIn.map((r) => kg(r['buffer_pool_credit_batch_size_total.credit_kgs']))),
      supplier: sumKg(rowsIn.map((r) => kg(r['supplier_credit_batch_size_total.credit_kgs']))),
    };
    expect(expected.supplier + expected.buffer).toBe(expected.gross);
    // Fractions are real: most issuances are not whole tonnes.
    expect(rowsIn.filter((r) => kg(r['credit_batch_size_total.credit_kgs']) % 1000n !== 0n).length).toBeGreaterThan(50);

    const summary = await ingestFile(db, fixture('issuances.csv'));
    expect(summary).toMatchObject({ status: 'committed', format: 'isometric-issuances', rowsRead: rowsIn.length, rowsRejected: 0, errors: [] });
    expect(summary.issuances.new).toBe(rowsIn.length);
    expect(summary.projects.new).toBe(0);

    const l = await ledger(db);
    expect(l).toMatchObject({ issuances: rowsIn.length, issued: tonnesText(expected.gross), buffer: tonnesText(expected.buffer) });
    const perProject = await rows<{ id: string; t: string }>(db, sql`select p.registry_project_id as id, sum(i.quantity)::text as t
      from issuances i join projects p on p.id = i.project_id where i.registry_id = ${REGISTRY} group by 1`);
    const expectedPerProject = new Map<string, bigint>();
    for (const r of rowsIn) expectedPerProject.set(r.project_id!, (expectedPerProject.get(r.project_id!) ?? 0n) + kg(r['credit_batch_size_total.credit_kgs']));
    expect(byKey(perProject, 'id', 't')).toEqual(new Map([...expectedPerProject].map(([id, k]) => [id, tonnesText(k)])));

    // One `issued` event per issuance, dated, for the same tonnes, with the issuance's public page.
    const events = await rows<{ year: number; n: number; t: string }>(db, sql`select extract(year from occurred_on)::int as year, count(*)::int as n,
        sum(quantity)::text as t from events where registry_id = ${REGISTRY} and kind = 'issued' group by 1 order by 1`);
    const expectedByYear = new Map<number, bigint>();
    for (const r of rowsIn) expectedByYear.set(Number(r.issued_at!.slice(0, 4)), (expectedByYear.get(Number(r.issued_at!.slice(0, 4))) ?? 0n) + kg(r['credit_batch_size_total.credit_kgs']));
    expect(new Map(events.map((e) => [e.year, e.t]))).toEqual(new Map([...expectedByYear].map(([y, k]) => [y, tonnesText(k)])));
    expect(events.reduce((s, e) => s + e.n, 0)).toBe(rowsIn.length);
    const first = rowsIn[0]!;
    const [event] = await rows<{ details: Record<string, unknown>; occurred_on: string; quantity: string }>(db, sql`select details, occurred_on::text, quantity::text
      from events where registry_id = ${REGISTRY} and event_key = ${`issued:${first.project_id}:${first.id}`}`);
    expect(event).toEqual({
      occurred_on: first.issued_at!.slice(0, 10), quantity: tonnesText(kg(first['credit_batch_size_total.credit_kgs'])),
      details: expect.objectContaining({ page: `https://registry.isometric.com/issuance/${first.id}`, supplier: first['supplier.organisation.name'] }),
    });
  });

  it('when the retirements are ingested, then each is a retired block under its ret_ id with beneficiary, account, purposes and certificate', async () => {
    const rowsIn = csv.retirements;
    const retired = sumKg(rowsIn.map((r) => kg(r['credit_batch_size_total.credit_kgs'])));
    const summary = await ingestFile(db, fixture('retirements.csv'));
    expect(summary).toMatchObject({ status: 'committed', format: 'isometric-retirements', rowsRead: rowsIn.length, rowsRejected: 0, errors: [] });
    expect(summary.blocks.new).toBe(rowsIn.length);

    const l = await ledger(db);
    expect(l).toMatchObject({ retirements: rowsIn.length, retired: tonnesText(retired) });
    const [{ t }] = (await rows<{ t: string }>(db, sql`select sum(quantity)::text as t from events where registry_id = ${REGISTRY} and kind = 'retired'`)) as [{ t: string }];
    expect(t).toBe(tonnesText(retired));

    // The purposes list, written as the reason; a list of one voluntary claim is voluntary, `other` is other, an empty list none.
    const reasons = await rows<{ reason: string | null; purpose: string | null; n: number }>(db, sql`select retirement_reason as reason,
        retirement_purpose::text as purpose, count(*)::int as n from unit_blocks where registry_id = ${REGISTRY} group by 1, 2`);
    const asReason = (p: string) => (p === '[]' ? null : p.replace(/^\[|\]$/g, '').replace(/'/g, ''));
    expect(new Map(reasons.map((r) => [String(r.reason), r.n]))).toEqual(count(rowsIn, (r) => String(asReason(r.purposes!))));
    expect(reasons.find((r) => r.reason === 'corporate_targets')?.purpose).toBe('voluntary');
    expect(reasons.find((r) => r.reason === 'public_environmental_claims, corporate_targets')?.purpose).toBe('voluntary');
    expect(reasons.find((r) => r.reason === 'other')?.purpose).toBe('other');
    expect(reasons.find((r) => r.reason === null)?.purpose).toBeNull();

    // Stripe retires for its customers: the beneficiary is the customer, the account Stripe's.
    const [{ n: onBehalf }] = (await rows<{ n: number }>(db, sql`select count(*)::int as n from unit_blocks
      where registry_id = ${REGISTRY} and account_holder is distinct from retirement_beneficiary`)) as [{ n: number }];
    expect(onBehalf).toBe(rowsIn.filter((r) => r['owner.name'] !== r['beneficiary.name']).length);
    const smallest = rowsIn.reduce((a, b) => (kg(a['credit_batch_size_total.credit_kgs']) <= kg(b['credit_batch_size_total.credit_kgs']) ? a : b));
    const [block] = await rows<Record<string, unknown>>(db, sql`select b.quantity::text as quantity, b.status_date::text as date, b.vintage_year,
        b.retirement_beneficiary, b.account_holder, b.retirement_details, p.registry_project_id as project, e.details->>'certificate' as certificate
      from unit_blocks b join projects p on p.id = b.project_id join events e on e.block_id = b.id and e.kind = 'retired'
      where b.registry_id = ${REGISTRY} and b.block_key = ${smallest.retirement_id}`);
    expect(block).toEqual({
      quantity: tonnesText(kg(smallest['credit_batch_size_total.credit_kgs'])), date: smallest.retired_at!.slice(0, 10),
      vintage_year: Number(smallest.sequestered_on!.slice(0, 4)), retirement_beneficiary: smallest['beneficiary.name'],
      account_holder: smallest['owner.name'], retirement_details: smallest.notes || null, project: smallest.project_id, certificate: smallest.url,
    });
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

describe('Isometric file mode, malformed retirements', () => {
  let t: TestDatabase;
  let db: Database;
  let dir: string;
  let path: string;
  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    dir = mkdtempSync(join(tmpdir(), 'tally-isometric-'));
    await ingestFile(db, fixture('projects.csv'));
    const headerLine = readFileSync(fixture('retirements.csv'), 'utf8').split(/\r?\n/)[0]!;
    const headers = Object.keys(csv.retirements[0]!);
    const line = (r: Record<string, string>) => csvLine(headers.map((h) => r[h] ?? ''));
    const [first, second] = csv.retirements as [Record<string, string>, Record<string, string>];
    const corrupt = (changes: Record<string, string>) => ({ ...second, ...changes });
    path = join(dir, 'isometric-retirements-broken.csv');
    writeFileSync(path, [
      headerLine,
      line(first), // line 2
      line(corrupt({ 'credit_batch_size_total.credits': '220.5' })), // line 3: 220.5 credits is not 220,000 kg
      line(corrupt({ 'credit_batch_size_total.credits': '-1.0', 'credit_batch_size_total.credit_kgs': '-1000' })), // line 4: negative
      line(corrupt({ retired_at: '2026-02-30T10:00:00Z' })), // line 5: no such day
      line(corrupt({ purposes: "['corporate_targets'" })), // line 6: the list is not closed
      line(corrupt({ retirement_id: 'iss_1KNQPB6541S05H5K' })), // line 7: an issuance id, not a retirement's
      '',
    ].join('\n'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t.close();
  });

  it('when rows have unreadable quantities, dates, lists or ids, then each is reported with its line and none of them is stored', async () => {
    const summary = await ingestFile(db, path);
    expect(summary).toMatchObject({ status: 'committed', format: 'isometric-retirements', rowsRead: 6, rowsRejected: 5 });
    const byLine = (n: number) => summary.errors.filter((e) => e.locator === `line ${n}`);
    expect(byLine(3)).toEqual([expect.objectContaining({ field: 'credit_batch_size_total.credits', code: 'credits-kg-mismatch', message: expect.stringMatching(/^line 3: .*220\.5 credits is not credit_batch_size_total\.credit_kgs 220000 kg/) })]);
    expect(byLine(4)).toEqual([expect.objectContaining({ field: 'credit_batch_size_total.credits', code: 'quantity-not-positive', message: expect.stringMatching(/^line 4: .*-1 is not a positive quantity/) })]);
    expect(byLine(5)).toEqual([expect.objectContaining({ field: 'retired_at', code: 'bad-date', message: expect.stringMatching(/^line 5: retired_at: .*is not a calendar date/) })]);
    expect(byLine(6)).toEqual([expect.objectContaining({ field: 'purposes', code: 'bad-literal', message: expect.stringMatching(/^line 6: purposes: .*not closed|^line 6: purposes: .*expected/) })]);
    expect(byLine(7)).toEqual([expect.objectContaining({ field: 'retirement_id', code: 'bad-id', message: expect.stringMatching(/^line 7: retirement_id: "iss_1KNQPB6541S05H5K" is not an Isometric retirement id/) })]);
    expect(summary.errors).toHaveLength(5);
    const stored = await rows<{ block_key: string }>(db, sql`select block_key from unit_blocks order by id`);
    expect(stored.map((s) => s.block_key)).toEqual([csv.retirements[0]!.retirement_id]);
    const [{ n }] = (await rows<{ n: number }>(db, sql`select count(*)::int as n from events where kind = 'retired'`)) as [{ n: number }];
    expect(n).toBe(1);
  });

  it('when the upload must be whole, then one bad row leaves nothing of the file in the ledger', async () => {
    const before = await rows<{ n: number }>(db, sql`select count(*)::int as n from unit_blocks`);
    const error = await ingestFile(db, path, { rejectOnRowErrors: true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchRejected);
    expect((error as BatchRejected).summary.failure).toMatch(/5 row\(s\) have errors; nothing from this file was stored/);
    expect((error as BatchRejected).summary.errors.map((e) => e.locator)).toEqual(['line 3', 'line 4', 'line 5', 'line 6', 'line 7']);
    expect(await rows<{ n: number }>(db, sql`select count(*)::int as n from unit_blocks`)).toEqual(before);
  });
});

// The earlier generation of the retirements export (test/fixtures/historical/isometric/README.md):
// CarbonPlan's first retirements.csv, one row per credit batch of a retirement (`ctb_…`, `status`,
// `retirement_id`, `size.credit_kgs`, …), 100 rows. Every figure is summed here from the file's
// `size.credit_kgs` in whole kilograms; each retirement's batches are one retired block under the
// retirement's own id, the key the retirement-level export and the API give it.
describe('Isometric file mode, the credit-level retirements of 2026-04', () => {
  const historical = new URL('../fixtures/historical/isometric/retirements-2026-04.csv', import.meta.url).pathname;
  const credits = readCsv(historical);
  let t: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    await ingestFile(db, fixture('projects.csv'));
    await ingestFile(db, fixture('issuances.csv'));
  });
  afterAll(() => t.close());

  /** Per retirement: its batches, kilograms, issuances, earliest sequestration and its one date, beneficiary and account. */
  const retirements = () => {
    const out = new Map<string, { batches: number; kg: bigint; issuances: Set<string>; sequestered: string; row: Record<string, string> }>();
    for (const r of credits) {
      const at = out.get(r.retirement_id!) ?? { batches: 0, kg: 0n, issuances: new Set<string>(), sequestered: r.sequestered_on!, row: r };
      at.batches += 1;
      at.kg += kg(r['size.credit_kgs']);
      at.issuances.add(r.issuance_id!);
      if (r.sequestered_on! < at.sequestered) at.sequestered = r.sequestered_on!;
      out.set(r.retirement_id!, at);
    }
    return out;
  };

  it('when the credit-level file is ingested, then nothing is refused and each retirement is one retired block holding its batches\' kilograms', async () => {
    // The file lists retired credits only, each with its retirement.
    expect(new Set(credits.map((r) => r.status))).toEqual(new Set(['retired']));
    expect(credits.filter((r) => !r.retirement_id || !r.retired_at)).toEqual([]);
    const expected = retirements();
    const total = sumKg(credits.map((r) => kg(r['size.credit_kgs'])));

    const summary = await ingestFile(db, historical);
    expect(summary).toMatchObject({ status: 'committed', format: 'isometric-retired-credits', rowsRejected: 0, errors: [], warnings: [] });
    // A retirement's consecutive rows are one record.
    expect(summary.rowsRead).toBe(expected.size);
    expect(summary.blocks.new).toBe(expected.size);
    expect(summary.projects.new).toBe(0);

    expect(await ledger(db)).toMatchObject({ retirements: expected.size, retired: tonnesText(total) });
    const [{ t: events }] = (await rows<{ t: string }>(db, sql`select sum(quantity)::text as t from events where registry_id = ${REGISTRY} and kind = 'retired'`)) as [{ t: string }];
    expect(events).toBe(tonnesText(total));

    const blocks = await rows<Record<string, unknown>>(db, sql`select b.block_key, b.quantity::text as quantity, b.status::text as status,
        b.status_date::text as date, b.vintage_year, b.retirement_beneficiary, b.account_holder, b.eligibility, p.registry_project_id as project,
        i.issuance_key, jsonb_array_length(e.details->'serials') as serials, e.details->>'certificate' as certificate
      from unit_blocks b join projects p on p.id = b.project_id left join issuances i on i.id = b.issuance_id
      join events e on e.block_id = b.id and e.kind = 'retired'
      where b.registry_id = ${REGISTRY} order by b.block_key`);
    expect(blocks).toEqual([...expected].sort(([a], [b]) => a.localeCompare(b)).map(([id, x]) => ({
      block_key: id, quantity: tonnesText(x.kg), status: 'retired', date: x.row.retired_at!.slice(0, 10),
      vintage_year: Number(x.sequestered.slice(0, 4)), retirement_beneficiary: x.row['beneficiary.name'], account_holder: x.row['owner.name'],
      eligibility: credits.filter((r) => r.retirement_id === id).every((r) => r.ccp_approved === 'True') ? ['ccp-approved'] : [],
      project: x.row.project_id, issuance_key: x.issuances.size === 1 ? [...x.issuances][0] : null, serials: x.batches,
      certificate: `https://to.isometric.com/${id}`,
    })));
  });

  it('when the credit-level file is ingested again, then nothing new is stored and the ledger is unchanged', async () => {
    const before = await ledger(db);
    const stamp = await versions(db);
    const again = await ingestFile(db, historical);
    expect(again).toMatchObject({ status: 'committed', format: 'isometric-retired-credits', rowsRejected: 0 });
    expect(again.rawRecords.new).toBe(0);
    expect(again.blocks.new + again.blocks.changed).toBe(0);
    expect(again.events.new).toBe(0);
    expect(await ledger(db)).toEqual(before);
    expect(await versions(db)).toBe(stamp);
    expect((await verifyChain(db)).ok).toBe(true);
  });
});
