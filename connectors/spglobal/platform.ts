import { z } from 'zod';
import type { HttpClient } from '../runtime/http.ts';
import type { PagedStream } from '../runtime/paging.ts';
import type { ApiMode, ApiStream, Mapped, RawRecord, UnitStatus } from '../types.ts';

// S&P Global's registry platform (reference/registries.md §0, §1.1): Verra and the other tenants
// (Plan Vivo, UK Land Registry, Global Carbon Council…) serve the same public report API, an
// Elasticsearch index behind `POST {base}/{resource}/publicReportPageSearch`. What the adapter must
// get right, each learnt the hard way by earlier scrapers:
// - tenant headers (`registry`, `standardid`, `standardacronym`): a wrong `standardid` answers 200
//   with zero rows, which looks like an empty registry, so `check` insists on a non-empty project list;
// - pages of at most 400 rows, always sorted by `entityId` (without a sort, pages overlap and skip);
// - `start` stops at 10,000: a larger query is split by filters, and a filter counts only once it is
//   proven to narrow (a value that cannot match must return 0, because the API silently ignores
//   filters it does not understand and then returns the whole index); the partitions' totals must
//   add up to the whole, or the pull fails instead of losing rows.

export const platformConfig = z.object({
  baseUrl: z.string().url().default('https://prod-us.api.platts.com/ci-raas-prod/raas-report-api/es/public'),
  /** The public app key and XSRF token the registry's web app sends (its environment.config.json). */
  appKey: z.string().optional(),
  xsrfToken: z.string().optional(),
  pageSize: z.number().int().min(1).max(400).default(400),
  /** Elasticsearch's result window: `start` + `limit` may not pass it. */
  window: z.number().int().min(1).default(10_000),
  minIntervalMs: z.number().int().min(0).default(250),
  timeoutMs: z.number().int().min(1).default(60_000),
  retries: z.number().int().min(0).default(5),
  baseDelayMs: z.number().int().min(0).default(1_000),
});
export type PlatformConfig = z.infer<typeof platformConfig>;

type FilterModel = Record<string, { columnFilters: { filterType: 'Text'; type: 'equals'; filter: string }[] }>;

/** A field a large query can be split on, with the values to try. */
export type PartitionKey = { field: string; values: () => readonly string[] };

export type PlatformResource = {
  /** Path segment: `project`, `issuances`, `retirements`, `cancellations`, `holdings`. */
  resource: string;
  stream: string;
  partitionKeys?: readonly PartitionKey[];
  /** Unit statuses the resource lists completely (ApiStream.snapshotOf). */
  snapshotOf?: readonly UnitStatus[];
  /** Fields that mark an entity of this resource (the tenant is checked by its standardId). */
  recognises(entity: Record<string, unknown>): boolean;
  map(entity: Record<string, unknown>, locator: string): Mapped;
};

export type PlatformTenant = {
  registry: string;
  /** The `registry` header: `VERRA`, `PVCL` (Plan Vivo), `UKLR`, `GCC`… */
  tenant: string;
  standardId: string;
  standardAcronym: string;
  resources: readonly PlatformResource[];
};

type SearchPage = { entities?: Record<string, unknown>[]; totalEntities?: number };

const equals = (value: string) => ({ columnFilters: [{ filterType: 'Text' as const, type: 'equals' as const, filter: value }] });
const describeFilter = (filter: FilterModel) =>
  Object.entries(filter).map(([field, f]) => `${field} = "${f.columnFilters[0]?.filter}"`).join(' and ') || 'no filter';

/** A value no real record has: a filter that returns anything for it was ignored by the API. */
const IMPOSSIBLE = 'tally-filter-probe-no-such-value';

function search(http: HttpClient, resource: string, start: number, limit: number, filterModel: FilterModel) {
  return http.postJson<SearchPage>(`${resource}/publicReportPageSearch`, {
    searchFilter: {
      pagination: { start, limit, sortOptions: [{ sort: 'entityId', dir: 'ASC' }] },
      filterModel,
    },
  });
}

async function countOf(http: HttpClient, tenant: PlatformTenant, resource: string, filterModel: FilterModel): Promise<number> {
  const { body } = await search(http, resource, 0, 1, filterModel);
  if (typeof body?.totalEntities !== 'number') {
    throw new Error(`${tenant.registry} ${resource}: the response has no totalEntities; the report API has changed`);
  }
  return body.totalEntities;
}

