import ExcelJS from 'exceljs';
import { normalizeHeader, type CsvRow } from './csv.ts';

// The one XLSX reader (exceljs, streaming: sheets and rows are read as they come, never the whole
// workbook). Registry workbooks put a title block above the header (UNFCCC's CDM reports, the
// Cercarbono "Projects Report"), so the header row is found, not assumed: the first row, within the
// first 30 of a sheet, that the caller recognises. Cells come out as text: dates as YYYY-MM-DD (with
// the time when there is one), formulas as their cached result, rich text joined.

const HEADER_SCAN_ROWS = 30;

/** A cell as the text a CSV export of the same sheet would hold. */
export function cellText(value: ExcelJS.CellValue): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) {
    const iso = value.toISOString();
    return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso.replace('.000Z', 'Z');
  }
  if (typeof value === 'object') {
    if ('result' in value) return cellText((value as ExcelJS.CellFormulaValue).result as ExcelJS.CellValue);
    if ('richText' in value) return (value as ExcelJS.CellRichTextValue).richText.map((r) => r.text).join('');
    if ('text' in value) return String((value as ExcelJS.CellHyperlinkValue).text);
    if ('error' in value) return '';
  }
  return String(value);
}

export type SheetHeader = { sheet: string; row: number; headers: string[] };

export type XlsxReadOptions = {
  /** Read only this sheet (its name). */
  sheet?: string | undefined;
  /** Whether a row's normalized cells are the header the caller is looking for. */
  isHeader(cells: string[]): boolean;
};

/**
 * Rows below the first recognised header of each sheet, keyed by normalized header, with a locator
 * naming the sheet and row. Sheets with no recognised header in their first rows are skipped and
 * listed by `onSkippedSheet`.
 */
export async function* readXlsxRows(
  path: string,
  options: XlsxReadOptions & { onHeader?(header: SheetHeader): void; onSkippedSheet?(sheet: string): void },
): AsyncGenerator<CsvRow & { sheet: string }> {
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(path, { sharedStrings: 'cache', hyperlinks: 'ignore', styles: 'cache', worksheets: 'emit', entries: 'emit' });
  for await (const worksheet of reader) {
    const sheet = (worksheet as unknown as { name: string }).name;
    const wanted = !options.sheet || sheet === options.sheet;
    let headers: string[] | undefined;
    let scanned = 0;
    for await (const row of worksheet as AsyncIterable<ExcelJS.Row>) {
      if (!wanted) continue; // a streamed sheet must still be read through
      const cells = (row.values as ExcelJS.CellValue[]).slice(1).map(cellText);
      if (!headers) {
        scanned += 1;
        const normalized = cells.map(normalizeHeader);
        if (options.isHeader(normalized)) {
          headers = normalized;
          options.onHeader?.({ sheet, row: row.number, headers });
        } else if (scanned >= HEADER_SCAN_ROWS) {
          continue;
        }
        continue;
      }
      if (cells.every((c) => c.trim() === '')) continue;
      const values: Record<string, string> = {};
      headers.forEach((header, i) => {
        if (header !== '') values[header] = cells[i] ?? '';
      });
      yield { line: row.number, sheet, values };
    }
    if (wanted && !headers) options.onSkippedSheet?.(sheet);
  }
}
