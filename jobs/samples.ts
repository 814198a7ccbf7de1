import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import type { Database } from '../schema/database.ts';
import { rows } from '../schema/database.ts';
import { log } from '../schema/log.ts';
import { identifyFile, ingestFile } from './ingest-file.ts';
import { BatchRejected } from './ingest.ts';

// Real registry data that a fresh Tally loads so a newcomer sees real data at once: exports (CSV,
// XLSX) and saved API responses (JSON), one folder per registry. They are the same files the tests
// use (test/fixtures/registry-samples, with their sources in its README): one copy.
export const SAMPLES_DIR = fileURLToPath(new URL('../test/fixtures/registry-samples/', import.meta.url));

const READABLE = /\.(csv|xlsx|json)$/i;

/** Sample files a connector reads, projects first so that later files find their projects described. */
export async function sampleFiles(): Promise<{ path: string; format: string }[]> {
  const found: { path: string; format: string; order: number }[] = [];
  for (const registry of readdirSync(SAMPLES_DIR).sort()) {
    for (const name of readdirSync(join(SAMPLES_DIR, registry)).filter((f) => READABLE.test(f)).sort()) {
      const path = join(SAMPLES_DIR, registry, name);
      try {
        const { format, stream } = await identifyFile(path, registry);
        found.push({ path, format, order: stream === 'projects' ? 0 : 1 });
      } catch (error) {
        log.warn({ file: join(registry, name), reason: (error as Error).message.split('\n')[0] }, 'sample not recognised');
      }
    }
  }
  return found.sort((a, b) => a.order - b.order || a.path.localeCompare(b.path));
}

/** On an empty ledger, ingests every sample file a connector reads; on a ledger with any batch, nothing. */
export async function loadSamplesIfEmpty(db: Database): Promise<number> {
  const [existing] = await rows<{ n: number }>(db, sql`select count(*)::int as n from batches`);
  if ((existing?.n ?? 0) > 0) return 0;
  let loaded = 0;
  for (const { path, format } of await sampleFiles()) {
    try {
      const summary = await ingestFile(db, path);
      loaded += 1;
      log.info({ file: path.slice(SAMPLES_DIR.length), format, rows: summary.rowsRead, rejected: summary.rowsRejected }, 'sample loaded');
    } catch (error) {
      const reason = error instanceof BatchRejected ? error.summary.failure : (error as Error).message;
      log.warn({ file: path.slice(SAMPLES_DIR.length), format, reason }, 'sample not loaded');
    }
  }
  return loaded;
}
