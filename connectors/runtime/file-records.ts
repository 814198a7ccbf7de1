import type { FileFormat, RawRecord, RowContext, SourceRow } from '../types.ts';

// From a file's rows to the raw records its format maps, the same for an upload (`tally ingest`) and
// for a published file a scheduled pull downloads (published-file.ts).

/** A file row as read, or (for a format that groups rows) the consecutive rows of one record. */
export type FileRecord = RawRecord & { context: RowContext; rows?: SourceRow[] };

export type FileRow = SourceRow & { context: RowContext };

/** The raw records of a file's rows: one per row, or one per run of consecutive rows with the format's group key. */
export async function* fileRecords(format: FileFormat, rows: AsyncIterable<FileRow>): AsyncGenerator<FileRecord> {
  const group = format.group;
  if (!group) {
    for await (const row of rows) {
      yield { stream: format.stream, locator: row.locator, payload: row.values, context: row.context };
    }
    return;
  }
  // Consecutive rows with one key are one record: the raw record holds them all, as received.
  let pending: { key: string; context: RowContext; rows: SourceRow[] } | undefined;
  const flush = (): FileRecord => {
    const { rows: grouped, context } = pending!;
    const last = grouped.at(-1)!.locator.replace(/^.*?(\d+)$/, '$1');
    const locator = grouped.length === 1 ? grouped[0]!.locator : `${grouped[0]!.locator.replace(/(line|row) (\d+)$/, '$1s $2')}–${last}`;
    return { stream: format.stream, locator, payload: { rows: grouped.map((r) => r.values) }, context, rows: grouped };
  };
  for await (const row of rows) {
    const key = group.key(row.values, row.context);
    if (pending && (pending.key !== key || pending.context.sheet !== row.context.sheet)) {
      yield flush();
      pending = undefined;
    }
    pending ??= { key, context: row.context, rows: [] };
    pending.rows.push({ values: row.values, locator: row.locator });
  }
  if (pending) yield flush();
}

/** The format's mapping of one file record: a row, or the rows of a group. */
export function mapFileRecord(format: FileFormat, raw: RawRecord) {
  const record = raw as FileRecord;
  if (format.group && record.rows) return format.group.map(record.rows, record.context);
  return format.map(raw.payload as Record<string, string>, raw.locator, record.context);
}
