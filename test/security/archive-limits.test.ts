import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readXlsxRows } from '../../connectors/runtime/xlsx.ts';
import { ArchiveTooLarge } from '../../connectors/runtime/zip-limits.ts';
import { createApiKey } from '../../api/auth.ts';
import { organizations } from '../../schema/db/index.ts';
import { startApi } from '../helpers/api.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { workbookEntries, writeZip } from '../helpers/zip.ts';

// SECURITY.md, "Uploads are bounded": a workbook (a ZIP) is refused once what it inflates to passes
// TALLY_MAX_INFLATED_MB, or its parts pass TALLY_MAX_ZIP_ENTRIES, with a message naming the limit. The
// workbooks here are built in the test: a real sheet, then megabytes of whitespace that deflate to
// almost nothing. What is measured is bytes (declared, or inflated before the refusal), never time.

const LIMIT_MB = 8;
const MB = 1024 * 1024;
const HEADER = [['Name', 'Quantity'], ['Alpha', '10']];

async function rowsOf(path: string) {
  const found = [];
  for await (const row of readXlsxRows(path, { isHeader: (cells) => cells[0] === 'Name' })) found.push(row.values);
  return found;
}

/** The bytes a refusal says it inflated before stopping. */
function inflatedBeforeRefusal(error: unknown): number {
  const m = /\(([\d,]+) bytes inflated when reading stopped\)/.exec(String((error as Error).message));
  if (!m) throw new Error(`not a refusal while inflating: ${String(error)}`);
  return Number(m[1]!.replace(/,/g, ''));
}

describe('archive limits', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-zip-'));
  const saved = { ...process.env };
  let t: TestDatabase;

  beforeAll(async () => {
    process.env.TALLY_MAX_INFLATED_MB = String(LIMIT_MB);
    process.env.TALLY_MAX_ZIP_ENTRIES = '50';
    t = await openTestDatabase();
  });
  afterAll(async () => {
    process.env = saved;
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when a workbook is within the limits, then its rows are read', async () => {
    const path = join(dir, 'small.xlsx');
    await writeZip(path, workbookEntries(HEADER, 1 * MB));
    expect(await rowsOf(path)).toEqual([{ Name: 'Alpha', Quantity: '10' }]);
  });

  it('when a small file declares that it inflates past the limit, then it is refused before anything is inflated', async () => {
    const path = join(dir, 'declared.xlsx');
    await writeZip(path, workbookEntries(HEADER, 200 * MB));
    expect(statSync(path).size).toBeLessThan(1 * MB);
    const error = await rowsOf(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArchiveTooLarge);
    expect((error as Error).message).toMatch(/inflates to more than 8\.0 MB \(200\.0 MB declared\), the most Tally reads \(TALLY_MAX_INFLATED_MB\)/);
  });

  it('when a workbook forges small sizes in its headers, then reading stops at the first megabyte past the limit', async () => {
    const path = join(dir, 'forged.xlsx');
    await writeZip(path, workbookEntries(HEADER, 200 * MB, 2_000));
    const error = await rowsOf(path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArchiveTooLarge);
    const inflated = inflatedBeforeRefusal(error);
    expect(inflated).toBeGreaterThan(LIMIT_MB * MB);
    expect(inflated).toBeLessThan((LIMIT_MB + 1) * MB);
  });

  it('when a workbook holds more parts than allowed, then it is refused, saying which limit', async () => {
    const path = join(dir, 'entries.xlsx');
    const extra = Array.from({ length: 60 }, (_, i) => ({ name: `xl/media/part${i}.bin`, chunks: ['x'] }));
    await writeZip(path, [...workbookEntries(HEADER), ...extra]);
    await expect(rowsOf(path)).rejects.toThrow(/more than 50 parts \(65 declared\), the most Tally reads \(TALLY_MAX_ZIP_ENTRIES\)/);
  });

  it('when a bomb is uploaded through the API, then the upload is refused with the limit named and the server stays up', async () => {
    const [org] = await t.handle.db.insert(organizations).values({ slug: 'bomber', name: 'Bomber' }).returning();
    const key = (await createApiKey(t.handle.db, { name: 'p', role: 'publisher', organizationId: org!.id })).key;
    const path = join(dir, 'upload.xlsx');
    await writeZip(path, workbookEntries(HEADER, 200 * MB, 2_000));
    const api = await startApi(t.handle);
    try {
      const { readFileSync } = await import('node:fs');
      const result = await api.upload([{ name: 'upload.xlsx', content: readFileSync(path) }], { key });
      expect(result.data!.upload.accepted).toBe(false);
      expect(result.data!.upload.failure).toMatch(/TALLY_MAX_INFLATED_MB/);
      expect((await fetch(`${api.url}/health`)).status).toBe(200);
    } finally {
      await api.close();
    }
  });
});
