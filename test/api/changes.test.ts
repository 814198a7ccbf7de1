import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../api/auth.ts';
import { ingestFile } from '../../jobs/ingest-file.ts';
import { organizations } from '../../schema/db/index.ts';
import { startApi, type GqlResponse } from '../helpers/api.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';

// The changes feed over the real SocialCarbon API responses (saved as files): projects and issuances
// first, then the retirements and cancellations. Counts are computed here from the captured files.

const sample = (name: string) => new URL(`../fixtures/registry-samples/socialcarbon/${name}`, import.meta.url).pathname;
const results = (name: string) => (JSON.parse(readFileSync(sample(name), 'utf8')) as { response: { results: Record<string, unknown>[] } }).response.results;

type Change = { at: string; subject: string; type: string; id: string; key: string; registry: string | null; batchId: string | null; finding: { kind: { code: string } } | null };
const QUERY = `query($since: DateTime!, $registries: [String!], $first: Int, $after: String) {
  changes(since: $since, registries: $registries, first: $first, after: $after) {
    nodes { at subject type id key registry batchId finding { kind { code } } }
    pageInfo { hasNextPage endCursor }
  } }`;

const count = (changes: Change[], subject: string, type: string) => changes.filter((c) => c.subject === subject && c.type === type).length;

describe('changes since an instant', () => {
  let t: TestDatabase;
  let api: Awaited<ReturnType<typeof startApi>>;
  let key: string;
  let organizationId: number;
  const instants: string[] = [];

  async function changes(since: string, options: { key?: string; first?: number; registries?: string[] } = {}): Promise<Change[]> {
    const all: Change[] = [];
    for (let after: string | null = null; ;) {
      const answer: GqlResponse<{ changes: { nodes: Change[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }> = await api.gql<{ changes: { nodes: Change[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } }>(QUERY,
        { since, registries: options.registries ?? null, first: options.first ?? 500, after }, { key: options.key });
      expect(answer.errors).toBeUndefined();
      all.push(...answer.data!.changes.nodes);
      if (!answer.data!.changes.pageInfo.hasNextPage) return all;
      after = answer.data!.changes.pageInfo.endCursor;
    }
  }

  const mark = async () => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    instants.push(new Date().toISOString());
    await new Promise((resolve) => setTimeout(resolve, 5));
  };

  beforeAll(async () => {
    t = await openTestDatabase();
    const [organization] = await t.handle.db.insert(organizations).values({ slug: 'verifier', name: 'Verifier' }).returning();
    organizationId = organization!.id;
    key = (await createApiKey(t.handle.db, { name: 'verifier', role: 'reader', organizationId })).key;
    api = await startApi(t.handle);
    await mark();
    for (const name of ['projects.json', 'issuances.json']) expect(await ingestFile(t.handle.db, sample(name))).toMatchObject({ status: 'committed' });
    await mark();
    for (const name of ['retirements-page1.json', 'retirements-page2.json', 'cancellations.json']) {
      expect(await ingestFile(t.handle.db, sample(name))).toMatchObject({ status: 'committed' });
    }
    await mark();
    expect(await ingestFile(t.handle.db, sample('cancellations.json'), { ownerOrganizationId: organizationId, isPrivate: true })).toMatchObject({ status: 'committed' });
  }, 180_000);
  afterAll(async () => {
    await api?.close();
    await t?.close();
  });

  it('when asked since before the first pull, then every project and issuance is new, once, oldest first', async () => {
    const feed = await changes(instants[0]!);
    expect(count(feed, 'PROJECT', 'NEW')).toBe(new Set(results('projects.json').map((p) => p._id)).size);
    expect(count(feed, 'ISSUANCE', 'NEW')).toBe(results('issuances.json').length);
    expect(feed.map((c) => c.at)).toEqual([...feed.map((c) => c.at)].sort());
    expect(new Set(feed.map((c) => `${c.subject}:${c.id}`)).size).toBe(feed.filter((c) => c.subject !== 'FINDING').length + new Set(feed.filter((c) => c.subject === 'FINDING').map((c) => `${c.id}:${c.type}:${c.at}`)).size);
    expect(feed.every((c) => c.subject === 'FINDING' || c.registry === 'socialcarbon')).toBe(true);
  });

  it('when asked since the projects were pulled, then the retirements and cancellations are new blocks and the double retirement is an opened finding', async () => {
    const feed = await changes(instants[1]!);
    expect(count(feed, 'PROJECT', 'NEW')).toBe(0);
    const used = [...results('retirements-page1.json'), ...results('retirements-page2.json'), ...results('cancellations.json')];
    expect(count(feed, 'UNIT_BLOCK', 'NEW')).toBe(used.length);
    const opened = feed.filter((c) => c.subject === 'FINDING' && c.type === 'OPENED');
    expect(opened.map((c) => c.finding!.kind.code)).toContain('retired-twice');
    // Paged seven at a time, the same feed.
    expect(await changes(instants[1]!, { first: 7 })).toEqual(feed);
    expect(await changes(instants[1]!, { registries: ['verra'] })).toEqual([]);
  });

  it('when an organization uploads privately, then its changes are in its feed only', async () => {
    expect(await changes(instants[2]!)).toEqual([]);
    const mine = await changes(instants[2]!, { key });
    // An organization's upload of a registry Tally reads itself is its report of those units: mirror records.
    expect(count(mine, 'MIRROR_RECORD', 'NEW')).toBe(results('cancellations.json').length);
    expect(mine.every((c) => c.subject === 'MIRROR_RECORD' || c.subject === 'FINDING')).toBe(true);
  });

  it('when since is not an instant, then the caller is told', async () => {
    const answer = await api.gql(QUERY, { since: 'yesterday' });
    expect(answer.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const cursor = await api.gql(QUERY, { since: instants[0], after: 'bm90IGEgY3Vyc29y' });
    expect(cursor.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});
