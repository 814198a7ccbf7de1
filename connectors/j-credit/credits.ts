import type { BlockRecord } from '../../schema/canonical.ts';
import type { RowReader } from '../runtime/apx.ts';
import { registryProjectId, type Programme, type ProjectClass } from './programmes.ts';

// What the certification (認証) and invalidation (無効化) lists share: the project a row is about and the
// kind of credit. The J-Credit registry (J-クレジット登録簿システム) is for account holders only and
// publishes no per-credit ledger (reference registries.md §4); these lists are uploaded by a holder or
// the scheme. No such list was seen: the columns are the scheme's own terms —
// - 制度記号 (scheme symbol; japancredit.go.jp/about/number, mirrored at krutar.com/about/number):
//   `JC`, `JCL` J-Credit (JCL usable for the Keidanren carbon-neutral action plan), `KC` 国内クレジット
//   ordinary, `KCP` 国内クレジット programme-type, `JP` J-VER;
// - クレジット種別 (credit type, same page): `ER`, `ERL` (emission reduction), `FM` (forest management),
//   `KC`, `KCP`, `JRM`, `KRM`;
// - クレジット認証番号 (the credit certification number; its layout is not published that we found, so it
//   is kept as written and only used to join an invalidation to its certification).

export const C = {
  number: 'プロジェクト番号',
  projectType: 'プロジェクト種別',
  symbol: '制度記号',
  creditType: 'クレジット種別',
  certificationNo: 'クレジット認証番号',
} as const;

const PROGRAMME_OF_SYMBOL: Record<string, Programme> = { JC: 'j-credit', JCL: 'j-credit', KC: 'japan-domestic-credit', KCP: 'japan-domestic-credit', JP: 'j-ver' };
const CREDIT_TYPES = new Set(['ER', 'ERL', 'FM', 'KC', 'KCP', 'JRM', 'KRM']);
const LABEL: Record<Programme, string> = { 'j-credit': 'J-クレジット', 'japan-domestic-credit': '国内クレジット', 'j-ver': 'J-VER' };

export type CreditRow = {
  programme: Programme;
  registryProjectId: string;
  symbol: string;
  creditType: string;
  certificationNo?: string;
  /** `j-credit` for J-Credits; the vocabulary has no term for 国内クレジット and J-VER credits yet. */
  ledgerCreditType: BlockRecord['creditType'];
};

/** The project and credit kind of a certification or invalidation row; undefined (with errors on `r`) when unreadable. */
export function readCreditRow(r: RowReader): CreditRow | undefined {
  const number = r.required(C.number, r.text(C.number));
  const symbol = r.required(C.symbol, r.text(C.symbol)?.normalize('NFKC').toUpperCase());
  const creditType = r.required(C.creditType, r.text(C.creditType)?.normalize('NFKC').toUpperCase());
  const programme = symbol ? PROGRAMME_OF_SYMBOL[symbol] : undefined;
  if (symbol && !programme) r.fail(C.symbol, 'unknown-symbol', `"${symbol}" is not a scheme symbol (JC, JCL, KC, KCP, JP)`);
  if (creditType && !CREDIT_TYPES.has(creditType)) r.fail(C.creditType, 'unknown-credit-type', `"${creditType}" is not a credit type (ER, ERL, FM, KC, KCP, JRM, KRM)`);
  const typeText = r.text(C.projectType)?.normalize('NFKC');
  if (typeText && typeText !== '通常型' && typeText !== 'プログラム型') r.fail(C.projectType, 'unknown-project-type', `"${typeText}" is neither 通常型 nor プログラム型`);
  let id: string | undefined;
  if (number && programme && !r.errors.some((e) => e.field === C.projectType)) {
    // KCP numbers say programme-type themselves; a plain J-Credit number needs the column.
    const programmeType = programme === 'japan-domestic-credit' ? /^KCP/i.test(number) : typeText === 'プログラム型';
    if (programme === 'j-credit' && !typeText) {
      r.fail(C.projectType, 'missing', 'is empty: J-Credit numbers ordinary (通常型) and programme-type (プログラム型) projects separately');
    } else {
      const cls: ProjectClass = { programme, programmeType, label: `【${LABEL[programme]}】一覧(${programmeType ? 'プログラム型' : '通常型'})` };
      const key = registryProjectId(number, cls);
      if ('error' in key) r.fail(C.number, 'bad-project-number', key.error);
      else id = key.id;
    }
  }
  if (r.errors.length > 0 || !programme || !id || !symbol || !creditType) return undefined;
  return {
    programme, registryProjectId: id, symbol, creditType, certificationNo: r.text(C.certificationNo),
    ledgerCreditType: programme,
  };
}
