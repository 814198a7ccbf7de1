import type { FileFormat, RawRecord, RowContext, SourceRow } from '../types.ts';
import { renamed, type ColumnMatch } from './columns.ts';

// From a file's rows to the raw records its format maps, the same for an upload (`tally ingest`) and
// for a published file a scheduled pull downloads (published-file.ts). A raw record keeps the row as
// the file has it; the mapper reads it under today's column names (runtime/columns.ts).

/** A file row as read, or (for a format that groups rows) the consecutive rows of one record. */
export type FileRecord = RawRecord & { context: RowContext; rows?: SourceRow[]; columns: ColumnMatch };

/** A file row as read, with the columns its header row was matched to (a workbook's sheets each have theirs). */
export type FileRow = SourceRow & { context: RowContext; columns: ColumnMatch };

/** The raw records of a file's rows: one per row, or one per run of consecutive rows with the format's group key. */
export async function* fileRecords(format: FileFormat, rows: AsyncIterable<FileRow>): AsyncGenerator<FileRecord> {
  const group = format.group;
  if (!group) {
    for await (const row of rows) {
      yield { stream: format.stream, locator: row.locator, payload: row.values, context: row.context, columns: row.columns };
    }
    return;
  }
  // Consecutive rows with one key are one record: the raw record holds them all, as received.
  let pending: { key: string; context: RowContext; rows: SourceRow[]; columns: ColumnMatch } | undefined;
  const flush = (): FileRecord => {
    const { rows: grouped, context, columns } = pending!;
    const last = grouped.at(-1)!.locator.replace(/^.*?(\d+)$/, '$1');
    const locator = grouped.length === 1 ? grouped[0]!.locator : `${grouped[0]!.locator.replace(/(line|row) (\d+)$/, '$1s $2')}–${last}`;
    return { stream: format.stream, locator, payload: { rows: grouped.map((r) => r.values) }, context, rows: grouped, columns };
  };
  for await (const row of rows) {
    const key = group.key(renamed(row.values, row.columns), row.context);
    if (pending && (pending.key !== key || pending.context.sheet !== row.context.sheet)) {
      yield flush();
      pending = undefined;
    }
    pending ??= { key, context: row.context, rows: [], columns: row.columns };
    pending.rows.push({ values: row.values, locator: row.locator });
  }
  if (pending) yield flush();
}

/** The format's mapping of one file record (a row, or the rows of a group), under today's column names. */
export function mapFileRecord(raw: RawRecord) {
  const record = raw as FileRecord;
  const { columns } = record;
  if (columns.format.group && record.rows) {
    return columns.format.group.map(record.rows.map((r) => ({ ...r, values: renamed(r.values, columns) })), record.context);
  }
  return columns.format.map(renamed(raw.payload as Record<string, string>, columns), raw.locator, record.context);
}
