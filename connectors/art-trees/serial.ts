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
 * Parses an ART TREES serial range (reference `registries.md` §3.3):
 * `<ART|FCPF>-<ISO2>-<id>-<vintage>-<batch>-<start> to <end>`, e.g. `ART-GY-102-2021-11-2759599 to 2760598`
 * and, for FCPF Carbon Fund units held in the ART registry, `FCPF-CI-130-2023-20-1 to 46404`.
 */
export function parseArtSerial(raw: string): SerialResult {
  const input = serialText(raw);
  if (!input.ok) return input;
  const text = input.text;
  const split = splitToRange(text);
  if (!split.ok) return split;
  const { tokens } = split;
  if (tokens.length !== 6) {
    return serialError(text, `expected 6 dash-separated parts before " to " (ART or FCPF-<country>-<id>-<vintage>-<batch>-<start>), found ${tokens.length}`);
  }
  const [programme, country, programNo, vintage, batch, start] = tokens as [string, string, string, string, string, string];

  if (programme !== 'ART' && programme !== 'FCPF') return serialError(text, `expected the serial to open with "ART" or "FCPF", found "${programme}"`);
  if (!isCountryCode(country)) return serialError(text, `country "${country}" is not a two-letter code`);
  if (parseDigits(programNo) === undefined) return serialError(text, `program number "${programNo}" is not a number`);
  const vintageYear = parseVintageYear(vintage);
  if (vintageYear === undefined) return serialError(text, `vintage "${vintage}" is not a year`);
  const batchNumber = parseDigits(batch);
  if (batchNumber === undefined) return serialError(text, `batch "${batch}" is not a whole number`);
  const bounds = parseBounds(text, start, split.end);
  if (!bounds.ok) return bounds;

  const number = canonicalProjectNumber(programNo);
  return {
    ok: true,
    range: {
      // Numbers restart at 1 per issuance batch (DESIGN §5). The prefix stays in the number space as the
      // serial writes it; the fixtures' batch numbers (ART 9, 11; FCPF 19, 20, 21) look like one shared
      // sequence, so this separates nothing that should collide.
      numberSpace: `art-trees:${programme}${number}:${vintageYear}:${batchNumber}`,
      start: bounds.start,
      end: bounds.end,
      raw: text,
      // The Program ID column writes ART<id> for FCPF units too (`FCPF-CI-130-…` rows say ART130).
      projectId: `ART${number}`,
      country,
      vintageYear,
    },
  };
}
