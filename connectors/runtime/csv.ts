import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { parse } from 'csv-parse';

// The one CSV reader. It streams (a million-row export is never held in memory), detects the
// encoding (UTF-8 with or without BOM, else Windows-1252 as in ACR's project report), normalizes
// headers, and gives each row the line number where it starts, for row-level errors.

export type CsvRow = { line: number; values: Record<string, string> };

/** `"Date \nIssued"` → `Date Issued`, `Program  Country` → `Program Country`. */
export function normalizeHeader(header: string): string {
  return header.replace(/^\uFEFF/, '').replace(/\s+/g, ' ').trim();
}

/** UTF-8 unless the first 64 KiB are not valid UTF-8, in which case Windows-1252. */
export async function detectEncoding(path: string): Promise<'utf-8' | 'windows-1252'> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    try {
      // stream: true, so a character cut at the 64 KiB boundary is not taken for an error.
      new TextDecoder('utf-8', { fatal: true }).decode(buffer.subarray(0, bytesRead), { stream: true });
      return 'utf-8';
    } catch {
      return 'windows-1252';
    }
  } finally {
    await handle.close();
  }
}

function decoder(encoding: string): Transform {
  const textDecoder = new TextDecoder(encoding);
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      callback(null, textDecoder.decode(chunk, { stream: true }));
    },
    flush(callback) {
      callback(null, textDecoder.decode());
    },
  });
}

export type CsvReadOptions = {
  /** Called as the file is read, with the bytes read so far (for progress bars). */
  onBytes?(bytesRead: number): void;
};

/** Raw records of a CSV file with the line each starts on, decoded and parsed as they stream. */
async function* csvRecords(path: string, options: CsvReadOptions = {}): AsyncGenerator<{ record: string[]; line: number }> {
  const encoding = await detectEncoding(path);
  const file = createReadStream(path);
  if (options.onBytes) file.on('data', () => options.onBytes!(file.bytesRead));
  const source: Readable = file.pipe(decoder(encoding));
  const parser = source.pipe(parse({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true }));
  let previousEnd = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const line = previousEnd + 1;
      previousEnd = info.lines;
      yield { record, line };
    }
  } finally {
    source.destroy();
  }
}

/** The header row of a CSV file, normalized, without reading the rest. */
export async function readCsvHeaders(path: string): Promise<string[]> {
  for await (const { record } of csvRecords(path)) return record.map(normalizeHeader);
  return [];
}

/**
 * Rows of a CSV file keyed by normalized header. Empty pandas index columns (`Unnamed: 19`) are
 * dropped; a row's `line` is the file line where it starts (quoted cells may span lines).
 */
export async function* readCsvRows(path: string, options: CsvReadOptions = {}): AsyncGenerator<CsvRow> {
  let headers: string[] | undefined;
  for await (const { record, line } of csvRecords(path, options)) {
    if (!headers) {
      headers = record.map(normalizeHeader);
      continue;
    }
    const values: Record<string, string> = {};
    headers.forEach((header, i) => {
      const value = record[i] ?? '';
      if (/^Unnamed: \d+$/.test(header) && value.trim() === '') return;
      values[header] = value;
    });
    yield { line, values };
  }
}
