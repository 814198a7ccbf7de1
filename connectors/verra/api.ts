import type { BlockRecord, CanonicalInput, IssuanceRecord, ProjectRecord } from '../../schema/canonical.ts';
import { countryNames } from '../../schema/taxonomy/index.ts';
import { tokenizationMarker } from '../runtime/row.ts';
import { platformApi, platformDate, platformEntity, positive, text, type PartitionKey } from '../spglobal/platform.ts';
import type { Mapped, RowError } from '../types.ts';
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

function failure(locator: string, field: string, code: string, message: string): Mapped {
  return { records: [], errors: [{ locator, field, code, message: `${locator}: ${field}: ${message}` }] };
}

function serialOf(raw: unknown, quantity: number | undefined, locator: string, field: string): { range?: ReturnType<typeof parseVerraSerial>; error?: RowError } {
  const parsed = parseVerraSerial(String(raw ?? ''));
  if (!parsed.ok) return { error: { locator, field, code: 'bad-serial', message: `${locator}: ${field}: ${parsed.error}` } };
  const size = parsed.range.end - parsed.range.start + 1;
  if (quantity !== undefined && size !== quantity) {
    return { error: { locator, field, code: 'serial-quantity-mismatch', message: `${locator}: ${field}: ${size} units in the serial but the record says ${quantity}` } };
  }
  return { range: parsed };
}

function mapProject(e: Record<string, unknown>, locator: string): Mapped {
  const id = text(e.vcsProjectId) ?? text(e.projectId);
  if (!id) return failure(locator, 'vcsProjectId', 'missing', 'is empty');
  const latitude = typeof e.latitude === 'number' && e.latitude !== 0 ? e.latitude : undefined;
  const longitude = typeof e.longitude === 'number' && e.longitude !== 0 ? e.longitude : undefined;
  const project: ProjectRecord = {
    type: 'project',
    registry: 'verra',
    registryProjectId: id,
    // Withdrawn projects can come with an empty name; Verra itself refers to them as "VCS <id>".
    name: text(e.projectName) ?? `VCS ${id}`,
    proponent: text(e.proponents)?.replace(/ \(PP\)/g, ''),
    country: text(e.countryName),
    region: text(e.regionName),
    methodology: text(e.methodologies),
    status: verraProjectStatus(text(e.status)),
    statusRaw: text(e.status),
    registeredOn: platformDate(e.verraProjectRegistrationDate),
    creditingPeriodStart: platformDate(e.creditPeriodStartDate),
    creditingPeriodEnd: platformDate(e.creditPeriodEndDate),
    estimatedAnnualQuantity: positive(e.avgAnnualVolVcu),
    latitude,
    longitude,
    eligibility: [],
    coBenefits: [],
    registryUrl: `https://registry.verra.org/app/projectDetail/VCS/${id}`,
    otherPrograms: otherPrograms(e),
  };
  return { records: [project], errors: [] };
}

/**
 * What a project entity says of other GHG programmes (reference/registries.md §1.1, §6.2):
 * `otherGhgProgramName` / `otherGhgProgramId` with `registeredOtherGhgProgram` (also registered there),
 * and the status "Units Transferred from Approved GHG Program" (its units came from another programme,
 * the CDM path). Undefined when it says nothing, so a source without these fields keeps what another wrote.
 */
function otherPrograms(e: Record<string, unknown>): ProjectRecord['otherPrograms'] {
  const found: NonNullable<ProjectRecord['otherPrograms']> = [];
  const program = text(e.otherGhgProgramName);
  const projectId = text(e.otherGhgProgramId);
  if (program || projectId || e.registeredOtherGhgProgram === true) {
    found.push({ program, projectId, relation: 'same-activity', field: 'otherGhgProgramName' });
  }
  const status = `${text(e.status) ?? ''} ${text(e.stateCode) ?? ''}`.toLowerCase();
  if (status.includes('units transferred from approved ghg program') || status.includes('cred_trans_frm_other_prog')) {
    found.push({ program, projectId, relation: 'converted-from', field: 'status' });
  }
  return found.length > 0 ? found : undefined;
}

