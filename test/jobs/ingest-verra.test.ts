import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyChain } from '../../jobs/batches.ts';
import { ingestFile } from '../../jobs/ingest-file.ts';
import { rows, type Database } from '../../schema/database.ts';
import { readCsv } from '../helpers/csv.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';

const fixture = (name: string) => new URL(`../fixtures/registry-samples/verra/${name}`, import.meta.url).pathname;
const num = (v: string | undefined) => Number((v ?? '').replace(/,/g, ''));

// Totals computed here straight from the export, without Tally's parsers, to compare with the ledger.
function expectedFromVcuExport() {
  const csv = readCsv(fixture('transactions.csv'));
  const held = csv.filter((r) => !r['Retirement/Cancellation Date']);
  const closed = csv.filter((r) => r['Retirement/Cancellation Date']);
  // An issuance is the batch a block's serial starts with; its size is the sum of its blocks.
  const issuances = new Map<string, number>();
  for (const r of csv) {
    const batch = `${r.ID}|${r['Serial Number']!.split('-')[0]}`;
    issuances.set(batch, (issuances.get(batch) ?? 0) + num(r['Quantity Issued']));
  }
  const retiredByYear = new Map<number, number>();
  for (const r of closed) {
    const year = Number(r['Retirement/Cancellation Date']!.slice(0, 4));
    retiredByYear.set(year, (retiredByYear.get(year) ?? 0) + num(r['Quantity Issued']));
  }
  return {
    rows: csv.length,
    projects: new Set(csv.map((r) => r.ID)).size,
    heldBlocks: held.length,
    heldTonnes: held.reduce((s, r) => s + num(r['Quantity Issued']), 0),
    retiredBlocks: closed.length,
    retiredTonnes: closed.reduce((s, r) => s + num(r['Quantity Issued']), 0),
    issuances: issuances.size,
    issuedTonnes: [...issuances.values()].reduce((a, b) => a + b, 0),
    retiredByYear,
  };
}

async function ledgerTotals(db: Database) {
  const [blocks] = await rows<{ held: number; held_t: string; retired: number; retired_t: string }>(db, sql`select
      count(*) filter (where status = 'held')::int as held, coalesce(sum(quantity) filter (where status = 'held'), 0)::text as held_t,
      count(*) filter (where status = 'retired')::int as retired, coalesce(sum(quantity) filter (where status = 'retired'), 0)::text as retired_t
    from unit_blocks where registry_id = 'verra'`);
  const [iss] = await rows<{ n: number; t: string }>(db, sql`select count(*)::int as n, coalesce(sum(quantity), 0)::text as t from issuances where registry_id = 'verra'`);
  const [projects] = await rows<{ n: number }>(db, sql`select count(*)::int as n from projects where registry_id = 'verra'`);
  const events = await rows<{ kind: string; year: number | null; t: string }>(db, sql`select kind::text, extract(year from occurred_on)::int as year, sum(quantity)::text as t
    from events where registry_id = 'verra' group by 1, 2 order by 1, 2`);
  return { blocks: blocks!, issuances: iss!, projects: projects!.n, events };
}

