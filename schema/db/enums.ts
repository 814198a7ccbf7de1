import { pgEnum } from 'drizzle-orm/pg-core';

// Closed vocabularies the database enforces. Each value is a term code in
// schema/taxonomy/data/vocabularies.json (same name), where its English and Japanese labels live;
// test/schema/taxonomy.test.ts keeps the two in step.

export const registryKind = pgEnum('registry_kind', ['independent', 'compliance', 'un-mechanism', 'bilateral', 'national']);

// How a registry numbers its units (DESIGN §5): Verra numbers registry-wide, GS/ACR/CAR/ART restart
// per issuance batch, CDM/Kyoto serials carry party, unit type and project.
export const serialScheme = pgEnum('serial_scheme', ['registry-wide', 'per-issuance', 'kyoto', 'none']);

export const projectStatus = pgEnum('project_status', [
  'listed', 'validated', 'registered', 'approved', 'authorized', 'completed', 'transitioned', 'withdrawn', 'deregistered', 'unknown',
]);
export const reductionRemoval = pgEnum('reduction_removal', ['reduction', 'removal', 'mixed']);
export const coveredByNdc = pgEnum('covered_by_ndc', ['inside-ndc', 'outside-ndc', 'unknown']);
export const unitType = pgEnum('unit_type', ['reduction-nature', 'reduction-technical', 'removal-nature', 'removal-technical']);
export const unitStatus = pgEnum('unit_status', ['held', 'retired', 'cancelled', 'expired', 'buffer', 'exported', 'pending-export']);
export const caDeclaration = pgEnum('ca_declaration', ['committed', 'not-required', 'unknown']);
export const caStatus = pgEnum('ca_status', ['not-started', 'pending', 'completed']);
export const labelType = pgEnum('label_type', [
  'endorsement', 'certification', 'letter-of-approval', 'letter-of-authorization', 'letter-of-qualification',
]);
export const retirementPurpose = pgEnum('retirement_purpose', ['voluntary', 'corsia', 'ndc', 'oimp', 'compliance', 'other']);
export const eventKind = pgEnum('event_kind', [
  'issued', 'retired', 'cancelled', 'converted-out', 'converted-in', 'transferred', 'first-transferred', 'ca-applied', 'expired',
]);
export const linkRelation = pgEnum('link_relation', ['same-activity', 'transitioned-from', 'converted-to', 'poa-member']);
export const linkSource = pgEnum('link_source', ['declared', 'inferred']);
export const batchKind = pgEnum('batch_kind', ['sync', 'upload']);
export const batchStatus = pgEnum('batch_status', ['running', 'committed', 'failed']);
export const apiKeyRole = pgEnum('api_key_role', ['admin', 'publisher', 'reader']);
export const findingKind = pgEnum('finding_kind', [
  // double counting (DESIGN §6 rules 1–7)
  'serial-overlap', 'unnetted-conversion', 'same-activity-overlap', 'cdm-overlap', 'retired-twice',
  'tokenized-after-retirement', 'export-not-imported',
  // a source that reports another registry's units says otherwise than the registry (DESIGN §3, mirrors)
  'mirror-disagrees',
  // corresponding-adjustment gaps (rules 8–14)
  'ca-unreported-first-transfer', 'ca-quantity-mismatch', 'ca-range-mismatch', 'ca-mirror-missing',
  'ca-unauthorized-use', 'ca-status-overdue', 'contribution-claim-overlap',
]);
export const findingSeverity = pgEnum('finding_severity', ['info', 'low', 'medium', 'high', 'critical']);
export const findingStatus = pgEnum('finding_status', ['open', 'acknowledged', 'resolved', 'dismissed']);
export const caDirection = pgEnum('ca_direction', ['add', 'subtract']);

/** Every enum above, by the vocabulary name that labels its values. */
export const enumVocabularies = {
  registryKind, serialScheme, projectStatus, reductionRemoval, coveredByNdc, unitType, unitStatus, caDeclaration,
  caStatus, labelType, retirementPurpose, eventKind, linkRelation, linkSource, batchKind, batchStatus, apiKeyRole,
  findingKind, findingSeverity, findingStatus, caDirection,
} as const;
