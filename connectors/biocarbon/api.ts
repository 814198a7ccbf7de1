import { z } from 'zod';
import type { HttpClient } from '../runtime/http.ts';
import type { PagedStream } from '../runtime/paging.ts';
import type { ApiMode, ApiStream, Mapped, RawRecord } from '../types.ts';
import { mapCancellation, mapIssuedBlock, mapRetirement } from './map-credits.ts';
import { REGISTRY, SITE, mapProject, mapProjectDetail } from './map-projects.ts';
import { isRecord } from '../runtime/values.ts';
import { httpConfig, httpOptions } from '../runtime/http-config.ts';

// BioCarbon publishes through Global CarbonTrace, a Laravel API behind the registry's web app
// (reference/registries.md §0; rb-carbon-scraper docs/api-contract-biocarbon.md, measured 2026-08-04):
//   GET {base}/ghg/projects?per_page=N&page=P                  the project list
//   GET {base}/ghg/projects/{id}                               one project's detail
//   GET {base}/ghg/carbon-credits?per_page=N&page=P            issued blocks
//   GET {base}/ghg/retreats?per_page=N&page=P                  retirements
//   GET {base}/ghg/carbon-credits/project/{id}/cancellations   cancellations, per project only
// What the pull must get right:
// - every call needs the public `x-api-key` the site ships in its bundle (assets/api-*.js); without
//   it the API answers HTTP 200 with `{"status": 403, "data": [], "message": …}`, which reads as an
//   empty registry: a body with a `status` of 400 or more fails the pull;
// - lists are Laravel paginators (`current_page`, `last_page`, `per_page`, `total`, `data`); `total`
//   is the registry's count and is reconciled. The pull walks `page` up to the `last_page` the
//   registry states, whatever page size it actually served, and checks every page is the one asked
//   for and the total does not move;
// - `ghg` is the GHG programme; `biodiversity` and `water` (not tCO2e) are not read, nor is
//   `transferences` (moves of units already issued: reading it would count them twice).

export const bioCarbonConfig = httpConfig({
  baseUrl: 'https://api.globalcarbontrace.io/api',
  minIntervalMs: 1_000,
  timeoutMs: 60_000,
  retries: 4,
  baseDelayMs: 1_000,
}).extend({
  /** The programme path: `ghg` is BioCarbon's GHG programme, the only one in tCO2e. */
  program: z.string().min(1).default('ghg'),
  /** The public client key of the registry's own web app; it changes when the site's bundle does. */
  apiKey: z.string().min(1).default('SboCiHaHxtC2xRM92hpBjy1S2Y5La7IwjeB76z'),
  /** Rows per page; the API honours sizes up to at least 5,000 (11,439 retirements in 12 pages at 1,000). */
  perPage: z.number().int().min(1).max(5_000).default(1_000),
  /** One request per project for its detail (coordinates, the programme it migrated from). */
  projectDetails: z.boolean().default(true),
});
export type BioCarbonConfig = z.infer<typeof bioCarbonConfig>;

type Entity = Record<string, unknown>;
const count = (n: number) => n.toLocaleString('en-US');

/** The refusal the API sends inside an HTTP 200 (`{"status": 403, …}`), as an error that says what to do. */
function refusal(what: string, body: unknown): Error | undefined {
  if (!isRecord(body)) return undefined;
  const status = Number(body.status);
  if (!Number.isFinite(status) || status < 400) return undefined;
  const message = typeof body.message === 'string' ? `: "${body.message}"` : '';
  return new Error(`${REGISTRY} ${what}: the API refused the request inside an HTTP 200 (status ${status}${message}); ` +
    'the public x-api-key of the registry\'s web app has probably changed: set apiKey to the one in the site\'s assets/api-*.js');
}

type Paginator = { current_page: number; last_page: number; total: number; data: unknown[] };

async function fetchPage(http: HttpClient, config: BioCarbonConfig, resource: string, page: number): Promise<Paginator> {
  const what = `${resource} page ${page}`;
  const { body } = await http.getJson<unknown>(`${config.program}/${resource}`, { query: { per_page: config.perPage, page } });
  const refused = refusal(what, body);
  if (refused) throw refused;
  if (!isRecord(body) || !Array.isArray(body.data) || !Number.isInteger(body.total) || !Number.isInteger(body.last_page) || !Number.isInteger(body.current_page)) {
    const shape = isRecord(body) ? `an object with keys ${Object.keys(body).slice(0, 6).join(', ')}` : typeof body;
    throw new Error(`${REGISTRY} ${what}: expected a Laravel paginator (current_page, last_page, total, data), got ${shape}; the API has changed`);
  }
  return body as unknown as Paginator;
}

