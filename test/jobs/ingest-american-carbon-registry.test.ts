import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../../jobs/batches.ts';
import { ingestFile } from '../../jobs/ingest-file.ts';
import { rows, type Database } from '../../schema/database.ts';
import { csvLine, readCsv } from '../helpers/csv.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';

// ACR's four APX reports, ingested in the order a user would (projects first), each checked against
// totals computed here from the CSV with plain code, never with Tally's mappers.

const REGISTRY = 'american-carbon-registry';
const fixture = (name: string) => new URL(`../fixtures/registry-samples/${REGISTRY}/${name}`, import.meta.url).pathname;
const num = (v: string | undefined) => Number((v ?? '').replace(/,/g, '') || 0);
const yes = (v: string | undefined) => (v ?? '').trim().toLowerCase() === 'yes';
/** `6/30/2025 7:43:26 PM` → 2025 (month-first, as every APX date). */
const yearOf = (v: string | undefined) => Number((v ?? '').split(' ')[0]!.split('/')[2]);
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const groupSum = <T, K extends string | number>(list: T[], key: (t: T) => K, value: (t: T) => number) => {
  const out = new Map<K, number>();
  for (const t of list) out.set(key(t), (out.get(key(t)) ?? 0) + value(t));
  return out;
};

const csv = {
  projects: readCsv(fixture('projects.csv')),
  issuances: readCsv(fixture('issuances.csv')),
  retirements: readCsv(fixture('retirements.csv')),
  cancellations: readCsv(fixture('cancellations.csv')),
};
const newYork = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/New_York', year: 'numeric', month: '2-digit', day: '2-digit' });
/** `10/1/2025 12:08:20 AM` (GMT) → `2025-09-30`: the day in New York, the day GreenTrace gives an issuance. */
const dayInNewYork = (v: string | undefined) => {
  const [date, time, meridiem] = (v ?? '').trim().split(/\s+/) as [string, string, string];
  const [m, d, y] = date.split('/').map(Number) as [number, number, number];
  const [h, min, sec] = time.split(':').map(Number) as [number, number, number];
  const hours = (h % 12) + (meridiem.toUpperCase() === 'PM' ? 12 : 0);
  return newYork.format(new Date(Date.UTC(y, m - 1, d, hours, min, sec)));
};
/**
 * What identifies one issuance in every report: project, vintage and the issue day in New York. The
 * removal and non-removal rows of an issuance share them, and so do its batches, which the block
 * reports stamp seconds apart.
 */
const issuanceIdentity = (r: Record<string, string>) => `${r['Project ID']}|${r.Vintage}|${dayInNewYork(r['Date Issued (GMT)'])}`;
const issuedIdentities = new Set(csv.issuances.map(issuanceIdentity));

async function ledger(db: Database) {
  const blocks = await rows<{ status: string; n: number; t: string; linked: number }>(db, sql`select status::text, count(*)::int as n,
      sum(quantity)::text as t, count(issuance_id)::int as linked
    from unit_blocks where registry_id = ${REGISTRY} group by 1 order by 1`);
  const [issuances] = await rows<{ n: number; t: string; buffer: string }>(db, sql`select count(*)::int as n, coalesce(sum(quantity), 0)::text as t,
      coalesce(sum(buffer_quantity), 0)::text as buffer from issuances where registry_id = ${REGISTRY}`);
  const byVintage = await rows<{ vintage: number; t: string }>(db, sql`select vintage_year as vintage, sum(quantity)::text as t
    from issuances where registry_id = ${REGISTRY} group by 1 order by 1`);
  const [projects] = await rows<{ n: number }>(db, sql`select count(*)::int as n from projects where registry_id = ${REGISTRY}`);
  const events = await rows<{ kind: string; year: number | null; counterparty: string | null; n: number; t: string }>(db, sql`select kind::text,
      extract(year from occurred_on)::int as year, counterparty_registry_id as counterparty, count(*)::int as n, sum(quantity)::text as t
    from events where registry_id = ${REGISTRY} group by 1, 2, 3 order by 1, 2, 3`);
  return { blocks, issuances: issuances!, byVintage, projects: projects!.n, events };
}

