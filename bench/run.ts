// `npm run bench`: performance figures, each reported beside a baseline measured in the same run on the
// same database, because the machines are shared and absolute times drift.
//
//   BENCH_DATABASE_URL=postgres://…/db  run on a PostgreSQL server (a scratch database is created there)
//   BENCH_BLOCKS=1000000                 ledger size (default 1,000,000 on a server, 200,000 embedded)
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { migrateDatabase, openDatabase, type OpenOptions } from '../schema/database.ts';
import { serialLookupBench } from './serial-lookup.ts';

async function main(): Promise<void> {
  const server = process.env.BENCH_DATABASE_URL;
  let options: OpenOptions = {};
  let drop = async () => {};
  if (server) {
    const name = `tally_bench_${randomBytes(4).toString('hex')}`;
    const admin = postgres(server, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    const url = new URL(server);
    url.pathname = `/${name}`;
    options = { url: url.toString() };
    drop = async () => {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    };
  }
  const handle = await openDatabase(options);
  try {
    await migrateDatabase(handle, options);
    const blocks = Number(process.env.BENCH_BLOCKS ?? (server ? 1_000_000 : 200_000));
    const result = await serialLookupBench(handle.db, blocks);
    console.log(JSON.stringify({ database: handle.kind, ...result }, null, 2));
  } finally {
    await handle.close();
    await drop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
