import { basename } from 'node:path';
import { identifyFormat } from '../connectors/index.ts';
import { readCsvHeaders, readCsvRows } from '../connectors/runtime/csv.ts';
import type { FileFormat, RawRecord } from '../connectors/types.ts';
import type { Database } from '../schema/database.ts';
import { ingest, type IngestOptions, type IngestSummary } from './ingest.ts';

export type FileIngestOptions = IngestOptions & {
  /** Limit format detection to one registry's exports. */
  registry?: string | undefined;
  /** Bytes of the file read so far, for progress bars. */
  onBytes?(bytesRead: number): void;
};

/** Which export a file is, from its header row (or an error listing the formats Tally expected). */
export async function detectFileFormat(path: string, registry?: string): Promise<FileFormat> {
  if (!/\.csv$/i.test(path)) throw new Error(`only CSV exports are read so far (expected a .csv file)`);
  return identifyFormat(await readCsvHeaders(path), registry);
}

async function* rowsOf(path: string, format: FileFormat, onBytes?: (n: number) => void): AsyncGenerator<RawRecord> {
  for await (const row of readCsvRows(path, { onBytes })) {
    yield { stream: format.stream, locator: `line ${row.line}`, payload: row.values };
  }
}

/** Ingests one registry export as one upload batch. */
export async function ingestFile(db: Database, path: string, options: FileIngestOptions = {}): Promise<IngestSummary & { format: string }> {
  const format = await detectFileFormat(path, options.registry);
  const summary = await ingest(db, {
    kind: 'upload',
    connector: format.id,
    registry: format.registry,
    source: basename(path),
    records: rowsOf(path, format, options.onBytes),
    map: (raw) => format.map(raw.payload as Record<string, string>, raw.locator),
  }, options);
  return { ...summary, format: format.id };
}
