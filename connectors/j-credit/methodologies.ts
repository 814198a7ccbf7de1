import { jCreditCategoryOf } from '../../schema/taxonomy/methodology.ts';
import { term, type Term } from '../../schema/taxonomy/vocabularies.ts';
import type { Programme } from './programmes.ts';

// Methodology codes of the three generations the J-Credit list carries, and the J-Credit category
// (vocabulary `jCreditCategory`: 省エネ, 再エネ, 工業プロセス, 農業, 廃棄物, 森林) each belongs to.
//
// - J-Credit (2013–): `EN-S-001`, `EN-R-002`, `IN-`, `AG-`, `WA-`, `FO-` + number, with a version
//   (`EN-S-001\r\nVer. 1.0`). The prefix names the category (japancredit.go.jp/about/methodology/ lists
//   one table per category); the taxonomy reads these codes itself (schema/taxonomy/methodology.ts).
// - 国内クレジット (Domestic Credit, 2008–2013): a bare number, sometimes with a letter (`001`, `001-A`,
//   `004-C`). No list of their titles was found in public sources; the activity below is the generic
//   summary the registered-project list's own rows give for the code (`ボイラーの更新` is how 216 rows
//   of `001` read), and the category follows from it. Letters are variants whose rows describe a
//   different activity (001 boiler replacement → 001-A new woody-biomass boilers), so each is its own entry.
// - J-VER (2008–2013): `E` (emission reduction) and `R` (forest removal) numbers with the titles of
//   the J-VER scheme's methodology list (j-ver.go.jp/system_doc/old_doc.html: E001 … E024; R001
//   間伐促進型, R002 持続可能な森林経営促進型), plus `I001`, whose title was not found (its one project
//   replaces a fluorinated gas with COF2 in manufacturing: 工業プロセス). `SS-E001`, `SS-E004`: the
//   meaning of the `SS-` prefix was not found; they are left unmatched rather than guessed.
//
// The J-Credit category gives the common category through the vocabulary (省エネ → energy-efficiency,
// 再エネ → renewable-energy, 森林 → forest, 工業プロセス and 廃棄物 → ghg-management). The same
// codes are known to the taxonomy as protocols `japan-domestic-credit-001`, `j-ver-r001`…
// (schema/taxonomy/data/protocols-extra.json), spelled as `methodologyText` writes them.

type LegacyEntry = { nameJa: string; jCreditCategory: JCreditCategoryCode };
type JCreditCategoryCode = 'energy-saving' | 'renewable-energy' | 'industrial-process' | 'agriculture' | 'waste' | 'forest';

const DOMESTIC_CREDIT: Record<string, LegacyEntry> = {
  '001': { nameJa: 'ボイラーの更新', jCreditCategory: 'energy-saving' },
  '001-A': { nameJa: 'ボイラーの新設（木質バイオマス等）', jCreditCategory: 'renewable-energy' },
  '002': { nameJa: 'ヒートポンプの導入による熱源設備の更新', jCreditCategory: 'energy-saving' },
  '002-A': { nameJa: '熱回収型ヒートポンプの導入による熱源設備の更新', jCreditCategory: 'energy-saving' },
  '003': { nameJa: '工業炉の更新', jCreditCategory: 'energy-saving' },
  '004': { nameJa: '空調設備の更新', jCreditCategory: 'energy-saving' },
  '004-B': { nameJa: 'バイオマスを燃料とするストーブの新設', jCreditCategory: 'renewable-energy' },
  '004-C': { nameJa: '空調設備の新設', jCreditCategory: 'energy-saving' },
  '004-D': { nameJa: 'バイオマスを燃料とするストーブへの更新', jCreditCategory: 'renewable-energy' },
  '005': { nameJa: 'ポンプ・ファン等へのインバーター制御の導入', jCreditCategory: 'energy-saving' },
  '006': { nameJa: '照明設備の更新', jCreditCategory: 'energy-saving' },
  '006-A': { nameJa: '照明設備の新設（LED化）', jCreditCategory: 'energy-saving' },
  '007-A': { nameJa: 'コージェネレーションの新設', jCreditCategory: 'energy-saving' },
  '008': { nameJa: '太陽光発電設備の導入', jCreditCategory: 'renewable-energy' },
  '009': { nameJa: '温泉熱及び温泉排熱のエネルギー利用', jCreditCategory: 'renewable-energy' },
  '010': { nameJa: '変圧器の更新', jCreditCategory: 'energy-saving' },
  '012': { nameJa: 'コークスからバイオコークスへの切り替え', jCreditCategory: 'renewable-energy' },
  '014': { nameJa: '回収した未利用の排熱を利用した発電設備の導入', jCreditCategory: 'energy-saving' },
  '018-A': { nameJa: '回収した未利用の排熱への熱源の切り替え', jCreditCategory: 'energy-saving' },
  '020-A': { nameJa: '電気自動車の新規導入', jCreditCategory: 'energy-saving' },
  '022': { nameJa: '冷蔵・冷凍設備の更新', jCreditCategory: 'energy-saving' },
  '025': { nameJa: 'ポンプ・ファン類の更新', jCreditCategory: 'energy-saving' },
  '028': { nameJa: '化石燃料からバイオディーゼル燃料への切り替え', jCreditCategory: 'renewable-energy' },
  '030-A': { nameJa: 'バイオマスを燃料とする自家用発電機の新設', jCreditCategory: 'renewable-energy' },
  '035': { nameJa: '乾燥設備の更新', jCreditCategory: 'energy-saving' },
  '046': { nameJa: '蒸気駆動コンプレッサーへの更新', jCreditCategory: 'energy-saving' },
};

