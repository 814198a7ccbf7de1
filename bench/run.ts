// `npm run bench`: performance figures, each reported beside a baseline measured in the same run on the
// same database, because the machines are shared and absolute times drift.
//
//   BENCH_DATABASE_URL=postgres://…/db  run on a PostgreSQL server (a scratch database is created there)
//   BENCH_BLOCKS=1000000                 ledger size (default 1,000,000 on a server, 200,000 embedded)
import { createScratchDatabase, migrateDatabase, openDatabase, type OpenOptions } from '../schema/database.ts';
import { serialLookupBench } from './serial-lookup.ts';

async function main(): Promise<void> {
  const server = process.env.BENCH_DATABASE_URL;
  const scratch = server ? await createScratchDatabase(server, 'tally_bench') : undefined;
  const options: OpenOptions = scratch ? { url: scratch.url } : {};
  const handle = await openDatabase(options);
  try {
    await migrateDatabase(handle, options);
    const blocks = Number(process.env.BENCH_BLOCKS ?? (scratch ? 1_000_000 : 200_000));
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
