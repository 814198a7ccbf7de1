import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isometric } from '../../connectors/isometric/index.ts';
import { HttpClient } from '../../connectors/runtime/http.ts';
import { BatchRejected } from '../../jobs/ingest.ts';
import { ingestFile } from '../../jobs/ingest-file.ts';
import { readSources } from '../../jobs/scheduler.ts';
import { sourceConfig, syncSource } from '../../jobs/sync.ts';
import { rows, type Database } from '../../schema/database.ts';
import { readCsv } from '../helpers/csv.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startReplayServer, type RecordedRequest, type ReplayResponse, type ReplayRoute, type ReplayServer } from '../helpers/replay-server.ts';

// Isometric's registry API (`/registry/v0`) against a local server. No response of the live API has
// been captured, so the server serves the real records of test/fixtures/registry-samples/isometric
// (CarbonPlan's flattening of API records) turned back into the API's nested node shape
// (`supplier.organisation.name` → {supplier: {organisation: {name}}}, Python-repr lists → arrays), paged
// Relay-style (`first`/`after`, `{nodes, page_info, total_count}`) as the API's OpenAPI description
// specifies. A retirement's credit batches are built from the same row's `project_id`, `sequestered_on`
// and quantity: the export carries no more of them (no batch id, no serial). The server also refuses
// calls without the client secret and bearer token, throttles once (429, Retry-After), fails once (503),
// and can answer a page with an HTML page at status 200 or report a total the nodes do not reach.

type Node = Record<string, unknown>;
const fixture = (name: string) => new URL(`../fixtures/registry-samples/isometric/${name}`, import.meta.url).pathname;
const csv = { projects: readCsv(fixture('projects.csv')), issuances: readCsv(fixture('issuances.csv')), retirements: readCsv(fixture('retirements.csv')) };

