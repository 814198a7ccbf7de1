import { createHash, randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql, type SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import * as schema from './db/index.ts';
import { seedReferenceData } from './reference-data.ts';
import { log } from './log.ts';

// The one way to reach the ledger: a drizzle database over embedded PGlite (no DATABASE_URL) or a
// PostgreSQL server through postgres.js. Both run the same migrations and the same queries.

export type Schema = typeof schema;
export type Database = PgDatabase<PgQueryResultHKT, Schema>;

export type DatabaseHandle = {
  db: Database;
  kind: 'pglite' | 'postgres';
  /** Where the data lives, for logs: the data folder, or the server URL without its password. */
  location: string;
  /**
   * Runs `work` only if no other holder, in this process or any other sharing the server, has the
   * lock named `name`; resolves `undefined` without running it otherwise. On a server it is a
   * PostgreSQL session advisory lock on a connection reserved for the duration; PGlite belongs to one
   * process, so there an in-process lock is the same guarantee.
   */
  withLock<T>(name: string, work: () => Promise<T>): Promise<T | undefined>;
  /**
   * The same database, with every statement cut off after `ms` (PostgreSQL's statement_timeout), for
   * work that answers one request. The embedded database runs statements in this process and cannot
   * interrupt one: there it is the same database, bounded by the limits on what a request may ask.
   */
  withStatementTimeout(ms: number): Database;
  /**
   * Where a request's reads go, with its statement timeout: the read replica (`DATABASE_READ_URL`) when
   * there is one and it has replayed `writer`'s last write (read-your-writes), else this database. A
   * replica that cannot be asked sends the reads here too.
   */
  forReads(ms: number, writer: string | null): Promise<Database>;
  /** Notes where `writer`'s last write ended in the write-ahead log, when there is a replica to wait for. */
  wrote(writer: string): Promise<void>;
  /** The read replica, for logs: its URL without the password. */
  replicaLocation?: string | undefined;
  close(): Promise<void>;
};

/** Advisory lock class of the runner token a process holds while it lives (jobs/batches.ts). */
export const RUNNER_LOCK_CLASS = 7_265_818;

// Each open database knows the token of its process's liveness lock, taken on first use: a batch records
// it, and a batch left `running` under a token nobody holds was interrupted (jobs/batches.ts).
const runners = new WeakMap<Database, () => Promise<number>>();

/** This process's runner token on `db`, holding its liveness lock from the first call on. */
export function runnerToken(db: Database): Promise<number> {
  const runner = runners.get(db);
  if (!runner) throw new Error('runnerToken: not a database opened by openDatabase');
  return runner();
}

const once = <T>(make: () => Promise<T>) => {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
};

/** A stable 63-bit key for an advisory lock name. */
function lockKey(name: string): bigint {
  return createHash('sha256').update(`tally:${name}`).digest().readBigInt64BE(0);
}

function inProcessLocks() {
  const held = new Set<string>();
  return async <T>(name: string, work: () => Promise<T>): Promise<T | undefined> => {
    if (held.has(name)) return undefined;
    held.add(name);
    try {
      return await work();
    } finally {
      held.delete(name);
    }
  };
}

const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));
const casing = 'snake_case' as const;

export type OpenOptions = {
  /** A postgres:// URL; when absent, PGlite is used. */
  url?: string | undefined;
  /** A postgres:// URL of a streaming replica of `url` for read-only work; only with `url`. */
  readUrl?: string | undefined;
  /** PGlite data folder; when absent too, PGlite runs in memory (tests). */
  dataDir?: string | undefined;
  /** Called with every statement drizzle sends (tests count the queries one API request costs). */
  onQuery?: ((query: string) => void) | undefined;
};

