import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { CHROME_USER_AGENT, HttpClient, HttpError, parseRetryAfter, type HttpClientOptions } from '../../connectors/runtime/http.ts';
import { pageByCursor, pageByOffset, reconcile, ReconciliationError } from '../../connectors/runtime/paging.ts';
import { startReplayServer, type RecordedRequest, type ReplayRoute, type ReplayServer } from '../helpers/replay-server.ts';

// The HTTP client and the paging helpers against a real loopback server that replays captured
// registry responses (test/fixtures/api-captures, see its README). Delays are scaled down: backoff
// base 10 ms, timeouts of a few hundred ms; only the Retry-After case waits a real second.

const fixture = (name: string) => new URL(`../fixtures/api-captures/${name}`, import.meta.url);
const readJson = <T>(name: string): T => JSON.parse(readFileSync(fixture(name), 'utf8')) as T;

type GsProject = { id: string; sustaincert_id: number; name: string };
type PlattsPage<T> = { entities: T[]; totalEntities: number; start: number; limit: number };
type PlattsEntity = { id: string; entityId: number };
type BubblePage<T> = { response: { cursor: number; results: T[]; count: number; remaining: number } };

let server: ReplayServer | undefined;
let client: HttpClient | undefined;

afterEach(async () => {
  await client?.close();
  await server?.close();
  client = undefined;
  server = undefined;
});

async function setUp(routes: ReplayRoute[], options: Partial<HttpClientOptions> = {}): Promise<{ server: ReplayServer; client: HttpClient }> {
  server = await startReplayServer(routes);
  client = new HttpClient({ source: 'gold-standard', baseUrl: server.url, baseDelayMs: 10, maxDelayMs: 50, retries: 3, timeoutMs: 2_000, ...options });
  return { server, client };
}

async function rejection(promise: Promise<unknown>): Promise<HttpError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof HttpError) return error;
    throw error;
  }
  throw new Error('expected the request to fail, and it succeeded');
}

async function drain<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

const gaps = (requests: RecordedRequest[]) => requests.slice(1).map((r, i) => r.at - requests[i]!.at);

