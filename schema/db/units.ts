import { sql } from 'drizzle-orm';
import { bigint, boolean, check, date, index, integer, jsonb, pgTable, text, timestamp, unique } from 'drizzle-orm/pg-core';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { bigintRef, createdAt, id, int8range, ownership, ownershipCheck, tonnes, updatedAt } from './columns.ts';
import { caDeclaration, caStatus, eventKind, retirementPurpose, unitStatus, unitType } from './enums.ts';
import { projects } from './projects.ts';
import { registries } from './registries.ts';
import { batches, rawRecords } from './sources.ts';

/**
 * One issuance event of a project: a vintage, a date, a quantity, and the levies taken from it.
 * `issuanceKey` is the registry's batch id where it has one, else a key the connector derives from the
 * fields that identify the issuance (project, vintage, date), so re-ingesting the same data matches it.
 */
export const issuances = pgTable('issuances', {
  id: id(),
  registryId: text().notNull().references(() => registries.id),
  projectId: bigintRef().notNull().references(() => projects.id),
  issuanceKey: text().notNull(),
  vintageStart: date({ mode: 'string' }),
  vintageEnd: date({ mode: 'string' }),
  vintageYear: integer(),
  issuedOn: date({ mode: 'string' }),
  quantity: tonnes().notNull(),
  /**
   * True when the registry publishes no figure for the issuance and its quantity is the sum of the
   * blocks that carry its batch number (Verra's VCU export, Gold Standard's credit exports). The
   * ingest job recomputes it from the ledger, so it only grows as more of the batch is seen.
   */
  quantityFromBlocks: boolean().notNull().default(false),
  /** Vocabulary `creditType` (vcu, ver, cer…). */
  creditType: text(),
  /** Vocabulary `eligibility` codes, as the registry states them for the whole issuance. */
  eligibility: text().array().notNull().default(sql`'{}'::text[]`),
  /** Serial range of the whole issuance, where the registry gives one. Serials stay far below 2^53 in
   *  every registry seen (Verra ~10^9, Kyoto ~10^10), so they are JavaScript numbers; parsers check it. */
  numberSpace: text(),
  serialStart: bigint({ mode: 'number' }),
  serialEnd: bigint({ mode: 'number' }),
  serialRaw: text(),
  // Levies taken at issuance. Kept apart from the quantity so issued totals stay comparable across
  // registries that report gross (ACR, CAR) and net (ART) of them.
  bufferQuantity: tonnes(),
  shareOfProceedsQuantity: tonnes(),
  omgeQuantity: tonnes(),
  caReserveQuantity: tonnes(),
  ...ownership(),
  firstBatchId: bigintRef().references((): AnyPgColumn => batches.id),
  lastBatchId: bigintRef().references((): AnyPgColumn => batches.id),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
}, (t) => [
  unique('issuances_natural_key').on(t.projectId, t.issuanceKey),
  check('issuances_quantity_positive', sql`${t.quantity} > 0`),
  check('issuances_vintage_order', sql`${t.vintageEnd} >= ${t.vintageStart}`),
  check('issuances_serial_order', sql`${t.serialEnd} >= ${t.serialStart}`),
  check('issuances_serial_complete', sql`(${t.serialStart} is null) = (${t.serialEnd} is null) and (${t.serialStart} is null or ${t.numberSpace} is not null)`),
  check('issuances_levies_not_negative', sql`${t.bufferQuantity} >= 0 and ${t.shareOfProceedsQuantity} >= 0 and ${t.omgeQuantity} >= 0 and ${t.caReserveQuantity} >= 0`),
  ownershipCheck('issuances', t),
  index('issuances_registry_vintage').on(t.registryId, t.vintageYear),
  // Serial lookups reach issuance ranges too (registries that publish the range of a whole issuance).
  index('issuances_serial_range').using('gist', t.numberSpace, sql`int8range(${t.serialStart}, ${t.serialEnd}, '[]')`).where(sql`${t.numberSpace} is not null`),
  index('issuances_serial_raw').on(t.serialRaw).where(sql`${t.serialRaw} is not null`),
  // Private rows are few; each batch asks whether other organizations keep any (jobs/ingest.ts).
  index('issuances_private').on(t.ownerOrganizationId).where(sql`${t.isPrivate}`),
  // What one batch changed is found without a pass over the ledger (the changes feed).
  index('issuances_last_batch').on(t.lastBatchId),
]);

