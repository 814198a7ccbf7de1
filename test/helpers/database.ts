import { createScratchDatabase, migrateDatabase, openDatabase, type DatabaseHandle, type OpenOptions } from '../../schema/database.ts';

// Tests run against the embedded database by default, and against a PostgreSQL server when
// TEST_DATABASE_URL is set (CI runs both). On a server each test file gets a database of its own,
// created here and dropped afterwards, so files can run in parallel.

export type TestDatabase = {
  handle: DatabaseHandle;
  options: OpenOptions;
  migrate(): Promise<void>;
  close(): Promise<void>;
};

export async function openTestDatabase(options: { migrate?: boolean; onQuery?: (query: string) => void } = {}): Promise<TestDatabase> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  const scratch = serverUrl ? await createScratchDatabase(serverUrl, 'tally_test') : undefined;
  const open: OpenOptions = { ...(scratch ? { url: scratch.url } : {}), onQuery: options.onQuery };
  const handle = await openDatabase(open);
  const db: TestDatabase = {
    handle,
    options: open,
    migrate: () => migrateDatabase(handle, open),
    async close() {
      await handle.close();
      await scratch?.drop();
    },
  };
  if (options.migrate !== false) await db.migrate();
  return db;
}

/** The SQLSTATE of a failed statement, through drizzle's wrapping: 23505 unique, 23503 foreign key, 23514 check. */
export async function sqlState(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    let e: unknown = error;
    while (e && typeof e === 'object') {
      const code = (e as { code?: unknown }).code;
      if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
      e = (e as { cause?: unknown }).cause;
    }
    throw error;
  }
  throw new Error('expected the statement to fail, and it succeeded');
}
