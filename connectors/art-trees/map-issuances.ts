import type { CanonicalInput } from '../../schema/canonical.ts';
import type { FileFormat, Mapped } from '../types.ts';
import { rowReader } from '../runtime/row.ts';
import { readBuffer } from '../runtime/apx.ts';
import { ART_GENERATION, ART_PROGRAM_COLUMNS, ART_PROGRAM_ID, artProgramOfRow } from './map-projects.ts';

// ART TREES' issuance report (reference/registries.md §3.3, offsetsdb.md §2.5 and §6.2): one row per
// issuance (program, vintage, approval). Quirks:
// - ART reports the issuance three ways: `Total Emission Reductions/Removals` (gross) = `Credits
//   Verified` (to the program's account, net) + `Credits Deposited in Buffer` (checked on every row).
//   OffsetsDB takes `Credits Verified`, net, while ACR's and CAR's issued figures are gross, so
//   totals across the three did not compare. Tally's `quantity` is the GROSS figure for all three:
//   here `Total Emission Reductions/Removals`, with the buffer deposit in `bufferQuantity`; the net is
//   quantity − bufferQuantity;
// - one issuance can be several serial batches (ART130 2023: batches 20 and 21); retirement and
//   cancellation rows carry the issuance's `Date Approved` and `Vintage`, so the key
//   `<vintage>/<approval date>` links their blocks to it. This report writes the date `03/09/2026`, the
//   others `3/9/2026 4:16:10 PM`: the key uses the date only;
// - FCPF Carbon Fund programmes hosted by ART (`Crediting Program and Standard` = `FCPF - …`) issue FCPF
//   emission reductions, not TREES credits: their credit type is `other`.

/** The key of an ART issuance, from the columns the issuance, retirement and cancellation reports share. */
export function artIssuanceKey(vintageYear: number | undefined, approvedOn: string | undefined): string | undefined {
  return approvedOn && vintageYear !== undefined ? `${vintageYear}/${approvedOn}` : undefined;
}

/** `trees-credit` for ART's own units, `other` for the FCPF units it hosts (serials `FCPF-…`, standard `FCPF - …`). */
export function artCreditType(programmeOrSerial: string | undefined): string {
  return /^FCPF\b/i.test(programmeOrSerial ?? '') ? 'fcpf-er' : 'trees-credit';
}

export const artIssuances: FileFormat = {
  id: 'art-trees-issuances',
  registry: 'art-trees',
  stream: 'issuances',
  description: 'ART TREES issuance report (Date Approved, Program ID, Vintage, Total Emission Reductions/Removals, Credits Deposited in Buffer, Credits Verified, …)',
  generation: ART_GENERATION,
  // The issuance is its program, approval date, vintage and gross total, which must be the credits
  // verified plus the buffer deposit (the row is checked, and the buffer kept).
  columns: {
    'Date Approved': { required: true },
    'Program ID': { required: true },
    Vintage: { required: true },
    'Total Emission Reductions/Removals': { required: true },
    'Credits Deposited in Buffer': { required: true },
    'Credits Verified': { required: true },
    ...ART_PROGRAM_COLUMNS,
  },
  distinguishedBy: ART_PROGRAM_ID,
  map(row, locator): Mapped {
    const r = rowReader(row, locator);
    const programId = r.required('Program ID', r.text('Program ID'));
    const vintageYear = r.required('Vintage', r.number('Vintage'));
    const approvedOn = r.required('Date Approved', r.date('Date Approved'));
    const quantity = r.quantity('Total Emission Reductions/Removals');
    const buffer = readBuffer(r, { gross: 'Total Emission Reductions/Removals', net: 'Credits Verified', buffer: 'Credits Deposited in Buffer' }, quantity);
    const issuanceKey = artIssuanceKey(vintageYear, approvedOn);
    const program = programId ? artProgramOfRow(r, programId) : undefined;
    if (r.errors.length > 0 || !programId || !approvedOn || !quantity || buffer === undefined || !issuanceKey || !program) {
      return { records: [], errors: r.errors };
    }
    const records: CanonicalInput[] = [
      program,
      {
        type: 'issuance',
        registry: 'art-trees',
        registryProjectId: programId,
        issuanceKey,
        vintageYear,
        issuedOn: approvedOn,
        quantity,
        creditType: artCreditType(r.text('Crediting Program and Standard')),
        bufferQuantity: buffer,
      },
    ];
    return { records, errors: [] };
  },
};
