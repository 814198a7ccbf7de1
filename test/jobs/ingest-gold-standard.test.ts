import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identifyFormat } from '../../connectors/index.ts';
import { verifyChain } from '../../jobs/batches.ts';
import { ingestFile } from '../../jobs/ingest-file.ts';
import { rows, type Database } from '../../schema/database.ts';
import { readCsv } from '../helpers/csv.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';

const fixture = (name: string) => new URL(`../fixtures/registry-samples/gold-standard/${name}`, import.meta.url).pathname;
const num = (v: string | undefined) => Number((v ?? '').replace(/,/g, ''));
const sum = (values: Iterable<number>) => [...values].reduce((a, b) => a + b, 0);
const addTo = <K>(map: Map<K, number>, key: K, n: number) => map.set(key, (map.get(key) ?? 0) + n);

// Totals computed here straight from the exports, without Tally's parsers, to compare with the ledger.
const projectsCsv = readCsv(fixture('projects.csv'));
const issuancesCsv = readCsv(fixture('issuances.csv'));
const retirementsCsv = readCsv(fixture('retirements.csv'));
const blockRows = [...issuancesCsv, ...retirementsCsv];

/** GS serial `GS1-1-UG-GS11236-16-2024-30307-1-19149` → batch 30307, units 1–19149; CERs carry a Kyoto serial instead. */
function gsSerial(serial: string) {
  const parts = serial.split('-');
  return serial.startsWith('GS1-') ? { vintage: parts[5]!, batch: parts[6]!, start: Number(parts[7]), end: Number(parts[8]) } : undefined;
}

const batchOf = (r: Record<string, string>) => {
  const s = gsSerial(r['Serial Number']!);
  return s ? `${r.GSID}|${s.batch}` : `${r.GSID}|CER|${r.Vintage}|${r['Monitoring Period Start']}|${r['Monitoring Period End']}`;
};

/** CERs are the CDM's units in its own numbering: Gold Standard reports them, the CDM issued them. */
const isCer = (r: Record<string, string>) => r['Product Type'] === 'CER';

/**
 * Issued per batch. The issuance export lists each batch whole (units 1…serial end); a batch seen only
 * in the retirement export is as large as its blocks there. PERs are not issued credits, and CERs are
 * the CDM registry's issuance.
 */
function issuedByBatch(issuanceRows: Record<string, string>[], retirementRows: Record<string, string>[]) {
  const batches = new Map<string, { tonnes: number; vintage: string; issuedOn: string }>();
  const earliest = (key: string, r: Record<string, string>) => {
    const seen = batches.get(key)?.issuedOn;
    const date = r['Issuance Date']!.slice(0, 10);
    return seen && seen < date ? seen : date;
  };
  const reported = new Set<string>();
  for (const r of issuanceRows) {
    if (r['Product Type'] === 'PER' || isCer(r)) continue;
    const key = batchOf(r);
    const s = gsSerial(r['Serial Number']!);
    batches.set(key, { tonnes: s ? s.end : num(r.Quantity), vintage: r.Vintage!, issuedOn: earliest(key, r) });
    reported.add(key);
  }
  for (const r of retirementRows) {
    if (r['Product Type'] === 'PER' || isCer(r)) continue;
    const key = batchOf(r);
    const tonnes = reported.has(key) ? batches.get(key)!.tonnes : (batches.get(key)?.tonnes ?? 0) + num(r.Quantity);
    batches.set(key, { tonnes, vintage: r.Vintage!, issuedOn: earliest(key, r) });
  }
  return batches;
}

/** GS numbers each batch from 1, so the largest serial end seen is a floor under the batch's size. */
function largestSerialEnds(csv: Record<string, string>[]) {
  const ends = new Map<string, number>();
  for (const r of csv) {
    const s = gsSerial(r['Serial Number']!);
    if (s) ends.set(batchOf(r), Math.max(ends.get(batchOf(r)) ?? 0, s.end));
  }
  return ends;
}

