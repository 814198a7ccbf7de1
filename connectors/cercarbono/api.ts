import { z } from 'zod';
import type { HttpClient } from '../runtime/http.ts';
import type { PagedStream } from '../runtime/paging.ts';
import type { ApiMode, ApiStream, RawRecord } from '../types.ts';
import { mapDetail } from './map-details.ts';
import { mapAnalyticsProject, mapListedProject } from './map-projects.ts';
import { mapFeedRetirement } from './map-retirements.ts';
import { REGISTRY, stated } from './values.ts';
import { isRecord } from '../runtime/values.ts';
import { httpConfig, httpOptions } from '../runtime/http-config.ts';

// EcoRegistry's front API for Cercarbono (reference/registries.md §0; rb-carbon-scraper
// `docs/api-contract-cercarbono.md`, measured 2026-07-28), `https://api-front.ecoregistry.io/platform`:
//
//   GET project/public-by-standard/cercarbono-co2   the standard's projects          {status, …, projects: […]}
//   GET analytics/projects                          projects with their serials      {status, project: […]}
//   GET project/public/<id>                         one project's detail             {status, project: {…}, certificatedVerification, …}
//   GET analytics/get-retirements                   every retirement                 {status, retirements: […]}
//
// What the pull must get right:
// - two headers are mandatory, `platform: ecoregistry` and `lng`: without them every call answers
//   HTTP 200 with `{"status":0,"codeMessages":[{"codeMessage":"ERROR_401","message":"No autorizado"}]}`,
//   which looks like an empty registry. Any `codeMessages` fails the pull;
// - the `Origin` (and Referer) must be the registry's own site: another origin answers HTTP 500;
// - no paging and no totals: each list comes whole in one response. The standard's list decides which
//   projects are Cercarbono's CO2 standard; `analytics/*` cover every standard EcoRegistry hosts
//   (biodiversity, circular economy), so they are filtered to the listed projects;
// - `analytics/projects` omits projects converted in from another registry (their detail carries their
//   issuance, map-details.ts) and must list every other project of the standard: that is what the
//   issuance stream reconciles; the detail stream must answer for every listed project;
// - about one request a second, as the registry's other readers keep to: a full pull is ~235 requests.

export const cercarbonoConfig = httpConfig({
  baseUrl: 'https://api-front.ecoregistry.io/platform',
  minIntervalMs: 1_000,
  timeoutMs: 60_000,
  retries: 5,
  baseDelayMs: 2_000,
}).extend({
  /** The EcoRegistry standard: `cercarbono-co2` (tCO2e). Its sister standards count other units. */
  standard: z.string().min(1).default('cercarbono-co2'),
  /** `lng` header: the language of descriptive fields. */
  language: z.string().min(2).default('en'),
  /** The site the registry expects requests from (`Origin`, `Referer`). */
  origin: z.string().url().default('https://registry.cercarbono.com'),
  /** Fetch each project's detail (crediting period, converted-in issuances): one request per project. */
  details: z.boolean().default(true),
});
export type CercarbonoConfig = z.infer<typeof cercarbonoConfig>;

type Entity = Record<string, unknown>;

/** One response's body, checked: an object with `status` true/1 and no `codeMessages`. */
async function fetchBody(http: HttpClient, path: string): Promise<Entity> {
  const { body } = await http.getJson<unknown>(path);
  if (!isRecord(body)) throw new Error(`${REGISTRY} ${path}: expected a JSON object, got ${Array.isArray(body) ? 'an array' : typeof body}; the API has changed`);
  if (Array.isArray(body.codeMessages) && body.codeMessages.length > 0) {
    const messages = body.codeMessages.map((m) => (isRecord(m) ? [stated(m.codeMessage), stated(m.message)].filter(Boolean).join(' ') : String(m))).join('; ');
    throw new Error(`${REGISTRY} ${path}: the registry refused the request with HTTP 200 (${messages}); ` +
      'EcoRegistry answers so when the platform or lng header is missing: check the headers');
  }
  if (body.status !== 1 && body.status !== true) throw new Error(`${REGISTRY} ${path}: status ${JSON.stringify(body.status)}, not 1; the request failed`);
  return body;
}

function arrayOf(body: Entity, key: string, path: string): Entity[] {
  const value = body[key];
  if (!Array.isArray(value)) throw new Error(`${REGISTRY} ${path}: the response has no "${key}" list (keys: ${Object.keys(body).slice(0, 8).join(', ')}); the API has changed`);
  return value.filter(isRecord);
}

const idOf = (e: Entity) => {
  const id = stated(e.id);
  return id && /^\d+$/.test(id) ? String(Number(id)) : undefined;
};

/** A stream that yields whatever `produce` yields and reports the total `produce` settles on. */
function stream(produce: (yieldTotal: (n: number) => void) => AsyncGenerator<RawRecord>): PagedStream<RawRecord> {
  let reported: number | undefined;
  let received = 0;
  async function* all(): AsyncGenerator<RawRecord> {
    for await (const record of produce((n) => { reported = n; })) {
      received += 1;
      yield record;
    }
  }
  return { [Symbol.asyncIterator]: all, reported: () => reported, received: () => received };
}