const blockTotals = (l: Awaited<ReturnType<typeof ledger>>, status: string) => {
  const b = l.blocks.find((x) => x.status === status);
  return { n: b?.n ?? 0, t: Number(b?.t ?? 0), linked: b?.linked ?? 0 };
};
const eventTonnes = (l: Awaited<ReturnType<typeof ledger>>, kind: string, where: (e: { year: number | null; counterparty: string | null }) => boolean = () => true) =>
  sum(l.events.filter((e) => e.kind === kind && where(e)).map((e) => Number(e.t)));
const eventCount = (l: Awaited<ReturnType<typeof ledger>>, kind: string, where: (e: { year: number | null; counterparty: string | null }) => boolean = () => true) =>
  sum(l.events.filter((e) => e.kind === kind && where(e)).map((e) => e.n));

async function blockVersions(db: Database): Promise<string> {
  const [v] = await rows<{ v: string | null }>(db, sql`select string_agg(xmin::text, ',' order by id) as v from unit_blocks`);
  return v?.v ?? '';
}

describe('ACR file mode (APX reports)', () => {
  let t: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
  });
  afterAll(() => t.close());

  it('when the project report is ingested, then every project is stored with its CAD Trust status, country and compliance eligibility', async () => {
    const summary = await ingestFile(db, fixture('projects.csv'));
    expect(summary).toMatchObject({ status: 'committed', format: 'acr-projects', rowsRead: 50, rowsRejected: 0, errors: [] });
    expect(csv.projects.length).toBe(50);
    expect(summary.projects.new).toBe(new Set(csv.projects.map((r) => r['Project ID'])).size);

    // The status comes from the compliance column unless it says the project is not ARB/Ecology.
    const raw = csv.projects.map((r) => (r['Compliance Program Status (ARB or Ecology)'] === 'Not ARB or Ecology Eligible'
      ? r['Voluntary Status'] : r['Compliance Program Status (ARB or Ecology)']) ?? '');
    const expectedStatus: Record<string, string> = {
      Completed: 'completed', 'ARB Completed': 'completed', 'ARB Inactive': 'completed', 'Ecology Completed': 'completed',
      'Ecology Inactive': 'completed', Listed: 'listed', Registered: 'registered', 'Listed - Active Ecology Project': 'registered',
    };
    const expected = groupSum(raw, (s) => expectedStatus[s] ?? `unmapped ${s}`, () => 1);
    const stored = await rows<{ status: string; n: number }>(db, sql`select status::text, count(*)::int as n from projects
      where registry_id = ${REGISTRY} group by 1`);
    expect(new Map(stored.map((s) => [s.status, s.n]))).toEqual(expected);
    expect(expected).toEqual(new Map([['completed', 45], ['registered', 3], ['listed', 2]]));

    const [p] = await rows<Record<string, unknown>>(db, sql`select name, proponent, country, status::text, status_raw, eligibility, methodologies,
      category, region, co_benefits, registry_url from projects where key = 'american-carbon-registry:ACR206'`);
    expect(p).toMatchObject({ name: '2014-P4', proponent: 'EOS Climate Inc', country: 'US', status: 'completed', status_raw: 'ARB Completed',
      region: 'ARKANSAS', eligibility: ['arb-eligible'], category: 'ghg-management', registry_url: null });
    expect(p!.co_benefits).toEqual(['sdg-9', 'sdg-12', 'sdg-13']);
    const [ecology] = await rows<{ eligibility: string[] }>(db, sql`select eligibility from projects where key = 'american-carbon-registry:ACR1185'`);
    expect(ecology!.eligibility).toEqual(['wa-ecology-eligible']);
    const [{ missing }] = (await rows<{ missing: number }>(db, sql`select count(*)::int as missing from projects
      where registry_id = ${REGISTRY} and (country is null or status = 'unknown')`)) as [{ missing: number }];
    expect(missing).toBe(0);
  });

  it('when the issuance report is ingested, then there is one issuance per project, vintage and day, GROSS of buffer, with the buffer beside it', async () => {
    const rowsIn = csv.issuances;
    // Gross = to project + to buffer on every row: the figure the ledger keeps is the gross one.
    expect(rowsIn.filter((r) => num(r['Total Credits Issued']) !== num(r['Credits Issued to Project']) + num(r['Credits Issued to Buffer Pool']))).toEqual([]);
    const knownProjects = new Set(csv.projects.map((r) => r['Project ID']));
    const fileProjects = new Set(rowsIn.map((r) => r['Project ID']));
    const expected = {
      issuances: new Set(rowsIn.map(issuanceIdentity)).size,
      gross: sum(rowsIn.map((r) => num(r['Total Credits Issued']))),
      buffer: sum(rowsIn.map((r) => num(r['Credits Issued to Buffer Pool']) + num(r['Credits Transferred to Buffer Pool']))),
      byVintage: groupSum(rowsIn, (r) => Number(r.Vintage), (r) => num(r['Total Credits Issued'])),
      byYearIssued: groupSum(rowsIn, (r) => Number(dayInNewYork(r['Date Issued (GMT)']).slice(0, 4)), (r) => num(r['Total Credits Issued'])),
      newProjects: [...fileProjects].filter((p) => !knownProjects.has(p)).length,
    };
    // 100 rows, 12 of them the removal part of an issuance whose other row is on the next or previous line.
    expect(expected).toMatchObject({ issuances: 88, gross: 7_749_713, buffer: 195_800, newProjects: 74 });

    const summary = await ingestFile(db, fixture('issuances.csv'));
    // A record per issuance: the two rows of an issuance are read as one.
    expect(summary).toMatchObject({ status: 'committed', format: 'acr-issuances', rowsRead: expected.issuances, rowsRejected: 0, errors: [] });
    expect(summary.issuances.new).toBe(expected.issuances);
    expect(summary.projects.new).toBe(expected.newProjects);

    const l = await ledger(db);
    expect(l.issuances.n).toBe(expected.issuances);
    expect(Number(l.issuances.t)).toBe(expected.gross);
    expect(Number(l.issuances.buffer)).toBe(expected.buffer);
    expect(new Map(l.byVintage.map((v) => [v.vintage, Number(v.t)]))).toEqual(expected.byVintage);
    expect(l.projects).toBe(csv.projects.length + expected.newProjects);
    for (const [year, tonnes] of expected.byYearIssued) expect(eventTonnes(l, 'issued', (e) => e.year === year), `issued in ${year}`).toBe(tonnes);
    expect(eventTonnes(l, 'issued')).toBe(expected.gross);

    // One issuance event reported as two rows (removals and the rest, same timestamp) is one issuance, their sum.
    const pair = rowsIn.filter((r) => r['Project ID'] === 'ACR851');
    expect(pair.map((r) => num(r['Total Credits Issued']))).toEqual([33_028, 58_806]);
    const split = await rows<Record<string, unknown>>(db, sql`select issuance_key, quantity::bigint::text as quantity, buffer_quantity::bigint::text as buffer,
        issued_on::text as issued_on from issuances i join projects p on p.id = i.project_id where p.key = 'american-carbon-registry:ACR851'`);
    expect(split).toEqual([{ issuance_key: '2025/2025-11-27', quantity: String(33_028 + 58_806), buffer: '16941', issued_on: '2025-11-27' }]);
    // A GMT time after midnight is the evening before in New York: ACR802's pair, 10/1/2025 12:08:20 AM GMT.
    const [evening] = await rows<Record<string, unknown>>(db, sql`select issuance_key, quantity::bigint::text as quantity, issued_on::text as issued_on
      from issuances i join projects p on p.id = i.project_id where p.key = 'american-carbon-registry:ACR802'`);
    expect(evening).toEqual({ issuance_key: '2025/2025-09-30', quantity: String(9_833 + 51_093), issued_on: '2025-09-30' });
  });

  it("when the registry's own project totals are compared with the issuance report, then they agree where the sample holds the project's whole history", () => {
    // `Total Number of Credits Registered` against the gross issued in this partial issuance file. The
    // projects present in both are ODS/industrial ones with no buffer, so gross and net are the same
    // here; the sample cannot tell which of the two the registry's total counts.
    const issued = groupSum(csv.issuances, (r) => r['Project ID']!, (r) => num(r['Total Credits Issued']));
    const compared = csv.projects.filter((r) => issued.has(r['Project ID']!))
      .map((r) => ({ id: r['Project ID']!, registered: num(r['Total Number of Credits Registered ']), issued: issued.get(r['Project ID']!)! }));
    expect(compared).toHaveLength(12);
    expect(compared.filter((c) => c.registered === c.issued)).toHaveLength(10);
    // The other two have issuances older than the sample's rows: the registry's total is larger, never smaller.
    expect(compared.filter((c) => c.registered !== c.issued)).toEqual([
      { id: 'ACR1172', registered: 48_686, issued: 36_972 },
      { id: 'ACR1169', registered: 284_077, issued: 146_569 },
    ]);
  });

  it('when the retirement report is ingested, then each row is a retired block with its beneficiary, linked to its issuance where the sample has it', async () => {
    const rowsIn = csv.retirements;
    const expected = {
      blocks: rowsIn.length,
      tonnes: sum(rowsIn.map((r) => num(r['Quantity of Credits']))),
      byYear: groupSum(rowsIn, (r) => yearOf(r['Status Effective (GMT)']), (r) => num(r['Quantity of Credits'])),
      linked: rowsIn.filter((r) => issuedIdentities.has(issuanceIdentity(r))).length,
      beneficiaries: rowsIn.filter((r) => r['Retired on Behalf of']?.trim()).length,
      corsiaPilot: rowsIn.filter((r) => yes(r['Eligible for CORSIA 2021-2023 Compliance Period (Pilot Phase)'])).length,
      ccp: rowsIn.filter((r) => yes(r['CCP Approved'])).length,
    };
    expect(expected).toMatchObject({ blocks: 100, tonnes: 298_881, linked: 5, beneficiaries: 100, corsiaPilot: 9, ccp: 9 });

    const summary = await ingestFile(db, fixture('retirements.csv'));
    expect(summary).toMatchObject({ status: 'committed', format: 'acr-retirements', rowsRead: 100, rowsRejected: 0, errors: [] });
    expect(summary.blocks.new).toBe(expected.blocks);

    const l = await ledger(db);
    expect(blockTotals(l, 'retired')).toEqual({ n: expected.blocks, t: expected.tonnes, linked: expected.linked });
    for (const [year, tonnes] of expected.byYear) expect(eventTonnes(l, 'retired', (e) => e.year === year), `retired in ${year}`).toBe(tonnes);
    expect(eventTonnes(l, 'retired')).toBe(expected.tonnes);

    const [counts] = await rows<{ beneficiaries: number; pilot: number; ccp: number; purposes: number }>(db, sql`select
        count(retirement_beneficiary)::int as beneficiaries,
        count(*) filter (where 'corsia-pilot-phase' = any(eligibility))::int as pilot,
        count(*) filter (where 'ccp-approved' = any(eligibility))::int as ccp,
        count(retirement_purpose)::int as purposes
      from unit_blocks where registry_id = ${REGISTRY} and status = 'retired'`);
    // ACR's reasons (Environmental Benefit, On Behalf of Third Party) name no purpose: none is set.
    expect(counts).toEqual({ beneficiaries: expected.beneficiaries, pilot: expected.corsiaPilot, ccp: expected.ccp, purposes: 0 });
    const [aws] = await rows<Record<string, unknown>>(db, sql`select retirement_beneficiary, retirement_reason, retirement_details, account_holder,
      status_date::text as status_date, vintage_start::text as vintage_start, number_space, serial_start::text as serial_start, serial_end::text as serial_end
      from unit_blocks where registry_id = ${REGISTRY} and block_key = 'ACR-FR-1129-2025-2917-30932 to 35143'`);
    expect(aws).toEqual({ retirement_beneficiary: 'AWS', retirement_reason: 'Environmental Benefit',
      retirement_details: 'Retirement for 2025 emissions associated with customer usage; AWS', account_holder: '1423',
      status_date: '2026-04-13', vintage_start: '2025-02-07', number_space: 'american-carbon-registry:ACR1129:2025:2917',
      serial_start: '30932', serial_end: '35143' });
  });

  it('when the cancellation report is ingested, then conversions to ARB and Ecology are exports with one converted-out event each, and removals are cancellations', async () => {
    const rowsIn = csv.cancellations;
    const byType = (type: string) => rowsIn.filter((r) => r['Cancellation Type'] === type);
    const arb = byType('Convert to ARB offset credits');
    const ecology = byType('Convert to Ecology offset credits');
    const removed = byType('Removal of credits from the registry');
    const tonnes = (list: Record<string, string>[]) => sum(list.map((r) => num(r['Quantity of Credits'])));
    expect(arb.length + ecology.length + removed.length).toBe(rowsIn.length);
    const expected = {
      arb: { n: arb.length, t: tonnes(arb) },
      ecology: { n: ecology.length, t: tonnes(ecology) },
      removed: { n: removed.length, t: tonnes(removed) },
      linkedExported: [...arb, ...ecology].filter((r) => issuedIdentities.has(issuanceIdentity(r))).length,
      linkedRemoved: removed.filter((r) => issuedIdentities.has(issuanceIdentity(r))).length,
      convertedByYear: groupSum([...arb, ...ecology], (r) => yearOf(r['Status Effective  (GMT)']), (r) => num(r['Quantity of Credits'])),
    };
    // ACR554's batches 2974 and 2975 are stamped 13:11:53 and 13:11:54: both link to its one issuance row (24,582 = 20,681 + 3,901).
    expect(expected).toMatchObject({ arb: { n: 41, t: 7_126_028 }, ecology: { n: 6, t: 447_531 }, removed: { n: 3, t: 73_150 }, linkedExported: 33, linkedRemoved: 2 });

    const summary = await ingestFile(db, fixture('cancellations.csv'));
    expect(summary).toMatchObject({ status: 'committed', format: 'acr-cancellations', rowsRead: 50, rowsRejected: 0, errors: [] });
    expect(summary.blocks.new).toBe(rowsIn.length);

    const l = await ledger(db);
    expect(blockTotals(l, 'exported')).toEqual({ n: expected.arb.n + expected.ecology.n, t: expected.arb.t + expected.ecology.t, linked: expected.linkedExported });
    expect(blockTotals(l, 'cancelled')).toEqual({ n: expected.removed.n, t: expected.removed.t, linked: expected.linkedRemoved });
    // Exactly one converted-out event per exported block: the connector's (with its counterparty) and
    // the one the ingest derives from the status share a key.
    expect(eventCount(l, 'converted-out')).toBe(expected.arb.n + expected.ecology.n);
    expect({ n: eventCount(l, 'converted-out', (e) => e.counterparty === 'arb'), t: eventTonnes(l, 'converted-out', (e) => e.counterparty === 'arb') }).toEqual(expected.arb);
    expect({ n: eventCount(l, 'converted-out', (e) => e.counterparty === null), t: eventTonnes(l, 'converted-out', (e) => e.counterparty === null) }).toEqual(expected.ecology);
    for (const [year, t] of expected.convertedByYear) expect(eventTonnes(l, 'converted-out', (e) => e.year === year), `converted in ${year}`).toBe(t);
    expect({ n: eventCount(l, 'cancelled'), t: eventTonnes(l, 'cancelled') }).toEqual(expected.removed);

    const [toEcology] = await rows<{ details: Record<string, unknown>; block_key: string }>(db, sql`select e.details, b.block_key from events e
      join unit_blocks b on b.id = e.block_id
      where e.registry_id = ${REGISTRY} and e.kind = 'converted-out' and b.block_key = 'ACR-US-1185-2025-3078-1 to 85847'`);
    expect(toEcology!.details).toMatchObject({ cancellationType: 'Convert to Ecology offset credits', destination: expect.stringContaining('Washington State Department of Ecology') });
    const [premature] = await rows<Record<string, unknown>>(db, sql`select count(*)::int as n from unit_blocks
      where registry_id = ${REGISTRY} and status = 'cancelled' and retirement_details = 'Premature issuance'`);
    expect(premature).toEqual({ n: 2 });
  });

  it('when every report is ingested again, then nothing new is stored and the ledger is unchanged', async () => {
    const before = await ledger(db);
    const versions = await blockVersions(db);
    for (const name of ['issuances.csv', 'retirements.csv', 'cancellations.csv', 'projects.csv']) {
      const summary = await ingestFile(db, fixture(name));
      expect(summary.status, name).toBe('committed');
      expect(summary.rawRecords.new, name).toBe(0);
      expect(summary.blocks.new + summary.blocks.changed, name).toBe(0);
      expect(summary.projects.new, name).toBe(0);
      expect(summary.projects.changed, name).toBe(0);
      expect(summary.issuances.new + summary.issuances.changed, name).toBe(0);
      expect(summary.events.new, name).toBe(0);
    }
    expect(await ledger(db)).toEqual(before);
    expect(await blockVersions(db)).toBe(versions);
    expect((await verifyChain(db)).ok).toBe(true);
  });

  it('when a transaction report names a project the project report described, then the status it gave is kept', async () => {
    for (const name of ['issuances.csv', 'retirements.csv', 'cancellations.csv']) await ingestFile(db, fixture(name));
    const statuses = await rows<{ key: string; status: string }>(db, sql`select key, status::text from projects
      where key in ('american-carbon-registry:ACR1185', 'american-carbon-registry:ACR869') order by key`);
    expect(statuses).toEqual([
      { key: 'american-carbon-registry:ACR1185', status: 'registered' },
      { key: 'american-carbon-registry:ACR869', status: 'completed' },
    ]);
  });
});