describe('paging and reconciliation', () => {
  it('when Gold Standard serves its projects over three pages with X-Total-Count, then all arrive and the count reconciles', async () => {
    const projects = readJson<GsProject[]>('gs-projects.json');
    const limit = 2;
    const routes: ReplayRoute[] = [1, 2, 3].map((page) => ({
      path: '/projects',
      match: (req) => req.query.page === String(page),
      responses: { json: projects.slice((page - 1) * limit, page * limit), headers: { 'X-Total-Count': String(projects.length) } },
    }));
    const { server, client } = await setUp(routes, { browserUserAgent: true });

    const stream = pageByOffset(async (offset, size) => {
      const { body, headers } = await client.getJson<GsProject[]>('/projects', { query: { page: offset / size + 1, size } });
      return { items: body, total: Number(headers['x-total-count']) };
    }, { limit });
    const received = await drain(stream);

    expect(received.map((p) => p.sustaincert_id)).toEqual([23718, 23711, 23706, 23695, 23690]);
    expect(stream.reported()).toBe(5);
    expect(() => reconcile('gold-standard', 'projects', stream.received(), stream.reported(), 'X-Total-Count')).not.toThrow();
    // The third page is short (1 of 2), so no fourth request is made.
    expect(server.requests.map((r) => r.query)).toEqual([{ page: '1', size: '2' }, { page: '2', size: '2' }, { page: '3', size: '2' }]);
  });

  it('when the Platts total is reached on a full page, then no empty page is asked for', async () => {
    const capture = readJson<PlattsPage<PlattsEntity>>('planvivo-projects.json');
    const { server, client } = await setUp([
      {
        method: 'POST',
        path: '/project/publicReportPageSearch',
        responses: [0, 1, 2].map((start) => ({ json: { ...capture, entities: capture.entities.slice(start, start + 1), start, limit: 1 } })),
      },
    ], { source: 'planvivo' });

    const stream = pageByOffset(async (start, limit) => {
      const searchFilter = { pagination: { start, limit, sortOptions: [{ sort: 'entityId', dir: 'ASC' }] }, filterModel: {} };
      const { body } = await client.postJson<PlattsPage<PlattsEntity>>('/project/publicReportPageSearch', { searchFilter });
      return { items: body.entities, total: body.totalEntities };
    }, { limit: 1 });
    const received = await drain(stream);

    expect(received.map((e) => e.entityId)).toEqual(capture.entities.map((e) => e.entityId));
    expect(server.requests).toHaveLength(capture.totalEntities);
    expect(server.requests.map((r) => (r.body as { searchFilter: { pagination: { start: number } } }).searchFilter.pagination.start)).toEqual([0, 1]);
    reconcile('planvivo', 'projects', stream.received(), stream.reported(), 'totalEntities');
  });

  it('when the registry reports more records than it serves, then reconcile refuses the pull with both numbers', async () => {
    // A real trimmed capture: 7 entities in a response that says totalEntities 27.
    const { client } = await setUp([{ method: 'POST', path: '/issuances/publicReportPageSearch', responses: { file: fixture('planvivo-issuances.json') } }], { source: 'planvivo' });

    const stream = pageByOffset(async (start, limit) => {
      const { body } = await client.postJson<PlattsPage<PlattsEntity>>('/issuances/publicReportPageSearch', { searchFilter: { pagination: { start, limit }, filterModel: {} } });
      return { items: body.entities, total: body.totalEntities };
    }, { limit: 400 });
    await drain(stream);

    const attempt = () => reconcile('planvivo', 'issuances', stream.received(), stream.reported(), 'totalEntities');
    expect(attempt).toThrow(ReconciliationError);
    expect(attempt).toThrow('planvivo issuances: received 7 records but the registry reports 27 (totalEntities); the pull is incomplete and nothing was stored');
  });

  it('reconcile formats large counts, carries the code, and is a no-op without a reported total', () => {
    let error: unknown;
    try {
      reconcile('verra', 'issuances', 1234, 1300, 'totalEntities');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ReconciliationError);
    expect(error).toMatchObject({ code: 'count-mismatch', received: 1234, reported: 1300, field: 'totalEntities' });
    expect((error as Error).message).toBe('verra issuances: received 1,234 records but the registry reports 1,300 (totalEntities); the pull is incomplete and nothing was stored');
    expect(() => reconcile('puro', 'retirements', 12, undefined, 'none')).not.toThrow();
  });

  it('when SocialCarbon pages by cursor, then both captured pages arrive and count + remaining reconciles', async () => {
    const page1 = readJson<BubblePage<unknown>>('socialcarbon-retirements-page1.json');
    const page2 = readJson<BubblePage<unknown>>('socialcarbon-retirements-page2.json');
    const { client } = await setUp([
      { path: '/obj/retirement', match: (r) => r.query.cursor === '0', responses: { file: fixture('socialcarbon-retirements-page1.json') } },
      { path: '/obj/retirement', match: (r) => r.query.cursor === '50', responses: { file: fixture('socialcarbon-retirements-page2.json') } },
    ], { source: 'socialcarbon' });

    const stream = pageByCursor(async (cursor) => {
      const { body } = await client.getJson<BubblePage<unknown>>('/obj/retirement', { query: { cursor: cursor ?? '0' } });
      const { results, cursor: at, count, remaining } = body.response;
      // Bubble: the total is count + remaining of the first page; the next cursor is where this page ends.
      return { items: results, total: count + remaining, next: remaining > 0 ? String(at + count) : null };
    });
    const received = await drain(stream);

    expect(received).toHaveLength(page1.response.results.length + page2.response.results.length);
    expect(stream.reported()).toBe(81);
    reconcile('socialcarbon', 'retirements', stream.received(), stream.reported(), 'count + remaining');
  });
});

