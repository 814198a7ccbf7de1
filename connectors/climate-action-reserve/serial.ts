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
 * Parses a Climate Action Reserve serial range (reference `registries.md` §3.2):
 * `CAR-<1|ROC>-<ISO2>-<projectNo>-<n>-<n>-<state>-<vintage>-<batch>-<start> to <end>`, e.g.
 * `CAR-1-US-1335-31-983-KS-2025-9205-1 to 5000` (a voluntary CRT) and
 * `CAR-ROC-US-2056-129-2283-WV-2025-8969-1 to 260294` (a Registry Offset Credit for California's programme).
 */
export function parseCarSerial(raw: string): SerialResult {
  const input = serialText(raw);
  if (!input.ok) return input;
  const text = input.text;
  const split = splitToRange(text);
  if (!split.ok) return split;
  const { tokens } = split;
  if (tokens.length !== 10) {
    return serialError(
      text,
      `expected 10 dash-separated parts before " to " (CAR-<1|ROC>-<country>-<project>-<n>-<n>-<state>-<vintage>-<batch>-<start>), found ${tokens.length}`,
    );
  }
  const [prefix, programme, country, projectNo, codeA, codeB, state, vintage, batch, start] = tokens as [
    string, string, string, string, string, string, string, string, string, string,
  ];

  if (prefix !== 'CAR') return serialError(text, `expected the serial to open with "CAR", found "${prefix}"`);
  if (programme !== '1' && programme !== 'ROC') return serialError(text, `programme "${programme}" after CAR should be 1 (voluntary) or ROC (compliance)`);
  if (!isCountryCode(country)) return serialError(text, `country "${country}" is not a two-letter code`);
  if (parseDigits(projectNo) === undefined) return serialError(text, `project number "${projectNo}" is not a number`);
  // Two opaque numeric codes (protocol and developer, by the look of them; undocumented).
  if (parseDigits(codeA) === undefined || parseDigits(codeB) === undefined) {
    return serialError(text, `codes "${codeA}-${codeB}" after the project number should be numbers`);
  }
  // US and Mexican state codes: two letters in every serial seen; three let through because some
  // countries' ISO 3166-2 subdivision codes are three letters.
  if (!/^[A-Z]{2,3}$/.test(state)) return serialError(text, `state "${state}" should be a two- or three-letter code`);
  const vintageYear = parseVintageYear(vintage);
  if (vintageYear === undefined) return serialError(text, `vintage "${vintage}" is not a year`);
  const batchNumber = parseDigits(batch);
  if (batchNumber === undefined) return serialError(text, `batch "${batch}" is not a whole number`);
  const bounds = parseBounds(text, start, split.end);
  if (!bounds.ok) return bounds;

  const projectId = `CAR${canonicalProjectNumber(projectNo)}`;
  return {
    ok: true,
    range: {
      // Numbers restart at 1 per issuance batch (DESIGN §5). The 1|ROC token is kept in the number space:
      // in the fixtures the batch numbers of both look like one registry-wide sequence (103 batches, none
      // under two projects, voluntary and ROC numbers interleaved), so keeping it separates nothing seen
      // so far, and nothing published says a voluntary and a ROC batch can never share a number.
      numberSpace: `climate-action-reserve:${programme}:${projectId}:${vintageYear}:${batchNumber}`,
      start: bounds.start,
      end: bounds.end,
      raw: text,
      // The Project ID column writes CAR<n> for voluntary and ROC projects alike.
      projectId,
      country,
      vintageYear,
    },
  };
}
