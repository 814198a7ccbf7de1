import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../api/auth.ts';
import { exportCadt } from '../../jobs/cadt-export.ts';
import { ingestCadt } from '../../jobs/cadt-upload.ts';
import { ingestFile } from '../../jobs/ingest-file.ts';
import { runChecks } from '../../jobs/integrity/index.ts';
import { disagreements, MATCH_TOLERANCES, matchMirrors } from '../../jobs/mirrors.ts';
import { organizations } from '../../schema/db/index.ts';
import { rows, type Database } from '../../schema/database.ts';
import { startApi } from '../helpers/api.ts';
import { readCsv } from '../helpers/csv.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';

// One tonne, one count (README, "Sources of record and mirrors"), on real files that report the same
// units from two sources: the CDM registry's own reports (test/fixtures/registry-samples/cdm) and CAD
// Trust's mapping of the same CDM units (test/fixtures/cad-trust), loaded in either order; and Gold
// Standard's issuance export, which lists three blocks of the CDM's CERs beside its own VERs.

const sample = (path: string) => new URL(`../fixtures/registry-samples/${path}`, import.meta.url).pathname;
const cadt = (name: string) => new URL(`../fixtures/cad-trust/${name}`, import.meta.url).pathname;
const CDM_REPORTS = ['CDM-Issuance-CompletedApril2025.xlsx', 'CDM_Registry_VC_31082023_pub.xlsx', 'Admincancellations_31082023.xlsx'].map((f) => sample(`cdm/${f}`));
const CADT = ['cdm-projects.xlsx', 'cdm-held-units.xlsx', 'cdm-retired-units.xlsx'].map(cadt);

const loadCdm = async (db: Database) => {
  for (const file of CDM_REPORTS) expect((await ingestFile(db, file, { check: false })).rowsRejected).toBe(0);
};
const loadCadt = async (db: Database, check = false) => {
  const summary = await ingestCadt(db, CADT, { check });
  expect(summary).toMatchObject({ status: 'committed', rowsRejected: 0 });
  return summary;
};

/** The ledger's tonnes of record, by registry and kind; what the mirrors report; the open findings. */
async function ledger(db: Database) {
  const issued = await rows<{ registry: string; t: number }>(db, sql`select registry_id as registry, sum(quantity)::float8 as t from issuances group by 1 order by 1`);
  const blocks = await rows<{ registry: string; status: string; n: number; t: number }>(db, sql`select registry_id as registry, status::text, count(*)::int as n,
    sum(quantity)::float8 as t from unit_blocks where superseded_in_batch_id is null group by 1, 2 order by 1, 2`);
  const events = await rows<{ kind: string; t: number }>(db, sql`select kind::text, sum(quantity)::float8 as t from events group by 1 order by 1`);
  const trends = await rows<{ kind: string; t: number }>(db, sql`select kind::text, sum(quantity)::float8 as t from trend_facts group by 1 order by 1`);
  const projects = await rows<{ registry: string; n: number }>(db, sql`select registry_id as registry, count(*)::int as n from projects group by 1 order by 1`);
  const mirrored = (await matchMirrors(db, { all: true }, null)).map((m) => ({
    key: m.mirrorKey, status: m.status, matchedBy: m.matchedBy, covered: m.covered, projects: m.projectKeys, disagreements: disagreements(m),
  })).sort((a, b) => a.key.localeCompare(b.key));
  return { issued, blocks, events, trends, projects, mirrored };
}

const openFindings = async (db: Database) => rows<{ kind: string; n: number; t: number }>(db, sql`select kind::text, count(*)::int as n,
  sum(tonnes_at_risk)::float8 as t from findings where status = 'open' group by 1 order by 1`);