describe('ACR file mode, an issuance whose rows come apart', () => {
  let t: TestDatabase;
  let db: Database;
  let dir: string;
  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    dir = mkdtempSync(join(tmpdir(), 'tally-acr-issuances-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t.close();
  });

  it('when the removal row of an issuance is away from its other row, then the later run is refused with both lines named, and the rest is stored', async () => {
    const headerLine = readFileSync(fixture('issuances.csv'), 'utf8').replace(/^\uFEFF/, '').split(/\r?\n/)[0]!;
    const headers = Object.keys(csv.issuances[0]!);
    const line = (r: Record<string, string>) => csvLine(headers.map((h) => r[h] ?? ''));
    const of = (id: string) => csv.issuances.filter((r) => r['Project ID'] === id);
    const [removal, rest] = of('ACR851') as [Record<string, string>, Record<string, string>];
    const [other] = of('ACR731');
    expect([yes(removal['Verified Removal']), yes(rest['Verified Removal'])]).toEqual([true, false]);
    const path = join(dir, 'acr-issuances-apart.csv');
    writeFileSync(path, [headerLine, line(removal), line(other!), line(rest), ''].join('\n'));

    const summary = await ingestFile(db, path);
    expect(summary).toMatchObject({ status: 'committed', format: 'acr-issuances', rowsRead: 3, rowsRejected: 1 });
    expect(summary.errors).toEqual([expect.objectContaining({ locator: 'line 4', field: 'Date Issued (GMT)', code: 'issuance-apart',
      message: expect.stringMatching(/^line 4: .*ACR851's vintage 2025 issuance of 2025-11-27 has rows from line 2 on, apart from these/) })]);
    const stored = await rows<{ project: string; quantity: string }>(db, sql`select p.registry_project_id as project, i.quantity::bigint::text as quantity
      from issuances i join projects p on p.id = i.project_id order by 1`);
    expect(stored).toEqual([
      { project: 'ACR731', quantity: String(num(other!['Total Credits Issued'])) },
      { project: 'ACR851', quantity: String(num(removal['Total Credits Issued'])) },
    ]);

    // Read again with the two rows together, the issuance is whole.
    const together = join(dir, 'acr-issuances-together.csv');
    writeFileSync(together, [headerLine, line(other!), line(removal), line(rest), ''].join('\n'));
    expect(await ingestFile(db, together)).toMatchObject({ status: 'committed', rowsRead: 2, rowsRejected: 0 });
    const [whole] = await rows<{ quantity: string }>(db, sql`select i.quantity::bigint::text as quantity from issuances i
      join projects p on p.id = i.project_id where p.registry_project_id = 'ACR851'`);
    expect(Number(whole!.quantity)).toBe(num(removal['Total Credits Issued']) + num(rest['Total Credits Issued']));
  });
});

describe('ACR file mode, malformed retirement report', () => {
  let t: TestDatabase;
  let db: Database;
  let dir: string;
  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    dir = mkdtempSync(join(tmpdir(), 'tally-acr-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t.close();
  });

  it('when rows have a bad serial, a reversed range, a negative quantity or an unreadable date, then those rows are reported by line and the good rows are committed', async () => {
    const headerLine = readFileSync(fixture('retirements.csv'), 'utf8').split(/\r?\n/)[0]!;
    const headers = Object.keys(csv.retirements[0]!);
    const line = (r: Record<string, string>) => csvLine(headers.map((h) => r[h] ?? ''));
    const [first, second] = csv.retirements as [Record<string, string>, Record<string, string>];
    const corrupt = (changes: Record<string, string>) => ({ ...first, ...changes });
    const path = join(dir, 'acr-retirements-broken.csv');
    writeFileSync(path, [
      headerLine,
      line(first), // line 2
      line(second), // line 3
      line(corrupt({ 'Credit Serial Numbers': 'ACR-FR-11X9-2025-2917-30932 to 35143' })), // line 4: unparseable
      line(corrupt({ 'Credit Serial Numbers': 'ACR-FR-1129-2025-2917-35143 to 30932' })), // line 5: end before start
      line(corrupt({ 'Quantity of Credits': '-4212' })), // line 6: negative
      line(corrupt({ 'Status Effective (GMT)': 'sometime in April' })), // line 7: not a date
      '',
    ].join('\n'));

    const summary = await ingestFile(db, path);
    expect(summary).toMatchObject({ status: 'committed', format: 'acr-retirements', rowsRead: 6, rowsRejected: 4 });
    const byLine = (n: number) => summary.errors.filter((e) => e.locator === `line ${n}`);
    expect(byLine(4)).toEqual([expect.objectContaining({ field: 'Credit Serial Numbers', code: 'bad-serial', message: expect.stringMatching(/^line 4: .*project number "11X9" is not a number/) })]);
    expect(byLine(5)).toEqual([expect.objectContaining({ field: 'Credit Serial Numbers', code: 'bad-serial', message: expect.stringMatching(/^line 5: .*end 30932 is before start 35143/) })]);
    expect(byLine(6)).toEqual([expect.objectContaining({ field: 'Quantity of Credits', code: 'quantity-not-positive', message: expect.stringMatching(/^line 6: .*-4212 is not a positive quantity/) })]);
    expect(byLine(7)).toEqual([expect.objectContaining({ field: 'Status Effective (GMT)', code: 'bad-date', message: expect.stringMatching(/^line 7: .*"sometime in April" is not a date/) })]);
    expect(summary.errors).toHaveLength(4);

    const stored = await rows<{ block_key: string; quantity: string }>(db, sql`select block_key, quantity::text as quantity from unit_blocks order by id`);
    expect(stored.map((s) => [s.block_key, Number(s.quantity)])).toEqual([
      [first['Credit Serial Numbers'], num(first['Quantity of Credits'])],
      [second['Credit Serial Numbers'], num(second['Quantity of Credits'])],
    ]);
  });
});
