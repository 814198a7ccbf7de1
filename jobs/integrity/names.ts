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

const words = (name: string) => name.toLowerCase()
  .replace(/\b(vcs|gs|car|acr|art|cdm|pv)[\s-]*\d+\b/g, ' ')
  .replace(/[^\p{L}\p{N}]+/gu, ' ')
  .split(' ');

/** The distinctive words of a project name: lower-case, registry ids, numbers and generic words set aside. */
export function distinctiveName(name: string): string {
  return words(name).filter((w) => w.length > 1 && !GENERIC_WORDS.has(w) && !/^\d+$/.test(w)).join(' ');
}

/** The numbers a name carries (`Tradewater ODS 62`, `Mine 84`): projects in a numbered series differ by them. */
export function nameNumbers(name: string): string {
  return words(name).filter((w) => /^\d+$/.test(w)).map((w) => w.replace(/^0+(?=\d)/, '')).sort().join(' ');
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
