import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../api/auth.ts';
import { ingestFiles } from '../../jobs/ingest-files.ts';
import { organizations } from '../../schema/db/index.ts';
import { csvLine } from '../helpers/csv.ts';
import { startApi } from '../helpers/api.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';

// SECURITY.md, "A private record does not exist for anyone else" and "The registry's own record always
// wins its key". Organization A (Vanuatu) uploads privately what a registry also publishes, ahead of
// the registry; organization B (Japan) uploads the same files. A record's identity includes its owner,
// so none of them meets another: B's answers are the ones it gets when A has uploaded nothing, the
// registry's own rows are stored whatever A holds, and no message anyone can read speaks of A. An
// organization's upload of a registry's own export is its report of the registry's units (a mirror):
// beside the registry's record for those who may see it, never a second count.
//
// Files: real rows of test/fixtures/registry-samples/verra/ (project 5962's row with its ID changed to
// the unused 999001, constructed here as "a project A holds before the registry publishes it"; every VCU
// row of project 1340 unchanged), the real CAD Trust v1 CDM rows and v2 A6.4 records of
// test/fixtures/cad-trust/, and the AEF of test/fixtures/article6/.

const fixture = (path: string) => new URL(`../fixtures/${path}`, import.meta.url).pathname;
const LEAKS = /privately|another organization|another publisher|vanuatu|kept-elsewhere|owned-elsewhere/i;

type Api = Awaited<ReturnType<typeof startApi>>;
/** An upload's answer without what differs from one run to the next (batch ids). */
const answer = (result: Awaited<ReturnType<Api['upload']>>) => JSON.parse(JSON.stringify(result, (k, v) => (k === 'batches' || k === 'id' ? undefined : v)));

