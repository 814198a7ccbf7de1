import { z } from 'zod';
import type { HttpClient } from '../runtime/http.ts';
import type { PagedStream } from '../runtime/paging.ts';
import type { ApiMode, ApiStream, Mapped, RawRecord } from '../types.ts';
import { REGISTRY, SITE, mapCancellation, mapIssuance, mapProject, mapRetirement } from './map-records.ts';
import { isRecord } from '../runtime/values.ts';
import { httpConfig, httpOptions } from '../runtime/http-config.ts';

// SocialCarbon's registry is a Bubble.io app, and Bubble serves a Data API for every readable type
// (rb-carbon-scraper docs/api-contract-socialcarbon.md, measured 2026-08-04; the captures in
// test/fixtures/api-captures/socialcarbon-*.json):
//   GET {base}/obj/<type>?limit=L&cursor=C   → {"response": {cursor, results, count, remaining}}
// Types read: project, issuance, retirement, cancellations (Bubble's own singular/plural). Not read:
// `asset` (17 rows mirror the issuances, 5 hold VCS credits deposited for tokenization: reading it would
// count issuances twice and import another registry's units), `transfer`, `transaction`,
// `assetlisting`, and the account types (`user`, `billing`, …).
// What the pull must get right:
// - no key, no browser User-Agent, no Cloudflare;
// - `limit` is clamped to 100 without a word (200 asked, 100 served, `remaining` says the rest), so
//   the cursor advances by the records received and the pull ends when `remaining` is 0;
// - the registry's total is `cursor + count + remaining`, restated on every page: it is reconciled,
//   and a total that moves during the pull fails it (records added or removed shift the cursor);
// - an unknown type or field is a loud 404 (`Field not found …`), never the whole index.

export const socialCarbonConfig = httpConfig({
  baseUrl: `${SITE}/api/1.1`,
  minIntervalMs: 1_000,
  timeoutMs: 60_000,
  retries: 4,
  baseDelayMs: 1_000,
}).extend({
  /** Records per request; Bubble serves at most 100 whatever is asked. */
  pageSize: z.number().int().min(1).max(100).default(100),
});
export type SocialCarbonConfig = z.infer<typeof socialCarbonConfig>;

type Entity = Record<string, unknown>;
const count = (n: number) => n.toLocaleString('en-US');

type Page = { cursor: number; results: Entity[]; count: number; remaining: number };

async function fetchPage(http: HttpClient, type: string, cursor: number, limit: number): Promise<Page> {
  const { body } = await http.getJson<unknown>(`obj/${type}`, { query: { limit, cursor } });
  const response = isRecord(body) ? body.response : undefined;
  if (!isRecord(response) || !Array.isArray(response.results)
    || ![response.cursor, response.count, response.remaining].every((n) => Number.isInteger(n) && (n as number) >= 0)) {
    const shape = isRecord(body) ? `an object with keys ${Object.keys(body).slice(0, 6).join(', ')}` : typeof body;
    throw new Error(`${REGISTRY} ${type} at cursor ${cursor}: expected {"response": {cursor, results, count, remaining}}, got ${shape}; the API has changed`);
  }
  return response as unknown as Page;
}

