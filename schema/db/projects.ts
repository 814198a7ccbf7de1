import { sql } from 'drizzle-orm';
import {
  check, date, doublePrecision, index, jsonb, numeric, pgTable, primaryKey, text, unique, varchar,
} from 'drizzle-orm/pg-core';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { bigintRef, createdAt, id, ownership, ownershipCheck, tonnes, updatedAt } from './columns.ts';
import { coveredByNdc, labelType, linkRelation, linkSource, projectStatus, reductionRemoval } from './enums.ts';
import { registries } from './registries.ts';
import { batches } from './sources.ts';
import { unitBlocks } from './units.ts';

/** A programme a registry says one of its projects is also in, or came from (see projects.otherPrograms). */
export type OtherProgram = {
  /** As the registry names it (`Climate Action Reserve`, `CDM`); absent when it only flags that there is one. */
  program?: string;
  /** The project's id in that programme, as written (`CAR400`, `0123`). */
  projectId?: string;
  /** `same-activity`: registered there too; `converted-from`: its units came from there. */
  relation: 'same-activity' | 'converted-from';
  /** The registry field that says so. */
  field: string;
};

/**
 * One project as one registry publishes it, harmonized: taxonomy codes from schema/taxonomy, ISO country,
 * CAD Trust status. The same physical activity in two registries is two projects joined by project_links.
 */
export const projects = pgTable('projects', {
  id: id(),
  registryId: text().notNull().references(() => registries.id),
  /** The registry's own identifier, as it writes it (`1340`, `GS7495`, `ACR0934`, `KC0016`). */
  registryProjectId: text().notNull(),
  /**
   * Stable key across Tally: `<registry>:<registry project id>`, e.g. `verra:1340`. The registry's own record
   * and an organization's upload of the same project share it; the owner tells them apart.
   */
  key: text().notNull().generatedAlwaysAs(sql`registry_id || ':' || registry_project_id`),
  name: text().notNull(),
  nameJa: text(),
  proponent: text(),
  /** ISO 3166-1 alpha-2 (plus XZ for projects the registry files as international). */
  country: varchar({ length: 2 }),
  region: text(),
  /** Vocabulary `projectSector` (ISIC sections, as CAD Trust). */
  sector: text(),
  /** Vocabulary `cadtProjectType`. */
  cadtProjectType: text(),
  /** Key of schema/taxonomy/data/project-types.json. */
  projectType: text(),
  /** Vocabulary `category`. */
  category: text(),
  reductionRemoval: reductionRemoval(),
  /** Normalized protocol ids (`acm0002`, `vm0007`) the methodology string names. */
  methodologies: text().array().notNull().default(sql`'{}'::text[]`),
  methodologyRaw: text(),
  /** Parts of the methodology string that matched no known protocol: kept, never dropped. */
  methodologyUnmatched: text().array().notNull().default(sql`'{}'::text[]`),
  status: projectStatus().notNull().default('unknown'),
  statusRaw: text(),
  creditingPeriodStart: date({ mode: 'string' }),
  creditingPeriodEnd: date({ mode: 'string' }),
  registeredOn: date({ mode: 'string' }),
  estimatedAnnualQuantity: tonnes(),
  /** The registry's expected total over the project's life, where it states one (J-Credit 認証見込み量: to FY2050). */
  estimatedTotalQuantity: tonnes(),
  /** Vocabulary `eligibility` codes: CORSIA phases, CCP label, GX-ETS… */
  eligibility: text().array().notNull().default(sql`'{}'::text[]`),
  /** Vocabulary `coBenefit` codes (SDGs). */
  coBenefits: text().array().notNull().default(sql`'{}'::text[]`),
  coveredByNdc: coveredByNdc(),
  latitude: doublePrecision(),
  longitude: doublePrecision(),
  registryUrl: text(),
  /**
   * Other programmes the registry says this project is in, or came from (Verra `otherGhgProgramName` /
   * `otherGhgProgramId`, status "Units Transferred from Approved GHG Program"): `{ program?, projectId?,
   * relation, field }` as the registry states them. The integrity engine turns them into declared
   * project_links where the other project is in the ledger. Null when the source says nothing.
   */
  otherPrograms: jsonb().$type<OtherProgram[]>(),
  /**
   * Other identifiers the registry writes for this project beside `registryProjectId` (Cercarbono's
   * code `CDC-271` beside its id `274`), so a file that names the project by one of them finds it.
   * Null when no source has stated any.
   */
  alternateIds: text().array(),
  ...ownership(),
  firstBatchId: bigintRef().references((): AnyPgColumn => batches.id),
  lastBatchId: bigintRef().references((): AnyPgColumn => batches.id),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
}, (t) => [
  // A record's identity includes its owner (DESIGN §3, sources): a registry's own project and an
  // organization's upload of the same registry id are two records, so neither can block or change the other.
  unique('projects_identity').on(t.registryId, t.registryProjectId, t.ownerOrganizationId).nullsNotDistinct(),
  index('projects_key').on(t.key),
  check('projects_country_format', sql`${t.country} ~ '^[A-Z]{2}$'`),
  check('projects_crediting_period_order', sql`${t.creditingPeriodEnd} >= ${t.creditingPeriodStart}`),
  check('projects_estimated_quantity_not_negative', sql`${t.estimatedAnnualQuantity} >= 0`),
  check('projects_estimated_total_not_negative', sql`${t.estimatedTotalQuantity} >= 0`),
  check('projects_latitude_range', sql`${t.latitude} between -90 and 90`),
  check('projects_longitude_range', sql`${t.longitude} between -180 and 180`),
  ownershipCheck('projects', t),
  index('projects_name_trgm').using('gin', t.name.op('gin_trgm_ops')),
  index('projects_name_ja_trgm').using('gin', t.nameJa.op('gin_trgm_ops')),
  index('projects_country').on(t.country),
  index('projects_category').on(t.category),
  index('projects_project_type').on(t.projectType),
  index('projects_eligibility').using('gin', t.eligibility),
  index('projects_methodologies').using('gin', t.methodologies),
  index('projects_owner').on(t.ownerOrganizationId),
  index('projects_private').on(t.ownerOrganizationId).where(sql`${t.isPrivate}`),
  // What one batch changed is found without a pass over the ledger (the changes feed).
  index('projects_last_batch').on(t.lastBatchId),
]);

