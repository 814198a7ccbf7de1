import type { BlockRecord, ProjectRecord } from '../../schema/canonical.ts';
import type { Column, FileFormat, Mapped } from '../types.ts';
import { rowReader } from '../runtime/row.ts';
import { apxEligibility, apxRetiredBlock, readApxBlock, serialOf, type ApxBlock, type RowReader } from '../runtime/apx.ts';
import { acrIssuanceKey } from './map-issuances.ts';
import { ACR_GENERATION, ACR_PROJECT_COLUMNS, ACR_PROJECT_ID, acrProjectOfRow, BEFORE_GMT, OFFSET_CREDIT_NAMES, REASON_DETAILS } from './map-projects.ts';
import { parseAcrSerial } from './serial.ts';

// ACR's retirement report (APX report r=206; reference/registries.md §3.1, offsetsdb.md §2.3): one row
// per retired serial block. Quirks:
// - the beneficiary is `Retired on Behalf of` (OffsetsDB drops it), not `Account Holder`;
//   `Purpose of Retirement` is free text (the details), `Retirement Reason` a picklist
//   (`Environmental Benefit`, `On Behalf of Third Party`) that names no purpose of the retirement-purpose
//   vocabulary, so the purpose stays empty unless the reason names one (runtime/apx.ts);
// - `Account Holder` is sometimes a bare number (`1423`, `1099`): kept as written;
// - the serial repeats the project, vintage and country: the project and vintage are checked against
//   the row's columns;
// - `Date Issued (GMT)` and `Vintage` are the issuance's, so the block links to the issuance by its
//   vintage and issue day (map-issuances.ts), whichever mode stored it. The key has no time: the report
//   stamps an issuance's batches seconds apart (ACR554's 2025 batches 2974 and 2975 at 13:11:53 and
//   13:11:54 GMT, one issuance row of 24,582 = 20,681 + 3,901), and no `Verified Removal` label: the
//   removal rows are part of the issuance;
// - `Status Effective (GMT)` is the retirement date, `6/30/2025 7:43:26 PM`;
// - `Retirement Reason` is in every retirement report and in no cancellation report: it is what tells
//   the two apart, so a file without it is not read as retirements.

/**
 * The columns the retirement and cancellation reports share, read by `readAcrClosedRow`: the serial,
 * quantity, project and date make the block; the rest is optional.
 */
export const ACR_CLOSED_COLUMNS = {
  'Credit Serial Numbers': { required: true, aliases: { 'Offset Credit Serial Numbers': OFFSET_CREDIT_NAMES } },
  'Date Issued (GMT)': { aliases: { 'Date Issued': BEFORE_GMT } },
  Vintage: {},
  'Vintage Assignment Period Start Date': {},
  'Vintage Assignment Period End Date': {},
  'Quantity of Credits': { required: true, aliases: { 'Quantity of Offset Credits': OFFSET_CREDIT_NAMES } },
  'Account Holder': {},
  // The cancellation report writes `Status Effective  (GMT)` (two spaces): the same name, spaces not counting.
  'Status Effective (GMT)': { required: true, aliases: { 'Status Effective': BEFORE_GMT } },
  'Project ID': { required: true },
  ...ACR_PROJECT_COLUMNS,
} as const satisfies Record<string, Column>;

/** What the retirement and cancellation reports share: the block's identity, vintage, issuance and project. */
export type AcrClosedRow = {
  block: ApxBlock;
  project: ProjectRecord;
  statusDate: string;
  common: Pick<BlockRecord, 'type' | 'registry' | 'registryProjectId' | 'blockKey' | 'issuanceKey' | 'serial' | 'quantity'
    | 'vintageStart' | 'vintageEnd' | 'vintageYear' | 'creditType' | 'eligibility' | 'accountHolder'>;
};

/** Reads the columns the retirement and cancellation reports share. Undefined when the row has errors. */
export function readAcrClosedRow(r: RowReader): AcrClosedRow | undefined {
  const block = readApxBlock(r, { serial: 'Credit Serial Numbers', quantity: 'Quantity of Credits', projectId: 'Project ID', vintage: 'Vintage' }, parseAcrSerial);
  const statusDate = r.required('Status Effective (GMT)', r.date('Status Effective (GMT)'));
  const vintageStart = r.date('Vintage Assignment Period Start Date');
  const vintageEnd = r.date('Vintage Assignment Period End Date');
  const issuanceKey = acrIssuanceKey(r, block?.vintageYear);
  const eligibility = apxEligibility(r);
  const project = block ? acrProjectOfRow(r, block.projectId, eligibility) : undefined;
  if (r.errors.length > 0 || !block || !statusDate || !project) return undefined;
  return {
    block,
    project,
    statusDate,
    common: {
      type: 'block',
      registry: 'american-carbon-registry',
      registryProjectId: block.projectId,
      blockKey: block.serial.raw,
      issuanceKey,
      serial: serialOf(block.serial),
      quantity: block.quantity,
      vintageStart,
      vintageEnd,
      vintageYear: block.vintageYear,
      creditType: 'ert',
      eligibility,
      accountHolder: r.text('Account Holder'),
    },
  };
}

export const acrRetirements: FileFormat = {
  id: 'acr-retirements',
  registry: 'american-carbon-registry',
  stream: 'retirements',
  description: 'ACR retirement report (APX r=206: Credit Serial Numbers, Quantity of Credits, Status Effective (GMT), Retired on Behalf of, …)',
  generation: ACR_GENERATION,
  columns: {
    ...ACR_CLOSED_COLUMNS,
    'Retired on Behalf of': {},
    'Retirement Reason': { required: true },
    'Purpose of Retirement': { aliases: { 'Retirement Reason Details': REASON_DETAILS } },
  },
  distinguishedBy: ACR_PROJECT_ID,
  map(row, locator): Mapped {
    const r = rowReader(row, locator);
    const closed = readAcrClosedRow(r);
    if (!closed) return { records: [], errors: r.errors };
    const block = apxRetiredBlock(r, closed.common, closed.statusDate);
    return { records: [closed.project, block], errors: [] };
  },
};