/** Ids of the listed projects, per client: the projects stream leaves them for the per-project streams. */
const listedProjects = new WeakMap<HttpClient, { ids: string[]; total: number }>();

/** Every record of one paginated resource. */
function pullList(http: HttpClient, config: BioCarbonConfig, resource: string, stream: string, keyOf: (e: Entity) => string | undefined): PagedStream<RawRecord> {
  let reported: number | undefined;
  let received = 0;

  async function* all(): AsyncGenerator<RawRecord> {
    const ids: string[] = [];
    for (let page = 1; ; page += 1) {
      const body = await fetchPage(http, config, resource, page);
      if (body.current_page !== page) {
        throw new Error(`${REGISTRY} ${resource}: asked for page ${page} and was served page ${body.current_page}; paging cannot be trusted, so nothing was stored`);
      }
      if (reported !== undefined && body.total !== reported) {
        throw new Error(`${REGISTRY} ${resource}: the registry's total went from ${count(reported)} to ${count(body.total)} during the pull (records were added or removed, so pages shifted); nothing was stored: pull again`);
      }
      reported = body.total;
      for (const [i, item] of body.data.entries()) {
        if (!isRecord(item)) throw new Error(`${REGISTRY} ${resource} page ${page}: item ${i + 1} is not an object; the API has changed`);
        const key = keyOf(item);
        if (resource === 'projects' && key) ids.push(key);
        received += 1;
        yield { stream, locator: `${resource} page ${page} item ${i + 1}${key ? ` (${key})` : ''}`, recordKey: key, payload: item };
      }
      if (page >= body.last_page) break;
      if (body.data.length === 0) {
        throw new Error(`${REGISTRY} ${resource}: page ${page} of ${body.last_page} is empty though the registry reports ${count(body.total)} records; nothing was stored`);
      }
    }
    if (resource === 'projects') listedProjects.set(http, { ids, total: reported ?? ids.length });
  }

  return { [Symbol.asyncIterator]: all, reported: () => reported, received: () => received };
}

/** The listed projects' ids: those the projects stream read with this client, else the list read again. */
async function projectIds(http: HttpClient, config: BioCarbonConfig): Promise<{ ids: string[]; total: number }> {
  const listed = listedProjects.get(http);
  if (listed) return listed;
  for await (const _ of pullList(http, config, 'projects', 'projects', (e) => idOf(e))) {
    // drained for the ids it leaves behind
  }
  return listedProjects.get(http)!;
}

const idOf = (e: Entity) => (e.id === undefined || e.id === null ? undefined : String(e.id));

/** One request per project: its detail, or its cancellations. */
function pullPerProject(http: HttpClient, config: BioCarbonConfig, read: (id: string) => AsyncGenerator<RawRecord>, reportsTotal: boolean): PagedStream<RawRecord> {
  let reported: number | undefined;
  let received = 0;
  async function* all(): AsyncGenerator<RawRecord> {
    const { ids, total } = await projectIds(http, config);
    // A detail per listed project: the list's total is the number of details to expect.
    if (reportsTotal) reported = total;
    for (const id of ids) {
      for await (const record of read(id)) {
        received += 1;
        yield record;
      }
    }
  }
  return { [Symbol.asyncIterator]: all, reported: () => reported, received: () => received };
}

function pullDetails(http: HttpClient, config: BioCarbonConfig): PagedStream<RawRecord> {
  return pullPerProject(http, config, async function* (id) {
    const what = `projects/${id}`;
    const { body } = await http.getJson<unknown>(`${config.program}/projects/${encodeURIComponent(id)}`);
    const refused = refusal(what, body);
    if (refused) throw refused;
    if (!isRecord(body) || !isRecord(body.initiative)) {
      throw new Error(`${REGISTRY} ${what}: expected {code, status, initiative}, got ${isRecord(body) ? `keys ${Object.keys(body).slice(0, 6).join(', ')}` : typeof body}; the API has changed`);
    }
    if (String(body.initiative.id) !== id) {
      throw new Error(`${REGISTRY} ${what}: the detail describes initiative ${String(body.initiative.id)}, not ${id}; nothing was stored`);
    }
    yield { stream: 'project-details', locator: what, recordKey: id, payload: body };
  }, true);
}

