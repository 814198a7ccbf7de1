import { sql } from 'drizzle-orm';
import { check, date, index, integer, pgTable, text, unique, varchar } from 'drizzle-orm/pg-core';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { bigintRef, createdAt, id, ownership, ownershipCheck, tonnes, updatedAt } from './columns.ts';
import { caDirection } from './enums.ts';
import { batches } from './sources.ts';

// Article 6.2 Agreed Electronic Format (AEF), tables T1–T5, with CAD Trust v2 field names
// (reference/registries.md §5.2) in snake_case, and the corresponding adjustments each Party applied.
// Parties are ISO 3166-1 alpha-3, as the AEF writes them. Rows belong to the organization that uploaded
// them and may be private while they are a draft; a row's identity includes its owner, so one
// publisher's rows never meet another's. An organization publishes only for the Parties it holds
// (organization_parties).

const party = () => varchar({ length: 3 });
const partyCheck = (name: string, column: AnyPgColumn) => check(name, sql`${column} ~ '^[A-Z]{3}$'`);

/** T1: one Party's submission for a reporting year. */
export const aefSubmissions = pgTable('aef_submissions', {
  id: id(),
  party: party().notNull(),
  reportYear: integer().notNull(),
  version: text().notNull().default('1'),
  submittedOn: date({ mode: 'string' }),
  ndcFirstYear: integer(),
  ndcLastYear: integer(),
  ...ownership(),
  batchId: bigintRef().references(() => batches.id),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
}, (t) => [
  unique('aef_submissions_natural_key').on(t.party, t.reportYear, t.version, t.ownerOrganizationId).nullsNotDistinct(),
  partyCheck('aef_submissions_party_format', t.party),
  check('aef_submissions_ndc_period_order', sql`${t.ndcLastYear} >= ${t.ndcFirstYear}`),
  ownershipCheck('aef_submissions', t),
]);

/** T2: an authorization of ITMOs by the host Party, for NDC use, OIMP, or both. */
export const aefAuthorizations = pgTable('aef_authorizations', {
  id: id(),
  /** The authorizing (host) Party. */
  party: party().notNull(),
  /** The Party's own id for the authorization, e.g. `VUT0001`. */
  authorizationId: text().notNull(),
  version: text().notNull().default('1'),
  authorizedOn: date({ mode: 'string' }),
  /** The CARP id of the cooperative approach, e.g. `CA0004`. */
  cooperativeApproachId: text(),
  /** The authorized quantity; optional in the AEF (and absent from its 2024 layout): null is "not stated", never 0. */
  quantity: tonnes(),
  metric: text().notNull().default('GHG'),
  gwpValue: text(),
  applicableNonGhgMetric: text(),
  sector: text(),
  activityType: text(),
  /** `NDC`, `OIMP`, `NDC and OIMP` or `OP`, as the AEF writes it. */
  purposes: text(),
  authorizedPartyId: party(),
  authorizedEntityId: text(),
  oimpAuthorizedParty: text(),
  /** The AEF's `AuthorizedTimeframe` ("2024 - 2030") as first and last year. */
  timeframeStart: integer(),
  timeframeEnd: integer(),
  authorizationTerms: text(),
  authorizationDocumentation: text(),
  /** For OIMP: which event is the first transfer (`Authorisation`, `Issuance`, `Use or Cancellation`). */
  firstTransferDefinitionOimp: text(),
  additionalInformation: text(),
  ...ownership(),
  batchId: bigintRef().references(() => batches.id),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
}, (t) => [
  unique('aef_authorizations_natural_key').on(t.party, t.authorizationId, t.version, t.ownerOrganizationId).nullsNotDistinct(),
  partyCheck('aef_authorizations_party_format', t.party),
  partyCheck('aef_authorizations_authorized_party_format', t.authorizedPartyId),
  check('aef_authorizations_quantity_positive', sql`${t.quantity} > 0`),
  check('aef_authorizations_timeframe_order', sql`${t.timeframeEnd} >= ${t.timeframeStart}`),
  ownershipCheck('aef_authorizations', t),
]);

// T3 and T4 share the description of an ITMO range and its underlying units.
const itmoRange = () => ({
  cooperativeApproachId: text(),
  /** The T2 authorization id, as written in the row. */
  authorizationId: text(),
  authorizationRowId: bigintRef().references((): AnyPgColumn => aefAuthorizations.id),
  firstTransferringPartyId: party(),
  partyItmoRegistryId: text(),
  itmoFirstId: text(),
  itmoLastId: text(),
  /** Registry of the underlying units ("GS", "VCS"…) and their serial range. */
  unitRegistryId: text(),
  unitFirstId: text(),
  unitLastId: text(),
  metric: text().notNull().default('GHG'),
  quantityTco2: tonnes().notNull(),
  mitigationType: text(),
  vintageYear: integer(),
});