/** Every record of one Bubble type, cursor by cursor. */
function pullType(http: HttpClient, config: SocialCarbonConfig, type: string, stream: string): PagedStream<RawRecord> {
  let reported: number | undefined;
  let received = 0;

  async function* all(): AsyncGenerator<RawRecord> {
    const seen = new Set<string>();
    for (let cursor = 0; ;) {
      const page = await fetchPage(http, type, cursor, config.pageSize);
      if (page.cursor !== cursor) {
        throw new Error(`${REGISTRY} ${type}: asked for cursor ${cursor} and was served cursor ${page.cursor}; paging cannot be trusted, so nothing was stored`);
      }
      if (page.count !== page.results.length) {
        throw new Error(`${REGISTRY} ${type} at cursor ${cursor}: the page says ${page.count} records and holds ${page.results.length}; the API has changed`);
      }
      const total = cursor + page.count + page.remaining;
      if (reported !== undefined && total !== reported) {
        throw new Error(`${REGISTRY} ${type}: the registry's total went from ${count(reported)} to ${count(total)} during the pull (records were added or removed, so the cursor shifted); nothing was stored: pull again`);
      }
      reported = total;
      for (const [i, item] of page.results.entries()) {
        if (!isRecord(item)) throw new Error(`${REGISTRY} ${type} at cursor ${cursor}: item ${i + 1} is not an object; the API has changed`);
        const id = typeof item._id === 'string' ? item._id : undefined;
        if (id && seen.has(id)) {
          throw new Error(`${REGISTRY} ${type}: record ${id} was served twice (at cursor ${cursor + i}); the order shifted during the pull, so records may also have been skipped; nothing was stored: pull again`);
        }
        if (id) seen.add(id);
        received += 1;
        yield { stream, locator: `${type} cursor ${cursor + i}${id ? ` (${id})` : ''}`, recordKey: id, payload: item };
      }
      if (page.remaining === 0) return;
      if (page.results.length === 0) {
        throw new Error(`${REGISTRY} ${type}: an empty page at cursor ${cursor} with ${count(page.remaining)} records still to come; nothing was stored`);
      }
      cursor += page.results.length;
    }
  }

  return { [Symbol.asyncIterator]: all, reported: () => reported, received: () => received };
}

/** What tells the types apart in a saved response (`{"response": {"results": […]}}`). */
export const socialCarbonRecord = {
  project: (e: Entity) => '_id' in e && 'Project ID' in e && 'Project Name' in e,
  issuance: (e: Entity) => '_id' in e && 'Quantity requested' in e && 'Serial Number Batch' in e,
  retirement: (e: Entity) => '_id' in e && 'Serial Numbers' in e && 'Retiree' in e,
  cancellation: (e: Entity) => '_id' in e && 'Serial Numbers' in e && 'Canceller' in e,
};

const stream = (name: string, type: string, config: SocialCarbonConfig, recognises: (e: Entity) => boolean,
  map: (e: Entity, locator: string) => Mapped, snapshotOf?: ApiStream['snapshotOf']): ApiStream => ({
  name,
  totalField: 'cursor + count + remaining',
  pull: (http) => pullType(http, config, type, name),
  recognises,
  map: (raw) => map(raw.payload, raw.locator),
  ...(snapshotOf ? { snapshotOf } : {}),
});

export const socialCarbonApi: ApiMode<SocialCarbonConfig> = {
  config: socialCarbonConfig,
  http: (config) => httpOptions(REGISTRY, config, {
    headers: { origin: SITE, referer: `${SITE}/` },
  }),
  async check(http) {
    const totals: string[] = [];
    for (const [type, what] of [['project', 'projects'], ['issuance', 'issuances'], ['retirement', 'retirements'], ['cancellations', 'cancellations']] as const) {
      const page = await fetchPage(http, type, 0, 1);
      const total = page.count + page.remaining;
      if (type === 'project' && total === 0) throw new Error(`${REGISTRY}: the API answered but lists no projects; check baseUrl`);
      totals.push(`${count(total)} ${what}`);
    }
    return `${REGISTRY}: ${totals.join(', ')} on the registry's Bubble Data API`;
  },
  streams: (config): ApiStream[] => [
    stream('projects', 'project', config, socialCarbonRecord.project, mapProject),
    stream('issuances', 'issuance', config, socialCarbonRecord.issuance, mapIssuance),
    // Each type is the whole of its kind: a block a later pull no longer lists was removed.
    stream('retirements', 'retirement', config, socialCarbonRecord.retirement, mapRetirement, ['retired']),
    stream('cancellations', 'cancellations', config, socialCarbonRecord.cancellation, mapCancellation, ['cancelled']),
  ],
};
