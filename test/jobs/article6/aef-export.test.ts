import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AefNotFound, aefWorkbook, exportAef } from '../../../jobs/article6/aef-export.ts';
import { ingestAef } from '../../../jobs/article6/aef-upload.ts';
import { aefAuthorizedEntities, organizations } from '../../../schema/db/index.ts';
import type { Database } from '../../../schema/database.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/database.ts';

// AEF export: upload → export → upload gives the same data, as JSON and as a workbook; a private
// submission is exported only to its organization.

const fixture = new URL('../../fixtures/article6/ca0004-vut-2025.json', import.meta.url).pathname;

describe('AEF export', () => {
  let t: TestDatabase;
  let db: Database;
  let dir: string;
  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    dir = mkdtempSync(join(tmpdir(), 'tally-aef-export-'));
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when a submission is exported, then it holds every uploaded value, and uploading the export (JSON or workbook) changes nothing', async () => {
    await ingestAef(db, [fixture]);
    const exported = await exportAef(db, 'VUT', 2025);
    // Every value of the file comes back under its field name (numbers as numbers, the rest as text).
    const original = JSON.parse(readFileSync(fixture, 'utf8')) as Record<string, Record<string, unknown>[]>;
    for (const [table, list] of Object.entries(original)) {
      expect(exported[table]).toHaveLength(list.length);
      for (const [i, row] of list.entries()) {
        const given = Object.fromEntries(Object.entries(row).filter(([, v]) => v !== null));
        expect(exported[table]![i]).toMatchObject(given);
      }
    }
    const json = join(dir, 'export.json');
    writeFileSync(json, JSON.stringify(exported));
    const again = await ingestAef(db, [json]);
    const xlsx = join(dir, 'export.xlsx');
    await (await aefWorkbook(exported)).xlsx.writeFile(xlsx);
    const workbook = await ingestAef(db, [xlsx]);
    for (const summary of [again, workbook]) {
      expect(summary.status).toBe('committed');
      for (const c of Object.values(summary.tables)) expect(c).toMatchObject({ new: 0, changed: 0, removed: 0 });
    }
    expect(await exportAef(db, 'VUT', 2025)).toEqual(exported);
  });

  it('when a Party uploads privately, then only its organization can export the submission', async () => {
    const [org] = await db.insert(organizations).values({ slug: 'vanuatu-dcc', name: 'Vanuatu Department of Climate Change', country: 'VU' }).returning();
    const [other] = await db.insert(organizations).values({ slug: 'another-party', name: 'Another Party' }).returning();
    const doc = JSON.parse(readFileSync(fixture, 'utf8')) as Record<string, Record<string, unknown>[]>;
    doc.aefT1Submission![0]!.aefT1SubmissionReportYear = 2026;
    for (const row of doc.aefT3Actions!) row.aefT3ActionsDate = '2026-03-01';
    doc.caApplied![0]!.caAppliedYear = 2026;
    const path = join(dir, 'draft-2026.json');
    // The authorized entity was published before by another source: this upload keeps its own row, and
    // the published one stays as it was.
    writeFileSync(path, JSON.stringify(doc));
    await ingestAef(db, [path], { ownerOrganizationId: org!.id, isPrivate: true });
    const entities = await db.select().from(aefAuthorizedEntities).where(eq(aefAuthorizedEntities.entityId, 'VUT-AE-01'));
    expect(entities.map((e) => [e.ownerOrganizationId, e.isPrivate]).sort()).toEqual([[null, false], [org!.id, true]]);
    await expect(exportAef(db, 'VUT', 2026)).rejects.toBeInstanceOf(AefNotFound);
    await expect(exportAef(db, 'VUT', 2026, other!.id)).rejects.toBeInstanceOf(AefNotFound);
    const own = await exportAef(db, 'VUT', 2026, org!.id);
    expect(own.aefT3Actions).toHaveLength(2);
  });
});
