import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';

// cli/tally.ts: `tally ingest` and `tally sync` do their work in a child process under a heap limit, so
// that their memory stays flat whatever the file's size (bench/ingest.ts measures the peak); a limit
// the caller gives in NODE_OPTIONS wins. Each command logs its heap limit as it starts.

const dir = mkdtempSync(join(tmpdir(), 'tally-heap-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The heap limit `tally <args>` reports as it starts, in MB; the command is stopped once it has said so. */
async function heapLimitOf(args: string[], nodeOptions?: string): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: 'debug', TALLY_DATA_DIR: join(dir, 'data') };
  delete env.DATABASE_URL;
  if (nodeOptions) env.NODE_OPTIONS = nodeOptions;
  else delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/tally.ts', ...args], { env, stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`tally ${args.join(' ')} exited with ${code} before it said its heap limit`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line.includes('"command started"')) resolve((JSON.parse(line) as { heapLimitMb: number }).heapLimitMb);
      });
    });
  } finally {
    child.kill('SIGTERM');
  }
}

describe('heap limits of commands', () => {
  it('when tally ingest starts, then its work runs under a heap limit of about 256 MB, and a limit in NODE_OPTIONS replaces it', async () => {
    const limited = await heapLimitOf(['ingest', join(dir, 'missing.csv')]);
    expect(limited).toBeGreaterThanOrEqual(256);
    expect(limited).toBeLessThan(300);
    expect(await heapLimitOf(['ingest', join(dir, 'missing.csv')], '--max-old-space-size=1024')).toBeGreaterThanOrEqual(1024);
  }, 60_000);

  it('when tally help runs, then it keeps node\'s own heap limit', async () => {
    expect(await heapLimitOf(['help'])).toBeGreaterThan(300);
  }, 60_000);
});