const NUMERIC = /(\.credits|\.credit_kgs|latitude|longitude)$/;
/** A flattened row back to the nested node: empty cells are null, an object whose fields are all empty is null. */
function unflatten(row: Record<string, string>): Node {
  const node: Node = {};
  for (const [key, value] of Object.entries(row).sort(([a], [b]) => a.length - b.length)) {
    const path = key.split('.');
    let at = node;
    for (const part of path.slice(0, -1)) {
      if (typeof at[part] !== 'object' || at[part] === null) at[part] = {};
      at = at[part] as Node;
    }
    const last = path.at(-1)!;
    if (typeof at[last] === 'object' && at[last] !== null) continue; // `location` and `location.*`: the fields win
    at[last] = value === '' ? null : NUMERIC.test(key) ? Number(value) : value;
  }
  const prune = (n: Node): Node | null => {
    for (const [k, v] of Object.entries(n)) if (typeof v === 'object' && v !== null && !Array.isArray(v)) n[k] = prune(v as Node);
    return Object.values(n).every((v) => v === null) ? null : n;
  };
  return prune(node) ?? {};
}
const purposesOf = (cell: string) => JSON.parse(cell.replace(/'/g, '"')) as string[];

const projectNodes = csv.projects.map(unflatten);
const issuanceNodes = csv.issuances.map(unflatten);
const retirementNodes = csv.retirements.map((r) => {
  const { retirement_id: id, project_id: _project, sequestered_on: _sequestered, purposes, ...rest } = r;
  return { id, ...unflatten(rest), purposes: purposesOf(purposes!) } as Node;
});
const batchesOf = new Map(csv.retirements.map((r) => [r.retirement_id!, [{
  project_id: r.project_id, sequestered_on: r.sequestered_on,
  size: { credits: Number(r['credit_batch_size_total.credits']), credit_kgs: Number(r['credit_batch_size_total.credit_kgs']) },
}]]));

const SECRET = 'test-client-secret';
const TOKEN = 'test-access-token';
const cursorOf = (index: number) => Buffer.from(`cursor:${index}`).toString('base64');
const indexOf = (cursor: string) => Number(Buffer.from(cursor, 'base64').toString().split(':')[1]);

type Mode = 'clean' | 'html' | 'short';
let mode: Mode = 'clean';

/** The registry's answer to a list request: a Relay page of `list`, or its refusals. */
function relayPage(list: Node[], request: RecordedRequest, name: string): ReplayResponse {
  if (request.headers['x-client-secret'] !== SECRET || request.headers.authorization !== `Bearer ${TOKEN}`) {
    return { status: 401, json: { detail: 'Not authenticated' } };
  }
  const first = Number(request.query.first ?? 10);
  if (!Number.isInteger(first) || first < 1 || first > 50) return { status: 422, json: { detail: [{ loc: ['query', 'first'], msg: 'Input should be less than or equal to 50' }] } };
  const start = request.query.after ? indexOf(request.query.after) + 1 : 0;
  if (mode === 'html' && name === 'retirements' && start > 0) {
    return { status: 200, headers: { 'content-type': 'text/html' }, body: '<!DOCTYPE html><html><head><title>Isometric Registry | Down for maintenance</title></head><body>Back soon</body></html>' };
  }
  const nodes = list.slice(start, start + first);
  const end = start + nodes.length - 1;
  return {
    json: {
      page_info: { has_previous_page: start > 0, start_cursor: nodes.length ? cursorOf(start) : null, has_next_page: end < list.length - 1, end_cursor: nodes.length ? cursorOf(end) : null },
      nodes,
      // `short`: the registry counts one more than it serves.
      total_count: list.length + (mode === 'short' && name === 'issuances' ? 1 : 0),
    },
  };
}

const tonnes = (kgTotal: bigint) => `${kgTotal / 1000n}.${String(kgTotal % 1000n).padStart(3, '0')}`;
const sumKg = (list: Record<string, string>[]) => list.reduce((s, r) => s + BigInt(r['credit_batch_size_total.credit_kgs']!), 0n);

async function ledger(db: Database) {
  const [t] = await rows<Record<string, unknown>>(db, sql`select
    (select count(*)::int from projects where registry_id = 'isometric') as projects,
    (select count(*)::int from issuances where registry_id = 'isometric') as issuances,
    (select coalesce(sum(quantity), 0)::text from issuances where registry_id = 'isometric') as issued,
    (select coalesce(sum(buffer_quantity), 0)::text from issuances where registry_id = 'isometric') as buffer,
    (select count(*)::int from unit_blocks where registry_id = 'isometric' and status = 'retired') as retirements,
    (select coalesce(sum(quantity), 0)::text from unit_blocks where registry_id = 'isometric' and status = 'retired') as retired,
    (select count(*)::int from events where registry_id = 'isometric') as events`);
  return t!;
}

describe('Isometric API mode', () => {
  let t: TestDatabase;
  let db: Database;
  let server: ReplayServer;
  const config = (url: string, extra: Record<string, unknown> = {}) => ({
    baseUrl: `${url}/registry/v0`, clientSecret: SECRET, accessToken: TOKEN, pageSize: 20, minIntervalMs: 0, baseDelayMs: 1, retries: 2, timeoutMs: 5_000, ...extra,
  });

  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    const routes: ReplayRoute[] = [
      // Throttled once at the start: the client must wait what Retry-After says.
      { path: '/registry/v0/projects', responses: [{ status: 429, headers: { 'retry-after': '1' }, json: { detail: 'Too many requests' } }, (req) => relayPage(projectNodes, req, 'projects')] },
      // The second page of issuances fails once with a 503, then answers.
      {
        path: '/registry/v0/issuances', match: (req) => req.query.after === cursorOf(19),
        responses: [{ status: 503, body: 'upstream unavailable' }, (req) => relayPage(issuanceNodes, req, 'issuances')],
      },
      { path: '/registry/v0/issuances', responses: [(req) => relayPage(issuanceNodes, req, 'issuances')] },
      { path: '/registry/v0/retirements', responses: [(req) => relayPage(retirementNodes, req, 'retirements')] },
      ...[...batchesOf].map(([id, batches]): ReplayRoute => ({
        path: `/registry/v0/retirements/${id}/credit_batches`,
        responses: [(req) => (req.headers['x-client-secret'] === SECRET ? { json: { nodes: batches, total_count: batches.length } } : { status: 401, json: { detail: 'Not authenticated' } })],
      })),
    ];
    server = await startReplayServer(routes);
  });
  afterAll(async () => {
    await server.close();
    await t.close();
  });

  it('when the registry throttles once and fails once, then the pull waits, retries, pages by cursor and stores exactly what total_count announced', async () => {
    const summary = await syncSource(db, 'isometric', { config: config(server.url) });
    expect(summary).toMatchObject({ status: 'committed', rowsRejected: 0, errors: [], rowsRead: projectNodes.length + issuanceNodes.length + retirementNodes.length });

    expect(await ledger(db)).toEqual({
      projects: csv.projects.length,
      issuances: csv.issuances.length,
      issued: tonnes(sumKg(csv.issuances)),
      buffer: tonnes(csv.issuances.reduce((s, r) => s + BigInt(r['buffer_pool_credit_batch_size_total.credit_kgs']!), 0n)),
      retirements: csv.retirements.length,
      retired: tonnes(sumKg(csv.retirements)),
      events: csv.issuances.length + csv.retirements.length,
    });

    const lists = server.requests.filter((r) => /^\/registry\/v0\/(projects|issuances|retirements)$/.test(r.path));
    // Credentials on every call; Relay paging: `first` at the page size, `after` the previous page's end cursor.
    expect(server.requests.every((r) => r.headers['x-client-secret'] === SECRET && r.headers.authorization === `Bearer ${TOKEN}`)).toBe(true);
    expect(new Set(lists.map((r) => r.query.first))).toEqual(new Set(['20']));
    const projectPages = lists.filter((r) => r.path.endsWith('/projects'));
    expect(projectPages.map((r) => r.query.after ?? null)).toEqual([null, null, cursorOf(19), cursorOf(39)]);
    expect(projectPages[1]!.at - projectPages[0]!.at).toBeGreaterThanOrEqual(900);
    expect(lists.filter((r) => r.path.endsWith('/issuances') && r.query.after === cursorOf(19))).toHaveLength(2);
    expect(server.requests.filter((r) => r.path.endsWith('/credit_batches'))).toHaveLength(retirementNodes.length);

    // A retirement's project comes from its credit batches.
    const sample = csv.retirements[10]!;
    const [block] = await rows<Record<string, unknown>>(db, sql`select p.registry_project_id as project, b.vintage_year, b.retirement_reason
      from unit_blocks b join projects p on p.id = b.project_id where b.registry_id = 'isometric' and b.block_key = ${sample.retirement_id}`);
    expect(block).toEqual({ project: sample.project_id, vintage_year: Number(sample.sequestered_on!.slice(0, 4)), retirement_reason: purposesOf(sample.purposes!).join(', ') || null });
  });

  it('when the API is pulled again or its records arrive as the flattened export, then nothing changes: both modes give the same keys', async () => {
    const before = await ledger(db);
    const again = await syncSource(db, 'isometric', { config: config(server.url) });
    expect(again).toMatchObject({ status: 'committed', rawRecords: { new: 0 }, events: { new: 0 } });
    for (const name of ['projects.csv', 'issuances.csv', 'retirements.csv']) {
      const summary = await ingestFile(db, fixture(name));
      expect(summary.projects.new + summary.issuances.new + summary.blocks.new + summary.events.new, name).toBe(0);
      expect(summary.issuances.changed + summary.blocks.changed, name).toBe(0);
    }
    expect(await ledger(db)).toEqual(before);
  });

  it('when a page comes back as an HTML page with status 200, then the pull stops without retrying it and nothing is stored', async () => {
    const before = await ledger(db);
    mode = 'html';
    const error = await syncSource(db, 'isometric', { config: config(server.url) }).catch((e: unknown) => e);
    mode = 'clean';
    expect(error).toBeInstanceOf(BatchRejected);
    expect((error as BatchRejected).summary.failure).toMatch(/expected JSON from .*\/retirements\?first=20&after=.* but got an HTML page \(HTTP 200, title "Isometric Registry \| Down for maintenance"\)/);
    expect(await ledger(db)).toEqual(before);
  });

  it('when total_count announces more issuances than the pages hold, then the pull does not reconcile and nothing is stored', async () => {
    const before = await ledger(db);
    mode = 'short';
    const error = await syncSource(db, 'isometric', { config: config(server.url) }).catch((e: unknown) => e);
    mode = 'clean';
    expect(error).toBeInstanceOf(BatchRejected);
    expect((error as BatchRejected).summary.failure).toBe(`isometric issuances: received ${issuanceNodes.length} records but the registry reports ${issuanceNodes.length + 1} (total_count); the pull is incomplete and nothing was stored`);
    expect(await ledger(db)).toEqual(before);
  });

  it('when the credentials are missing or wrong, then the pull is refused with the reason and the check says what the registry holds when they are right', async () => {
    await expect(syncSource(db, 'isometric', { config: { baseUrl: `${server.url}/registry/v0` } })).rejects.toThrow(/needs credentials: set clientSecret .* and accessToken/);
    const wrong = await syncSource(db, 'isometric', { config: config(server.url, { accessToken: 'expired' }) }).catch((e: unknown) => e);
    expect((wrong as BatchRejected).summary.failure).toMatch(/returned HTTP 401 \("\{\\"detail\\":\\"Not authenticated\\"\}"\); not retried: the registry wants credentials/);
    const settings = sourceConfig(isometric as Parameters<typeof sourceConfig>[0], config(server.url));
    const http = new HttpClient(isometric.api!.http(settings));
    try {
      expect(await isometric.api!.check(http, settings)).toBe(`isometric: ${projectNodes.length} projects on the Isometric registry`);
    } finally {
      await http.close();
    }
  });

  it('when the scheduler reads a sources file, then Isometric is accepted with its credentials and refused with half of them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tally-isometric-sources-'));
    try {
      const path = join(dir, 'sources.json');
      writeFileSync(path, JSON.stringify({ isometric: { schedule: '0 5 * * *', config: { clientSecret: SECRET, accessToken: TOKEN } } }));
      expect(readSources(path)).toEqual([{ registry: 'isometric', schedule: '0 5 * * *', config: { clientSecret: SECRET, accessToken: TOKEN } }]);
      writeFileSync(path, JSON.stringify({ isometric: { schedule: '0 5 * * *', config: { clientSecret: SECRET } } }));
      expect(() => readSources(path)).toThrow(/isometric configuration is invalid: .*give both clientSecret and accessToken/);
      writeFileSync(path, JSON.stringify({ isometric: { schedule: '0 5 * * *', config: { pageSize: 100, clientSecret: SECRET, accessToken: TOKEN } } }));
      expect(() => readSources(path)).toThrow(/isometric configuration is invalid: pageSize/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
