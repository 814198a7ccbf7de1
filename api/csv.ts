// CSV for exports (RFC 4180): a header from the first row's keys, fields quoted when they hold a comma,
// quote or line break, CRLF line ends. A field that a spreadsheet would run as a formula (=, +, -, @ at
// the start of text) is prefixed with an apostrophe, so an export opened in Excel cannot execute a
// value a registry published.

const FORMULA = /^[=+\-@\t\r]/;

function field(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return field(value.join(' '));
  let text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (typeof value === 'string' && FORMULA.test(text) && !/^-?\d/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(rows: readonly Record<string, unknown>[], columns?: readonly string[]): string {
  const header = columns ?? Object.keys(rows[0] ?? {});
  const lines = [header.map(field).join(','), ...rows.map((row) => header.map((h) => field(row[h])).join(','))];
  return `${lines.join('\r\n')}\r\n`;
}
