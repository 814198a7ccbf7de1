import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../api/auth.ts';
import { UNIT_DOCUMENT } from '../../api/units.ts';
import { ingestCadtV2 } from '../../jobs/cadt-upload.ts';
import { ingestFile } from '../../jobs/ingest-file.ts';
import { organizations } from '../../schema/db/index.ts';
import { startApi } from '../helpers/api.ts';
import { readCsv } from '../helpers/csv.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';

// GET /v1/units/{serial} (README, "GraphQL API"): the GraphQL `lookup` over plain HTTP, the same JSON,
// with an ETag from the ledger's version so that an unchanged answer is not sent twice. Files: the real
// Verra VCU rows of test/fixtures/registry-samples/verra, the real CAD Trust v2 A6.4 records of
// test/fixtures/cad-trust (an organization's private upload).

const fixture = (path: string) => new URL(`../fixtures/${path}`, import.meta.url).pathname;
const A64 = ['a64-pacm-10471.json', 'a64-pacm-10471-units.json', 'a64-pacm-10471-unit-labels.json'].map((f) => fixture(`cad-trust/${f}`));

describe('GET /v1/units/{serial}', () => {
  let t: TestDatabase;
  let api: Awaited<ReturnType<typeof startApi>>;
  let owner: string;
  const vcus = readCsv(fixture('registry-samples/verra/transactions.csv'));
  const serial = vcus[0]!['Serial Number']!;
  const get = (path: string, headers: Record<string, string> = {}) => fetch(`${api.url}/v1/units/${encodeURIComponent(path)}`, { headers });

  beforeAll(async () => {
    t = await openTestDatabase();
    const db = t.handle.db;
    for (const f of ['projects.csv', 'transactions.csv']) await ingestFile(db, fixture(`registry-samples/verra/${f}`));
    const [org] = await db.insert(organizations).values({ slug: 'myanmar', name: 'Myanmar' }).returning();
    owner = (await createApiKey(db, { name: 'o', role: 'reader', organizationId: org!.id })).key;
    await ingestCadtV2(db, A64, { ownerOrganizationId: org!.id, isPrivate: true });
    api = await startApi(t.handle);
  }, 120_000);
  afterAll(async () => {
    await api?.close();
    await t?.close();
  });

  it('when a serial is asked for, then the answer is the GraphQL lookup\'s own JSON, in the caller\'s language', async () => {
    const response = await get(serial);
    expect(response.status).toBe(200);
    const body = await response.json();
    const graphql = await api.gql(UNIT_DOCUMENT, { serial });
    expect(body).toEqual(graphql.data!.lookup);
    expect(body.blocks).toHaveLength(1);
    expect(body.blocks[0]).toMatchObject({ serial, quantity: Number(vcus[0]!['Quantity Issued']!.replace(/,/g, '')) });
    const ja = await (await get(serial, { 'accept-language': 'ja' })).json();
    const jaGraphql = await api.gql(UNIT_DOCUMENT, { serial }, { headers: { 'accept-language': 'ja' } });
    expect(ja).toEqual(jaGraphql.data!.lookup);
    expect(ja.blocks[0].status.label).not.toBe(body.blocks[0].status.label);
  });

  it('when a unit\'s registry states its eligibility or authorization, then the answer lists the tags with the line that says so', async () => {
    // Lines 115 and 12 of the VCU export: "CORSIA – Pilot Phase, 2021-2023 Eligible" and "Article 6 Authorized – …".
    for (const [line, code] of [[115, 'corsia:pilot-phase'], [12, 'article6:authorized']] as const) {
      const row = vcus[line - 2]!;
      const body = await (await get(row['Serial Number']!)).json();
      expect(body.blocks).toHaveLength(1);
      expect(body.blocks[0].tags).toEqual(expect.arrayContaining([
        expect.objectContaining({ code, source: expect.objectContaining({ kind: 'RECORD', registry: 'verra', private: false, record: expect.objectContaining({ locator: `line ${line}` }) }) }),
      ]));
    }
    // A unit the export states nothing for has none.
    const plain = vcus.findIndex((r) => !r['Additional Certifications']);
    expect((await (await get(vcus[plain]!['Serial Number']!)).json()).blocks[0].tags).toEqual([]);
  });

  it('when the ETag is sent back, then the answer is 304 without a body until a batch commits', async () => {
    const first = await get(serial);
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^W\/"/);
    expect(first.headers.get('last-modified')).toBeTruthy();
    const again = await get(serial, { 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    // Another language is another answer.
    expect((await get(serial, { 'if-none-match': etag, 'accept-language': 'ja' })).status).toBe(200);
    await ingestFile(t.handle.db, fixture('registry-samples/art-trees/projects.csv'));
    const changed = await get(serial, { 'if-none-match': etag });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
  }, 60_000);

  it('when a unit is private, then it is not there for anyone but its organization, whose ETag is its own', async () => {
    const unit = 'A64-MM-10471-2022-1-6000';
    const anonymous = await get(unit, {});
    const mine = await get(unit, { authorization: `Bearer ${owner}` });
    expect(anonymous.status).toBe(200);
    expect((await anonymous.json()).blocks).toEqual([]);
    expect((await mine.json()).blocks.length).toBeGreaterThan(0);
    expect(mine.headers.get('etag')).not.toBe(anonymous.headers.get('etag'));
  });

  it('when the serial is too long, then it is refused as GraphQL refuses it', async () => {
    const response = await get('9'.repeat(201));
    expect(response.status).toBe(400);
    expect((await response.json()).errors[0]).toMatchObject({ message: expect.stringMatching(/^serial: at most 200 characters/), extensions: { code: 'BAD_USER_INPUT' } });
  });
});
