import type { IssuanceRecord } from '../../schema/canonical.ts';
import type { FileFormat, Mapped } from '../types.ts';
import { rowReader } from '../runtime/row.ts';
import { C, readCreditRow } from './credits.ts';

// A list of certifications (認証): credits the scheme certified for a project's monitoring period, one
// row per certification. Certified J-Credits are issued to the holder's account when certified, so each
// row is an issuance: quantity `認証量（t-CO2）`, date `認証日`, the monitoring period as the vintage.
// No real list was available; the layout is built from the scheme's terms (credits.ts). The project
// must already be in the ledger (the registered-project list).

export const CERT = {
  certifiedOn: '認証日',
  periodStart: 'モニタリング期間開始日',
  periodEnd: 'モニタリング期間終了日',
  quantity: '認証量（t-CO2）',
} as const;

/** The issuance key of a certification: its certification number, else what identifies it in the row. */
export function certificationKey(row: { certificationNo?: string; symbol: string; creditType: string }, certifiedOn: string, start?: string, end?: string): string {
  return row.certificationNo ?? `${row.symbol}-${row.creditType}:${certifiedOn}:${start ?? ''}/${end ?? ''}`;
}

export const jCreditCertifications: FileFormat = {
  id: 'j-credit-certifications',
  registry: 'j-credit',
  stream: 'certifications',
  description: 'J-Credit certification list (認証一覧: プロジェクト番号, 制度記号, クレジット種別, 認証日, 認証量（t-CO2）, モニタリング期間…), uploaded by a holder',
  generation: 'certification list, columns from the scheme\'s terms (no published layout)',
  columns: {
    [C.number]: { required: true },
    [C.projectType]: { required: true },
    [C.symbol]: { required: true },
    [C.creditType]: { required: true },
    [CERT.certifiedOn]: { required: true },
    [CERT.quantity]: { required: true },
    [C.certificationNo]: {},
    [CERT.periodStart]: {},
    [CERT.periodEnd]: {},
  },
  map(row, locator): Mapped {
    const r = rowReader(row, locator);
    const credit = readCreditRow(r);
    const certifiedOn = r.required(CERT.certifiedOn, r.date(CERT.certifiedOn));
    const quantity = r.quantity(CERT.quantity);
    const start = r.date(CERT.periodStart);
    const end = r.date(CERT.periodEnd);
    if (start && end && end < start) r.fail(CERT.periodEnd, 'period-order', `${end} is before the period's start ${start}`);
    if (r.errors.length > 0 || !credit || !certifiedOn || !quantity) return { records: [], errors: r.errors };
    const issuance: IssuanceRecord = {
      type: 'issuance',
      registry: credit.programme,
      registryProjectId: credit.registryProjectId,
      issuanceKey: certificationKey(credit, certifiedOn, start, end),
      vintageStart: start,
      vintageEnd: end,
      vintageYear: start && end && start.slice(0, 4) === end.slice(0, 4) ? Number(start.slice(0, 4)) : undefined,
      issuedOn: certifiedOn,
      quantity,
      quantityFromBlocks: false,
      creditType: credit.ledgerCreditType,
    };
    return { records: [issuance], errors: [] };
  },
};
