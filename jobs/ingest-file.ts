import { basename } from 'node:path';
import { fileFormats, identifyFormat } from '../connectors/index.ts';
import { readCsvHeaders, readCsvRows } from '../connectors/runtime/csv.ts';
import { readXlsxRows } from '../connectors/runtime/xlsx.ts';
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

/** The most specific known format whose required columns a header row has, among one registry's if given. */
function formatForHeader(cells: readonly string[], registry?: string): FileFormat | undefined {
  const present = new Set(cells);
  return fileFormats
    .filter((f) => (!registry || f.registry === registry) && f.requiredHeaders.every((h) => present.has(h)))
    .sort((a, b) => b.requiredHeaders.length - a.requiredHeaders.length)[0];
}

/** Which export a file is, from its header row (or an error listing the formats Tally expected). */
export async function detectFileFormat(path: string, registry?: string, sheet?: string): Promise<FileFormat> {
  if (isWorkbook(path)) {
    let found: FileFormat | undefined;
    const sheets: string[] = [];
    const rows = readXlsxRows(path, {
      sheet,
      isHeader: (cells) => Boolean((found = formatForHeader(cells, registry))),
      onSkippedSheet: (name) => sheets.push(name),
    });
    for await (const _ of rows) break; // the header is all detection needs
    if (found) return found;
    // No sheet had a known header row: let identifyFormat explain what was expected.
    identifyFormat([], registry);
    throw new Error(`no sheet${sheet ? ` named "${sheet}"` : ''} has a header row Tally knows (sheets read: ${sheets.join(', ') || 'none'})`);
  }
  if (!/\.csv$/i.test(path)) throw new Error('expected a registry export as .csv or .xlsx');
  return identifyFormat(await readCsvHeaders(path), registry);
}

async function* rowsOf(path: string, format: FileFormat, options: FileIngestOptions): AsyncGenerator<RawRecord> {
  if (isWorkbook(path)) {
    const matches = (cells: string[]) => formatForHeader(cells, format.registry)?.id === format.id;
    for await (const row of readXlsxRows(path, { sheet: options.sheet, isHeader: matches })) {
      yield { stream: format.stream, locator: `sheet "${row.sheet}" row ${row.line}`, payload: row.values };
    }
    return;
  }
  for await (const row of readCsvRows(path, { onBytes: options.onBytes })) {
    yield { stream: format.stream, locator: `line ${row.line}`, payload: row.values };
  }
}

/** Ingests one registry export (CSV, or an XLSX workbook whose header may sit below a title block) as one upload batch. */
export async function ingestFile(db: Database, path: string, options: FileIngestOptions = {}): Promise<IngestSummary & { format: string }> {
  const format = await detectFileFormat(path, options.registry, options.sheet);
  const summary = await ingest(db, {
    kind: 'upload',
    connector: format.id,
    registry: format.registry,
    source: basename(path),
    records: rowsOf(path, format, options),
    map: (raw) => format.map(raw.payload as Record<string, string>, raw.locator),
  }, options);
  return { ...summary, format: format.id };
}
