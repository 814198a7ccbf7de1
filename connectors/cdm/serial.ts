import { isCountryCode, parseBounds, parseDigits, serialError, serialText, type SerialResult } from '../runtime/serial.ts';

/** Kyoto DES unit types (reference `registries.md` §4). ERUs have two codes (3 and 4), converted from AAUs or RMUs. */
const UNIT_TYPES: Record<string, string> = { '1': 'AAU', '2': 'RMU', '3': 'ERU', '4': 'ERU', '5': 'CER', '6': 'tCER', '7': 'lCER' };

const FIELDS = ['party', 'unit type', 'serial', 'original commitment period', 'applicable commitment period', 'LULUCF activity', 'project ref'] as const;

type KyotoSerial = { party: string; unitType: string; serial: string; originalPeriod: string; applicablePeriod: string; lulucf: string; projectRef: string };

/**
 * Parses a Kyoto DES serial range, two serials joined by " - ", e.g.
 * `BR-5-85316059-1-1-0-8 - BR-5-85448545-1-1-0-8`. Each serial is
 * `{party ISO2}-{unit type}-{serial}-{original CP}-{applicable CP}-{LULUCF}-{project ref}`; both ends must
 * agree on everything but the serial. Gold Standard exports write CERs this way too.
 */
export function parseKyotoSerialRange(raw: string): SerialResult {
  const input = serialText(raw);
  if (!input.ok) return input;
  const text = input.text;

  // The spacing around the joining dash varies between sources, so every dash is treated alike: a
  // range is 14 tokens and the second serial starts at the 8th (its party code is the only letters).
  const tokens = text.split(/\s*-\s*/);
  if (tokens.length !== 14) {
    return serialError(text, `expected two Kyoto serials of 7 dash-separated parts joined by " - ", found ${tokens.length} parts`);
  }
  const first = readSerial(text, tokens.slice(0, 7), 'first');
  if (!first.ok) return first;
  const last = readSerial(text, tokens.slice(7), 'second');
  if (!last.ok) return last;

  const a = first.serial;
  const b = last.serial;
  const pairs: [string, string, string][] = [
    [FIELDS[0], a.party, b.party],
    [FIELDS[1], a.unitType, b.unitType],
    [FIELDS[3], a.originalPeriod, b.originalPeriod],
    [FIELDS[4], a.applicablePeriod, b.applicablePeriod],
    [FIELDS[5], a.lulucf, b.lulucf],
    [FIELDS[6], a.projectRef, b.projectRef],
  ];
  for (const [field, x, y] of pairs) {
    if (x !== y) {
      return serialError(text, `the two ends differ in ${field} (${x} vs ${y}); a range must stay inside one party, unit type and project`);
    }
  }

  const bounds = parseBounds(text, a.serial, b.serial);
  if (!bounds.ok) return bounds;

  return {
    ok: true,
    range: {
      // DES serial numbers are unique per originating party and unit type (DESIGN §5).
      numberSpace: `cdm:${a.party}:${a.unitType}`,
      start: bounds.start,
      end: bounds.end,
      raw: text,
      // The CDM reference number ("Ref 8"), not the UNFCCC DB id of the project page.
      projectId: a.projectRef,
      country: a.party,
    },
  };
}

function readSerial(text: string, parts: string[], which: 'first' | 'second'): { ok: true; serial: KyotoSerial } | { ok: false; error: string } {
  const [party, unitType, serial, originalPeriod, applicablePeriod, lulucf, projectRef] = parts as [string, string, string, string, string, string, string];
  if (!isCountryCode(party)) return serialError(text, `${which} serial: party "${party}" is not a two-letter country code`);
  if (parseDigits(unitType) === undefined || UNIT_TYPES[String(Number(unitType))] === undefined) {
    return serialError(text, `${which} serial: unit type "${unitType}" is not a Kyoto unit type (1 AAU, 2 RMU, 3/4 ERU, 5 CER, 6 tCER, 7 lCER)`);
  }
  // The serial itself is checked by parseBounds, which says whether it is missing, not a number or too large.
  for (const [index, value] of [[3, originalPeriod], [4, applicablePeriod], [5, lulucf], [6, projectRef]] as const) {
    if (parseDigits(value) === undefined) return serialError(text, `${which} serial: ${FIELDS[index]} "${value}" is not a number`);
  }
  // Codes are compared without their padding, so `05` and `5` are one unit type.
  const plain = (code: string) => String(Number(code));
  return {
    ok: true,
    serial: {
      party,
      unitType: plain(unitType),
      serial,
      originalPeriod: plain(originalPeriod),
      applicablePeriod: plain(applicablePeriod),
      lulucf: plain(lulucf),
      projectRef: plain(projectRef),
    },
  };
}

/** Kyoto unit type codes by the names the CDM registry's reports write in their `Unit Type` / `Unit` columns. */
export const CDM_UNIT_CODES: Readonly<Record<string, string>> = { CER: '5', tCER: '6', lCER: '7' };

/**
 * Parses a serial range as the CDM registry's reports write it: two bare serial numbers joined by
 * " - " (`2211 - 9514`), without the party, unit type or project the full Kyoto serial carries. Those
 * come from the row (`PARTY CODE`, `Unit Type`), so the range lands in the same number space as the
 * full form: `cdm:<party>:<unit type code>`.
 */
export function parseCdmReportRange(raw: unknown, party: string, unit: string): SerialResult {
  const input = serialText(raw);
  if (!input.ok) return input;
  const text = input.text;
  if (!isCountryCode(party)) return serialError(text, `party "${party}" is not a two-letter country code`);
  const code = CDM_UNIT_CODES[unit];
  if (!code) return serialError(text, `unit type "${unit}" is not one the CDM registry issues (CER, tCER, lCER)`);
  const m = /^(\S+)\s*-\s*(\S+)$/.exec(text);
  if (!m) return serialError(text, 'expected a range written "<first serial> - <last serial>"');
  const bounds = parseBounds(text, m[1], m[2]);
  if (!bounds.ok) return bounds;
  return { ok: true, range: { numberSpace: `cdm:${party}:${code}`, start: bounds.start, end: bounds.end, raw: text, country: party } };
}