/**
 * A serial range and its state as the registry reports it (DESIGN §3, §5). Serials are compared only
 * inside one number space: `verra:VER` for Verra's registry-wide numbering (`verra:APX`, `verra:MER` for its legacy registries), `<registry>:<project>:<vintage>:<batch>`
 * for registries that restart numbering per issuance, `cdm:<party>:<unit type>` for Kyoto serials.
 * `blockKey` is the registry's identity for the record: its own id where it has one, else the serial range.
 */
export const unitBlocks = pgTable('unit_blocks', {
  id: id(),
  registryId: text().notNull().references(() => registries.id),
  projectId: bigintRef().notNull().references(() => projects.id),
  issuanceId: bigintRef().references(() => issuances.id),
  blockKey: text().notNull(),
  numberSpace: text(),
  serialStart: bigint({ mode: 'number' }),
  serialEnd: bigint({ mode: 'number' }),
  // Null for a backwards range, so that the named check below refuses the row with a clear message
  // instead of int8range() failing first.
  serialRange: int8range().generatedAlwaysAs(sql`case when serial_end >= serial_start then int8range(serial_start, serial_end, '[]') end`),
  serialRaw: text(),
  quantity: tonnes().notNull(),
  vintageStart: date({ mode: 'string' }),
  vintageEnd: date({ mode: 'string' }),
  vintageYear: integer(),
  /** Vocabulary `creditType` (vcu, ver, cer…). */
  creditType: text(),
  unitType: unitType(),
  status: unitStatus().notNull(),
  statusDate: date({ mode: 'string' }),
  retirementBeneficiary: text(),
  retirementReason: text(),
  retirementPurpose: retirementPurpose(),
  retirementDetails: text(),
  accountHolder: text(),
  /** Vocabulary `eligibility` codes, as the registry states them for this block. */
  eligibility: text().array().notNull().default(sql`'{}'::text[]`),
  /** Article 6 Letter of Authorization reference (Verra `hcloaName`, GS `Article Six Authorization`…). */
  article6Authorization: text(),
  caDeclaration: caDeclaration(),
  caStatus: caStatus(),
  /** Bridge named in the retirement details (Toucan, C3, Moss…), when units live on as tokens. */
  tokenizationMarker: text(),
  ...ownership(),
  firstBatchId: bigintRef().references((): AnyPgColumn => batches.id),
  lastBatchId: bigintRef().references((): AnyPgColumn => batches.id),
  /**
   * Set when a complete pull of the registry's blocks no longer lists this one: the registry split it
   * (a partial retirement leaves a held remainder and a retired piece under new serials). The row is
   * kept as history; current-state queries leave it out. A block listed again is current again.
   */
  supersededInBatchId: bigintRef().references((): AnyPgColumn => batches.id),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
}, (t) => [
  unique('unit_blocks_natural_key').on(t.registryId, t.blockKey, t.ownerOrganizationId).nullsNotDistinct(),
  check('unit_blocks_quantity_positive', sql`${t.quantity} > 0`),
  check('unit_blocks_serial_order', sql`${t.serialEnd} >= ${t.serialStart}`),
  check('unit_blocks_serial_complete', sql`(${t.serialStart} is null) = (${t.serialEnd} is null) and (${t.serialStart} is null or ${t.numberSpace} is not null)`),
  // DESIGN §5: a serial range holds exactly its quantity. Parsers report rows that break this; the
  // database refuses them as a last line of defence.
  check('unit_blocks_quantity_matches_serials', sql`${t.serialStart} is null or ${t.quantity} = ${t.serialEnd} - ${t.serialStart} + 1`),
  check('unit_blocks_vintage_order', sql`${t.vintageEnd} >= ${t.vintageStart}`),
  ownershipCheck('unit_blocks', t),
  // Overlap (&&) and containment (@>) inside one number space: btree_gist lets the text column share the GiST index.
  index('unit_blocks_serial_range').using('gist', t.numberSpace, t.serialRange),
  index('unit_blocks_number_space_start').on(t.numberSpace, t.serialStart),
  index('unit_blocks_project').on(t.projectId),
  index('unit_blocks_issuance').on(t.issuanceId),
  index('unit_blocks_registry_status').on(t.registryId, t.status),
  index('unit_blocks_serial_raw').on(t.serialRaw),
  // What one batch wrote (its events, issuance sums and the check after it) is found without a pass over the ledger.
  index('unit_blocks_last_batch').on(t.lastBatchId),
  // Integrity rules 6, 8 and 13 read the few blocks that name a bridge, an authorization, or a committed adjustment.
  index('unit_blocks_tokenized').on(t.id).where(sql`${t.tokenizationMarker} is not null`),
  index('unit_blocks_article6').on(t.article6Authorization).where(sql`${t.article6Authorization} is not null`),
  index('unit_blocks_ca_committed').on(t.id).where(sql`${t.caDeclaration} = 'committed'`),
  index('unit_blocks_private').on(t.ownerOrganizationId).where(sql`${t.isPrivate}`),
]);

