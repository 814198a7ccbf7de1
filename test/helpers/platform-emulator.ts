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
