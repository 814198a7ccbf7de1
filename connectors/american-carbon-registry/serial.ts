import {
  canonicalProjectNumber,
  isCountryCode,
  parseBounds,
  parseDigits,
  parseVintageYear,
  serialError,
  serialText,
  splitToRange,
  type SerialResult,
} from '../runtime/serial.ts';

/**
 * Parses an ACR serial range (reference `registries.md` §3.1):
 * `ACR-<ISO2>-<projectNo>-<vintage>-<batch>-<start> to <end>`, e.g. `ACR-US-1185-2025-3078-1 to 85847`.
 */
export function parseAcrSerial(raw: string): SerialResult {
  const input = serialText(raw);
  if (!input.ok) return input;
  const text = input.text;
  const split = splitToRange(text);
  if (!split.ok) return split;
  const { tokens } = split;
  if (tokens.length !== 6) {
    return serialError(text, `expected 6 dash-separated parts before " to " (ACR-<country>-<project>-<vintage>-<batch>-<start>), found ${tokens.length}`);
  }
  const [prefix, country, projectNo, vintage, batch, start] = tokens as [string, string, string, string, string, string];

  if (prefix !== 'ACR') return serialError(text, `expected the serial to open with "ACR", found "${prefix}"`);
  if (!isCountryCode(country)) return serialError(text, `country "${country}" is not a two-letter code`);
  if (parseDigits(projectNo) === undefined) return serialError(text, `project number "${projectNo}" is not a number`);
  const vintageYear = parseVintageYear(vintage);
  if (vintageYear === undefined) return serialError(text, `vintage "${vintage}" is not a year`);
  const batchNumber = parseDigits(batch);
  if (batchNumber === undefined) return serialError(text, `batch "${batch}" is not a whole number`);
  const bounds = parseBounds(text, start, split.end);
  if (!bounds.ok) return bounds;

  // The CSV's Project ID column writes `ACR681` (no padding); GreenTrace's API writes `ACR0934`.
  const projectId = `ACR${canonicalProjectNumber(projectNo)}`;
  return {
    ok: true,
    range: {
      // ACR restarts unit numbers at 1 in every issuance batch (DESIGN §5).
      numberSpace: `american-carbon-registry:${projectId}:${vintageYear}:${batchNumber}`,
      start: bounds.start,
      end: bounds.end,
      raw: text,
      projectId,
      country,
      vintageYear,
    },
  };
}
