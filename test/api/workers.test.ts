import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchDatabase, migrateDatabase, openDatabase } from '../../schema/database.ts';

// TALLY_WORKERS (README, "Running at scale"): `tally serve` with several API processes on one port, the
// scheduler in the first only. Server only: the embedded database belongs to one process, and asking
// for more than one without DATABASE_URL is refused.

const server = process.env.TEST_DATABASE_URL;

/** The Tally processes whose parent is `pid` (not the TypeScript loader's helper). */
const workersOf = (pid: number): number[] => {
  try {
    return execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(pid)]).toString().split('\n')
      .filter((line) => line.includes('cli/tally.ts')).map((line) => Number.parseInt(line.trim(), 10));
  } catch {
    return [];
  }
};

describe('tally serve with TALLY_WORKERS', () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>> | undefined;
  beforeAll(async () => {
    if (!server) return;
    scratch = await createScratchDatabase(server, 'tally_workers');
    const handle = await openDatabase({ url: scratch.url });
    await migrateDatabase(handle, { url: scratch.url });
    await handle.close();
  }, 60_000);
  afterAll(async () => {
    await scratch?.drop();
  });

  it.runIf(server)('when two workers are asked for, then two processes serve one port, and a stop ends them all (server only)', async () => {
    const env = { ...process.env, DATABASE_URL: scratch!.url, PORT: '0', TALLY_WORKERS: '2', TALLY_CHECK_SCHEDULE: 'off', LOG_LEVEL: 'info' };
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/tally.ts', 'serve'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = once(child, 'exit');
    try {
      const serving = await new Promise<{ url: string; workers: number }>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`tally serve exited with ${code}`)));
        createInterface({ input: child.stdout! }).on('line', (line) => {
          const entry = JSON.parse(line) as { msg?: string; url?: string; workers?: number };
          if (entry.msg === 'Tally is serving' && entry.url) resolve({ url: entry.url, workers: entry.workers ?? 1 });
        });
      });
      expect(serving.workers).toBe(2);
      const workers = workersOf(child.pid!);
      expect(workers).toHaveLength(2);
      const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(`${serving.url}/health`).then((r) => r.status)));
      expect(answers.every((status) => status === 200)).toBe(true);
      child.kill('SIGTERM');
      const [code] = await exited;
      expect(code).toBe(0);
      for (const pid of workers) expect(() => process.kill(pid, 0)).toThrow();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 120_000);

  it('when more than one worker is asked for without DATABASE_URL, then the start is refused with the reason', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, TALLY_WORKERS: '2' };
    delete env.DATABASE_URL;
    let failure = '';
    try {
      execFileSync(process.execPath, ['--import', 'tsx', 'cli/tally.ts', 'serve'], { env, stdio: 'pipe', timeout: 60_000 });
    } catch (error) {
      failure = String((error as { stderr?: Buffer }).stderr ?? '');
    }
    expect(failure).toMatch(/TALLY_WORKERS: more than one process needs DATABASE_URL/);
  }, 90_000);
});
