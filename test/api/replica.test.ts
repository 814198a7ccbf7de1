import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../api/auth.ts';
import { ingestFile } from '../../jobs/ingest-file.ts';
import { organizations } from '../../schema/db/index.ts';
import { createScratchDatabase, migrateDatabase, openDatabase, rows, type DatabaseHandle } from '../../schema/database.ts';
import { startApi } from '../helpers/api.ts';
import { readCsv } from '../helpers/csv.ts';
import { startReplica, type Replica } from '../helpers/replica.ts';

// README, "Running at scale": with DATABASE_READ_URL, GraphQL queries and downloads read from a streaming
// replica, while writes go to the primary; a caller reads its own writes back at once (the primary
// answers it until the replica has replayed them), on any instance sharing the database. Proved on a real
// hot standby of the test server: while the standby's replay is paused, what it shows stands still, so
// who answered a read is seen in what the read finds. Server only: the embedded database has no replicas.

const fixture = (path: string) => new URL(`../fixtures/${path}`, import.meta.url).pathname;
const server = process.env.TEST_DATABASE_URL;
const A64 = ['a64-pacm-10471.json', 'a64-pacm-10471-units.json', 'a64-pacm-10471-unit-labels.json'];
const VERRA = `{ projects(filter: { registries: ["verra"] }) { totalCount } }`;
const A64_PROJECT = `{ project(key: "a64-mechanism:A6.4-PoA-10471") { key private } }`;

describe.runIf(server)('reads from a read replica (server only)', () => {
  let replica: Replica;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  const handles: DatabaseHandle[] = [];
  const apis: Awaited<ReturnType<typeof startApi>>[] = [];
  const keys = {} as Record<'admin' | 'publisher' | 'colleague', string>;
  const verraProjects = readCsv(fixture('registry-samples/verra/projects.csv')).length;

  beforeAll(async () => {
    scratch = await createScratchDatabase(server!, 'tally_replica');
    const primary = await openDatabase({ url: scratch.url });
    handles.push(primary);
    await migrateDatabase(primary, { url: scratch.url });
    const [org] = await primary.db.insert(organizations).values({ slug: 'mongolia', name: 'Government of Mongolia', country: 'MN' }).returning();
    keys.admin = (await createApiKey(primary.db, { name: 'admin', role: 'admin', organizationId: null })).key;
    keys.publisher = (await createApiKey(primary.db, { name: 'registry', role: 'publisher', organizationId: org!.id })).key;
    keys.colleague = (await createApiKey(primary.db, { name: 'analyst', role: 'reader', organizationId: org!.id })).key;
    replica = await startReplica(server!);
    const name = new URL(scratch.url).pathname.slice(1);
    // Two API instances that share nothing but the database (and its replica).
    for (let i = 0; i < 2; i++) {
      const handle = await openDatabase({ url: scratch.url, readUrl: replica.urlOf(name) });
      handles.push(handle);
      apis.push(await startApi(handle));
    }
    await replica.caughtUp();
  }, 180_000);
  afterAll(async () => {
    await Promise.all(apis.map((api) => api.close()));
    await Promise.all(handles.map((h) => h.close()));
    await replica?.stop();
    await scratch?.drop();
  });

  it('when the replica stands still, then queries show what it holds, while mutations still write on the primary', async () => {
    await replica.pause();
    const primary = handles[0]!.db;
    expect((await ingestFile(primary, fixture('registry-samples/verra/projects.csv'), { check: false })).rowsRejected).toBe(0);
    const [stored] = await rows<{ n: number }>(primary, sql`select count(*)::int as n from projects where registry_id = 'verra'`);
    expect(stored!.n).toBe(verraProjects);
    for (const api of apis) expect((await api.gql(VERRA)).data).toEqual({ projects: { totalCount: 0 } });
    // A mutation runs on the primary: on the standby it could not write.
    const created = await apis[0]!.gql(`mutation { createApiKey(name: "later", role: READER) { id } }`, {}, { key: keys.admin });
    expect(created.errors).toBeUndefined();
    await replica.resume();
    await replica.caughtUp();
    for (const api of apis) expect((await api.gql(VERRA)).data).toEqual({ projects: { totalCount: verraProjects } });
  }, 120_000);

  it('when a publisher uploads, then it and its organization read the upload back at once on every instance, from the primary, until the replica has it', async () => {
    await replica.pause();
    const uploaded = await apis[0]!.upload(A64.map((f) => ({ name: f, content: readFileSync(fixture(`cad-trust/${f}`)) })), { key: keys.publisher, private: true });
    expect(uploaded.data!.upload).toMatchObject({ accepted: true, errors: [] });
    for (const api of apis) {
      for (const key of [keys.publisher, keys.colleague]) {
        expect((await api.gql(A64_PROJECT, {}, { key })).data).toEqual({ project: { key: 'a64-mechanism:A6.4-PoA-10471', private: true } });
      }
    }
    // Meanwhile the replica, standing still, answers everyone else: a public write made now is not seen.
    await ingestFile(handles[0]!.db, fixture('registry-samples/art-trees/projects.csv'), { check: false });
    const ART = `{ projects(filter: { registries: ["art-trees"] }) { totalCount } }`;
    expect((await apis[1]!.gql(ART)).data).toEqual({ projects: { totalCount: 0 } });
    // The publisher, reading from the primary, does see it.
    const artProjects = readCsv(fixture('registry-samples/art-trees/projects.csv')).length;
    expect((await apis[1]!.gql(ART, {}, { key: keys.publisher })).data).toEqual({ projects: { totalCount: artProjects } });

    // Once the replica has replayed the upload, the publisher reads from it again: with replay paused
    // once more, a write made after that is not in the publisher's answers.
    await replica.resume();
    await replica.caughtUp();
    await new Promise((r) => setTimeout(r, 1_100)); // what the instances know of the replay is a second old at most
    await replica.pause();
    await ingestFile(handles[0]!.db, fixture('registry-samples/verra/transactions.csv'), { check: false });
    const BLOCKS = `{ lookup(serial: "${readCsv(fixture('registry-samples/verra/transactions.csv'))[0]!['Serial Number']}") { blocks { quantity } } }`;
    expect((await apis[0]!.gql(BLOCKS, {}, { key: keys.publisher })).data!.lookup.blocks).toEqual([]);
    await replica.resume();
    await replica.caughtUp();
    expect((await apis[0]!.gql(BLOCKS, {}, { key: keys.publisher })).data!.lookup.blocks).toHaveLength(1);
  }, 120_000);

  it('when the replica is gone, then reads fall back to the primary', async () => {
    await replica.stop();
    // What the replica said of itself is taken as current for a second.
    await new Promise((r) => setTimeout(r, 1_100));
    const [stored] = await rows<{ n: number }>(handles[0]!.db, sql`select count(*)::int as n from projects where registry_id = 'verra'`);
    expect(stored!.n).toBeGreaterThan(verraProjects);
    expect((await apis[0]!.gql(VERRA)).data).toEqual({ projects: { totalCount: stored!.n } });
  }, 60_000);
});
