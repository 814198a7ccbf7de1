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

// ART TREES' four APX-format reports (the whole registry as of 2026-04: 28 programs, 11 issuances,
// 8 retirements, 3 cancellations), ingested programs first, each checked against totals computed here
// from the CSV with plain code.

const REGISTRY = 'art-trees';
const fixture = (name: string) => new URL(`../fixtures/registry-samples/${REGISTRY}/${name}`, import.meta.url).pathname;
const num = (v: string | undefined) => Number((v ?? '').replace(/,/g, '') || 0);
/** `04/08/2026` or `3/9/2026 4:16:10 PM` → 2026 (month-first). */
const yearOf = (v: string | undefined) => Number((v ?? '').split(' ')[0]!.split('/')[2]);
/** Month-first date → `YYYY-MM-DD`. */
const isoOf = (v: string | undefined) => {
  const [m, d, y] = (v ?? '').split(' ')[0]!.split('/') as [string, string, string];
  return `${y}-${m.padStart(2, '0')}-${d.padStart(2, '0')}`;
};
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const groupSum = <T, K extends string | number>(list: T[], key: (t: T) => K, value: (t: T) => number) => {
  const out = new Map<K, number>();
  for (const t of list) out.set(key(t), (out.get(key(t)) ?? 0) + value(t));
  return out;
};

const csv = {
  programs: readCsv(fixture('projects.csv')),
  issuances: readCsv(fixture('issuances.csv')),
  retirements: readCsv(fixture('retirements.csv')),
  cancellations: readCsv(fixture('cancellations.csv')),
};
/** An issuance is (program, vintage, approval date) in every report; the transaction reports add a time to the date. */
const issuanceIdentity = (r: Record<string, string>) => `${r['Program ID']}|${r.Vintage}|${isoOf(r['Date Approved'])}`;
const issuedIdentities = new Set(csv.issuances.map(issuanceIdentity));

async function ledger(db: Database) {
  const blocks = await rows<{ status: string; n: number; t: string; linked: number }>(db, sql`select status::text, count(*)::int as n,
      sum(quantity)::text as t, count(issuance_id)::int as linked
    from unit_blocks where registry_id = ${REGISTRY} group by 1 order by 1`);
  const [issuances] = await rows<{ n: number; t: string; buffer: string }>(db, sql`select count(*)::int as n, coalesce(sum(quantity), 0)::text as t,
      coalesce(sum(buffer_quantity), 0)::text as buffer from issuances where registry_id = ${REGISTRY}`);
  const byVintage = await rows<{ vintage: number; t: string }>(db, sql`select vintage_year as vintage, sum(quantity)::text as t
    from issuances where registry_id = ${REGISTRY} group by 1 order by 1`);
  const byCreditType = await rows<{ credit_type: string; t: string }>(db, sql`select credit_type, sum(quantity)::text as t
    from issuances where registry_id = ${REGISTRY} group by 1 order by 1`);
  const [projects] = await rows<{ n: number }>(db, sql`select count(*)::int as n from projects where registry_id = ${REGISTRY}`);
  const events = await rows<{ kind: string; year: number | null; n: number; t: string }>(db, sql`select kind::text,
      extract(year from occurred_on)::int as year, count(*)::int as n, sum(quantity)::text as t
    from events where registry_id = ${REGISTRY} group by 1, 2 order by 1, 2`);
  return { blocks, issuances: issuances!, byVintage, byCreditType, projects: projects!.n, events };
}
type Ledger = Awaited<ReturnType<typeof ledger>>;
const blockTotals = (l: Ledger, status: string) => {
  const b = l.blocks.find((x) => x.status === status);
  return { n: b?.n ?? 0, t: Number(b?.t ?? 0), linked: b?.linked ?? 0 };
};
const eventTonnes = (l: Ledger, kind: string, year?: number) =>
  sum(l.events.filter((e) => e.kind === kind && (year === undefined || e.year === year)).map((e) => Number(e.t)));

