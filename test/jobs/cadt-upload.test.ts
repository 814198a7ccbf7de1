import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ingestCadt } from '../../jobs/cadt-upload.ts';
import { ingestCommand } from '../../cli/ingest.ts';
import { BatchRejected, type IngestSummary } from '../../jobs/ingest.ts';
import { organizations } from '../../schema/db/index.ts';
import { rows, visibleTo, type Database } from '../../schema/database.ts';
import { csvLine, readCsv } from '../helpers/csv.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';

// CAD Trust v1 uploads. The real CDM rows of CAD Trust's COP 28 upload (test/fixtures/cad-trust/README.md),
// loaded as CAD Trust's public data: the CDM publishes its own data, so they are CAD Trust's report of the
// CDM's units (mirror records), adding no tonne; the held units' file writes every block end one past. A constructed
// Vanuatu National Registry workbook: an organization's private upload with issuances, units under a
// committed corresponding adjustment and a Letter of Authorization covering some of them.

const fixture = (name: string) => new URL(`../fixtures/cad-trust/${name}`, import.meta.url).pathname;

async function rejected(promise: Promise<IngestSummary>): Promise<IngestSummary> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof BatchRejected) return error.summary;
    throw error;
  }
  throw new Error('the upload was accepted');
}

const ledgerCounts = async (db: Database) => (await rows<{ projects: number; issuances: number; blocks: number; labels: number; events: number }>(db, sql`select
  (select count(*)::int from projects) as projects, (select count(*)::int from issuances) as issuances, (select count(*)::int from unit_blocks) as blocks,
  (select count(*)::int from labels) as labels, (select count(*)::int from events) as events`))[0]!;

