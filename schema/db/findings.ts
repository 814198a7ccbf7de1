import { sql } from 'drizzle-orm';
import { boolean, check, index, jsonb, pgTable, text, timestamp, unique } from 'drizzle-orm/pg-core';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { bigintRef, id, ownership, ownershipCheck, tonnes } from './columns.ts';
import { findingKind, findingSeverity, findingStatus } from './enums.ts';
import { aefActions, aefAuthorizations } from './article6.ts';
import { apiKeys } from './organizations.ts';
import { projects } from './projects.ts';
import { rawRecords } from './sources.ts';
import { issuances, unitBlocks } from './units.ts';

/**
 * A possible double count or corresponding-adjustment gap (DESIGN §6). The fingerprint is derived from
 * the rule and the records involved, so finding the same problem again updates `lastSeenAt` instead of
 * adding a row; a finding whose cause is gone is marked resolved, never deleted. A finding that involves
 * a private record is private to that record's owner.
 */
export const findings = pgTable('findings', {
  id: id(),
  fingerprint: text().notNull(),
  kind: findingKind().notNull(),
  severity: findingSeverity().notNull(),
  status: findingStatus().notNull().default('open'),
  /** The title in English, as the finding was last found (CSV, logs, clients that read no messages). */
  title: text().notNull(),
  /**
   * The title as a message of the catalogues (schema/messages: `{ key, params }`), which readers get in
   * their language. Null for a finding last found before titles were kept this way: its `title` is shown.
   */
  titleMessage: jsonb(),
  tonnesAtRisk: tonnes().notNull().default(0),
  /** True when the finding depends on a project link Tally inferred rather than one a registry declared. */
  restsOnInferredLink: boolean().notNull().default(false),
  /** What a person needs to check the finding without Tally: serials, dates, quantities, source links. */
  evidence: jsonb().notNull(),
  firstSeenAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  lastSeenAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  resolvedAt: timestamp({ withTimezone: true }),
  ...ownership(),
}, (t) => [
  unique('findings_fingerprint').on(t.fingerprint),
  check('findings_tonnes_not_negative', sql`${t.tonnesAtRisk} >= 0`),
  check('findings_resolved_has_time', sql`(${t.status} = 'resolved') = (${t.resolvedAt} is not null)`),
  ownershipCheck('findings', t),
  index('findings_kind_status').on(t.kind, t.status),
]);

/** The records a finding involves: exactly one of them per row. */
export const findingSubjects = pgTable('finding_subjects', {
  id: id(),
  findingId: bigintRef().notNull().references(() => findings.id, { onDelete: 'cascade' }),
  projectId: bigintRef().references((): AnyPgColumn => projects.id),
  issuanceId: bigintRef().references((): AnyPgColumn => issuances.id),
  blockId: bigintRef().references((): AnyPgColumn => unitBlocks.id),
  rawRecordId: bigintRef().references((): AnyPgColumn => rawRecords.id),
  // A resubmitted AEF replaces its rows: the finding keeps its evidence, and its check resolves it.
  aefAuthorizationId: bigintRef().references((): AnyPgColumn => aefAuthorizations.id, { onDelete: 'cascade' }),
  aefActionId: bigintRef().references((): AnyPgColumn => aefActions.id, { onDelete: 'cascade' }),
}, (t) => [
  check('finding_subjects_one_target', sql`num_nonnulls(${t.projectId}, ${t.issuanceId}, ${t.blockId}, ${t.rawRecordId}, ${t.aefAuthorizationId}, ${t.aefActionId}) = 1`),
  unique('finding_subjects_natural_key')
    .on(t.findingId, t.projectId, t.issuanceId, t.blockId, t.rawRecordId, t.aefAuthorizationId, t.aefActionId)
    .nullsNotDistinct(),
  index('finding_subjects_block').on(t.blockId),
  index('finding_subjects_project').on(t.projectId),
]);

/** Every status change of a finding, with who made it and why. A dismissal must give a reason. */
export const findingStatusChanges = pgTable('finding_status_changes', {
  id: id(),
  findingId: bigintRef().notNull().references(() => findings.id, { onDelete: 'cascade' }),
  fromStatus: findingStatus(),
  toStatus: findingStatus().notNull(),
  reason: text(),
  apiKeyId: bigintRef().references(() => apiKeys.id),
  changedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  check('finding_status_changes_dismissal_has_reason', sql`${t.toStatus} <> 'dismissed' or (${t.reason} is not null and length(trim(${t.reason})) > 0)`),
  index('finding_status_changes_finding').on(t.findingId),
]);

export type Finding = typeof findings.$inferSelect;
export type NewFinding = typeof findings.$inferInsert;
