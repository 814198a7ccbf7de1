import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChecks } from '../../../jobs/integrity/index.ts';
import { ingestFile } from '../../../jobs/ingest-file.ts';
import { findings, findingStatusChanges, projects, unitBlocks } from '../../../schema/db/index.ts';
import { rows, type Database } from '../../../schema/database.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/database.ts';

// Rule 1, serial overlap: fires on units held twice inside one number space, and stays quiet on
// ranges that only touch, on equal numbers in another number space, and on the real samples.

const sample = (path: string) => new URL(`../../fixtures/registry-samples/${path}`, import.meta.url).pathname;

describe('serial overlap (rule 1)', () => {
  let t: TestDatabase;
  let db: Database;
  let projectId: number;
  const block = (key: string, start: number, end: number, numberSpace = 'verra:VER') => ({
    registryId: 'verra', projectId, blockKey: key, numberSpace, serialStart: start, serialEnd: end, serialRaw: key,
    quantity: end - start + 1, status: 'held' as const,
  });

  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    const [p] = await db.insert(projects).values({ registryId: 'verra', registryProjectId: '9001', name: 'Overlap test project' }).returning();
    projectId = p!.id;
  });
  afterAll(() => t.close());

  it('when two blocks of one number space share units, then one finding carries the overlap, both serials and the tonnes at risk', async () => {
    await db.insert(unitBlocks).values([block('A 1000-1999', 1000, 1999), block('B 1900-2499', 1900, 2499)]);
    const summary = await runChecks(db);
    expect(summary.rules['serial-overlap']).toMatchObject({ found: 1, opened: 1, tonnesAtRisk: 100 });
    const [f] = await db.select().from(findings);
    expect(f).toMatchObject({ kind: 'serial-overlap', status: 'open', severity: 'high', tonnesAtRisk: 100 });
    expect(f!.evidence).toMatchObject({ numberSpace: 'verra:VER', overlap: { start: 1900, end: 1999, units: 100 } });
    expect((f!.evidence as { blocks: { serial: string }[] }).blocks.map((b) => b.serial).sort()).toEqual(['A 1000-1999', 'B 1900-2499']);
  });

  it('when ranges only touch, or equal numbers sit in another number space, then nothing more is found', async () => {
    await db.insert(unitBlocks).values([
      block('C 2500-2999', 2500, 2999), // touches B (ends at 2499)
      block('D gs 1000-1999', 1000, 1999, 'gold-standard:GS1:2020:1'), // same numbers as A, another space
    ]);
    const summary = await runChecks(db);
    expect(summary.rules['serial-overlap']).toMatchObject({ found: 1, opened: 0, seenAgain: 1 });
    expect(await db.select().from(findings)).toHaveLength(1);
  });

  it('when the cause is gone (the registry split the block), then the finding is resolved, kept, and its history says so', async () => {
    await db.update(unitBlocks).set({ supersededInBatchId: null, serialEnd: 1899, quantity: 900 }).where(eq(unitBlocks.blockKey, 'A 1000-1999'));
    const summary = await runChecks(db);
    expect(summary.rules['serial-overlap']).toMatchObject({ found: 0, resolved: 1 });
    const [f] = await db.select().from(findings);
    expect(f!.status).toBe('resolved');
    expect(f!.resolvedAt).not.toBeNull();
    const history = await db.select({ from: findingStatusChanges.fromStatus, to: findingStatusChanges.toStatus }).from(findingStatusChanges).orderBy(findingStatusChanges.id);
    expect(history).toEqual([{ from: null, to: 'open' }, { from: 'open', to: 'resolved' }]);
  });

  it('when the five registries\' real samples are all in the ledger, then no serial overlaps', async () => {
    const files = ['verra/projects.csv', 'verra/transactions.csv', 'gold-standard/projects.csv', 'gold-standard/issuances.csv', 'gold-standard/retirements.csv',
      'american-carbon-registry/projects.csv', 'american-carbon-registry/issuances.csv', 'american-carbon-registry/retirements.csv', 'american-carbon-registry/cancellations.csv',
      'art-trees/projects.csv', 'art-trees/issuances.csv', 'art-trees/retirements.csv', 'art-trees/cancellations.csv',
      'climate-action-reserve/projects.csv', 'climate-action-reserve/issuances.csv', 'climate-action-reserve/retirements.csv', 'climate-action-reserve/cancellations.csv'];
    for (const file of files) await ingestFile(db, sample(file));
    const [blocks] = await rows<{ n: number }>(db, sql`select count(*)::int as n from unit_blocks where serial_range is not null`);
    // Block rows in the files: Verra 200, GS retirements 100, ACR 100 + 50, ART 8 + 3, CAR 100 + 50;
    // plus the 4 blocks of the cases above.
    expect(blocks!.n).toBe(611 + 4);
    const summary = await runChecks(db);
    expect(summary.rules['serial-overlap']!.found).toBe(0);
  });
});
