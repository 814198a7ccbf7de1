import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectFileFormat, ingestFile } from '../../jobs/ingest-file.ts';
import { rows } from '../../schema/database.ts';
import { readCsv } from '../helpers/csv.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';

// Workbooks: the header is found below a title block, on the sheet that has it, and the rows read as
// the same export in CSV would. The workbook is written here from the real Verra VCU sample, as a
// registry's download would lay it out; the CDM workbook is real (UNFCCC's administrative cancellations).

const verraCsv = new URL('../fixtures/registry-samples/verra/transactions.csv', import.meta.url);
const cdmWorkbook = new URL('../fixtures/cdm/Admincancellations_31082023.xlsx', import.meta.url).pathname;

describe('XLSX exports', () => {
  let t: TestDatabase;
  let dir: string;
  let workbook: string;
  const csv = readCsv(verraCsv);

  beforeAll(async () => {
    t = await openTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'tally-xlsx-'));
    workbook = join(dir, 'vcus.xlsx');
    const book = new ExcelJS.Workbook();
    const notes = book.addWorksheet('About');
    notes.addRow(['This workbook lists VCUs.']);
    const sheet = book.addWorksheet('VCUs');
    sheet.addRow(['Verra Registry: VCU search export']);
    sheet.addRow(['Downloaded 2026-04-10']);
    sheet.addRow([]);
    const headers = Object.keys(csv[0]!);
    sheet.addRow(headers);
    for (const row of csv) {
      sheet.addRow(headers.map((h) => {
        const value = row[h] ?? '';
        // Excel holds dates as dates and quantities as numbers, not the CSV's text.
        if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return new Date(`${value}T00:00:00Z`);
        if (/^[\d,]+$/.test(value) && h.includes('Quantity')) return Number(value.replace(/,/g, ''));
        return value;
      }));
    }
    await book.xlsx.writeFile(workbook);
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when a workbook has a title block above the header and another sheet before it, then the export is recognised and read whole', async () => {
    expect((await detectFileFormat(workbook)).format.id).toBe('verra-vcu-export');
    const summary = await ingestFile(t.handle.db, workbook);
    expect(summary).toMatchObject({ status: 'committed', format: 'verra-vcu-export', rowsRead: csv.length, rowsRejected: 0 });
    const num = (v: string | undefined) => Number((v ?? '').replace(/,/g, ''));
    const [ledger] = await rows<{ blocks: number; tonnes: string; retired: string }>(t.handle.db, sql`select count(*)::int as blocks,
      sum(quantity)::bigint::text as tonnes, coalesce(sum(quantity) filter (where status = 'retired'), 0)::bigint::text as retired from unit_blocks`);
    expect(ledger).toEqual({
      blocks: csv.length,
      tonnes: String(csv.reduce((s, r) => s + num(r['Quantity Issued']), 0)),
      retired: String(csv.filter((r) => r['Retirement/Cancellation Date']).reduce((s, r) => s + num(r['Quantity Issued']), 0)),
    });
    // Row errors name the sheet and the spreadsheet row.
    const [raw] = await rows<{ locator: string }>(t.handle.db, sql`select locator from raw_records order by id limit 1`);
    expect(raw!.locator).toBe('sheet "VCUs" row 5');
  });

  it('when the same rows arrive as CSV after the workbook, then nothing changes: both read as one export', async () => {
    const summary = await ingestFile(t.handle.db, verraCsv.pathname);
    expect(summary.blocks).toMatchObject({ new: 0, changed: 0 });
    expect(summary.events.new).toBe(0);
  });

  it('when a sheet is named, then only that sheet is read', async () => {
    await expect(detectFileFormat(workbook, {}, 'About')).rejects.toThrow(/no sheet named "About" has a header row Tally knows|match no export/);
    expect((await detectFileFormat(workbook, {}, 'VCUs')).format.id).toBe('verra-vcu-export');
  });

  it("when a workbook is no export of the registry named, then the error lists that registry's formats; unnamed, it is found", async () => {
    await expect(detectFileFormat(cdmWorkbook, { registry: 'verra' })).rejects.toThrow(/expected one of:[\s\S]*verra-vcu-export/);
    expect((await detectFileFormat(cdmWorkbook)).format.id).toBe('cdm-administrative-cancellations');
  });
});
