import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../api/auth.ts';
import { ingestAef } from '../../jobs/article6/aef-upload.ts';
import { ingestFiles } from '../../jobs/ingest-files.ts';
import type { CanonicalInput } from '../../schema/canonical.ts';
import { organizations } from '../../schema/db/index.ts';
import { rows, type Database } from '../../schema/database.ts';
import { startApi } from '../helpers/api.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { ingestRecords } from '../helpers/ledger.ts';

// Tags on projects, issuances and blocks, with their sources. Real samples: Verra's VCU export (its
// `Additional Certifications` name CORSIA's first phase, the ICVCM CCP label and Article 6 authorizations)
// and Gold Standard's issuance export (its `Label` names the CCP label). The Article 6 case is the
// constructed CA0004 AEF (fixtures/article6/README.md), uploaded privately by Vanuatu's government, over
// Gold Standard blocks of GS9999 that this test builds (constructed: no Gold Standard export holds the
// units the AEF names), and the Article 6.4 mechanism's constructed CAD Trust v2 upload, also private.

const fixture = (path: string) => new URL(`../fixtures/${path}`, import.meta.url).pathname;
const VERRA = ['registry-samples/verra/projects.csv', 'registry-samples/verra/transactions.csv'].map(fixture);
const GOLD_STANDARD = ['projects.csv', 'issuances.csv', 'retirements.csv'].map((f) => fixture(`registry-samples/gold-standard/${f}`));
const AEF = fixture('article6/ca0004-vut-2025.json');
const A64 = ['a64-pacm-10471.json', 'a64-pacm-10471-units.json', 'a64-pacm-10471-unit-labels.json'];

type Api = Awaited<ReturnType<typeof startApi>>;
type Tag = { code: string; label: string; subject: string; count: number; source: { kind: string; registry: string | null; text: string | null; private: boolean;
  organization: { slug: string } | null; record: { source: string; locator: string | null; stream: string } | null } };

const csvRows = (path: string) => parse(readFileSync(path, 'utf8'), { columns: true, bom: true }) as Record<string, string>[];
const verraRows = csvRows(VERRA[1]!);
const gsRows = [...csvRows(GOLD_STANDARD[1]!), ...csvRows(GOLD_STANDARD[2]!)];
/** Project keys whose rows in the export say `words` in the column, computed from the file itself. */
const keysSaying = (rowsOf: Record<string, string>[], column: string, words: RegExp, key: (r: Record<string, string>) => string) =>
  [...new Set(rowsOf.filter((r) => words.test(r[column] ?? '')).map(key))].sort();
const VERRA_CORSIA = keysSaying(verraRows, 'Additional Certifications', /CORSIA - First Phase/, (r) => `verra:${r.ID}`);
const CCP = [
  ...keysSaying(verraRows, 'Additional Certifications', /ICVCM CCP/, (r) => `verra:${r.ID}`),
  ...keysSaying(gsRows, 'Label', /\bCCP\b/, (r) => `gold-standard:GS${r.GSID}`),
].sort();

const TAGS = `tags { code label subject count source { kind registry text private organization { slug } record { source locator stream } } }`;

