import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { a64LevyOf } from '../../connectors/a64-mechanism/levies.ts';
import { cdmReference } from '../../connectors/cad-trust/map-v2.ts';
import { cadtRegistryName, registryOfCadtName } from '../../connectors/cad-trust/registries.ts';
import { v2EntityOfName, v2EntityOfRecord } from '../../connectors/cad-trust/v2.ts';
import { projectStatusOfV2, unitStatusOfV2, V2_PICKLISTS, v2Country } from '../../connectors/cad-trust/v2-terms.ts';
import { ingestCadtV2 } from '../../jobs/cadt-upload.ts';
import { ingestCommand } from '../../cli/ingest.ts';
import { BatchRejected, type IngestSummary } from '../../jobs/ingest.ts';
import { organizations } from '../../schema/db/index.ts';
import { rows, visibleTo, type Database } from '../../schema/database.ts';
import { resolveCountry } from '../../schema/taxonomy/index.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';

// CAD Trust v2 uploads: records as a v2 node serves them. The Article 6.4 mechanism's first issuance, from
// the transitioned CDM programme of activities 10471 (Myanmar cookstoves), as a constructed v2 upload
// (test/fixtures/cad-trust/README.md says what is real and what is constructed): a document keyed by
// entity, a saved /v2/unit answer and a saved /v2/unit-label answer, one upload. Expected figures are
// computed from the fixture files here, with plain code, and compared with SQL over the ledger.

const fixture = (name: string) => new URL(`../fixtures/cad-trust/${name}`, import.meta.url).pathname;
const FILES = ['a64-pacm-10471.json', 'a64-pacm-10471-units.json', 'a64-pacm-10471-unit-labels.json'].map(fixture);
type Rec = Record<string, any>;
const document = JSON.parse(readFileSync(FILES[0]!, 'utf8')) as Record<string, Rec[]>;
const units = (JSON.parse(readFileSync(FILES[1]!, 'utf8')) as { data: Rec[] }).data;
const unitLabels = (JSON.parse(readFileSync(FILES[2]!, 'utf8')) as { data: Rec[] }).data;

async function rejected(promise: Promise<IngestSummary>): Promise<IngestSummary> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof BatchRejected) return error.summary;
    throw error;
  }
  throw new Error('the upload was accepted');
}

const ledgerCounts = async (db: Database) => (await rows<Record<string, number>>(db, sql`select
  (select count(*)::int from projects) as projects, (select count(*)::int from issuances) as issuances, (select count(*)::int from unit_blocks) as blocks,
  (select count(*)::int from labels) as labels, (select count(*)::int from events) as events`))[0]!;