function mapIssuance(e: Record<string, unknown>, locator: string): Mapped {
  const id = text(e.vcsProjectId) ?? text(e.projectId);
  const quantity = positive(e.holdingQuantity);
  if (!id) return failure(locator, 'vcsProjectId', 'missing', 'is empty');
  if (!quantity) return failure(locator, 'holdingQuantity', 'quantity-not-positive', `${String(e.holdingQuantity)} is not a positive quantity`);
  const { range, error } = serialOf(e.serialNo, quantity, locator, 'serialNo');
  if (error || !range?.ok) return { records: [], errors: error ? [error] : [] };
  const serial = range.range;
  const issuance: IssuanceRecord = {
    type: 'issuance',
    registry: 'verra',
    registryProjectId: id,
    issuanceKey: `batch ${serial.raw.split('-')[0]}`,
    vintageStart: serial.vintageStart,
    vintageEnd: serial.vintageEnd,
    vintageYear: serial.vintageYear,
    issuedOn: platformDate(e.issueDate),
    quantity,
    quantityFromBlocks: false,
    creditType: 'vcu',
    serial: { numberSpace: serial.numberSpace, start: serial.start, end: serial.end, raw: serial.raw },
    bufferQuantity: positive(e.unitsIssuedInPermanenceBufferAccount),
    caReserveQuantity: positive(e.unitsIssuedInCorrespondingAdjustmentReserveAccount),
    omgeQuantity: positive(e.omgeQuantity),
    shareOfProceedsQuantity: positive(e.adaptationFundQuantity),
  };
  const project: ProjectRecord = {
    type: 'project', registry: 'verra', registryProjectId: id, name: text(e.projectName) ?? `VCS ${id}`,
    country: text(e.countryName), methodology: text(e.methodologies), eligibility: [], coBenefits: [],
  };
  return { records: [project, issuance], errors: [] };
}

/** Retired and cancelled blocks share a shape, though cancellations spell their fields in snake_case. */
function mapClosedBlock(status: 'retired' | 'cancelled') {
  return (e: Record<string, unknown>, locator: string): Mapped => {
    const id = text(e.vcsProjectId) ?? text(e.projectId);
    const quantity = positive(e.holdingQuantity);
    if (!id) return failure(locator, 'vcsProjectId', 'missing', 'is empty');
    if (!quantity) return failure(locator, 'holdingQuantity', 'quantity-not-positive', `${String(e.holdingQuantity)} is not a positive quantity`);
    const serialField = status === 'cancelled' ? 'serial_no' : 'serialNo';
    const { range, error } = serialOf(e[serialField], quantity, locator, serialField);
    if (error || !range?.ok) return { records: [], errors: error ? [error] : [] };
    const serial = range.range;
    const beneficiary = text(e.beneficialOwner);
    const details = status === 'cancelled'
      ? [text(e.cancellationReasonDetails), text(e.cancellation_remarks), text(e.subAccountName)].filter(Boolean).join(' | ') || undefined
      : text(e.retirementReasonDetails) ?? text(e.retirementRemarks);
    const block: BlockRecord = {
      type: 'block',
      registry: 'verra',
      registryProjectId: id,
      blockKey: serial.raw,
      issuanceKey: `batch ${serial.raw.split('-')[0]}`,
      serial: { numberSpace: serial.numberSpace, start: serial.start, end: serial.end, raw: serial.raw },
      quantity,
      vintageStart: serial.vintageStart,
      vintageEnd: serial.vintageEnd,
      vintageYear: serial.vintageYear,
      creditType: 'vcu',
      status,
      statusDate: platformDate(status === 'cancelled' ? e.cancellation_date : e.retiredDate),
      retirementBeneficiary: beneficiary,
      retirementReason: text(status === 'cancelled' ? e.cancellationReason : e.retirementReason),
      retirementDetails: details,
      accountHolder: text(e.accountName),
      eligibility: [],
      article6Authorization: text(e.hcloaName) ?? text(e.letter_of_auth_hcloa),
      tokenizationMarker: tokenizationMarker(beneficiary, details),
    };
    const records: CanonicalInput[] = [
      { type: 'project', registry: 'verra', registryProjectId: id, name: text(e.projectName) ?? `VCS ${id}`, country: text(e.countryName), methodology: text(e.methodologies), eligibility: [], coBenefits: [] },
      block,
    ];
    return { records, errors: [] };
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
