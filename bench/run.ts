// `npm run bench`: performance figures, each reported beside a baseline measured in the same run on the
// same database, because the machines are shared and absolute times drift.
//
//   BENCH_DATABASE_URL=postgres://…/db  run on a PostgreSQL server (scratch databases are created there);
//                                       the ingest benchmark needs one
//   BENCH_BLOCKS=1000000                 ledger size (default 1,000,000 on a server, 200,000 embedded)
//   BENCH_ONLY=ingest|lookup|integrity|api|downloads  run one benchmark
//   BENCH_API_SERVER=in-process          serve the API from the benchmark's own process (default on a
//                                       server: a child process, so the load generator does not share its CPU)
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScratchDatabase, migrateDatabase, openDatabase, type Database, type DatabaseHandle, type OpenOptions } from '../schema/database.ts';
import { apiBench } from './api.ts';
import { downloadsBench } from './downloads.ts';
import { ingestBench } from './ingest.ts';
import { integrityBench } from './integrity.ts';
import { serialLookupBench } from './serial-lookup.ts';

async function main(): Promise<void> {
  const server = process.env.BENCH_DATABASE_URL;
  const only = process.env.BENCH_ONLY;
  const blocks = Number(process.env.BENCH_BLOCKS ?? (server ? 1_000_000 : 200_000));
  if (only === undefined || only === 'ingest') {
    if (!server) {
      console.log(JSON.stringify({ benchmark: 'ingest', skipped: 'set BENCH_DATABASE_URL: the ingest benchmark compares with COPY on a PostgreSQL server' }));
    } else {
      const dir = mkdtempSync(join(tmpdir(), 'tally-bench-'));
      try {
        console.log(JSON.stringify(await ingestBench(server, blocks, dir), null, 2));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
  if (only === undefined || only === 'lookup') {
    await onScratchDatabase(server, async (db, kind) => console.log(JSON.stringify({ database: kind, ...await serialLookupBench(db, blocks) }, null, 2)));
  }
  if (only === undefined || only === 'integrity') {
    await onScratchDatabase(server, async (db, kind) => console.log(JSON.stringify({ database: kind, ...await integrityBench(db, blocks) }, null, 2)));
  }
  if (only === undefined || only === 'downloads') {
    if (!server) {
      console.log(JSON.stringify({ benchmark: 'downloads', skipped: 'set BENCH_DATABASE_URL: the downloads benchmark compares with COPY on a PostgreSQL server' }));
    } else {
      await onScratchDatabase(server, async (_db, kind, scratch) => console.log(JSON.stringify({ database: kind, ...await downloadsBench(scratch.handle, scratch.url!, blocks) }, null, 2)));
    }
  }
  if (only === undefined || only === 'api') {
    await onScratchDatabase(server, async (_db, kind, scratch) => console.log(JSON.stringify({ database: kind, ...await apiBench(scratch.handle, scratch.url, blocks) }, null, 2)));
  }
}

/**
 * Runs a benchmark on a fresh, migrated database: a scratch database on the server, else an embedded one.
 * `scratch.url` is set on a server, for a benchmark that opens the database from another process too.
 */
async function onScratchDatabase(
  server: string | undefined,
  bench: (db: Database, kind: string, scratch: { handle: DatabaseHandle; url: string | undefined }) => Promise<void>,
): Promise<void> {
  const scratch = server ? await createScratchDatabase(server, 'tally_bench') : undefined;
  const options: OpenOptions = scratch ? { url: scratch.url } : {};
  const handle = await openDatabase(options);
  try {
    await migrateDatabase(handle, options);
    await bench(handle.db, handle.kind, { handle, url: scratch?.url });
  } finally {
    await handle.close();
    await scratch?.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
