import cluster from 'node:cluster';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { readConfig, readWebhookSettings, type Config } from '../schema/config.ts';
import { migrateDatabase, openDatabase, type DatabaseHandle } from '../schema/database.ts';
import { log } from '../schema/log.ts';
import { ingestCommand } from './ingest.ts';
import { failInterruptedBatches } from '../jobs/batches.ts';
import { loadSamplesIfEmpty } from '../jobs/samples.ts';
import { readSources, startScheduler } from '../jobs/scheduler.ts';
import { syncCommand } from './sync.ts';
import { article6Command } from './article6.ts';
import { checkCommand } from './check.ts';
import { dumpCommand } from './dump.ts';
import { exportCommand } from './export.ts';
import { keyCommand, orgCommand } from './keys.ts';
import { reconcileCommand } from './reconcile.ts';

// The commands of `tally` (cli/tally.ts starts them).

const usage = `usage: tally <command>

commands:
  serve     apply migrations, then serve the API on HOST:PORT (npm start)
  migrate   apply pending database migrations and exit
  ingest    read registry exports into the ledger: tally ingest <file…> [--registry <slug>]
  sync      pull a registry's API into the ledger now: tally sync <registry> [--check]
  article6  a Party's Article 6 position, AEF consistency checks and export: tally article6 <party> [--year <y>] [--export <file.xlsx|json> [--layout cadt|aef]]
  export    a slice of the ledger in CAD Trust form: tally export --format cadt-v1|cadt-v2 --out <path> [--registry …] [--vintage …]
  dump      the whole-dataset downloads (projects and credits, CSV and Parquet, manifest) into a folder: tally dump --out <dir> [--organization <slug>]
  check     run the integrity rules over the whole ledger, record and list findings: tally check [--evidence]
  reconcile each registry's stated totals beside Tally's, every difference explained or listed: tally reconcile [<registry>]
  org       add or list organizations: tally org add <slug> --name <name> [--country JP]
  key       create, list or revoke API keys: tally key create --role admin|publisher|reader [--organization <slug>]
  help      show this message

The database is DATABASE_URL when set, else the embedded one in TALLY_DATA_DIR.`;

type Command = (config: Config, args: string[]) => Promise<void>;

const databaseOptions = (config: Config) => ({ url: config.databaseUrl, readUrl: config.databaseReadUrl, dataDir: config.dataDir });

async function openMigrated(config: Config): Promise<DatabaseHandle> {
  const options = databaseOptions(config);
  const handle = await openDatabase(options);
  await migrateDatabase(handle, options);
  return handle;
}

/**
 * Serves the API on HOST:PORT until SIGINT or SIGTERM, then closes the database after `beforeClose`
 * (the scheduler, in the process that runs it). Worker processes of TALLY_WORKERS share the port.
 */
