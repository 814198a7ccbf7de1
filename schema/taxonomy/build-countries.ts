// Writes data/countries.json from the i18n-iso-countries package (MIT): ISO 3166-1 alpha-2, alpha-3 and
// numeric codes with English and Japanese names, and the English alternative names it knows.
// Registry spellings it does not know are kept by hand in data/country-spellings.json.
// Run with `npm run taxonomy:countries` when the package is updated; the output is committed.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import countries from 'i18n-iso-countries';

const require = createRequire(import.meta.url);
countries.registerLocale(require('i18n-iso-countries/langs/en.json'));
countries.registerLocale(require('i18n-iso-countries/langs/ja.json'));

const en = countries.getNames('en', { select: 'all' });
const ja = countries.getNames('ja', { select: 'official' });
const codes = Object.keys(countries.getAlpha2Codes()).sort();

// An alternative name claimed by two countries belongs to the one whose official name it is
// ("Congo" is the Republic of the Congo, not the Democratic Republic); otherwise to neither.
const claims = new Map<string, string[]>();
for (const code of codes) for (const name of en[code] ?? []) claims.set(name, [...(claims.get(name) ?? []), code]);
const ownerOf = (name: string) => {
  const claimants = claims.get(name) ?? [];
  if (claimants.length === 1) return claimants[0];
  return claimants.find((code) => en[code]?.[0] === name);
};

const rows = codes.map((code) => {
  const [official, ...others] = en[code] ?? [];
  return {
    code,
    alpha3: countries.alpha2ToAlpha3(code),
    numeric: countries.alpha2ToNumeric(code),
    en: official,
    ja: ja[code],
    aliases: others.filter((name) => ownerOf(name) === code),
  };
});

const out = new URL('./data/countries.json', import.meta.url);
// One country per line, so a change to the package's data reads as a small diff.
writeFileSync(out, `[\n${rows.map((row) => JSON.stringify(row)).join(',\n')}\n]\n`);
console.log(`wrote ${rows.length} countries to ${out.pathname}`);