/** Every record of one resource, split into partitions of at most `window` records where needed. */
function pullResource(http: HttpClient, config: PlatformConfig, tenant: PlatformTenant, spec: PlatformResource): PagedStream<RawRecord> {
  let reported: number | undefined;
  let received = 0;
  const { resource } = spec;

  async function* page(filterModel: FilterModel, total: number): AsyncGenerator<RawRecord> {
    let got = 0;
    for (let start = 0; start < total; start += config.pageSize) {
      const { body } = await search(http, resource, start, config.pageSize, filterModel);
      const entities = body?.entities ?? [];
      for (const entity of entities) {
        got += 1;
        received += 1;
        const id = String(entity.entityId ?? entity.id ?? '');
        yield { stream: spec.stream, locator: `${resource} entity ${id}`, recordKey: id, payload: entity };
      }
      if (entities.length < config.pageSize) break;
    }
    if (got !== total) {
      throw new Error(`${tenant.registry} ${resource}: ${describeFilter(filterModel)} reported ${total} records and served ${got}; the pull is incomplete and nothing was stored`);
    }
  }

  async function* partition(filterModel: FilterModel, total: number, keys: readonly PartitionKey[]): AsyncGenerator<RawRecord> {
    if (total <= config.window) {
      yield* page(filterModel, total);
      return;
    }
    const [key, ...rest] = keys;
    if (!key) {
      throw new Error(`${tenant.registry} ${resource}: ${total} records under ${describeFilter(filterModel)} exceed the ${config.window}-record window and no filter is left to split them`);
    }
    const probe = await countOf(http, tenant, resource, { ...filterModel, [key.field]: equals(IMPOSSIBLE) });
    if (probe !== 0) {
      throw new Error(`${tenant.registry} ${resource}: the API ignores the filter on ${key.field} (an impossible value matched ${probe} records), so it cannot split ${total} records`);
    }
    let covered = 0;
    for (const value of key.values()) {
      const narrowed = { ...filterModel, [key.field]: equals(value) };
      const count = await countOf(http, tenant, resource, narrowed);
      if (count === 0) continue;
      covered += count;
      yield* partition(narrowed, count, rest);
      // Values are tried most likely first; once every record is covered the rest would all be 0.
      if (covered >= total) break;
    }
    if (covered !== total) {
      throw new Error(`${tenant.registry} ${resource}: splitting ${describeFilter(filterModel)} by ${key.field} covered ${covered} of ${total} records; the values tried miss some, so nothing was stored`);
    }
  }

  async function* all(): AsyncGenerator<RawRecord> {
    const total = await countOf(http, tenant, resource, {});
    reported = total;
    yield* partition({}, total, spec.partitionKeys ?? []);
  }

  return { [Symbol.asyncIterator]: all, reported: () => reported, received: () => received };
}

/** The API mode of one tenant of the platform. */
export function platformApi(tenant: PlatformTenant): ApiMode<PlatformConfig> {
  return {
    config: platformConfig,
    http: (config) => ({
      source: tenant.registry,
      baseUrl: config.baseUrl.endsWith('/') ? config.baseUrl : `${config.baseUrl}/`,
      browserUserAgent: true,
      minIntervalMs: config.minIntervalMs,
      timeoutMs: config.timeoutMs,
      retries: config.retries,
      baseDelayMs: config.baseDelayMs,
      headers: {
        registry: tenant.tenant,
        standardid: tenant.standardId,
        standardacronym: tenant.standardAcronym,
        language: 'en',
        application: 'Markit',
        ...(config.appKey ? { appkey: config.appKey } : {}),
        ...(config.xsrfToken ? { 'x-xsrf-token': config.xsrfToken } : {}),
      },
    }),
    async check(http) {
      const projects = await countOf(http, tenant, tenant.resources[0]?.resource ?? 'project', {});
      // A wrong standardid answers 200 with nothing: an empty registry is a configuration error.
      if (projects === 0) throw new Error(`${tenant.registry}: the report API answered but lists no projects; check the tenant headers (registry ${tenant.tenant}, standardid ${tenant.standardId})`);
      return `${tenant.registry}: ${projects} projects on the S&P Global registry platform`;
    },
    streams: (config): ApiStream[] => tenant.resources.map((spec) => ({
      name: spec.stream,
      totalField: 'totalEntities',
      ...(spec.snapshotOf ? { snapshotOf: spec.snapshotOf } : {}),
      recognises: (e) => String(e.standardId) === tenant.standardId && spec.recognises(e),
      pull: (http) => pullResource(http, config, tenant, spec),
      map: (raw) => spec.map(raw.payload, raw.locator),
    })),
  };
}

/** What tells the platform's resources apart in a saved response. */
export const platformEntity = {
  project: (e: Record<string, unknown>) => 'projectName' in e && !('serialNo' in e) && !('serial_no' in e) && !('holdingQuantity' in e),
  issuance: (e: Record<string, unknown>) => 'serialNo' in e && 'issuanceRequestedDate' in e,
  retirement: (e: Record<string, unknown>) => 'serialNo' in e && 'retiredDate' in e,
  cancellation: (e: Record<string, unknown>) => 'serial_no' in e && 'cancellation_date' in e,
  holding: (e: Record<string, unknown>) => 'serialNo' in e && 'isBuffer' in e && !('retiredDate' in e),
};

/** Platform dates come as `2026-07-27T19:40:39`: the date part. */
export function platformDate(value: unknown): string | undefined {
  return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value) ? value.slice(0, 10) : undefined;
}

export const text = (value: unknown): string | undefined => {
  if (value === null || value === undefined) return undefined;
  const s = String(value).trim();
  return s === '' ? undefined : s;
};

export const positive = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