export async function openDatabase(options: OpenOptions): Promise<DatabaseHandle> {
  const logger = options.onQuery ? { logQuery: options.onQuery } : undefined;
  if (options.url) {
    const url = options.url;
    const client = postgres(url, { onnotice: () => {}, max: 10 });
    await client`select 1`;
    const local = inProcessLocks();
    const db = drizzlePostgres({ client, schema, casing, logger }) as unknown as Database;
    // Other clients this handle opens on demand, closed with it.
    const clients: postgres.Sql[] = [client];
    const timed = (target: string) => {
      const bounded = new Map<number, Database>();
      return (ms: number) => {
        let found = bounded.get(ms);
        if (!found) {
          const pool = postgres(target, { onnotice: () => {}, max: 10, connection: { statement_timeout: ms } });
          clients.push(pool);
          found = drizzlePostgres({ client: pool, schema, casing, logger }) as unknown as Database;
          bounded.set(ms, found);
        }
        return found;
      };
    };
    const withStatementTimeout = timed(url);
    const replica = options.readUrl ? readReplica(options.readUrl, timed(options.readUrl)) : undefined;
    if (replica) clients.push(replica.client);
    // The liveness lock lives on a connection of its own that never ends while the process does.
    const liveness = postgres(url, { onnotice: () => {}, max: 1, max_lifetime: null, idle_timeout: 0 });
    clients.push(liveness);
    const token = randomInt(1, 2 ** 31 - 1);
    runners.set(db, once(async () => {
      await liveness`select pg_advisory_lock(${RUNNER_LOCK_CLASS}, ${token})`;
      return token;
    }));
    return {
      db,
      kind: 'postgres',
      location: redactUrl(options.url),
      // The in-process lock first, so this process does not queue for a connection to learn what it knows.
      withLock: (name, work) => local(name, async () => {
        const connection = await client.reserve();
        try {
          const [row] = await connection`select pg_try_advisory_lock(${lockKey(name).toString()}::bigint) as locked`;
          if (!row?.locked) return undefined;
          try {
            return await work();
          } finally {
            await connection`select pg_advisory_unlock(${lockKey(name).toString()}::bigint)`;
          }
        } finally {
          connection.release();
        }
      }),
      withStatementTimeout,
      async forReads(ms, writer) {
        const replayed = await replica?.replayed();
        if (!replica || !replayed) return withStatementTimeout(ms);
        if (writer) {
          const [mark] = await client`select lsn::pg_lsn <= ${replayed}::pg_lsn as replayed from write_positions where writer = ${writer}`;
          if (mark && !mark.replayed) return withStatementTimeout(ms);
        }
        return replica.withStatementTimeout(ms);
      },
      async wrote(writer) {
        if (!replica) return;
        await client`insert into write_positions (writer, lsn) values (${writer}, pg_current_wal_lsn()::text)
          on conflict (writer) do update set lsn = excluded.lsn, updated_at = now()`;
      },
      replicaLocation: replica ? redactUrl(replica.url) : undefined,
      close: async () => {
        await Promise.all(clients.map((c) => c.end({ timeout: 5 })));
      },
    };
  }
  let dataDir: string | undefined;
  if (options.dataDir) {
    dataDir = resolve(options.dataDir);
    mkdirSync(dataDir, { recursive: true });
  }
  // The embedded database is loaded only when it is used: a process on a server never holds its engine.
  const [{ PGlite }, { btree_gist }, { pg_trgm }, { drizzle: drizzlePglite }] = await Promise.all([
    import('@electric-sql/pglite'), import('@electric-sql/pglite/contrib/btree_gist'), import('@electric-sql/pglite/contrib/pg_trgm'), import('drizzle-orm/pglite'),
  ]);
  const client = await PGlite.create({ dataDir, extensions: { btree_gist, pg_trgm } });
  const db = drizzlePglite({ client, schema, casing, logger }) as unknown as Database;
  // The embedded database belongs to one process at a time: its own token is the only live one.
  const token = randomInt(1, 2 ** 31 - 1);
  runners.set(db, async () => token);
  return {
    db,
    kind: 'pglite',
    location: dataDir ?? 'memory',
    withLock: inProcessLocks(),
    withStatementTimeout: () => db,
    forReads: async () => db,
    wrote: async () => {},
    close: () => client.close(),
  };
}

/** How long what a read replica says of its replay is taken as current. */
const REPLICA_PROBE_MS = 1_000;

/**
 * A streaming replica: its pools, and how far it has replayed the primary's write-ahead log, asked at
 * most once a second for every request of the process. A replica that does not answer, or is not
 * replaying (not a standby), has replayed nothing: reads then go to the primary.
 */
function readReplica(url: string, withStatementTimeout: (ms: number) => Database) {
  const client = postgres(url, { onnotice: () => {}, max: 2, connect_timeout: 2 });
  let probe: { at: number; lsn: Promise<string | null> } | undefined;
  const replayed = (): Promise<string | null> => {
    if (probe && Date.now() - probe.at < REPLICA_PROBE_MS) return probe.lsn;
    const lsn = client`select pg_last_wal_replay_lsn()::text as lsn`.then(([row]) => {
      if (!row?.lsn) log.warn({ replica: redactUrl(url) }, 'DATABASE_READ_URL is not replaying a primary; reading from the primary');
      return (row?.lsn as string | null | undefined) ?? null;
    }, (error: unknown) => {
      log.warn({ err: error, replica: redactUrl(url) }, 'the read replica did not answer; reading from the primary');
      return null;
    });
    probe = { at: Date.now(), lsn };
    return lsn;
  };
  return { url, client, withStatementTimeout, replayed };
}

