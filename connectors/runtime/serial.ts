/** A serial range parsed from a registry's serial string. Serials are compared only inside one number space (DESIGN §5). */
export type SerialRange = {
  /** e.g. 'verra:VER', 'gold-standard:GS11236:2024:30307', 'cdm:RW:5', 'american-carbon-registry:ACR1185:2025:3078' */
  numberSpace: string;
  start: number; // safe integer, >= 0
  end: number; // safe integer, >= start
  raw: string; // the input string, trimmed
  /** What the serial itself says, where it says it (used to cross-check the row it came from). */
  projectId?: string; // the registry's project id as its own project-id column writes it ('1340', 'GS11236', 'ACR1185', 'CAR1335', 'ART102')
  country?: string; // ISO 3166-1 alpha-2 from the serial
  vintageYear?: number;
  vintageStart?: string; // 'YYYY-MM-DD' where the serial encodes dates (Verra)
  vintageEnd?: string;
};

export type SerialResult = { ok: true; range: SerialRange } | { ok: false; error: string };

/** Units a range holds: both ends are included. */
export function serialCount(range: SerialRange): number {
  return range.end - range.start + 1;
}

/** A row's quantity must equal end - start + 1 (DESIGN §5). Returns an error message naming both, or undefined. */
export function quantityMismatch(range: SerialRange, quantity: number): string | undefined {
  const units = serialCount(range);
  if (!Number.isSafeInteger(quantity)) {
    return `${quoteSerial(range.raw)}: the row's quantity ${String(quantity)} is not a whole number, but the serial holds ${formatCount(units)} units`;
  }
  if (quantity === units) return undefined;
  return `${quoteSerial(range.raw)}: ${formatCount(units)} units but the row says ${formatCount(quantity)}`;
}

// ---- helpers the registry parsers share ----

/** The failure every parser returns: the serial as the user gave it, then what is wrong with it. */
export function serialError(raw: string, problem: string): { ok: false; error: string } {
  return { ok: false, error: `${quoteSerial(raw)}: ${problem}` };
}

/**
 * The input as text, trimmed, or a failure. Parsers promise never to throw, and files or JSON can hand
 * them a number, null or undefined where a serial should be.
 */
export function serialText(raw: unknown): { ok: true; text: string } | { ok: false; error: string } {
  if (typeof raw !== 'string') return { ok: false, error: `serial is missing (got ${raw === null ? 'null' : typeof raw} instead of text)` };
  const text = raw.trim();
  if (text === '') return { ok: false, error: 'serial is empty' };
  return { ok: true, text };
}

/**
 * A run of ASCII digits as a safe integer, or undefined. Leading zeros are allowed because registries
 * pad some tokens (Verra's own example is `0001-000001-000100-…`).
 */
export function parseDigits(token: string | undefined): number | undefined {
  if (token === undefined || !/^\d+$/.test(token)) return undefined;
  const value = Number(token);
  return Number.isSafeInteger(value) ? value : undefined;
}

/**
 * The start and end tokens of a range as a checked pair of unit numbers, or the reason they are not
 * one: not a number, too large to compare exactly (beyond 2^53 − 1), or backwards.
 */
export function parseBounds(
  raw: string,
  startToken: string | undefined,
  endToken: string | undefined,
): { ok: true; start: number; end: number } | { ok: false; error: string } {
  const start = parseDigits(startToken);
  if (start === undefined) return serialError(raw, describeBadNumber('start', startToken));
  const end = parseDigits(endToken);
  if (end === undefined) return serialError(raw, describeBadNumber('end', endToken));
  if (end < start) return serialError(raw, `end ${end} is before start ${start}`);
  return { ok: true, start, end };
}

/**
 * Splits `<prefix>-<start> to <end>`, the range notation of the APX/GreenTrace registries (ACR, CAR,
 * ART), into the dash-separated tokens before " to " (the last of which is the start) and the end.
 */
export function splitToRange(raw: string): { ok: true; tokens: string[]; end: string } | { ok: false; error: string } {
  // A trailing " to" with nothing after it still counts as the separator, so the message can say the end is missing.
  const sides = raw.split(/\s+to(?:\s+|$)/);
  if (sides.length !== 2) {
    return serialError(raw, sides.length === 1 ? 'expected a range written "<first serial> to <last number>", found no " to "' : `expected one " to ", found ${sides.length - 1}`);
  }
  const [left, end] = sides as [string, string];
  return { ok: true, tokens: left.split('-'), end };
}

/** A vintage year as these registries write it: four digits, 19xx or 20xx. */
export function parseVintageYear(token: string | undefined): number | undefined {
  return token !== undefined && /^(19|20)\d\d$/.test(token) ? Number(token) : undefined;
}

/** Two uppercase letters, the shape of ISO 3166-1 alpha-2 (whether the code is assigned is the taxonomy's job). */
export function isCountryCode(token: string | undefined): token is string {
  return token !== undefined && /^[A-Z]{2}$/.test(token);
}

/**
 * A project number as the registries' own project-id columns write it: ACR's CSV says `ACR681` where
 * its API says `ACR0681`, so leading zeros are dropped to give one spelling per project.
 */
export function canonicalProjectNumber(token: string): string {
  return String(Number(token));
}

/** Serials can be long or garbage; an error message quotes at most 80 characters of one. */
function quoteSerial(raw: string): string {
  const shown = raw.length > 80 ? `${raw.slice(0, 80)}…` : raw;
  return `serial "${shown}"`;
}

function describeBadNumber(which: 'start' | 'end', token: string | undefined): string {
  if (token === undefined || token === '') return `${which} number is missing`;
  if (/^\d+$/.test(token)) return `${which} ${token} is too large to compare exactly (more than 2^53 − 1)`;
  return `${which} "${token}" is not a whole number`;
}

function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}
