import type { BlockRecord, IssuanceRecord, ProjectRecord } from '../../schema/canonical.ts';
import { countryNames } from '../../schema/taxonomy/index.ts';
import { entityReader, mapped, type EntityReader } from '../runtime/entity.ts';
import { tokenizationMarker } from '../runtime/row.ts';
import type { SerialRange } from '../runtime/serial.ts';
import { platformApi, platformEntity, positive, type PartitionKey } from '../spglobal/platform.ts';
import type { Mapped } from '../types.ts';
import { verraProjectStatus } from './map-projects.ts';
import { parseVerraSerial } from './serial.ts';

// Verra's tenant of the S&P Global registry platform (reference/registries.md §1.1). Field names mix
// camelCase and snake_case (cancellations). Issuances carry the batch's whole serial range and the
// registry's own figure, keyed by batch number as the VCU export's blocks are, so both modes meet.

const currentYear = new Date().getUTCFullYear();
/** Verra writes a vintage as `2024`, or `2003 - 2004` when it spans years. */
const vintages = (): string[] => {
  const values: string[] = [];
  for (let y = currentYear; y >= 1990; y -= 1) {
    values.push(String(y));
    for (let span = 1; span <= 10 && y + span <= currentYear; span += 1) values.push(`${y} - ${y + span}`);
  }
  return values;
};
// The host countries with the most VCS projects first, so a split finds most records in few queries.
const COMMON_HOSTS = ['India', 'China', 'Brazil', 'United States of America', 'Indonesia', 'Türkiye', 'Turkey', 'Viet Nam',
  'Colombia', 'Peru', 'Kenya', 'Thailand', 'Mexico', 'Cambodia', 'Uganda', 'Malaysia', 'Pakistan', 'Chile', 'Zambia', 'Rwanda'];
const hostCountries = (): string[] => [...new Set([...COMMON_HOSTS, ...countryNames()])];
const partitionKeys: PartitionKey[] = [{ field: 'vintage', values: vintages }, { field: 'countryName', values: hostCountries }];

type Entity = Record<string, unknown>;

/** A record's project id: `vcsProjectId`, or `projectId` on the reports that name it so. */
const projectIdOf = (r: EntityReader) => r.required('vcsProjectId', r.text('vcsProjectId') ?? r.text('projectId'));

/** The batch a serial belongs to: its first field, as the VCU export keys its blocks. */
const batchOf = (serial: SerialRange) => `batch ${serial.raw.split('-')[0]}`;

const serialOf = (serial: SerialRange) => ({ numberSpace: serial.numberSpace, start: serial.start, end: serial.end, raw: serial.raw });

function mapProject(e: Entity, locator: string): Mapped {
  const r = entityReader(e, locator);
  const id = projectIdOf(r);
  if (!id) return { records: [], errors: r.errors };
  // 0 stands for no coordinate.
  const latitude = r.number('latitude');
  const longitude = r.number('longitude');
  const project: ProjectRecord = {
    type: 'project',
    registry: 'verra',
    registryProjectId: id,
    // Withdrawn projects can come with an empty name; Verra itself refers to them as "VCS <id>".
    name: r.text('projectName') ?? `VCS ${id}`,
    proponent: r.text('proponents')?.replace(/ \(PP\)/g, ''),
    country: r.text('countryName'),
    region: r.text('regionName'),
    methodology: r.text('methodologies'),
    status: verraProjectStatus(r.text('status')),
    statusRaw: r.text('status'),
    registeredOn: r.date('verraProjectRegistrationDate'),
    creditingPeriodStart: r.date('creditPeriodStartDate'),
    creditingPeriodEnd: r.date('creditPeriodEndDate'),
    estimatedAnnualQuantity: positive(r.number('avgAnnualVolVcu')),
    latitude: latitude === 0 ? undefined : latitude,
    longitude: longitude === 0 ? undefined : longitude,
    eligibility: [],
    coBenefits: [],
    registryUrl: `https://registry.verra.org/app/projectDetail/VCS/${id}`,
    otherPrograms: otherPrograms(r),
  };
  return mapped(r, [project]);
}

/**
 * What a project entity says of other GHG programmes (reference/registries.md §1.1, §6.2):
 * `otherGhgProgramName` / `otherGhgProgramId` with `registeredOtherGhgProgram` (also registered there),
 * and the status "Units Transferred from Approved GHG Program" (its units came from another programme,
 * the CDM path). Undefined when it says nothing, so a source without these fields keeps what another wrote.
 */
