import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../api/auth.ts';
import { ingestFile } from '../../jobs/ingest-file.ts';
import { ingestFiles } from '../../jobs/ingest-files.ts';
import { organizations } from '../../schema/db/index.ts';
import { rows, type Database } from '../../schema/database.ts';
import { readCsv } from '../helpers/csv.ts';
import { startApi } from '../helpers/api.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';

// CAD Trust downloads over HTTP (/export/cadt-v1.json, /export/cadt-v1.xlsx, /export/cadt-v2.json): ART
// TREES' sample exports are public; organization A uploads the Article 6.4 mechanism's constructed v2
// upload through the GraphQL upload mutation, privately. What each caller downloads is checked against the
// fixture files and SQL over the ledger; nobody but A ever sees A's private rows.

const samples = (name: string) => new URL(`../fixtures/registry-samples/art-trees/${name}`, import.meta.url).pathname;
const cadt = (name: string) => new URL(`../fixtures/cad-trust/${name}`, import.meta.url).pathname;
const A64 = ['a64-pacm-10471.json', 'a64-pacm-10471-units.json', 'a64-pacm-10471-unit-labels.json'];

describe('CAD Trust export over HTTP', () => {
  let t: TestDatabase;
  let db: Database;
  let api: Awaited<ReturnType<typeof startApi>>;
  let dir: string;
  const keys = {} as { publisherA: string; readerB: string };

  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    dir = mkdtempSync(join(tmpdir(), 'tally-cadt-api-'));
    for (const f of ['projects.csv', 'issuances.csv', 'retirements.csv', 'cancellations.csv']) await ingestFile(db, samples(f), { check: false });
    const [a] = await db.insert(organizations).values({ slug: 'pacm-feed', name: 'Article 6.4 mechanism feed' }).returning();
    const [b] = await db.insert(organizations).values({ slug: 'other-gov', name: 'Another government' }).returning();
    keys.publisherA = (await createApiKey(db, { name: 'feed', role: 'publisher', organizationId: a!.id })).key;
    keys.readerB = (await createApiKey(db, { name: 'analyst', role: 'reader', organizationId: b!.id })).key;
    api = await startApi(t.handle);
  }, 120_000);
  afterAll(async () => {
    await api?.close();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const download = (path: string, key?: string) => fetch(`${api.url}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });

  it('when a publisher uploads CAD Trust v2 files through the upload mutation, then they are one private batch of its organization', async () => {
    const result = await api.upload(A64.map((name) => ({ name, content: readFileSync(cadt(name)) })), { key: keys.publisherA, private: true });
    expect(result.data?.upload).toMatchObject({ accepted: true, errors: [], failure: null });
    expect(result.data?.upload.files).toEqual([expect.objectContaining({ files: A64, format: 'cadt-v2', accepted: true })]);
    expect(result.data?.upload.batches).toEqual([expect.objectContaining({ status: 'committed', private: true, connector: 'cadt-v2', counts: expect.objectContaining({ projectsNew: 1, blocksNew: 5, issuancesNew: 1, labelsNew: 1 }) })]);
  });

  it('when anyone downloads ART TREES as CAD Trust v2, then it holds the registry\'s projects and units, and nothing private', async () => {
    const response = await download('/export/cadt-v2.json?registry=art-trees');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-disposition')).toBe('attachment; filename="tally-cadt-v2.json"');
    const document = await response.json() as Record<string, Record<string, unknown>[]>;
    expect(document.project!.map((p) => p.projectId).sort()).toEqual(readCsv(samples('projects.csv')).map((p) => p['Program ID']).sort());
    const moved = [...readCsv(samples('retirements.csv')), ...readCsv(samples('cancellations.csv'))];
    expect(document.unit!.map((u) => u.unitSerialId).sort()).toEqual(moved.map((r) => r['Credit Serial Numbers']).sort());
    expect(document.unit!.reduce((n, u) => n + Number(u.unitCount), 0)).toBe(moved.reduce((n, r) => n + Number(r['Quantity of Credits']), 0));
  });

  it('when another organization or an anonymous caller downloads everything, then the private A6.4 upload is not in it; its publisher gets it', async () => {
    for (const key of [undefined, keys.readerB]) {
      for (const path of ['/export/cadt-v2.json', '/export/cadt-v1.json', '/export/cadt-v2.json?registry=a64-mechanism', '/export/cadt-v1.json?organization=pacm-feed']) {
        const response = await download(path, key);
        expect(response.status).toBe(200);
        const text = await response.text();
        expect(text).not.toContain('10471');
        expect(text).not.toContain('6a40a6a4');
      }
    }
    const own = await download('/export/cadt-v2.json?organization=pacm-feed', keys.publisherA);
    const document = await own.json() as Record<string, Record<string, unknown>[]>;
    const units = (JSON.parse(readFileSync(cadt(A64[1]!), 'utf8')) as { data: Record<string, unknown>[] }).data;
    expect(document.project!.map((p) => p.projectId)).toEqual([JSON.parse(readFileSync(cadt(A64[0]!), 'utf8')).project[0].projectId]);
    expect(document.unit!.map((u) => u.cadTrustUnitId).sort()).toEqual(units.map((u) => u.cadTrustUnitId).sort());
    expect(document.unit!.reduce((n, u) => n + Number(u.unitCount), 0)).toBe(units.reduce((n, u) => n + Number(u.unitCount), 0));
  });

  it('when the publisher downloads its data as a v1 workbook, then it is one sheet per table, and Tally reads it back', async () => {
    const response = await download('/export/cadt-v1.xlsx?organization=pacm-feed&status=held,retired&vintage=2022', keys.publisherA);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const path = join(dir, 'a64.xlsx');
    writeFileSync(path, Buffer.from(await response.arrayBuffer()));
    const book = new ExcelJS.Workbook();
    await book.xlsx.readFile(path);
    expect(book.worksheets.map((w) => w.name)).toEqual(['projects', 'projectLocations', 'estimations', 'relatedProjects', 'coBenefits', 'issuances', 'units', 'labels', 'label_units']);
    const [expected] = await rows<{ n: number; t: number }>(db, sql`select count(*)::int as n, sum(quantity)::float8 as t from unit_blocks
      where registry_id = 'a64-mechanism' and status in ('held', 'retired') and vintage_year = 2022`);
    expect(book.getWorksheet('units')!.rowCount - 1).toBe(expected!.n);
    const fresh = await openTestDatabase();
    try {
      const [outcome] = await ingestFiles(fresh.handle.db, [path], { check: false });
      expect(outcome).toMatchObject({ kind: 'ledger', format: 'cadt-v1', accepted: true });
      const [back] = await rows<{ n: number; t: number }>(fresh.handle.db, sql`select count(*)::int as n, sum(quantity)::float8 as t from unit_blocks`);
      expect(back).toEqual(expected);
    } finally {
      await fresh.close();
    }
  });

  it('when a download is asked wrongly, then the answer says what is accepted', async () => {
    const bad = await download('/export/cadt-v2.json?status=active');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ errors: [{ message: expect.stringMatching(/^status: unknown "active"; expected one of: held, retired/), extensions: { code: 'BAD_USER_INPUT' } }] });
    expect((await download('/export/cadt-v2.json?vintage=20x2')).status).toBe(400);
    expect((await download('/export/cadt-v2.json?organization=nobody')).status).toBe(400);
    const unknown = await download('/export/cadt-v3.json');
    expect(unknown.status).toBe(404);
    expect((await unknown.json() as { errors: { message: string }[] }).errors[0]!.message).toContain('/export/cadt-v1.json, /export/cadt-v1.xlsx, /export/cadt-v2.json');
    expect((await download('/export/cadt-v2.json', 'tly_000000000000_not-a-key')).status).toBe(401);
  });
});