async function blockVersions(db: Database): Promise<string> {
  const [v] = await rows<{ v: string | null }>(db, sql`select string_agg(xmin::text, ',' order by id) as v from unit_blocks`);
  return v?.v ?? '';
}

describe('ART TREES file mode (APX reports)', () => {
  let t: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
  });
  afterAll(() => t.close());

  it('when the program report is ingested, then every program is stored with its status, developer and country', async () => {
    const summary = await ingestFile(db, fixture('projects.csv'));
    expect(summary).toMatchObject({ status: 'committed', format: 'art-trees-programs', rowsRead: 28, rowsRejected: 0, errors: [] });
    expect(summary.projects.new).toBe(new Set(csv.programs.map((r) => r['Program ID'])).size);

    const expected = groupSum(csv.programs, (r) => r.Status!.toLowerCase(), () => 1);
    expect(expected).toEqual(new Map([['listed', 25], ['registered', 3]]));
    const stored = await rows<{ status: string; n: number }>(db, sql`select status::text, count(*)::int as n from projects
      where registry_id = ${REGISTRY} group by 1`);
    expect(new Map(stored.map((s) => [s.status, s.n]))).toEqual(expected);
    // `Program  Country` (two spaces) writes names in capitals; every one resolves to ISO.
    const [{ missing }] = (await rows<{ missing: number }>(db, sql`select count(*)::int as missing from projects
      where registry_id = ${REGISTRY} and country is null`)) as [{ missing: number }];
    expect(missing).toBe(0);
    const [guyana] = await rows<Record<string, unknown>>(db, sql`select name, proponent, country, status::text, status_raw,
      methodology_raw, registry_url, crediting_period_start::text as start from projects where key = 'art-trees:ART102'`);
    expect(guyana).toEqual({ name: 'Guyana', proponent: 'Guyana Forestry Commission', country: 'GY', status: 'registered', status_raw: 'Registered',
      methodology_raw: 'ART - The REDD+ Environmental Excellence Standard (TREES)', registry_url: null, start: '2016-01-01' });
    const congo = csv.programs.find((r) => r['Program  Country'] === 'CONGO, THE DEMOCRATIC REPUBLIC OF THE')!;
    const [drc] = await rows<{ country: string }>(db, sql`select country from projects where key = ${`art-trees:${congo['Program ID']}`}`);
    expect(drc!.country).toBe('CD');
  });

  it('when the issuance report is ingested, then quantity is GROSS (net + buffer), comparable with ACR and CAR, with the buffer beside it', async () => {
    const rowsIn = csv.issuances;
    // ART's three figures: total = verified (net, to the program) + buffer, on every row.
    expect(rowsIn.filter((r) => num(r['Total Emission Reductions/Removals']) !== num(r['Credits Verified']) + num(r['Credits Deposited in Buffer']))).toEqual([]);
    const expected = {
      issuances: new Set(rowsIn.map(issuanceIdentity)).size,
      gross: sum(rowsIn.map((r) => num(r['Total Emission Reductions/Removals']))),
      net: sum(rowsIn.map((r) => num(r['Credits Verified']))),
      buffer: sum(rowsIn.map((r) => num(r['Credits Deposited in Buffer']))),
      fcpf: sum(rowsIn.filter((r) => r['Crediting Program and Standard']!.startsWith('FCPF')).map((r) => num(r['Total Emission Reductions/Removals']))),
      byVintage: groupSum(rowsIn, (r) => Number(r.Vintage), (r) => num(r['Total Emission Reductions/Removals'])),
      byYearApproved: groupSum(rowsIn, (r) => yearOf(r['Date Approved']), (r) => num(r['Total Emission Reductions/Removals'])),
    };
    expect(expected).toMatchObject({ issuances: 11, gross: 62_322_618, net: 58_753_403, buffer: 3_569_215, fcpf: 319_590 });

    const summary = await ingestFile(db, fixture('issuances.csv'));
    expect(summary).toMatchObject({ status: 'committed', format: 'art-trees-issuances', rowsRead: 11, rowsRejected: 0, errors: [] });
    expect(summary.issuances.new).toBe(expected.issuances);
    expect(summary.projects.new).toBe(0);

    const l = await ledger(db);
    expect(l.issuances.n).toBe(expected.issuances);
    expect(Number(l.issuances.t)).toBe(expected.gross);
    expect(Number(l.issuances.buffer)).toBe(expected.buffer);
    expect(Number(l.issuances.t) - Number(l.issuances.buffer)).toBe(expected.net);
    expect(new Map(l.byVintage.map((v) => [v.vintage, Number(v.t)]))).toEqual(expected.byVintage);
    // FCPF Carbon Fund units hosted by ART are not TREES credits.
    expect(l.byCreditType.map((c) => [c.credit_type, Number(c.t)])).toEqual([['fcpf-er', expected.fcpf], ['trees-credit', expected.gross - expected.fcpf]]);
    for (const [year, tonnes] of expected.byYearApproved) expect(eventTonnes(l, 'issued', year), `issued in ${year}`).toBe(tonnes);
    expect(l.projects).toBe(csv.programs.length);
  });

  it('when the retirement report is ingested, then each row is a retired block linked to its issuance, the NDC contribution reason kept as written', async () => {
    const rowsIn = csv.retirements;
    const ndcReason = 'Contribution Towards Corporate Climate Pledge AND Host Country NDC';
    const expected = {
      blocks: rowsIn.length,
      tonnes: sum(rowsIn.map((r) => num(r['Quantity of Credits']))),
      byYear: groupSum(rowsIn, (r) => yearOf(r['Status Effective']), (r) => num(r['Quantity of Credits'])),
      linked: rowsIn.filter((r) => issuedIdentities.has(issuanceIdentity(r))).length,
      ndcClaims: rowsIn.filter((r) => r['Retirement Reason'] === ndcReason).length,
      corporateOnly: rowsIn.filter((r) => r['Retirement Reason'] === 'Contribution Towards Corporate Climate Pledge').length,
      fcpf: rowsIn.filter((r) => r['Credit Serial Numbers']!.startsWith('FCPF-')).length,
      beneficiaries: rowsIn.filter((r) => r['Retired on Behalf of']?.trim()).length,
    };
    expect(expected).toMatchObject({ blocks: 8, tonnes: 420_998, linked: 8, ndcClaims: 6, corporateOnly: 2, fcpf: 5, beneficiaries: 4 });

    const summary = await ingestFile(db, fixture('retirements.csv'));
    expect(summary).toMatchObject({ status: 'committed', format: 'art-trees-retirements', rowsRead: 8, rowsRejected: 0, errors: [] });
    expect(summary.blocks.new).toBe(expected.blocks);
    expect(summary.projects.new).toBe(0);

    const l = await ledger(db);
    expect(blockTotals(l, 'retired')).toEqual({ n: expected.blocks, t: expected.tonnes, linked: expected.linked });
    for (const [year, tonnes] of expected.byYear) expect(eventTonnes(l, 'retired', year), `retired in ${year}`).toBe(tonnes);

    const reasons = await rows<{ reason: string; purpose: string | null; n: number }>(db, sql`select retirement_reason as reason,
        retirement_purpose::text as purpose, count(*)::int as n
      from unit_blocks where registry_id = ${REGISTRY} and status = 'retired' group by 1, 2 order by 1`);
    // A corporate claim on tonnes the host also counts: no single purpose, the reason text kept for the contribution-claim rule.
    expect(reasons).toEqual([
      { reason: 'Contribution Towards Corporate Climate Pledge', purpose: 'voluntary', n: expected.corporateOnly },
      { reason: ndcReason, purpose: null, n: expected.ndcClaims },
    ]);
    const [fcpf] = await rows<Record<string, unknown>>(db, sql`select p.registry_project_id as program, b.credit_type, b.number_space,
        b.retirement_beneficiary, b.account_holder, b.status_date::text as status_date, i.issuance_key
      from unit_blocks b join projects p on p.id = b.project_id left join issuances i on i.id = b.issuance_id
      where b.registry_id = ${REGISTRY} and b.block_key = 'FCPF-CI-130-2023-20-1 to 46404'`);
    expect(fcpf).toEqual({ program: 'ART130', credit_type: 'fcpf-er', number_space: 'art-trees:FCPF130:2023:20',
      retirement_beneficiary: 'Emergent retiring on behalf of Chanel', account_holder: 'Emergent Forest Finance Accelerator',
      status_date: '2026-04-08', issuance_key: '2023/2026-03-09' });
    const [{ n }] = (await rows<{ n: number }>(db, sql`select count(*)::int as n from unit_blocks
      where registry_id = ${REGISTRY} and credit_type = 'fcpf-er'`)) as [{ n: number }];
    expect(n).toBe(expected.fcpf);
  });

  it('when the cancellation report is ingested, then CORSIA Compliance cancellations are cancelled for CORSIA, the trader as account holder and the airline in the details', async () => {
    const rowsIn = csv.cancellations;
    const expected = {
      blocks: rowsIn.length,
      tonnes: sum(rowsIn.map((r) => num(r['Quantity of Credits']))),
      byYear: groupSum(rowsIn, (r) => yearOf(r['Status Effective']), (r) => num(r['Quantity of Credits'])),
      corsia: rowsIn.filter((r) => r['Cancellation Reason'] === 'CORSIA Compliance').length,
      linked: rowsIn.filter((r) => issuedIdentities.has(issuanceIdentity(r))).length,
    };
    expect(expected).toMatchObject({ blocks: 3, tonnes: 36_100, corsia: 3, linked: 3 });

    const summary = await ingestFile(db, fixture('cancellations.csv'));
    expect(summary).toMatchObject({ status: 'committed', format: 'art-trees-cancellations', rowsRead: 3, rowsRejected: 0, errors: [] });
    const l = await ledger(db);
    expect(blockTotals(l, 'cancelled')).toEqual({ n: expected.blocks, t: expected.tonnes, linked: expected.linked });
    for (const [year, tonnes] of expected.byYear) expect(eventTonnes(l, 'cancelled', year), `cancelled in ${year}`).toBe(tonnes);
    expect(eventTonnes(l, 'converted-out')).toBe(0);

    const cancelled = await rows<Record<string, unknown>>(db, sql`select block_key, retirement_purpose::text as purpose, account_holder,
        retirement_details, retirement_beneficiary, eligibility
      from unit_blocks where registry_id = ${REGISTRY} and status = 'cancelled' order by status_date`);
    expect(cancelled).toEqual(rowsIn.map((r) => ({
      block_key: r['Credit Serial Numbers'], purpose: 'corsia', account_holder: r['Account Holder'],
      retirement_details: r['Cancellation Details'], retirement_beneficiary: null, eligibility: ['corsia-pilot-phase', 'corsia-first-phase'],
    })));
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
      // The program report restores the statuses the transaction reports reset (see the next test).
      if (name !== 'projects.csv') expect(summary.projects.changed, name).toBe(0);
      expect(summary.issuances.new + summary.issuances.changed, name).toBe(0);
      expect(summary.events.new, name).toBe(0);
    }
    expect(await ledger(db)).toEqual(before);
    expect(await blockVersions(db)).toBe(versions);
    expect((await verifyChain(db)).ok).toBe(true);
  });

  it('when a transaction report names a program the program report described, then the status it gave is kept', async () => {
    for (const name of ['issuances.csv', 'retirements.csv', 'cancellations.csv']) await ingestFile(db, fixture(name));
    const statuses = await rows<{ key: string; status: string }>(db, sql`select key, status::text from projects
      where key in ('art-trees:ART102', 'art-trees:ART130') order by key`);
    expect(statuses).toEqual([{ key: 'art-trees:ART102', status: 'registered' }, { key: 'art-trees:ART130', status: 'registered' }]);
  });
});

