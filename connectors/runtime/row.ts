import type { RowError } from '../types.ts';
import { quantityMismatch, type SerialRange } from './serial.ts';
import { booleanValue, dateValue, numberValue, textValue, ValueError } from './values.ts';

/** What a serial parser returns: the range (with whatever else the registry's serial names), or why it is none. */
type SerialParse<R extends SerialRange> = { ok: true; range: R } | { ok: false; error: string };

/**
 * A value as the text a cell holds: a JSON number or boolean as written, nothing for null; an object or
 * a list is no single value, and reading one as a value is an error.
 */
function cellText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new ValueError(`holds ${Array.isArray(value) ? 'a list' : 'an object'}, not a single value`, 'not-a-value');
}

/**
 * Reads the fields of one record, wherever they come from (`get` gives a field's value: a CSV cell, a
 * JSON value), and collects what is wrong with them, so a mapper reads like a field map and every
 * problem reaches the user as `<locator>: <field>: <what is wrong>`. rowReader and entityReader
 * (entity.ts) are this reader over a row and over a JSON entity.
 */
export function reader(get: (field: string) => unknown, locator: string, options: { dayFirst?: boolean } = {}) {
  const errors: RowError[] = [];
  const fail = (field: string, code: string, message: string, params?: Record<string, string | number>) => {
    errors.push({ locator, field, code, message: `${locator}: ${field}: ${message}`, ...(params ? { params } : {}) });
  };
  /** Reports a field the record cannot do without, unless something is already reported of it. */
  const missing = (field: string) => {
    if (!errors.some((e) => e.field === field)) fail(field, 'missing', 'is empty', {});
  };
  function read<T>(field: string, parse: (value: string | undefined) => T): T | undefined {
    try {
      return parse(cellText(get(field)));
    } catch (error) {
      if (!(error instanceof ValueError)) throw error;
      fail(field, error.code, error.message, error.params);
      return undefined;
    }
  }
  return {
    errors,
    fail,
    text: (field: string) => read(field, textValue),
    number: (field: string) => read(field, numberValue),
    date: (field: string) => read(field, (v) => dateValue(v, options)),
    boolean: (field: string) => read(field, booleanValue),
    /** A value the record cannot do without: reports it missing. */
    required<T>(field: string, value: T | undefined): T | undefined {
      if (value === undefined) missing(field);
      return value;
    },
    /** A positive quantity. */
    quantity(field: string): number | undefined {
      const value = read(field, numberValue);
      if (value === undefined) {
        missing(field);
        return undefined;
      }
      if (!(value > 0)) {
        fail(field, 'quantity-not-positive', `${value} is not a positive quantity`, { value: String(value) });
        return undefined;
      }
      return value;
    },
    /** A serial string parsed by the registry's parser and checked against the record's quantity. */
    serial<R extends SerialRange>(field: string, parse: (raw: string) => SerialParse<R>, quantity: number | undefined): R | undefined {
      const raw = read(field, textValue);
      if (raw === undefined) {
        missing(field);
        return undefined;
      }
      const parsed = parse(raw);
      if (!parsed.ok) {
        fail(field, 'bad-serial', parsed.error);
        return undefined;
      }
      const mismatch = quantity === undefined ? undefined : quantityMismatch(parsed.range, quantity);
      if (mismatch) {
        fail(field, 'serial-quantity-mismatch', mismatch);
        return undefined;
      }
      return parsed.range;
    },
  };
}

/** What a mapper reads a record through: a row's cells or an entity's fields. */
export type Reader = ReturnType<typeof reader>;

/**
 * Reads the cells of one row and collects what is wrong with them, so a mapper reads like a column
 * map and every problem reaches the user as `line 12: Quantity Issued: "12a" is not a number`.
 */
export function rowReader(row: Record<string, string>, locator: string, options: { dayFirst?: boolean } = {}): Reader {
  return reader((column) => row[column], locator, options);
}

/**
 * A bridge to a token named in retirement details (KlimaDAO's markers; Thallo's "Two-Way Bridge
 * Retirement" on Puro): units retired here live on elsewhere. Moss counts only as "Moss Earth" /
 * "MOSS.Earth" or its token MCO2: Moss alone is a surname and a place (Moss Landing) in beneficiaries.
 */
export function tokenizationMarker(...texts: (string | undefined)[]): string | undefined {
  const joined = texts.filter(Boolean).join(' ');
  const m = joined.match(/\b(TOUCAN|C3T|THALLO|MOSS(?=[\s.]?EARTH\b)|MCO2)\b/i);
  if (!m) return undefined;
  const marker = m[1]!.toUpperCase();
  return marker === 'MCO2' ? 'MOSS' : marker;
}
