import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileFormats } from '../../connectors/index.ts';
import { verifyChain } from '../../jobs/batches.ts';
import { detectFileFormat, ingestFile } from '../../jobs/ingest-file.ts';
import { rows, type Database } from '../../schema/database.ts';
import { readCsv } from '../helpers/csv.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';

const samples = new URL('../fixtures/registry-samples/', import.meta.url).pathname;
const fixture = (name: string) => join(samples, 'climate-action-reserve', name);
const num = (v: string | undefined) => Number((v ?? '').replace(/,/g, ''));
const sum = (values: Iterable<number>) => [...values].reduce((a, b) => a + b, 0);
const addTo = <K>(map: Map<K, number>, key: K, n: number) => map.set(key, (map.get(key) ?? 0) + n);
/** CAR writes dates `03/19/2026`. */
const yearOf = (mmddyyyy: string | undefined) => Number(mmddyyyy!.split('/')[2]);
const isoOf = (mmddyyyy: string) => {
  const [m, d, y] = mmddyyyy.split('/');
  return `${y}-${m}-${d}`;
};

// Totals computed here straight from the reports, without Tally's parsers, to compare with the ledger.
const projectsCsv = readCsv(fixture('projects.csv'));
const issuancesCsv = readCsv(fixture('issuances.csv'));
const retirementsCsv = readCsv(fixture('retirements.csv'));
const cancellationsCsv = readCsv(fixture('cancellations.csv'));

function expected() {
  const issuedByVintage = new Map<number, number>();
  const issuedByYear = new Map<number, number>();
  for (const r of issuancesCsv) {
    addTo(issuedByVintage, num(r.Vintage), num(r['Total Offset Credits Issued']));
    addTo(issuedByYear, yearOf(r['Date Issued']), num(r['Total Offset Credits Issued']));
  }
  const retiredByYear = new Map<number, number>();
  for (const r of retirementsCsv) addTo(retiredByYear, yearOf(r['Status Effective']), num(r['Quantity of Offset Credits']));
  const convertedByYear = new Map<number, number>();
  const convertedByReason = new Map<string, number>();
  for (const r of cancellationsCsv) {
    addTo(convertedByYear, yearOf(r['Status Effective']), num(r['Quantity of Offset Credits']));
    addTo(convertedByReason, r['Cancellation Reason']!, num(r['Quantity of Offset Credits']));
  }
  const statuses = new Map<string, number>();
  for (const r of projectsCsv) addTo(statuses, r.Status!.toLowerCase(), 1);
  const ids = (csv: Record<string, string>[]) => csv.map((r) => r['Project ID']!);
  return {
    projects: {
      rows: projectsCsv.length,
      distinct: new Set(ids(projectsCsv)).size,
      statuses,
      withRegisteredDate: projectsCsv.filter((r) => r['Project Registered Date']).length,
    },
    issuances: {
      rows: issuancesCsv.length,
      distinct: new Set(issuancesCsv.map((r) => `${r['Project ID']}|${r.Vintage}|${r['Date Issued']}|${r['Total Offset Credits Issued']}`)).size,
      projects: new Set(ids(issuancesCsv)).size,
      tonnes: sum(issuancesCsv.map((r) => num(r['Total Offset Credits Issued']))),
      buffer: sum(issuancesCsv.map((r) => num(r['Offset Credits Currently in Reserve Buffer Pool']) + num(r['Offset Credits Intended for Compliance Buffer Pool']))),
      convertedToVcus: sum(issuancesCsv.map((r) => num(r['Offset Credits Converted to VCUs']))),
      compliance: issuancesCsv.filter((r) => r['Project Type']!.endsWith('Compliance')).length,
      issuedByVintage,
      issuedByYear,
    },
    retirements: {
      rows: retirementsCsv.length,
      projects: new Set(ids(retirementsCsv)).size,
      tonnes: sum(retirementsCsv.map((r) => num(r['Quantity of Offset Credits']))),
      roc: retirementsCsv.filter((r) => r['Offset Credit Serial Numbers']!.startsWith('CAR-ROC-')).length,
      ccpApproved: retirementsCsv.filter((r) => r['CCP Approved'] === 'Yes').length,
      withDetails: retirementsCsv.filter((r) => r['Retirement Reason Details']).length,
      retiredByYear,
    },
    cancellations: {
      rows: cancellationsCsv.length,
      projects: new Set(ids(cancellationsCsv)).size,
      tonnes: sum(cancellationsCsv.map((r) => num(r['Quantity of Offset Credits']))),
      convertedByReason,
      convertedByYear,
    },
    allProjects: new Set([...ids(projectsCsv), ...ids(issuancesCsv), ...ids(retirementsCsv), ...ids(cancellationsCsv)]).size,
  };
}

