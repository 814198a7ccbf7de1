// Project names as the linking step compares them (jobs/integrity/project-links.ts): by what tells
// projects apart, not by the words they all share.

/** Words nearly every project name uses: alike on these alone says nothing about being one activity. */
const GENERIC_WORDS = new Set([
  'project', 'projects', 'programme', 'program', 'the', 'of', 'and', 'in', 'at', 'for', 'de', 'la', 'el', 'do', 'da', 'del', 'des', 'du',
  'grouped', 'bundled', 'bundle', 'cpa', 'vpa', 'poa', 'activity', 'activities', 'ltd', 'limited', 'inc', 'llc', 'pvt', 'sa', 'company',
  'wind', 'solar', 'hydro', 'hydropower', 'power', 'energy', 'renewable', 'plant', 'farm', 'station', 'generation', 'electricity', 'mw',
  'biomass', 'biogas', 'landfill', 'gas', 'methane', 'capture', 'destruction', 'recovery', 'utilization', 'waste', 'wastewater', 'treatment',
  'forest', 'forestry', 'forests', 'reforestation', 'afforestation', 'conservation', 'redd', 'ifm', 'management', 'improved', 'carbon',
  'cookstove', 'cookstoves', 'stoves', 'stove', 'efficient', 'clean', 'cooking', 'household', 'households', 'water', 'filters', 'purification',
  'emission', 'emissions', 'reduction', 'reductions', 'mine', 'coal', 'cer', 'conversion', 'phase', 'unit', 'units', 'new',
  'abandoned', 'incineration', 'flaring', 'ods', 'us', 'usa',
]);

/** Legal forms in Japanese names (one "word" with the rest, as Japanese has no spaces): alike on these says nothing. */
const JAPANESE_LEGAL_FORMS = /株式会社|有限会社|合同会社|合資会社|合名会社|一般社団法人|一般財団法人|公益社団法人|公益財団法人|国立大学法人|独立行政法人|地方独立行政法人|社会福祉法人|医療法人|学校法人|特定非営利活動法人|協同組合/g;

const ROMAN = /^(?=[ivx]+$)(x{0,3})(ix|iv|v?i{0,3})$/;
/** A roman numeral word (`iii`, `vi`) as its number; phases and units are numbered either way. */
function romanValue(word: string): number | undefined {
  const m = ROMAN.exec(word);
  if (!m || word === '') return undefined;
  const tail: Record<string, number> = { '': 0, i: 1, ii: 2, iii: 3, iv: 4, v: 5, vi: 6, vii: 7, viii: 8, ix: 9 };
  return m[1]!.length * 10 + tail[m[2]!]!;
}

const words = (name: string) => name.toLowerCase()
  .replace(/\b(vcs|gs|car|acr|art|cdm|pv)[\s-]*\d+\b/g, ' ')
  .replace(JAPANESE_LEGAL_FORMS, ' ')
  .replace(/[^\p{L}\p{N}]+/gu, ' ')
  .split(' ');

/** The distinctive words of a project name: lower-case, registry ids, numbers and generic words set aside. */
export function distinctiveName(name: string): string {
  return words(name).filter((w) => w.length > 1 && !GENERIC_WORDS.has(w) && !/^\d+$/.test(w) && romanValue(w) === undefined).join(' ');
}

/** The numbers a name carries (`Tradewater ODS 62`, `Mine 84`): projects in a numbered series differ by them. */
export function nameNumbers(name: string): string {
  return words(name).filter((w) => /^\d+$/.test(w)).map((w) => w.replace(/^0+(?=\d)/, '')).sort().join(' ');
}

/**
 * The phase a name numbers in roman numerals (`Flare III` → `3`), or '' when it has none. Two phases
 * with different numerals are different projects; a name without one may be the whole series
 * (a registry that lists phases I and II under one project).
 */
export function namePhase(name: string): string {
  return words(name).map(romanValue).filter((n) => n !== undefined).sort().join(' ');
}

/** Legal forms in English names of companies: alike on these says nothing about being one company. */
const LEGAL_FORMS = new Set(['llc', 'inc', 'ltd', 'limited', 'co', 'corp', 'corporation', 'company', 'gmbh', 'sa', 'sas', 'srl', 'pvt', 'private', 'plc', 'lp', 'llp', 'bv', 'ag']);

/** A proponent's name as the linker compares it: lower-case, legal forms (`LLC`, `株式会社`) set aside. */
export function distinctiveProponent(name: string): string {
  return name.toLowerCase().replace(JAPANESE_LEGAL_FORMS, ' ').replace(/[^\p{L}\p{N}]+/gu, ' ').split(' ')
    .filter((w) => w !== '' && !LEGAL_FORMS.has(w)).join(' ');
}

/** The trigrams of a text's words, as pg_trgm makes them (each word padded with two spaces before, one after). */
export function trigrams(text: string): Set<string> {
  const grams = new Set<string>();
  for (const word of text.split(' ').filter(Boolean)) {
    const padded = `  ${word} `;
    for (let i = 0; i + 3 <= padded.length; i += 1) grams.add(padded.slice(i, i + 3));
  }
  return grams;
}

/** pg_trgm's similarity: shared trigrams over all trigrams of the two texts' words. */
export function trigramSimilarity(a: string, b: string): number {
  const ta = trigrams(a);
  const tb = trigrams(b);
  if (ta.size === 0 || tb.size === 0) return 0;
  let shared = 0;
  for (const g of ta) if (tb.has(g)) shared += 1;
  return shared / (ta.size + tb.size - shared);
}
