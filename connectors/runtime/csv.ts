import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import { parse } from 'csv-parse';
import { windows1252Decoder } from './windows-1252.ts';

// The one CSV reader. It streams (a million-row export is never held in memory), detects the
// encoding (UTF-8 with or without BOM, else Windows-1252 as in ACR's project report), normalizes
// headers, and gives each row the line number where it starts, for row-level errors.

export type CsvRow = { line: number; values: Record<string, string> };

/** `"Date \nIssued"` → `Date Issued`, `Program  Country` → `Program Country`. */
export function normalizeHeader(header: string): string {
  return header.replace(/^\uFEFF/, '').replace(/\s+/g, ' ').trim();
}

const SNIFF_BYTES = 64 * 1024;

/** UTF-8 unless the first 64 KiB are not valid UTF-8, in which case Windows-1252. */
export async function detectEncoding(path: string): Promise<'utf-8' | 'windows-1252'> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(SNIFF_BYTES);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return encodingOf(buffer.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

export class EncodingError extends Error {
  readonly code = 'unreadable-encoding';
}

function encodingOf(head: Uint8Array): 'utf-8' | 'windows-1252' {
  // UTF-16 (what Excel's "Unicode text" writes) and binary files would decode into noise that matches
  // no header; say what the file is instead.
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) {
    throw new EncodingError('the file is UTF-16 text; save it as CSV UTF-8 (or Windows-1252) and try again');
  }
  if (head.includes(0)) throw new EncodingError('the file holds binary data, not CSV text (is it a workbook saved with a .csv name?)');
  try {
    // stream: true, so a character cut at the 64 KiB boundary is not taken for an error.
    new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(0, SNIFF_BYTES), { stream: true });
    return 'utf-8';
  } catch {
    return 'windows-1252';
  }
}

/**
 * A download's bytes as text, decoded by the rule files follow (UTF-8, else Windows-1252), for sources
 * that declare no charset: CAR's APX export sends Windows-1252 unlabelled, which an HTTP client's
 * UTF-8 default turns into U+FFFD, unrecoverably.
 */
export function decodeCsvBytes(bytes: Uint8Array): string {
  return textDecoder(encodingOf(bytes)).decode(bytes);
}

function textDecoder(encoding: 'utf-8' | 'windows-1252') {
  return encoding === 'utf-8' ? new TextDecoder('utf-8', { fatal: true }) : windows1252Decoder();
}

function decoder(encoding: 'utf-8' | 'windows-1252'): Transform {
  // A file that starts as UTF-8 must stay UTF-8: bytes that are not would become U+FFFD silently.
  const decoding = textDecoder(encoding);
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        callback(null, decoding.decode(chunk, { stream: true }));
      } catch {
        callback(new EncodingError('the file starts as UTF-8 but has bytes further on that are not UTF-8 (mixed encodings); re-save it in one encoding'));
      }
    },
    flush(callback) {
      callback(null, decoding.decode());
    },
  });
}

export type CsvReadOptions = {
  /** Called as the file is read, with the bytes read so far (for progress bars). */
  onBytes?(bytesRead: number): void;
};

type CsvRecord = { record: string[]; line: number };

/** Raw records of a CSV file with the line each starts on, decoded and parsed as they stream. */
async function* csvRecords(path: string, options: CsvReadOptions = {}): AsyncGenerator<CsvRecord> {
  const encoding = await detectEncoding(path);
  const file = createReadStream(path);
  if (options.onBytes) file.on('data', () => options.onBytes!(file.bytesRead));
  const decoded = file.pipe(decoder(encoding));
  file.on('error', (error) => decoded.destroy(error)); // pipe() does not pass errors on
  yield* parsedRecords(decoded);
}

/**
 * The longest row Tally reads, in characters. Registry exports' rows are a few kilobytes; a file with a
 * longer row (a header of a million columns) is refused as soon as the row passes it, instead of being
 * parsed whole.
 */
export const MAX_CSV_RECORD_CHARS = 1024 * 1024;

/** Raw records of decoded CSV text, with the line each starts on. */
async function* parsedRecords(source: Readable): AsyncGenerator<CsvRecord> {
  const parser = source.pipe(parse({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true, max_record_size: MAX_CSV_RECORD_CHARS }));
  source.on('error', (error) => parser.destroy(error));
  let previousEnd = 0;
  // csv-parse counts a CRLF inside a quoted cell as two lines (CR and LF each end one); files with
  // line breaks in their cells (the J-Credit list: `プロジェクト\r\n番号`) would get line numbers that
  // drift further with every such cell. They are counted once here.
  let overcounted = 0;
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const line = previousEnd + 1;
      for (const field of record) if (field.includes('\r\n')) overcounted += field.split('\r\n').length - 1;
      previousEnd = info.lines - overcounted;
      yield { record, line };
    }
  } catch (error) {
    if (error instanceof EncodingError) throw new EncodingError(`after line ${previousEnd}: ${error.message}`);
    if ((error as { code?: string }).code === 'CSV_MAX_RECORD_SIZE') {
      throw new Error(`line ${previousEnd + 1}: the row is longer than ${MAX_CSV_RECORD_CHARS.toLocaleString('en-US')} characters, the longest Tally reads; no registry export has rows this long`);
    }
    throw error;
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
  yield* keyedRows(csvRecords(path, options));
}

/**
 * Rows of CSV text already in memory (an API download, decoded with `decodeCsvBytes`), keyed and
 * numbered exactly as `readCsvRows` does for a file, so a download and the same export saved to disk
 * give the same rows.
 */
export async function* readCsvText(text: string): AsyncGenerator<CsvRow> {
  yield* keyedRows(parsedRecords(Readable.from([text])));
}

async function* keyedRows(records: AsyncIterable<CsvRecord>): AsyncGenerator<CsvRow> {
  let headers: string[] | undefined;
  for await (const { record, line } of records) {
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