// Any number of Tally processes may start against one server; this lock lets one migrate at a time.
const MIGRATION_LOCK = 7_265_817_001;

/** Applies pending migrations and seeds reference data. Running it again changes nothing. */
export async function migrateDatabase(handle: DatabaseHandle, options: OpenOptions): Promise<void> {
  if (handle.kind === 'postgres') {
    // Session-level advisory locks belong to one connection, so migrate over a dedicated one.
    const client = postgres(options.url!, { onnotice: () => {}, max: 1 });
    try {
      await client`select pg_advisory_lock(${MIGRATION_LOCK})`;
      await migratePostgres(drizzlePostgres({ client, casing }), { migrationsFolder });
      await client`select pg_advisory_unlock(${MIGRATION_LOCK})`;
    } finally {
      await client.end({ timeout: 5 });
    }
  } else {
    const { migrate: migratePglite } = await import('drizzle-orm/pglite/migrator');
    await migratePglite(handle.db as never, { migrationsFolder });
  }
  await seedReferenceData(handle.db);
  // A ledger written before tags existed derives them once (imported here: the job reads the ledger's modules).
  const { backfillTags } = await import('../jobs/tags.ts');
  await backfillTags(handle.db);
}

type Journal = { entries: { tag: string; when: number }[] };

// The migrations this code expects, read once: /health asks on every probe.
const journal = JSON.parse(readFileSync(resolve(migrationsFolder, 'meta/_journal.json'), 'utf8')) as Journal;

/** Whether every migration in schema/migrations has been applied (what /health reports). */
export async function migrationStatus(db: Database): Promise<{ applied: number; expected: number; current: boolean }> {
  const expected = journal.entries.length;
  const [table] = await rows<{ exists: boolean }>(db, sql`select to_regclass('drizzle.__drizzle_migrations') is not null as exists`);
  if (!table?.exists) return { applied: 0, expected, current: false };
  const [latest] = await rows<{ applied: number; newest: string | null }>(
    db,
    sql`select count(*)::int as applied, max(created_at)::text as newest from drizzle.__drizzle_migrations`,
  );
  const newestExpected = Math.max(...journal.entries.map((e) => e.when));
  const applied = latest?.applied ?? 0;
  return { applied, expected, current: applied >= expected && Number(latest?.newest) >= newestExpected };
}

/** Runs raw SQL and returns its rows, whichever driver is underneath. */
export async function rows<T>(db: Database, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown;
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

/** A bigint[] parameter, bound the same way by both drivers (one text value, not one parameter per id). */
export const bigintArray = (ids: readonly number[]): SQL => sql`string_to_array(${ids.join(',')}, ',')::bigint[]`;

/**
 * Rows of table or alias `alias` that organization `viewer` may see: public rows, and its own private
 * ones (null: an anonymous reader, public rows only). The one privacy filter over owned tables.
 */
export const visibleTo = (alias: string, viewer: number | null): SQL =>
  sql`(not ${sql.raw(alias)}.is_private or ${sql.raw(alias)}.owner_organization_id is not distinct from ${viewer})`;

/**
 * Rows of table or alias `alias` in `owner`'s identity space: a registry's own records (null), or one
 * organization's uploads. A batch matches and merges only within its own space (DESIGN §3, sources), so
 * no upload ever meets, blocks or changes a record of another source, private or not.
 */
export const ownedBy = (alias: string, owner: number | null): SQL =>
  sql`${sql.raw(alias)}.owner_organization_id is not distinct from ${owner}`;

/** A text[] parameter, bound as one JSON value. */
export const textArray = (values: readonly string[]): SQL => sql`array(select jsonb_array_elements_text(${JSON.stringify(values)}::jsonb))`;

/**
 * A new, empty database on a server, for a test file or a benchmark, and the way to drop it.
 * `serverUrl` names any database on that server; the new one gets a random name with `prefix`.
 */
export async function createScratchDatabase(serverUrl: string, prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end({ timeout: 5 });
    },
  };
}

function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres';
  }
}