function otherPrograms(r: EntityReader): ProjectRecord['otherPrograms'] {
  const found: NonNullable<ProjectRecord['otherPrograms']> = [];
  const program = r.text('otherGhgProgramName');
  const projectId = r.text('otherGhgProgramId');
  if (program || projectId || r.boolean('registeredOtherGhgProgram')) {
    found.push({ program, projectId, relation: 'same-activity', field: 'otherGhgProgramName' });
  }
  const status = `${r.text('status') ?? ''} ${r.text('stateCode') ?? ''}`.toLowerCase();
  if (status.includes('units transferred from approved ghg program') || status.includes('cred_trans_frm_other_prog')) {
    found.push({ program, projectId, relation: 'converted-from', field: 'status' });
  }
  return found.length > 0 ? found : undefined;
}

/** The project as a credit record names it: enough to place the record before the project list is read. */
const projectOf = (r: EntityReader, id: string): ProjectRecord => ({
  type: 'project', registry: 'verra', registryProjectId: id, name: r.text('projectName') ?? `VCS ${id}`,
  country: r.text('countryName'), methodology: r.text('methodologies'), eligibility: [], coBenefits: [],
});

function mapIssuance(e: Entity, locator: string): Mapped {
  const r = entityReader(e, locator);
  const id = projectIdOf(r);
  const quantity = r.quantity('holdingQuantity');
  const serial = r.serial('serialNo', parseVerraSerial, quantity);
  if (!id || quantity === undefined || !serial) return { records: [], errors: r.errors };
  const issuance: IssuanceRecord = {
    type: 'issuance',
    registry: 'verra',
    registryProjectId: id,
    issuanceKey: batchOf(serial),
    vintageStart: serial.vintageStart,
    vintageEnd: serial.vintageEnd,
    vintageYear: serial.vintageYear,
    issuedOn: r.date('issueDate'),
    quantity,
    quantityFromBlocks: false,
    creditType: 'vcu',
    serial: serialOf(serial),
    bufferQuantity: positive(r.number('unitsIssuedInPermanenceBufferAccount')),
    caReserveQuantity: positive(r.number('unitsIssuedInCorrespondingAdjustmentReserveAccount')),
    omgeQuantity: positive(r.number('omgeQuantity')),
    shareOfProceedsQuantity: positive(r.number('adaptationFundQuantity')),
  };
  return mapped(r, [projectOf(r, id), issuance]);
}

/** Retired and cancelled blocks share a shape, though cancellations spell their fields in snake_case. */
function mapClosedBlock(status: 'retired' | 'cancelled') {
  return (e: Entity, locator: string): Mapped => {
    const r = entityReader(e, locator);
    const id = projectIdOf(r);
    const quantity = r.quantity('holdingQuantity');
    const serial = r.serial(status === 'cancelled' ? 'serial_no' : 'serialNo', parseVerraSerial, quantity);
    if (!id || quantity === undefined || !serial) return { records: [], errors: r.errors };
    const beneficiary = r.text('beneficialOwner');
    const details = status === 'cancelled'
      ? [r.text('cancellationReasonDetails'), r.text('cancellation_remarks'), r.text('subAccountName')].filter(Boolean).join(' | ') || undefined
      : r.text('retirementReasonDetails') ?? r.text('retirementRemarks');
    const block: BlockRecord = {
      type: 'block',
      registry: 'verra',
      registryProjectId: id,
      blockKey: serial.raw,
      issuanceKey: batchOf(serial),
      serial: serialOf(serial),
      quantity,
      vintageStart: serial.vintageStart,
      vintageEnd: serial.vintageEnd,
      vintageYear: serial.vintageYear,
      creditType: 'vcu',
      status,
      statusDate: r.date(status === 'cancelled' ? 'cancellation_date' : 'retiredDate'),
      retirementBeneficiary: beneficiary,
      retirementReason: r.text(status === 'cancelled' ? 'cancellationReason' : 'retirementReason'),
      retirementDetails: details,
      accountHolder: r.text('accountName'),
      eligibility: [],
      article6Authorization: r.text('hcloaName') ?? r.text('letter_of_auth_hcloa'),
      tokenizationMarker: tokenizationMarker(beneficiary, details),
    };
    return mapped(r, [projectOf(r, id), block]);
  };
}

export const verraApi = platformApi({
  registry: 'verra',
  tenant: 'VERRA',
  standardId: '150000000000001',
  standardAcronym: 'VCS',
  resources: [
    { resource: 'project', stream: 'projects', partitionKeys: [{ field: 'countryName', values: hostCountries }], recognises: platformEntity.project, map: mapProject },
    { resource: 'issuances', stream: 'issuances', partitionKeys, recognises: platformEntity.issuance, map: mapIssuance },
    { resource: 'retirements', stream: 'retirements', partitionKeys, snapshotOf: ['retired'], recognises: platformEntity.retirement, map: mapClosedBlock('retired') },
    { resource: 'cancellations', stream: 'cancellations', partitionKeys, snapshotOf: ['cancelled'], recognises: platformEntity.cancellation, map: mapClosedBlock('cancelled') },
  ],
});
