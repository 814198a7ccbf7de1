import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';

// A real hot standby of the test server, on 127.0.0.1 and a port of its own: a base backup taken with
// `pg_basebackup -R` (which writes the standby's connection to the primary), started with the server's
// own binaries. PostgreSQL refuses to run as root, so as root the standby runs as the `postgres` user.
// The primary must accept replication connections from 127.0.0.1 (.ci/run sees to it).

export type Replica = {
  /** The URL of database `name` on the standby. */
  urlOf(name: string): string;
  /** Stops and restarts replaying the primary's write-ahead log: what the standby shows stands still. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Resolves once the standby has replayed everything the primary has written so far. */
  caughtUp(): Promise<void>;
  stop(): Promise<void>;
};

const freePort = () => new Promise<number>((resolve, reject) => {
  const server = createServer();
  server.once('error', reject);
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
  });
});

export async function startReplica(primaryUrl: string): Promise<Replica> {
  const primary = postgres(primaryUrl, { max: 1, onnotice: () => {} });
  const [bin] = await primary`select setting from pg_config where name = 'BINDIR'`;
  const bindir = bin!.setting as string;
  const asRoot = process.getuid?.() === 0;
  const run = (command: string, args: string[]) => (asRoot ? ['runuser', ['-u', 'postgres', '--', command, ...args]] as const : [command, args] as const);
  const dir = mkdtempSync(join(tmpdir(), 'tally-replica-'));
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  const [backup, backupArgs] = run(join(bindir, 'pg_basebackup'), ['-d', primaryUrl, '-D', data, '-R', '-X', 'stream', '-c', 'fast']);
  execFileSync(backup, backupArgs, { stdio: 'pipe' });
  const port = await freePort();
  // A packaged server keeps its configuration outside the data folder: the standby gets its own.
  const [write, writeArgs] = run('sh', ['-c', `cat > ${data}/postgresql.conf && printf 'local all all trust\\nhost all all 127.0.0.1/32 trust\\n' > ${data}/pg_hba.conf && : > ${data}/pg_ident.conf`]);
  execFileSync(write, writeArgs, { input: `port = ${port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '${dir}'\nhot_standby = on\n` });
  const [server, serverArgs] = run(join(bindir, 'postgres'), ['-D', data]);
  const child: ChildProcess = spawn(server, serverArgs, { stdio: 'ignore' });
  const url = new URL(primaryUrl);
  url.port = String(port);
  const urlOf = (name: string) => {
    const u = new URL(url);
    u.pathname = `/${name}`;
    return u.toString();
  };
  const standby = postgres(urlOf('postgres'), { max: 1, onnotice: () => {} });
  for (let attempt = 0; ; attempt++) {
    try {
      await standby`select 1`;
      break;
    } catch (error) {
      if (attempt > 120 || child.exitCode !== null) throw new Error(`the standby did not start: ${(error as Error).message}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  let stopped = false;
  return {
    urlOf,
    pause: async () => { await standby`select pg_wal_replay_pause()`; },
    resume: async () => { await standby`select pg_wal_replay_resume()`; },
    async caughtUp() {
      const [{ lsn }] = await primary`select pg_current_wal_lsn()::text as lsn` as unknown as [{ lsn: string }];
      for (;;) {
        const [state] = await standby`select pg_last_wal_replay_lsn() >= ${lsn}::pg_lsn as replayed`;
        if (state?.replayed) return;
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await standby.end({ timeout: 1 });
      await primary.end({ timeout: 1 });
      const exited = child.exitCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', r));
      const [stopper, stopArgs] = run(join(bindir, 'pg_ctl'), ['stop', '-D', data, '-m', 'fast', '-w']);
      execFileSync(stopper, stopArgs, { stdio: 'pipe' });
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
