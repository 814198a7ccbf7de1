import { createHash } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiKeys, batches, events, issuances, organizations, projects, unitBlocks,
} from '../../schema/db/index.ts';
import { rows, type Database } from '../../schema/database.ts';
import { openTestDatabase, sqlState, type TestDatabase } from '../helpers/database.ts';

const CHECK = '23514';
const UNIQUE = '23505';
const FOREIGN_KEY = '23503';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe('ledger constraints', () => {
  let t: TestDatabase;
  let db: Database;
  let projectId: number;
  let batchId: number;

  // A real Verra block: VCS 1340 (Ethiopia, Humbo), vintage 2020, 425 VCUs
  // (reference/registries.md §1.4: 941467431 − 941467007 + 1 = 425).
  const humboBlock = () => ({
    registryId: 'verra',
    projectId,
    blockKey: '19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1',
    numberSpace: 'verra',
    serialStart: 941467007,
    serialEnd: 941467431,
    serialRaw: '19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1',
    quantity: 425,
    vintageStart: '2020-01-01',
    vintageEnd: '2020-12-31',
    vintageYear: 2020,
    creditType: 'vcu',
    status: 'held' as const,
  });

  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    const [project] = await db.insert(projects).values({
      registryId: 'verra', registryProjectId: '1340', name: 'Humbo Ethiopia Assisted Natural Regeneration Project', country: 'ET',
    }).returning();
    projectId = project!.id;
    const [batch] = await db.insert(batches).values({ kind: 'upload', connector: 'test', source: 'constraints.test.ts' }).returning();
    batchId = batch!.id;
  });
  afterAll(() => t.close());

  it('when a project is stored, then its key is <registry>:<registry project id>', async () => {
    const [row] = await db.select({ key: projects.key }).from(projects).where(eq(projects.id, projectId));
    expect(row?.key).toBe('verra:1340');
  });

  it('when a quantity is negative or zero, then the issuance, block and event are refused', async () => {
    expect(await sqlState(db.insert(issuances).values({ registryId: 'verra', projectId, issuanceKey: 'neg', quantity: -5 }))).toBe(CHECK);
    expect(await sqlState(db.insert(unitBlocks).values({ ...humboBlock(), blockKey: 'neg', serialStart: null, serialEnd: null, numberSpace: null, quantity: -425 }))).toBe(CHECK);
    expect(await sqlState(db.insert(events).values({ registryId: 'verra', projectId, kind: 'issued', eventKey: 'zero', quantity: 0, batchId }))).toBe(CHECK);
  });

  it('when a serial range ends before it starts, then the block is refused', async () => {
    expect(await sqlState(db.insert(unitBlocks).values({ ...humboBlock(), blockKey: 'backwards', serialStart: 900, serialEnd: 400, quantity: 1 }))).toBe(CHECK);
  });

  it('when a quantity differs from the size of its serial range, then the block is refused', async () => {
    expect(await sqlState(db.insert(unitBlocks).values({ ...humboBlock(), blockKey: 'short', quantity: 424 }))).toBe(CHECK);
  });

  it('when a block names a project that does not exist, then it is refused', async () => {
    expect(await sqlState(db.insert(unitBlocks).values({ ...humboBlock(), blockKey: 'orphan', projectId: 987_654_321 }))).toBe(FOREIGN_KEY);
  });

  it('when a block names a registry that does not exist, then it is refused', async () => {
    expect(await sqlState(db.insert(unitBlocks).values({ ...humboBlock(), blockKey: 'nowhere', registryId: 'no-such-registry' }))).toBe(FOREIGN_KEY);
  });

  it('when a natural key repeats, then the second row is refused and an upsert on it adds nothing', async () => {
    await db.insert(unitBlocks).values(humboBlock());
    expect(await sqlState(db.insert(unitBlocks).values(humboBlock()))).toBe(UNIQUE);
    expect(await sqlState(db.insert(projects).values({ registryId: 'verra', registryProjectId: '1340', name: 'again' }))).toBe(UNIQUE);

    const again = await db.insert(unitBlocks).values(humboBlock()).onConflictDoNothing().returning();
    expect(again).toEqual([]);
    const [count] = await rows<{ n: number }>(db, sql`select count(*)::int as n from unit_blocks where registry_id = 'verra'`);
    expect(count?.n).toBe(1);
  });

  it('when a record is private, then it must have an owner organization', async () => {
    const [org] = await db.insert(organizations).values({ slug: 'vanuatu-dcc', name: 'Vanuatu Department of Climate Change', country: 'VU' }).returning();
    expect(await sqlState(db.insert(projects).values({ registryId: 'verra', registryProjectId: 'draft-1', name: 'draft', isPrivate: true }))).toBe(CHECK);
    const [owned] = await db.insert(projects).values({ registryId: 'verra', registryProjectId: 'draft-2', name: 'draft', isPrivate: true, ownerOrganizationId: org!.id }).returning();
    expect(owned?.isPrivate).toBe(true);
  });

  it('when a publisher key has no organization, then it is refused; keys are stored only as SHA-256', async () => {
    expect(await sqlState(db.insert(apiKeys).values({ role: 'publisher', name: 'loose', keyPrefix: 'tly_aaaa', keyHash: sha256('a') }))).toBe(CHECK);
    expect(await sqlState(db.insert(apiKeys).values({ role: 'reader', name: 'plain', keyPrefix: 'tly_bbbb', keyHash: 'not-a-hash' }))).toBe(CHECK);
  });

  it('when an event is written, then it can be neither changed nor deleted', async () => {
    const [event] = await db.insert(events).values({ registryId: 'verra', projectId, kind: 'issued', eventKey: 'issued:humbo', quantity: 425, batchId }).returning();
    await expect(db.update(events).set({ quantity: 1 }).where(eq(events.id, event!.id))).rejects.toThrow();
    await expect(db.delete(events).where(eq(events.id, event!.id))).rejects.toThrow();
    const [kept] = await db.select().from(events).where(eq(events.id, event!.id));
    expect(kept?.quantity).toBe(425);
  });

  it('when batches are committed, then they form one chain: a single genesis, one successor each', async () => {
    const seal = { status: 'committed' as const, finishedAt: new Date(Date.now() + 1000), recordsDigest: sha256('records') };
    const [genesis] = await db.insert(batches).values({ kind: 'sync', connector: 'test', source: 'a', ...seal, digest: sha256('g') }).returning();
    expect(await sqlState(db.insert(batches).values({ kind: 'upload', connector: 'test', source: 'b', ...seal, digest: sha256('g2') }))).toBe(UNIQUE);
    await db.insert(batches).values({ kind: 'sync', connector: 'test', source: 'c', ...seal, digest: sha256('c'), previousBatchId: genesis!.id });
    expect(await sqlState(db.insert(batches).values({ kind: 'sync', connector: 'test', source: 'd', ...seal, digest: sha256('d'), previousBatchId: genesis!.id }))).toBe(UNIQUE);
    expect(await sqlState(db.insert(batches).values({ kind: 'sync', connector: 'test', source: 'e', status: 'committed' }))).toBe(CHECK);
  });

  it('when serials are compared, then only blocks of the same number space overlap', async () => {
    // Same numbers in another number space (a per-issuance registry) must not collide with Verra's.
    const [gsProject] = await db.insert(projects).values({ registryId: 'gold-standard', registryProjectId: 'GS7495', name: 'Kenya cookstoves', country: 'KE' }).returning();
    await db.insert(unitBlocks).values({
      registryId: 'gold-standard', projectId: gsProject!.id, blockKey: 'gs-block', numberSpace: 'gold-standard:GS7495:2025:30645',
      serialStart: 941467000, serialEnd: 941467100, quantity: 101, status: 'held',
    });
    const overlapping = await rows<{ block_key: string }>(db, sql`select block_key from unit_blocks
      where number_space = 'verra' and serial_range && int8range(941467400, 941467500, '[]')`);
    expect(overlapping.map((r) => r.block_key)).toEqual([humboBlock().blockKey]);
    const touching = await rows(db, sql`select 1 from unit_blocks where number_space = 'verra' and serial_range && int8range(941467432, 941467500, '[]')`);
    expect(touching).toEqual([]);
    const containing = await rows<{ quantity: string }>(db, sql`select quantity::text from unit_blocks where number_space = 'verra' and serial_range @> 941467100::bigint`);
    expect(containing).toEqual([{ quantity: '425.000' }]);
  });
});
