import { sql } from 'drizzle-orm';
import { check, index, pgTable, text, unique } from 'drizzle-orm/pg-core';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { aefActions, aefHoldings } from './article6.ts';
import { bigintRef, createdAt, id, ownership, ownershipCheck } from './columns.ts';
import { labels, projects } from './projects.ts';
import { batches, rawRecords } from './sources.ts';
import { issuances, unitBlocks } from './units.ts';

/**
 * Tags (DESIGN §4, eligibility flags): what a project, issuance or block is eligible for, labelled with or
 * authorized as, as one normalized code of the vocabulary `tag` (`corsia:first-phase`, `ccp:approved`,
 * `article6:authorized`, `ca:pending`, `cadt-label:letter-of-authorization`…), each with the record that
 * says so: a raw record (a registry's or an upload's own row), a CAD Trust label, or an AEF action or
 * holding. A tag belongs to whoever published its source: a private AEF upload's tags on a public block
 * are that organization's alone. The subject is the block when `blockId` is set, else the issuance when
 * `issuanceId` is, else the project; `projectId` is always the subject's project, so a project's list
 * and the project filter read one index. Derived from the ledger as each batch lands (jobs/tags.ts).
 */
export const tags = pgTable('tags', {
  id: id(),
  /** Vocabulary `tag` code. */
  code: text().notNull(),
  projectId: bigintRef().notNull().references(() => projects.id, { onDelete: 'cascade' }),
  issuanceId: bigintRef().references((): AnyPgColumn => issuances.id, { onDelete: 'cascade' }),
  blockId: bigintRef().references((): AnyPgColumn => unitBlocks.id, { onDelete: 'cascade' }),
  /** The record that says so, for tags read from a record's own fields: the latest record of the subject when the tag was first seen. */
  rawRecordId: bigintRef().references((): AnyPgColumn => rawRecords.id),
  labelId: bigintRef().references((): AnyPgColumn => labels.id, { onDelete: 'cascade' }),
  /** AEF rows a resubmission replaces take their tags with them. */
  aefActionId: bigintRef().references((): AnyPgColumn => aefActions.id, { onDelete: 'cascade' }),
  aefHoldingId: bigintRef().references((): AnyPgColumn => aefHoldings.id, { onDelete: 'cascade' }),
  ...ownership(),
  /** The batch that first derived it. */
  batchId: bigintRef().notNull().references((): AnyPgColumn => batches.id),
  createdAt: createdAt(),
}, (t) => [
  // One tag per code, subject and source: a record-field tag is one per subject (its record is the first
  // that said so), a label's or an AEF row's one per label or row. Deriving again adds nothing.
  unique('tags_identity').on(t.code, t.projectId, t.issuanceId, t.blockId, t.labelId, t.aefActionId, t.aefHoldingId, t.ownerOrganizationId).nullsNotDistinct(),
  check('tags_one_subject', sql`num_nonnulls(${t.issuanceId}, ${t.blockId}) <= 1`),
  check('tags_has_source', sql`num_nonnulls(${t.rawRecordId}, ${t.labelId}, ${t.aefActionId}, ${t.aefHoldingId}) >= 1`),
  check('tags_code_format', sql`${t.code} ~ '^[a-z0-9-]+:[a-z0-9-]+$'`),
  ownershipCheck('tags', t),
  index('tags_project').on(t.projectId, t.code),
  index('tags_code').on(t.code, t.projectId),
  // A transaction's tags read its project's own ones beside its block's: without the blocks' tags in the way.
  index('tags_project_own').on(t.projectId).where(sql`${t.blockId} is null and ${t.issuanceId} is null`),
  index('tags_block').on(t.blockId).where(sql`${t.blockId} is not null`),
  index('tags_issuance').on(t.issuanceId).where(sql`${t.issuanceId} is not null`),
  index('tags_private').on(t.ownerOrganizationId).where(sql`${t.isPrivate}`),
]);

export type Tag = typeof tags.$inferSelect;
