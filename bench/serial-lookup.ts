import { performance } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import { rows, type Database } from '../schema/database.ts';

// A serial lookup (DESIGN §5, §8): which blocks contain a unit number, inside one number space.
// Measured through the GiST index on (number_space, serial_range), and beside it the same query with
// index scans disabled (a sequential scan of the table), in the same run.

const BLOCK_SIZE = 1_000;
const SPACES = 50;

/** The p-th percentile of sorted timings (nearest rank). */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function timeProbes(db: Database, blocks: number, probes: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < probes; i += 1) {
    const block = Math.floor(Math.random() * blocks);
    const space = `bench:${block % SPACES}`;
    const unit = block * BLOCK_SIZE + Math.floor(Math.random() * BLOCK_SIZE);
    const started = performance.now();
    const found = await rows(db, sql`select id from unit_blocks where number_space = ${space} and serial_range @> ${unit}::bigint`);
    times.push(performance.now() - started);
    if (found.length !== 1) throw new Error(`lookup of unit ${unit} in ${space} found ${found.length} blocks, expected 1`);
  }
  return times.sort((a, b) => a - b);
}

export async function serialLookupBench(db: Database, blocks: number) {
  const [project] = await rows<{ id: number }>(db, sql`insert into projects (registry_id, registry_project_id, name)
    values ('verra', 'bench', 'benchmark project') returning id`);
  const loadStarted = performance.now();
  // Blocks of 1,000 units, spread over 50 number spaces so that the space column does real work.
  await db.execute(sql`insert into unit_blocks (registry_id, project_id, block_key, number_space, serial_start, serial_end, quantity, status)
    select 'verra', ${project!.id}, 'bench-' || g, 'bench:' || (g % ${SPACES}), g::bigint * ${BLOCK_SIZE}, g::bigint * ${BLOCK_SIZE} + ${BLOCK_SIZE - 1}, ${BLOCK_SIZE}, 'held'
    from generate_series(0, ${blocks - 1}) as g`);
  await db.execute(sql`analyze unit_blocks`);
  const loadSeconds = (performance.now() - loadStarted) / 1000;

  await timeProbes(db, blocks, 50); // warm the cache
  const indexed = await timeProbes(db, blocks, 1_000);
  await db.execute(sql`set enable_indexscan = off`);
  await db.execute(sql`set enable_bitmapscan = off`);
  const scanned = await timeProbes(db, blocks, 10);
  await db.execute(sql`reset enable_indexscan`);
  await db.execute(sql`reset enable_bitmapscan`);

  const median = (t: number[]) => percentile(t, 50);
  return {
    benchmark: 'serial lookup (containment of one unit number)',
    blocks,
    loadSeconds: Number(loadSeconds.toFixed(1)),
    indexedMs: { p50: Number(median(indexed).toFixed(3)), p99: Number(percentile(indexed, 99).toFixed(3)), probes: indexed.length },
    sequentialScanMs: { p50: Number(median(scanned).toFixed(1)), probes: scanned.length },
    speedupOverSequentialScan: Number((median(scanned) / median(indexed)).toFixed(0)),
  };
}
