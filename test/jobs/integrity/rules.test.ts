import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChecks } from '../../../jobs/integrity/index.ts';
import { FindingStatusRefused, setFindingStatus } from '../../../jobs/integrity/findings.ts';
import type { CanonicalInput } from '../../../schema/canonical.ts';
import { rows, type Database } from '../../../schema/database.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { ingestRecords } from '../../helpers/ledger.ts';

// Rules 2–7, each with a case that fires and a near-miss that must not, built from canonical records
// and ingested through the ingest job, whose incremental check after each batch is what opens them.

type Found = { id: number; kind: string; tonnes: number; status: string; severity: string; inferred: boolean; evidence: Record<string, unknown>; projects: string[] };
const findingsOf = (db: Database, kind: string) => rows<Found>(db, sql`select f.id::float8 as id, f.kind::text as kind, f.tonnes_at_risk::float8 as tonnes,
    f.status::text as status, f.severity::text as severity, f.rests_on_inferred_link as inferred, f.evidence,
    array(select distinct p.key from finding_subjects s join projects p on p.id = s.project_id where s.finding_id = f.id order by p.key) as projects
  from findings f where f.kind = ${kind} order by f.id`);

const project = (registry: string, id: string, name: string, extra: Partial<CanonicalInput & { type: 'project' }> = {}): CanonicalInput => ({
  type: 'project', registry, registryProjectId: id, name, country: 'Kenya', methodology: 'ACM0002', ...extra,
});
const issuance = (registry: string, id: string, key: string, vintageYear: number, quantity: number, extra: Record<string, unknown> = {}): CanonicalInput => ({
  type: 'issuance', registry, registryProjectId: id, issuanceKey: key, vintageYear, quantity, ...extra,
});
const block = (registry: string, id: string, key: string, numberSpace: string, start: number, end: number, status: 'held' | 'retired' | 'cancelled' | 'exported', extra: Record<string, unknown> = {}): CanonicalInput => ({
  type: 'block', registry, registryProjectId: id, blockKey: key, serial: { numberSpace, start, end, raw: key }, quantity: end - start + 1, status, ...extra,
});