async function ledgerTotals(db: Database) {
  const blocks = await rows<{ status: string; n: number; t: string }>(db, sql`select status::text, count(*)::int as n, sum(quantity)::text as t
    from unit_blocks where registry_id = 'climate-action-reserve' group by 1 order by 1`);
  const [iss] = await rows<{ n: number; t: string; buffer: string }>(db, sql`select count(*)::int as n, coalesce(sum(quantity), 0)::text as t,
    coalesce(sum(buffer_quantity), 0)::text as buffer from issuances where registry_id = 'climate-action-reserve'`);
  const [projects] = await rows<{ n: number }>(db, sql`select count(*)::int as n from projects where registry_id = 'climate-action-reserve'`);
  const events = await rows<{ kind: string; counterparty: string | null; year: number | null; n: number; t: string }>(db, sql`select kind::text,
      counterparty_registry_id as counterparty, extract(year from occurred_on)::int as year, count(*)::int as n, sum(quantity)::text as t
    from events where registry_id = 'climate-action-reserve' group by 1, 2, 3 order by 1, 2, 3`);
  return { blocks, issuances: iss!, projects: projects!.n, events };
}

const eventTonnes = (events: Awaited<ReturnType<typeof ledgerTotals>>['events'], kind: string, filter: (e: { counterparty: string | null; year: number | null }) => boolean = () => true) =>
  sum(events.filter((e) => e.kind === kind && filter(e)).map((e) => Number(e.t)));

