import { parseBounds, parseVintageYear, serialError, serialText, type SerialRange } from '../runtime/serial.ts';

// Puro.earth's certificate strings, one per bundle (reference/registries.md §3.4):
//
//   PURO_PR_CORC100+_US_517437_2026_82509f97-a54d-4745-86b3-a6da7a4c9e6e_1-3001
//   PURO_PR_<credit class>_<ISO2>_<facility>_<vintage>_<issuance uuid>_<first>-<last>
//
// - the credit class is `CORC`, `CORC20+`, `CORC100+`, `CORC1000+`, or the older `CORC_100`, which
//   holds an underscore itself: the pattern reads the fixed fields from both ends;
// - the uuid is the ISSUANCE's transaction id, also in a retirement's bundles (a retirement of 460 from
//   issuance 59a44376… reads `…_59a44376-…_1-460`), so the retired ranges sit inside the issued range;
// - the country is ISO 3166-1 alpha-2; `NA` is Namibia;
// - numbering restarts at 1 for each issuance since the registry's current system; certificates issued
//   before it (the bare `CORC` class, 2021–2022) carry 30-digit numbers, an 18-digit GS1 number (the
//   same shape as the projects' `gsrn`) followed by a 12-digit count: `643002406555908610000000272877`.
//   Such numbers exceed what a double holds exactly, so the 18-digit prefix goes into the number space
//   and the count is the unit number.
//
// Number space: `puro:<facility>:<vintage>:<issuance uuid>[:<prefix>]`. Every range of one issuance
// (the issuance's own and the retirements drawn from it) is comparable, and nothing else is.

const CERTIFICATE = /^PURO_PR_(.+)_([A-Z]{2})_(\d+)_(\d{4})_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})_(\d+)-(\d+)$/i;

/** Digits in a prefixed number beyond the 18-digit GS1 prefix. */
const PREFIX_DIGITS = 18;

export type PuroCertificate = SerialRange & {
  creditClass: string;
  facility: string;
  issuanceId: string;
};

/** A long unit number as its 18-digit prefix and the count after it; a short one as it is. */
function split(token: string): { prefix?: string; count: string } {
  if (token.length <= 15) return { count: token };
  return { prefix: token.slice(0, PREFIX_DIGITS), count: token.slice(PREFIX_DIGITS) };
}

export type CertificateResult = { ok: true; range: PuroCertificate } | { ok: false; error: string };

export function parsePuroCertificate(input: unknown): CertificateResult {
  const text = serialText(input);
  if (!text.ok) return text;
  const raw = text.text;
  const m = CERTIFICATE.exec(raw);
  if (!m) {
    return serialError(raw, 'expected PURO_PR_<credit class>_<country>_<facility>_<vintage>_<issuance id>_<first>-<last>');
  }
  const [, creditClass, country, facility, vintageToken, issuanceId, firstToken, lastToken] = m as unknown as [string, string, string, string, string, string, string, string];
  const vintageYear = parseVintageYear(vintageToken);
  if (vintageYear === undefined) return serialError(raw, `vintage "${vintageToken}" is not a year`);
  const first = split(firstToken);
  const last = split(lastToken);
  if (first.prefix !== last.prefix) {
    return serialError(raw, first.prefix === undefined || last.prefix === undefined
      ? 'the first and last numbers are of different lengths'
      : `the first and last numbers have different 18-digit prefixes (${first.prefix}, ${last.prefix})`);
  }
  if (first.count.length > 15 || last.count.length > 15) return serialError(raw, 'the unit numbers are too long to compare exactly');
  const bounds = parseBounds(raw, first.count, last.count);
  if (!bounds.ok) return bounds;
  const id = issuanceId.toLowerCase();
  return {
    ok: true,
    range: {
      numberSpace: `puro:${facility}:${vintageYear}:${id}${first.prefix ? `:${first.prefix}` : ''}`,
      start: bounds.start,
      end: bounds.end,
      raw,
      projectId: facility,
      country: country.toUpperCase(),
      vintageYear,
      creditClass,
      facility,
      issuanceId: id,
    },
  };
}
