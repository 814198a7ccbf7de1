import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { enumVocabularies } from '../../schema/db/enums.ts';
import { registries } from '../../connectors/index.ts';
import {
  classifyMethodology, classifyProject, countries, isTerm, jCreditCategoryOf, labelOf, projectType, projectTypeKeys, resolveCountry,
  termFromCadt, vocabularies, type VocabularyName,
} from '../../schema/taxonomy/index.ts';
import { readCsv } from '../helpers/csv.ts';

const samples = new URL('../fixtures/registry-samples/', import.meta.url);
const sampleFiles = readdirSync(samples, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.csv'));

/** Distinct non-empty values of the named columns across every sample file. */
function sampleValues(columns: string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of sampleFiles) {
    for (const row of readCsv(new URL(file, samples))) {
      for (const column of columns) {
        const value = row[column]?.trim();
        if (value && !found.has(value)) found.set(value, `${file} ${column}`);
      }
    }
  }
  return found;
}

describe('vocabularies', () => {
  it('when any term is shown, then it has an English and a Japanese label, and codes are unique', () => {
    for (const [name, vocabulary] of Object.entries(vocabularies)) {
      expect(vocabulary.label.en, name).toBeTruthy();
      expect(vocabulary.label.ja, name).toBeTruthy();
      const codes = vocabulary.terms.map((t) => t.code);
      expect(new Set(codes).size, `${name} has duplicate codes`).toBe(codes.length);
      for (const term of vocabulary.terms) {
        expect(term.en.trim(), `${name}.${term.code} en`).not.toBe('');
        expect(term.ja.trim(), `${name}.${term.code} ja`).not.toBe('');
      }
    }
  });

  it('when the database enforces an enum, then its values are exactly the terms of the vocabulary of that name', () => {
    for (const [name, pgEnum] of Object.entries(enumVocabularies)) {
      expect(vocabularies[name], `vocabulary ${name}`).toBeDefined();
      expect([...pgEnum.enumValues].sort(), name).toEqual(vocabularies[name]!.terms.map((t) => t.code).sort());
    }
  });

  it('when CAD Trust spells a picklist value, then it maps to our term', () => {
    expect(termFromCadt('unitStatus', 'Pending Export')?.code).toBe('pending-export');
    expect(termFromCadt('projectStatus', 'De-registered')?.code).toBe('deregistered');
    expect(termFromCadt('caDeclaration', 'Not Required')?.code).toBe('not-required');
    expect(labelOf('unitStatus', 'retired', 'ja')).toBe('無効化済み');
    expect(labelOf('jCreditCategory', 'energy-saving', 'ja')).toBe('省エネ');
  });

  it('when a J-Credit category is shown, then it names the six categories Japanese users know, each mapped to a common category', () => {
    const terms = vocabularies.jCreditCategory!.terms;
    expect(terms.map((t) => t.ja)).toEqual(['省エネ', '再エネ', '工業プロセス', '農業', '廃棄物', '森林']);
    for (const t of terms) expect(isTerm('category', t.category as string), t.code).toBe(true);
  });

  it('when a project type is used, then it has both labels, a known category and reduction/removal', () => {
    expect(projectTypeKeys.length).toBeGreaterThanOrEqual(77);
    for (const key of projectTypeKeys) {
      const type = projectType(key)!;
      expect(type.en && type.ja, key).toBeTruthy();
      expect(isTerm('category', type.category), `${key}: ${type.category}`).toBe(true);
      expect(isTerm('reductionRemoval', type.reductionRemoval), key).toBe(true);
    }
  });

  it('when a registry is seeded, then it has both names and a known kind and serial scheme', () => {
    for (const registry of registries()) {
      expect(registry.name && registry.nameJa, registry.id).toBeTruthy();
      expect(isTerm('registryKind' as VocabularyName, registry.kind), registry.id).toBe(true);
      expect(isTerm('serialScheme' as VocabularyName, registry.serialScheme), registry.id).toBe(true);
    }
  });
});

describe('countries', () => {
  it('when a country is shown, then it has an English and a Japanese name and unique codes', () => {
    expect(countries.length).toBeGreaterThanOrEqual(249);
    for (const c of countries) expect(c.en && c.ja, c.code).toBeTruthy();
    const alpha3 = countries.map((c) => c.alpha3).filter(Boolean);
    expect(new Set(alpha3).size).toBe(alpha3.length);
  });

  it('when a registry spells a country its own way, then it resolves to the ISO code', () => {
    const cases: Record<string, string> = {
      'United States of America': 'US',
      'CONGO, THE DEMOCRATIC REPUBLIC OF THE': 'CD',
      'Congo the Democratic Republic of the': 'CD',
      Congo: 'CG',
      "COTE D'IVOIRE": 'CI',
      "Côte d'Ivoire": 'CI',
      'Taiwan Province of China': 'TW',
      'Tanzania United Republic of': 'TZ',
      'Viet Nam': 'VN',
      Turkey: 'TR',
      CIV: 'CI',
      NA: 'NA', // Namibia, not a placeholder (reference/registries.md §3.4)
      International: 'XZ',
      コートジボワール: 'CI',
      'Domincan Republic': 'DO', // CAD Trust picklist typo
    };
    for (const [spelling, code] of Object.entries(cases)) expect(resolveCountry(spelling)?.code, spelling).toBe(code);
    expect(resolveCountry('Atlantis')).toBeUndefined();
    expect(resolveCountry('')).toBeUndefined();
  });

  it('when every country spelling in the registry samples is resolved, then none is left without an ISO code', () => {
    const spellings = sampleValues(['Country/Area', 'Country', 'Project Site Country', 'Program  Country',
      'supplier.location.country_name', 'supplier.location.country_code', 'country_code']);
    expect(spellings.size).toBeGreaterThan(80);
    const unresolved = [...spellings].filter(([spelling]) => !resolveCountry(spelling)).map(([s, where]) => `${s} (${where})`);
    expect(unresolved).toEqual([]);
  });
});

