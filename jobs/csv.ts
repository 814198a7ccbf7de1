import { safeCell } from './safe-cell.ts';

// CSV for exports (RFC 4180): a header from the first row's keys, fields quoted when they hold a comma,
// quote or line break, CRLF line ends. Every field is made safe for spreadsheets (jobs/safe-cell.ts),
// so an export opened in Excel cannot run a value a registry or an uploader published.

function field(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return field(value.join(' '));
  const text = safeCell(typeof value === 'object' ? JSON.stringify(value) : String(value));
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One CSV line of `values`, with its CRLF end. */
export const csvLine = (values: readonly unknown[]): string => `${values.map(field).join(',')}\r\n`;

export function toCsv(rows: readonly Record<string, unknown>[], columns?: readonly string[]): string {
  const header = columns ?? Object.keys(rows[0] ?? {});
  return [csvLine(header), ...rows.map((row) => csvLine(header.map((h) => row[h])))].join('');
}
