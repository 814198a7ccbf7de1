// Values as registries write them, to what the ledger stores. Every function returns undefined for
// an empty cell and throws ValueError with a message naming the value for one it cannot read.

export class ValueError extends Error {
  /** `params`: the values the catalogues' `rowError.<code>` message names (the value as written, a variant). */
  constructor(message: string, readonly code: string, readonly params?: Record<string, string | number>) {
    super(message);
  }
}

const blank = (value: string | undefined | null): value is undefined | null | '' =>
  value === undefined || value === null || value.trim() === '' || /^(nan|null|none|n\/a|-)$/i.test(value.trim());

/** Trimmed text, or undefined for an empty cell. */
export function textValue(value: string | undefined | null): string | undefined {
  return blank(value) ? undefined : value.trim();
}

/** `"1,454,054"`, `11191.0`, `246.2`, `-5` → number. Thousands separators are commas (every registry seen). */
export function numberValue(value: string | undefined | null): number | undefined {
  if (blank(value)) return undefined;
  const cleaned = value.trim().replace(/,(?=\d{3}(\D|$))/g, '').replace(/\s/g, '');
  if (!/^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(cleaned)) {
    throw new ValueError(`"${value.trim()}" is not a number`, 'not-a-number', { value: value.trim() });
  }
  return Number(cleaned);
}

/** A whole number of units; `11191.0` is accepted (pandas writes integers that way). */
export function integerValue(value: string | undefined | null): number | undefined {
  const n = numberValue(value);
  if (n !== undefined && !Number.isSafeInteger(n)) throw new ValueError(`"${value!.trim()}" is not a whole number`, 'not-an-integer', { value: value!.trim() });
  return n;
}

const MONTHS: Record<string, number> = {
  jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, sept: 9, oct: 10, nov: 11, dec: 12,
};

function iso(year: number, month: number, day: number, original: string): string {
  const date = new Date(Date.UTC(year, month - 1, day));
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) {
    throw new ValueError(`"${original}" is not a calendar date`, 'bad-date', { value: original, variant: 'calendar' });
  }
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** Two-digit years (VROD's `8/2/06`): 00–69 are 2000s, 70–99 are 1900s. */
const fullYear = (y: string) => (y.length === 4 ? Number(y) : Number(y) + (Number(y) < 70 ? 2000 : 1900));

/**
 * A date as any registry writes it, to `YYYY-MM-DD` (the time of day is dropped):
 * ISO `2026-04-03`, `2026-04-13T12:35:58.842275`; APX `6/30/2025 7:43:26 PM`, `03/19/2026`, `8/2/06`;
 * Verra 2026 `01 Jan 2020`; J-Credit `2013/10/8 0:00`; `DD/MM/YYYY` when the export is day-first
 * (older Verra files): slashed dates are read month-first unless `dayFirst`, and a value that only
 * fits the other order (day > 12) is read that way.
 */
export function dateValue(value: string | undefined | null, options: { dayFirst?: boolean } = {}): string | undefined {
  if (blank(value)) return undefined;
  const v = value.trim();
  let m = v.match(/^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$/);
  if (m) return iso(Number(m[1]), Number(m[2]), Number(m[3]), v);
  m = v.match(/^(\d{4})\/(\d{1,2})\/(\d{1,2})(?: [\d:]+)?$/);
  if (m) return iso(Number(m[1]), Number(m[2]), Number(m[3]), v);
  // Month and day in either order (a day over 12 settles it), separated by slashes, or by dashes or dots
  // as some downloads and spreadsheets re-save them (`12/09/2023`, `12-09-23`, `12.09.2023`).
  m = v.match(/^(\d{1,2})([/.-])(\d{1,2})\2(\d{2}|\d{4})(?: \d{1,2}:\d{2}(?::\d{2})?(?: ?[AP]M)?)?$/i);
  if (m) {
    let [first, second] = [Number(m[1]), Number(m[3])];
    let dayFirst = options.dayFirst ?? false;
    if (first > 12 && second <= 12) dayFirst = true;
    else if (second > 12 && first <= 12) dayFirst = false;
    if (dayFirst) [first, second] = [second, first];
    return iso(fullYear(m[4]!), first, second, v);
  }
  m = v.match(/^(\d{1,2})[ -]([A-Za-z]{3,4})[a-z]*[\s,-]+(\d{2}|\d{4})$/);
  if (m && MONTHS[m[2]!.toLowerCase()]) return iso(fullYear(m[3]!), MONTHS[m[2]!.toLowerCase()]!, Number(m[1]), v);
  throw new ValueError(`"${v}" is not a date Tally can read (expected forms like 2026-04-03, 03/19/2026, 01 Jan 2020)`, 'bad-date', { value: v });
}

/** Yes/no columns (`Yes`, `No`, `TRUE`, `1`, CAR's `Eligible` / `Not Eligible`); undefined when empty. */
export function booleanValue(value: string | undefined | null): boolean | undefined {
  if (blank(value)) return undefined;
  const v = value.trim().toLowerCase();
  if (['yes', 'y', 'true', '1', 'x', 'eligible'].includes(v)) return true;
  if (['no', 'n', 'false', '0', 'not eligible', 'ineligible'].includes(v)) return false;
  throw new ValueError(`"${value.trim()}" is neither yes nor no`, 'not-a-boolean', { value: value.trim() });
}

/** A JSON object (not null, not an array): an API entity or a nested record. */
export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
