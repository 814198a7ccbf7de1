import type { CanonicalInput } from '../../schema/canonical.ts';
import type { FileFormat, Mapped } from '../types.ts';
import { rowReader } from '../runtime/row.ts';
import { textValue } from '../runtime/values.ts';
import {
  ACR_NAMES, CAR, CAR_ELIGIBILITY_COLUMNS, CAR_GENERATION, CAR_PROJECT_COLUMNS, CAR_PROJECT_ID, projectFromReport, readEligibility,
  readProjectId,
} from './map-projects.ts';

// CAR's issuance report (thereserve2.apx.com, report r=112, reference/registries.md §3.2,
// offsetsdb.md §2.4): one row per issuance, no serials. Quirks:
// - `Total Offset Credits Issued` is GROSS: it includes the credits put into CAR's buffer pool
//   (`Offset Credits Currently in Reserve Buffer Pool`, forestry and grassland) and those set aside
//   for CARB's forest buffer (`Offset Credits Intended for Compliance Buffer Pool`, ARB forest
//   projects). In the sample, the retired blocks of CAR1428's 2025 batch reach serial 2,631 = 3,713
//   issued − 1,082 buffer; CAR1098's 2024-vintage ARB conversion comes in two batches, 101,728 and
//   24,230, the smaller 19.2 % of the whole, the same share its 2025 issuance sets aside for the
//   compliance buffer (6,626 of 34,444). So `quantity` = the gross total (what OffsetsDB counts too,
//   offsetsdb.md §6.2) and the two buffer columns together go to `bufferQuantity`. The sample has no
//   project whose `Total Number of Offset Credits Registered` can be set against its issuances;
// - `Offset Credits Converted to VCUs`: credits of this issuance converted into Verra VCUs (CAR400 ↔
//   VCS 1528, CAR498 ↔ VCS 1527, reference/registries.md §6.2). CAR does NOT net them out of the
//   issued total, so the issuance keeps its gross quantity and the conversion is recorded as an
//   explicit `converted-out` event to Verra, which the integrity rules pair with the VCU issuance;
// - `Canceled for Compliance` / `Canceled` sum this issuance's cancellations; the cancellation report
//   has the same credits block by block (with the ARB/WA ECO conversions), so nothing is emitted here;
// - one project can have two issuances of one vintage on one day (CAR1568 on 12/31/2025: 118,084 and
//   22,287 credits, one CCP-approved): the issuance key is (vintage, date, total issued);
// - a `Zero-Credit Reporting Period` row issues nothing: it keeps its project and yields no issuance;
// - eligibility (`ARB Eligible`, `WA ECO Eligible`, CORSIA, `CCP Approved`) is stated per issuance but
//   the canonical issuance has no field for it: it goes to the project (see README);
// - `Corresponding Adjustment` has no issuance field either; it is kept raw (every sample row says "No");
// - `Reduction/Removal` is left to the taxonomy, which derives it from the protocol;
// - dates are month-first `03/19/2026`; numbers pandas-formatted (`108.0`).

/**
 * Compliance project types (`Mine Methane Capture - ARB Compliance`, `… - WA ECO Compliance`) issue
 * Registry Offset Credits (ROCs, serial `CAR-ROC-…`) to be converted into CARB or Ecology credits;
 * every other type issues Climate Reserve Tonnes (`CAR-1-…`). The sample's blocks bear this out for
 * every project seen in both reports. The `creditType` vocabulary has no ROC code, so ROCs are `other`.
 */
export const CREDIT_TYPE = { crt: 'crt', roc: 'roc' } as const;

export function creditTypeOfProjectType(projectType: string | undefined): string | undefined {
  if (projectType === undefined) return undefined;
  return /\bCompliance$/i.test(projectType) ? CREDIT_TYPE.roc : CREDIT_TYPE.crt;
}

const ISSUED = 'Total Offset Credits Issued';
const CONVERTED_TO_VCUS = 'Offset Credits Converted to VCUs';

