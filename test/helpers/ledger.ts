import type { CanonicalInput } from '../../schema/canonical.ts';
import type { Database } from '../../schema/database.ts';
import { ingest, type IngestSummary } from '../../jobs/ingest.ts';

/** Ingests canonical records as one batch, through the real ingest job (and its incremental check). */
export async function ingestRecords(db: Database, registry: string, records: CanonicalInput[], source = 'test records'): Promise<IngestSummary> {
  async function* raw() {
    for (const [i, record] of records.entries()) yield { stream: record.type, locator: `record ${i + 1}`, payload: record as Record<string, unknown> };
  }
  return ingest(db, { kind: 'upload', connector: 'test-records', registry, source, records: raw(), map: (r) => ({ records: [r.payload as CanonicalInput], errors: [] }) });
}