describe('ART TREES file mode, malformed cancellation report', () => {
  let t: TestDatabase;
  let db: Database;
  let dir: string;
  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    dir = mkdtempSync(join(tmpdir(), 'tally-art-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t.close();
  });

  it('when rows have a bad serial, a reversed range, a negative quantity, an unreadable date or another program, then those rows are reported by line and the good rows are committed', async () => {
    const headerLine = readFileSync(fixture('cancellations.csv'), 'utf8').split(/\r?\n/)[0]!;
    const headers = Object.keys(csv.cancellations[0]!);
    const line = (r: Record<string, string>) => csvLine(headers.map((h) => r[h] ?? ''));
    const [first, second] = csv.cancellations as [Record<string, string>, Record<string, string>];
    const corrupt = (changes: Record<string, string>) => ({ ...first, ...changes });
    const path = join(dir, 'art-cancellations-broken.csv');
    writeFileSync(path, [
      headerLine,
      line(first), // line 2
      line(second), // line 3
      line(corrupt({ 'Credit Serial Numbers': 'TREES-GY-102-2021-11-2759599 to 2760598' })), // line 4: unknown programme prefix
      line(corrupt({ 'Credit Serial Numbers': 'ART-GY-102-2021-11-2760598 to 2759599' })), // line 5: end before start
      line(corrupt({ 'Quantity of Credits': '-1000' })), // line 6: negative
      line(corrupt({ 'Status Effective': '02/30/2025' })), // line 7: no such day
      line(corrupt({ 'Program ID': 'ART130' })), // line 8: the serial names ART102
      '',
    ].join('\n'));

    const summary = await ingestFile(db, path);
    expect(summary).toMatchObject({ status: 'committed', format: 'art-trees-cancellations', rowsRead: 7, rowsRejected: 5 });
    const byLine = (n: number) => summary.errors.filter((e) => e.locator === `line ${n}`);
    expect(byLine(4)).toEqual([expect.objectContaining({ field: 'Credit Serial Numbers', code: 'bad-serial', message: expect.stringMatching(/^line 4: .*expected the serial to open with "ART" or "FCPF", found "TREES"/) })]);
    expect(byLine(5)).toEqual([expect.objectContaining({ field: 'Credit Serial Numbers', code: 'bad-serial', message: expect.stringMatching(/^line 5: .*end 2759599 is before start 2760598/) })]);
    expect(byLine(6)).toEqual([expect.objectContaining({ field: 'Quantity of Credits', code: 'quantity-not-positive', message: expect.stringMatching(/^line 6: .*-1000 is not a positive quantity/) })]);
    expect(byLine(7)).toEqual([expect.objectContaining({ field: 'Status Effective', code: 'bad-date', message: expect.stringMatching(/^line 7: .*"02\/30\/2025" is not a calendar date/) })]);
    expect(byLine(8)).toEqual([expect.objectContaining({ field: 'Credit Serial Numbers', code: 'serial-project-mismatch', message: expect.stringMatching(/^line 8: .*names project ART102 but the row is project ART130/) })]);
    expect(summary.errors).toHaveLength(5);

    const stored = await rows<{ block_key: string; quantity: string }>(db, sql`select block_key, quantity::text as quantity from unit_blocks order by id`);
    expect(stored.map((s) => [s.block_key, Number(s.quantity)])).toEqual([
      [first['Credit Serial Numbers'], num(first['Quantity of Credits'])],
      [second['Credit Serial Numbers'], num(second['Quantity of Credits'])],
    ]);
  });
});