describe('sources of record and mirrors: the CDM registry\'s reports and CAD Trust\'s CDM data', () => {
  let first: TestDatabase;
  let second: TestDatabase;
  const held = readCsv(cadt('cdm-held-units.csv'));
  const retired = readCsv(cadt('cdm-retired-units.csv'));
  beforeAll(async () => {
    [first, second] = await Promise.all([openTestDatabase(), openTestDatabase()]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([first.close(), second.close()]);
  });

  it('when CAD Trust\'s CDM data comes after the CDM\'s own reports, then it loads as CAD Trust\'s report of them: the CDM\'s totals do not move and no unit is retired twice', async () => {
    const db = first.handle.db;
    await loadCdm(db);
    const before = await ledger(db);
    // Checked as it lands: the batch's check covers the projects its reports name.
    const summary = await loadCadt(db, true);
    expect(summary.mirrors.new).toBe(readCsv(cadt('cdm-projects.csv')).length + held.length + retired.length);
    const after = await ledger(db);
    expect({ ...after, mirrored: [] }).toEqual({ ...before, mirrored: [] });

    // Every retired row is a CDM voluntary cancellation, found by its serials, in the same state.
    const reports = after.mirrored;
    expect(reports).toHaveLength(held.length + retired.length);
    expect(reports.every((m) => m.matchedBy === 'serial' && m.projects.length === 1 && (m.projects[0]!.startsWith('KR-') || m.projects[0] === 'BR-8'))).toBe(true);
    const cancelled = reports.filter((m) => m.status === 'cancelled');
    expect(cancelled).toHaveLength(retired.length);
    expect(cancelled.every((m) => m.disagreements.length === 0)).toBe(true);

    await runChecks(db);
    const found = await openFindings(db);
    expect(found.map((f) => f.kind)).not.toContain('retired-twice');
    // The held rows CAD Trust reports held lie in blocks the CDM's report says were voluntarily cancelled:
    // counted here straight from the ledger's blocks, each is one `mirror-disagrees` finding.
    const [contradicted] = await rows<{ n: number; units: number }>(db, sql`select count(*)::int as n, sum(units)::float8 as units from (
      select m.id, sum(upper(m.serial_range * b.serial_range) - lower(m.serial_range * b.serial_range)) as units
      from mirror_records m join unit_blocks b on b.number_space = m.number_space and b.serial_range && m.serial_range and b.status = 'cancelled'
      where m.kind = 'units' and m.status = 'held' group by m.id) x`);
    expect(contradicted!.n).toBeGreaterThan(0);
    expect(found.find((f) => f.kind === 'mirror-disagrees')).toEqual({ kind: 'mirror-disagrees', n: contradicted!.n, t: contradicted!.units });
    expect(summary.check!.rules['mirror-disagrees']).toMatchObject({ found: contradicted!.n, opened: contradicted!.n });
    const [evidence] = await rows<{ evidence: { mirror: { source: string; status: string }; record: { registry: string; otherStates: string[] } } }>(db, sql`select evidence
      from findings where kind = 'mirror-disagrees' limit 1`);
    expect(evidence!.evidence).toMatchObject({ mirror: { source: 'cad-trust', status: 'held' }, record: { registry: 'cdm', otherStates: ['cancelled'] } });
  }, 120_000);

  it('when CAD Trust\'s CDM data comes first and the CDM\'s reports after, then the ledger ends the same: the same totals, the same matches, the same findings', async () => {
    const db = second.handle.db;
    await loadCadt(db);
    const alone = await ledger(db);
    // Before the registry's own data, CAD Trust's report adds nothing and is reported only by CAD Trust.
    expect(alone.issued).toEqual([]);
    expect(alone.blocks).toEqual([]);
    expect(alone.mirrored.every((m) => m.matchedBy === null)).toBe(true);
    await loadCdm(db);
    await runChecks(db);
    expect(await ledger(db)).toEqual(await ledger(first.handle.db));
    expect(await openFindings(db)).toEqual(await openFindings(first.handle.db));
  }, 120_000);

  it('when Gold Standard\'s issuance export comes after the CDM\'s reports, then it adds exactly its own VERs: its CER rows are its report of the CDM\'s units', async () => {
    const db = first.handle.db;
    const gs = readCsv(sample('gold-standard/issuances.csv'));
    const own = gs.filter((r) => r['Product Type'] === 'VER').reduce((n, r) => n + Number(r.Quantity!.replace(/,/g, '')), 0);
    const cers = gs.filter((r) => r['Product Type'] === 'CER');
    expect(cers.length).toBeGreaterThan(0);
    const total = async () => (await rows<{ t: number }>(db, sql`select sum(quantity)::float8 as t from issuances`))[0]!.t;
    const before = await total();
    expect((await ingestFile(db, sample('gold-standard/issuances.csv'))).rowsRejected).toBe(0);
    expect(await total()).toBe(before + own);
    const reports = (await ledger(db)).mirrored.filter((m) => cers.some((c) => c['Serial Number'] === m.key));
    expect(reports).toHaveLength(cers.length);
    expect(reports.every((m) => m.matchedBy === 'serial' && m.projects.join() === 'RW-7014' && m.disagreements.length === 0)).toBe(true);
  }, 120_000);
});

describe('a mirror without serials: CAD Trust records of ART TREES units', () => {
  let t: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    t = await openTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'tally-mirrors-'));
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when CAD Trust reports units without their serials, then each is matched by project, vintage, quantity and date, and one that matches nothing is reported only by CAD Trust', async () => {
    const db = t.handle.db;
    for (const f of ['projects.csv', 'issuances.csv', 'retirements.csv']) await ingestFile(db, sample(`art-trees/${f}`), { check: false });
    // CAD Trust's records of ART's retired units, as Tally writes them (v1), without their serials. One
    // unit then counts one unit more than any block (constructed), one says held where ART says retired.
    const exported = await exportCadt(db, 'cadt-v1', { registries: ['art-trees'], statuses: ['retired'] }, null);
    const document = exported.document as Record<string, Record<string, unknown>[]>;
    const units = document.units!.map(({ unitBlockStart: _s, unitBlockEnd: _e, serialNumberBlock: _n, ...unit }) => unit);
    expect(units.length).toBeGreaterThan(3);
    const [, larger, held] = units as [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>];
    larger.unitCount = Number(larger.unitCount) + 1;
    held.unitStatus = 'Held';
    const path = join(dir, 'art-cadt.json');
    writeFileSync(path, JSON.stringify({ ...document, units }));
    expect((await ingestCadt(db, [path], { check: false })).rowsRejected).toBe(0);

    expect(MATCH_TOLERANCES.quantity).toBe(0);
    const reports = await matchMirrors(db, { all: true }, null);
    expect(reports).toHaveLength(units.length);
    const byKey = new Map(reports.map((m) => [m.quantity === Number(larger.unitCount) && m.matchedBy === null ? 'larger' : m.status === 'held' ? 'held' : m.mirrorKey, m]));
    expect(byKey.get('larger')).toMatchObject({ matchedBy: null, covered: 0 });
    expect(disagreements(byKey.get('larger')!)).toEqual([]);
    expect(byKey.get('held')).toMatchObject({ matchedBy: 'project', otherStatuses: ['retired'] });
    expect(disagreements(byKey.get('held')!)).toEqual([`${Number(held.unitCount).toLocaleString('en-US')} units it reports held are retired in the record`]);
    const rest = reports.filter((m) => m !== byKey.get('larger') && m !== byKey.get('held'));
    expect(rest).toHaveLength(units.length - 2);
    expect(rest.every((m) => m.matchedBy === 'project' && m.projectKeys.length === 1 && disagreements(m).length === 0)).toBe(true);
    // No tonne of record moved.
    const [blocks] = await rows<{ n: number }>(db, sql`select count(*)::int as n from unit_blocks where status = 'retired'`);
    expect(blocks!.n).toBe(units.length);
  }, 120_000);
});

