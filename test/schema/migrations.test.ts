import { sql } from 'drizzle-orm';
import { generateDrizzleJson, generateMigration } from 'drizzle-kit/api';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as schema from '../../schema/db/index.ts';
import { registries } from '../../connectors/index.ts';
import { migrationStatus, rows } from '../../schema/database.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';

const ledgerTables = [
  'registries', 'organizations', 'organization_parties', 'api_keys', 'write_positions', 'projects', 'project_links', 'labels', 'label_blocks', 'ratings',
  'issuances', 'unit_blocks', 'mirror_records', 'stated_totals', 'events', 'trend_facts', 'raw_records', 'record_lineage', 'batches', 'connector_state',
  'findings', 'finding_subjects', 'finding_status_changes', 'aef_submissions', 'aef_authorizations',
  'aef_actions', 'aef_holdings', 'aef_authorized_entities', 'corresponding_adjustments', 'tags', 'webhooks', 'webhook_deliveries',
];

/** Everything migrations create, and the seeded rows with their tuple versions (xmin changes on any write). */
async function catalog(t: TestDatabase) {
  const db = t.handle.db;
  return {
    columns: await rows(db, sql`select table_name, column_name, data_type, is_nullable, column_default, is_generated
      from information_schema.columns where table_schema = 'public' order by 1, 2`),
    constraints: await rows(db, sql`select conrelid::regclass::text as rel, conname, pg_get_constraintdef(oid) as def
      from pg_constraint where connamespace = 'public'::regnamespace order by 1, 2`),
    indexes: await rows(db, sql`select indexname, indexdef from pg_indexes where schemaname = 'public' order by 1`),
    migrations: await rows(db, sql`select hash, created_at::text from drizzle.__drizzle_migrations order by id`),
    registries: await rows(db, sql`select id, xmin::text as version from registries order by id`),
  };
}

describe('migrations', () => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase({ migrate: false });
  });
  afterAll(() => t.close());

  it('when applied to an empty database, then every ledger table, extension and seed row exists', async () => {
    expect(await migrationStatus(t.handle.db)).toMatchObject({ applied: 0, current: false });
    await t.migrate();

    const tables = await rows<{ table_name: string }>(t.handle.db, sql`select table_name from information_schema.tables where table_schema = 'public'`);
    expect(tables.map((r) => r.table_name).sort()).toEqual([...ledgerTables].sort());
    const extensions = await rows<{ extname: string }>(t.handle.db, sql`select extname from pg_extension order by 1`);
    expect(extensions.map((r) => r.extname)).toEqual(expect.arrayContaining(['btree_gist', 'pg_trgm']));
    const { expected } = await migrationStatus(t.handle.db);
    expect(expected).toBeGreaterThanOrEqual(4);
    expect(await migrationStatus(t.handle.db)).toMatchObject({ applied: expected, current: true });
    const [registryCount] = await rows<{ n: number }>(t.handle.db, sql`select count(*)::int as n from registries`);
    expect(registryCount?.n).toBe(registries().length);
  });

  it('when applied again, then nothing changes: same catalog, same migration log, seed rows not rewritten', async () => {
    const before = await catalog(t);
    await t.migrate();
    await t.migrate();
    expect(await catalog(t)).toEqual(before);
  });

  it('when the drizzle schema is compared with the committed migrations, then no migration is missing', async () => {
    const journal = JSON.parse(readFileSync(new URL('../../schema/migrations/meta/_journal.json', import.meta.url), 'utf8'));
    const last = journal.entries.at(-1).idx.toString().padStart(4, '0');
    const snapshot = JSON.parse(readFileSync(new URL(`../../schema/migrations/meta/${last}_snapshot.json`, import.meta.url), 'utf8'));
    const current = generateDrizzleJson(schema, snapshot.id, undefined, 'snake_case');
    // Any statement here means someone changed schema/db without running `npm run db:generate`.
    expect(await generateMigration(snapshot, current)).toEqual([]);
  });
});