describe('CAD Trust v1: the CDM rows of the COP 28 upload, CAD Trust\'s public data', () => {
  let t: TestDatabase;
  let db: Database;
  let dir: string;
  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    dir = mkdtempSync(join(tmpdir(), 'tally-cadt-public-'));
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const mirrors = async (status: string) => (await rows<{ n: number; t: number }>(db, sql`select count(*)::int as n, coalesce(sum(quantity), 0)::float8 as t
    from mirror_records where kind = 'units' and status = ${status}`))[0]!;

  it('when every block of a file spans one unit more than it counts, then its starts are read as exclusive, with one warning, and CAD Trust\'s report of the CDM units loads without adding a tonne', async () => {
    const projects = readCsv(fixture('cdm-projects.csv'));
    const held = readCsv(fixture('cdm-held-units.csv'));
    // Every row of the file: the range from unitBlockStart to unitBlockEnd holds unitCount + 1 units.
    expect(held.every((u) => Number(u.unitBlockEnd) - Number(u.unitBlockStart) === Number(u.unitCount))).toBe(true);
    const summary = await ingestCadt(db, [fixture('cdm-projects.csv'), fixture('cdm-held-units.csv')]);
    expect(summary).toMatchObject({ status: 'committed', rowsRead: projects.length + held.length, rowsRejected: 0, errors: [] });
    expect(summary.warnings.map((w) => w.code)).toEqual(['exclusive-block-bounds']);
    expect(summary.warnings[0]!.message).toBe('cdm-held-units.csv: every unit row spans one unit more than its unitCount (unitBlockEnd − unitBlockStart = unitCount); each block is read as starting after unitBlockStart');
    expect(summary.mirrors).toEqual({ new: projects.length + held.length, changed: 0, unchanged: 0 });
    expect(await ledgerCounts(db)).toEqual({ projects: 0, issuances: 0, blocks: 0, labels: 0, events: 0 });
    expect(await mirrors('held')).toEqual({ n: held.length, t: held.reduce((n, u) => n + Number(u.unitCount), 0) });
    // Line 2 of the file: 3,177 units after 163143652, the last one 163146829.
    const [first] = await rows<Record<string, unknown>>(db, sql`select registry_id, reported_by, project_ref, number_space, serial_start::float8 as s, serial_end::float8 as e, quantity::float8 as q
      from mirror_records where kind = 'units' order by id limit 1`);
    expect(first).toEqual({ registry_id: 'cdm', reported_by: 'cad-trust', project_ref: '5G9IN03Q4C07IONC5MZ82P4MQHTKBE', number_space: 'cdm:KR:5', s: 163143653, e: 163146829, q: 3177 });
    const named = await rows<{ n: number }>(db, sql`select count(*)::int as n from mirror_records where kind = 'project' and country is not null`);
    expect(named[0]!.n).toBe(projects.length);
  });

  it('when only some rows of a file are one unit longer than their count, then those rows are errors with their lines and counts: CAD Trust\'s public data keeps the rest, a government\'s upload is refused whole', async () => {
    // Constructed from the real held rows: every other row's unitCount raised by one, so the file no longer writes all its ends one past.
    const [header, ...lines] = readFileSync(fixture('cdm-held-units.csv'), 'utf8').trimEnd().split('\n');
    const held = readCsv(fixture('cdm-held-units.csv'));
    const mixed = held.map((u, i) => (i % 2 === 1 ? { ...u, unitCount: String(Number(u.unitCount) + 1) } : u));
    const path = join(dir, 'mixed-held-units.csv');
    writeFileSync(path, [header, ...mixed.map((u, i) => (i % 2 === 1 ? csvLine(Object.values(u)) : lines[i]!))].join('\n'));
    const bad = mixed.filter((_, i) => i % 2 === 0);

    const [{ id: government }] = await db.insert(organizations).values({ slug: 'kr-government', name: 'A government' }).returning({ id: organizations.id }) as [{ id: number }];
    const refused = await rejected(ingestCadt(db, [fixture('cdm-projects.csv'), path], { ownerOrganizationId: government }));
    expect(refused.rowsRejected).toBe(bad.length);
    expect(await rows(db, sql`select 1 from mirror_records where owner_organization_id = ${government}`)).toEqual([]);

    const summary = await ingestCadt(db, [fixture('cdm-projects.csv'), path]);
    expect(summary).toMatchObject({ status: 'committed', rowsRejected: bad.length });
    expect(summary.errors[0]!.message).toBe(`mixed-held-units.csv line 2: unitCount: ${bad[0]!.unitCount}, but the block from unitBlockStart 163143652 to unitBlockEnd 163146829 holds 3178 units (the range is inclusive: end − start + 1)`);
    expect(summary.errors.map((e) => Number(/line (\d+)/.exec(e.message)![1]))).toEqual(bad.map((_, i) => 2 + 2 * i));
  });

  it('when the retired units come as workbooks, then each is CAD Trust\'s report of a CDM voluntary cancellation: the CDM\'s own term, the file\'s tonnes, no tonne of record', async () => {
    const retired = readCsv(fixture('cdm-retired-units.csv'));
    const summary = await ingestCadt(db, [fixture('cdm-projects.xlsx'), fixture('cdm-retired-units.xlsx')]);
    expect(summary).toMatchObject({ status: 'committed', rowsRejected: 0, errors: [], warnings: [] });
    expect(summary.mirrors.new).toBe(retired.length);
    // "Retired" in CAD Trust; the CDM registry retires nothing: its term is voluntary cancellation.
    expect(retired.every((u) => u.unitStatus === 'Retired')).toBe(true);
    expect(await mirrors('cancelled')).toEqual({ n: retired.length, t: retired.reduce((n, u) => n + Number(u.unitCount), 0) });
    expect(await mirrors('retired')).toEqual({ n: 0, t: 0 });
    expect(await ledgerCounts(db)).toEqual({ projects: 0, issuances: 0, blocks: 0, labels: 0, events: 0 });
  });

  it('when the same upload comes again as CSV files through `tally ingest`, then it is one upload and nothing changes', async () => {
    const before = await rows(db, sql`select id, updated_at from mirror_records order by id`);
    const printed: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
    try {
      expect(await ingestCommand(db, [fixture('cdm-projects.csv'), fixture('cdm-retired-units.csv')])).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(/^cdm-projects\.csv, cdm-retired-units\.csv \(cadt-v1\): batch \d+ committed/);
    expect(printed[0]).toMatch(/mirrored +0 new, 0 changed, 129 unchanged/);
    expect(await rows(db, sql`select id, updated_at from mirror_records order by id`)).toEqual(before);
  });
});

// ---- a constructed national-registry upload ----

type Table = Record<string, string | number>[];
const PROJECT = 'b9a1c2d3-0000-4000-8000-00000000a001';
const ISSUANCE = 'b9a1c2d3-0000-4000-8000-00000000b001';
const LOA = 'b9a1c2d3-0000-4000-8000-00000000c001';
const unitId = (n: number) => `b9a1c2d3-0000-4000-8000-00000000d00${n}`;

function vanuatu(): Record<string, Table> {
  const unit = (n: number, start: number, end: number, status: string) => ({
    warehouseUnitId: unitId(n), issuanceId: ISSUANCE, unitBlockStart: start, unitBlockEnd: end, unitCount: end - start + 1, vintageYear: 2024,
    unitType: 'Reduction - technical', unitStatus: status, unitStatusReason: status === 'Retired' ? 'Voluntary offsetting' : '',
    unitOwner: 'Efate Clean Cooking Ltd', countryJurisdictionOfOwner: 'Vanuatu', correspondingAdjustmentDeclaration: 'Committed',
    correspondingAdjustmentStatus: 'Pending', unitRegistryLink: 'https://registry.example.vu/projects/VU-0001',
  });
  return {
    projects: [{
      warehouseProjectId: PROJECT, currentRegistry: 'Vanuatu National Registry', projectId: 'VU-0001', projectName: 'Efate improved cookstoves',
      projectDeveloper: 'Efate Clean Cooking Ltd', program: 'Vanuatu Article 6 programme', sector: 'Electricity; gas, steam and air conditioning supply',
      projectType: 'Energy Demand', coveredByNDC: 'Inside NDC', projectStatus: 'Registered', unitMetric: 'tCO2e', methodology: 'CDM - AMS-II.G.',
      projectLink: 'https://registry.example.vu/projects/VU-0001', validationBody: 'Earthood Services Private Limited', validationDate: '2023-10-02',
    }],
    projectLocations: [{ warehouseProjectId: PROJECT, country: 'Vanuatu', inCountryRegion: 'Shefa', geographicIdentifier: '-17.7333, 168.3273' }],
    estimations: [{ warehouseProjectId: PROJECT, creditingPeriodStart: '2024-01-01', creditingPeriodEnd: '2028-12-31', unitCount: 50000 }],
    issuances: [{ id: ISSUANCE, warehouseProjectId: PROJECT, startDate: '2024-01-01', endDate: '2024-12-31', verificationBody: 'Earthood Services Private Limited' }],
    units: [unit(1, 1, 400, 'Held'), unit(2, 401, 800, 'Held'), unit(3, 801, 1000, 'Retired')],
    labels: [{
      id: LOA, warehouseProjectId: PROJECT, labelType: 'Letter of Authorization', label: 'VUT0001', validityPeriodStartDate: '2024-03-01',
      validityPeriodEndDate: '2030-12-31', unitQuantity: 800, labelLink: 'https://registry.example.vu/loa/VUT0001.pdf',
    }],
    label_units: [{ labelId: LOA, warehouseUnitId: unitId(1) }, { labelId: LOA, warehouseUnitId: unitId(2) }],
  };
}

async function writeWorkbook(path: string, tables: Record<string, Table>): Promise<string> {
  const book = new ExcelJS.Workbook();
  for (const [name, list] of Object.entries(tables)) {
    const sheet = book.addWorksheet(name);
    const headers = [...new Set(list.flatMap((r) => Object.keys(r)))];
    sheet.addRow(headers);
    for (const r of list) sheet.addRow(headers.map((h) => r[h] ?? null));
  }
  await book.xlsx.writeFile(path);
  return path;
}

describe('CAD Trust v1 upload: a national registry', () => {
  let t: TestDatabase;
  let db: Database;
  let dir: string;
  let owner: number;
  let other: number;
  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    dir = mkdtempSync(join(tmpdir(), 'tally-cadt-'));
    [{ id: owner }, { id: other }] = await db.insert(organizations).values([
      { slug: 'vanuatu-registry', name: 'Vanuatu National Registry', country: 'VU' }, { slug: 'another-registry', name: 'Another registry' },
    ]).returning({ id: organizations.id }) as [{ id: number }, { id: number }];
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when a workbook is broken (no projects sheet, a status or a country outside the picklists), then each problem is a row error and nothing is stored', async () => {
    const orphan = await rejected(ingestCadt(db, [await writeWorkbook(join(dir, 'units-only.xlsx'), { units: vanuatu().units! })], { ownerOrganizationId: owner, isPrivate: true }));
    expect(orphan.errors.map((e) => [e.locator, e.code])).toEqual([1, 2, 3].map((n) => [`units-only.xlsx sheet "units" row ${n + 1}`, 'unknown-issuance']).flatMap((x) => [x, [x[0], 'unknown-project']]));
    expect(orphan.errors[1]!.message).toBe(`units-only.xlsx sheet "units" row 2: project: the unit's project (unitRegistryLink https://registry.example.vu/projects/VU-0001) is neither in this upload nor in the ledger`);

    const tables = vanuatu();
    tables.units![1]!.unitStatus = 'Active';
    tables.projects![0]!.country = 'Atlantis';
    const bad = await rejected(ingestCadt(db, [await writeWorkbook(join(dir, 'bad.xlsx'), tables)], { ownerOrganizationId: owner, isPrivate: true }));
    expect(bad.errors.map((e) => [e.locator, e.field, e.code])).toEqual([
      ['bad.xlsx sheet "projects" row 2', 'country', 'unknown-country'],
      ['bad.xlsx sheet "units" row 3', 'unitStatus', 'not-in-picklist'],
    ]);
    expect(bad.errors[1]!.message).toBe('bad.xlsx sheet "units" row 3: unitStatus: "Active" is not a CAD Trust unitStatus value (accepted: Held, Retired, Cancelled, Expired, Buffer, Exported, Pending Export)');
    const headless = await rejected(ingestCadt(db, [await writeWorkbook(join(dir, 'headless.xlsx'), { units: [{ quantity: 5 }] })], { ownerOrganizationId: owner }));
    expect(headless.failure).toBe('headless.xlsx: sheet "units" has no header row of CAD Trust v1 units fields');
    expect(await ledgerCounts(db)).toEqual({ projects: 0, issuances: 0, blocks: 0, labels: 0, events: 0 });
    const [registry] = await rows<{ n: number }>(db, sql`select count(*)::int as n from registries where id = 'national-vu'`);
    expect(registry!.n).toBe(0);
  });

  it('when the registry uploads its workbook as a private publisher, then projects, units, their adjustments and the Letter of Authorization are stored for it alone', async () => {
    const path = await writeWorkbook(join(dir, 'vanuatu.xlsx'), vanuatu());
    const summary = await ingestCadt(db, [path], { ownerOrganizationId: owner, isPrivate: true });
    expect(summary).toMatchObject({ status: 'committed', rowsRead: 10, rowsRejected: 0, errors: [], warnings: [] });
    expect(summary).toMatchObject({ projects: { new: 1 }, issuances: { new: 1 }, blocks: { new: 3 }, labels: { new: 1 } });

    const [registry] = await rows<Record<string, unknown>>(db, sql`select id, name, kind::text, serial_scheme::text from registries where id = 'national-vu'`);
    expect(registry).toEqual({ id: 'national-vu', name: 'Vanuatu National Registry', kind: 'national', serial_scheme: 'per-issuance' });
    const [project] = await rows<Record<string, unknown>>(db, sql`select key, country, region, status::text, covered_by_ndc::text, latitude, longitude,
      crediting_period_start, crediting_period_end, estimated_annual_quantity::float8 as annual, owner_organization_id::float8 as owner, is_private from projects`);
    expect(project).toEqual({ key: 'national-vu:VU-0001', country: 'VU', region: 'Shefa', status: 'registered', covered_by_ndc: 'inside-ndc', latitude: -17.7333,
      longitude: 168.3273, crediting_period_start: '2024-01-01', crediting_period_end: '2028-12-31', annual: 10_000, owner, is_private: true });
    const [issuance] = await rows<Record<string, unknown>>(db, sql`select issuance_key, quantity::float8 as quantity, vintage_start, vintage_end from issuances`);
    expect(issuance).toEqual({ issuance_key: ISSUANCE, quantity: 1000, vintage_start: '2024-01-01', vintage_end: '2024-12-31' });
    const blocks = await rows<Record<string, unknown>>(db, sql`select block_key, number_space, serial_start::float8 as s, serial_end::float8 as e, status::text,
      unit_type::text, ca_declaration::text, ca_status::text, article6_authorization, retirement_reason, is_private from unit_blocks order by serial_start`);
    const common = { number_space: 'national-vu:cadt:VU-0001', unit_type: 'reduction-technical', ca_declaration: 'committed', ca_status: 'pending', is_private: true };
    expect(blocks).toEqual([
      { ...common, block_key: unitId(1), s: 1, e: 400, status: 'held', article6_authorization: 'VUT0001', retirement_reason: null },
      { ...common, block_key: unitId(2), s: 401, e: 800, status: 'held', article6_authorization: 'VUT0001', retirement_reason: null },
      { ...common, block_key: unitId(3), s: 801, e: 1000, status: 'retired', article6_authorization: null, retirement_reason: 'Voluntary offsetting' },
    ]);
    const labels = await rows<Record<string, unknown>>(db, sql`select l.label_type::text, l.label, l.validity_period_start, l.validity_period_end,
      l.unit_quantity::float8 as units, l.is_private, array_agg(b.block_key order by b.block_key) as blocks
      from labels l join label_blocks lb on lb.label_id = l.id join unit_blocks b on b.id = lb.block_id group by l.id`);
    expect(labels).toEqual([{ label_type: 'letter-of-authorization', label: 'VUT0001', validity_period_start: '2024-03-01', validity_period_end: '2030-12-31',
      units: 800, is_private: true, blocks: [unitId(1), unitId(2)] }]);

    // What each organization sees.
    const seen = async (viewer: number | null) => (await rows<{ projects: number; blocks: number; labels: number }>(db, sql`select
      (select count(*)::int from projects p where ${visibleTo('p', viewer)}) as projects,
      (select count(*)::int from unit_blocks b where ${visibleTo('b', viewer)}) as blocks,
      (select count(*)::int from labels l where ${visibleTo('l', viewer)}) as labels`))[0];
    expect(await seen(owner)).toEqual({ projects: 1, blocks: 3, labels: 1 });
    expect(await seen(other)).toEqual({ projects: 0, blocks: 0, labels: 0 });
    expect(await seen(null)).toEqual({ projects: 0, blocks: 0, labels: 0 });
  });

  it('when the same workbook is uploaded again, then everything is unchanged and no row is added', async () => {
    const before = await ledgerCounts(db);
    const summary = await ingestCadt(db, [join(dir, 'vanuatu.xlsx')], { ownerOrganizationId: owner, isPrivate: true });
    expect(summary).toMatchObject({
      status: 'committed', rawRecords: { new: 0, seen: 10 }, projects: { new: 0, changed: 0, unchanged: 1 }, issuances: { new: 0, changed: 0, unchanged: 1 },
      blocks: { new: 0, changed: 0, unchanged: 3 }, labels: { new: 0, changed: 0, unchanged: 1 }, events: { new: 0 },
    });
    expect(await ledgerCounts(db)).toEqual(before);
  });

  it('when a later upload brings only new units, then they find their project by warehouseProjectId, for the uploading organization only', async () => {
    const more = (file: string) => writeWorkbook(join(dir, file), {
      issuances: [{ id: 'b9a1c2d3-0000-4000-8000-00000000b002', warehouseProjectId: PROJECT, startDate: '2025-01-01', endDate: '2025-06-30' }],
      units: [{ warehouseUnitId: unitId(4), issuanceId: 'b9a1c2d3-0000-4000-8000-00000000b002', unitBlockStart: 1001, unitBlockEnd: 1250, unitCount: 250,
        vintageYear: 2025, unitStatus: 'Held', correspondingAdjustmentDeclaration: 'Committed', correspondingAdjustmentStatus: 'Not Started' }],
    });
    const elsewhere = await rejected(ingestCadt(db, [await more('other.xlsx')], { ownerOrganizationId: other }));
    expect(elsewhere.errors.map((e) => e.code)).toEqual(['unknown-project', 'unknown-project']);
    expect(elsewhere.errors[0]!.message).toBe(`other.xlsx sheet "issuances" row 2: warehouseProjectId: project ${PROJECT} is neither in this upload nor in the ledger`);

    const summary = await ingestCadt(db, [await more('more.xlsx')], { ownerOrganizationId: owner, isPrivate: true });
    expect(summary).toMatchObject({ status: 'committed', projects: { new: 0 }, issuances: { new: 1 }, blocks: { new: 1 } });
    const [block] = await rows<Record<string, unknown>>(db, sql`select p.key, b.number_space, b.ca_status::text from unit_blocks b join projects p on p.id = b.project_id
      where b.block_key = ${unitId(4)}`);
    expect(block).toEqual({ key: 'national-vu:VU-0001', number_space: 'national-vu:cadt:VU-0001', ca_status: 'not-started' });
  });
});
