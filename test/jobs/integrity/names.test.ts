import { describe, expect, it } from 'vitest';
import { distinctiveName, nameNumbers, namePhase, trigramSimilarity } from '../../../jobs/integrity/names.ts';
import { INFERRED_LINK_THRESHOLD, scoreCandidate } from '../../../jobs/integrity/project-links.ts';

// What the linker compares of two project names (jobs/integrity/names.ts).

describe('project names as the linker compares them', () => {
  it('when two phases differ only by a roman numeral, then their phases differ; a name without one has none', () => {
    // Names of two different mine-gas projects at ACR and CARB (test/fixtures/registry-samples/).
    expect(namePhase('Marshall County Flare III')).toBe('3');
    expect(namePhase('Marshall County Flare VI')).toBe('6');
    expect(distinctiveName('Marshall County Flare III')).toBe(distinctiveName('Marshall County Flare VI'));
    expect(namePhase('Marshall County 6N6S District Flare Project I')).toBe('1');
    expect(namePhase('Corinth Abandoned Mine Methane Project')).toBe('');
    expect(namePhase('Mix and Vita Cookstoves')).toBe('');
    expect(nameNumbers('Tradewater ODS 062')).toBe(nameNumbers('Tradewater ODS 62'));
  });

  it("when Japanese names share only a company's legal form, then that form is not part of what tells them apart", () => {
    expect(distinctiveName('株式会社東北ボイラー ボイラーの更新')).toBe(distinctiveName('東北ボイラー有限会社 ボイラーの更新'));
    expect(distinctiveName('国立大学法人 北海道大学における照明更新')).toBe('北海道大学における照明更新');
  });
});

describe('inferred links between J-Credit and its predecessor', () => {
  // Real rows of the J-Credit list (test/fixtures/registry-samples/j-credit/): its "names" are summaries of the work.
  const project = (key: string, name: string, proponent: string) => ({
    id: 0, key, registry: key.split(':')[0]!, country: 'JP', name, proponent, methodologies: [], type: null, category: 'energy-efficiency',
    lat: null, lon: null, owner: null, isPrivate: false,
  });
  const score = (a: ReturnType<typeof project>, b: ReturnType<typeof project>) =>
    scoreCandidate(a, b, trigramSimilarity(distinctiveName(a.name), distinctiveName(b.name)));

  it('when two paper mills replaced a boiler, then the same summary does not make them one activity', () => {
    expect(score(project('j-credit:151', '製紙工場におけるボイラーの更新', '泉製紙株式会社'),
      project('japan-domestic-credit:KC1280', '製紙工場におけるボイラーの更新 (重油→LPG)', '大高製紙株式会社'))).toBeUndefined();
  });

  it('when the same inn carries its boiler project from Domestic Credit into J-Credit, then the two are linked', () => {
    expect(score(project('j-credit:46', '宿泊施設におけるボイラーの更新', '株式会社中の坊'),
      project('japan-domestic-credit:KC1310', '宿泊施設におけるボイラーの更新 (重油→都市ガス)', '株式会社中の坊'))?.score).toBeGreaterThanOrEqual(INFERRED_LINK_THRESHOLD);
  });
});
