// `npm run bench`: performance figures, each reported beside a baseline measured in the same run on the
// same database, because the machines are shared and absolute times drift.
//
//   BENCH_DATABASE_URL=postgres://…/db  run on a PostgreSQL server (scratch databases are created there);
//                                       the ingest benchmark needs one
//   BENCH_BLOCKS=1000000                 ledger size (default 1,000,000 on a server, 200,000 embedded)
//   BENCH_ONLY=ingest|lookup             run one benchmark
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createScratchDatabase, migrateDatabase, openDatabase, type OpenOptions } from '../schema/database.ts';
import { ingestBench } from './ingest.ts';
import { serialLookupBench } from './serial-lookup.ts';

async function main(): Promise<void> {
  const server = process.env.BENCH_DATABASE_URL;
  const only = process.env.BENCH_ONLY;
  const blocks = Number(process.env.BENCH_BLOCKS ?? (server ? 1_000_000 : 200_000));
  if (only !== 'lookup') {
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
  if (only === 'ingest') return;
  const scratch = server ? await createScratchDatabase(server, 'tally_bench') : undefined;
  const options: OpenOptions = scratch ? { url: scratch.url } : {};
  const handle = await openDatabase(options);
  try {
    await migrateDatabase(handle, options);
    const result = await serialLookupBench(handle.db, blocks);
    console.log(JSON.stringify({ database: handle.kind, ...result }, null, 2));
  } finally {
    await handle.close();
    await scratch?.drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
