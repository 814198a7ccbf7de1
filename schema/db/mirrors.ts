import { sql } from 'drizzle-orm';
import { bigint, check, date, index, integer, pgTable, text, unique } from 'drizzle-orm/pg-core';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { bigintRef, createdAt, id, int8range, ownership, ownershipCheck, tonnes, updatedAt } from './columns.ts';
import { unitStatus } from './enums.ts';
import { registries } from './registries.ts';
import { batches, rawRecords } from './sources.ts';

/**
 * What a source reports of another registry's units or projects (DESIGN §3, "Sources of record and
 * mirrors"): evidence beside the units of record, never tonnes. Which units of record a row reports is
 * worked out when asked (jobs/mirrors.ts), so the order in which sources arrive does not matter.
 */
export const mirrorRecords = pgTable('mirror_records', {
  id: id(),
  /** The registry of record. */
  registryId: text().notNull().references(() => registries.id),
  /** The source that reports it: a registry slug, or `cad-trust`. */
  reportedBy: text().notNull(),
  mirrorKey: text().notNull(),
  kind: text().notNull(),
  registryProjectId: text(),
  projectRef: text(),
  projectName: text(),
  country: text(),
  numberSpace: text(),
  serialStart: bigint({ mode: 'number' }),
  serialEnd: bigint({ mode: 'number' }),
  serialRange: int8range().generatedAlwaysAs(sql`case when serial_end >= serial_start then int8range(serial_start, serial_end, '[]') end`),
  serialRaw: text(),
  quantity: tonnes(),
  vintageYear: integer(),
  creditType: text(),
  status: unitStatus(),
  statusDate: date({ mode: 'string' }),
  rawRecordId: bigintRef().references((): AnyPgColumn => rawRecords.id),
  ...ownership(),
  firstBatchId: bigintRef().references((): AnyPgColumn => batches.id),
  lastBatchId: bigintRef().references((): AnyPgColumn => batches.id),
  createdAt: createdAt(),
  updatedAt: updatedAt(),
}, (t) => [
  unique('mirror_records_natural_key').on(t.reportedBy, t.mirrorKey, t.ownerOrganizationId).nullsNotDistinct(),
  check('mirror_records_kind', sql`${t.kind} in ('project', 'units')`),
  check('mirror_records_units_complete', sql`${t.kind} = 'project' or (${t.quantity} > 0 and ${t.status} is not null)`),
  check('mirror_records_serial_order', sql`${t.serialEnd} >= ${t.serialStart}`),
  check('mirror_records_quantity_matches_serials', sql`${t.serialStart} is null or ${t.quantity} = ${t.serialEnd} - ${t.serialStart} + 1`),
  ownershipCheck('mirror_records', t),
  index('mirror_records_serial_range').using('gist', t.numberSpace, t.serialRange),
  index('mirror_records_registry_project').on(t.registryId, t.registryProjectId),
  index('mirror_records_project_ref').on(t.projectRef),
  index('mirror_records_batch').on(t.lastBatchId),
]);

export type MirrorRow = typeof mirrorRecords.$inferSelect;