describe('Climate Action Reserve file mode', () => {
  let t: TestDatabase;
  let db: Database;
  const want = expected();
  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
  });
  afterAll(() => t.close());

  /** Ingests a report a second time: nothing new, nothing changed, no row rewritten. */
  async function expectReingestChangesNothing(name: string, rowCount: number) {
    const before = await ledgerTotals(db);
    const versions = sql`select (select string_agg(xmin::text, ',' order by id) from unit_blocks) as b,
      (select string_agg(xmin::text, ',' order by id) from issuances) as i, (select string_agg(xmin::text, ',' order by id) from projects) as p`;
    const [xminBefore] = await rows<Record<string, string>>(db, versions);
    const summary = await ingestFile(db, fixture(name));
    expect(summary).toMatchObject({ status: 'committed', rowsRead: rowCount, rowsRejected: 0, rawRecords: { new: 0, seen: rowCount } });
    expect(summary.blocks.new + summary.blocks.changed).toBe(0);
    expect(summary.projects.new + summary.projects.changed).toBe(0);
    expect(summary.issuances.new + summary.issuances.changed).toBe(0);
    expect(summary.events.new).toBe(0);
    expect(await ledgerTotals(db)).toEqual(before);
    const [xminAfter] = await rows<Record<string, string>>(db, versions);
    expect(xminAfter).toEqual(xminBefore);
  }

  it('when the header rows are read, then each report is recognised as its own format and no other registry\'s export matches a CAR format', async () => {
    const ours = fileFormats().filter((f) => f.registry === 'climate-action-reserve');
    // A file is read as the format that reads most of its columns among those whose required columns it
    // has; where ACR's and CAR's APX reports fit each other's formats, the first row's project id decides.
    const readAs = async (path: string) => (await detectFileFormat(path).catch(() => undefined))?.format.id;
    for (const [name, id] of [['projects.csv', 'climate-action-reserve-projects'], ['issuances.csv', 'climate-action-reserve-issuances'],
      ['retirements.csv', 'climate-action-reserve-retirements'], ['cancellations.csv', 'climate-action-reserve-cancellations']] as const) {
      expect(await readAs(fixture(name)), name).toBe(id);
    }
    for (const registry of readdirSync(samples).filter((d) => d !== 'climate-action-reserve')) {
      for (const file of readdirSync(join(samples, registry)).filter((f) => f.endsWith('.csv'))) {
        expect(ours.map((f) => f.id), `${registry}/${file}`).not.toContain(await readAs(join(samples, registry, file)));
      }
    }
  });

  it('when the project report is ingested, then every project is stored with its CAD Trust status, registration date and project page', async () => {
    const summary = await ingestFile(db, fixture('projects.csv'));
    expect(summary).toMatchObject({ status: 'committed', format: 'climate-action-reserve-projects', rowsRead: want.projects.rows, rowsRejected: 0, errors: [] });
    expect(summary.projects.new).toBe(want.projects.distinct);
    const statuses = await rows<{ status: string; n: number }>(db, sql`select status::text, count(*)::int as n from projects
      where registry_id = 'climate-action-reserve' group by 1`);
    expect(new Map(statuses.map((s) => [s.status, s.n]))).toEqual(want.projects.statuses);
    const [dated] = await rows<{ n: number }>(db, sql`select count(*)::int as n from projects where registry_id = 'climate-action-reserve' and registered_on is not null`);
    expect(dated!.n).toBe(want.projects.withRegisteredDate);
    const [p] = await rows<Record<string, unknown>>(db, sql`select name, proponent, country, region, status::text, status_raw, registered_on::text, registry_url
      from projects where key = 'climate-action-reserve:CAR1458'`);
    expect(p).toEqual({
      name: 'A-Gas 1-2021', proponent: 'Reclamation Technologies Inc.', country: 'US', region: 'OHIO', status: 'completed', status_raw: 'Completed',
      registered_on: '2021-01-28', registry_url: 'https://thereserve2.apx.com/mymodule/reg/prjView.asp?id1=1458',
    });
    await expectReingestChangesNothing('projects.csv', want.projects.rows);
  });

  it('when the issuance report is ingested, then each row is one gross issuance with its buffer share, and issued events equal the file', async () => {
    const summary = await ingestFile(db, fixture('issuances.csv'));
    expect(summary).toMatchObject({ status: 'committed', format: 'climate-action-reserve-issuances', rowsRead: want.issuances.rows, rowsRejected: 0, errors: [] });
    expect(summary.issuances.new).toBe(want.issuances.distinct);
    expect(want.issuances.distinct).toBe(want.issuances.rows);

    const ledger = await ledgerTotals(db);
    expect(ledger.issuances.n).toBe(want.issuances.rows);
    expect(Number(ledger.issuances.t)).toBe(want.issuances.tonnes);
    expect(Number(ledger.issuances.buffer)).toBe(want.issuances.buffer);
    const byVintage = await rows<{ vintage: number; t: string }>(db, sql`select vintage_year as vintage, sum(quantity)::text as t from issuances
      where registry_id = 'climate-action-reserve' group by 1`);
    expect(new Map(byVintage.map((v) => [v.vintage, Number(v.t)]))).toEqual(want.issuances.issuedByVintage);
    for (const [year, tonnes] of want.issuances.issuedByYear) {
      expect(eventTonnes(ledger.events, 'issued', (e) => e.year === year), `issued in ${year}`).toBe(tonnes);
    }
    expect(eventTonnes(ledger.events, 'issued')).toBe(want.issuances.tonnes);
    // No sample row reports a conversion to VCUs, so no converted-out event to Verra.
    expect(want.issuances.convertedToVcus).toBe(0);
    expect(ledger.events.filter((e) => e.counterparty === 'verra')).toEqual([]);

    // Compliance project types issue Registry Offset Credits (no vocabulary code: `other`), the rest CRTs.
    const types = await rows<{ credit_type: string; n: number }>(db, sql`select credit_type, count(*)::int as n from issuances
      where registry_id = 'climate-action-reserve' group by 1 order by 1`);
    expect(types).toEqual([{ credit_type: 'crt', n: want.issuances.rows - want.issuances.compliance }, { credit_type: 'roc', n: want.issuances.compliance }]);

    // Two issuances of one vintage on one day stay two (CAR1568, 12/31/2025), each with its buffer share.
    const laguna = await rows<{ quantity: string; buffer: string }>(db, sql`select i.quantity::text, i.buffer_quantity::text as buffer
      from issuances i join projects p on p.id = i.project_id where p.key = 'climate-action-reserve:CAR1568' order by i.quantity`);
    expect(laguna).toEqual([{ quantity: '22287.000', buffer: '6484.000' }, { quantity: '118084.000', buffer: '34427.000' }]);
    // The project takes the protocol as its methodology and the eligibility its issuances state.
    const [project] = await rows<{ methodology_raw: string; methodologies: string[]; eligibility: string[]; proponent: string }>(db, sql`select methodology_raw,
      methodologies, eligibility, proponent from projects where key = 'climate-action-reserve:CAR1568'`);
    expect(project).toEqual({ methodology_raw: 'Forestry - MX - Version 3.0', methodologies: ['car-forest-mx'], eligibility: ['ccp-approved'], proponent: 'Toroto SAPI de CV' });
    const [arb] = await rows<{ eligibility: string[] }>(db, sql`select eligibility from projects where key = 'climate-action-reserve:CAR2264'`);
    expect(arb!.eligibility).toEqual(['arb-eligible']);
    await expectReingestChangesNothing('issuances.csv', want.issuances.rows);
  });

  it('when the retirement report is ingested, then retired blocks equal the file, with account holder, reason, details and named beneficiaries', async () => {
    const summary = await ingestFile(db, fixture('retirements.csv'));
    expect(summary).toMatchObject({ status: 'committed', format: 'climate-action-reserve-retirements', rowsRead: want.retirements.rows, rowsRejected: 0, errors: [] });
    expect(summary.blocks.new).toBe(want.retirements.rows);

    const [retired] = await rows<{ n: number; t: string; projects: number; roc: number; ccp: number; details: number; holders: number }>(db, sql`select
        count(*)::int as n, sum(quantity)::text as t, count(distinct project_id)::int as projects,
        count(*) filter (where credit_type = 'roc' and block_key like 'CAR-ROC-%')::int as roc,
        count(*) filter (where 'ccp-approved' = any(eligibility))::int as ccp,
        count(*) filter (where retirement_details is not null)::int as details,
        count(*) filter (where account_holder is not null)::int as holders
      from unit_blocks where registry_id = 'climate-action-reserve' and status = 'retired'`);
    expect(retired).toEqual({
      n: want.retirements.rows, t: `${want.retirements.tonnes}.000`, projects: want.retirements.projects, roc: want.retirements.roc,
      ccp: want.retirements.ccpApproved, details: want.retirements.withDetails, holders: want.retirements.rows,
    });
    const ledger = await ledgerTotals(db);
    for (const [year, tonnes] of want.retirements.retiredByYear) {
      expect(eventTonnes(ledger.events, 'retired', (e) => e.year === year), `retired in ${year}`).toBe(tonnes);
    }
    expect(eventTonnes(ledger.events, 'retired')).toBe(want.retirements.tonnes);

    // A beneficiary only where the details say "on behalf of <name>"; the details are kept whole.
    const beneficiary = async (serial: string) => (await rows<{ b: string | null; d: string | null; r: string | null }>(db, sql`select retirement_beneficiary as b,
      retirement_details as d, retirement_reason as r from unit_blocks where block_key = ${serial}`))[0];
    expect(await beneficiary('CAR-1-US-1335-31-983-KS-2025-9205-1 to 5000')).toEqual({
      b: 'Kinaxis Inc.', d: 'Retired on behalf of Kinaxis Inc. F2024 period', r: 'On Behalf of Third Party',
    });
    const byDetails = async (details: string) => (await rows<{ b: string | null }>(db, sql`select distinct retirement_beneficiary as b from unit_blocks
      where retirement_details = ${details}`)).map((x) => x.b);
    expect(await byDetails('Retired by South Pole, Inc. on behalf of Salesforce, Inc. to compensate for residual Scope 1, 2, 3 emissions.')).toEqual(['Salesforce, Inc.']);
    expect(await byDetails('On behalf of Lenovo Clients 1 January 2026 – 31 January 2026, Program Managed by Lenovo')).toEqual(['Lenovo Clients']);
    expect(await byDetails('Retired on behalf McKinstry for voluntary purposes')).toEqual([null]);
    expect(await byDetails('PETSTAR S.A.P.I. DE C.V.')).toEqual([null]);
    // CAR's reasons name no purpose, and no sample row declares a corresponding adjustment.
    const [purpose] = await rows<{ n: number }>(db, sql`select count(*)::int as n from unit_blocks where registry_id = 'climate-action-reserve'
      and (retirement_purpose is not null or ca_declaration is not null or article6_authorization is not null)`);
    expect(purpose!.n).toBe(0);
    await expectReingestChangesNothing('retirements.csv', want.retirements.rows);
  });

  it('when the cancellation report is ingested, then ARB and WA ECO cancellations are exported blocks with one converted-out event each', async () => {
    const summary = await ingestFile(db, fixture('cancellations.csv'));
    expect(summary).toMatchObject({ status: 'committed', format: 'climate-action-reserve-cancellations', rowsRead: want.cancellations.rows, rowsRejected: 0, errors: [] });
    expect(summary.blocks.new).toBe(want.cancellations.rows);
    expect(summary.events.new).toBe(want.cancellations.rows);

    const byReason = await rows<{ reason: string; status: string; n: number; t: string }>(db, sql`select retirement_reason as reason, status::text,
      count(*)::int as n, sum(quantity)::text as t from unit_blocks where registry_id = 'climate-action-reserve' and status <> 'retired' group by 1, 2 order by 1`);
    expect(byReason.map((b) => b.status)).toEqual(['exported', 'exported']);
    expect(new Map(byReason.map((b) => [b.reason, Number(b.t)]))).toEqual(want.cancellations.convertedByReason);
    expect(sum(byReason.map((b) => b.n))).toBe(want.cancellations.rows);

    const ledger = await ledgerTotals(db);
    // One event per block: the explicit one with its counterparty, never a second one derived from the status.
    expect(sum(ledger.events.filter((e) => e.kind === 'converted-out').map((e) => e.n))).toBe(want.cancellations.rows);
    expect(eventTonnes(ledger.events, 'converted-out', (e) => e.counterparty === 'arb')).toBe(want.cancellations.convertedByReason.get('ARB'));
    expect(eventTonnes(ledger.events, 'converted-out', (e) => e.counterparty === null)).toBe(want.cancellations.convertedByReason.get('WA ECO'));
    for (const [year, tonnes] of want.cancellations.convertedByYear) {
      expect(eventTonnes(ledger.events, 'converted-out', (e) => e.year === year), `converted in ${year}`).toBe(tonnes);
    }
    const first = cancellationsCsv[0]!;
    const [event] = await rows<Record<string, unknown>>(db, sql`select e.event_key, e.occurred_on::text, e.quantity::text, e.counterparty_registry_id,
        e.details->>'destination' as destination, b.block_key
      from events e join unit_blocks b on b.id = e.block_id where e.event_key = ${`converted-out:${first['Offset Credit Serial Numbers']}`}`);
    expect(event).toEqual({
      event_key: `converted-out:${first['Offset Credit Serial Numbers']}`, occurred_on: isoOf(first['Status Effective']!),
      quantity: `${first['Quantity of Offset Credits']}.000`, counterparty_registry_id: 'arb',
      destination: 'California Air Resources Board (ARB offset credits)', block_key: first['Offset Credit Serial Numbers'],
    });
    await expectReingestChangesNothing('cancellations.csv', want.cancellations.rows);
  });

  it('when every report has been read, then the ledger holds each project once, whichever reports named it', async () => {
    const ledger = await ledgerTotals(db);
    expect(ledger.projects).toBe(want.allProjects);
    const [unnamed] = await rows<{ n: number }>(db, sql`select count(*)::int as n from projects where registry_id = 'climate-action-reserve' and (country is null or registry_url is null)`);
    expect(unnamed!.n).toBe(0);
  });

  it('when all four reports are ingested again in the same order, then blocks, issuances, events, totals and projects end as they were', async () => {
    const before = await ledgerTotals(db);
    const projectRows = sql`select key, name, proponent, country, region, methodology_raw, methodologies, status::text, status_raw, registered_on::text,
      eligibility, registry_url from projects where registry_id = 'climate-action-reserve' order by key`;
    const projectsBefore = await rows<Record<string, unknown>>(db, projectRows);
    for (const [name, count] of [['projects.csv', want.projects.rows], ['issuances.csv', want.issuances.rows],
      ['retirements.csv', want.retirements.rows], ['cancellations.csv', want.cancellations.rows]] as const) {
      const summary = await ingestFile(db, fixture(name));
      expect(summary, name).toMatchObject({ status: 'committed', rowsRead: count, rowsRejected: 0, rawRecords: { new: 0 }, events: { new: 0 } });
      expect(summary.blocks.new + summary.blocks.changed, name).toBe(0);
      expect(summary.issuances.new + summary.issuances.changed, name).toBe(0);
    }
    expect(await ledgerTotals(db)).toEqual(before);
    // Projects are rewritten along the way and end as they were: a project's methodology is the protocol
    // version named by the last report read, and CAR2060 and CAR639 (Nitric Acid 2.2 → 3.0) and CAR674
    // (Landfill 5.0 → 6.0) retire 2024 vintages under an older version than their 2025 issuances.
    expect(await rows<Record<string, unknown>>(db, projectRows)).toEqual(projectsBefore);
  });

  it('when a report without statuses names a project after the project report, then the project keeps its status', async () => {
    const [p] = await rows<{ status: string }>(db, sql`select status::text from projects where key = 'climate-action-reserve:CAR2251'`);
    expect(projectsCsv.find((r) => r['Project ID'] === 'CAR2251')!.Status).toBe('Registered');
    expect(p!.status).toBe('registered');
  });

  it('when batches are committed, then their digests form a chain that verifies', async () => {
    expect(await verifyChain(db)).toEqual({ ok: true, batches: 12, problems: [] });
  });
});

