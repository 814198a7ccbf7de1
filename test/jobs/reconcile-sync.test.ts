import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcile } from '../../jobs/reconcile.ts';
import { syncSource } from '../../jobs/sync.ts';
import { rows } from '../../schema/database.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startReplayServer, type RecordedRequest, type ReplayResponse, type ReplayServer } from '../helpers/replay-server.ts';

// An API's own total counts as stated figures: BioCarbon's paginators state `total` on every page
// (the real captured bodies in test/fixtures/api-captures, served as test/connectors/biocarbon-api.test.ts
// serves them); a sync keeps each stream's count, and the reconciliation sets it beside the records Tally holds.

type Paginator = { data: Record<string, unknown>[]; total: number };
const capture = <T>(name: string) => JSON.parse(readFileSync(new URL(`../fixtures/api-captures/${name}`, import.meta.url), 'utf8')) as T;
const captureFile = (name: string) => new URL(`../fixtures/api-captures/${name}`, import.meta.url);
const projectPages = [capture<Paginator>('biocarbon-projects-page1.json'), capture<Paginator>('biocarbon-projects-page2.json')];
const credits = capture<Paginator>('biocarbon-carbon-credits.json');
const retirementPages = [capture<Paginator>('biocarbon-retreats-page1.json'), capture<Paginator>('biocarbon-retreats-page2.json')];
const details = capture<Record<string, Record<string, unknown>>>('biocarbon-details.json');
const cancellations = capture<Record<string, unknown>>('biocarbon-cancellations.json');
const projectIds = projectPages.flatMap((p) => p.data).map((p) => String(p.id));
const KEY = 'SboCiHaHxtC2xRM92hpBjy1S2Y5La7IwjeB76z';

