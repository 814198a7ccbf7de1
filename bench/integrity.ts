import { performance } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import type { CanonicalInput } from '../schema/canonical.ts';
import { rows, type Database } from '../schema/database.ts';
import { ingest } from '../jobs/ingest.ts';
import { runChecks } from '../jobs/integrity/index.ts';
import { generateWorld, ingestWorld } from './world.ts';

// The integrity engine at scale (DESIGN §6, §8). A generated world (projects across registries with
// issuances, retirements, conversions and injected anomalies, through the ingest job) is padded with
// clean blocks to the ledger size; then, in the same run:
// - one plain SQL sweep over the blocks (sort by number space and start, compare neighbours): the
//   least any overlap check must do;
// - a full check (every rule, links included), and its ratio to the sweep;
// - the incremental check of a 1,000-block batch that lands through the ingest job.

const WORLD_PROJECTS = 2_000;
const BLOCKS_PER_SPACE = 20;
const PAD_BLOCK = 1_000;

const seconds = (started: number) => (performance.now() - started) / 1000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function timed<T>(work: () => Promise<T>): Promise<{ seconds: number; result: T }> {
  const started = performance.now();
  const result = await work();
  return { seconds: seconds(started), result };
}

/** Clean blocks up to `total`: a third in one registry-wide space, the rest in per-batch spaces of 20. */
async function pad(db: Database, total: number): Promise<number> {
  const [have] = await rows<{ n: number }>(db, sql`select count(*)::int as n from unit_blocks`);
  const missing = Math.max(0, total - have!.n);
  if (missing === 0) return 0;
  await db.execute(sql`insert into unit_blocks (registry_id, project_id, block_key, number_space, serial_start, serial_end, quantity, status, vintage_year)
    select p.registry_id, p.id, 'pad-' || g,
      case when g % 3 = 0 then 'bench:registry-wide' else 'bench:' || p.registry_id || ':' || (g / ${BLOCKS_PER_SPACE}) end,
      s.start, s.start + ${PAD_BLOCK - 1}, ${PAD_BLOCK}, case when g % 4 = 0 then 'retired'::unit_status else 'held'::unit_status end, 2015 + g % 10
    from generate_series(1, ${missing}) g
    cross join lateral (select case when g % 3 = 0 then 10000000000::bigint + g::bigint * ${PAD_BLOCK}
      else (g % ${BLOCKS_PER_SPACE})::bigint * ${PAD_BLOCK} + 1 end as start) s
    join (select id, registry_id, row_number() over (order by id) - 1 as n, count(*) over () as total from projects) p on p.n = g % p.total`);
  return missing;
}

/** One plain sweep: every block beside its predecessor in its number space; counts the overlapping ones. */
const sweep = (db: Database) => rows<{ n: number }>(db, sql`select count(*)::int as n from (
    select serial_start, lag(serial_end) over (partition by number_space order by serial_start) as previous_end
    from unit_blocks where serial_range is not null and superseded_in_batch_id is null) s
  where serial_start <= previous_end`);

/** A batch of 1,000 new blocks for one project, in fresh per-batch spaces, one of them over units already held. */
function batchOf(projectKey: { registry: string; id: string }, clash: { numberSpace: string; start: number }): CanonicalInput[] {
  const records: CanonicalInput[] = [];
  for (let i = 0; i < 999; i += 1) {
    const start = (i % BLOCKS_PER_SPACE) * PAD_BLOCK + 1;
    const numberSpace = `bench:incremental:${Math.floor(i / BLOCKS_PER_SPACE)}`;
    const key = `${numberSpace}:${start}`;
    records.push({ type: 'block', registry: projectKey.registry, registryProjectId: projectKey.id, blockKey: key,
      serial: { numberSpace, start, end: start + PAD_BLOCK - 1, raw: key }, quantity: PAD_BLOCK, status: 'held', vintageYear: 2024 });
  }
  const key = `clash:${clash.numberSpace}:${clash.start}`;
  records.push({ type: 'block', registry: projectKey.registry, registryProjectId: projectKey.id, blockKey: key,
    serial: { numberSpace: clash.numberSpace, start: clash.start + 500, end: clash.start + 1_499, raw: key }, quantity: PAD_BLOCK, status: 'held', vintageYear: 2024 });
  return records;
}

