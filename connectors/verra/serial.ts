import {
  canonicalProjectNumber,
  isCountryCode,
  parseBounds,
  parseDigits,
  serialError,
  serialText,
  type SerialResult,
} from '../runtime/serial.ts';

/**
 * Registries that have held Verra units, by the code a serial carries. Verra's own registry writes
 * `VER`; units from the legacy APX and Markit (`MER`) registries keep those codes. We do not assume
 * the three shared one numbering, so each code is its own number space.
 */
const REGISTRY_CODES = ['VER', 'APX', 'MER'] as const;

/**
 * Parses a Verra VCU serial (reference `registries.md` §1.4):
 * `batch-start-end-VCS-VCU-<code>-<VER|APX|MER>-<ISO2>-[<sectoral scope>]-<projectId>-<DDMMYYYY>-<DDMMYYYY>-<flag>`.
 * Serials from the legacy registries have no `VCS-` token. The sectoral scope is missing on some
 * current serials, so the tail is read from the end (flag, vintage end, vintage start, project id) and
 * whatever lies between the country and the project id is the scope.
 */
export function parseVerraSerial(raw: string): SerialResult {
  const input = serialText(raw);
  if (!input.ok) return input;
  const text = input.text;
  const tokens = text.split('-');

  // Legacy APX/Markit serials start their programme part at "VCU"; current ones at "VCS-VCU".
  const legacy = tokens[3] === 'VCU';
  const [most, fewest] = legacy ? [12, 11] : [13, 12];
  if (tokens.length !== most && tokens.length !== fewest) {
    const form = legacy ? ' (a legacy serial, without "VCS")' : '';
    return serialError(text, `expected ${most} or ${fewest} dash-separated parts${form}, found ${tokens.length}`);
  }

  if (parseDigits(tokens[0]) === undefined) return serialError(text, `issuance batch "${tokens[0]}" is not a whole number`);
  const bounds = parseBounds(text, tokens[1], tokens[2]);
  if (!bounds.ok) return bounds;

  if (!legacy && !(tokens[3] === 'VCS' && tokens[4] === 'VCU')) {
    return serialError(text, `expected "VCS-VCU" (or "VCU" alone on legacy serials) after the numbers, found "${tokens[3]}-${tokens[4]}"`);
  }
  const unitIndex = legacy ? 3 : 4;
  // The token after VCU is labelled `vvb_id` by one public parser; nothing documents it, so it is only checked for shape.
  const code = tokens[unitIndex + 1] ?? '';
  if (!/^[A-Z0-9]+$/.test(code)) return serialError(text, `code "${code}" after VCU should be letters or digits`);

  const registry = tokens[unitIndex + 2] ?? '';
  if (!(REGISTRY_CODES as readonly string[]).includes(registry)) {
    return serialError(text, `registry code "${registry}" is not one Verra serials use (VER, APX or MER)`);
  }
  const countryIndex = unitIndex + 3;
  const country = tokens[countryIndex];
  if (!isCountryCode(country)) return serialError(text, `country "${country ?? ''}" after ${registry} is not a two-letter code`);

  const last = tokens.length - 1;
  const flag = tokens[last] ?? '';
  // 0 or 1 on every serial seen; 1 marks an additional certification such as CCB.
  if (flag !== '0' && flag !== '1') return serialError(text, `last part "${flag}" should be the flag 0 or 1`);
  const vintageStart = ddmmyyyyToIso(tokens[last - 2]);
  if (vintageStart === undefined) return serialError(text, `vintage start "${tokens[last - 2]}" is not a date written DDMMYYYY`);
  const vintageEnd = ddmmyyyyToIso(tokens[last - 1]);
  if (vintageEnd === undefined) return serialError(text, `vintage end "${tokens[last - 1]}" is not a date written DDMMYYYY`);
  if (vintageEnd < vintageStart) return serialError(text, `vintage end ${vintageEnd} is before vintage start ${vintageStart}`);

  const projectToken = tokens[last - 3] ?? '';
  if (parseDigits(projectToken) === undefined) return serialError(text, `project id "${projectToken}" is not a number`);
  // The token count leaves room for at most one scope token between the country and the project id.
  const scope = tokens.slice(countryIndex + 1, last - 3);
  if (scope.some((token) => parseDigits(token) === undefined)) {
    return serialError(text, `sectoral scope "${scope.join('-')}" is not a number`);
  }

  return {
    ok: true,
    range: {
      // Verra numbers blocks registry-wide (DESIGN §5): no project or batch in the number space.
      numberSpace: `verra:${registry}`,
      start: bounds.start,
      end: bounds.end,
      raw: text,
      // Verra's ID column writes the bare number ('1340'), so padding such as '0003' is dropped.
      projectId: canonicalProjectNumber(projectToken),
      country,
      vintageYear: Number(vintageStart.slice(0, 4)),
      vintageStart,
      vintageEnd,
    },
  };
}

/** 'DDMMYYYY' as 'YYYY-MM-DD' if it names a real calendar day, else undefined. */
function ddmmyyyyToIso(token: string | undefined): string | undefined {
  const match = token === undefined ? null : /^(\d\d)(\d\d)(\d{4})$/.exec(token);
  if (!match) return undefined;
  const [, dd, mm, yyyy] = match as unknown as [string, string, string, string];
  const day = Number(dd);
  const month = Number(mm);
  const year = Number(yyyy);
  if (year < 1900 || month < 1 || month > 12 || day < 1) return undefined;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day > daysInMonth) return undefined;
  return `${yyyy}-${mm}-${dd}`;
}
