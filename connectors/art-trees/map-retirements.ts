import type { BlockRecord, ProjectRecord } from '../../schema/canonical.ts';
import type { Column, FileFormat, Mapped } from '../types.ts';
import { rowReader } from '../runtime/row.ts';
import { apxEligibility, apxRetiredBlock, readApxBlock, serialOf, type RowReader } from '../runtime/apx.ts';
import { artCreditType, artIssuanceKey } from './map-issuances.ts';
import { ART_GENERATION, ART_PROGRAM_COLUMNS, ART_PROGRAM_ID, artProgramOfRow } from './map-projects.ts';
import { parseArtSerial } from './serial.ts';

// ART TREES' retirement report (reference/registries.md §3.3, offsetsdb.md §2.5): one row per retired
// serial block. Quirks:
// - serials are `ART-GY-102-2021-11-… to …` and, for the FCPF programmes ART hosts,
//   `FCPF-CI-130-2023-20-1 to 46404`, whose row says `Program ID` ART130: the serial parser gives
//   ART<n> for both, and the row's program and vintage are checked against the serial's;
// - the beneficiary is `Retired on Behalf of` (OffsetsDB drops it), the free text `Purpose of
//   Retirement` is the details, and `Retirement Reason` is kept as written: "Contribution Towards
//   Corporate Climate Pledge AND Host Country NDC" is a corporate claim on tonnes the host country
//   also counts (a double-claim risk by design, reference §6.3), which the contribution-claim rule reads
//   from this text. Its purpose stays empty (two claims, not one); "Contribution Towards Corporate
//   Climate Pledge" alone is `voluntary` (runtime/apx.ts);
// - `Status Effective` (`04/08/2026`) is the retirement date; `Date Approved` (`3/9/2026 4:16:10 PM`)
//   and `Vintage` are the issuance's, and link the block to it (map-issuances.ts);
// - `Retirement Reason` is in the retirement report and not in the cancellation report: it is what
//   tells the two apart, so a file without it is not read as retirements.

/**
 * The columns the retirement and cancellation reports share, read by `readArtClosedRow`: the serial,
 * quantity, program and date make the block; the rest is optional. The yes/no eligibility columns are
 * those `apxEligibility` reads (runtime/apx.ts): ART's names, and the other APX registries' it reads too.
 */
export const ART_CLOSED_COLUMNS = {
  Vintage: {},
  'Credit Serial Numbers': { required: true },
  'Quantity of Credits': { required: true },
  'Status Effective': { required: true },
  'Eligible for CORSIA 2021-2023 Compliance Period (Pilot Phase)': {},
  'Eligible for CORSIA 2021-2023 Compliance Period': {},
  'Eligible for CORSIA 2024-2026 Compliance Period (First Phase)': {},
  'Eligible for CORSIA 2024-2026 Compliance Period': {},
  'CCP Approved': {},
  'ICVCM CCP Eligible': {},
  'ARB Eligible': {},
  'Ecology Eligible': {},
  'WA ECO Eligible': {},
  'Program ID': { required: true },
  ...ART_PROGRAM_COLUMNS,
  'Date Approved': {},
  'Account Holder': {},
} as const satisfies Record<string, Column>;

/** What the retirement and cancellation reports share: the block's identity, vintage, issuance and program. */
export type ArtClosedRow = {
  program: ProjectRecord;
  statusDate: string;
  common: Pick<BlockRecord, 'type' | 'registry' | 'registryProjectId' | 'blockKey' | 'issuanceKey' | 'serial' | 'quantity'
    | 'vintageYear' | 'creditType' | 'eligibility' | 'accountHolder'>;
};

/** Reads the columns the retirement and cancellation reports share. Undefined when the row has errors. */
export function readArtClosedRow(r: RowReader): ArtClosedRow | undefined {
  const block = readApxBlock(r, { serial: 'Credit Serial Numbers', quantity: 'Quantity of Credits', projectId: 'Program ID', vintage: 'Vintage' }, parseArtSerial);
  const statusDate = r.required('Status Effective', r.date('Status Effective'));
  const issuanceKey = artIssuanceKey(block?.vintageYear, r.date('Date Approved'));
  const eligibility = apxEligibility(r);
  const program = block ? artProgramOfRow(r, block.projectId) : undefined;
  if (r.errors.length > 0 || !block || !statusDate || !program) return undefined;
  return {
    program,
    statusDate,
    common: {
      type: 'block',
      registry: 'art-trees',
      registryProjectId: block.projectId,
      blockKey: block.serial.raw,
      issuanceKey,
      serial: serialOf(block.serial),
      quantity: block.quantity,
      vintageYear: block.vintageYear,
      creditType: artCreditType(block.serial.raw),
      eligibility,
      accountHolder: r.text('Account Holder'),
    },
  };
}

export const artRetirements: FileFormat = {
  id: 'art-trees-retirements',
  registry: 'art-trees',
  stream: 'retirements',
  description: 'ART TREES retirement report (Credit Serial Numbers, Quantity of Credits, Status Effective, Program ID, Retired on Behalf of, Retirement Reason, …)',
  generation: ART_GENERATION,
  columns: {
    ...ART_CLOSED_COLUMNS,
    'Retired on Behalf of': {},
    'Retirement Reason': { required: true },
    // offsets-db-data's column mapping reads ART's retirement note from `Retirement Reason Details`.
    'Purpose of Retirement': { aliases: { 'Retirement Reason Details': 'APX before 2026, Retirement Reason Details' } },
  },
  distinguishedBy: ART_PROGRAM_ID,
  map(row, locator): Mapped {
    const r = rowReader(row, locator);
    const closed = readArtClosedRow(r);
    if (!closed) return { records: [], errors: r.errors };
    const block = apxRetiredBlock(r, closed.common, closed.statusDate);
    return { records: [closed.program, block], errors: [] };
  },
};
