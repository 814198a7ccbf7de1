import { describe, expect, it } from 'vitest';
import { findingKind } from '../../schema/db/enums.ts';
import { evidenceEntries } from '../../schema/messages/evidence.ts';
import { catalogues, msg, parameterNames, render, type MessageKey } from '../../schema/messages/index.ts';
import { localizeLocator, renderRowError } from '../../schema/messages/row-errors.ts';
import { vocabularies } from '../../schema/taxonomy/index.ts';

// The message catalogues (schema/messages): one per language, keyed by the kind of message, with named
// parameters. What one language says, the other must say with the same parameters.

const keys = Object.keys(catalogues.en) as MessageKey[];

describe('message catalogues', () => {
  it('when a key is in one catalogue, then the other has it, not empty, with the same parameter names', () => {
    expect(Object.keys(catalogues.ja).sort()).toEqual([...keys].sort());
    for (const key of keys) {
      expect(catalogues.ja[key].trim(), key).not.toBe('');
      expect(parameterNames(catalogues.ja[key]).sort(), key).toEqual(parameterNames(catalogues.en[key]).sort());
    }
  });

  it('when a finding kind exists (database enum and taxonomy), then both catalogues word its title', () => {
    const kinds = [...new Set([...findingKind.enumValues, ...vocabularies.findingKind!.terms.map((t) => t.code)])];
    expect(kinds.length).toBeGreaterThanOrEqual(15);
    for (const kind of kinds) {
      const key = `finding.${kind}` as MessageKey;
      expect(catalogues.en[key], `en ${key}`).toBeTruthy();
      expect(catalogues.ja[key], `ja ${key}`).toBeTruthy();
    }
  });

  it('when a message is rendered, then numbers are grouped per locale, codes take their taxonomy label and nested messages their language', () => {
    const title = msg('finding.retired-twice', {
      units: 12345, start: '1001', end: '13345', numberSpace: 'verra', status: msg('verb.retired'),
      dates: msg('word.dates', { first: '2024-01-02', second: msg('word.noDate') }),
    });
    expect(render('en', title)).toBe('12,345 units (1001–13345) of verra are retired twice (2024-01-02 and no date)');
    expect(render('ja', title)).toBe('verra の 12,345 ユニット（1001–13345）が二重に無効化されています（2024-01-02、日付なし）');
    const status = { term: 'unitStatus' as const, code: 'retired', inSentence: true };
    expect(render('en', msg('mirror.heldElsewhere', { units: 5, states: { list: [status], join: 'slash' } }))).toBe('5 units it reports held are retired in the record');
    expect(render('ja', msg('mirror.heldElsewhere', { units: 5, states: { list: [status], join: 'slash' } }))).toContain('無効化済み');
  });

  it('when evidence is shown in Japanese, then its labels and Tally\'s codes are Japanese and the registries\' words stay as written', () => {
    const entries = evidenceEntries('ja', {
      numberSpace: 'socialcarbon:X', overlap: { start: 26, end: 26, units: 1 },
      blocks: [{ registry: 'socialcarbon', status: 'retired', quantity: 1200, beneficiary: 'Zumo Financial Services Limited' }],
      why: msg('value.why.inside-ndc'), sources: [{ locator: 'item 17', batch: 3 }],
    });
    // What the finding is about first, then where to check it.
    expect(entries.map((e) => e.label)).toEqual(['理由', '番号空間', '重複', 'ブロック', '出典の記録']);
    const block = entries[3]!.items![0]!.entries!;
    expect(block).toEqual([
      { key: 'registry', label: '登録簿', text: 'socialcarbon' }, { key: 'quantity', label: '数量', text: '1,200' },
      { key: 'status', label: 'ステータス', text: '無効化済み' }, { key: 'beneficiary', label: '受益者', text: 'Zumo Financial Services Limited' },
    ]);
    expect(entries[0]!.text).toContain('NDC の対象内');
    expect(entries[4]!.items![0]!.entries).toEqual([{ key: 'locator', label: 'ソース内の位置', text: '17件目' }, { key: 'batch', label: 'バッチ', text: '3' }]);
  });

  it('when a row error has a code the catalogues word and its parameters, then it reads in Japanese; otherwise as stored', () => {
    const error = { locator: 'line 4', field: 'Quantity', code: 'not-a-number', message: 'line 4: Quantity: "12a" is not a number', params: { value: '12a' } };
    expect(renderRowError('en', error)).toEqual({ locator: 'line 4', message: 'line 4: Quantity: "12a" is not a number' });
    expect(renderRowError('ja', error)).toEqual({ locator: '4行目', message: '4行目：Quantity：「12a」は数値ではありません' });
    const unknown = { locator: 'line 5', field: 'Serial', code: 'bad-serial', message: 'line 5: Serial: no serial' };
    expect(renderRowError('ja', unknown)).toEqual({ locator: '5行目', message: 'line 5: Serial: no serial' });
    // Stored before row errors kept parameters: as stored.
    expect(renderRowError('ja', { ...error, params: undefined }).message).toBe(error.message);
    expect(localizeLocator('ja', 'projects.xlsx sheet "Projects" row 8')).toBe('projects.xlsx シート「Projects」8行目');
  });
});