/** One CSV line, quoted where a cell needs it. */
const csvLine = (cells: readonly string[]) => cells.map((c) => (/[",\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',');

/** A report's real header line and the given rows, written in the header's column order. */
function writeReport(path: string, source: string, rowsToWrite: Record<string, string>[]) {
  const header = readFileSync(fixture(source), 'utf8').split('\n')[0]!;
  const columns = Object.keys(readCsv(fixture(source))[0]!);
  writeFileSync(path, [header, ...rowsToWrite.map((r) => csvLine(columns.map((c) => r[c] ?? '')))].join('\n'));
}

describe('Climate Action Reserve malformed and edge-case reports', () => {
  let t: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    t = await openTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'tally-car-'));
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when rows have a broken serial, a reversed range, a negative quantity, an unreadable date or another project\'s serial, then those rows are reported by line and the good rows are committed', async () => {
    const [good1, good2, a, b, c, d, e] = retirementsCsv.slice(0, 7).map((r) => ({ ...r })) as Record<string, string>[];
    a!['Offset Credit Serial Numbers'] = 'CAR-1-US-1335-31-983-KS-2025-9659-43277';
    b!['Offset Credit Serial Numbers'] = 'CAR-1-US-1335-31-983-KS-2025-9659-43376 to 43277';
    c!['Quantity of Offset Credits'] = '-100';
    d!['Status Effective'] = 'next Tuesday';
    e!['Project ID'] = 'CAR1335';
    const path = join(dir, 'retirements.csv');
    writeReport(path, 'retirements.csv', [good1!, good2!, a!, b!, c!, d!, e!]);

    const summary = await ingestFile(t.handle.db, path);
    expect(summary).toMatchObject({ status: 'committed', format: 'climate-action-reserve-retirements', rowsRead: 7, rowsRejected: 5 });
    expect(summary.blocks.new).toBe(2);
    expect(summary.errors.map((x) => [x.code, x.message])).toEqual([
      ['bad-serial', expect.stringMatching(/^line 4: Offset Credit Serial Numbers: serial ".*-43277": expected a range written/)],
      ['bad-serial', expect.stringMatching(/^line 5: Offset Credit Serial Numbers: .*end 43277 is before start 43376/)],
      ['quantity-not-positive', expect.stringMatching(/^line 6: Quantity of Offset Credits: -100 is not a positive quantity/)],
      ['bad-date', expect.stringMatching(/^line 7: Status Effective: "next Tuesday" is not a date/)],
      ['serial-project-mismatch', expect.stringMatching(/^line 8: Offset Credit Serial Numbers: the serial names project CAR2060 but the row is project CAR1335/)],
    ]);
    const stored = await rows<{ block_key: string }>(t.handle.db, sql`select block_key from unit_blocks order by block_key`);
    expect(stored.map((x) => x.block_key)).toEqual([good1!['Offset Credit Serial Numbers'], good2!['Offset Credit Serial Numbers']].sort());
  });

  it('when an issuance row reports credits converted to VCUs, then the issuance stays gross and a converted-out event to Verra is recorded; a zero-credit period issues nothing', async () => {
    const [converted, zero] = issuancesCsv.slice(0, 2).map((r) => ({ ...r })) as [Record<string, string>, Record<string, string>];
    converted['Offset Credits Converted to VCUs'] = '5000.0';
    zero['Zero-Credit Reporting Period'] = 'Yes';
    zero['Total Offset Credits Issued'] = '0';
    const path = join(dir, 'issuances.csv');
    writeReport(path, 'issuances.csv', [converted, zero]);

    const summary = await ingestFile(t.handle.db, path);
    expect(summary).toMatchObject({ status: 'committed', rowsRead: 2, rowsRejected: 0, errors: [] });
    expect(summary.issuances.new).toBe(1);
    const events = await rows<Record<string, unknown>>(t.handle.db, sql`select e.kind::text, e.event_key, e.occurred_on::text, e.quantity::text,
        e.counterparty_registry_id, e.details->>'sourceColumn' as column, i.quantity::text as issued
      from events e join issuances i on i.id = e.issuance_id join projects p on p.id = e.project_id
      where p.key = ${`climate-action-reserve:${converted['Project ID']}`} order by e.kind::text`);
    const issuedOn = isoOf(converted['Date Issued']!);
    const total = converted['Total Offset Credits Issued']!;
    expect(events).toEqual([
      {
        kind: 'converted-out', event_key: `converted-out:${converted['Project ID']}:${converted.Vintage}:${issuedOn}:${total}`, occurred_on: issuedOn,
        quantity: '5000.000', counterparty_registry_id: 'verra', column: 'Offset Credits Converted to VCUs', issued: `${total}.000`,
      },
      expect.objectContaining({ kind: 'issued', quantity: `${total}.000`, issued: `${total}.000` }),
    ]);
    const zeroProject = await rows<{ issuances: number }>(t.handle.db, sql`select (select count(*)::int from issuances i where i.project_id = p.id) as issuances
      from projects p where p.key = ${`climate-action-reserve:${zero['Project ID']}`}`);
    expect(zeroProject).toEqual([{ issuances: 0 }]);
  });
});