describe('integrity rules 2–7', () => {
  let t: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
  });
  afterAll(() => t.close());

  describe('rule 2, unnetted conversion, and rule 7, exported but never imported', () => {
    it('when a conversion is netted on both sides (cancelled for export at the source, issued at the destination), then neither rule fires', async () => {
      const acr = await ingestRecords(db, 'american-carbon-registry', [
        project('american-carbon-registry', 'ACR9001', 'Halvard Ridge Landfill Gas Project', { country: 'US' }),
        block('american-carbon-registry', 'ACR9001', 'ACR-US-9001-2020-1-1 to 5000', 'american-carbon-registry:ACR9001:2020:1', 1, 5000, 'exported', { vintageYear: 2020, statusDate: '2021-02-01' }),
        { type: 'event', registry: 'american-carbon-registry', registryProjectId: 'ACR9001', kind: 'converted-out', eventKey: 'converted-out:ACR-US-9001-2020-1-1 to 5000',
          quantity: 5000, vintageYear: 2020, blockKey: 'ACR-US-9001-2020-1-1 to 5000', counterpartyRegistry: 'verra', occurredOn: '2021-02-01', details: { cancellationReason: 'Convert to VCS' } },
      ]);
      expect(acr.check!.rules['export-not-imported']!.found).toBe(0); // no Verra data yet: nothing to check against
      const verra = await ingestRecords(db, 'verra', [
        project('verra', '9001', 'Halvard Ridge Landfill Gas', { country: 'US', otherPrograms: [{ program: 'American Carbon Registry', projectId: 'ACR9001', relation: 'converted-from', field: 'status' }] }),
        issuance('verra', '9001', 'batch 77001', 2020, 5000, { issuedOn: '2021-03-01' }),
      ]);
      expect(verra.check!.links.declared).toBe(1);
      expect(await findingsOf(db, 'unnetted-conversion')).toEqual([]);
      expect(await findingsOf(db, 'export-not-imported')).toEqual([]);
    });

    it('when units cancelled for export to a registry in the ledger arrive nowhere there, then an informational finding names the missing tonnes', async () => {
      const summary = await ingestRecords(db, 'american-carbon-registry', [
        project('american-carbon-registry', 'ACR9002', 'Osgood Flats Landfill Gas Project', { country: 'US' }),
        block('american-carbon-registry', 'ACR9002', 'ACR-US-9002-2021-1-1 to 3000', 'american-carbon-registry:ACR9002:2021:1', 1, 3000, 'exported', { vintageYear: 2021, statusDate: '2022-01-10' }),
        { type: 'event', registry: 'american-carbon-registry', registryProjectId: 'ACR9002', kind: 'converted-out', eventKey: 'converted-out:ACR-US-9002-2021-1-1 to 3000',
          quantity: 3000, vintageYear: 2021, blockKey: 'ACR-US-9002-2021-1-1 to 3000', counterpartyRegistry: 'verra', occurredOn: '2022-01-10', details: {} },
        // Near-miss: to a registry with no data in the ledger, absence proves nothing.
        project('american-carbon-registry', 'ACR9003', 'Pellworth Mine Methane Project', { country: 'US' }),
        block('american-carbon-registry', 'ACR9003', 'ACR-US-9003-2021-1-1 to 700', 'american-carbon-registry:ACR9003:2021:1', 1, 700, 'exported', { vintageYear: 2021 }),
        { type: 'event', registry: 'american-carbon-registry', registryProjectId: 'ACR9003', kind: 'converted-out', eventKey: 'converted-out:ACR-US-9003-2021-1-1 to 700',
          quantity: 700, vintageYear: 2021, blockKey: 'ACR-US-9003-2021-1-1 to 700', counterpartyRegistry: 'arb', details: {} },
      ]);
      expect(summary.check!.rules['export-not-imported']).toMatchObject({ found: 1, opened: 1, tonnesAtRisk: 3000 });
      const [f] = await findingsOf(db, 'export-not-imported');
      expect(f).toMatchObject({ tonnes: 3000, severity: 'info', projects: ['american-carbon-registry:ACR9002'] });
      expect(f!.evidence).toMatchObject({ destinationRegistry: 'verra', linkedProjects: [], vintages: [{ vintage: 2021, converted: 3000, issuedAtDestination: 0, missing: 3000 }] });
    });
  });

  describe('rule 3, the same activity in two registries', () => {
    it('when two registries\' projects that Tally links by name, proponent and country issue for the same year, then the smaller side is at risk and the finding says the link is inferred', async () => {
      await ingestRecords(db, 'gold-standard', [
        project('gold-standard', 'GS9100', 'Kobaru Highlands Wind Power Project', { proponent: 'Kobaru Energy Ltd' }),
        issuance('gold-standard', 'GS9100', 'GS9100-2019', 2019, 10_000),
        issuance('gold-standard', 'GS9100', 'GS9100-2020', 2020, 12_000),
      ]);
      const verra = await ingestRecords(db, 'verra', [
        project('verra', '9100', 'Kobaru Highlands Wind Power Project', { proponent: 'Kobaru Energy Limited' }),
        issuance('verra', '9100', 'batch 9100-1', 2020, 8_000),
      ]);
      expect(verra.check!.rules['same-activity-overlap']).toMatchObject({ found: 1, opened: 1, tonnesAtRisk: 8_000 });
      const [f] = await findingsOf(db, 'same-activity-overlap');
      expect(f).toMatchObject({ tonnes: 8_000, severity: 'medium', inferred: true, projects: ['gold-standard:GS9100', 'verra:9100'] });
      expect(f!.evidence).toMatchObject({ link: { source: 'inferred', parts: { name: 1 } }, period: { from: '2020-01-01', to: '2020-12-31' } });
      expect((f!.evidence.link as { score: number }).score).toBeGreaterThanOrEqual(0.6);
    });

    it('when the linked projects\' periods follow one another, or the names share only generic words, then nothing is found', async () => {
      await ingestRecords(db, 'gold-standard', [
        project('gold-standard', 'GS9101', 'Tenvasi Ridge Hydro Power Project', { proponent: 'Tenvasi Hydro' }),
        issuance('gold-standard', 'GS9101', 'GS9101-2018', 2018, 5_000),
        issuance('gold-standard', 'GS9101', 'GS9101-2019', 2019, 5_000),
        project('gold-standard', 'GS9102', 'Marelo Wind Power Project', { proponent: 'Marelo Wind' }),
        issuance('gold-standard', 'GS9102', 'GS9102-2019', 2019, 4_000),
      ]);
      const verra = await ingestRecords(db, 'verra', [
        project('verra', '9101', 'Tenvasi Ridge Hydro Power Project', { proponent: 'Tenvasi Hydro' }),
        issuance('verra', '9101', 'batch 9101-1', 2020, 6_000, { vintageStart: '2020-01-01', vintageEnd: '2020-12-31' }),
        project('verra', '9102', 'Quillon Wind Power Project', { proponent: 'Quillon Power' }),
        issuance('verra', '9102', 'batch 9102-1', 2019, 4_000),
      ]);
      expect(verra.check!.rules['same-activity-overlap']!.opened).toBe(0);
      const links = await rows<{ n: number }>(db, sql`select count(*)::int as n from project_links l join projects p on p.id in (l.from_project_id, l.to_project_id)
        where p.registry_project_id in ('GS9102', '9102')`);
      expect(links[0]!.n).toBe(0);
      expect(await findingsOf(db, 'same-activity-overlap')).toHaveLength(1);
    });
  });

  describe('rule 4, CDM and another programme over the same period', () => {
    it('when a CDM activity and its Verra conversion credit the same year beyond the CERs cancelled, then the uncancelled overlap is at risk', async () => {
      await ingestRecords(db, 'cdm', [
        project('cdm', '1234', 'Lumora Hydroelectric Project', { country: 'India' }),
        issuance('cdm', '1234', 'MP1', 2010, 90_000, { vintageStart: '2010-01-01', vintageEnd: '2012-12-31' }),
        block('cdm', '1234', 'IN-5-1000001-1-1-1234 to 1020000', 'cdm:IN:CER', 1_000_001, 1_020_000, 'cancelled', { vintageYear: 2012 }),
        // Near-miss: an activity whose CERs for the overlap were all cancelled.
        project('cdm', '1235', 'Savren Biomass Power Project', { country: 'India' }),
        issuance('cdm', '1235', 'MP1', 2011, 30_000, { vintageStart: '2011-01-01', vintageEnd: '2011-12-31' }),
        block('cdm', '1235', 'IN-5-2000001-1-1-1235 to 2030000', 'cdm:IN:CER', 2_000_001, 2_030_000, 'cancelled', { vintageYear: 2011 }),
      ]);
      const verra = await ingestRecords(db, 'verra', [
        project('verra', '9200', 'Lumora Hydroelectric', { country: 'India', otherPrograms: [{ program: 'CDM', projectId: '1234', relation: 'converted-from', field: 'status' }] }),
        issuance('verra', '9200', 'batch 9200-1', 2012, 50_000, { vintageStart: '2012-01-01', vintageEnd: '2013-12-31' }),
        project('verra', '9201', 'Savren Biomass Power', { country: 'India', otherPrograms: [{ program: 'CDM', projectId: '1235', relation: 'converted-from', field: 'status' }] }),
        issuance('verra', '9201', 'batch 9201-1', 2011, 30_000, { vintageStart: '2011-01-01', vintageEnd: '2011-12-31' }),
      ]);
      expect(verra.check!.rules['cdm-overlap']).toMatchObject({ found: 1, tonnesAtRisk: 50_000 });
      const [f] = await findingsOf(db, 'cdm-overlap');
      // CERs over the overlap 90,000 − cancelled 20,000 = 70,000; VCUs over it 50,000: the smaller.
      expect(f).toMatchObject({ tonnes: 50_000, severity: 'high', inferred: false, projects: ['cdm:1234', 'verra:9200'] });
      expect(f!.evidence).toMatchObject({ period: { from: '2012-01-01', to: '2012-12-31' }, cersCancelled: { tonnes: 20_000 }, cdm: { tonnes: 90_000 }, other: { tonnes: 50_000 } });
    });

    it('when the CERs cancelled are of another period than the overlap, then they do not offset it', async () => {
      await ingestRecords(db, 'cdm', [
        project('cdm', '5001', 'Pavrel Wind Farm Project', { country: 'India' }),
        issuance('cdm', '5001', 'MP1', 2010, 10_000, { vintageStart: '2010-01-01', vintageEnd: '2010-12-31' }),
        issuance('cdm', '5001', 'MP2', 2013, 10_000, { vintageStart: '2013-01-01', vintageEnd: '2013-12-31' }),
        block('cdm', '5001', 'IN-5-3000001-1-1-5001 to 3010000', 'cdm:IN:CER', 3_000_001, 3_010_000, 'cancelled', { vintageYear: 2010 }),
        block('cdm', '5001', 'IN-5-3010001-1-1-5001 to 3020000', 'cdm:IN:CER', 3_010_001, 3_020_000, 'held', { vintageYear: 2013 }),
      ]);
      const verra = await ingestRecords(db, 'verra', [
        project('verra', '9202', 'Pavrel Wind Farm', { country: 'India', otherPrograms: [{ program: 'CDM', projectId: '5001', relation: 'converted-from', field: 'status' }] }),
        issuance('verra', '9202', 'batch 9202-1', 2013, 10_000, { vintageStart: '2013-01-01', vintageEnd: '2013-12-31' }),
      ]);
      expect(verra.check!.rules['cdm-overlap']).toMatchObject({ found: 1, opened: 1, tonnesAtRisk: 10_000 });
      const f = (await findingsOf(db, 'cdm-overlap')).find((x) => x.projects.includes('cdm:5001'));
      expect(f).toMatchObject({ tonnes: 10_000 });
      expect(f!.evidence).toMatchObject({ cersCancelled: { tonnes: 0, blocks: [] } });
    });
  });

  describe('rule 5, retired twice', () => {
    it('when two retirements share serials in one number space, then the shared units are at risk; the same block twice in one pull and touching ranges are not', async () => {
      const summary = await ingestRecords(db, 'verra', [
        project('verra', '9300', 'Dunmar Cookstoves'),
        block('verra', '9300', 'VCU 500001-501000', 'verra:VER', 500_001, 501_000, 'retired', { statusDate: '2023-05-01', retirementBeneficiary: 'Buyer A' }),
        block('verra', '9300', 'VCU 500901-501200', 'verra:VER', 500_901, 501_200, 'retired', { statusDate: '2023-06-01', retirementBeneficiary: 'Buyer B' }),
        block('verra', '9300', 'VCU 501201-501500', 'verra:VER', 501_201, 501_500, 'retired', { statusDate: '2023-07-01' }), // touches the one before
        block('verra', '9300', 'VCU 501201-501500', 'verra:VER', 501_201, 501_500, 'retired', { statusDate: '2023-07-01' }), // the same block again in one pull
      ]);
      expect(summary.check!.rules['retired-twice']).toMatchObject({ found: 1, opened: 1, tonnesAtRisk: 100 });
      expect(summary.check!.rules['serial-overlap']!.found).toBe(0);
      const [f] = await findingsOf(db, 'retired-twice');
      expect(f!.evidence).toMatchObject({ overlap: { start: 500_901, end: 501_000, units: 100 }, blocks: [{ beneficiary: 'Buyer A' }, { beneficiary: 'Buyer B' }] });
    });
  });

  describe('rule 6, tokenized after retirement', () => {
    it('when a retirement names a bridge, then its units are at risk; a held block that names one is not retired and is not a finding', async () => {
      const summary = await ingestRecords(db, 'verra', [
        project('verra', '9400', 'Orvane Rice Methane'),
        block('verra', '9400', 'VCU 700001-702500', 'verra:VER', 700_001, 702_500, 'retired', { statusDate: '2021-11-03', retirementDetails: 'TOUCAN PROTOCOL: Bridged to TCO2-VCS-9400-2019', tokenizationMarker: 'TOUCAN' }),
        block('verra', '9400', 'VCU 702501-703000', 'verra:VER', 702_501, 703_000, 'held', { tokenizationMarker: 'C3T' }),
      ]);
      expect(summary.check!.rules['tokenized-after-retirement']).toMatchObject({ found: 1, tonnesAtRisk: 2_500 });
      const [f] = await findingsOf(db, 'tokenized-after-retirement');
      expect(f).toMatchObject({ severity: 'medium', projects: ['verra:9400'] });
      expect(f!.evidence).toMatchObject({ bridge: 'TOUCAN', block: { serial: 'VCU 700001-702500', retiredOn: '2021-11-03' } });
    });
  });

  describe('runs and status', () => {
    it('when the full check runs after the incremental ones, then it finds the same findings and opens nothing new', async () => {
      const summary = await runChecks(db);
      for (const [kind, s] of Object.entries(summary.rules)) expect({ kind, opened: s.opened, reopened: s.reopened, resolved: s.resolved }).toEqual({ kind, opened: 0, reopened: 0, resolved: 0 });
      expect(summary.rules['same-activity-overlap']!.seenAgain).toBe(1);
    });

    it('when a batch removes a finding\'s cause, then its incremental check resolves it', async () => {
      // The registry re-reports the second retirement with serials that no longer overlap.
      const summary = await ingestRecords(db, 'verra', [
        block('verra', '9300', 'VCU 500901-501200', 'verra:VER', 501_001, 501_200, 'retired', { statusDate: '2023-06-01' }),
      ]);
      expect(summary.check!.rules['retired-twice']).toMatchObject({ found: 0, resolved: 1 });
      expect((await findingsOf(db, 'retired-twice'))[0]!.status).toBe('resolved');
    });

    it('when people acknowledge and dismiss findings, then the status is kept through checks and every change is history; a dismissal needs a reason', async () => {
      const [f] = await findingsOf(db, 'tokenized-after-retirement');
      await setFindingStatus(db, f!.id, 'acknowledged');
      await expect(setFindingStatus(db, f!.id, 'dismissed', { reason: '  ' })).rejects.toBeInstanceOf(FindingStatusRefused);
      await setFindingStatus(db, f!.id, 'dismissed', { reason: 'Verra cancelled the bridged tokens in 2022' });
      await runChecks(db);
      expect((await findingsOf(db, 'tokenized-after-retirement'))[0]!.status).toBe('dismissed');
      const history = await rows<{ from: string | null; to: string; reason: string | null }>(db, sql`select from_status::text as "from", to_status::text as "to", reason
        from finding_status_changes where finding_id = ${f!.id} order by id`);
      expect(history).toEqual([
        { from: null, to: 'open', reason: 'found' },
        { from: 'open', to: 'acknowledged', reason: null },
        { from: 'acknowledged', to: 'dismissed', reason: 'Verra cancelled the bridged tokens in 2022' },
      ]);
      const [resolved] = await findingsOf(db, 'retired-twice');
      await expect(setFindingStatus(db, resolved!.id, 'acknowledged')).rejects.toThrow(/resolved/);
    });
  });
});
