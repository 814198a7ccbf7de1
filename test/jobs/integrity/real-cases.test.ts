import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFile } from '../../../jobs/ingest-file.ts';
import { runChecks } from '../../../jobs/integrity/index.ts';
import { rows, type Database } from '../../../schema/database.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/database.ts';

// The cases reference/registries.md §6.3 names, in the registries' own file and API formats
// (test/fixtures/integrity/README.md says what is taken from the reference and what is filled in),
// ingested through the connectors: CAR credits converted to VCUs and counted on both sides, and mine
// methane projects that moved from ACR to Verra with periods that follow one another.

const fixture = (name: string) => new URL(`../../fixtures/integrity/${name}`, import.meta.url).pathname;

type Found = { kind: string; tonnes: number; title: string; inferred: boolean; evidence: Record<string, unknown>; projects: string[] };
const openFindings = (db: Database) => rows<Found>(db, sql`select f.kind::text as kind, f.tonnes_at_risk::float8 as tonnes, f.title,
    f.rests_on_inferred_link as inferred, f.evidence,
    array(select p.key from finding_subjects s join projects p on p.id = s.project_id where s.finding_id = f.id order by p.key) as projects
  from findings f where f.status = 'open' order by f.tonnes_at_risk desc`);

describe('real cases (reference §6.3)', () => {
  let t: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
  });
  afterAll(() => t.close());

  it('when CAR400 / CAR498 and VCS 1528 / 1527 are ingested, then the 45,730 + 4,270 t converted to VCUs and still counted by CAR are 50,000 t at risk', async () => {
    for (const file of ['car-projects.csv', 'car-issuances.csv', 'verra-projects.json', 'verra-issuances.json']) {
      expect((await ingestFile(db, fixture(file))).status).toBe('committed');
    }
    // Verra declares both links (otherGhgProgramId, and the transferred-from-another-programme status).
    const links = await rows<{ pair: string; relation: string; source: string }>(db, sql`select a.key || ' > ' || b.key as pair, l.relation::text as relation,
        l.source::text as source from project_links l join projects a on a.id = l.from_project_id join projects b on b.id = l.to_project_id order by 1, 2`);
    expect(links).toEqual([
      { pair: 'climate-action-reserve:CAR400 > verra:1528', relation: 'converted-to', source: 'declared' },
      { pair: 'climate-action-reserve:CAR498 > verra:1527', relation: 'converted-to', source: 'declared' },
      { pair: 'verra:1527 > climate-action-reserve:CAR498', relation: 'same-activity', source: 'declared' },
      { pair: 'verra:1528 > climate-action-reserve:CAR400', relation: 'same-activity', source: 'declared' },
    ]);
    // The incremental check of the last batch already found them; a full run finds the same two.
    const summary = await runChecks(db);
    expect(summary.rules['unnetted-conversion']).toMatchObject({ found: 2, opened: 0, seenAgain: 2, tonnesAtRisk: 50_000 });
    const found = await openFindings(db);
    expect(found.map((f) => [f.kind, f.tonnes, f.projects])).toEqual([
      ['unnetted-conversion', 45_730, ['climate-action-reserve:CAR400', 'verra:1528']],
      ['unnetted-conversion', 4_270, ['climate-action-reserve:CAR498', 'verra:1527']],
    ]);
    // Evidence a person can check in both registries: the CAR column, the vintage, the VCU batch.
    expect(found[0]!.evidence).toMatchObject({
      source: { registry: 'climate-action-reserve', project: 'CAR400' },
      destinations: [{ registry: 'verra', project: '1528', registryUrl: 'https://registry.verra.org/app/projectDetail/VCS/1528' }],
      vintages: [{ vintage: 2009, convertedNotNetted: 45_730, issuedAtDestination: 45_730, countedTwice: 45_730, destinationIssuances: ['verra:1528/batch 2301'] }],
      conversionEvents: [{ quantity: 45_730, vintage: 2009, netted: false, details: { sourceColumn: 'Offset Credits Converted to VCUs' } }],
    });
    expect(found.every((f) => !f.inferred)).toBe(true);
    // And the rows themselves: file, place in it, and the hash the ledger keeps of each.
    const kept = await rows<{ source: string; locator: string; sha256: string }>(db, sql`select source, locator, content_hash as sha256 from raw_records
      where (source, locator) in (('car-issuances.csv', 'line 2'), ('verra-issuances.json', 'item 0')) order by source`);
    expect(kept).toHaveLength(2);
    expect(found[0]!.evidence.sources).toEqual(expect.arrayContaining(kept.map((k) => expect.objectContaining(k))));
  });

  it('when Cambria 33 and Corinth are on ACR and then on Verra, then they are linked and, their periods following one another, raise no finding', async () => {
    for (const file of ['acr-projects.csv', 'acr-issuances.csv', 'mine-methane-verra-projects.json', 'mine-methane-verra-issuances.json']) {
      expect((await ingestFile(db, fixture(file))).status).toBe('committed');
    }
    const links = await rows<{ pair: string; source: string }>(db, sql`select least(a.key, b.key) || ' = ' || greatest(a.key, b.key) as pair, l.source::text as source
      from project_links l join projects a on a.id = l.from_project_id join projects b on b.id = l.to_project_id
      where l.relation = 'same-activity' and 'american-carbon-registry' in (a.registry_id, b.registry_id) order by 1`);
    // 559 and 573 declare ACR242 and ACR388; ACR1192, Corinth's second phase, is found by its name.
    expect(links).toEqual([
      { pair: 'american-carbon-registry:ACR1192 = verra:573', source: 'inferred' },
      { pair: 'american-carbon-registry:ACR242 = verra:559', source: 'declared' },
      { pair: 'american-carbon-registry:ACR388 = verra:573', source: 'declared' },
    ]);
    const summary = await runChecks(db);
    expect(summary.rules['same-activity-overlap']!.found).toBe(0);
    expect((await openFindings(db)).map((f) => f.kind)).toEqual(['unnetted-conversion', 'unnetted-conversion']);
  });

  it('when one of those Verra issuances had covered a year ACR credited, then the overlap is a finding with both sides\' issuances', async () => {
    // VCS 559's first vintage moved back into 2012, a year ACR242 also credited (a constructed variant).
    const shifted = JSON.stringify({ entities: [{
      ...(JSON.parse((await import('node:fs')).readFileSync(fixture('mine-methane-verra-issuances.json'), 'utf8')) as { entities: Record<string, unknown>[] }).entities[0],
      id: '110200009999999', entityId: 110200009999999, vintage: '2012', periodStartDate: '2012-01-01T00:00:00', periodEndDate: '2012-12-31T00:00:00',
      serialNo: '5999-400000001-400010000-VCS-VCU-997-VER-US-559-01012012-31122012-0', holdingQuantity: 10000,
    }] });
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const dir = mkdtempSync(`${(await import('node:os')).tmpdir()}/tally-`);
    writeFileSync(`${dir}/variant.json`, shifted);
    const summary = await ingestFile(db, `${dir}/variant.json`);
    expect(summary.check!.rules['same-activity-overlap']).toMatchObject({ found: 1, opened: 1 });
    const [finding] = (await openFindings(db)).filter((f) => f.kind === 'same-activity-overlap');
    // ACR242 issued 30,000 + 1,000 × 3 + (242 mod 97) = 33,048 for 2012; VCS 559 10,000: the smaller is at risk.
    expect(finding).toMatchObject({ tonnes: 10_000, inferred: false, projects: ['american-carbon-registry:ACR242', 'verra:559'] });
    expect(finding!.evidence).toMatchObject({
      period: { from: '2012-01-01', to: '2012-12-31' },
      link: { source: 'declared', field: 'otherGhgProgramName', projectId: 'ACR242' },
      projects: [{ project: '559', tonnes: 10_000 }, { project: 'ACR242', tonnes: 33_048 }],
    });
  });
});
