import type { RowError } from '../types.ts';
import { quantityMismatch, type SerialRange, type SerialResult } from './serial.ts';
import { booleanValue, dateValue, numberValue, textValue, ValueError } from './values.ts';

/**
 * Reads the cells of one row and collects what is wrong with them, so a mapper reads like a column
 * map and every problem reaches the user as `line 12: Quantity Issued: "12a" is not a number`.
 */
export function rowReader(row: Record<string, string>, locator: string, options: { dayFirst?: boolean } = {}) {
  const errors: RowError[] = [];
  const fail = (column: string, code: string, message: string) => {
    errors.push({ locator, field: column, code, message: `${locator}: ${column}: ${message}` });
  };
  function cell<T>(column: string, parse: (value: string | undefined) => T): T | undefined {
    try {
      return parse(row[column]);
    } catch (error) {
      if (!(error instanceof ValueError)) throw error;
      fail(column, error.code, error.message);
      return undefined;
    }
  }
  return {
    errors,
    fail,
    text: (column: string) => textValue(row[column]),
    number: (column: string) => cell(column, numberValue),
    date: (column: string) => cell(column, (v) => dateValue(v, options)),
    boolean: (column: string) => cell(column, booleanValue),
    /** A value the row cannot do without: reports it missing. */
    required<T>(column: string, value: T | undefined): T | undefined {
      if (value === undefined && !errors.some((e) => e.field === column)) fail(column, 'missing', 'is empty');
      return value;
    },
    /** A positive quantity. */
    quantity(column: string): number | undefined {
      const value = cell(column, numberValue);
      if (value === undefined) {
        if (!errors.some((e) => e.field === column)) fail(column, 'missing', 'is empty');
        return undefined;
      }
      if (!(value > 0)) {
        fail(column, 'quantity-not-positive', `${value} is not a positive quantity`);
        return undefined;
      }
      return value;
    },
    /** A serial string parsed by the registry's parser and checked against the row's quantity. */
    serial(column: string, parse: (raw: string) => SerialResult, quantity: number | undefined): SerialRange | undefined {
      const raw = textValue(row[column]);
      if (raw === undefined) {
        fail(column, 'missing', 'is empty');
        return undefined;
      }
      const parsed = parse(raw);
      if (!parsed.ok) {
        fail(column, 'bad-serial', parsed.error);
        return undefined;
      }
      const mismatch = quantity === undefined ? undefined : quantityMismatch(parsed.range, quantity);
      if (mismatch) {
        fail(column, 'serial-quantity-mismatch', mismatch);
        return undefined;
      }
      return parsed.range;
    },
  };
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