/** T3: actions — authorization, first transfer, transfer, acquisition, use, cancellation. */
export const aefActions = pgTable('aef_actions', {
  id: id(),
  submissionId: bigintRef().references(() => aefSubmissions.id),
  /** The reporting Party. */
  party: party().notNull(),
  /** Identifies the row across uploads: a hash of its identifying fields, computed by the uploader. */
  rowKey: text().notNull(),
  actionDate: date({ mode: 'string' }),
  actionType: text().notNull(),
  actionSubtype: text(),
  ...itmoRange(),
  quantityNonGhg: tonnes(),
  transferringPartyId: party(),
  acquiringPartyId: party(),
  purposeOfUseOimp: text(),
  usingParticipatingPartyId: party(),
  usingAuthorizedEntityId: text(),
  itmoUsedYear: integer(),
  /** Filled by the UNFCCC's CARP after its checks. */
  consistencyCheckResult: text(),
  additionalInformation: text(),
  ...ownership(),
  batchId: bigintRef().references(() => batches.id),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
}, (t) => [
  unique('aef_actions_natural_key').on(t.party, t.rowKey, t.ownerOrganizationId).nullsNotDistinct(),
  partyCheck('aef_actions_party_format', t.party),
  partyCheck('aef_actions_first_transferring_party_format', t.firstTransferringPartyId),
  partyCheck('aef_actions_transferring_party_format', t.transferringPartyId),
  partyCheck('aef_actions_acquiring_party_format', t.acquiringPartyId),
  check('aef_actions_quantity_positive', sql`${t.quantityTco2} > 0`),
  ownershipCheck('aef_actions', t),
  index('aef_actions_authorization').on(t.party, t.authorizationId),
]);

/** T4: ITMOs held on 31 December of the reporting year. */
export const aefHoldings = pgTable('aef_holdings', {
  id: id(),
  submissionId: bigintRef().references(() => aefSubmissions.id),
  party: party().notNull(),
  rowKey: text().notNull(),
  snapshotYear: integer().notNull(),
  ...itmoRange(),
  ...ownership(),
  batchId: bigintRef().references(() => batches.id),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
}, (t) => [
  unique('aef_holdings_natural_key').on(t.party, t.rowKey, t.ownerOrganizationId).nullsNotDistinct(),
  partyCheck('aef_holdings_party_format', t.party),
  check('aef_holdings_quantity_positive', sql`${t.quantityTco2} > 0`),
  ownershipCheck('aef_holdings', t),
]);

/** T5: entities a Party authorized to use or transfer ITMOs. */
export const aefAuthorizedEntities = pgTable('aef_authorized_entities', {
  id: id(),
  party: party().notNull(),
  entityId: text().notNull(),
  name: text().notNull(),
  incorporationCountry: text(),
  authorizedOn: date({ mode: 'string' }),
  cooperativeApproachId: text(),
  conditions: text(),
  changeConditions: text(),
  additionalInformation: text(),
  ...ownership(),
  batchId: bigintRef().references(() => batches.id),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
}, (t) => [
  unique('aef_authorized_entities_natural_key').on(t.party, t.entityId, t.cooperativeApproachId, t.ownerOrganizationId).nullsNotDistinct(),
  partyCheck('aef_authorized_entities_party_format', t.party),
  ownershipCheck('aef_authorized_entities', t),
]);

/**
 * Corresponding adjustments a Party applied in its emissions balance for a year (the BTR structured
 * summary): `add` for ITMOs it first transferred, `subtract` for ITMOs it used.
 */
export const correspondingAdjustments = pgTable('corresponding_adjustments', {
  id: id(),
  party: party().notNull(),
  year: integer().notNull(),
  cooperativeApproachId: text(),
  direction: caDirection().notNull(),
  quantity: tonnes().notNull(),
  metric: text().notNull().default('GHG'),
  ...ownership(),
  batchId: bigintRef().references(() => batches.id),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
}, (t) => [
  unique('corresponding_adjustments_natural_key').on(t.party, t.year, t.direction, t.cooperativeApproachId, t.ownerOrganizationId).nullsNotDistinct(),
  partyCheck('corresponding_adjustments_party_format', t.party),
  check('corresponding_adjustments_quantity_not_negative', sql`${t.quantity} >= 0`),
  ownershipCheck('corresponding_adjustments', t),
]);

export type AefSubmission = typeof aefSubmissions.$inferSelect;
export type AefAuthorization = typeof aefAuthorizations.$inferSelect;
export type AefAction = typeof aefActions.$inferSelect;
export type AefHolding = typeof aefHoldings.$inferSelect;
export type AefAuthorizedEntity = typeof aefAuthorizedEntities.$inferSelect;
export type CorrespondingAdjustment = typeof correspondingAdjustments.$inferSelect;