describe('tags', () => {
  let t: TestDatabase;
  let db: Database;
  let api: Api;
  let vanuatuKey: string;
  let vanuatuId: number;
  const tagCount = async () => (await rows<{ n: number; last: number | null }>(db, sql`select count(*)::int as n, max(id)::float8 as last from tags`))[0]!;
  const projectTags = async (key: string, apiKey?: string) => {
    const answer = await api.gql<{ project: { tags: Tag[] } | null }>(`query ($key: String!) { project(key: $key) { ${TAGS} } }`, { key }, { key: apiKey });
    expect(answer.errors).toBeUndefined();
    return answer.data!.project?.tags ?? [];
  };
  const filtered = async (tags: string[], apiKey?: string) => {
    const answer = await api.gql<{ projects: { totalCount: number; nodes: { key: string }[] } }>(
      'query ($tags: [String!]) { projects(filter: { tags: $tags }, first: 500) { totalCount nodes { key } } }', { tags }, { key: apiKey });
    expect(answer.errors).toBeUndefined();
    return { count: answer.data!.projects.totalCount, keys: answer.data!.projects.nodes.map((n) => n.key).sort() };
  };
  const download = async (file: string, apiKey?: string) => parse(await (await fetch(`${api.url}/data/${file}`,
    { headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {} })).text(), { columns: true }) as Record<string, string>[];

  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    const [vanuatu] = await db.insert(organizations).values({ slug: 'vanuatu', name: 'Government of Vanuatu', country: 'VU' }).returning();
    vanuatuId = vanuatu!.id;
    vanuatuKey = (await createApiKey(db, { name: 'vanuatu', role: 'publisher', organizationId: vanuatuId })).key;
    for (const outcome of await ingestFiles(db, [...VERRA, ...GOLD_STANDARD], { check: false })) expect(outcome.failure).toBeUndefined();
    api = await startApi(t.handle);
  }, 180_000);
  afterAll(async () => {
    await api?.close();
    await t?.close();
  });

  it('when a registry export states CORSIA and CCP eligibility, then its projects carry those tags with the raw record that says so', async () => {
    expect(VERRA_CORSIA).toHaveLength(4);
    for (const key of VERRA_CORSIA) {
      const tags = await projectTags(key);
      const corsia = tags.find((tag) => tag.code === 'corsia:first-phase');
      expect(corsia).toMatchObject({ label: 'CORSIA eligible: first phase (2024–2026)', subject: 'BLOCK', source: { kind: 'RECORD', registry: 'verra', private: false } });
      // The source is a row of the VCU export, and that row says so.
      expect(corsia!.source.record).toMatchObject({ source: 'transactions.csv' });
      const line = Number(/\d+/.exec(corsia!.source.record!.locator!)![0]);
      expect(verraRows[line - 2]!['Additional Certifications']).toMatch(/CORSIA - First Phase/);
      expect(verraRows[line - 2]!.ID).toBe(key.slice('verra:'.length));
      // The same rows name Article 6 authorizations: the blocks carry them too.
      expect(tags.map((tag) => tag.code)).toContain('article6:authorized');
    }
    // Gold Standard's issuance export: the row is the issuance, and so is its label.
    const gs = await projectTags('gold-standard:GS10792');
    expect(gs.find((tag) => tag.code === 'ccp:approved')).toMatchObject({ subject: 'ISSUANCE', count: 2, source: { kind: 'RECORD', registry: 'gold-standard', record: { source: 'issuances.csv' } } });
    // Its retirement export: the rows are blocks.
    expect((await projectTags('gold-standard:GS12285')).find((tag) => tag.code === 'ccp:approved'))
      .toMatchObject({ subject: 'BLOCK', count: 6, source: { kind: 'RECORD', record: { source: 'retirements.csv' } } });
    // In Japanese, the government's word for the label.
    const ja = await api.gql<{ project: { tags: Tag[] } }>('{ project(key: "gold-standard:GS10792", locale: JA) { tags { code label } } }');
    expect(ja.data!.project.tags.find((tag) => tag.code === 'ccp:approved')!.label).toBe('CCP認証（CCP-Approved）');
  });

  it('when projects are filtered by tag, then exactly the projects the exports tag are listed', async () => {
    expect(await filtered(['corsia:first-phase'])).toEqual({ count: VERRA_CORSIA.length, keys: VERRA_CORSIA });
    expect(await filtered(['ccp:approved'])).toEqual({ count: CCP.length, keys: CCP });
    expect((await filtered(['ccp:approved', 'corsia:first-phase'])).count).toBe(CCP.filter((k) => VERRA_CORSIA.includes(k)).length);
    const typo = await api.gql('{ projects(filter: { tags: ["corsia-first-phase"] }) { totalCount } }');
    expect(typo.errors![0]!.message).toMatch(/tags: unknown "corsia-first-phase"; expected one of: corsia:pilot-phase, corsia:first-phase/);
  });

  it('when the same files are ingested again, then no tag is added or changed', async () => {
    const before = await tagCount();
    for (const outcome of await ingestFiles(db, [...VERRA, ...GOLD_STANDARD], { check: false })) expect(outcome.failure).toBeUndefined();
    expect(await tagCount()).toEqual(before);
  });

  it('when a government uploads its AEF privately, then the units it names are tagged authorized for that government alone', async () => {
    const held = (start: number, end: number): CanonicalInput => {
      const key = `GS1-1-VU-GS9999-12-2025-40001-${start}-${end}`;
      return {
        type: 'block', registry: 'gold-standard', registryProjectId: 'GS9999', blockKey: key,
        serial: { numberSpace: 'gold-standard:GS9999:2025:40001', start, end, raw: key }, quantity: end - start + 1, vintageYear: 2025, status: 'held', issuanceKey: '40001',
      };
    };
    await ingestRecords(db, 'gold-standard', [
      { type: 'project', registry: 'gold-standard', registryProjectId: 'GS9999', name: 'Efate Solar Mini-grids', country: 'Vanuatu', eligibility: [], coBenefits: [] },
      { type: 'issuance', registry: 'gold-standard', registryProjectId: 'GS9999', issuanceKey: '40001', vintageYear: 2025, issuedOn: '2025-02-01', quantity: 1000,
        serial: { numberSpace: 'gold-standard:GS9999:2025:40001', start: 1, end: 1000, raw: 'GS1-1-VU-GS9999-12-2025-40001-1-1000' } },
      held(1, 400), held(401, 800), held(801, 1000),
    ]);
    const summary = await ingestAef(db, [AEF], { ownerOrganizationId: vanuatuId, isPrivate: true });
    expect(summary.status).toBe('committed');

    const own = await projectTags('gold-standard:GS9999', vanuatuKey);
    const codes = (list: Tag[]) => [...new Set(list.map((tag) => tag.code))].sort();
    // Actions 1–400 and 401–800 are first transfers under VUT0001 in 2025, the year Vanuatu reports the
    // adjustment applied for CA0004; the holding 801–1000 is under VUT0001 too.
    expect(codes(own)).toEqual(['article6:authorized', 'article6:first-transferred', 'ca:applied']);
    // Each AEF row tags the block that holds its units and the issuance whose range does.
    expect(own.filter((tag) => tag.code === 'article6:authorized').map((tag) => [tag.subject, tag.source.kind]).sort()).toEqual([
      ['BLOCK', 'AEF_ACTION'], ['BLOCK', 'AEF_ACTION'], ['BLOCK', 'AEF_HOLDING'], ['ISSUANCE', 'AEF_ACTION'], ['ISSUANCE', 'AEF_ACTION'], ['ISSUANCE', 'AEF_HOLDING']]);
    expect(own.every((tag) => tag.source.private && tag.source.organization?.slug === 'vanuatu' && /^VUT · .*VUT0001$/.test(tag.source.text!))).toBe(true);
    expect(await projectTags('gold-standard:GS9999')).toEqual([]);

    expect(await filtered(['article6:authorized'], vanuatuKey)).toMatchObject({ keys: expect.arrayContaining(['gold-standard:GS9999']) });
    expect((await filtered(['article6:first-transferred'], vanuatuKey)).keys).toEqual(['gold-standard:GS9999']);
    expect(await filtered(['article6:first-transferred'])).toEqual({ count: 0, keys: [] });

    const block = await api.gql<{ lookup: { blocks: { serial: string; tags: { code: string }[] }[] } }>(
      '{ lookup(serial: "GS1-1-VU-GS9999-12-2025-40001-801-1000") { blocks { serial tags { code } } } }', {}, { key: vanuatuKey });
    expect(block.errors).toBeUndefined();
    expect(block.data!.lookup.blocks[0]!.tags.map((tag) => tag.code)).toEqual(['article6:authorized']);

    // Downloads: the owner's files carry the tags, the public files do not.
    const projectRow = (list: Record<string, string>[]) => list.find((r) => r.project_key === 'gold-standard:GS9999')!;
    expect(projectRow(await download('projects.csv', vanuatuKey)).tags).toBe('article6:authorized;article6:first-transferred;ca:applied');
    expect(projectRow(await download('projects.csv')).tags).toBe('');
    const issued = (list: Record<string, string>[]) => list.filter((r) => r.project_key === 'gold-standard:GS9999' && r.transaction_type === 'issuance')
      .map((r) => [r.serial, r.tags]).sort();
    expect(issued(await download('credits.csv', vanuatuKey))).toEqual([
      ['GS1-1-VU-GS9999-12-2025-40001-1-1000', 'article6:authorized;article6:first-transferred;ca:applied'],
    ]);
    expect(issued(await download('credits.csv'))).toEqual([['GS1-1-VU-GS9999-12-2025-40001-1-1000', '']]);
    // Verra's CORSIA blocks keep their tags in the public file: on their retirements and cancellations, and
    // on the issuances (the export's batches, a serial's first token) they came from.
    const verraCredits = (await download('credits.csv')).filter((r) => r.registry === 'verra' && (r.tags ?? '').split(';').includes('corsia:first-phase'));
    const corsiaRows = verraRows.filter((r) => /CORSIA - First Phase/.test(r['Additional Certifications']!));
    expect(verraCredits.filter((r) => r.transaction_type !== 'issuance').map((r) => r.serial).sort())
      .toEqual(corsiaRows.filter((r) => r['Retirement/Cancellation Date']).map((r) => r['Serial Number']).sort());
    expect(verraCredits.filter((r) => r.transaction_type === 'issuance')).toHaveLength(new Set(corsiaRows.map((r) => r['Serial Number']!.split('-')[0])).size);

    // The same upload again changes nothing.
    const before = await tagCount();
    await ingestAef(db, [AEF], { ownerOrganizationId: vanuatuId, isPrivate: true });
    expect(await tagCount()).toEqual(before);
  }, 120_000);

  it('when the AEF arrives before the registry\'s blocks, then the blocks are tagged as they land', async () => {
    const key = 'GS1-1-VU-GS9999-12-2025-40001-1001-1100';
    // A unit range beyond the first thousand, reported before the registry lists it (constructed, as above).
    const doc = JSON.parse(readFileSync(AEF, 'utf8')) as Record<string, Record<string, unknown>[]>;
    doc.aefT4Holdings!.push({ ...doc.aefT4Holdings![0]!, aefT4HoldingsItmoFirstId: 'VUT-CA0004-1001', aefT4HoldingsItmoLastId: 'VUT-CA0004-1100',
      aefT4HoldingsUnitFirstId: 'GS1-1-VU-GS9999-12-2025-40001-1001', aefT4HoldingsUnitLastId: 'GS1-1-VU-GS9999-12-2025-40001-1100', aefT4HoldingsQuantityTCo2: 100 });
    doc.aefT2Authorizations![0]!.aefT2AuthorizationsQuantity = 1100;
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const path = join(mkdtempSync(join(tmpdir(), 'tally-tags-')), 'vut-2025.json');
    writeFileSync(path, JSON.stringify(doc));
    await ingestAef(db, [path], { ownerOrganizationId: vanuatuId, isPrivate: true });
    await ingestRecords(db, 'gold-standard', [{
      type: 'block', registry: 'gold-standard', registryProjectId: 'GS9999', blockKey: key,
      serial: { numberSpace: 'gold-standard:GS9999:2025:40001', start: 1001, end: 1100, raw: key }, quantity: 100, vintageYear: 2025, status: 'held',
    }]);
    const block = await api.gql<{ lookup: { blocks: { tags: { code: string; source: { kind: string } }[] }[] } }>(
      `{ lookup(serial: "${key}") { blocks { tags { code source { kind } } } } }`, {}, { key: vanuatuKey });
    expect(block.data!.lookup.blocks[0]!.tags).toEqual([{ code: 'article6:authorized', source: { kind: 'AEF_HOLDING' } }]);
    const anonymous = await api.gql<{ lookup: { blocks: { tags: unknown[] }[] } }>(`{ lookup(serial: "${key}") { blocks { tags { code } } } }`);
    expect(anonymous.data!.lookup.blocks[0]!.tags).toEqual([]);
  }, 120_000);

  it('when an organization uploads CAD Trust labels privately, then the label and the units it covers carry them, for it alone', async () => {
    const uploaded = await api.upload(A64.map((f) => ({ name: f, content: readFileSync(fixture(`cad-trust/${f}`)) })), { key: vanuatuKey, private: true });
    expect(uploaded.data!.upload).toMatchObject({ accepted: true, errors: [] });
    const [project] = await rows<{ key: string }>(db, sql`select key from projects where registry_id = 'a64-mechanism' and owner_organization_id = ${vanuatuId}`);
    const own = await projectTags(project!.key, vanuatuKey);
    const loa = own.filter((tag) => tag.code === 'cadt-label:letter-of-authorization');
    expect(loa.map((tag) => tag.subject)).toEqual(expect.arrayContaining(['PROJECT', 'BLOCK']));
    expect(loa.every((tag) => tag.source.kind === 'LABEL' && tag.source.private && tag.source.text)).toBe(true);
    // The Letter of Authorization authorizes the units it covers, which carry a committed adjustment.
    expect(own.map((tag) => tag.code)).toEqual(expect.arrayContaining(['article6:authorized', 'ca:committed']));
    expect(await projectTags(project!.key)).toEqual([]);
  }, 120_000);
});
