import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batches, projects, rawRecords } from '../../schema/db/index.ts';
import { rows, type Database } from '../../schema/database.ts';
import { writeRows, type WriteSpec } from '../../jobs/ledger-writer.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';

// The ledger writer sends each chunk as one JSON document unpacked in SQL. Values that JSON, array
// literals and PostgreSQL's text input each treat specially must come back exactly as given.
// The rows are made up here to hold every such character.

const awkward = ['tab\there', 'line\nbreak', 'carriage\rreturn', 'back\\slash', '\\N', 'quote "double"', "quote 'single'", 'comma, {braces}', 'NULL', '', 'Δ 日本語 🌱'];

const rawSpec: WriteSpec = { table: rawRecords, key: ['contentHash', 'stream', 'registryId', 'ownerOrganizationId'] };
const projectSpec: WriteSpec = { table: projects, key: ['registryId', 'registryProjectId', 'ownerOrganizationId'], merge: { name: 'coalesce', alternateIds: 'coalesce' } };

describe('ledger writer', () => {
  let t: TestDatabase;
  let db: Database;
  let batchId: number;

  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    const [batch] = await db.insert(batches).values({ kind: 'upload', connector: 'test', source: 'ledger-writer.test.ts' }).returning();
    batchId = batch!.id;
  });
  afterAll(() => t.close());

  const raws = () => awkward.map((text, i) => ({
    batchId, registryId: 'verra', stream: 'test', source: `file\t${i}.csv`, locator: text, recordKey: null,
    contentHash: i.toString(16).padStart(64, '0'), payload: { text, nested: { list: [text, null, 1.5] } }, ownerOrganizationId: null, isPrivate: false,
  }));
  const projectRows = () => awkward.map((text, i) => ({
    registryId: 'verra', registryProjectId: `P-${i}`, name: text || 'unnamed', alternateIds: [text, `${text}-2`], ownerOrganizationId: null, isPrivate: false, lastBatchId: batchId,
  }));

  it('when rows hold tabs, line breaks, backslashes, quotes and \\N, then they are stored exactly as given, and writing them again in the same transaction changes nothing', async () => {
    const outcome = await db.transaction(async (tx) => {
      const first = { raw: await writeRows(tx, rawSpec, raws()), project: await writeRows(tx, projectSpec, projectRows()) };
      const again = { raw: await writeRows(tx, rawSpec, raws()), project: await writeRows(tx, projectSpec, projectRows()) };
      return { first, again };
    });
    expect(outcome.first.raw.inserted).toBe(awkward.length);
    expect(outcome.first.project.inserted).toBe(awkward.length);
    expect([outcome.again.raw.inserted, outcome.again.raw.updated, outcome.again.project.inserted, outcome.again.project.updated]).toEqual([0, 0, 0, 0]);
    expect(outcome.again.project.ids).toEqual(outcome.first.project.ids);

    const storedRaw = await rows<{ source: string; locator: string; payload: unknown }>(db, sql`select source, locator, payload from raw_records where stream = 'test' order by content_hash`);
    expect(storedRaw).toEqual(raws().map((r) => ({ source: r.source, locator: r.locator, payload: r.payload })));
    const storedProjects = await rows<{ name: string; alternate_ids: string[] }>(db, sql`select name, alternate_ids from projects
      where registry_project_id like 'P-%' order by length(registry_project_id), registry_project_id`);
    expect(storedProjects).toEqual(projectRows().map((p) => ({ name: p.name, alternate_ids: p.alternateIds })));
  });

  it('when a later write leaves a coalesced list empty, then the stored list stays, and a null array element is kept as null', async () => {
    await db.transaction(async (tx) => {
      await writeRows(tx, projectSpec, [{ registryId: 'verra', registryProjectId: 'P-0', name: awkward[0], alternateIds: [], ownerOrganizationId: null, isPrivate: false, lastBatchId: batchId }]);
      await writeRows(tx, projectSpec, [{ registryId: 'verra', registryProjectId: 'P-null', name: 'with a null', alternateIds: ['a', null], ownerOrganizationId: null, isPrivate: false, lastBatchId: batchId }]);
    });
    // Elements compared in SQL: postgres.js reads a NULL element of a text[] back as the text "NULL".
    const stored = await rows<{ registry_project_id: string; name: string; first: string; second: string | null; second_null: boolean }>(db, sql`
      select registry_project_id, name, alternate_ids[1] as first, alternate_ids[2] as second, alternate_ids[2] is null as second_null
      from projects where registry_project_id in ('P-0', 'P-null') order by registry_project_id`);
    expect(stored).toEqual([
      { registry_project_id: 'P-0', name: awkward[0], first: awkward[0], second: `${awkward[0]}-2`, second_null: false },
      { registry_project_id: 'P-null', name: 'with a null', first: 'a', second: null, second_null: true },
    ]);
  });
});