function expected() {
  const byStatus = (csv: Record<string, string>[], status: string) => csv.filter((r) => r['Credit Status'] === status);
  const retired = byStatus(retirementsCsv, 'Retired');
  const canceled = byStatus(retirementsCsv, 'Canceled');
  const transferred = canceled.filter((r) => r.Note!.startsWith('Transferred to Zimbabwe Carbon Registry'));
  const cancelledInPlace = canceled.filter((r) => !transferred.includes(r));
  const retiredByYear = new Map<number, number>();
  for (const r of retired) addTo(retiredByYear, Number(r['Retirement Date']!.slice(0, 4)), num(r.Quantity));
  const batches = issuedByBatch(issuancesCsv, retirementsCsv);
  const issuedByYear = new Map<number, number>();
  for (const b of batches.values()) addTo(issuedByYear, Number(b.issuedOn.slice(0, 4)), b.tonnes);
  const issuedByVintage = new Map<number, number>();
  for (const b of batches.values()) addTo(issuedByVintage, Number(b.vintage), b.tonnes);
  const cer = blockRows.filter(isCer);

  // Units the blocks cover, per batch, counting a unit listed twice once; and the units listed twice.
  const ranges = new Map<string, [number, number][]>();
  for (const r of blockRows) {
    const s = gsSerial(r['Serial Number']!);
    if (s) ranges.set(`${r.GSID}|${s.batch}`, [...(ranges.get(`${r.GSID}|${s.batch}`) ?? []), [s.start, s.end]]);
  }
  let coveredUnits = 0;
  let doubleListedUnits = 0;
  for (const list of ranges.values()) {
    const units = new Set<number>();
    for (const [start, end] of list) for (let u = start; u <= end; u++) {
      if (units.has(u)) doubleListedUnits++;
      units.add(u);
    }
    coveredUnits += units.size;
  }

  const serialEnds = largestSerialEnds(blockRows);
  const floorOfGsBatches = sum(serialEnds.values());
  const issuedGsBatches = sum([...batches].filter(([key]) => serialEnds.has(key)).map(([, b]) => b.tonnes));

  return {
    floorOfGsBatches,
    issuedGsBatches,
    // The issuance export's rows are issuances, not blocks: nothing is held as a block of its own.
    held: { blocks: issuancesCsv.filter((r) => r['Product Type'] === 'PER').length, tonnes: sum(issuancesCsv.filter((r) => r['Product Type'] === 'PER').map((r) => num(r.Quantity))) },
    issuanceExportTonnes: sum(issuancesCsv.filter((r) => !isCer(r) && r['Product Type'] !== 'PER').map((r) => num(r.Quantity))),
    retired: { blocks: retired.length, tonnes: sum(retired.map((r) => num(r.Quantity))) },
    cancelled: { blocks: cancelledInPlace.length, tonnes: sum(cancelledInPlace.map((r) => num(r.Quantity))) },
    exported: { blocks: transferred.length, tonnes: sum(transferred.map((r) => num(r.Quantity))) },
    blockTonnes: sum(blockRows.map((r) => num(r.Quantity))),
    cer: { blocks: cer.length, tonnes: sum(cer.map((r) => num(r.Quantity))) },
    issuances: batches.size,
    issuedTonnes: sum([...batches.values()].map((b) => b.tonnes)),
    issuedByYear,
    issuedByVintage,
    retiredByYear,
    projects: {
      fromProjectFile: new Set(projectsCsv.map((r) => r.GSID)).size,
      fromIssuances: new Set(issuancesCsv.map((r) => r.GSID)).size,
      fromRetirements: new Set(retirementsCsv.map((r) => r.GSID)).size,
      all: new Set([...projectsCsv, ...blockRows].map((r) => r.GSID)).size,
    },
    coveredUnits,
    doubleListedUnits,
  };
}

