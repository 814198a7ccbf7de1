import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PgDialect } from 'drizzle-orm/pg-core';
import postgres from 'postgres';
import { DATASETS } from '../jobs/downloads.ts';
import type { DatabaseHandle } from '../schema/database.ts';
import { buildLedger } from './api.ts';
import { tallyCommand } from './ingest.ts';

// The whole-dataset downloads (jobs/downloads.ts) of a generated ledger (bench/api.ts: Verra-like
// projects, issuances, blocks and their events), written by `tally dump` in a process of its own, beside
// PostgreSQL's own `COPY (…) TO STDOUT` of the same rows (the same selects, unpaged), in the same run.

/** A select of the downloads as SQL text, its parameters written in (COPY takes none). */
function inlined(query: { sql: string; params: unknown[] }): string {
  return query.sql.replace(/\$(\d+)/g, (_, n: string) => {
    const value = query.params[Number(n) - 1];
    if (value === null || value === undefined) return 'null';
    if (typeof value === 'number') return String(value);
    return `'${String(value).replace(/'/g, "''")}'`;
  });
}

export async function downloadsBench(handle: DatabaseHandle, url: string, blocks: number) {
  const ledger = await buildLedger(handle.db, blocks);
  const dialect = new PgDialect({ casing: 'snake_case' });
  let copyBytes = 0;
  const copyStarted = performance.now();
  for (const dataset of DATASETS) {
    // A connection per COPY: postgres.js leaves its socket paused after a COPY's stream has ended.
    const client = postgres(url, { max: 1, onnotice: () => {} });
    const readable = await client.unsafe(`copy (${inlined(dialect.sqlToQuery(dataset.select(null)))}) to stdout with (format csv, header)`).readable();
    for await (const chunk of readable) copyBytes += (chunk as Buffer).length;
    await client.end();
  }
  const copySeconds = (performance.now() - copyStarted) / 1000;

  const dir = mkdtempSync(join(tmpdir(), 'tally-bench-dump-'));
  try {
    const dump = await tallyCommand(url, ['dump', '--out', dir]);
    return {
      benchmark: 'tally dump (projects and credits as CSV and Parquet, manifest) vs COPY … TO of the same rows',
      ledger,
      copy: { seconds: Number(copySeconds.toFixed(1)), csvMb: Number((copyBytes / 1e6).toFixed(1)) },
      dump: { seconds: Number(dump.seconds.toFixed(1)), peakRssMb: dump.peakRssMb },
      ratioToCopy: Number((copySeconds / dump.seconds).toFixed(2)),
      target: 'peak RSS of tally dump flat in the ledger\'s size (≤ 300 MB)',
      met: dump.peakRssMb !== null && dump.peakRssMb <= 300,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
