import type { BlockRecord } from '../../schema/canonical.ts';
import type { FileFormat, Mapped } from '../types.ts';
import { rowReader } from '../runtime/row.ts';
import { C, readCreditRow } from './credits.ts';

// A list of invalidations (無効化): J-Credits are used by invalidating them in the registry, whatever
// the use (an offset, a report under the Global Warming Countermeasures Act or the Energy Conservation
// Act, CDP/SBT/RE100, the Keidanren action plan): a retirement. One row per invalidation. The columns
// follow the registry's invalidation form as the scheme describes it (krutar.com/application/account/
// support, the mirror of japancredit.go.jp's account page): the use (無効化の用途), the purpose in detail
// (目的詳細), the credit user's name (クレジット利用者名), and the credits by total or by serial number.
// No real list was available.
// - J-Credit serial numbers' layout is not published that we found: kept as written (`serialRaw`),
//   never parsed into a range, so they take no part in overlap checks.
// - The block is keyed by its serial numbers where the row gives them, else by what identifies the
//   invalidation (date, certification or credit kind, quantity, user).
// - A row that names its certification number (クレジット認証番号) is linked to that issuance.

export const INV = {
  invalidatedOn: '無効化日',
  quantity: '無効化量（t-CO2）',
  serial: 'シリアル番号',
  use: '無効化の用途',
  purpose: '目的詳細',
  user: 'クレジット利用者名',
} as const;

/** The use of an invalidation as Tally's retirement purpose; undefined when the text says none of these. */
export function invalidationPurpose(use: string | undefined): BlockRecord['retirementPurpose'] {
  const text = use?.normalize('NFKC') ?? '';
  if (/温対法|省エネ法|地球温暖化対策の推進に関する法律|エネルギーの使用の合理化|GX-ETS|排出量取引/.test(text)) return 'compliance';
  if (/オフセット|CDP|SBT|RE100|経団連|カーボンニュートラル行動計画|低炭素社会実行計画/.test(text)) return 'voluntary';
  return undefined;
}

export const jCreditInvalidations: FileFormat = {
  id: 'j-credit-invalidations',
  registry: 'j-credit',
  stream: 'invalidations',
  description: 'J-Credit invalidation list (無効化一覧: プロジェクト番号, 制度記号, クレジット種別, 無効化日, 無効化量（t-CO2）, 無効化の用途, 目的詳細, クレジット利用者名…), uploaded by a holder',
  generation: 'invalidation list, columns from the scheme\'s terms (no published layout)',
  columns: {
    [C.number]: { required: true },
    [C.projectType]: { required: true },
    [C.symbol]: { required: true },
    [C.creditType]: { required: true },
    [INV.invalidatedOn]: { required: true },
    [INV.quantity]: { required: true },
    [C.certificationNo]: {},
    [INV.serial]: {},
    [INV.use]: {},
    [INV.purpose]: {},
    [INV.user]: {},
  },
  map(row, locator): Mapped {
    const r = rowReader(row, locator);
    const credit = readCreditRow(r);
    const invalidatedOn = r.required(INV.invalidatedOn, r.date(INV.invalidatedOn));
    const quantity = r.quantity(INV.quantity);
    if (r.errors.length > 0 || !credit || !invalidatedOn || !quantity) return { records: [], errors: r.errors };
    const serial = r.text(INV.serial)?.replace(/\s+/g, ' ');
    const use = r.text(INV.use);
    const user = r.text(INV.user);
    const block: BlockRecord = {
      type: 'block',
      registry: credit.programme,
      registryProjectId: credit.registryProjectId,
      blockKey: serial ?? `無効化:${invalidatedOn}:${credit.certificationNo ?? `${credit.symbol}-${credit.creditType}`}:${quantity}:${user ?? ''}`,
      issuanceKey: credit.certificationNo,
      serialRaw: serial,
      quantity,
      creditType: credit.ledgerCreditType,
      status: 'retired',
      statusDate: invalidatedOn,
      retirementBeneficiary: user,
      retirementReason: use,
      retirementPurpose: invalidationPurpose(use),
      retirementDetails: r.text(INV.purpose),
      eligibility: [],
    };
    return { records: [block], errors: [] };
  },
};
