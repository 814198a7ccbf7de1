import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import parquetjs from '@dsnp/parquetjs';
import { parse } from 'csv-parse/sync';
import { parquetMetadata } from 'hyparquet';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../api/auth.ts';
import { dumpCommand } from '../../cli/dump.ts';
import { ingestFiles } from '../../jobs/ingest-files.ts';
import { organizations } from '../../schema/db/index.ts';
import { rows } from '../../schema/database.ts';
import { startApi } from '../helpers/api.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';

// GET /data/*: whole-dataset downloads. The ledger holds real registry samples (Verra's projects and VCU
// export, Gold Standard's projects, issuances and retirements) and, privately, the Article 6.4
// mechanism's CAD Trust v2 records that an organization (Vanuatu) uploads as its own. The files are read
// back with a CSV parser and with a Parquet reader other than the writer (parquetjs), and their sums by
// transaction type are compared with `trends` for the same caller and, for Verra, with totals computed
// here from the export itself.

const fixture = (path: string) => new URL(`../fixtures/${path}`, import.meta.url).pathname;
const VERRA = ['registry-samples/verra/projects.csv', 'registry-samples/verra/transactions.csv'].map(fixture);
const GOLD_STANDARD = ['projects.csv', 'issuances.csv', 'retirements.csv'].map((f) => fixture(`registry-samples/gold-standard/${f}`));
const A64 = ['a64-pacm-10471.json', 'a64-pacm-10471-units.json', 'a64-pacm-10471-unit-labels.json'];

type Api = Awaited<ReturnType<typeof startApi>>;
type Credit = Record<string, string>;
type Totals = { issued: number; retired: number; cancelled: number };

const round = (n: number) => Math.round(n * 1000) / 1000;
const num = (text: string) => Number(text.replace(/,/g, ''));

function totalsOf(credits: Credit[]): Totals {
  const sum = (type: string) => round(credits.filter((c) => c.transaction_type === type).reduce((s, c) => s + Number(c.quantity), 0));
  return { issued: sum('issuance'), retired: sum('retirement'), cancelled: sum('cancellation') };
}

