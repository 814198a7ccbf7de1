import { readFileSync } from 'node:fs';
import type { RecordedRequest, ReplayResponse } from './replay-server.ts';

// A stand-in for S&P Global's public report search (reference/registries.md §1.1), answering from a
// data set built on the real captured entities: filters on the fields it knows narrow, others are
// silently ignored (as the real API does), pages are sorted by entityId, at most 400 rows are served
// and `start` + `limit` may not pass the window (Elasticsearch's 10,000, smaller in tests).

export type Entity = Record<string, unknown>;

export function capturedEntity(name: string): Entity {
  return JSON.parse(readFileSync(new URL(`../fixtures/api-captures/${name}`, import.meta.url), 'utf8')) as Entity;
}

type Filters = Record<string, { columnFilters?: { filter?: string }[] }>;

export function platformSearch(data: Record<string, Entity[]>, options: { window: number; knownFilters: readonly string[] }) {
  return (request: RecordedRequest): ReplayResponse => {
    const resource = request.path.split('/').at(-2) ?? '';
    const rows = data[resource];
    if (!rows) return { status: 404, json: { error: `unknown resource ${resource}` } };
    const body = request.body as { searchFilter?: { pagination?: { start?: number; limit?: number; sortOptions?: { sort?: string }[] }; filterModel?: Filters } };
    const { start = 0, limit = 50 } = body.searchFilter?.pagination ?? {};
    if (limit > 400) return { status: 500, json: { message: 'limit must not exceed 400' } };
    if (start + limit > options.window) return { status: 500, json: { message: `Result window is too large, from + size must be less than or equal to: [${options.window}]` } };
    let matching = rows;
    for (const [field, filter] of Object.entries(body.searchFilter?.filterModel ?? {})) {
      if (!options.knownFilters.includes(field)) continue; // ignored, as the real API ignores filters it does not understand
      const value = filter.columnFilters?.[0]?.filter;
      matching = matching.filter((row) => row[field] === value);
    }
    const sorted = body.searchFilter?.pagination?.sortOptions?.[0]?.sort === 'entityId'
      ? [...matching].sort((a, b) => Number(a.entityId) - Number(b.entityId))
      : matching;
    const entities = sorted.slice(start, start + limit);
    return { json: { entities, totalEntities: matching.length, start, limit, numberOfElements: entities.length } };
  };
}

/** A standard as the platform lists it for a tenant (`…/cms-resources/public/standardsByRegistry/<tenant>`). */
export type TenantStandard = { id: string; acronym: string; name: string; publicReports?: Record<string, boolean> };

/** The platform's answer to `standardsByRegistry/<tenant>`: the tenant's standards, in its field names. */
export function standardsByRegistry(standards: readonly TenantStandard[]): ReplayResponse {
  return {
    json: standards.map((s) => ({ id: s.id, name: s.name, metaData: s.acronym, publicReportExport: s.publicReports ?? {} })),
  };
}

/**
 * The search as it answers one tenant: without the tenant's `registry` header, or without a standard's
 * headers, a generic 500 (what the live API answers); with a `standardid` the tenant does not hold, 200
 * and nothing (the trap that makes a wrong id look like an empty registry); a report a standard does not
 * publish, a 500. Otherwise the records of that standard only, searched as `platformSearch` searches.
 */
export function tenantSearch(tenant: string, standards: readonly TenantStandard[], data: Record<string, Entity[]>,
  options: { window: number; knownFilters: readonly string[] }) {
  const reportOf: Record<string, string> = { project: 'PROJECTS', issuances: 'ISSUANCES_LISTINGS', holdings: 'HOLDINGS', retirements: 'RETIREMENTS', cancellations: 'CANCELLATIONS' };
  return (request: RecordedRequest): ReplayResponse => {
    const standardId = request.headers.standardid;
    if (request.headers.registry !== tenant || typeof standardId !== 'string' || typeof request.headers.standardacronym !== 'string') {
      return { status: 500, json: { status: 500, message: 'Internal Server Error' } };
    }
    const resource = request.path.split('/').at(-2) ?? '';
    const standard = standards.find((s) => s.id === standardId);
    if (standard?.publicReports?.[reportOf[resource] ?? ''] === false) return { status: 500, json: { status: 500, message: 'Internal Server Error' } };
    const ofStandard = Object.fromEntries(Object.entries(data).map(([r, rows]) => [r, rows.filter((row) => String(row.standardId) === standardId)]));
    return platformSearch(ofStandard, options)(request);
  };
}
