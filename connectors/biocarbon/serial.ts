import { isCountryCode, parseBounds, serialError, serialText, type SerialResult } from '../runtime/serial.ts';

// BioCarbon serials (Global CarbonTrace, captured 2026-08; rb-carbon-scraper
// docs/api-contract-biocarbon.md):
//   BCR-CO-259-14-002-2-2401-2409-0043804-0043903
//   <project code>-<unit class>-<vintage from YYMM>-<vintage to YYMM>-<first unit>-<last unit>
// The project code has five parts (`BCR-CO-259-14-002`, `PCR-CO-BFX-14-002`, `BCR-TR-152-1-001`):
// programme (BCR, PCR for the older Proclima codes), ISO country, then three registry codes. It is
// the code the units were issued under and often not the project's current code (project 35,
// `BCR-CO-319-14-001`, issues under `BCR-CO-259-14-005`), so it is no project id to check against.
// The unit class is one character: 2 for tax-destined units (`Impuesto`), 3 for the reserve
// (`Reserva`), R for `reserved`, 1 in older blocks.
//
// Every issued block starts at 0000001 (144 of 144 captured blocks), so the numbers run per block and
// the number space is the block: everything before the range. Retirements and cancellations carry
// the serial of their issued block with a sub-range, so they fall in that block's space.

const SERIAL = /^([A-Z]{3}-([A-Z]{2})-[A-Z0-9]+-\d+-\d+)-([0-9A-Z])-(\d{2})(\d{2})-(\d{2})(\d{2})-(\d+)-(\d+)$/;

/** `YY` as a year: the registry's blocks run from 2005; 70–99 would be the 1900s. */
const fullYear = (yy: string) => Number(yy) + (Number(yy) < 70 ? 2000 : 1900);

function lastDayOfMonth(year: number, month: number): string {
  const day = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

export type BioCarbonSerial = {
  /** The issued block the serial belongs to: the serial without its range. */
  block: string;
  unitClass: string;
};

export function parseBioCarbonSerial(raw: unknown): SerialResult & { block?: BioCarbonSerial } {
  const text = serialText(raw);
  if (!text.ok) return text;
  const m = SERIAL.exec(text.text);
  if (!m) {
    return serialError(text.text, 'expected <project code>-<unit class>-<YYMM>-<YYMM>-<first>-<last>, e.g. BCR-CO-259-14-002-2-2401-2409-0043804-0043903');
  }
  const [, code, country, unitClass, fromYy, fromMm, toYy, toMm, first, last] = m as unknown as [string, string, string, string, string, string, string, string, string, string];
  if (!isCountryCode(country)) return serialError(text.text, `"${country}" is not a country code`);
  const fromMonth = Number(fromMm);
  const toMonth = Number(toMm);
  if (fromMonth < 1 || fromMonth > 12 || toMonth < 1 || toMonth > 12) {
    return serialError(text.text, `"${fromYy}${fromMm}" to "${toYy}${toMm}" is not a vintage period (YYMM)`);
  }
  const vintageStart = `${fullYear(fromYy)}-${fromMm}-01`;
  const vintageEnd = lastDayOfMonth(fullYear(toYy), toMonth);
  if (vintageEnd < vintageStart) return serialError(text.text, `the vintage ends (${vintageEnd}) before it starts (${vintageStart})`);
  const bounds = parseBounds(text.text, first, last);
  if (!bounds.ok) return bounds;
  const block = `${code}-${unitClass}-${fromYy}${fromMm}-${toYy}${toMm}`;
  return {
    ok: true,
    range: {
      numberSpace: `biocarbon:${block}`,
      start: bounds.start,
      end: bounds.end,
      raw: text.text,
      country,
      vintageYear: fullYear(fromYy),
      vintageStart,
      vintageEnd,
    },
    block: { block, unitClass },
  };
}
