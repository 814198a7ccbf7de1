import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toCsv } from '../../jobs/csv.ts';
import { cadtV1Workbook } from '../../jobs/cadt-export.ts';
import { safeCell } from '../../jobs/safe-cell.ts';
import { cellText } from '../../connectors/runtime/xlsx.ts';

// SECURITY.md, "Exports cannot run": every CSV and XLSX cell a spreadsheet would read as a formula
// (starting with =, +, -, @, a tab or a carriage return) is written with a leading apostrophe, unless
// the whole cell is a plain number. Checked for any text, through the real writers and a reader.

const RUNNABLE = /^[=+\-@\t\r]/;
const PLAIN_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** What a cell must be once written: either text a spreadsheet shows as text, or a plain number. */
const harmless = (cell: string) => !RUNNABLE.test(cell) || PLAIN_NUMBER.test(cell);

// Text built to hit the dangerous starts often, with the rest of Unicode mixed in.
const cellTextArbitrary = fc.oneof(
  fc.string(),
  fc.tuple(fc.constantFrom('=', '+', '-', '@', '\t', '\r', "'", '-2', '+1', '1'), fc.string()).map(([a, b]) => a + b),
  fc.double({ noNaN: true }).map(String),
  fc.integer().map(String),
);

describe('spreadsheet cells', () => {
  it('when text is made safe, then it runs in no spreadsheet, is changed only by a leading apostrophe, and plain numbers stay numbers', () => {
    fc.assert(fc.property(cellTextArbitrary, (text) => {
      const safe = safeCell(text);
      expect(harmless(safe)).toBe(true);
      expect(safe === text || safe === `'${text}`).toBe(true);
      if (PLAIN_NUMBER.test(text)) expect(safe).toBe(text);
    }), { numRuns: 2000 });
  });

  it('when the name seen in the attack is exported, then it is neutralized although it starts with a number', () => {
    expect(safeCell("-2+3+cmd|' /C calc'!A0")).toBe("'-2+3+cmd|' /C calc'!A0");
    expect(safeCell('=HYPERLINK("http://x")')).toBe('\'=HYPERLINK("http://x")');
    expect(safeCell('-12.5')).toBe('-12.5');
    expect(safeCell('2024-01-01')).toBe('2024-01-01');
  });

  it('when any rows are written as CSV and read back by a CSV parser, then every field is harmless and the text is kept', () => {
    fc.assert(fc.property(fc.array(fc.record({ name: cellTextArbitrary, note: cellTextArbitrary }), { minLength: 1, maxLength: 20 }), (rows) => {
      const read = parse(toCsv(rows), { columns: true, relax_quotes: true }) as Record<string, string>[];
      expect(read).toHaveLength(rows.length);
      read.forEach((row, i) => {
        for (const column of ['name', 'note'] as const) {
          expect(harmless(row[column]!)).toBe(true);
          expect(row[column]).toBe(safeCell(rows[i]![column]));
        }
      });
    }), { numRuns: 300 });
  });

  it('when any values are written to the CAD Trust v1 workbook and read back, then every cell is harmless', async () => {
    await fc.assert(fc.asyncProperty(fc.array(cellTextArbitrary, { minLength: 1, maxLength: 10 }), async (names) => {
      const workbook = cadtV1Workbook({ projects: names.map((projectName) => ({ projectName, projectId: projectName })) } as never);
      const copy = new ExcelJS.Workbook();
      await copy.xlsx.load(await workbook.xlsx.writeBuffer());
      const cells: string[] = [];
      copy.getWorksheet('projects')!.eachRow((row, n) => {
        if (n > 1) for (const value of (row.values as ExcelJS.CellValue[]).slice(1)) cells.push(cellText(value));
      });
      expect(cells.filter((c) => c !== '').length).toBeGreaterThanOrEqual(names.filter((n) => n !== '').length);
      for (const cell of cells) expect(harmless(cell)).toBe(true);
    }), { numRuns: 50 });
  });
});