function pullCancellations(http: HttpClient, config: BioCarbonConfig): PagedStream<RawRecord> {
  return pullPerProject(http, config, async function* (id) {
    const what = `carbon-credits/project/${id}/cancellations`;
    const { body } = await http.getJson<unknown>(`${config.program}/carbon-credits/project/${encodeURIComponent(id)}/cancellations`);
    const refused = refusal(what, body);
    if (refused) throw refused;
    if (!isRecord(body) || !Array.isArray(body.data)) {
      throw new Error(`${REGISTRY} ${what}: expected {status, data}, got ${isRecord(body) ? `keys ${Object.keys(body).slice(0, 6).join(', ')}` : typeof body}; the API has changed`);
    }
    for (const [i, row] of body.data.entries()) {
      if (!isRecord(row)) throw new Error(`${REGISTRY} ${what}: item ${i + 1} is not an object; the API has changed`);
      // The rows do not name their project; the route does.
      yield { stream: 'cancellations', locator: `${what} item ${i + 1}`, recordKey: typeof row.serial === 'string' ? row.serial : undefined, payload: { ...row, initiative_id: Number(id) } };
    }
  }, false);
}

/** What tells the resources apart in a saved response. */
export const bioCarbonRecord = {
  project: (e: Entity) => 'project_name' in e && 'quantification_period_start' in e && 'id' in e && !('initiative' in e),
  detail: (e: Entity) => isRecord(e.initiative) && 'code' in e && 'quantification_period_start' in e.initiative,
  issuedBlock: (e: Entity) => 'serial' in e && 'amount' in e && 'active' in e && 'dropouts' in e && 'initiative_id' in e,
  retirement: (e: Entity) => 'serial' in e && 'sold' in e && 'initial_serial' in e && 'final_serial' in e && 'initiative_id' in e,
  cancellation: (e: Entity) => 'serial' in e && 'cancellation_date' in e && 'amount' in e && 'initiative_id' in e && !('serial_no' in e),
};

const stream = (name: string, totalField: string, pull: (http: HttpClient) => PagedStream<RawRecord>, recognises: (e: Entity) => boolean,
  map: (e: Entity, locator: string) => Mapped, snapshotOf?: ApiStream['snapshotOf']): ApiStream => ({
  name, totalField, pull, recognises, map: (raw) => map(raw.payload, raw.locator), ...(snapshotOf ? { snapshotOf } : {}),
});

export const bioCarbonApi: ApiMode<BioCarbonConfig> = {
  config: bioCarbonConfig,
  http: (config) => httpOptions(REGISTRY, config, {
    // What the registry's web app sends; the key is not a secret (every visitor's browser sends it).
    headers: { 'x-api-key': config.apiKey, origin: SITE, referer: `${SITE}/` },
  }),
  async check(http, config) {
    const projects = await fetchPage(http, { ...config, perPage: 1 }, 'projects', 1);
    if (projects.total === 0) throw new Error(`${REGISTRY}: the API answered but lists no projects; check baseUrl and program`);
    const credits = await fetchPage(http, { ...config, perPage: 1 }, 'carbon-credits', 1);
    const retirements = await fetchPage(http, { ...config, perPage: 1 }, 'retreats', 1);
    return `${REGISTRY}: ${count(projects.total)} projects, ${count(credits.total)} issued blocks and ${count(retirements.total)} retirements on Global CarbonTrace`;
  },
  streams: (config): ApiStream[] => [
    stream('projects', 'total', (http) => pullList(http, config, 'projects', 'projects', idOf), bioCarbonRecord.project, mapProject),
    ...(config.projectDetails
      ? [stream('project-details', 'total (projects)', (http) => pullDetails(http, config), bioCarbonRecord.detail, mapProjectDetail)]
      : []),
    stream('issuances', 'total', (http) => pullList(http, config, 'carbon-credits', 'issuances', (e) => (typeof e.serial === 'string' ? e.serial : undefined)),
      bioCarbonRecord.issuedBlock, mapIssuedBlock),
    // Both lists are the whole of their kind: a block a later pull no longer lists was split or removed.
    stream('retirements', 'total', (http) => pullList(http, config, 'retreats', 'retirements', (e) => (typeof e.serial === 'string' ? e.serial : undefined)),
      bioCarbonRecord.retirement, mapRetirement, ['retired']),
    stream('cancellations', 'none (swept project by project)', (http) => pullCancellations(http, config), bioCarbonRecord.cancellation, mapCancellation, ['cancelled']),
  ],
};