describe('retries', () => {
  it('when a 429 carries Retry-After: 1, then the client waits about a second and succeeds', async () => {
    const { server, client } = await setUp([
      { path: '/credits', responses: [{ status: 429, headers: { 'Retry-After': '1' }, json: { message: 'Too Many Requests' } }, { file: fixture('gs-credits.json') }] },
    ]);
    const { body } = await client.getJson<unknown[]>('/credits', { query: { page: 1, size: 25 } });

    expect(body).toHaveLength(readJson<unknown[]>('gs-credits.json').length);
    expect(server.requests).toHaveLength(2);
    const [gap] = gaps(server.requests);
    expect(gap).toBeGreaterThanOrEqual(950); // the backoff alone would be ≤ 10 ms
    expect(gap).toBeLessThan(1_500);
    expect(client.stats).toEqual({ requests: 2, retries: 1 });
  });

  it('when a 429 carries the bogus Retry-After: 0, then the client backs off instead of hammering', async () => {
    const { server, client } = await setUp(
      [{ path: '/credits', responses: [{ status: 429, headers: { 'Retry-After': '0' } }, { file: fixture('gs-credits.json') }] }],
      { baseDelayMs: 100, maxDelayMs: 1_000 },
    );
    await client.getJson('/credits');

    const [gap] = gaps(server.requests);
    expect(gap).toBeGreaterThanOrEqual(45); // equal jitter: between half and all of the 100 ms step
    expect(gap).toBeLessThan(900);
  });

  it('when the registry answers 500 once, then the second attempt succeeds', async () => {
    const { server, client } = await setUp([{ path: '/projects', responses: [{ status: 500, body: 'Internal Server Error' }, { file: fixture('gs-projects.json') }] }]);
    const { body, status } = await client.getJson<GsProject[]>('/projects');

    expect(status).toBe(200);
    expect(body).toHaveLength(5);
    expect(server.requests).toHaveLength(2);
  });

  it('when the connection is reset once, then the second attempt succeeds', async () => {
    const { server, client } = await setUp([{ path: '/projects', responses: [{ resetConnection: true }, { file: fixture('gs-projects.json') }] }]);
    const { body } = await client.getJson<GsProject[]>('/projects');

    expect(body).toHaveLength(5);
    expect(server.requests).toHaveLength(2);
  });

  it('when a body ends before its Content-Length, then it is retried, not parsed', async () => {
    const { server, client } = await setUp([
      { path: '/credits', responses: [{ file: fixture('gs-credits.json'), truncateAfterBytes: 4_000, declareFullLength: true }, { file: fixture('gs-credits.json') }] },
    ]);
    const { body } = await client.getJson<unknown[]>('/credits');

    expect(body).toHaveLength(8);
    expect(server.requests).toHaveLength(2);
  });

  it('when the JSON is cut off every time, then it fails with malformed-json after the configured retries', async () => {
    const { server, client } = await setUp([{ path: '/credits', responses: { file: fixture('gs-credits.json'), truncateAfterBytes: 4_000 } }], { retries: 2 });
    const error = await rejection(client.getJson('/credits'));

    expect(error.code).toBe('malformed-json');
    expect(error.attempts).toBe(3);
    expect(server.requests).toHaveLength(3);
    expect(error.message).toMatch(/^gold-standard: GET http:\/\/127\.0\.0\.1:\d+\/credits returned JSON that does not parse \(4,000 bytes/);
  });

  it('when every attempt outlasts timeoutMs, then it is retried and reported as a timeout', async () => {
    const { server, client } = await setUp([{ path: '/projects', responses: { delayMs: 400, file: fixture('gs-projects.json') } }], { timeoutMs: 100, retries: 2 });
    const error = await rejection(client.getJson('/projects'));

    expect(error.code).toBe('timeout');
    expect(error.attempts).toBe(3);
    expect(server.requests).toHaveLength(3);
    expect(error.message).toContain('raise timeoutMs');
  });
});

describe('failures that are not retried', () => {
  it('when an HTML page comes back with HTTP 200 where JSON was expected, then it fails at once with not-json and the page title', async () => {
    const { server, client } = await setUp([{ path: '/x', responses: { file: fixture('car-detail-notfound.html') } }], { source: 'verra' });
    const error = await rejection(client.getJson('/x'));

    expect(error.code).toBe('not-json');
    expect(error.status).toBe(200);
    expect(error.attempts).toBe(1);
    expect(server.requests).toHaveLength(1);
    expect(error.message).toBe(
      `verra: expected JSON from ${server.url}/x but got an HTML page (HTTP 200, title "The Reserve"); ` +
        'the endpoint has probably moved or wants a session or browser headers: open the URL in a browser to see',
    );
  });

  it('when an HTML body is labelled application/json, then it is still recognised as HTML', async () => {
    const { server, client } = await setUp([{ path: '/x', responses: { file: fixture('car-projects.html'), headers: { 'content-type': 'application/json' } } }]);
    const error = await rejection(client.getJson('/x'));

    expect(error.code).toBe('not-json');
    expect(server.requests).toHaveLength(1);
  });

  it('when the registry answers 403, then it fails at once with the status, an excerpt and a hint', async () => {
    const { server, client } = await setUp([{ path: '/credits', responses: { status: 403, json: { message: 'Forbidden' } } }]);
    const error = await rejection(client.getJson('/credits', { query: { size: 50 } }));

    expect(error).toMatchObject({ code: 'http-status', status: 403, attempts: 1 });
    expect(server.requests).toHaveLength(1);
    expect(error.message).toContain(`gold-standard: GET ${server.url}/credits?size=50 returned HTTP 403 ("{\\"message\\":\\"Forbidden\\"}")`);
    expect(error.message).toContain('browserUserAgent');
  });

  it('when Retry-After is longer than maxRetryAfterMs, then it fails with retry-after-too-long without sleeping', async () => {
    const { server, client } = await setUp([{ method: 'POST', path: '/results', responses: { status: 429, headers: { 'Retry-After': '3600' } } }], { source: 'american-carbon-registry' });
    const started = performance.now();
    const error = await rejection(client.postForm('/results', { offset: 0, max: 2000 }));

    expect(performance.now() - started).toBeLessThan(500);
    expect(error).toMatchObject({ code: 'retry-after-too-long', status: 429, attempts: 1 });
    expect(server.requests).toHaveLength(1);
    expect(error.message).toContain('Retry-After: 3600, a wait of 60 min');
  });

  it('when a URL carries a key, then error messages mask it', async () => {
    const { client } = await setUp([{ path: '/missing', responses: { status: 404 } }]);
    const error = await rejection(client.getJson('/missing', { query: { api_key: 's3cret', id: 7 } }));

    expect(error.message).not.toContain('s3cret');
    expect(error.url).toMatch(/\/missing\?api_key=\*\*\*&id=7$/);
  });
});

describe('what is sent', () => {
  it('sends a browser-like User-Agent and the configured headers, per-call headers winning', async () => {
    const { server, client } = await setUp([{ path: '/projects', responses: { file: fixture('gs-projects.json'), headers: { 'X-Total-Count': '19283' } } }], {
      browserUserAgent: true,
      headers: { Registry: 'VERRA', StandardId: '150000000000001', Language: 'en' },
    });
    const { headers } = await client.getJson('/projects', { headers: { language: 'fr' } });

    const sent = server.requests[0]!.headers;
    expect(sent['user-agent']).toBe(CHROME_USER_AGENT);
    expect(sent['user-agent']).toMatch(/Chrome\/\d+/);
    expect(sent).toMatchObject({ registry: 'VERRA', standardid: '150000000000001', language: 'fr', accept: 'application/json' });
    expect(headers['x-total-count']).toBe('19283');
  });

  it('postForm sends the fields form-encoded, as GreenTrace requires, and parses the JSON answer', async () => {
    const capture = readJson<{ datasets: { projects: { rows: unknown[]; totalCount: number } } }>('acr-projects.json');
    const { server, client } = await setUp([
      { method: 'POST', path: '/project/registry/ACR_REGISTRY/project-summaries/results', responses: { file: fixture('acr-projects.json') } },
    ], { source: 'american-carbon-registry' });
    const { body } = await client.postForm<typeof capture>('/project/registry/ACR_REGISTRY/project-summaries/results', {
      offset: 0,
      pageNumber: 1,
      max: 2000,
      holdingStatus: 'RETIRED',
    });

    const sent = server.requests[0]!;
    expect(sent.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(sent.rawBody).toBe('offset=0&pageNumber=1&max=2000&holdingStatus=RETIRED');
    expect(sent.query).toEqual({});
    expect(body.datasets.projects.rows).toHaveLength(body.datasets.projects.totalCount);
  });

  it('getText returns an HTML report page as it is', async () => {
    const { client } = await setUp([{ path: '/myModule/rpt/myrpt.asp', responses: { file: fixture('car-projects.html') } }], { source: 'climate-action-reserve' });
    const { body, headers } = await client.getText('/myModule/rpt/myrpt.asp', { query: { r: 111 } });

    expect(body).toBe(readFileSync(fixture('car-projects.html'), 'utf8'));
    expect(headers['content-type']).toContain('text/html');
  });

  it('minIntervalMs spaces the starts of concurrent requests', async () => {
    const { server, client } = await setUp([{ path: '/projects', responses: { json: [] } }], { minIntervalMs: 100 });
    await Promise.all([1, 2, 3, 4].map((page) => client.getJson('/projects', { query: { page } })));

    expect(server.requests).toHaveLength(4);
    // Measured on arrival, so a slow connection set-up on one request may eat a little of the spacing.
    for (const gap of gaps(server.requests)) expect(gap).toBeGreaterThanOrEqual(75);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP-dates, and turns zero, negative and junk into "use the backoff"', () => {
    const now = Date.parse('2026-07-28T12:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3_000);
    expect(parseRetryAfter('Tue, 28 Jul 2026 12:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('0', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('Tue, 28 Jul 2026 11:59:00 GMT', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
  });
});
