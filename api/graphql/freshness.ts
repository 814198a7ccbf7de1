import { sourceFreshness, type Pull, type SourceFreshness } from '../../jobs/freshness.ts';
import type { Context } from './context.ts';

// Freshness of each registry's data (jobs/freshness.ts). It reads public pulls only, so the answer is
// the same for every caller; it is computed once per request for all registries asked about.

const perRequest = new WeakMap<object, Promise<Map<string, SourceFreshness>>>();

function all(context: Context): Promise<Map<string, SourceFreshness>> {
  let found = perRequest.get(context);
  if (!found) {
    found = sourceFreshness(context.db).then((list) => new Map(list.map((f) => [f.registry, f])));
    perRequest.set(context, found);
  }
  return found;
}

const enumOf = (code: string) => code.toUpperCase().replace(/-/g, '_');

export const freshnessResolvers = {
  Registry: {
    async freshness(r: { id: string }, _: unknown, context: Context): Promise<SourceFreshness | null> {
      return (await all(context)).get(r.id) ?? null;
    },
  },
  Freshness: {
    status: (f: SourceFreshness) => enumOf(f.status),
    flags: (f: SourceFreshness) => f.flags.map(enumOf),
    lastBatch: (f: SourceFreshness, _: unknown, c: Context) => (f.lastBatchId === null ? null : c.loaders.batch.load(f.lastBatchId)),
  },
  Pull: {
    batch: (p: Pull, _: unknown, c: Context) => c.loaders.batch.load(p.batchId),
  },
};