describe('CAD Trust v2 records', () => {
  it('when records come alone or keyed by entity, then each is recognised as the entity it is', () => {
    expect(units.map(v2EntityOfRecord)).toEqual(units.map(() => 'unit'));
    expect(unitLabels.map(v2EntityOfRecord)).toEqual(unitLabels.map(() => 'unit-label'));
    for (const [name, list] of Object.entries(document)) expect(list.map(v2EntityOfRecord)).toEqual(list.map(() => v2EntityOfName(name)));
    expect(['unit-label', 'unitLabel', 'unit_label', 'unitLabels', 'co-benefits', 'Projects', 'stakeholder-project'].map(v2EntityOfName))
      .toEqual(['unit-label', 'unit-label', 'unit-label', 'unit-label', 'co-benefit', 'project', 'stakeholder-projects']);
    expect(v2EntityOfName('aefT1Submission')).toBeUndefined();
  });

  it('when v2 picklist values come, then Tally reads them, and the v2 country names it cannot place are few and named', () => {
    expect(['Held', 'Issued', 'Retired', 'Cancelled', 'Buffer', 'Pending Export'].map(unitStatusOfV2)).toEqual(['held', 'held', 'retired', 'cancelled', 'buffer', 'pending-export']);
    expect(['Inactive', 'Rejected', 'Active'].map(unitStatusOfV2)).toEqual([undefined, undefined, undefined]);
    expect(['Registered', 'Verified', 'Inactive', 'Transitioned', 'Dormant'].map(projectStatusOfV2)).toEqual(['registered', 'registered', null, 'transitioned', undefined]);
    // Every v2 country name maps to an ISO code (the same one Tally's own names give, where they know it), and back to a name of the list.
    expect(V2_PICKLISTS.location_country.filter((name) => !resolveCountry(name))).toEqual([]);
    for (const name of V2_PICKLISTS.location_country) expect(V2_PICKLISTS.location_country).toContain(v2Country(resolveCountry(name)!.code));
    expect(['Swaziland', 'Eswatini', 'Equatorial New Guinea', 'United Kingdom of Great Britain and Northern Ireland'].map((n) => resolveCountry(n)?.code)).toEqual(['SZ', 'SZ', 'GQ', 'GB']);
    expect(v2Country('MM')).toBe('Myanmar');
    expect(v2Country('KR')).toBe('Republic of Korea');
  });

  it('when a registry is named as CAD Trust or as Tally names it, then it reads back to the same slug', () => {
    for (const slug of ['cdm', 'a64-mechanism', 'art-trees', 'isometric', 'verra', 'national-vu']) expect(registryOfCadtName(cadtRegistryName(slug))?.slug).toBe(slug);
    expect(cadtRegistryName('a64-mechanism')).toBe('Article 6.4 Mechanism Registry');
    expect(cadtRegistryName('art-trees')).toBe('ART TREES');
  });

  it('when a reference names a CDM activity, or a unit says it is a levy, then Tally reads it, and nothing else', () => {
    expect(['CDM-10471', 'CDM PoA 10471', 'cdm_10471', 'VER-3989-C0234', 'CDM-'].map(cdmReference)).toEqual(['10471', '10471', '10471', undefined, undefined]);
    expect(a64LevyOf({ status: 'cancelled', texts: ['Cancelled for OMGE'] })).toBe('omge');
    expect(a64LevyOf({ status: 'held', texts: ['Cancelled for OMGE'] })).toBeUndefined();
    expect(a64LevyOf({ status: 'held', texts: ['Adaptation Fund'] })).toBe('share-of-proceeds');
    expect(a64LevyOf({ status: 'held', texts: ['Core CarbonX Solutions Pvt. Ltd.', 'Mitigation contribution A6.4ERs'] })).toBeUndefined();
  });
});