describe('whole-dataset downloads', () => {
  let t: TestDatabase;
  let api: Api;
  let vanuatuKey: string;
  const dir = mkdtempSync(join(tmpdir(), 'tally-downloads-test-'));

  const get = (file: string, key?: string, headers: Record<string, string> = {}) =>
    fetch(`${api.url}/data/${file}`, { headers: { ...(key ? { authorization: `Bearer ${key}` } : {}), ...headers } });
  const credits = async (key?: string) => parse(await (await get('credits.csv', key)).text(), { columns: true }) as Credit[];

  async function trends(key?: string): Promise<Totals> {
    const answer = await api.gql<{ trends: { points: Totals[] } }>('{ trends(by: YEAR, groupBy: [], netOfConversions: false) { points { issued retired cancelled } } }', {}, { key });
    expect(answer.errors).toBeUndefined();
    const points = answer.data!.trends.points;
    return { issued: round(points.reduce((s, p) => s + p.issued, 0)), retired: round(points.reduce((s, p) => s + p.retired, 0)), cancelled: round(points.reduce((s, p) => s + p.cancelled, 0)) };
  }

  beforeAll(async () => {
    t = await openTestDatabase();
    const db = t.handle.db;
    const [vanuatu] = await db.insert(organizations).values({ slug: 'vanuatu', name: 'Government of Vanuatu', country: 'VU' }).returning();
    vanuatuKey = (await createApiKey(db, { name: 'vanuatu', role: 'publisher', organizationId: vanuatu!.id })).key;
    for (const outcome of await ingestFiles(db, [...VERRA, ...GOLD_STANDARD], { check: false })) expect(outcome.failure).toBeUndefined();
    api = await startApi(t.handle);
    const uploaded = await api.upload(A64.map((f) => ({ name: f, content: readFileSync(fixture(`cad-trust/${f}`)) })), { key: vanuatuKey, private: true });
    expect(uploaded.data!.upload).toMatchObject({ accepted: true, errors: [] });
  }, 180_000);
  afterAll(async () => {
    await api?.close();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when anyone downloads credits.csv, then its sums by transaction type equal trends, and Verra\'s equal the VCU export\'s own totals', async () => {
    const rows = await credits();
    expect(totalsOf(rows)).toEqual(await trends());

    const vcu = parse(readFileSync(VERRA[1]!, 'utf8'), { columns: true }) as Record<string, string>[];
    const verra = rows.filter((c) => c.registry === 'verra');
    expect(totalsOf(verra).issued).toBe(round(vcu.reduce((s, r) => s + num(r['Quantity Issued']!), 0)));
    const closed = vcu.filter((r) => r['Retirement/Cancellation Date']);
    expect(round(totalsOf(verra).retired + totalsOf(verra).cancelled)).toBe(round(closed.reduce((s, r) => s + num(r['Quantity Issued']!), 0)));
    const retirement = verra.find((c) => c.transaction_type === 'retirement')!;
    expect(retirement).toMatchObject({ source: 'verra', number_space: expect.any(String), serial_start: expect.stringMatching(/^\d+$/) });
  });

  it('when an organization keeps records privately, then anonymous downloads hold none of them and its own key gets them, with sums equal to its trends', async () => {
    const anonymous = await credits();
    const mine = await credits(vanuatuKey);
    const privateRows = mine.filter((c) => c.source === 'upload:vanuatu');
    expect(privateRows.length).toBeGreaterThan(0);
    expect(anonymous.some((c) => c.source === 'upload:vanuatu' || privateRows.some((p) => p.project_key === c.project_key))).toBe(false);
    expect(mine.length).toBe(anonymous.length + privateRows.length);
    expect(totalsOf(mine)).toEqual(await trends(vanuatuKey));

    const projects = (key?: string) => get('projects.csv', key).then(async (r) => parse(await r.text(), { columns: true }) as Record<string, string>[]);
    const privateKeys = new Set(privateRows.map((c) => c.project_key));
    expect((await projects()).some((p) => privateKeys.has(p.project_key!))).toBe(false);
    expect((await projects(vanuatuKey)).filter((p) => privateKeys.has(p.project_key!)).length).toBe(privateKeys.size);
    const manifest = await (await get('manifest.json')).text();
    expect(manifest).not.toMatch(/vanuatu/i);
    // The version counts the batches the caller may see: the private one only in its organization's files.
    const [committed] = await rows<{ public: number; all: number }>(t.handle.db, sql`select count(*) filter (where not is_private)::int as public,
      count(*)::int as all from batches where status = 'committed'`);
    expect(committed!.all).toBeGreaterThan(committed!.public);
    expect((JSON.parse(manifest) as { ledger_version: number }).ledger_version).toBe(committed!.public);
    expect((await (await get('manifest.json', vanuatuKey)).json() as { ledger_version: number }).ledger_version).toBe(committed!.all);
  });

  it('when credits.parquet is read by another Parquet reader, then it holds the CSV\'s rows with typed columns and dictionary-encoded strings', async () => {
    const csvRows = await credits();
    const bytes = Buffer.from(await (await get('credits.parquet')).arrayBuffer());
    const path = join(dir, 'credits.parquet');
    writeFileSync(path, bytes);
    const reader = await parquetjs.ParquetReader.openFile(path);
    const fields = reader.getSchema().fields;
    expect([fields.quantity!.originalType, fields.transaction_date!.originalType, fields.serial_start!.primitiveType, fields.vintage!.primitiveType])
      .toEqual(['DECIMAL', 'DATE', 'INT64', 'INT32']);
    const read: Record<string, unknown>[] = [];
    const cursor = reader.getCursor();
    for (let row = await cursor.next(); row; row = await cursor.next()) read.push(row as Record<string, unknown>);
    await reader.close();
    expect(read.length).toBe(csvRows.length);
    const sums = (type: string) => round(read.filter((r) => r.transaction_type === type).reduce((s, r) => s + Number(r.quantity), 0));
    expect({ issued: sums('issuance'), retired: sums('retirement'), cancelled: sums('cancellation') }).toEqual(totalsOf(csvRows));
    // Row by row: the same serials and dates as the CSV.
    csvRows.forEach((c, n) => {
      const p = read[n]!;
      expect([p.serial_start === null ? '' : String(p.serial_start), p.transaction_date instanceof Date ? p.transaction_date.toISOString().slice(0, 10) : '']).toEqual([c.serial_start, c.transaction_date]);
    });

    const metadata = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
    const chunk = metadata.row_groups[0]!.columns.find((c) => c.meta_data?.path_in_schema[0] === 'transaction_type')!;
    expect(chunk.meta_data!.encodings).toContain('RLE_DICTIONARY');
  });

  it('when a file is asked again with its ETag, then 304 until a batch commits, and the manifest describes every file', async () => {
    const first = await get('credits.csv');
    const etag = first.headers.get('etag')!;
    await first.arrayBuffer();
    const manifest = await (await get('manifest.json')).json() as { generated_at: string; files: { name: string; rows: number; sha256: string; bytes: number }[]; sources: { registry: string; last_successful_pull: string | null; age_seconds: number | null }[]; columns: Record<string, { name: string; en: string; ja: string }[]> };
    expect(manifest.files.map((f) => f.name).sort()).toEqual(['credits.csv', 'credits.parquet', 'projects.csv', 'projects.parquet']);
    expect(etag).toBe(`"${manifest.files.find((f) => f.name === 'credits.csv')!.sha256}"`);
    expect(manifest.sources.find((s) => s.registry === 'verra')).toMatchObject({ last_successful_pull: expect.any(String), age_seconds: expect.any(Number) });
    expect(manifest.columns.credits!.every((c) => c.en && c.ja)).toBe(true);
    expect((await get('credits.csv', undefined, { 'if-none-match': etag })).status).toBe(304);

    // SocialCarbon's issuances land: a new version, so the file is sent again.
    await ingestFiles(t.handle.db, [fixture('registry-samples/socialcarbon/projects.json'), fixture('registry-samples/socialcarbon/issuances.json')], { check: false });
    const after = await get('credits.csv', undefined, { 'if-none-match': etag });
    expect(after.status).toBe(200);
    expect(after.headers.get('etag')).not.toBe(etag);
    const rows = parse(await after.text(), { columns: true }) as Credit[];
    expect(rows.some((c) => c.registry === 'socialcarbon')).toBe(true);
  });

  it('when tally dump writes the files, then they are the files the API serves, for the public and for an organization', async () => {
    for (const [organization, key] of [[undefined, undefined], ['vanuatu', vanuatuKey]] as const) {
      const out = join(dir, `dump-${organization ?? 'public'}`);
      expect(await dumpCommand(t.handle.db, ['--out', out, ...(organization ? ['--organization', organization] : [])])).toBe(0);
      const served = await (await get('manifest.json', key)).json() as { files: { name: string; sha256: string }[] };
      const dumped = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')) as { files: { name: string; sha256: string }[] };
      expect(dumped.files.map((f) => [f.name, f.sha256])).toEqual(served.files.map((f) => [f.name, f.sha256]));
    }
    expect(await dumpCommand(t.handle.db, ['--out', join(dir, 'nobody'), '--organization', 'nobody'])).toBe(2);
  });

  it('when a file that does not exist is asked for, then 404 names the files there are', async () => {
    const response = await get('everything.zip');
    expect(response.status).toBe(404);
    expect(await response.text()).toContain('/data/credits.parquet');
  });
});
