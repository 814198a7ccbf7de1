import { basename } from 'node:path';
import { fittingFormats, identifyFormat, identifyJsonStream, type FormatChoice } from '../connectors/index.ts';
import { readCsvHeaders, readCsvRows } from '../connectors/runtime/csv.ts';
import { readJsonRecords } from '../connectors/runtime/json.ts';
import { readXlsxRows } from '../connectors/runtime/xlsx.ts';
import { matchColumns, type ColumnMatch } from '../connectors/runtime/columns.ts';
import { fileRecords, mapFileRecord, type FileRow } from '../connectors/runtime/file-records.ts';
import type { RawRecord } from '../connectors/types.ts';
import type { Database } from '../schema/database.ts';
import { ingest, type IngestOptions, type IngestSummary } from './ingest.ts';

export type FileIngestOptions = IngestOptions & {
  /** Limit format detection to one registry's exports. */
  registry?: string | undefined;
  /** Read the file as this format (its id), when its columns fit several equally. */
  format?: string | undefined;
  /** For a workbook: read this sheet only. */
  sheet?: string | undefined;
  /** Bytes of the file read so far, for progress bars (CSV). */
  onBytes?(bytesRead: number): void;
};

const isWorkbook = (path: string) => /\.xlsx$/i.test(path);

/**
 * Which export a file is, from its header row (and, where two exports name their columns alike, its
 * first row), with how its columns meet the format's; or an error saying what Tally expected.
 */
export async function detectFileFormat(path: string, choice: FormatChoice = {}, sheet?: string): Promise<ColumnMatch> {
  if (isWorkbook(path)) {
    const header: { cells?: string[] } = {};
    const sheets: string[] = [];
    const rows = readXlsxRows(path, {
      sheet,
      isHeader: (cells) => fittingFormats(cells, choice).length > 0,
      onHeader: (h) => { header.cells = h.headers; },
      onSkippedSheet: (name) => sheets.push(name),
    });
    let first: Record<string, string> | undefined;
    for await (const row of rows) {
      first = row.values;
      break;
    }
    if (header.cells) return identifyFormat(header.cells, choice, first);
    // No sheet had a known header row: let identifyFormat explain what was expected.
    identifyFormat([], choice);
    throw new Error(`no sheet${sheet ? ` named "${sheet}"` : ''} has a header row Tally knows (sheets read: ${sheets.join(', ') || 'none'})`);
  }
  if (!/\.csv$/i.test(path)) throw new Error('expected a registry export as .csv or .xlsx, or a saved API response as .json');
  const headers = await readCsvHeaders(path);
  let first: Record<string, string> | undefined;
  for await (const row of readCsvRows(path)) {
    first = row.values;
    break;
  }
  return identifyFormat(headers, choice, first);
}

async function* fileRows(path: string, detected: ColumnMatch, options: FileIngestOptions): AsyncGenerator<FileRow> {
  const { format } = detected;
  if (isWorkbook(path)) {
    // Each sheet with this export's header row is read under its own header's columns.
    const bySheet = new Map<string, ColumnMatch>();
    const fits = (cells: string[]) => matchColumns(format, cells).missing.length === 0;
    for await (const row of readXlsxRows(path, { sheet: options.sheet, isHeader: fits, onHeader: (h) => bySheet.set(h.sheet, matchColumns(format, h.headers)) })) {
      yield { values: row.values, locator: `sheet "${row.sheet}" row ${row.line}`, context: { sheet: row.sheet }, columns: bySheet.get(row.sheet)! };
    }
    return;
  }
  for await (const row of readCsvRows(path, { onBytes: options.onBytes })) {
    yield { values: row.values, locator: `line ${row.line}`, context: {}, columns: detected };
  }
}

/** The API stream whose responses a saved JSON file holds, from its first record. */
async function jsonStreamOf(path: string, registry?: string): Promise<ReturnType<typeof identifyJsonStream>> {
  for await (const record of readJsonRecords(path)) return identifyJsonStream(record.value, registry);
  throw new Error('the file holds no records');
}

/**
 * A saved API response (a JSON array, or an envelope holding one) ingested through the stream that
 * reads such responses: the same records a sync would store, without a registry total to reconcile.
 */
async function ingestJsonFile(db: Database, path: string, options: FileIngestOptions): Promise<IngestSummary & { format: string }> {
  const { connector, stream } = await jsonStreamOf(path, options.registry);
  async function* records(): AsyncGenerator<RawRecord> {
    for await (const record of readJsonRecords(path)) {
      yield { stream: stream.name, locator: `item ${record.index}`, payload: record.value };
    }
  }
  const summary = await ingest(db, {
    kind: 'upload',
    connector: `${connector.registry.id}-${stream.name}-json`,
    registry: connector.registry.id,
    source: basename(path),
    records: records(),
    map: (raw) => stream.map(raw),
  }, options);
  return { ...summary, format: `${connector.registry.id}-${stream.name}-json` };
}

/** The export or API stream a file is, by the same detection `ingestFile` uses; throws when it is none Tally reads. */
export async function identifyFile(path: string, registry?: string): Promise<{ format: string; stream: string }> {
  if (/\.json$/i.test(path)) {
    const { connector, stream } = await jsonStreamOf(path, registry);
    return { format: `${connector.registry.id}-${stream.name}-json`, stream: stream.name };
  }
  const { format } = await detectFileFormat(path, { registry });
  return { format: format.id, stream: format.stream };
}

/**
 * Ingests one file as one upload batch: a registry export as CSV or as an XLSX workbook (whose header
 * may sit below a title block), or a saved API response as JSON.
 */
export async function ingestFile(db: Database, path: string, options: FileIngestOptions = {}): Promise<IngestSummary & { format: string }> {
  if (/\.json$/i.test(path)) return ingestJsonFile(db, path, options);
  const detected = await detectFileFormat(path, { registry: options.registry, format: options.format }, options.sheet);
  const { format } = detected;
  const summary = await ingest(db, {
    kind: 'upload',
    connector: format.id,
    registry: format.registry,
    source: basename(path),
    // The batch says which export and generation the file was read as, and which columns nobody reads.
    details: { format: format.id, generations: detected.generations, unreadColumns: detected.unread },
    records: fileRecords(format, fileRows(path, detected, options)),
    map: mapFileRecord,
  }, options);
  return { ...summary, format: format.id };
}