describe('methodology classification', () => {
  it('when a registry writes a protocol its own way, then it classifies to the protocol, category and type', () => {
    expect(classifyMethodology('ACM0002')).toMatchObject({ protocols: ['acm0002'], category: 'renewable-energy', projectType: 're bundled' });
    expect(classifyMethodology('VM0007; VM0010; VM0048')).toMatchObject({ protocols: ['vm0007', 'vm0010', 'vm0048'], category: 'forest', projectType: 'redd+' });
    expect(classifyMethodology('Adipic Acid - Version 1.0')).toMatchObject({ protocols: ['car-adipic'], category: 'ghg-management' });
    expect(classifyMethodology('Mine Methane Capture - ARB Compliance - ARB Compliance Offset Protocol Mine Methane Capture, April 25, 2014'))
      .toMatchObject({ protocols: ['arb-mine-methane'], projectType: 'mine methane capture' });
    // The 2026 Verra format appends "(Version NA)"; a new spelling with an embedded code still maps.
    expect(classifyMethodology('ACM0001: Flaring or use of landfill gas (Version NA)')).toMatchObject({ protocols: ['acm0001'], unmatched: [] });
    expect(classifyMethodology('direct-air-capture')).toMatchObject({ protocols: ['iso-dac'], category: 'carbon-capture' });
  });

  it('when a string matches nothing, then it is returned as unmatched, never dropped', () => {
    expect(classifyMethodology('Not provided')).toEqual({ protocols: [], unmatched: ['Not provided'], category: 'unknown', projectType: null });
    expect(classifyMethodology('VMR0016; ACM0002')).toMatchObject({ protocols: ['acm0002'], unmatched: ['VMR0016'] });
    expect(classifyMethodology('')).toEqual({ protocols: [], unmatched: [], category: 'unknown', projectType: null });
  });

  it('when a project is classified, then Berkeley\'s per-project type wins over the protocol and sets reduction/removal', () => {
    const humbo = classifyProject({ registry: 'verra', registryProjectId: '1340', methodology: 'AR-AM0003' });
    expect(humbo).toMatchObject({ category: 'forest', projectTypeSource: 'berkeley' });
    expect(humbo.reductionRemoval).not.toBeNull();
  });

  it('when every methodology string in the registry samples is classified, then each lands in a protocol or in unmatched, and the unmatched share is reported', () => {
    const strings = sampleValues(['Methodology', 'Project Methodology/Protocol', 'Protocol and Version', 'quantification_method', 'protocol_slug']);
    let unmatched = 0;
    const misses: string[] = [];
    for (const [text] of strings) {
      const result = classifyMethodology(text);
      expect(result.protocols.length + result.unmatched.length, text).toBeGreaterThan(0);
      if (result.protocols.length === 0) {
        unmatched += 1;
        misses.push(text);
      } else {
        expect(result.category, text).not.toBe('unknown');
      }
    }
    const share = unmatched / strings.size;
    console.log(`methodology strings in samples: ${strings.size}, unmatched ${unmatched} (${(share * 100).toFixed(1)}%): ${misses.join(' | ')}`);
    expect(share).toBeLessThan(0.1);
  });

  it('when a J-Credit project names its methodology, then the code maps to its J-Credit category and the common category', () => {
    const rows = readCsv(new URL('../fixtures/j-credit/registration-list-sample.csv', import.meta.url));
    const methodologyColumn = Object.keys(rows[0]!).find((k) => k.startsWith('適用方法論'))!;
    const current = rows.filter((r) => r['分類']!.startsWith('【J-クレジット】'));
    expect(current.length).toBe(12);
    for (const row of current) {
      const text = row[methodologyColumn]!;
      const code = text.match(/(EN-S|EN-R|IN|AG|WA|FO)-\d{3}/)![0];
      const result = classifyMethodology(text);
      expect(result.protocols, text).toContain(`j-credit-${code.toLowerCase()}`);
      expect(result.category, text).toBe(jCreditCategoryOf(code)!.category);
    }
    expect(jCreditCategoryOf('EN-S-001')?.ja).toBe('省エネ');
    expect(jCreditCategoryOf('FO-002')?.ja).toBe('森林');
    // Legacy 国内クレジット and J-VER method numbers are kept as unmatched, not dropped.
    const legacy = rows.filter((r) => !r['分類']!.startsWith('【J-クレジット】'));
    for (const row of legacy) {
      const result = classifyMethodology(row[methodologyColumn]);
      expect(result.protocols.length + result.unmatched.length, row[methodologyColumn]).toBeGreaterThan(0);
    }
  });
});