describe('reconciliation with an API\'s total counts', () => {
  let t: TestDatabase;
  let server: ReplayServer;
  const route = (path: string, served: (req: RecordedRequest) => ReplayResponse) => ({
    path: `/api/ghg/${path}`,
    responses: [(req: RecordedRequest) => (req.headers['x-api-key'] !== KEY ? { json: { status: 403, data: [] } } : served(req))],
  });
  const paged = (files: string[]) => (req: RecordedRequest): ReplayResponse => {
    const file = files[Number(req.query.page ?? '1') - 1];
    return file ? { file: captureFile(file) } : { status: 404, json: { message: 'Not Found' } };
  };
  const config = () => ({ baseUrl: `${server.url}/api`, perPage: 1000, minIntervalMs: 0, baseDelayMs: 1, retries: 2, timeoutMs: 5_000 });

  beforeAll(async () => {
    t = await openTestDatabase();
    server = await startReplayServer([
      route('projects', paged(['biocarbon-projects-page1.json', 'biocarbon-projects-page2.json'])),
      route('carbon-credits', paged(['biocarbon-carbon-credits.json'])),
      route('retreats', paged(['biocarbon-retreats-page1.json', 'biocarbon-retreats-page2.json'])),
      ...projectIds.map((id) => route(`projects/${id}`, () => ({ json: details[id] }))),
      ...projectIds.map((id) => route(`carbon-credits/project/${id}/cancellations`, () => ({ json: cancellations[id] }))),
    ]);
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  it('when BioCarbon is synced, then each paged stream\'s stated total is kept and matches the records Tally holds', async () => {
    await syncSource(t.handle.db, 'biocarbon', { config: config(), check: false });
    const [biocarbon] = await reconcile(t.handle.db, { registry: 'biocarbon' });
    const byStream = new Map(biocarbon!.lines.map((l) => [l.source, l]));
    // The totals as the captured pages state them, read here from the capture files.
    expect(byStream.get('projects')).toMatchObject({ measure: 'records', stated: projectPages[0]!.total, tally: projectPages[0]!.total, unexplained: 0 });
    expect(byStream.get('issuances')).toMatchObject({ measure: 'records', stated: credits.total, tally: credits.total, unexplained: 0 });
    expect(byStream.get('retirements')).toMatchObject({ measure: 'records', stated: retirementPages[0]!.total, tally: retirementPages[0]!.total, unexplained: 0 });
    expect(credits.total).toBe(144);
    expect(retirementPages[0]!.total).toBe(60);
    expect(biocarbon!.unexplained).toBe(0);
  });

  it('when the same pull runs again, then the stated figures and the reconciliation do not change', async () => {
    const before = await rows(t.handle.db, sql`select registry_id, scope_key, measure, source, quantity::text from stated_totals order by 1, 2, 3, 4`);
    const first = await reconcile(t.handle.db, { registry: 'biocarbon' });
    await syncSource(t.handle.db, 'biocarbon', { config: config(), check: false });
    expect(await rows(t.handle.db, sql`select registry_id, scope_key, measure, source, quantity::text from stated_totals order by 1, 2, 3, 4`)).toEqual(before);
    const again = await reconcile(t.handle.db, { registry: 'biocarbon' });
    expect(again.map((r) => r.lines.map(({ statedBatchId: _, ...l }) => l))).toEqual(first.map((r) => r.lines.map(({ statedBatchId: _, ...l }) => l)));
  });
});

// Puro's project pages state each project's `Issued credits` and `Retired credits` (the captured pages
// in test/fixtures/api-captures/puro-*.html, served as test/connectors/puro-api.test.ts serves them).
describe('reconciliation with Puro\'s project pages', () => {
  let t: TestDatabase;
  let server: ReplayServer;
  const capturePath = (name: string) => new URL(`../fixtures/api-captures/${name}`, import.meta.url);
  const capture = (name: string) => readFileSync(capturePath(name), 'utf8');
  /** The page's RSC payload strings joined, as the site pushes them. */
  const payload = (html: string) => html.split('self.__next_f.push([1,').slice(1).map((part) => JSON.parse(part.slice(0, part.indexOf('])</script>'))) as string).join('');
  const codes = (() => {
    const joined = payload(capture('puro-projects.html'));
    const row = joined.split('\n').find((line) => line.includes('{"data":['))!;
    return (JSON.parse(row.slice(row.indexOf('{"data":['), row.lastIndexOf(']'))) as { data: { code: unknown }[] }).data.map((p) => String(p.code));
  })();
  /** A project page's stated figure, read here with a plain search. */
  const statedOn = (code: string, label: string) => Number(payload(capture(`puro-detail-${code}.html`)).split(`"label":"${label}","value":`)[1]!.match(/^\d+/)![0]);

  beforeAll(async () => {
    t = await openTestDatabase();
    const route = (path: string, file: string) => ({ path, responses: [(): ReplayResponse => ({ file: capturePath(file) })] });
    server = await startReplayServer([
      route('/projects', 'puro-projects.html'), route('/issuances', 'puro-issuances.html'), route('/retirements', 'puro-retirements.html'),
      ...codes.map((code) => route(`/projects/${code}`, `puro-detail-${code}.html`)),
    ]);
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await t?.close();
  });

  it('when Puro is synced, then each project page\'s issued and retired credits are stated figures that the ledger matches', async () => {
    await syncSource(t.handle.db, 'puro', { config: { baseUrl: server.url, minIntervalMs: 0, baseDelayMs: 1, retries: 3, timeoutMs: 10_000 }, check: false });
    const [puro] = await reconcile(t.handle.db, { registry: 'puro' });
    expect(codes.length).toBe(6);
    const lines = puro!.projects.map((l) => [l.registryProjectId, l.measure, l.stated, l.tally, l.unexplained]);
    const expected = codes.flatMap((code) => [
      [code, 'issued', statedOn(code, 'Issued credits'), statedOn(code, 'Issued credits'), 0],
      [code, 'retired', statedOn(code, 'Retired credits'), statedOn(code, 'Retired credits'), 0],
    ]);
    expect(lines.sort()).toEqual(expected.sort());
    expect(puro!.unexplained).toBe(0);
  });
});
