import { parseKyotoSerialRange } from '../cdm/serial.ts';
import {
  canonicalProjectNumber,
  isCountryCode,
  parseBounds,
  parseDigits,
  parseVintageYear,
  serialError,
  serialText,
  type SerialResult,
} from '../runtime/serial.ts';

/**
 * Parses a Gold Standard serial (reference `registries.md` §2.3):
 * `GS1-1-<ISO2>-GS<id>-<type code>-<vintage>-<batch>-<start>-<end>`, e.g.
 * `GS1-1-KE-GS7495-16-2025-30645-608-30350`.
 *
 * GS exports also list CERs under their Kyoto serials (`RW-5-1463953-2-2-0-7014 - RW-5-1467609-2-2-0-7014`);
 * those go to the CDM parser, so their number space is `cdm:…` and their project id is the CDM
 * reference, not the GSID of the row.
 */
export function parseGoldStandardSerial(raw: string): SerialResult {
  const input = serialText(raw);
  if (!input.ok) return input;
  const text = input.text;
  if (!text.startsWith('GS') && /^[A-Z]{2}\s*-\s*\d/.test(text)) return parseKyotoSerialRange(text);

  const tokens = text.split('-');
  if (tokens.length !== 9) return serialError(text, `expected 9 dash-separated parts (GS1-1-<country>-GS<id>-<type>-<vintage>-<batch>-<start>-<end>), found ${tokens.length}`);
  const [registry, unitKind, country, project, typeCode, vintage, batch, start, end] = tokens as [string, string, string, string, string, string, string, string, string];

  // "GS1-1" opens every GS serial seen; the second 1 may be a unit kind, so any number is let through.
  if (registry !== 'GS1' || parseDigits(unitKind) === undefined) {
    return serialError(text, `expected the serial to open with "GS1-<number>", found "${registry}-${unitKind}"`);
  }
  if (!isCountryCode(country)) return serialError(text, `country "${country}" is not a two-letter code`);
  const projectMatch = /^GS(\d+)$/.exec(project);
  if (!projectMatch || parseDigits(projectMatch[1]) === undefined) return serialError(text, `project "${project}" should be GS followed by the GSID`);
  // Observed: 16 "Energy Efficiency - Domestic", 4 "Biogas - Heat"; otherwise opaque.
  if (parseDigits(typeCode) === undefined) return serialError(text, `project type code "${typeCode}" is not a number`);
  const vintageYear = parseVintageYear(vintage);
  if (vintageYear === undefined) return serialError(text, `vintage "${vintage}" is not a year`);
  const batchNumber = parseDigits(batch);
  if (batchNumber === undefined) return serialError(text, `batch "${batch}" is not a whole number`);
  const bounds = parseBounds(text, start, end);
  if (!bounds.ok) return bounds;

  const projectId = `GS${canonicalProjectNumber(projectMatch[1] as string)}`;
  return {
    ok: true,
    range: {
      // GS restarts unit numbers at 1 in every issuance batch (DESIGN §5).
      numberSpace: `gold-standard:${projectId}:${vintageYear}:${batchNumber}`,
      start: bounds.start,
      end: bounds.end,
      raw: text,
      projectId,
      country,
      vintageYear,
    },
  };
}