describe('an organization\'s upload of a registry\'s own export', () => {
  let t: TestDatabase;
  let api: Awaited<ReturnType<typeof startApi>>;
  let publisherA: string;
  let publisherB: string;
  const files = ['projects.csv', 'transactions.csv'].map((f) => ({ name: `verra-${f}`, content: readFileSync(sample(`verra/${f}`)) }));
  const vcus = readCsv(sample('verra/transactions.csv'));
  // The file's own figure, summed here from its rows: each VCU row is one block of `Quantity Issued` units.
  const issued = vcus.reduce((sum, row) => sum + Number(row['Quantity Issued']!.replace(/,/g, '')), 0);
  const TRENDS = `{ trends(by: YEAR, groupBy: [REGISTRY]) { points { issued } reportedOnly { registry { code } source status { code } quantity } } }`;
  type Trends = { trends: { points: { issued: number }[]; reportedOnly: { source: string; quantity: number }[] } };
  const trends = async (key?: string) => (await api.gql<Trends>(TRENDS, {}, { key })).data!.trends;
  const issuedIn = (seen: Trends['trends']) => seen.points.reduce((s, p) => s + p.issued, 0);
  const reportedOnlyIn = (seen: Trends['trends']) => seen.reportedOnly.reduce((s, p) => s + p.quantity, 0);

  beforeAll(async () => {
    t = await openTestDatabase();
    const db = t.handle.db;
    const orgs = await db.insert(organizations).values([{ slug: 'ministry-a', name: 'A' }, { slug: 'exchange-b', name: 'B' }]).returning();
    publisherA = (await createApiKey(db, { name: 'a', role: 'publisher', organizationId: orgs[0]!.id })).key;
    publisherB = (await createApiKey(db, { name: 'b', role: 'publisher', organizationId: orgs[1]!.id })).key;
    api = await startApi(t.handle);
  }, 60_000);
  afterAll(async () => {
    await api?.close();
    await t?.close();
  });

  it('when an organization uploads it before the registry\'s own data, then its units are reported only by that upload: counted apart, never in the totals, and a private one only for its owner', async () => {
    expect((await api.upload(files, { key: publisherA, private: true })).data!.upload).toMatchObject({ accepted: true, errors: [] });
    const own = await trends(publisherA);
    expect(issuedIn(own)).toBe(0);
    expect(reportedOnlyIn(own)).toBe(issued);
    expect(new Set(own.reportedOnly.map((p) => p.source))).toEqual(new Set(['upload:ministry-a']));
    expect(await trends()).toEqual({ points: [], reportedOnly: [] });
    const [records] = await rows<{ n: number }>(t.handle.db, sql`select (select count(*) from projects) + (select count(*) from unit_blocks) + (select count(*) from events) as n`);
    expect(Number(records!.n)).toBe(0);
  }, 120_000);

  it('when the registry\'s own files come, and another organization uploads the same export publicly, then each tonne counts once: the uploads are reports of the registry\'s units', async () => {
    for (const f of files) {
      const path = join(tmpdir(), `tally-mirror-${process.pid}-${f.name}`);
      writeFileSync(path, f.content);
      expect((await ingestFile(t.handle.db, path, { check: false })).rowsRejected).toBe(0);
      rmSync(path);
    }
    expect((await api.upload(files, { key: publisherB })).data!.upload).toMatchObject({ accepted: true, errors: [] });
    for (const key of [undefined, publisherA, publisherB]) {
      const seen = await trends(key);
      expect(issuedIn(seen)).toBe(issued);
      expect(seen.reportedOnly).toEqual([]);
    }
    // Each upload's every VCU row is found by its serials in the registry's blocks, and agrees with them.
    const reports = await matchMirrors(t.handle.db, { all: true }, 'everyone');
    expect(reports).toHaveLength(2 * vcus.length);
    expect(reports.every((m) => m.matchedBy === 'serial' && disagreements(m).length === 0)).toBe(true);
    // A lookup shows the public upload beside the record; A's private one only to A.
    const serial = vcus[0]!['Serial Number']!;
    const lookup = `{ lookup(serial: "${serial}") { reportedBy { reportedBy matchedBy } } }`;
    expect((await api.gql(lookup)).data!.lookup.reportedBy).toEqual([{ reportedBy: 'upload:exchange-b', matchedBy: 'serial' }]);
    expect((await api.gql(lookup, {}, { key: publisherA })).data!.lookup.reportedBy)
      .toEqual(expect.arrayContaining([{ reportedBy: 'upload:exchange-b', matchedBy: 'serial' }, { reportedBy: 'upload:ministry-a', matchedBy: 'serial' }]));
  }, 120_000);
});