async function ledgerTotals(db: Database) {
  const blocks = await rows<{ status: string; n: number; t: string }>(db, sql`select status::text, count(*)::int as n, sum(quantity)::text as t
    from unit_blocks where registry_id = 'gold-standard' group by 1 order by 1`);
  const [iss] = await rows<{ n: number; t: string }>(db, sql`select count(*)::int as n, coalesce(sum(quantity), 0)::text as t
    from issuances where registry_id = 'gold-standard'`);
  const byVintage = await rows<{ year: number; t: string }>(db, sql`select vintage_year as year, sum(quantity)::text as t
    from issuances where registry_id = 'gold-standard' group by 1 order by 1`);
  const [projects] = await rows<{ n: number }>(db, sql`select count(*)::int as n from projects where registry_id = 'gold-standard'`);
  const events = await rows<{ kind: string; year: number | null; n: number; t: string }>(db, sql`select kind::text,
      extract(year from occurred_on)::int as year, count(*)::int as n, sum(quantity)::bigint::text as t
    from events where registry_id = 'gold-standard' group by 1, 2 order by 1, 2`);
  const status = (s: string) => ({ blocks: blocks.find((b) => b.status === s)?.n ?? 0, tonnes: Number(blocks.find((b) => b.status === s)?.t ?? 0) });
  return {
    held: status('held'), retired: status('retired'), cancelled: status('cancelled'), exported: status('exported'),
    issuances: { n: iss!.n, tonnes: Number(iss!.t) },
    issuedByVintage: new Map(byVintage.map((v) => [v.year, Number(v.t)])),
    projects: projects!.n,
    events,
  };
}

const eventTonnes = (events: { kind: string; year: number | null; t: string }[], kind: string, year?: number | null) =>
  sum(events.filter((e) => e.kind === kind && (year === undefined || e.year === year)).map((e) => Number(e.t)));

