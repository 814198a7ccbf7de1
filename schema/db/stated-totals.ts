import { sql } from 'drizzle-orm';
import { check, date, index, integer, pgTable, text, unique } from 'drizzle-orm/pg-core';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { bigintRef, createdAt, id, ownership, ownershipCheck, tonnes, updatedAt } from './columns.ts';
import { registries } from './registries.ts';
import { batches, rawRecords } from './sources.ts';

/**
 * A figure a source publishes about a registry's own totals (the `Total` row of the CDM issuance
 * report, Verra's `Total Vintage Quantity`, an API's total count): what Tally's ledger is reconciled
 * with (jobs/reconcile.ts). One row per registry, scope, measure and source; the latest batch's word wins.
 */
export const statedTotals = pgTable('stated_totals', {
  id: id(),
  registryId: text().notNull().references(() => registries.id),
  /** `registry`, `project` or `project-vintage`. */
  scope: text().notNull(),
  /** `registry`, `project:<id>`, `project:<id>:<vintage year>` or `project:<id>:<start>/<end>`: the scope as one key. */
  scopeKey: text().notNull(),
  registryProjectId: text(),
  vintageYear: integer(),
  /** The vintage period, where the source states one (a Verra vintage may be half a year). */
  vintageStart: date({ mode: 'string' }),
  vintageEnd: date({ mode: 'string' }),
  /** `issued`, `retired`, `cancelled` (tonnes) or `records` (a count of records). */
  measure: text().notNull(),
  quantity: tonnes().notNull(),
  /** The stream the figure was read from (`issuances`, `voluntary-cancellations`, …). */
  source: text().notNull(),
  /** The source's own words for the figure ("Total row of the CDM issuance report"). */
  statedAs: text().notNull(),
  /** The day the source states the figure as of, when it says so. */
  statedOn: date({ mode: 'string' }),
  rawRecordId: bigintRef().references((): AnyPgColumn => rawRecords.id),
  ...ownership(),
  firstBatchId: bigintRef().references((): AnyPgColumn => batches.id),
  lastBatchId: bigintRef().references((): AnyPgColumn => batches.id),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
}, (t) => [
  unique('stated_totals_natural_key').on(t.registryId, t.scopeKey, t.measure, t.source, t.ownerOrganizationId).nullsNotDistinct(),
  check('stated_totals_scope', sql`${t.scope} in ('registry', 'project', 'project-vintage')`),
  check('stated_totals_measure', sql`${t.measure} in ('issued', 'retired', 'cancelled', 'records')`),
  check('stated_totals_quantity', sql`${t.quantity} >= 0`),
  ownershipCheck('stated_totals', t),
  index('stated_totals_registry').on(t.registryId, t.scope),
]);

export type StatedTotalRow = typeof statedTotals.$inferSelect;