describe('CAD Trust v2 upload: the Article 6.4 mechanism', () => {
  let t: TestDatabase;
  let db: Database;
  let dir: string;
  let owner: number;
  let other: number;
  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    dir = mkdtempSync(join(tmpdir(), 'tally-cadt-v2-'));
    [{ id: owner }, { id: other }] = await db.insert(organizations).values([
      { slug: 'pacm-feed', name: 'Article 6.4 mechanism feed' }, { slug: 'another-registry', name: 'Another registry' },
    ]).returning({ id: organizations.id }) as [{ id: number }, { id: number }];
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when a unit is broken (no such issuance, a status v2 does not have, a range that does not hold its count), then each is a row error naming the entity and its key, and nothing is stored', async () => {
    const broken = units.map((u) => ({ ...u }));
    broken[0]!.cadTrustIssuanceId = '00000000-0000-4000-8000-000000000000';
    broken[1]!.unitStatus = 'Active';
    broken[4]!.unitCount = Number(broken[4]!.unitCount) + 1;
    const path = join(dir, 'broken-units.json');
    writeFileSync(path, JSON.stringify({ page: 1, pageCount: 1, data: broken }));
    const summary = await rejected(ingestCadtV2(db, [FILES[0]!, path, FILES[2]!], { ownerOrganizationId: owner, isPrivate: true }));
    expect(summary.status).toBe('failed');
    expect(summary.errors.map((e) => [e.locator, e.field, e.code])).toEqual([
      [`broken-units.json unit[0] (cadTrustUnitId ${units[0]!.cadTrustUnitId})`, 'cadTrustIssuanceId', 'unknown-issuance'],
      [`broken-units.json unit[1] (cadTrustUnitId ${units[1]!.cadTrustUnitId})`, 'unitStatus', 'not-in-picklist'],
      [`broken-units.json unit[4] (cadTrustUnitId ${units[4]!.cadTrustUnitId})`, 'unitCount', 'serial-quantity-mismatch'],
    ]);
    expect(summary.errors[1]!.message).toContain('"Active" is not a CAD Trust v2 unitStatus value (accepted: Held, Issued, Retired');
    expect(summary.errors[2]!.message).toContain(`${Number(units[4]!.unitCount) + 1}, but the block from unitStartBlock ${units[4]!.unitStartBlock} to unitEndBlock ${units[4]!.unitEndBlock} holds ${units[4]!.unitCount} units`);
    expect(await ledgerCounts(db)).toEqual({ projects: 0, issuances: 0, blocks: 0, labels: 0, events: 0 });
    // The failed batch keeps why: the batch's own reason, then each row's.
    const [batch] = await rows<{ status: string; connector: string; codes: string[] }>(db, sql`select status::text, connector,
      array(select e->>'code' from jsonb_array_elements(errors) e) as codes from batches order by id desc limit 1`);
    expect(batch).toEqual({ status: 'failed', connector: 'cadt-v2', codes: ['batch-failed', 'unknown-issuance', 'not-in-picklist', 'serial-quantity-mismatch'] });
  });

  it('when the files come through `tally ingest` as a private upload, then they are one batch: the activity, its issuance with its levies, and authorized and mitigation contribution units', async () => {
    const printed: string[] = [];
    const spy = vi.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
    try {
      expect(await ingestCommand(db, [...FILES, '--organization', 'pacm-feed', '--private'])).toBe(0);
    } finally {
      spy.mockRestore();
    }
    expect(printed).toHaveLength(1);
    expect(printed[0]).toMatch(/^a64-pacm-10471\.json, a64-pacm-10471-units\.json, a64-pacm-10471-unit-labels\.json \(cadt-v2\): batch \d+ committed/);

    // What the fixture says, computed here.
    const gross = units.reduce((n, u) => n + Number(u.unitCount), 0);
    const sop = units.filter((u) => u.unitCurrentOwner === 'Adaptation Fund').reduce((n, u) => n + Number(u.unitCount), 0);
    const omge = units.filter((u) => u.unitStatus === 'Cancelled' && /OMGE/.test(u.unitStatusReason)).reduce((n, u) => n + Number(u.unitCount), 0);
    const labelled = new Set(unitLabels.map((l) => l.cadTrustUnitId));
    const authorized = units.filter((u) => labelled.has(u.cadTrustUnitId) || u.unitItmosReferenceId).reduce((n, u) => n + Number(u.unitCount), 0);
    expect([gross, sop / gross, omge / gross]).toEqual([gross, 0.05, 0.02]);

    const [project] = await rows<Record<string, unknown>>(db, sql`select key, name, country, region, status::text, proponent, methodologies, registry_url,
      crediting_period_start, crediting_period_end, estimated_annual_quantity::float8 as annual, other_programs, is_private, owner_organization_id::float8 as owner
      from projects`);
    const p = document.project![0]!;
    const estimation = document.estimation![0]!;
    expect(project).toEqual({
      key: `a64-mechanism:${p.projectId}`, name: p.projectName, country: 'MM', region: document.location![0]!.locationRegion, status: 'registered',
      proponent: document.stakeholder![0]!.stakeholderName, methodologies: ['ams-ii-g'], registry_url: p.projectLink,
      crediting_period_start: estimation.estimationStartDate, crediting_period_end: estimation.estimationEndDate,
      annual: estimation.estimationUnitCount / 5, is_private: true, owner,
      // The transitioned CDM activity, as jobs/integrity/project-links.ts reads declarations.
      other_programs: [{ program: 'CDM', projectId: '10471', relation: 'converted-from', field: 'cadTrustReferenceProjectId' }],
    });
    const [issuance] = await rows<Record<string, unknown>>(db, sql`select issuance_key, quantity::float8 as quantity, share_of_proceeds_quantity::float8 as sop,
      omge_quantity::float8 as omge, vintage_start, vintage_end, issued_on, credit_type from issuances`);
    const v = document.verification![0]!;
    expect(issuance).toEqual({
      issuance_key: document.issuance![0]!.cadTrustIssuanceId, quantity: gross, sop, omge, vintage_start: v.verificationStartDate, vintage_end: v.verificationEndDate,
      issued_on: document.issuance![0]!.issuanceDate, credit_type: 'a64er',
    });
    const byCa = await rows<{ ca: string; tonnes: number; authorized: number }>(db, sql`select ca_declaration::text as ca, sum(quantity)::float8 as tonnes,
      count(article6_authorization)::int as authorized from unit_blocks group by 1 order by 1`);
    expect(byCa).toEqual([
      { ca: 'committed', tonnes: authorized, authorized: units.filter((u) => labelled.has(u.cadTrustUnitId) || u.unitItmosReferenceId).length },
      { ca: 'not-required', tonnes: gross - authorized, authorized: 0 },
    ]);
    const [retired] = await rows<Record<string, unknown>>(db, sql`select retirement_purpose::text as purpose, article6_authorization from unit_blocks where status = 'retired'`);
    expect(retired).toEqual({ purpose: 'ndc', article6_authorization: document.label![0]!.labelName });
    const [label] = await rows<{ label: string; blocks: string[] }>(db, sql`select l.label, array_agg(b.block_key order by b.block_key) as blocks
      from labels l join label_blocks lb on lb.label_id = l.id join unit_blocks b on b.id = lb.block_id group by l.id`);
    expect(label).toEqual({ label: document.label![0]!.labelName, blocks: [...labelled].sort() });
    // Lineage: each block points back to the record it was read from.
    const lineage = await rows<{ block_key: string; key: string }>(db, sql`select b.block_key, r.record_key as key from record_lineage l
      join raw_records r on r.id = l.raw_record_id join unit_blocks b on b.id = l.block_id where r.stream = 'cadt-v2-unit' order by 1`);
    expect(lineage).toEqual(units.map((u) => ({ block_key: u.cadTrustUnitId, key: u.cadTrustUnitId })).sort((a, b) => a.key.localeCompare(b.key)));

    const seen = async (viewer: number | null) => (await rows<Record<string, number>>(db, sql`select
      (select count(*)::int from projects p where ${visibleTo('p', viewer)}) as projects, (select count(*)::int from unit_blocks b where ${visibleTo('b', viewer)}) as blocks`))[0];
    expect(await seen(owner)).toEqual({ projects: 1, blocks: units.length });
    expect(await seen(other)).toEqual({ projects: 0, blocks: 0 });
    expect(await seen(null)).toEqual({ projects: 0, blocks: 0 });
  });

  it('when the same upload comes again, then everything is unchanged', async () => {
    const before = await ledgerCounts(db);
    const summary = await ingestCadtV2(db, FILES, { ownerOrganizationId: owner, isPrivate: true });
    expect(summary).toMatchObject({
      status: 'committed', errors: [], rawRecords: { new: 0 }, projects: { new: 0, changed: 0, unchanged: 1 }, issuances: { new: 0, changed: 0, unchanged: 1 },
      blocks: { new: 0, changed: 0, unchanged: units.length }, labels: { new: 0, changed: 0 }, events: { new: 0 },
    });
    expect(await ledgerCounts(db)).toEqual(before);
  });

  it('when a later upload brings a retirement of units already stored, then it finds their issuance and project in the organization\'s earlier upload, and only there', async () => {
    // The mitigation contribution block, split: part retired, the rest still held.
    const held = units[4]!;
    const split = (n: number, start: number, end: number, status: string) => ({
      ...held, cadTrustUnitId: `6a40a6a4-000b-4000-8000-00000000010${n}`, unitSerialId: `A64-MM-10471-2022-${start}-${end}`, unitStartBlock: String(start),
      unitEndBlock: String(end), unitCount: end - start + 1, unitStatus: status, unitStatusReason: status === 'Retired' ? 'Retired on behalf of a buyer' : held.unitStatusReason,
    });
    const start = Number(held.unitStartBlock);
    const path = join(dir, 'later-units.json');
    writeFileSync(path, JSON.stringify([split(1, start, start + 999, 'Retired'), split(2, start + 1000, Number(held.unitEndBlock), 'Held')]));
    const elsewhere = await rejected(ingestCadtV2(db, [path], { ownerOrganizationId: other }));
    expect(elsewhere.errors.map((e) => e.code)).toEqual(['unknown-issuance', 'unknown-issuance']);
    expect(elsewhere.errors[0]!.message).toContain(`issuance ${held.cadTrustIssuanceId} is neither in this upload nor in an earlier CAD Trust v2 upload of this organization`);

    const summary = await ingestCadtV2(db, [path], { ownerOrganizationId: owner, isPrivate: true });
    expect(summary).toMatchObject({ status: 'committed', errors: [], blocks: { new: 2 }, issuances: { new: 0 } });
    const [retired] = await rows<Record<string, unknown>>(db, sql`select p.key, b.number_space, b.quantity::float8 as quantity, b.ca_declaration::text as ca, b.is_private
      from unit_blocks b join projects p on p.id = b.project_id where b.block_key = '6a40a6a4-000b-4000-8000-000000000101'`);
    expect(retired).toEqual({ key: `a64-mechanism:${document.project![0]!.projectId}`, number_space: `a64-mechanism:cadt:${document.project![0]!.projectId}`,
      quantity: 1000, ca: 'not-required', is_private: true });
  });
});