/**
 * The append-only lifecycle of units: issued, retired, cancelled, converted, transferred, first-transferred,
 * CA applied. A trigger refuses UPDATE and DELETE, so history cannot be rewritten; the current state of the
 * ledger can be rebuilt from these rows and trends are computed from them. `eventKey` is derived from the
 * source record, so ingesting the same record twice adds nothing.
 */
export const events = pgTable('events', {
  id: id(),
  registryId: text().notNull().references(() => registries.id),
  projectId: bigintRef().notNull().references(() => projects.id),
  issuanceId: bigintRef().references(() => issuances.id),
  blockId: bigintRef().references(() => unitBlocks.id),
  kind: eventKind().notNull(),
  eventKey: text().notNull(),
  /** Null where the registry gives no date (Gold Standard cancellations, ARB voluntary retirements). */
  occurredOn: date({ mode: 'string' }),
  quantity: tonnes().notNull(),
  vintageYear: integer(),
  /** The other side of a conversion or transfer. */
  counterpartyRegistryId: text().references(() => registries.id),
  details: jsonb().notNull().default({}),
  rawRecordId: bigintRef().references((): AnyPgColumn => rawRecords.id),
  batchId: bigintRef().notNull().references((): AnyPgColumn => batches.id),
  ...ownership(),
  recordedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  unique('events_natural_key').on(t.registryId, t.eventKey, t.ownerOrganizationId).nullsNotDistinct(),
  check('events_quantity_positive', sql`${t.quantity} > 0`),
  ownershipCheck('events', t),
  index('events_project').on(t.projectId),
  index('events_block').on(t.blockId),
  index('events_issuance').on(t.issuanceId),
  index('events_kind_date').on(t.kind, t.occurredOn),
  index('events_batch').on(t.batchId),
]);

/**
 * Tonnes of events summed by project, kind, event year, vintage, unit type and counterparty, for trends
 * (DESIGN §1, researchers): a trend over every event reads these few rows instead of the events. A
 * trigger on events keeps it (migration 0012): events are only ever added, so the sums only grow. The
 * unit type is the block's (or issuance's) credit type when the event is recorded.
 */
export const trendFacts = pgTable('trend_facts', {
  projectId: bigintRef().notNull().references(() => projects.id),
  kind: eventKind().notNull(),
  year: integer(),
  vintageYear: integer(),
  creditType: text(),
  counterpartyRegistryId: text().references(() => registries.id),
  ...ownership(),
  quantity: tonnes().notNull(),
  events: integer().notNull(),
}, (t) => [
  unique('trend_facts_key').on(t.projectId, t.kind, t.year, t.vintageYear, t.creditType, t.counterpartyRegistryId, t.ownerOrganizationId, t.isPrivate).nullsNotDistinct(),
  ownershipCheck('trend_facts', t),
]);

export type Issuance = typeof issuances.$inferSelect;
export type NewIssuance = typeof issuances.$inferInsert;
export type UnitBlock = typeof unitBlocks.$inferSelect;
export type NewUnitBlock = typeof unitBlocks.$inferInsert;
export type LedgerEvent = typeof events.$inferSelect;
export type NewLedgerEvent = typeof events.$inferInsert;
