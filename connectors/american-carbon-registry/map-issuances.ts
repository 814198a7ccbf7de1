import type { CanonicalInput } from '../../schema/canonical.ts';
import type { FileFormat, Mapped } from '../types.ts';
import { rowReader } from '../runtime/row.ts';
import { apxEligibility, apxTimestamp, readBuffer, type RowReader } from '../runtime/apx.ts';
import { ACR_GENERATION, ACR_PROJECT_COLUMNS, ACR_PROJECT_ID, acrProjectOfRow, BEFORE_GMT, OFFSET_CREDIT_NAMES } from './map-projects.ts';

// ACR's issuance report (APX report r=112; reference/registries.md §3.1, offsetsdb.md §2.3): one row
// per issuance, no serials. Quirks:
// - `Total Credits Issued` is GROSS: it equals `Credits Issued to Project` + `Credits Issued to Buffer
//   Pool` on every row (checked here; a row where it does not is reported). The ledger's `quantity` is
//   that gross figure, as for CAR, and ART's is made gross to match (connectors/art-trees);
// - forest projects pay the buffer either at issuance (`Credits Issued to Buffer Pool`) or by a
//   transfer out of the project's share (`Credits Transferred to Buffer Pool`, with the former 0); both
//   are the issuance's buffer contribution, so `bufferQuantity` is their sum and `quantity` stays gross;
// - one issuance event is two rows when part of it is labelled `Verified Removal`: same project, vintage
//   and timestamp, one row for the removals and one for the rest. The key therefore holds the timestamp
//   to the second and the removal label, and retirement and cancellation rows, which carry the same
//   `Date Issued (GMT)`, `Vintage` and `Verified Removal`, link their blocks to it;
// - `ReportingPeriodBegin`/`End` are the vintage period the retirement report calls `Vintage Assignment
//   Period`; dates are month-first with a 12-hour time (`3/24/2026 9:08:01 PM`).

/** The key of an ACR issuance, from the columns the issuance, retirement and cancellation reports share. */
export function acrIssuanceKey(r: RowReader, vintageYear: number | undefined): string | undefined {
  const issuedAt = apxTimestamp(r, 'Date Issued (GMT)');
  if (!issuedAt || vintageYear === undefined) return undefined;
  return `${vintageYear}/${issuedAt}${r.boolean('Verified Removal') ? '/verified-removal' : ''}`;
}

export const acrIssuances: FileFormat = {
  id: 'acr-issuances',
  registry: 'american-carbon-registry',
  stream: 'issuances',
  description: 'ACR issuance report (APX r=112: Date Issued (GMT), Vintage, Total Credits Issued, Credits Issued to Project, …)',
  generation: ACR_GENERATION,
  // The issuance is its project, date, vintage and gross total, which must be the project's share plus
  // the buffer's (the row is checked, and the buffer kept): without any of them it is no issuance.
  // `Verified Removal` came later; a report without it has one row per issuance event.
  columns: {
    'Date Issued (GMT)': { required: true, aliases: { 'Date Issued': BEFORE_GMT } },
    Vintage: { required: true },
    ReportingPeriodBegin: {},
    ReportingPeriodEnd: {},
    'Total Credits Issued': { required: true, aliases: { 'Total Offset Credits Issued': OFFSET_CREDIT_NAMES } },
    'Credits Issued to Project': { required: true },
    'Credits Issued to Buffer Pool': { required: true },
    'Credits Transferred to Buffer Pool': {},
    'Project ID': { required: true },
    'Verified Removal': {},
    ...ACR_PROJECT_COLUMNS,
  },
  distinguishedBy: ACR_PROJECT_ID,
  map(row, locator): Mapped {
    const r = rowReader(row, locator);
    const projectId = r.required('Project ID', r.text('Project ID'));
    const issuedOn = r.required('Date Issued (GMT)', r.date('Date Issued (GMT)'));
    const vintageYear = r.required('Vintage', r.number('Vintage'));
    const vintageStart = r.date('ReportingPeriodBegin');
    const vintageEnd = r.date('ReportingPeriodEnd');
    const quantity = r.quantity('Total Credits Issued');
    const issuedToBuffer = readBuffer(r, { gross: 'Total Credits Issued', net: 'Credits Issued to Project', buffer: 'Credits Issued to Buffer Pool' }, quantity);
    const transferredToBuffer = r.number('Credits Transferred to Buffer Pool') ?? 0;
    if (transferredToBuffer < 0) r.fail('Credits Transferred to Buffer Pool', 'quantity-negative', `${transferredToBuffer} is negative`);
    const issuanceKey = acrIssuanceKey(r, vintageYear);
    const project = projectId ? acrProjectOfRow(r, projectId, apxEligibility(r)) : undefined;
    if (r.errors.length > 0 || !projectId || !issuedOn || !quantity || issuedToBuffer === undefined || !issuanceKey || !project) {
      return { records: [], errors: r.errors };
    }

    const records: CanonicalInput[] = [
      project,
      {
        type: 'issuance',
        registry: 'american-carbon-registry',
        registryProjectId: projectId,
        issuanceKey,
        vintageStart,
        vintageEnd,
        vintageYear,
        issuedOn,
        quantity,
        creditType: 'ert',
        bufferQuantity: issuedToBuffer + transferredToBuffer,
      },
    ];
    return { records, errors: [] };
  },
};
