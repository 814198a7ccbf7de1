// Project names as the linking step compares them (jobs/integrity/project-links.ts). The ingest job
// stores each project's distinctive name (projects.name_key), so candidates are found through a
// trigram index on what tells projects apart, not on the words they all share.

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