async function serveApi(config: Config, handle: DatabaseHandle, beforeClose: () => Promise<void> = async () => {}): Promise<void> {
  // The API is loaded by the command that serves it only: `tally ingest` does not carry it.
  const { createApp } = await import('../api/app.ts');
  const app = createApp(handle, config.api, join(config.dataDir, 'downloads'));
  const server: Server = await new Promise((resolveServer, reject) => {
    const s = app.listen(config.port, config.host, () => resolveServer(s));
    s.once('error', reject);
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  if (cluster.isPrimary) log.info({ database: handle.kind, location: handle.location, replica: handle.replicaLocation, url: `http://${config.host}:${port}` }, 'Tally is serving');
  const stop = async (signal: string) => {
    log.info({ signal }, 'shutting down');
    server.close();
    await beforeClose();
    await handle.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

const commands: Record<string, Command> = {
  async migrate(config) {
    const handle = await openMigrated(config);
    log.info({ database: handle.kind, location: handle.location }, 'migrations applied');
    await handle.close();
  },

  async serve(config) {
    // A worker process serves the API only; the first process migrates, schedules and starts workers.
    if (cluster.isWorker) return serveApi(config, await openDatabase(databaseOptions(config)));
    const handle = await openMigrated(config);
    const interrupted = await failInterruptedBatches(handle.db);
    if (interrupted > 0) log.warn({ batches: interrupted }, 'batches left running by a process that stopped are marked failed (interrupted)');
    if (handle.kind === 'pglite' && config.loadSamples) {
      const loaded = await loadSamplesIfEmpty(handle.db);
      if (loaded > 0) log.info({ files: loaded }, 'empty embedded database: loaded the bundled registry samples');
    }
    const sources = config.sourcesFile ? readSources(config.sourcesFile) : [];
    const scheduler = startScheduler(handle, sources, {
      checkSchedule: config.checkSchedule,
      snapshots: config.snapshots && { ...config.snapshots, dir: join(config.dataDir, 'snapshots') },
      webhooks: readWebhookSettings(),
      downloads: join(config.dataDir, 'downloads'),
    });
    log.info({ sources: sources.map((s) => `${s.registry} (${s.schedule})`) }, sources.length ? 'scheduler started' : 'scheduler idle: no TALLY_SOURCES configured');
    if (config.workers === 1) return serveApi(config, handle, () => scheduler.stop());

    let stopping = false;
    const start = () => cluster.fork().once('exit', (code, signal) => {
      if (stopping) return;
      log.error({ code, signal }, 'an API process stopped; starting another');
      start();
    });
    for (let i = 0; i < config.workers; i++) start();
    let listening = 0;
    cluster.on('listening', (_worker, address) => {
      listening += 1;
      if (listening === config.workers) {
        log.info({ database: handle.kind, location: handle.location, replica: handle.replicaLocation, workers: config.workers, url: `http://${config.host}:${address.port}` }, 'Tally is serving');
      }
    });
    const stop = async (signal: string) => {
      log.info({ signal }, 'shutting down');
      stopping = true;
      const workers = Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
      await Promise.all(workers.map((w) => (w.isDead() ? undefined : new Promise((done) => {
        w.once('exit', done);
        w.kill('SIGTERM');
      }))));
      await scheduler.stop();
      await handle.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  },

  async ingest(config, args) {
    const handle = await openMigrated(config);
    try {
      process.exitCode = await ingestCommand(handle.db, args);
    } finally {
      await handle.close();
    }
  },

  async sync(config, args) {
    const handle = await openMigrated(config);
    try {
      process.exitCode = await syncCommand(handle, args, config.sourcesFile);
    } finally {
      await handle.close();
    }
  },

  async check(config, args) {
    const handle = await openMigrated(config);
    try {
      process.exitCode = await checkCommand(handle, args);
    } finally {
      await handle.close();
    }
  },

  async reconcile(config, args) {
    const handle = await openMigrated(config);
    try {
      process.exitCode = await reconcileCommand(handle, args);
    } finally {
      await handle.close();
    }
  },

  async article6(config, args) {
    const handle = await openMigrated(config);
    try {
      process.exitCode = await article6Command(handle.db, args);
    } finally {
      await handle.close();
    }
  },

  async export(config, args) {
    const handle = await openMigrated(config);
    try {
      process.exitCode = await exportCommand(handle.db, args);
    } finally {
      await handle.close();
    }
  },

  async dump(config, args) {
    const handle = await openMigrated(config);
    try {
      process.exitCode = await dumpCommand(handle.db, args);
    } finally {
      await handle.close();
    }
  },

  async org(config, args) {
    const handle = await openMigrated(config);
    try {
      process.exitCode = await orgCommand(handle.db, args);
    } finally {
      await handle.close();
    }
  },

  async key(config, args) {
    const handle = await openMigrated(config);
    try {
      process.exitCode = await keyCommand(handle.db, args);
    } finally {
      await handle.close();
    }
  },

  async help() {
    console.log(usage);
  },
};

/** Runs one command line; a failure is logged and sets the exit code. */
export async function main(argv: string[]): Promise<void> {
  const [name = 'help', ...args] = argv;
  const command = commands[name];
  if (!command) {
    console.error(`tally: unknown command "${name}"\n\n${usage}`);
    process.exitCode = 2;
    return;
  }
  log.debug({ command: name, heapLimitMb: Math.round(getHeapStatistics().heap_size_limit / 2 ** 20) }, 'command started');
  try {
    await command(readConfig(), args);
  } catch (error) {
    log.error({ err: error }, (error as Error).message);
    process.exitCode = 1;
  }
}
