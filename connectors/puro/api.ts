import { z } from 'zod';
import type { HttpClient } from '../runtime/http.ts';
import type { PagedStream } from '../runtime/paging.ts';
import type { ApiMode, ApiStream, Mapped, RawRecord } from '../types.ts';
import { isPuroProject, isPuroTransaction, mapIssuance, mapProject, mapRetirement, PURO, PURO_REGISTRY_URL } from './map.ts';
import { PageError, pageData, projectPage } from './rsc.ts';
import { httpConfig, httpOptions } from '../runtime/http-config.ts';
import { mapProjectTotals } from './project-totals.ts';

// Puro.earth's API mode: the registry's own pages (rb-carbon-scraper `docs/api-contract-puro.md`,
// measured 2026-08-05). registry.puro.earth is a Next.js site with no API: `GET /projects`,
// `/issuances` and `/retirements` each render the whole list into the page's RSC payload (rsc.ts), with
// no paging, no filter, no key and no Cloudflare; `/projects/<code>` renders one project.
//
// The registry publishes no row count anywhere (not in the payload, the headers or the site), so the
// number of records received cannot be reconciled: `reconcile` has nothing to compare (the streams report
// no total). What can fail is checked instead, after the lists are read: every project's page states
// its own `Issued credits` and `Retired credits`, and the bundles of the issuance and retirement lists
// must add up to them for every project, and for every facility a bundle names that the project list
// lacks (its page is read too). A list cut short, a facility missing from the index, or a page served
// from a stale cache fails the pull and nothing is stored. That is one request per project (~120, ~900 KB
// each, at about one a second); `projectTotals: false` skips it and the pull is then not reconciled at
// all. Only a reconciled pull marks retired blocks the list no longer shows as superseded.

export const puroConfig = httpConfig({
  baseUrl: PURO_REGISTRY_URL,
  /** About one request a second: the pages are large (the retirement list is ~5 MB) and the site is read as a browser reads it. */
  minIntervalMs: 1_000,
  /** The retirement list is one ~5 MB page. */
  timeoutMs: 120_000,
  retries: 4,
  baseDelayMs: 2_000,
  maxRetryAfterMs: 120_000,
}).extend({
  /** Read every project's page and check the lists against the totals it states (the only check there is). */
  projectTotals: z.boolean().default(true),
});
export type PuroConfig = z.infer<typeof puroConfig>;

/** What the lists add up to, per project: the figures the project pages are checked against. */
type Tally = { projects: Set<string>; facilities: Set<string>; issued: Map<string, number>; retired: Map<string, number> };

const NO_TOTAL = 'none: Puro publishes no count (the lists are checked against each project page\'s totals instead)';

async function readPage(http: HttpClient, path: string, what: string): Promise<Record<string, unknown>[]> {
  const { body } = await http.getText(path);
  try {
    return pageData(body);
  } catch (error) {
    if (error instanceof PageError) throw new Error(`${PURO} ${what}: GET ${path}: ${error.message}; nothing was stored`, { cause: error });
    throw error;
  }
}

const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);

/** One of the three list pages, as a stream of its records; the tally collects what the pages add up to. */
function listStream(name: 'projects' | 'issuances' | 'retirements', tally: Tally, map: (e: Record<string, unknown>, locator: string) => Mapped,
  recognises: (e: Record<string, unknown>) => boolean, extra: Partial<ApiStream> = {}): ApiStream {
  function pull(http: HttpClient): PagedStream<RawRecord> {
    let received = 0;
    async function* records(): AsyncGenerator<RawRecord> {
      const data = await readPage(http, name, `${name} list`);
      if (name === 'projects' && data.length === 0) {
        throw new Error(`${PURO} projects list: the page lists no projects; it did not render its table, and nothing was stored`);
      }
      for (const [index, item] of data.entries()) {
        const key = text(name === 'projects' ? item.code : item.id);
        if (name === 'projects' && key) tally.projects.add(key);
        if (name !== 'projects' && Array.isArray(item.bundles)) {
          const totals = name === 'issuances' ? tally.issued : tally.retired;
          for (const b of item.bundles as Record<string, unknown>[]) {
            const facility = text(b?.productionFacilityCode);
            if (!facility) continue;
            tally.facilities.add(facility);
            totals.set(facility, (totals.get(facility) ?? 0) + (typeof b.volume === 'number' ? b.volume : 0));
          }
        }
        received += 1;
        yield { stream: name, locator: `${name} ${key ?? `item ${index}`}`, ...(key ? { recordKey: key } : {}), payload: item };
      }
    }
    return { [Symbol.asyncIterator]: records, reported: () => undefined, received: () => received };
  }
  return { name, totalField: NO_TOTAL, pull, recognises, map: (raw) => map(raw.payload, raw.locator), ...extra };
}

