import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';

async function getHealth(t: TestDatabase) {
  const server = createApp(t.handle).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/health`);
    return { status: response.status, body: await response.json() };
  } finally {
    server.close();
  }
}

describe('GET /health', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase({ migrate: false });
  });
  afterAll(() => t.close());

  it('when migrations are pending, then it answers 503 and says so', async () => {
    const { status, body } = await getHealth(t);
    expect(status).toBe(503);
    expect(body).toMatchObject({ status: 'migrations-pending', database: { reachable: true }, migrations: { applied: 0, current: false } });
  });

  it('when the database is migrated, then it answers 200 with the database it runs on', async () => {
    await t.migrate();
    const { status, body } = await getHealth(t);
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', database: { kind: t.handle.kind, reachable: true }, migrations: { current: true } });
  });

  it('when the database is gone, then it answers 503 instead of failing', async () => {
    const dead = await openTestDatabase({ migrate: false });
    await dead.handle.close();
    const { status, body } = await getHealth(dead);
    expect(status).toBe(503);
    expect(body).toMatchObject({ status: 'database-unreachable', database: { reachable: false } });
    await dead.close().catch(() => {});
  });
});

describe('the README start command (tally serve)', () => {
  let dataDir: string;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'tally-serve-'));
  });
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('when started on a fresh machine without DATABASE_URL, then it loads the registry samples and serves /health and the downloads from the embedded database', async () => {
    // TALLY_DATA_DIR as a path relative to the working directory, as its default is.
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', TALLY_DATA_DIR: relative(process.cwd(), dataDir), LOG_LEVEL: 'info' };
    delete env.DATABASE_URL;
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/tally.ts', 'serve'], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const samples: string[] = [];
      const url = await new Promise<string>((resolve, reject) => {
        child.once('exit', (code) => reject(new Error(`tally serve exited with ${code}`)));
        createInterface({ input: child.stdout! }).on('line', (line) => {
          const entry = JSON.parse(line) as { msg?: string; url?: string; file?: string };
          if (entry.msg === 'sample loaded' && entry.file) samples.push(entry.file);
          if (entry.msg === 'Tally is serving' && entry.url) resolve(entry.url);
        });
      });
      // A fresh embedded database is loaded with the bundled real registry exports before serving.
      expect(samples).toEqual(expect.arrayContaining(['verra/projects.csv', 'verra/transactions.csv']));
      const response = await fetch(`${url}/health`);
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ status: 'ok', database: { kind: 'pglite' } });
      const credits = await fetch(`${url}/data/credits.csv`);
      expect(credits.status).toBe(200);
      expect((await credits.text()).split('\r\n')[0]).toMatch(/^transaction_type,quantity,registry,project_key,/);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