/**
 * Two projects that are one activity, one's successor, or a conversion. `declared` links come from a
 * registry's own fields; `inferred` links carry the score Tally gave them, and findings that rest on
 * one say so.
 */
export const projectLinks = pgTable('project_links', {
  id: id(),
  fromProjectId: bigintRef().notNull().references(() => projects.id),
  toProjectId: bigintRef().notNull().references(() => projects.id),
  relation: linkRelation().notNull(),
  source: linkSource().notNull(),
  score: numeric({ precision: 4, scale: 3, mode: 'number' }),
  evidence: jsonb().notNull().default({}),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
}, (t) => [
  unique('project_links_pair').on(t.fromProjectId, t.toProjectId, t.relation),
  check('project_links_not_self', sql`${t.fromProjectId} <> ${t.toProjectId}`),
  check('project_links_score_range', sql`${t.score} between 0 and 1`),
  check('project_links_inferred_has_score', sql`(${t.source} = 'inferred') = (${t.score} is not null)`),
  index('project_links_to').on(t.toProjectId),
]);

/** CAD Trust labels: certifications, endorsements, Letters of Authorization and Approval. */
export const labels = pgTable('labels', {
  id: id(),
  projectId: bigintRef().notNull().references(() => projects.id),
  labelType: labelType().notNull(),
  label: text().notNull(),
  creditingPeriodStart: date({ mode: 'string' }),
  creditingPeriodEnd: date({ mode: 'string' }),
  validityPeriodStart: date({ mode: 'string' }),
  validityPeriodEnd: date({ mode: 'string' }),
  unitQuantity: tonnes(),
  labelLink: text(),
  ...ownership(),
  batchId: bigintRef().references((): AnyPgColumn => batches.id),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
}, (t) => [
  unique('labels_natural_key').on(t.projectId, t.labelType, t.label),
  check('labels_crediting_period_order', sql`${t.creditingPeriodEnd} >= ${t.creditingPeriodStart}`),
  check('labels_validity_period_order', sql`${t.validityPeriodEnd} >= ${t.validityPeriodStart}`),
  check('labels_unit_quantity_not_negative', sql`${t.unitQuantity} >= 0`),
  ownershipCheck('labels', t),
]);

/** Which unit blocks a label (say a Letter of Authorization) covers. */
export const labelBlocks = pgTable('label_blocks', {
  labelId: bigintRef().notNull().references(() => labels.id, { onDelete: 'cascade' }),
  blockId: bigintRef().notNull().references((): AnyPgColumn => unitBlocks.id),
}, (t) => [
  primaryKey({ columns: [t.labelId, t.blockId] }),
  index('label_blocks_block').on(t.blockId),
]);

/** Ratings by agencies (BeZero, Sylvera…), the latest per agency. */
export const ratings = pgTable('ratings', {
  id: id(),
  projectId: bigintRef().notNull().references(() => projects.id),
  /** Vocabulary `ratingType`. */
  ratingType: text().notNull(),
  rating: text().notNull(),
  ratingRangeHighest: text(),
  ratingRangeLowest: text(),
  ratingLink: text(),
  ratedOn: date({ mode: 'string' }),
  ...ownership(),
  batchId: bigintRef().references((): AnyPgColumn => batches.id),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
}, (t) => [
  unique('ratings_natural_key').on(t.projectId, t.ratingType),
  ownershipCheck('ratings', t),
]);

export type Project = typeof projects.$inferSelect;
export type NewProject = typeof projects.$inferInsert;
export type ProjectLink = typeof projectLinks.$inferSelect;
export type Label = typeof labels.$inferSelect;
export type Rating = typeof ratings.$inferSelect;