/**
 * Reads each project's page and compares its `Issued credits` / `Retired credits` with what the
 * issuance and retirement lists add up to for it. The figures are kept as raw records (what the
 * registry stated); a difference fails the pull once every page has been read, naming each.
 */
function projectTotalsStream(tally: Tally): ApiStream {
  function pull(http: HttpClient): PagedStream<RawRecord> {
    let received = 0;
    async function* records(): AsyncGenerator<RawRecord> {
      const codes = [...new Set([...tally.projects, ...tally.facilities])].sort();
      const differences: string[] = [];
      for (const code of codes) {
        const path = `projects/${encodeURIComponent(code)}`;
        const { body } = await http.getText(path);
        let page;
        try {
          page = projectPage(body);
        } catch (error) {
          if (error instanceof PageError) throw new Error(`${PURO} project ${code}: GET ${path}: ${error.message}; nothing was stored`, { cause: error });
          throw error;
        }
        const listed = { issued: tally.issued.get(code) ?? 0, retired: tally.retired.get(code) ?? 0 };
        if (!tally.projects.has(code)) differences.push(`project ${code} has bundles but is not in the projects list`);
        if (page.issued !== listed.issued) differences.push(`project ${code}: its page states ${page.issued.toLocaleString('en-US')} issued, the issuance list adds up to ${listed.issued.toLocaleString('en-US')}`);
        if (page.retired !== listed.retired) differences.push(`project ${code}: its page states ${page.retired.toLocaleString('en-US')} retired, the retirement list adds up to ${listed.retired.toLocaleString('en-US')}`);
        received += 1;
        yield {
          stream: 'project-totals',
          locator: `project page ${code}`,
          recordKey: code,
          payload: { code, issuedCredits: page.issued, retiredCredits: page.retired, ...(page.countryName ? { countryName: page.countryName, countryFlag: page.countryFlag } : {}) },
        };
      }
      if (differences.length > 0) {
        throw new Error(`${PURO}: the lists do not add up to the totals the projects' own pages state (${differences.length} difference${differences.length === 1 ? '' : 's'}: ` +
          `${differences.slice(0, 5).join('; ')}${differences.length > 5 ? '; …' : ''}); the pull is incomplete or the site changed while it ran, and nothing was stored`);
      }
    }
    return { [Symbol.asyncIterator]: records, reported: () => undefined, received: () => received };
  }
  // The registry's own figures are kept as received and as stated totals (jobs/reconcile.ts); they are evidence, not ledger rows.
  return { name: 'project-totals', totalField: 'Issued credits / Retired credits on each project page', pull, map: mapProjectTotals };
}

export const puroApi: ApiMode<PuroConfig> = {
  config: puroConfig,
  http: (config) => httpOptions(PURO, config),
  async check(http, config) {
    const projects = await readPage(http, 'projects', 'projects list');
    return `${PURO}: ${projects.length.toLocaleString('en-US')} projects listed at ${config.baseUrl}/projects`;
  },
  streams(config) {
    const tally: Tally = { projects: new Set(), facilities: new Set(), issued: new Map(), retired: new Map() };
    return [
      listStream('projects', tally, mapProject, isPuroProject),
      listStream('issuances', tally, mapIssuance, isPuroTransaction('Issuance')),
      listStream('retirements', tally, mapRetirement, isPuroTransaction('Retirement'), config.projectTotals ? { snapshotOf: ['retired'] } : {}),
      ...(config.projectTotals ? [projectTotalsStream(tally)] : []),
    ];
  },
};
