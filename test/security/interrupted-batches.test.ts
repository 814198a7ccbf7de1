import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeVcuExport } from '../../bench/verra-vcu-file.ts';
import { failInterruptedBatches } from '../../jobs/batches.ts';
import { createScratchDatabase, migrateDatabase, openDatabase, rows, type DatabaseHandle, type OpenOptions } from '../../schema/database.ts';

// SECURITY.md, "A batch is whole or failed": `tally ingest` killed with SIGKILL in the middle of a
// batch leaves its batch `running` and nothing of its records; the next process that starts or ingests
// marks it failed, "interrupted", once no live process holds it. A batch still running in a live
// process is never marked. The export is synthetic (bench/verra-vcu-file.ts), large enough that the
// ingest is in its transaction when it is killed.

type Ledger = { status: string; errors: { code: string; message: string }[]; raw: number; blocks: number };

async function ledger(db: DatabaseHandle['db']): Promise<Ledger[]> {
  return rows<Ledger>(db, sql`select b.status::text as status, b.errors,
      (select count(*)::int from raw_records r where r.batch_id = b.id) as raw,
      (select count(*)::int from unit_blocks u where u.first_batch_id = b.id) as blocks
    from batches b order by b.id`);
}

/** Starts `tally ingest` on `file` and resolves once its batch has started, with the process. */
async function ingestInChild(env: NodeJS.ProcessEnv, file: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/tally.ts', 'ingest', file], { env: { ...env, LOG_LEVEL: 'debug' }, stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`tally ingest exited with ${code} before its batch started`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('"batch started"')) resolve();
    });
  });
  return child;
}

const killed = (child: ChildProcess) => new Promise<void>((resolve) => {
  child.once('exit', () => resolve());
  child.kill('SIGKILL');
});

describe('interrupted batches', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tally-kill-'));
  const file = join(dir, 'vcu.csv');
  const server = process.env.TEST_DATABASE_URL;
  let scratch: { url: string; drop(): Promise<void> } | undefined;
  let options: OpenOptions;

  beforeAll(async () => {
    await writeVcuExport(file, 60_000);
    scratch = server ? await createScratchDatabase(server, 'tally_test') : undefined;
    options = scratch ? { url: scratch.url } : { dataDir: join(dir, 'data') };
    const handle = await openDatabase(options);
    await migrateDatabase(handle, options);
    await handle.close();
  }, 120_000);
  afterAll(async () => {
    await scratch?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when tally ingest is killed mid-batch, then nothing of it is stored, and the next process marks it failed as interrupted', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, ...(scratch ? { DATABASE_URL: scratch.url } : { TALLY_DATA_DIR: options.dataDir }) };
    delete env.TEST_DATABASE_URL;
    if (!scratch) delete env.DATABASE_URL;
    const child = await ingestInChild(env, file);
    // Into the batch's transaction: the first chunks are being written.
    await new Promise((resolve) => setTimeout(resolve, 1_500));

    if (scratch) {
      // On a server, another process looks while the ingest lives: its batch is running and is left alone.
      const watcher = await openDatabase(options);
      try {
        expect(await failInterruptedBatches(watcher.db)).toBe(0);
        expect((await ledger(watcher.db)).map((b) => b.status)).toEqual(['running']);
      } finally {
        await watcher.close();
      }
    }
    await killed(child);

    const next = await openDatabase(options);
    try {
      const [left] = await ledger(next.db);
      expect(left).toMatchObject({ status: 'running', raw: 0, blocks: 0 });
      // The server notices the lost connection, and its locks go with it, when its statement ends.
      let marked = 0;
      for (let tries = 0; tries < 100 && marked === 0; tries += 1) {
        marked = await failInterruptedBatches(next.db);
        if (marked === 0) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(marked).toBe(1);
      const [after] = await ledger(next.db);
      expect(after).toMatchObject({ status: 'failed', raw: 0, blocks: 0, errors: [{ code: 'interrupted' }] });
      expect(after!.errors[0]!.message).toMatch(/^interrupted: the process running this batch stopped before it finished/);
      const [counts] = await rows<{ raw: number; blocks: number; events: number }>(next.db, sql`select (select count(*)::int from raw_records) as raw,
        (select count(*)::int from unit_blocks) as blocks, (select count(*)::int from events) as events`);
      expect(counts).toEqual({ raw: 0, blocks: 0, events: 0 });
    } finally {
      await next.close();
    }
  }, 120_000);
});