describe('Gold Standard file mode', () => {
  let t: TestDatabase;
  let db: Database;
  const want = expected();
  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
  });
  afterAll(() => t.close());

  it('when the headers of each export are read, then each is recognised as its own format', () => {
    const headers = (name: string) => Object.keys(readCsv(fixture(name))[0]!);
    expect(identifyFormat(headers('projects.csv')).format.id).toBe('gold-standard-projects');
    expect(identifyFormat(headers('issuances.csv')).format.id).toBe('gold-standard-issuances');
    expect(identifyFormat(headers('retirements.csv')).format.id).toBe('gold-standard-retirements');
  });

  it('when the project export is ingested, then every project is stored with its status and SDG co-benefits', async () => {
    const summary = await ingestFile(db, fixture('projects.csv'));
    expect(summary).toMatchObject({ status: 'committed', format: 'gold-standard-projects', rowsRead: projectsCsv.length, rowsRejected: 0, errors: [] });
    expect(summary.projects.new).toBe(want.projects.fromProjectFile);
    const [counts] = await rows<{ n: number; listed: number; with_sdgs: number }>(db, sql`select count(*)::int as n,
        count(*) filter (where status = 'listed')::int as listed, count(*) filter (where cardinality(co_benefits) > 0)::int as with_sdgs
      from projects where registry_id = 'gold-standard'`);
    expect(counts).toEqual({
      n: want.projects.fromProjectFile,
      listed: projectsCsv.filter((r) => r.Status === 'Listed').length,
      with_sdgs: projectsCsv.filter((r) => r['Sustainable Development Goals']).length,
    });
    // A VPA named after its programme ("GS12856-VPA-3 …") is still project GS<GSID>.
    const [p] = await rows<Record<string, unknown>>(db, sql`select name, proponent, country, status::text, status_raw, co_benefits,
        estimated_annual_quantity::text as est, registry_url from projects where key = 'gold-standard:GS23574'`);
    expect(p).toMatchObject({
      name: 'GS12856-VPA-3 Unlocking Communities Water Filters for Households', proponent: 'Unlocking Communities', country: 'HT',
      status: 'listed', status_raw: 'Listed', est: '60000.000', registry_url: 'https://registry.goldstandard.org/projects?q=gs23574',
    });
    expect(p!.co_benefits).toEqual(['sdg-3', 'sdg-4', 'sdg-5', 'sdg-6', 'sdg-8', 'sdg-13']);
  });

  it('when the issuance export is ingested, then each row is an issuance of its whole batch, with its serial range, and no block', async () => {
    const summary = await ingestFile(db, fixture('issuances.csv'));
    expect(summary).toMatchObject({ status: 'committed', format: 'gold-standard-issuances', rowsRead: issuancesCsv.length, rowsRejected: 0, errors: [] });
    expect(summary.blocks.new).toBe(want.held.blocks);
    expect(summary.projects.new).toBe(want.projects.fromIssuances);
    const ledger = await ledgerTotals(db);
    expect(ledger.held).toEqual(want.held);
    const batches = issuedByBatch(issuancesCsv, []);
    expect(ledger.issuances).toEqual({ n: batches.size, tonnes: sum([...batches.values()].map((b) => b.tonnes)) });
    expect(ledger.issuances.tonnes).toBe(want.issuanceExportTonnes);
    const [ranged] = await rows<{ n: number }>(db, sql`select count(*)::int as n from issuances
      where registry_id = 'gold-standard' and serial_end - serial_start + 1 = quantity`);
    expect(ranged!.n).toBe(batches.size);

    // The three CERs are the CDM's: kept as Gold Standard's report of CDM RW-7014's units, in their CDM
    // number space, beside the GS project that lists them, and never as GS tonnes.
    const cer = await rows<{ registry: string; project: string; reference: string; number_space: string; t: string; n: number }>(db, sql`select
        registry_id as registry, project_ref as project, registry_project_id as reference, number_space, sum(quantity)::bigint::text as t, count(*)::int as n
      from mirror_records where reported_by = 'gold-standard' group by 1, 2, 3, 4`);
    expect(cer).toEqual([{ registry: 'cdm', project: 'GS4823', reference: 'RW-7014', number_space: 'cdm:RW:5', t: String(want.cer.tonnes), n: want.cer.blocks }]);
    expect(summary.mirrors).toEqual({ new: want.cer.blocks, changed: 0, unchanged: 0 });
    const [gsCer] = await rows<{ n: number }>(db, sql`select count(*)::int as n from issuances where registry_id = 'gold-standard' and credit_type = 'cer'`);
    expect(gsCer!.n).toBe(0);
  });

  it('when the retirement export is ingested, then retired, cancelled and transferred-out blocks equal the file', async () => {
    const summary = await ingestFile(db, fixture('retirements.csv'));
    expect(summary).toMatchObject({ status: 'committed', format: 'gold-standard-retirements', rowsRead: retirementsCsv.length, rowsRejected: 0, errors: [] });
    expect(summary.blocks.new).toBe(retirementsCsv.length);

    const ledger = await ledgerTotals(db);
    expect(ledger.held).toEqual(want.held);
    expect(ledger.retired).toEqual(want.retired);
    expect(ledger.cancelled).toEqual(want.cancelled);
    expect(ledger.exported).toEqual(want.exported);
    expect(ledger.projects).toBe(want.projects.all);
    expect(ledger.issuances).toEqual({ n: want.issuances, tonnes: want.issuedTonnes });
    expect(ledger.issuedByVintage).toEqual(want.issuedByVintage);

    // Trends come from events: retirements per year, cancellations (undated in GS files), transfers out, issuance.
    for (const [year, tonnes] of want.retiredByYear) expect(eventTonnes(ledger.events, 'retired', year), `retired in ${year}`).toBe(tonnes);
    expect(eventTonnes(ledger.events, 'retired')).toBe(want.retired.tonnes);
    expect(ledger.events.filter((e) => e.kind === 'cancelled')).toEqual([{ kind: 'cancelled', year: null, n: want.cancelled.blocks, t: String(want.cancelled.tonnes) }]);
    expect(eventTonnes(ledger.events, 'converted-out')).toBe(want.exported.tonnes);
    for (const [year, tonnes] of want.issuedByYear) expect(eventTonnes(ledger.events, 'issued', year), `issued in ${year}`).toBe(tonnes);
    expect(eventTonnes(ledger.events, 'issued')).toBe(want.issuedTonnes);

    const transfers = await rows<{ counterparty: string | null; details: Record<string, unknown>; linked: boolean }>(db, sql`select
        counterparty_registry_id as counterparty, details, block_id is not null as linked from events where kind = 'converted-out'`);
    expect(transfers).toHaveLength(want.exported.blocks);
    for (const e of transfers) expect(e).toMatchObject({ counterparty: null, details: { destination: 'Zimbabwe Carbon Registry' }, linked: true });

    // Retirement columns: use case → purpose, beneficiary from Using Entity, else from a marketplace note; "Not Disclosed" is none.
    const purposes = await rows<{ purpose: string | null; n: number }>(db, sql`select retirement_purpose::text as purpose, count(*)::int as n
      from unit_blocks where status = 'retired' group by 1 order by 1`);
    const useCases = (u: string) => retirementsCsv.filter((r) => r['Credit Status'] === 'Retired' && r['Use Case'] === u).length;
    expect(purposes).toEqual([
      { purpose: 'compliance', n: useCases('Compliance') },
      { purpose: 'voluntary', n: useCases('Voluntary') },
      { purpose: null, n: useCases('') },
    ]);
    const beneficiary = async (serial: string) => (await rows<{ b: string | null }>(db, sql`select retirement_beneficiary as b from unit_blocks where block_key = ${serial}`))[0]!.b;
    expect(await beneficiary('GS1-1-KE-GS11603-16-2025-30256-110-5463')).toBe('Hilti Corporation');
    expect(await beneficiary('GS1-1-MG-GS7566-16-2023-29960-1333-1342')).toBe('Net Zero Eyecare');
    const [undisclosed] = await rows<{ n: number }>(db, sql`select count(*)::int as n from unit_blocks where retirement_beneficiary ilike 'not disclosed'`);
    expect(undisclosed!.n).toBe(0);
  });

  it('when issued totals are compared with the blocks, then no serial is listed twice and every retired unit lies inside its issuance', async () => {
    // Had the issuance export's rows been stored as held blocks, GS11603's two partly retired batches
    // would list 17,493 units both held and retired. As issuances, the blocks never overlap.
    const [overlap] = await rows<{ pairs: number }>(db, sql`select count(*)::int as pairs
      from unit_blocks a join unit_blocks b on a.number_space = b.number_space and a.id < b.id and a.serial_range && b.serial_range
      where a.registry_id = 'gold-standard'`);
    expect(overlap!.pairs).toBe(0);
    expect(want.doubleListedUnits).toBe(17_493);

    const [outside] = await rows<{ n: number }>(db, sql`select count(*)::int as n from unit_blocks b join issuances i on i.id = b.issuance_id
      where b.registry_id = 'gold-standard' and i.serial_start is not null
        and not (b.serial_start >= i.serial_start and b.serial_end <= i.serial_end and b.number_space = i.number_space)`);
    expect(outside!.n).toBe(0);

    // Issued = the GS units listed in either file, each once: 7,324,504 t (the CDM's 7,635 CERs apart). The batches known only from
    // retirements reach serial ends 42,812 units higher than their blocks add up to: units held, or
    // retired before these downloads, that no file lists.
    const ledger = await ledgerTotals(db);
    expect(ledger.issuances.tonnes).toBe(want.coveredUnits);
    expect(ledger.issuances.tonnes).toBe(7_324_504);
    expect(want.floorOfGsBatches - want.issuedGsBatches).toBe(42_812);
  });

  it('when every export is ingested again, then the batches report nothing new and the ledger is unchanged', async () => {
    const before = await ledgerTotals(db);
    const versions = async () => (await rows<{ v: string }>(db, sql`select string_agg(xmin::text, ',' order by id) as v from unit_blocks`))[0]!.v;
    const blockVersions = await versions();
    const [eventsBefore] = await rows<{ n: number }>(db, sql`select count(*)::int as n from events`);
    for (const [name, csv] of [['projects.csv', projectsCsv], ['issuances.csv', issuancesCsv], ['retirements.csv', retirementsCsv]] as const) {
      const summary = await ingestFile(db, fixture(name));
      expect(summary.status, name).toBe('committed');
      expect(summary.rawRecords.new, name).toBe(0);
      expect(summary.rowsRejected, name).toBe(0);
      expect(summary.projects.new + summary.projects.changed, name).toBe(0);
      expect(summary.issuances.new + summary.issuances.changed, name).toBe(0);
      expect(summary.blocks, name).toEqual({ new: 0, changed: 0, unchanged: name === 'retirements.csv' ? csv.length : 0, superseded: 0 });
      expect(summary.events.new, name).toBe(0);
    }
    expect(await ledgerTotals(db)).toEqual(before);
    expect(await versions()).toBe(blockVersions);
    const [eventsAfter] = await rows<{ n: number }>(db, sql`select count(*)::int as n from events`);
    expect(eventsAfter!.n).toBe(eventsBefore!.n);
  });

  it('when batches are committed, then their digests form a chain that verifies', async () => {
    expect(await verifyChain(db)).toEqual({ ok: true, batches: 6, problems: [] });
  });
});

