import type { BlockRecord, EventRecord, IssuanceRecord, LabelRecord, MirrorRecord, ProjectRecord } from '../schema/canonical.ts';
import { classifyProject, resolveCountry } from '../schema/taxonomy/index.ts';
import type { RowError } from '../connectors/types.ts';

// Canonical records → ledger rows, with the common taxonomy applied (DESIGN §4): ISO country,
// protocols, category, project type, reduction/removal. A value the taxonomy cannot place is kept
// as a warning on the batch, never dropped silently.

export type Ownership = { ownerOrganizationId: number | null; isPrivate: boolean };

// A transaction export names the same project on every row: classify each distinct one once.
const classified = new Map<string, ReturnType<typeof classifyProject>>();
function classifyOnce(input: Parameters<typeof classifyProject>[0]) {
  const key = `${input.registry}\u0000${input.registryProjectId}\u0000${input.methodology ?? ''}`;
  let result = classified.get(key);
  if (!result) {
    if (classified.size >= 50_000) classified.clear();
    result = classifyProject(input);
    classified.set(key, result);
  }
  return result;
}

export function projectRow(record: ProjectRecord, ownership: Ownership, batchId: number, locator: string, warnings: RowError[]) {
  const country = resolveCountry(record.country);
  if (record.country && !country) {
    warnings.push({ locator, field: 'country', code: 'unknown-country', message: `${locator}: country "${record.country}" matches no ISO 3166 country; stored without one` });
  }
  const classification = classifyOnce({ registry: record.registry, registryProjectId: record.registryProjectId, methodology: record.methodology });
  return {
    registryId: record.registry,
    registryProjectId: record.registryProjectId,
    name: record.name,
    nameJa: record.nameJa ?? null,
    proponent: record.proponent ?? null,
    country: country?.code ?? null,
    region: record.region ?? null,
    projectType: classification.projectType,
    category: record.methodology || classification.projectType ? classification.category : null,
    reductionRemoval: classification.reductionRemoval,
    methodologies: classification.protocols,
    methodologyRaw: record.methodology ?? null,
    methodologyUnmatched: classification.unmatched,
    status: record.status ?? null,
    statusRaw: record.statusRaw ?? null,
    creditingPeriodStart: record.creditingPeriodStart ?? null,
    creditingPeriodEnd: record.creditingPeriodEnd ?? null,
    registeredOn: record.registeredOn ?? null,
    estimatedAnnualQuantity: record.estimatedAnnualQuantity ?? null,
    estimatedTotalQuantity: record.estimatedTotalQuantity ?? null,
    eligibility: record.eligibility,
    coBenefits: record.coBenefits,
    latitude: record.latitude ?? null,
    longitude: record.longitude ?? null,
    registryUrl: record.registryUrl ?? null,
    otherPrograms: record.otherPrograms ?? null,
    alternateIds: record.alternateIds?.length ? [...new Set(record.alternateIds)].sort() : null,
    coveredByNdc: record.coveredByNdc ?? null,
    ...ownership,
    firstBatchId: batchId,
    lastBatchId: batchId,
  };
}

export function issuanceRow(record: IssuanceRecord, projectId: number, ownership: Ownership, batchId: number) {
  return {
    registryId: record.registry,
    projectId,
    issuanceKey: record.issuanceKey,
    vintageStart: record.vintageStart ?? null,
    vintageEnd: record.vintageEnd ?? null,
    vintageYear: record.vintageYear ?? null,
    issuedOn: record.issuedOn ?? null,
    quantity: record.quantity,
    quantityFromBlocks: record.quantityFromBlocks,
    creditType: record.creditType ?? null,
    eligibility: record.eligibility ?? [],
    numberSpace: record.serial?.numberSpace ?? null,
    serialStart: record.serial?.start ?? null,
    serialEnd: record.serial?.end ?? null,
    serialRaw: record.serial?.raw ?? null,
    bufferQuantity: record.bufferQuantity ?? null,
    shareOfProceedsQuantity: record.shareOfProceedsQuantity ?? null,
    omgeQuantity: record.omgeQuantity ?? null,
    caReserveQuantity: record.caReserveQuantity ?? null,
    ...ownership,
    firstBatchId: batchId,
    lastBatchId: batchId,
  };
}

