import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { ingestFile } from '../jobs/ingest-file.ts';
import { createScratchDatabase, migrateDatabase, openDatabase, rows } from '../schema/database.ts';
import { syntheticBlocks, writeVcuExport } from './verra-vcu-file.ts';

// Ingest of a synthetic Verra VCU export through the file path (CSV reader → mapper → validation →
// taxonomy → ledger, raw records and lineage, events, digest), beside PostgreSQL COPY of the same
// blocks into the same table, in one run on the same server. Peak RSS is sampled during the ingest.

export async function ingestBench(serverUrl: string, blocks: number, dir: string) {
  const file = `${dir}/vcu-export-${blocks}.csv`;
  await writeVcuExport(file, blocks);
  const fileMb = statSync(file).size / 1e6;

  // Baseline: COPY of the same blocks into unit_blocks of a migrated database holding their projects.
  const copyDb = await createScratchDatabase(serverUrl, 'tally_bench_copy');
  const copyHandle = await openDatabase({ url: copyDb.url });
  await migrateDatabase(copyHandle, { url: copyDb.url });
  await copyHandle.close();
  const client = postgres(copyDb.url, { max: 1, onnotice: () => {} });
  const projects = new Map<number, string>();
  for (const b of syntheticBlocks(blocks)) projects.set(b.projectId, b.name);
  await client`insert into projects (registry_id, registry_project_id, name)
    select 'verra', x.id, x.name from jsonb_to_recordset(${client.json([...projects].map(([id, name]) => ({ id: String(id), name })))}::jsonb) as x(id text, name text)`;
  const ids = new Map((await client<{ id: string; registry_project_id: string }[]>`select id, registry_project_id from projects`).map((r) => [Number(r.registry_project_id), r.id]));
  const copyStarted = performance.now();
  const writable = await client`copy unit_blocks (registry_id, project_id, block_key, number_space, serial_start, serial_end, serial_raw, quantity,
    vintage_start, vintage_end, vintage_year, credit_type, status, status_date, retirement_beneficiary, retirement_reason) from stdin`.writable();
  await pipeline(Readable.from((function* () {
    for (const b of syntheticBlocks(blocks)) {
      yield `verra\t${ids.get(b.projectId)}\t${b.serial}\tverra:VER\t${b.serialStart}\t${b.serialEnd}\t${b.serial}\t${b.quantity}\t${b.vintageStart}\t${b.vintageEnd}\t${b.vintageStart.slice(0, 4)}\tvcu\t${b.retiredOn ? 'retired' : 'held'}\t${b.retiredOn ?? '\\N'}\t${b.retiredOn ? 'Synthetic Beneficiary Ltd' : '\\N'}\t${b.retiredOn ? 'Environmental Benefit' : '\\N'}\n`;
    }
  })()), writable);
  const copySeconds = (performance.now() - copyStarted) / 1000;
  await client.end();
  await copyDb.drop();

  // Tally: the same blocks from the CSV file, through `tally ingest`'s code path, on a fresh database.
  const db = await createScratchDatabase(serverUrl, 'tally_bench_ingest');
  const handle = await openDatabase({ url: db.url });
  await migrateDatabase(handle, { url: db.url });
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 100);
  const started = performance.now();
  const summary = await ingestFile(handle.db, file, { chunkSize: 5000 });
  const ingestSeconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  // What the ledger takes on disk: every table of it with its indexes and TOAST (README, "Running at scale").
  const [size] = await rows<{ bytes: number }>(handle.db, sql`select sum(pg_total_relation_size(c.oid))::float8 as bytes
    from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relkind = 'r'`);
  await handle.close();
  await db.drop();
  if (summary.blocks.new !== blocks || summary.rowsRejected !== 0) throw new Error(`ingest stored ${summary.blocks.new} of ${blocks} blocks, rejected ${summary.rowsRejected}`);

  const cli = await cliIngest(serverUrl, file);
  const check = summary.check;
  const checkMilliseconds = check ? check.links.milliseconds + Object.values(check.rules).reduce((sum, rule) => sum + rule.milliseconds, 0) : 0;

  return {
    benchmark: 'ingest of a Verra VCU export file vs PostgreSQL COPY of the same blocks',
    blocks,
    fileMb: Number(fileMb.toFixed(1)),
    copy: { seconds: Number(copySeconds.toFixed(1)), blocksPerSecond: Math.round(blocks / copySeconds) },
    tally: {
      seconds: Number(ingestSeconds.toFixed(1)), blocksPerSecond: Math.round(blocks / ingestSeconds), peakRssMb: Math.round(peakRss / 1e6),
      // The same file through the command itself, in a process of its own (startup and the check after the batch included).
      cli: { command: 'tally ingest <file>', seconds: Number(cli.seconds.toFixed(1)), peakRssMb: cli.peakRssMb },
    },
    ratioToCopy: Number((copySeconds / ingestSeconds).toFixed(2)),
    // Where the ingest's time went (IngestSummary.milliseconds), beside COPY of the blocks alone.
    phases: Object.fromEntries(Object.entries(summary.milliseconds).map(([step, ms]) => [step, { seconds: Number((ms / 1000).toFixed(1)), ratioToCopy: Number((ms / 1000 / copySeconds).toFixed(2)) }])),
    checkAfterBatch: { seconds: Number((checkMilliseconds / 1000).toFixed(1)), ratioToCopy: Number((checkMilliseconds / 1000 / copySeconds).toFixed(2)) },
    target: 'ratioToCopy ≥ 0.5; peak RSS of tally ingest ≤ 300 MB',
    met: copySeconds / ingestSeconds >= 0.5 && cli.peakRssMb !== null && cli.peakRssMb <= 300,
    ledger: {
      projects: summary.projects.new, issuances: summary.issuances.new, events: summary.events.new, rawRecords: summary.rawRecords.new,
      diskMb: Math.round(size!.bytes / 1e6), diskMbPerMillionBlocks: Math.round((size!.bytes / 1e6) * (1e6 / blocks)),
    },
  };
}

