import { basename } from 'node:path';
import { identifyFormat, identifyJsonStream, matchFormat } from '../connectors/index.ts';
import { readCsvHeaders, readCsvRows } from '../connectors/runtime/csv.ts';
import { readJsonRecords } from '../connectors/runtime/json.ts';
import { readXlsxRows } from '../connectors/runtime/xlsx.ts';
import { fileRecords, mapFileRecord, type FileRow } from '../connectors/runtime/file-records.ts';
import type { FileFormat, RawRecord } from '../connectors/types.ts';
import type { Database } from '../schema/database.ts';
import { ingest, type IngestOptions, type IngestSummary } from './ingest.ts';

export type FileIngestOptions = IngestOptions & {
  /** Limit format detection to one registry's exports. */
  registry?: string | undefined;
  /** For a workbook: read this sheet only. */
  sheet?: string | undefined;
  /** Bytes of the file read so far, for progress bars (CSV). */
  onBytes?(bytesRead: number): void;
};

const isWorkbook = (path: string) => /\.xlsx$/i.test(path);

/** Which export a file is, from its header row (or an error listing the formats Tally expected). */
export async function detectFileFormat(path: string, registry?: string, sheet?: string): Promise<FileFormat> {
  if (isWorkbook(path)) {
    let found: FileFormat | undefined;
    const sheets: string[] = [];
    const rows = readXlsxRows(path, {
      sheet,
      isHeader: (cells) => Boolean((found = matchFormat(cells, registry))),
      onSkippedSheet: (name) => sheets.push(name),
    });
    for await (const _ of rows) break; // the header is all detection needs
    if (found) return found;
    // No sheet had a known header row: let identifyFormat explain what was expected.
    identifyFormat([], registry);
    throw new Error(`no sheet${sheet ? ` named "${sheet}"` : ''} has a header row Tally knows (sheets read: ${sheets.join(', ') || 'none'})`);
  }
  if (!/\.csv$/i.test(path)) throw new Error('expected a registry export as .csv or .xlsx, or a saved API response as .json');
  return identifyFormat(await readCsvHeaders(path), registry);
}

async function* fileRows(path: string, format: FileFormat, options: FileIngestOptions): AsyncGenerator<FileRow> {
  if (isWorkbook(path)) {
    const matches = (cells: string[]) => matchFormat(cells, format.registry)?.id === format.id;
    for await (const row of readXlsxRows(path, { sheet: options.sheet, isHeader: matches })) {
      yield { values: row.values, locator: `sheet "${row.sheet}" row ${row.line}`, context: { sheet: row.sheet } };
    }
    return;
  }
  for await (const row of readCsvRows(path, { onBytes: options.onBytes })) {
    yield { values: row.values, locator: `line ${row.line}`, context: {} };
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
    connector: `${connector.registry}-${stream.name}-json`,
    registry: connector.registry,
    source: basename(path),
    records: records(),
    map: (raw) => stream.map(raw),
  }, options);
  return { ...summary, format: `${connector.registry}-${stream.name}-json` };
}

/** The export or API stream a file is, by the same detection `ingestFile` uses; throws when it is none Tally reads. */
export async function identifyFile(path: string, registry?: string): Promise<{ format: string; stream: string }> {
  if (/\.json$/i.test(path)) {
    const { connector, stream } = await jsonStreamOf(path, registry);
    return { format: `${connector.registry}-${stream.name}-json`, stream: stream.name };
  }
  const format = await detectFileFormat(path, registry);
  return { format: format.id, stream: format.stream };
}

/**
 * Ingests one file as one upload batch: a registry export as CSV or as an XLSX workbook (whose header
 * may sit below a title block), or a saved API response as JSON.
 */
export async function ingestFile(db: Database, path: string, options: FileIngestOptions = {}): Promise<IngestSummary & { format: string }> {
  if (/\.json$/i.test(path)) return ingestJsonFile(db, path, options);
  const format = await detectFileFormat(path, options.registry, options.sheet);
  const summary = await ingest(db, {
    kind: 'upload',
    connector: format.id,
    registry: format.registry,
    source: basename(path),
    records: fileRecords(format, fileRows(path, format, options)),
    map: (raw) => mapFileRecord(format, raw),
  }, options);
  return { ...summary, format: format.id };
}
