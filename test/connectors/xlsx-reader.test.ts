import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readXlsxRows } from '../../connectors/runtime/xlsx.ts';

// The streaming XLSX reader against the unzip race: a workbook whose sheet comes before its shared
// strings and workbook part (exceljs writes them in that order) used to lose those parts now and then,
// read after a detection pass that stops at the header, as every ingest does. The failure depends on
// timing (without the fix, a few reads in a thousand, and about every other run of this test failed),
// so the workbook is written and read many times; each read must have its sheet name, every row and
// every string.

const ROWS = [
  ['CDM-CER', 'BR', 17_220, '4406641 - 4423860'],
  ['CDM-tCER', 'IN', 1, '1 - 1'],
  ['CDM-lCER', 'CN', 42, '100 - 141'],
] as const;

describe('XLSX reader', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tally-xlsx-reader-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('when freshly written workbooks are read right after a read stopped at the header, then no read loses the sheet name, a row or a string', async () => {
    const isHeader = (cells: string[]) => cells.includes('Unit Type');
    const failures: string[] = [];
    for (let i = 0; i < 400; i++) {
      const book = new ExcelJS.Workbook();
      const sheet = book.addWorksheet('Issuances');
      sheet.addRow(['Unit Type', 'Party', 'Total', 'Serial Range']);
      for (const row of ROWS) sheet.addRow([...row]);
      const path = join(dir, `issuances-${i}.xlsx`);
      await book.xlsx.writeFile(path);
      try {
        for await (const _ of readXlsxRows(path, { isHeader })) break;
        const read = [];
        for await (const row of readXlsxRows(path, { isHeader })) read.push([row.sheet, ...Object.values(row.values)]);
        const expected = ROWS.map((r) => ['Issuances', ...r.map(String)]);
        if (JSON.stringify(read) !== JSON.stringify(expected)) failures.push(`read ${i}: ${JSON.stringify(read)}`);
      } catch (error) {
        failures.push(`read ${i}: ${(error as Error).message}`);
      }
      rmSync(path);
    }
    expect(failures).toEqual([]);
  });
});
