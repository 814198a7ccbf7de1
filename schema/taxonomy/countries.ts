import countryRows from './data/countries.json' with { type: 'json' };
import spellingData from './data/country-spellings.json' with { type: 'json' };

// ISO 3166-1 countries with English and Japanese names, and every way the registries spell them
// ("United States of America", "CONGO, THE DEMOCRATIC REPUBLIC OF THE", "Viet Nam", "CIV"…).

export type Country = {
  /** ISO 3166-1 alpha-2, or a user-assigned code (XZ: international). */
  code: string;
  alpha3: string | null;
  numeric: string | null;
  en: string;
  ja: string;
};

type Row = Country & { aliases: string[] };

const rows: Row[] = [...(countryRows as Row[]), ...(spellingData.userAssigned as Row[])];

export const countries: readonly Country[] = rows.map(({ code, alpha3, numeric, en, ja }) => ({ code, alpha3, numeric, en, ja }));

const byCode = new Map(countries.map((c) => [c.code, c]));
const byAlpha3 = new Map(countries.filter((c) => c.alpha3).map((c) => [c.alpha3!, c]));

/**
 * Folds the differences registries make between spellings of one name: case, accents, punctuation,
 * "&" for "and", the article ISO 3166's short names put anywhere ("The Gambia", "Gambia, The",
 * "Philippines (the)", "Korea (the Republic of)"). "CONGO, THE DEMOCRATIC REPUBLIC OF THE" and
 * "Congo the Democratic Republic of the" fold to the same key.
 */
export function foldName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/\(the\)\s*$|,\s*the\s*$/, '')
    .replace(/([,(])\s*the\s+/g, '$1 ')
    .replace(/&/g, ' and ')
    .replace(/[.,'’()\-–/]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/^the /, '');
}

const byName = new Map<string, string>();
function addName(name: string, code: string): void {
  const key = foldName(name);
  const existing = byName.get(key);
  if (existing && existing !== code) throw new Error(`country spelling "${name}" maps to both ${existing} and ${code}`);
  byName.set(key, code);
}
for (const row of rows) {
  addName(row.en, row.code);
  addName(row.ja, row.code);
  for (const alias of row.aliases) addName(alias, row.code);
}
for (const [spelling, code] of Object.entries(spellingData.spellings)) {
  if (!byCode.has(code)) throw new Error(`country spelling "${spelling}" maps to unknown code ${code}`);
  addName(spelling, code);
}

/**
 * The country a registry means, from a name in any registry's spelling (English or Japanese) or an
 * ISO alpha-2 / alpha-3 code. Undefined when nothing matches: callers record the raw value.
 */
export function resolveCountry(value: string | null | undefined): Country | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^[A-Za-z]{2}$/.test(text)) {
    const direct = byCode.get(text.toUpperCase());
    if (direct) return direct;
  }
  if (/^[A-Za-z]{3}$/.test(text)) {
    const direct = byAlpha3.get(text.toUpperCase());
    if (direct) return direct;
  }
  const code = byName.get(foldName(text));
  return code ? byCode.get(code) : undefined;
}

export function countryByCode(code: string): Country | undefined {
  return byCode.get(code.toUpperCase());
}

/** Every English name Tally knows for a country (official, alternatives, registry spellings), e.g. to query an API by name. */
export function countryNames(): string[] {
  return [...new Set([
    ...rows.flatMap((row) => [row.en, ...row.aliases]),
    ...Object.keys(spellingData.spellings),
  ])];
}