describe('private records and the registry\'s own records', () => {
  let t: TestDatabase;
  let api: Api;
  const dir = mkdtempSync(join(tmpdir(), 'tally-private-'));
  const keys = {} as Record<'publisherA' | 'publisherB' | 'readerB' | 'admin', string>;
  const files = {} as Record<'project' | 'vcu', { name: string; content: Buffer }>;
  let projectRow: Record<string, string>;
  let vcuRows: Record<string, string>[];

  beforeAll(async () => {
    t = await openTestDatabase();
    const db = t.handle.db;
    const [a] = await db.insert(organizations).values({ slug: 'vanuatu', name: 'Government of Vanuatu', country: 'VU' }).returning();
    const [b] = await db.insert(organizations).values({ slug: 'japan', name: 'Government of Japan', country: 'JP' }).returning();
    keys.publisherA = (await createApiKey(db, { name: 'a', role: 'publisher', organizationId: a!.id })).key;
    keys.publisherB = (await createApiKey(db, { name: 'b', role: 'publisher', organizationId: b!.id })).key;
    keys.readerB = (await createApiKey(db, { name: 'b reader', role: 'reader', organizationId: b!.id })).key;
    keys.admin = (await createApiKey(db, { name: 'admin', role: 'admin', organizationId: null })).key;
    api = await startApi(t.handle);

    const projects = readFileSync(fixture('registry-samples/verra/projects.csv'), 'utf8');
    const header = projects.split('\n')[0]!;
    projectRow = { ...(parse(projects, { columns: true }) as Record<string, string>[]).find((r) => r.ID === '5962')!, ID: '999001' };
    files.project = { name: 'projects.csv', content: Buffer.from(`${header}\n${csvLine(header.split(',').map((h) => projectRow[h] ?? ''))}\n`) };
    const vcu = readFileSync(fixture('registry-samples/verra/transactions.csv'), 'utf8');
    const vcuHeader = vcu.split('\n')[0]!;
    vcuRows = (parse(vcu, { columns: true }) as Record<string, string>[]).filter((r) => r.ID === '1340');
    files.vcu = { name: 'transactions.csv', content: Buffer.from(`${vcuHeader}\n${vcuRows.map((r) => csvLine(vcuHeader.split(',').map((h) => r[h] ?? ''))).join('\n')}\n`) };
  }, 120_000);
  afterAll(async () => {
    await api?.close();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when A keeps a registry project privately, then B\'s preview and upload of it answer as if A had nothing, and nothing public speaks of A', async () => {
    const before = answer(await api.upload([files.project, files.vcu], { key: keys.publisherB, preview: true }));
    const mine = await api.upload([files.project, files.vcu], { key: keys.publisherA, private: true });
    expect(mine.data!.upload).toMatchObject({ accepted: true, errors: [] });
    const after = answer(await api.upload([files.project, files.vcu], { key: keys.publisherB, preview: true }));
    expect(after).toEqual(before);
    expect(JSON.stringify(after)).not.toMatch(LEAKS);

    const stored = await api.upload([files.project, files.vcu], { key: keys.publisherB });
    expect(stored.data!.upload).toMatchObject({ accepted: true, errors: [] });
    const batchIds = stored.data!.upload.batches.map((b: { id: string }) => b.id);
    for (const caller of [undefined, keys.readerB]) {
      const seen = await api.gql(`{ registries { id lastBatch { errors { message } } } b0: batch(id: "${batchIds[0]}") { errors { message } counts } b1: batch(id: "${batchIds[1]}") { errors { message } counts } }`, {}, { key: caller });
      expect(seen.errors, JSON.stringify(seen.errors)).toBeUndefined();
      expect(JSON.stringify(seen.data)).not.toMatch(LEAKS);
    }
  });

  it('when the registry\'s own files come after A\'s private copy, then they are stored as the registry\'s records and every figure is the file\'s', async () => {
    const projectPath = join(dir, 'verra-projects.csv');
    const vcuPath = join(dir, 'verra-vcu.csv');
    writeFileSync(projectPath, files.project.content);
    writeFileSync(vcuPath, files.vcu.content);
    const outcomes = await ingestFiles(t.handle.db, [projectPath, vcuPath]);
    expect(outcomes.map((o) => o.accepted)).toEqual([true, true]);
    const [projectBatch, vcuBatch] = outcomes.map((o) => (o as { summary: { projects: { new: number }; blocks: { new: number }; rowsRejected: number } }).summary);
    expect(projectBatch!.projects.new).toBe(1);
    expect(vcuBatch!.blocks.new).toBe(vcuRows.length);
    expect(vcuBatch!.rowsRejected).toBe(0);

    const issued = vcuRows.reduce((s, r) => s + Number(r['Quantity Issued']!.replace(/,/g, '')), 0);
    const query = `query ($org: String) { p: project(key: "verra:999001", organization: $org) { name private organization { slug } }
      q: project(key: "verra:1340", organization: $org) { private organization { slug } totals { issued } } }`;
    const anonymous = await api.gql(query);
    expect(anonymous.data).toEqual({ p: { name: projectRow.Name, private: false, organization: null }, q: { private: false, organization: null, totals: { issued } } });
    // A sees the registry's record under the key; its own copy is its report of the registry's units,
    // beside them for A alone.
    const a = await api.gql(query, {}, { key: keys.publisherA });
    expect(a.data).toEqual(anonymous.data);
    expect((await api.gql(query, { org: 'vanuatu' }, { key: keys.publisherA })).data).toEqual({ p: null, q: null });
    const reports = `{ project(key: "verra:1340") { reportedBy { reportedBy matchedBy disagreements } } }`;
    const seenByA = (await api.gql(reports, {}, { key: keys.publisherA })).data!.project.reportedBy as { reportedBy: string }[];
    expect(seenByA.filter((r) => r.reportedBy === 'upload:vanuatu')).toEqual(vcuRows.map(() => ({ reportedBy: 'upload:vanuatu', matchedBy: 'serial', disagreements: [] })));
    // For B, A's copy is not there at all.
    expect((await api.gql(query, { org: 'vanuatu' }, { key: keys.readerB })).data).toEqual({ p: null, q: null });
    expect(JSON.stringify((await api.gql(reports, {}, { key: keys.readerB })).data)).not.toMatch(LEAKS);
  });

  it('when A and B upload the same CAD Trust v1 and v2 records, then each keeps its own and B is told nothing of A', async () => {
    const v1 = ['cdm-projects.csv', 'cdm-retired-units.csv'].map((f) => ({ name: f, content: readFileSync(fixture(`cad-trust/${f}`)) }));
    const v2 = ['a64-pacm-10471.json', 'a64-pacm-10471-units.json', 'a64-pacm-10471-unit-labels.json'].map((f) => ({ name: f, content: readFileSync(fixture(`cad-trust/${f}`)) }));
    for (const upload of [v1, v2]) {
      const before = answer(await api.upload(upload, { key: keys.publisherB, preview: true }));
      expect((await api.upload(upload, { key: keys.publisherA, private: true })).data!.upload).toMatchObject({ accepted: true, errors: [] });
      const after = answer(await api.upload(upload, { key: keys.publisherB, preview: true }));
      expect(after).toEqual(before);
      const stored = await api.upload(upload, { key: keys.publisherB });
      expect(stored.data!.upload).toMatchObject({ accepted: true, errors: [] });
      expect(JSON.stringify(stored)).not.toMatch(LEAKS);
    }
  });

  it('when B submits an AEF for a Party it does not speak for, then it is refused alike whatever A holds; once granted, its own submission stands beside A\'s', async () => {
    const aef = { name: 'ca0004-vut-2025.json', content: readFileSync(fixture('article6/ca0004-vut-2025.json')) };
    const refusal = answer(await api.upload([aef], { key: keys.publisherB, preview: true }));
    expect(refusal.data.upload.accepted).toBe(false);
    expect(refusal.data.upload.errors).toEqual([expect.objectContaining({ code: 'party-not-held',
      message: 'ca0004-vut-2025.json aefT1Submission[0]: this organization publishes for JPN, not VUT; an admin can grant it more Parties (tally org grant)' })]);
    expect((await api.upload([aef], { key: keys.publisherA, private: true })).data!.upload.accepted).toBe(true);
    expect(answer(await api.upload([aef], { key: keys.publisherB, preview: true }))).toEqual(refusal);

    const granted = await api.gql(`mutation { grantParty(organization: "japan", party: "VUT") { slug parties } }`, {}, { key: keys.admin });
    expect(granted.data!.grantParty).toEqual({ slug: 'japan', parties: ['JPN', 'VUT'] });
    const stored = await api.upload([aef], { key: keys.publisherB });
    expect(stored.data!.upload).toMatchObject({ accepted: true, errors: [] });
    expect(JSON.stringify(stored)).not.toMatch(LEAKS);
    const authorizations = `{ article6(party: "VUT") { authorizations { authorizationId private } } }`;
    expect((await api.gql(authorizations)).data!.article6.authorizations).toEqual([{ authorizationId: 'VUT0001', private: false }]);
    expect((await api.gql(authorizations, {}, { key: keys.publisherA })).data!.article6.authorizations)
      .toEqual(expect.arrayContaining([{ authorizationId: 'VUT0001', private: false }, { authorizationId: 'VUT0001', private: true }]));
  });
});
