import type { StatedRecord } from '../schema/canonical.ts';
import { statedTotals } from '../schema/db/index.ts';
import type { Database } from '../schema/database.ts';
import { writeRows, type WriteSpec } from './ledger-writer.ts';

// Figures a source publishes about a registry's own totals (schema/db/stated-totals.ts), written by the
// ingest beside the ledger rows of the same batch. A later batch's word on the same scope replaces the last.

export const statedSpec = {
  table: statedTotals,
  key: ['registryId', 'scopeKey', 'measure', 'source', 'ownerOrganizationId'],
  merge: Object.fromEntries(['scope', 'registryProjectId', 'vintageYear', 'vintageStart', 'vintageEnd', 'quantity', 'statedAs', 'statedOn', 'rawRecordId'].map((c) => [c, 'replace'])),
  returnIds: false,
} satisfies WriteSpec;

export function scopeOf(record: Pick<StatedRecord, 'registryProjectId' | 'vintageYear' | 'vintageStart' | 'vintageEnd'>): { scope: string; scopeKey: string } {
  if (!record.registryProjectId) return { scope: 'registry', scopeKey: 'registry' };
  if (record.vintageStart && record.vintageEnd) {
    return { scope: 'project-vintage', scopeKey: `project:${record.registryProjectId}:${record.vintageStart}/${record.vintageEnd}` };
  }
  if (record.vintageYear === undefined) return { scope: 'project', scopeKey: `project:${record.registryProjectId}` };
  return { scope: 'project-vintage', scopeKey: `project:${record.registryProjectId}:${record.vintageYear}` };
}

/** A stated figure with the stream that stated it, and the raw record it was read from (none for an API's total count). */
export type StatedInput = { record: StatedRecord; stream: string; rawRecordId: number | null };

/** Writes the stated figures of one chunk. */
export async function writeStatedTotals(
  tx: Database, found: StatedInput[], ownership: { ownerOrganizationId: number | null; isPrivate: boolean }, batchId: number,
): Promise<void> {
  if (found.length === 0) return;
  await writeRows(tx, statedSpec, found.map(({ record, stream, rawRecordId }) => ({
    registryId: record.registry,
    ...scopeOf(record),
    registryProjectId: record.registryProjectId ?? null,
    vintageYear: record.vintageYear ?? null,
    vintageStart: record.vintageStart ?? null,
    vintageEnd: record.vintageEnd ?? null,
    measure: record.measure,
    quantity: record.quantity,
    source: stream,
    statedAs: record.statedAs,
    statedOn: record.statedOn ?? null,
    rawRecordId,
    ...ownership,
    firstBatchId: batchId,
    lastBatchId: batchId,
  })));
}