const J_VER: Record<string, LegacyEntry> = {
  E002: { nameJa: '化石燃料から木質ペレットへのボイラー燃料代替', jCreditCategory: 'renewable-energy' },
  E003: { nameJa: '木質ペレットストーブの使用', jCreditCategory: 'renewable-energy' },
  E006: { nameJa: '低温排熱回収・利用', jCreditCategory: 'energy-saving' },
  E010: { nameJa: '照明設備の更新', jCreditCategory: 'energy-saving' },
  E011: { nameJa: 'ボイラー装置の更新', jCreditCategory: 'energy-saving' },
  E012: { nameJa: '空調設備の圧縮機の更新', jCreditCategory: 'energy-saving' },
  E014: { nameJa: 'アイロン装置の更新', jCreditCategory: 'energy-saving' },
  E016: { nameJa: 'コジェネレーション設備の導入', jCreditCategory: 'energy-saving' },
  E020: { nameJa: '古紙廃プラ固形燃料（RPF）の製造・利用', jCreditCategory: 'waste' },
  E022: { nameJa: '廃棄物処理施設における熱回収による廃棄物のエネルギー利用', jCreditCategory: 'waste' },
  E023: { nameJa: 'デジタルタコグラフの装着によるエコドライブ', jCreditCategory: 'energy-saving' },
  E024: { nameJa: '太陽光発電による系統電力の代替', jCreditCategory: 'renewable-energy' },
  I001: { nameJa: 'COF2を用いた温室効果ガス排出削減（方法論名は未確認）', jCreditCategory: 'industrial-process' },
  R001: { nameJa: '森林経営（間伐促進型）', jCreditCategory: 'forest' },
  R002: { nameJa: '森林経営（持続可能な森林経営促進型）', jCreditCategory: 'forest' },
};

/** How the programme is written before a legacy code, so that `001` of 国内クレジット is not `001` of anything else. */
const PROGRAMME_LABEL: Record<Exclude<Programme, 'j-credit'>, string> = {
  'japan-domestic-credit': '国内クレジット',
  'j-ver': 'J-VER',
};

/** A methodology cell as one line: `EN-S-001\r\nVer. 1.0` → `EN-S-001 Ver. 1.0`. */
export function methodologyCell(raw: string): string {
  return raw.normalize('NFKC').replace(/\s+/g, ' ').trim();
}

/** The code at the head of a methodology cell: `EN-S-001`, `001-A`, `R001`, `SS-E004`. */
export function methodologyCode(cell: string): string {
  return methodologyCell(cell).split(' ')[0]!.toUpperCase();
}

/**
 * The methodology as the ledger stores it: J-Credit codes as written (with their version), legacy
 * codes with their programme in front (`国内クレジット 001`, `J-VER R001`), since a bare `001` names
 * nothing outside its programme's list.
 */
export function methodologyText(programme: Programme, cell: string): string {
  const text = methodologyCell(cell);
  return programme === 'j-credit' ? text : `${PROGRAMME_LABEL[programme]} ${text}`;
}

export type MethodologyInfo = {
  programme: Programme;
  code: string;
  /** The methodology's activity in Japanese, for legacy codes (J-Credit codes: see the scheme's list). */
  nameJa?: string;
  /** The J-Credit category term (`省エネ`…), where the code's category is known. */
  jCreditCategory?: Term;
};

const categoryTerm = (code: JCreditCategoryCode) => term('jCreditCategory', code);

/** What is known of a methodology code of one programme: its J-Credit category and, for legacy codes, its activity. */
export function methodologyInfo(programme: Programme, cell: string): MethodologyInfo {
  const code = methodologyCode(cell);
  if (programme === 'j-credit') return { programme, code, jCreditCategory: jCreditCategoryOf(code) };
  const entry = (programme === 'japan-domestic-credit' ? DOMESTIC_CREDIT : J_VER)[code];
  return { programme, code, nameJa: entry?.nameJa, jCreditCategory: entry ? categoryTerm(entry.jCreditCategory) : undefined };
}

/** Every legacy code with a known category, as the protocol table spells it (for the taxonomy's data and its test). */
export function legacyMethodologies(): { programme: Programme; code: string; text: string; entry: LegacyEntry }[] {
  return [
    ...Object.entries(DOMESTIC_CREDIT).map(([code, entry]) => ({ programme: 'japan-domestic-credit' as const, code, text: methodologyText('japan-domestic-credit', code), entry })),
    ...Object.entries(J_VER).map(([code, entry]) => ({ programme: 'j-ver' as const, code, text: methodologyText('j-ver', code), entry })),
  ];
}