describe('Gold Standard malformed export', () => {
  let t: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    t = await openTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'tally-gs-'));
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when rows have a broken serial, a reversed range, a negative quantity or an unreadable date, then those rows are reported by line and the good rows are committed', async () => {
    // The real header and rows of the issuance export (none of its first six lines has a quoted field).
    const [header, ...lines] = readFileSync(fixture('issuances.csv'), 'utf8').split('\n').slice(0, 7);
    const cells = lines.map((l) => l.split(','));
    const column = (name: string) => header!.split(',').indexOf(name);
    const set = (row: string[], name: string, value: string) => { row[column(name)] = value; };
    const [, , unparseable, reversed, negative, undated] = cells as [string[], string[], string[], string[], string[], string[]];
    set(unparseable, 'Serial Number', 'GS1-1-UG-GS11234-16-2024-30305-1');
    set(reversed, 'Serial Number', 'GS1-1-UG-GS11233-16-2024-30304-2440-1');
    set(negative, 'Quantity', '-1875');
    set(undated, 'Issuance Date', 'mid-April 2026');
    const path = join(dir, 'issuances.csv');
    writeFileSync(path, [header, ...cells.map((c) => c.join(','))].join('\n'));

    const summary = await ingestFile(t.handle.db, path);
    expect(summary).toMatchObject({ status: 'committed', format: 'gold-standard-issuances', rowsRead: 6, rowsRejected: 4 });
    expect(summary.issuances.new).toBe(2);
    const messages = summary.errors.map((e) => e.message);
    expect(messages).toEqual([
      expect.stringMatching(/^line 4: Serial Number: .*expected 9 dash-separated parts/),
      expect.stringMatching(/^line 5: Serial Number: .*end 1 is before start 2440/),
      expect.stringMatching(/^line 6: Quantity: -1875 is not a positive quantity/),
      expect.stringMatching(/^line 7: Issuance Date: "mid-April 2026" is not a date/),
    ]);
    const stored = await rows<{ serial_raw: string }>(t.handle.db, sql`select serial_raw from issuances order by serial_raw`);
    expect(stored.map((b) => b.serial_raw)).toEqual([cells[1]![column('Serial Number')], cells[0]![column('Serial Number')]].sort());
  });
});
