import { sql } from 'drizzle-orm';
import {
  check, index, integer, jsonb, pgTable, primaryKey, text, timestamp, unique, uniqueIndex,
} from 'drizzle-orm/pg-core';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { bigintRef, id, ownership, ownershipCheck } from './columns.ts';
import { batchKind, batchStatus } from './enums.ts';
import { apiKeys } from './organizations.ts';
import { projects } from './projects.ts';
import { registries } from './registries.ts';
import { issuances, unitBlocks } from './units.ts';

/**
 * One sync run or one upload: the unit of atomicity (DESIGN §2). A committed batch has a digest
 * = sha256(previous digest + digest of its normalized records), chained to the batch committed before it,
 * so anyone holding the records can check that history was not rewritten. The partial unique indexes make
 * the chain a single line: one genesis, and no two committed batches with the same predecessor.
 */
export const batches = pgTable('batches', {
  id: id(),
  kind: batchKind().notNull(),
  status: batchStatus().notNull().default('running'),
  registryId: text().references(() => registries.id),
  /** The connector (or upload format) that produced the batch. */
  connector: text().notNull(),
  /** Where the data came from: a URL for a sync, the file name for an upload. */
  source: text().notNull(),
  apiKeyId: bigintRef().references(() => apiKeys.id),
  ...ownership(),
  /**
   * The process running the batch holds a session advisory lock on this token for as long as it lives
   * (jobs/batches.ts). A `running` batch whose token nobody holds belongs to a process that died: the
   * next process marks it failed, interrupted.
   */
  runnerToken: integer(),
  startedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  finishedAt: timestamp({ withTimezone: true }),
  /** rows read, records new / changed / unchanged, rows rejected. */
  counts: jsonb().notNull().default({}),
  /** Row-level errors: `{ line, field, code, message }`. */
  errors: jsonb().notNull().default([]),
  /** How the source was read: a file's format, the generations of its column names, the columns no mapper reads. */
  details: jsonb().notNull().default({}),
  recordsDigest: text(),
  previousBatchId: bigintRef().references((): AnyPgColumn => batches.id),
  digest: text(),
}, (t) => [
  check('batches_committed_is_sealed', sql`${t.status} <> 'committed' or (${t.digest} is not null and ${t.recordsDigest} is not null and ${t.finishedAt} is not null)`),
  check('batches_only_committed_in_chain', sql`${t.status} = 'committed' or (${t.digest} is null and ${t.previousBatchId} is null)`),
  check('batches_digest_is_sha256', sql`${t.digest} ~ '^[0-9a-f]{64}$' and ${t.recordsDigest} ~ '^[0-9a-f]{64}$'`),
  check('batches_finished_after_start', sql`${t.finishedAt} >= ${t.startedAt}`),
  ownershipCheck('batches', t),
  unique('batches_digest').on(t.digest),
  uniqueIndex('batches_one_successor').on(t.previousBatchId).where(sql`${t.status} = 'committed'`),
  // Every row in this partial index has status 'committed', so uniqueness on it admits a single genesis.
  uniqueIndex('batches_one_genesis').on(t.status).where(sql`${t.status} = 'committed' and ${t.previousBatchId} is null`),
  index('batches_registry_started').on(t.registryId, t.startedAt),
]);

/**
 * Records exactly as received (API entity or file row), with a SHA-256 of their canonical JSON. The same
 * content from the same owner is stored once, however often it is fetched; ledger rows point back here.
 */
export const rawRecords = pgTable('raw_records', {
  id: id(),
  /** The batch that first received this content. */
  batchId: bigintRef().notNull().references(() => batches.id),
  registryId: text().references(() => registries.id),
  /** projects, issuances, retirements, cancellations, aef-t3-actions… */
  stream: text().notNull(),
  /** URL or file name. */
  source: text().notNull(),
  /** Where inside the source: a line number for files, a page offset or entity id for APIs. */
  locator: text(),
  /** The registry's own id for the record, where it has one. */
  recordKey: text(),
  contentHash: text().notNull(),
  payload: jsonb().notNull(),
  fetchedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
  ...ownership(),
}, (t) => [
  // The hash leads, so finding a record by its content is an index probe.
  unique('raw_records_content').on(t.contentHash, t.stream, t.registryId, t.ownerOrganizationId).nullsNotDistinct(),
  check('raw_records_hash_is_sha256', sql`${t.contentHash} ~ '^[0-9a-f]{64}$'`),
  ownershipCheck('raw_records', t),
  index('raw_records_batch').on(t.batchId),
  index('raw_records_record_key').on(t.registryId, t.recordKey),
]);

/** Which raw records each project, issuance and block was built from: exactly one target per row. */
export const recordLineage = pgTable('record_lineage', {
  id: id(),
  rawRecordId: bigintRef().notNull().references(() => rawRecords.id),
  projectId: bigintRef().references((): AnyPgColumn => projects.id),
  issuanceId: bigintRef().references((): AnyPgColumn => issuances.id),
  blockId: bigintRef().references((): AnyPgColumn => unitBlocks.id),
}, (t) => [
  check('record_lineage_one_target', sql`num_nonnulls(${t.projectId}, ${t.issuanceId}, ${t.blockId}) = 1`),
  unique('record_lineage_natural_key').on(t.rawRecordId, t.projectId, t.issuanceId, t.blockId).nullsNotDistinct(),
  index('record_lineage_project').on(t.projectId),
  index('record_lineage_issuance').on(t.issuanceId),
  index('record_lineage_block').on(t.blockId),
]);

/**
 * What a connector remembers between runs, per stream: its cursor, and how its last run went. Saved only
 * together with the batch whose records it covers. A sync's row (stream `all`) keeps in `cursor.schedule`
 * the cron schedule the scheduler pulls it on, for freshness (jobs/freshness.ts).
 */
export const connectorState = pgTable('connector_state', {
  connector: text().notNull(),
  stream: text().notNull(),
  cursor: jsonb(),
  lastBatchId: bigintRef().references(() => batches.id),
  lastRunAt: timestamp({ withTimezone: true }),
  lastSuccessAt: timestamp({ withTimezone: true }),
  lastError: text(),
  consecutiveFailures: integer().notNull().default(0),
  nextRunAt: timestamp({ withTimezone: true }),
  updatedAt: timestamp({ withTimezone: true }).notNull().defaultNow(),
}, (t) => [
  primaryKey({ columns: [t.connector, t.stream] }),
  check('connector_state_failures_not_negative', sql`${t.consecutiveFailures} >= 0`),
]);

export type Batch = typeof batches.$inferSelect;
export type NewBatch = typeof batches.$inferInsert;
export type RawRecord = typeof rawRecords.$inferSelect;
export type NewRawRecord = typeof rawRecords.$inferInsert;
export type ConnectorState = typeof connectorState.$inferSelect;