export function blockRow(record: BlockRecord, projectId: number, issuanceId: number | null, ownership: Ownership, batchId: number) {
  return {
    registryId: record.registry,
    projectId,
    issuanceId,
    blockKey: record.blockKey,
    numberSpace: record.serial?.numberSpace ?? null,
    serialStart: record.serial?.start ?? null,
    serialEnd: record.serial?.end ?? null,
    serialRaw: record.serial?.raw ?? record.serialRaw ?? null,
    quantity: record.quantity,
    vintageStart: record.vintageStart ?? null,
    vintageEnd: record.vintageEnd ?? null,
    vintageYear: record.vintageYear ?? null,
    creditType: record.creditType ?? null,
    unitType: record.unitType ?? null,
    status: record.status,
    statusDate: record.statusDate ?? null,
    retirementBeneficiary: record.retirementBeneficiary ?? null,
    retirementReason: record.retirementReason ?? null,
    retirementPurpose: record.retirementPurpose ?? null,
    retirementDetails: record.retirementDetails ?? null,
    accountHolder: record.accountHolder ?? null,
    eligibility: record.eligibility,
    article6Authorization: record.article6Authorization ?? null,
    caDeclaration: record.caDeclaration ?? null,
    caStatus: record.caStatus ?? null,
    tokenizationMarker: record.tokenizationMarker ?? null,
    // Listed now, so current (again, if a pull had left it out before).
    supersededInBatchId: null,
    ...ownership,
    firstBatchId: batchId,
    lastBatchId: batchId,
  };
}

export function labelRow(record: LabelRecord, projectId: number, ownership: Ownership, batchId: number) {
  return {
    projectId,
    labelType: record.labelType,
    label: record.label,
    creditingPeriodStart: record.creditingPeriodStart ?? null,
    creditingPeriodEnd: record.creditingPeriodEnd ?? null,
    validityPeriodStart: record.validityPeriodStart ?? null,
    validityPeriodEnd: record.validityPeriodEnd ?? null,
    unitQuantity: record.unitQuantity ?? null,
    labelLink: record.labelLink ?? null,
    ...ownership,
    batchId,
  };
}

export function eventRow(record: EventRecord, ids: { projectId: number; issuanceId: number | null; blockId: number | null; rawRecordId: number }, ownership: Ownership, batchId: number) {
  return {
    registryId: record.registry,
    projectId: ids.projectId,
    issuanceId: ids.issuanceId,
    blockId: ids.blockId,
    kind: record.kind,
    eventKey: record.eventKey,
    occurredOn: record.occurredOn ?? null,
    quantity: record.quantity,
    vintageYear: record.vintageYear ?? null,
    counterpartyRegistryId: record.counterpartyRegistry ?? null,
    details: record.details,
    rawRecordId: ids.rawRecordId,
    batchId,
    ...ownership,
  };
}

export function mirrorRow(record: MirrorRecord, rawRecordId: number, ownership: Ownership, batchId: number) {
  return {
    registryId: record.registry,
    reportedBy: record.reportedBy,
    mirrorKey: record.mirrorKey,
    kind: record.kind,
    registryProjectId: record.registryProjectId ?? null,
    projectRef: record.projectRef ?? null,
    projectName: record.projectName ?? null,
    country: resolveCountry(record.country)?.code ?? null,
    numberSpace: record.serial?.numberSpace ?? null,
    serialStart: record.serial?.start ?? null,
    serialEnd: record.serial?.end ?? null,
    serialRaw: record.serial?.raw ?? null,
    quantity: record.quantity ?? null,
    vintageYear: record.vintageYear ?? null,
    creditType: record.creditType ?? null,
    status: record.status ?? null,
    statusDate: record.statusDate ?? null,
    rawRecordId,
    ...ownership,
    firstBatchId: batchId,
    lastBatchId: batchId,
  };
}