/** The peak resident memory of process `pid` so far (Linux: VmHWM), in MB; undefined where /proc does not say. */
function peakRssOf(pid: number): number | undefined {
  try {
    const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Math.round(Number(kb) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

/** Process `pid` and every process below it (Linux: /proc/<pid>/task/<tid>/children). */
function processTree(pid: number): number[] {
  let children: number[] = [];
  try {
    for (const task of readdirSync(`/proc/${pid}/task`)) {
      children = children.concat(readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
    }
  } catch {
    return [pid];
  }
  return [pid, ...children.flatMap(processTree)];
}

/**
 * Samples the peak memory of a command's processes (tally ingest runs its work in a child of its own):
 * the sum over every process seen of its own peak, an upper bound of what they held at once.
 */
function treePeakSampler(pid: number) {
  const peaks = new Map<number, number>();
  const timer = setInterval(() => {
    for (const p of processTree(pid)) {
      const peak = peakRssOf(p);
      if (peak !== undefined) peaks.set(p, Math.max(peaks.get(p) ?? 0, peak));
    }
  }, 100);
  return {
    stop(): number | null {
      clearInterval(timer);
      return peaks.size === 0 ? null : [...peaks.values()].reduce((a, b) => a + b, 0);
    },
  };
}

/** `tally <args>` in a child process on the database at `databaseUrl`: its wall time and the peak RSS of its processes. */
export async function tallyCommand(databaseUrl: string, args: string[]): Promise<{ seconds: number; peakRssMb: number | null }> {
  const env = { ...process.env, DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn' };
  const root = fileURLToPath(new URL('..', import.meta.url));
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/tally.ts', ...args], { cwd: root, env, stdio: 'ignore' });
  const sampler = treePeakSampler(child.pid!);
  const [code] = await once(child, 'exit') as [number | null];
  const peakRssMb = sampler.stop();
  if (code !== 0) throw new Error(`tally ${args[0]} exited with ${code}`);
  return { seconds: (performance.now() - started) / 1000, peakRssMb };
}

/** `tally ingest <file>` in a child process on a fresh database: its wall time and peak RSS. */
async function cliIngest(serverUrl: string, file: string): Promise<{ seconds: number; peakRssMb: number | null }> {
  const db = await createScratchDatabase(serverUrl, 'tally_bench_cli');
  try {
    return await tallyCommand(db.url, ['ingest', file]);
  } finally {
    await db.drop();
  }
}