export const issuances: FileFormat = {
  id: 'climate-action-reserve-issuances',
  registry: CAR,
  stream: 'issuances',
  description: 'Climate Action Reserve issuance report (one row per issuance: Date Issued, Vintage, Total Offset Credits Issued, …)',
  generation: CAR_GENERATION,
  // The issuance is its project, date, vintage and total; ACR's names for them (the same APX layout) are read too.
  columns: {
    'Date Issued': { required: true, aliases: { 'Date Issued (GMT)': ACR_NAMES } },
    'Project ID': { required: true },
    ...CAR_PROJECT_COLUMNS,
    'Project Type': {},
    ...CAR_ELIGIBILITY_COLUMNS,
    Vintage: { required: true },
    [ISSUED]: { required: true, aliases: { 'Total Credits Issued': ACR_NAMES } },
    'Zero-Credit Reporting Period': {},
    'Offset Credits Currently in Reserve Buffer Pool': {},
    'Offset Credits Intended for Compliance Buffer Pool': {},
    [CONVERTED_TO_VCUS]: {},
  },
  distinguishedBy: CAR_PROJECT_ID,
  dayFirst: false,
  map(row, locator): Mapped {
    const r = rowReader(row, locator);
    const projectId = readProjectId(r);
    const issuedOn = r.required('Date Issued', r.date('Date Issued'));
    const vintageYear = r.required('Vintage', r.number('Vintage'));
    const eligibility = readEligibility(r);
    const zeroCredit = r.boolean('Zero-Credit Reporting Period') === true && /^(0+(\.0*)?)?$/.test(textValue(row[ISSUED]) ?? '');
    const quantity = zeroCredit ? undefined : r.quantity(ISSUED);
    const reserveBuffer = r.number('Offset Credits Currently in Reserve Buffer Pool');
    const complianceBuffer = r.number('Offset Credits Intended for Compliance Buffer Pool');
    const bufferQuantity = reserveBuffer === undefined && complianceBuffer === undefined ? undefined : (reserveBuffer ?? 0) + (complianceBuffer ?? 0);
    const convertedToVcus = r.number(CONVERTED_TO_VCUS);
    if (quantity !== undefined && bufferQuantity !== undefined && bufferQuantity > quantity) {
      r.fail('Offset Credits Currently in Reserve Buffer Pool', 'buffer-exceeds-issued',
        `${bufferQuantity} buffer credits exceed the ${quantity} issued, which should include them`);
    }
    if (convertedToVcus !== undefined && (convertedToVcus < 0 || (quantity !== undefined && convertedToVcus > quantity))) {
      r.fail(CONVERTED_TO_VCUS, 'bad-conversion', `${convertedToVcus} converted credits is not between 0 and the ${quantity ?? 0} issued`);
    }
    if (r.errors.length > 0 || !projectId || !issuedOn || vintageYear === undefined) return { records: [], errors: r.errors };

    const records: CanonicalInput[] = [projectFromReport(r, projectId, eligibility)];
    if (quantity === undefined) return { records, errors: [] };

    const issuanceKey = `${vintageYear}/${issuedOn}/${quantity}`;
    records.push({
      type: 'issuance',
      registry: CAR,
      registryProjectId: projectId,
      issuanceKey,
      vintageYear,
      issuedOn,
      quantity,
      creditType: creditTypeOfProjectType(r.text('Project Type')),
      bufferQuantity,
    });
    if (convertedToVcus !== undefined && convertedToVcus > 0) {
      records.push({
        type: 'event',
        registry: CAR,
        registryProjectId: projectId,
        kind: 'converted-out',
        // Stable across downloads: project, vintage and date name the issuance; the issued total tells
        // apart two issuances of one vintage on one day (CAR1568).
        eventKey: `converted-out:${projectId}:${vintageYear}:${issuedOn}:${quantity}`,
        occurredOn: issuedOn,
        quantity: convertedToVcus,
        vintageYear,
        issuanceKey,
        counterpartyRegistry: 'verra',
        details: {
          sourceColumn: CONVERTED_TO_VCUS,
          destination: 'Verra VCUs',
          // The issuance above still counts these credits: a reader summing both registries must not.
          nettedOutOfIssuance: false,
        },
      });
    }
    return { records, errors: [] };
  },
};