describe('Verra file mode', () => {
  let t: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
  });
  afterAll(() => t.close());

  it('when the VCU export is ingested, then blocks, issuances and retirements equal the totals computed from the file', async () => {
    const expected = expectedFromVcuExport();
    const summary = await ingestFile(db, fixture('transactions.csv'));
    expect(summary).toMatchObject({ status: 'committed', format: 'verra-vcu-export', rowsRead: expected.rows, rowsRejected: 0, errors: [] });
    expect(summary.blocks.new).toBe(expected.rows);
    expect(summary.projects.new).toBe(expected.projects);

    const ledger = await ledgerTotals(db);
    expect(ledger.blocks.held).toBe(expected.heldBlocks);
    expect(Number(ledger.blocks.held_t)).toBe(expected.heldTonnes);
    expect(ledger.blocks.retired).toBe(expected.retiredBlocks);
    expect(Number(ledger.blocks.retired_t)).toBe(expected.retiredTonnes);
    expect(ledger.issuances.n).toBe(expected.issuances);
    expect(Number(ledger.issuances.t)).toBe(expected.issuedTonnes);
    expect(ledger.projects).toBe(expected.projects);
    // Trends come from events: retired tonnes per year equal the file's, issued tonnes equal the issuances.
    for (const [year, tonnes] of expected.retiredByYear) {
      expect(Number(ledger.events.find((e) => e.kind === 'retired' && e.year === year)?.t), `retired in ${year}`).toBe(tonnes);
    }
    expect(ledger.events.filter((e) => e.kind === 'issued').reduce((s, e) => s + Number(e.t), 0)).toBe(expected.issuedTonnes);
  });

  it('when blocks carry Article 6 and CORSIA labels, then they hold the authorization and eligibility the file states', async () => {
    const csv = readCsv(fixture('transactions.csv'));
    const labelled = (pattern: RegExp) => csv.filter((r) => pattern.test(r['Additional Certifications'] ?? '')).map((r) => r['Serial Number']).sort();
    const [stored] = await rows<{ article6: string[]; corsia: string[]; ccp: string[]; ndc: number }>(db, sql`select
      coalesce(array_agg(block_key order by block_key) filter (where article6_authorization is not null), '{}') as article6,
      coalesce(array_agg(block_key order by block_key) filter (where 'corsia-first-phase' = any(eligibility)), '{}') as corsia,
      coalesce(array_agg(block_key order by block_key) filter (where 'ccp-approved' = any(eligibility)), '{}') as ccp,
      count(*) filter (where article6_authorization like '%NDC Use%')::int as ndc
      from unit_blocks where registry_id = 'verra'`);
    expect(labelled(/Article 6 Authorized/)).toHaveLength(24);
    expect(stored!.article6).toEqual(labelled(/Article 6 Authorized/));
    expect(stored!.corsia).toEqual(labelled(/CORSIA - First Phase/));
    expect(stored!.ccp).toEqual(labelled(/ICVCM CCP/));
    expect(stored!.ndc).toBe(labelled(/Article 6 Authorized – NDC Use/).length);
  });

  it('when the same export is ingested again, then the batch reports nothing new and the ledger is unchanged', async () => {
    const before = await ledgerTotals(db);
    const [versions] = await rows<{ v: string }>(db, sql`select string_agg(xmin::text, ',' order by id) as v from unit_blocks`);
    const summary = await ingestFile(db, fixture('transactions.csv'));
    expect(summary.status).toBe('committed');
    expect(summary.rawRecords.new).toBe(0);
    expect(summary.blocks).toEqual({ new: 0, changed: 0, unchanged: 200, superseded: 0 });
    expect(summary.projects.new + summary.projects.changed).toBe(0);
    expect(summary.issuances.new + summary.issuances.changed).toBe(0);
    expect(summary.events.new).toBe(0);
    expect(await ledgerTotals(db)).toEqual(before);
    const [after] = await rows<{ v: string }>(db, sql`select string_agg(xmin::text, ',' order by id) as v from unit_blocks`);
    expect(after!.v).toBe(versions!.v);
  });

  it('when the project export is ingested, then projects gain their status, proponent and taxonomy', async () => {
    const csv = readCsv(fixture('projects.csv'));
    const summary = await ingestFile(db, fixture('projects.csv'));
    expect(summary).toMatchObject({ format: 'verra-projects', rowsRead: csv.length, rowsRejected: 0 });
    const [p] = await rows<Record<string, unknown>>(db, sql`select name, proponent, country, status::text, status_raw, methodologies, category, estimated_annual_quantity::text as est
      from projects where key = 'verra:5957'`);
    expect(p).toMatchObject({ name: 'KENYA HIGHLANDS GROUPED CARBON PROJECT', proponent: 'Multiple Proponents', country: 'KE', status: 'listed', status_raw: 'Under development', category: 'agriculture', est: '191805.000' });
    expect(p!.methodologies).toEqual(['vm0042']);
    const [{ n }] = (await rows<{ n: number }>(db, sql`select count(*)::int as n from projects where registry_id = 'verra' and country is null`)) as [{ n: number }];
    expect(n).toBe(0);
  });

  it('when batches are committed, then their digests form a chain that verifies', async () => {
    const result = await verifyChain(db);
    expect(result).toEqual({ ok: true, batches: 3, problems: [] });
  });
});