function standardStreams(config: CercarbonoConfig): ApiStream[] {
  const listPath = `project/public-by-standard/${encodeURIComponent(config.standard)}`;
  // The standard's list, fetched once per pull: every other stream is filtered by it.
  let listed: Promise<Entity[]> | undefined;
  const standardProjects = (http: HttpClient) => {
    listed ??= fetchBody(http, listPath).then((body) => arrayOf(body, 'projects', listPath));
    listed.catch(() => { listed = undefined; });
    return listed;
  };
  const listedIds = async (http: HttpClient) => new Set((await standardProjects(http)).map(idOf).filter((id): id is string => id !== undefined));

  const streams: ApiStream[] = [
    {
      name: 'projects',
      totalField: 'the standard\'s project list (no count is published)',
      recognises: (e) => 'projectStage' in e && 'code' in e && 'locationText' in e,
      pull: (http) => stream(async function* () {
        for (const e of await standardProjects(http)) {
          yield { stream: 'projects', locator: `${listPath} project ${String(e.id)}`, recordKey: idOf(e), payload: e };
        }
      }),
      map: (raw) => mapListedProject(raw.payload, raw.locator),
    },
    {
      name: 'issuances',
      totalField: 'projects on the standard\'s list, less those converted in from another registry',
      recognises: (e) => Array.isArray(e.serials) && 'quantification_method' in e,
      pull: (http) => stream(async function* (total) {
        const projects = await standardProjects(http);
        const ids = await listedIds(http);
        const body = await fetchBody(http, 'analytics/projects');
        const records = arrayOf(body, 'project', 'analytics/projects').filter((e) => ids.has(idOf(e) ?? ''));
        const present = new Set(records.map(idOf));
        // Every listed project is expected here, but those converted in (which this feed leaves out).
        total(projects.filter((p) => !stated(p.convertedFromLink) || present.has(idOf(p))).length);
        for (const e of records) yield { stream: 'issuances', locator: `analytics/projects project ${String(e.id)}`, recordKey: idOf(e), payload: e };
      }),
      map: (raw) => mapAnalyticsProject(raw.payload, raw.locator),
    },
  ];
  if (config.details) {
    streams.push({
      name: 'details',
      totalField: 'projects on the standard\'s list',
      recognises: (e) => isRecord(e.project) && Array.isArray(e.certificatedVerification),
      pull: (http) => stream(async function* (total) {
        const projects = await standardProjects(http);
        total(projects.length);
        for (const p of projects) {
          const id = idOf(p);
          if (!id) throw new Error(`${REGISTRY} ${listPath}: a listed project has no numeric id (${JSON.stringify(p.id)}); the API has changed`);
          const path = `project/public/${id}`;
          const body = await fetchBody(http, path);
          if (!isRecord(body.project) || idOf(body.project) !== id) {
            throw new Error(`${REGISTRY} ${path}: the detail is not project ${id}'s (it names ${isRecord(body.project) ? JSON.stringify(body.project.id) : 'none'})`);
          }
          yield { stream: 'details', locator: path, recordKey: id, payload: body };
        }
      }),
      map: (raw) => mapDetail(raw.payload, raw.locator),
    });
  }
  streams.push({
    name: 'retirements',
    totalField: 'none published',
    recognises: (e) => 'final_user' in e && 'serial' in e && 'reason_using' in e,
    pull: (http) => stream(async function* () {
      const ids = await listedIds(http);
      const body = await fetchBody(http, 'analytics/get-retirements');
      for (const e of arrayOf(body, 'retirements', 'analytics/get-retirements')) {
        // The feed holds every standard's retirements: keep the listed projects'.
        if (!ids.has(stated(e.project_id) ?? '')) continue;
        yield { stream: 'retirements', locator: `analytics/get-retirements retirement ${String(e.id)}`, recordKey: stated(e.id), payload: e };
      }
    }),
    map: (raw) => mapFeedRetirement(raw.payload, raw.locator),
  });
  return streams;
}

export const cercarbonoApi: ApiMode<CercarbonoConfig> = {
  config: cercarbonoConfig,
  http: (config) => httpOptions(REGISTRY, config, {
    baseUrl: config.baseUrl.endsWith('/') ? config.baseUrl : `${config.baseUrl}/`,
    // The site's own values: a browser-like client from the registry's origin.
    browserUserAgent: true,
    headers: { platform: 'ecoregistry', lng: config.language, origin: config.origin, referer: `${config.origin.replace(/\/+$/, '')}/` },
  }),
  async check(http, config) {
    const path = `project/public-by-standard/${encodeURIComponent(config.standard)}`;
    const projects = arrayOf(await fetchBody(http, path), 'projects', path);
    if (projects.length === 0) throw new Error(`${REGISTRY}: the registry answered but lists no projects for standard ${config.standard}; check the standard's name`);
    return `${REGISTRY}: ${projects.length} projects on EcoRegistry's ${config.standard} standard`;
  },
  streams: standardStreams,
};
