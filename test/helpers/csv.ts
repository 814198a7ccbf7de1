import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';

/** Rows of a fixture CSV as objects keyed by header (BOM stripped). */
export function readCsv(path: string | URL): Record<string, string>[] {
  return parse(readFileSync(path), { columns: true, bom: true, skip_empty_lines: true, relax_column_count: true });
}

/** One CSV line of these values, every field quoted (for writing broken fixtures). */
export function csvLine(values: readonly string[]): string {
  return values.map((v) => `"${v.replace(/"/g, '""')}"`).join(',');
}