export async function integrityBench(db: Database, blocks: number) {
  const world = generateWorld({ seed: 20_261_122, projects: WORLD_PROJECTS });
  const load = await timed(async () => {
    await ingestWorld(db, world);
    const padded = await pad(db, blocks);
    await db.execute(sql`analyze`);
    return padded;
  });
  const [counts] = await rows<{ blocks: number; projects: number; spaces: number }>(db, sql`select count(*)::int as blocks,
    (select count(*)::int from projects) as projects, count(distinct number_space)::int as spaces from unit_blocks`);

  await sweep(db); // warm the cache
  const sweeps: number[] = [];
  let overlapping = 0;
  for (let i = 0; i < 3; i += 1) {
    const run = await timed(() => sweep(db));
    sweeps.push(run.seconds);
    overlapping = run.result[0]!.n;
  }
  const first = await timed(() => runChecks(db));
  const fulls: number[] = [];
  let steady = first.result;
  for (let i = 0; i < 3; i += 1) {
    const run = await timed(() => runChecks(db));
    fulls.push(run.seconds);
    steady = run.result;
  }
  // Rules that found nothing are left out, so `found` and `injected` compare directly.
  const found = Object.fromEntries(Object.entries(first.result.rules).filter(([, r]) => r.found > 0).map(([kind, r]) => [kind, r.found]));
  const expected = world.truth.reduce<Record<string, number>>((acc, t) => ({ ...acc, [t.kind]: (acc[t.kind] ?? 0) + 1 }), {});

  // The incremental check of one batch: 1,000 blocks through the ingest job, then the rules over them.
  const [target] = await rows<{ registry: string; id: string; number_space: string; start: number }>(db, sql`select p.registry_id as registry,
      p.registry_project_id as id, b.number_space, b.serial_start::float8 as start
    from unit_blocks b join projects p on p.id = b.project_id where b.block_key = 'pad-1'`);
  const records = batchOf(target!, { numberSpace: target!.number_space, start: target!.start });
  async function* raw() {
    for (const [i, record] of records.entries()) yield { stream: 'blocks', locator: `record ${i + 1}`, payload: record as Record<string, unknown> };
  }
  const batch = await timed(() => ingest(db, { kind: 'upload', connector: 'bench', registry: target!.registry, source: 'incremental batch', records: raw(),
    map: (r) => ({ records: [r.payload as CanonicalInput], errors: [] }) }, { check: false }));
  const incremental = await timed(() => runChecks(db, { batchId: batch.result.batchId }));

  return {
    benchmark: 'integrity',
    ledger: { ...counts, worldProjects: WORLD_PROJECTS, paddedBlocks: load.result, loadSeconds: Number(load.seconds.toFixed(1)) },
    sweep: { medianSeconds: Number(median(sweeps).toFixed(3)), overlappingNeighbours: overlapping },
    fullCheck: {
      firstSeconds: Number(first.seconds.toFixed(3)),
      medianSeconds: Number(median(fulls).toFixed(3)),
      ratioToSweep: Number((median(fulls) / median(sweeps)).toFixed(2)),
      target: 'ratio ≤ 2',
      met: median(fulls) / median(sweeps) <= 2,
      found,
      injected: expected,
      milliseconds: { links: steady.links.milliseconds, ...Object.fromEntries(Object.entries(steady.rules).map(([kind, r]) => [kind, r.milliseconds])) },
    },
    incrementalCheck: {
      batchBlocks: records.length,
      ingestSeconds: Number(batch.seconds.toFixed(3)),
      checkSeconds: Number(incremental.seconds.toFixed(3)),
      target: 'check ≤ 0.3 s',
      met: incremental.seconds <= 0.3,
      scope: incremental.result.scope,
      found: Object.fromEntries(Object.entries(incremental.result.rules).map(([kind, r]) => [kind, r.found])),
      milliseconds: { links: incremental.result.links.milliseconds, ...Object.fromEntries(Object.entries(incremental.result.rules).map(([kind, r]) => [kind, r.milliseconds])) },
    },
  };
}
