import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import { readArchiveLimits, type ArchiveLimits } from '../../schema/config.ts';
import { normalizeHeader, type CsvRow } from './csv.ts';
import { checkDeclaredSize, countInflated } from './zip-limits.ts';

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

/**
 * exceljs's streaming reader decodes each decompressed chunk of the workbook's XML on its own, so a
 * character whose UTF-8 bytes fall across two chunks becomes U+FFFD (Japanese text: `【J-VER】` read as
 * `���J-VER】` in every cell sharing that string). The shared strings, the workbook part (sheet names)
 * and each worksheet are handed to its parser as text decoded across chunk boundaries instead.
 */
function decodeAcrossChunks(reader: ExcelJS.stream.xlsx.WorkbookReader): void {
  type Entry = NodeJS.ReadableStream & { setEncoding(encoding: BufferEncoding): unknown };
  const r = reader as unknown as {
    _parseSharedStrings(entry: Entry): AsyncGenerator<unknown>;
    _parseWorkbook(entry: Entry): Promise<void>;
    _parseWorksheet(iterator: AsyncIterable<Buffer | string>, sheetNo: string): Generator<unknown>;
  };
  const sharedStrings = r._parseSharedStrings;
  const workbook = r._parseWorkbook;
  const worksheet = r._parseWorksheet;
  // exceljs 4.4's internals; another version without them is read as it reads.
  if (typeof sharedStrings !== 'function' || typeof workbook !== 'function' || typeof worksheet !== 'function') return;
  r._parseSharedStrings = function (entry) {
    entry.setEncoding('utf8');
    return sharedStrings.call(this, entry);
  };
  r._parseWorkbook = function (entry) {
    entry.setEncoding('utf8');
    return workbook.call(this, entry);
  };
  r._parseWorksheet = function (iterator, sheetNo) {
    return worksheet.call(this, utf8Text(iterator), sheetNo);
  };
}

/**
 * exceljs pauses the unzip stream while it reads an entry, and unzipper announces the end of the zip as
 * soon as it has read its input, not when its entries have been taken: entries found while exceljs was
 * busy (writing a sheet that precedes the shared strings to a temporary file) wait in the paused buffer,
 * exceljs sees the end, and they are never read. The workbook then loses its sheet names, or its shared
 * strings, depending on timing. Kept flowing, the unzip stream hands each entry over as it is found;
 * each entry's own data still waits for exceljs to read it. The same hook counts what the workbook
 * inflates to, so a workbook over the archive limits stops being read at its first byte past them.
 */
function keepZipFlowing(input: Readable, limits: ArchiveLimits): void {
  const pipe = input.pipe;
  input.pipe = function <T extends NodeJS.WritableStream>(this: Readable, zip: T, options?: { end?: boolean }): T {
    (zip as unknown as Readable).pause = function (this: Readable) {
      return this;
    };
    countInflated(zip as unknown as Readable, limits);
    return pipe.call(this, zip, options) as T;
  };
}

async function* utf8Text(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8');
  for await (const chunk of chunks) {
    const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    if (text) yield text;
  }
  const rest = decoder.decode();
  if (rest) yield rest;
}

/**
 * A date cell that arrived as its Excel serial number (days since 1899-12-30, the 1900 date system), as
 * `YYYY-MM-DD`; undefined for any other text. The streaming reader types a number as a date from the
 * cell's number format, which lives in `xl/styles.xml`; a workbook whose sheet precedes its styles in
 * the zip (UNFCCC's CDM issuance report) has its dates read before their format is known, so they come
 * out as numbers (`39395.4398529282` for 2007-11-09 10:33). Only values from 1927 on (10000) are read
 * this way, so a bare year such as `2026` is never taken for a date.
 */
export function excelSerialDate(text: string | undefined): string | undefined {
  const m = /^\s*(\d{5,7}(?:\.\d+)?)\s*$/.exec(text ?? '');
  if (!m) return undefined;
  const serial = Number(m[1]);
  if (serial < 10_000 || serial >= 2_958_466) return undefined;
  return new Date(Math.round((serial - 25_569) * 86_400_000)).toISOString().slice(0, 10);
}

export type SheetHeader = { sheet: string; row: number; headers: string[] };

export type XlsxReadOptions = {
  /** Read only this sheet (its name). */
  sheet?: string | undefined;
  /** Whether a row's normalized cells are the header the caller is looking for. */
  isHeader(cells: string[]): boolean;
};

type XlsxRowOptions = XlsxReadOptions & { onHeader?(header: SheetHeader): void; onSkippedSheet?(sheet: string): void };

/** One row of a worksheet as its cells' text (cell A first), with the sheet's name and the row's number. */
export type XlsxCells = { sheet: string; row: number; cells: string[] };

/**
 * Every row of every sheet (or of `sheet` only), as text, streamed: for layouts a header row alone does
 * not describe (a transposed table, several tables on one sheet). The archive limits apply as to any read.
 */
export async function* readXlsxCells(path: string | Readable, options: { sheet?: string | undefined } = {}): AsyncGenerator<XlsxCells> {
  // A reader left part-way (detection stops at the header) lets go of its file: exceljs never closes
  // a stream it was handed.
  const limits = readArchiveLimits();
  if (typeof path === 'string') await checkDeclaredSize(path, limits);
  const input = typeof path === 'string' ? createReadStream(path) : path;
  keepZipFlowing(input, limits);
  try {
    const reader = new ExcelJS.stream.xlsx.WorkbookReader(input, { sharedStrings: 'cache', hyperlinks: 'ignore', styles: 'cache', worksheets: 'emit', entries: 'emit' });
    decodeAcrossChunks(reader);
    for await (const worksheet of reader) {
      const sheet = (worksheet as unknown as { name: string }).name;
      const wanted = !options.sheet || sheet === options.sheet;
      for await (const row of worksheet as AsyncIterable<ExcelJS.Row>) {
        // A streamed sheet must still be read through. Empty cells are holes in exceljs's array: filled as "".
        if (wanted) yield { sheet, row: row.number, cells: Array.from((row.values as ExcelJS.CellValue[]).slice(1), cellText) };
      }
    }
  } finally {
    if (input !== path) input.destroy();
  }
}

/**
 * Rows below the first recognised header of each sheet, keyed by normalized header, with a locator
 * naming the sheet and row. Sheets with no recognised header in their first rows are skipped and
 * listed by `onSkippedSheet`.
 */
export async function* readXlsxRows(
  path: string | Readable,
  options: XlsxRowOptions,
): AsyncGenerator<CsvRow & { sheet: string }> {
  let current: { sheet: string; headers?: string[]; scanned: number } | undefined;
  const finish = () => {
    if (current && !current.headers) options.onSkippedSheet?.(current.sheet);
  };
  for await (const { sheet, row, cells } of readXlsxCells(path, { sheet: options.sheet })) {
    if (current?.sheet !== sheet) {
      finish();
      current = { sheet, scanned: 0 };
    }
    if (!current.headers) {
      if (current.scanned >= HEADER_SCAN_ROWS) continue;
      current.scanned += 1;
      const normalized = cells.map(normalizeHeader);
      if (options.isHeader(normalized)) {
        current.headers = normalized;
        options.onHeader?.({ sheet, row, headers: normalized });
      }
      continue;
    }
    if (cells.every((c) => c.trim() === '')) continue;
    const values: Record<string, string> = {};
    current.headers.forEach((header, i) => {
      if (header !== '') values[header] = cells[i] ?? '';
    });
    yield { line: row, sheet, values };
  }
  finish();
}
