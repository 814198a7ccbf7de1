import { z } from 'zod';
import type { HttpClient } from '../runtime/http.ts';
import type { PagedStream } from '../runtime/paging.ts';
import { entityReader, type EntityReader } from '../runtime/entity.ts';
import type { ApiMode, ApiStream, Mapped, RawRecord, RowError } from '../types.ts';
import { corsiaPhase, creditBlockMapper } from './map-issuances.ts';
import { projects as projectExport } from './map-projects.ts';
import { parseGoldStandardSerial } from './serial.ts';
import { isRecord } from '../runtime/values.ts';
import { httpConfig, httpOptions } from '../runtime/http-config.ts';

// Gold Standard's public REST API (reference/registries.md §2.1; rb-carbon-scraper
// `docs/api-contract-gs.md`, measured 2026-07-28): `GET {base}/projects?page=N&size=S` and
// `GET {base}/credits?page=N&size=S`, pages numbered from 1, bodies bare JSON arrays. What the pull
// must get right:
// - no key, but Cloudflare answers 403 (an HTML page) to a client without a browser User-Agent;
// - `projects` silently clamps `size` to 150 and `credits` answers 403 above 25, so the page sizes are
//   capped in the configuration: a larger `projects` size would end the pull after one short page;
// - the totals are only in headers: `X-Total-Count` (records) and, on credits, `X-Total-Number-Of-Credits`
//   (units); the body has no envelope;
// - records come in descending `id`, stably, with no result window: plain paging is safe, but a block
//   created while the pull runs (every partial retirement splits one) enters at the front and pushes
//   every later page back by one, so the next page repeats a record already read. Those repeats are
//   dropped, and anything else out of order fails the pull rather than being trusted;
// - 429s, sometimes with a bogus `Retry-After: 0` (the HTTP client then backs off on its own);
// - `project_id` and `status` query parameters are ignored (the whole index comes back), so no
//   filter is used.
//
// Records are mapped by the file mode's own mappers (map-projects.ts, map-issuances.ts), fed the API's
// fields under the export's column names, so both modes give the same keys and read every quirk
// alike: `GS<sustaincert_id>` projects, blocks keyed by their serial, issuances `<vintage>/<batch>`.

const REGISTRY = 'gold-standard';

export const goldStandardConfig = httpConfig({
  baseUrl: 'https://public-api.goldstandard.org',
  /** About one request a second, as the registry's other readers keep to: a full credits pull is ~7,300 pages. */
  minIntervalMs: 1_000,
  timeoutMs: 60_000,
  retries: 6,
  baseDelayMs: 2_000,
}).extend({
  /** `projects` clamps larger sizes to 150 without saying so. */
  projectsPageSize: z.number().int().min(1).max(150).default(150),
  /** `credits` answers 403 above 25 (each block embeds its whole project). */
  creditsPageSize: z.number().int().min(1).max(25).default(25),
});
export type GoldStandardConfig = z.infer<typeof goldStandardConfig>;

type Collection = 'projects' | 'credits';
type Entity = Record<string, unknown>;


/** A whole-number count from a response header; the API's only record of its totals. */
function headerCount(headers: Record<string, string>, name: string, what: string): number {
  const raw = headers[name];
  if (raw === undefined || !/^\d+$/.test(raw.trim())) {
    throw new Error(`${REGISTRY} ${what}: the response has ${raw === undefined ? 'no' : `an unreadable (${JSON.stringify(raw)})`} ${name} header; ` +
      'the API reports its totals only there, so the pull cannot be reconciled: the API has changed');
  }
  return Number(raw.trim());
}

async function fetchPage(http: HttpClient, collection: Collection, page: number, size: number) {
  const { body, headers } = await http.getJson<unknown>(collection, { query: { page, size } });
  if (!Array.isArray(body)) {
    const shape = body === null ? 'null' : typeof body === 'object' ? `an object with keys ${Object.keys(body).slice(0, 5).join(', ')}` : typeof body;
    throw new Error(`${REGISTRY} ${collection} page ${page}: expected a JSON array of records, got ${shape}; the API has changed`);
  }
  return { items: body as unknown[], headers };
}

/** Every record of one collection, newest first, with the total `X-Total-Count` gave on the first page. */
function pullCollection(http: HttpClient, collection: Collection, size: number): PagedStream<RawRecord> {
  let reported: number | undefined;
  let received = 0;

  async function* all(): AsyncGenerator<RawRecord> {
    // Ids read so far and the lowest of them: each record must come below the last one, unless it
    // is one already read, pushed onto this page by records created since the pull began.
    const seen = new Set<number>();
    let lowest = Number.POSITIVE_INFINITY;
    for (let page = 1; ; page += 1) {
      const { items, headers } = await fetchPage(http, collection, page, size);
      const total = headerCount(headers, 'x-total-count', `${collection} page ${page}`);
      reported ??= total;
      for (const item of items) {
        const id = isRecord(item) && typeof item.id === 'string' && /^\d+$/.test(item.id) ? Number(item.id)
          : isRecord(item) && Number.isSafeInteger(item.id) ? (item.id as number) : undefined;
        if (id === undefined) {
          throw new Error(`${REGISTRY} ${collection} page ${page}: a record has no numeric id (${JSON.stringify(isRecord(item) ? item.id : item)?.slice(0, 60)}); the API has changed`);
        }
        if (id >= lowest) {
          if (seen.has(id)) continue;
          throw new Error(`${REGISTRY} ${collection} page ${page}: record ${id} comes after record ${lowest}, but the API is expected to serve ` +
            'records in descending id; paging cannot be trusted, so nothing was stored');
        }
        seen.add(id);
        lowest = id;
        received += 1;
        yield { stream: collection, locator: `${collection} id ${id}`, recordKey: String(id), payload: item as Entity };
      }
      if (items.length < size) return;
    }
  }

  return { [Symbol.asyncIterator]: all, reported: () => reported, received: () => received };
}

/** A JSON value as an export cell: the file mappers read text, as the CSV gives it. */
function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/**
 * Runs a file-mode mapper on an API record laid out as an export row, and names the API's fields (not
 * the export's columns) in its errors, so a message points at what the API sent.
 */
function viaExportMapper(map: (row: Record<string, string>, locator: string) => Mapped, row: Record<string, string>, locator: string,
  fieldOf: Readonly<Record<string, string>>): Mapped {
  const mapped = map(row, locator);
  const errors = mapped.errors.map((e): RowError => {
    const field = e.field === undefined ? undefined : fieldOf[e.field];
    if (!field) return e;
    return { ...e, field, message: e.message.replace(`${locator}: ${e.field}:`, `${locator}: ${field}:`) };
  });
  return { records: mapped.records, errors };
}

/** "Goal 13: Climate Action" → "13", as the project export writes its goals; anything else passes as written, for the mapper to report. */
function goalNumbers(goals: unknown): string {
  if (!Array.isArray(goals)) return '';
  return goals.map((g) => {
    const name = isRecord(g) ? cell(g.name) : cell(g);
    return /^\s*Goal\s+(\d+)\b/i.exec(name)?.[1] ?? name.replace(/,/g, ' ');
  }).join(',');
}

/** GS labels come as enum names (`EMISSION_REDUCTION`); the export writes them as words (`Emission Reduction`, `ICVCM CCP`). */
const labelWords = (labels: unknown) => (Array.isArray(labels) ? labels.map((l) => cell(l).replace(/_/g, ' ')).join(', ') : '');

/** The API's field for each export column the mappers read, for error messages. */
const PROJECT_FIELDS = {
  GSID: 'sustaincert_id', 'Project Name': 'name', 'Project Developer Name': 'project_developer', Status: 'status',
  'Sustainable Development Goals': 'sustainable_development_goals', Country: 'country', Methodology: 'methodology',
  'Estimated Annual Credits': 'estimated_annual_credits',
} as const;

function mapProject(e: Entity, locator: string): Mapped {
  const row: Record<string, string> = {
    GSID: cell(e.sustaincert_id),
    'Project Name': cell(e.name),
    'Project Developer Name': cell(e.project_developer),
    Status: cell(e.status),
    'Sustainable Development Goals': goalNumbers(e.sustainable_development_goals),
    Country: cell(e.country),
    Methodology: cell(e.methodology),
    'Estimated Annual Credits': cell(e.estimated_annual_credits),
  };
  const mapped = viaExportMapper(projectExport.map, row, locator, PROJECT_FIELDS);
  // What the API has and the project export lacks: crediting period, location, labels.
  const r = entityReader(e, locator);
  const creditingPeriodStart = r.date('crediting_period_start_date');
  const creditingPeriodEnd = r.date('crediting_period_end_date');
  const latitude = r.number('latitude');
  const longitude = r.number('longitude');
  const errors = [...mapped.errors, ...r.errors];
  if (errors.length > 0) return { records: [], errors };
  const project = mapped.records.find((rec) => rec.type === 'project');
  if (!project) return mapped;
  // Coordinates come as strings ("13.0078") or null; 0,0 and out-of-range pairs are no location.
  const located = latitude !== undefined && longitude !== undefined && Math.abs(latitude) <= 90 && Math.abs(longitude) <= 180
    && !(latitude === 0 && longitude === 0);
  return {
    records: [{
      ...project,
      creditingPeriodStart,
      creditingPeriodEnd,
      latitude: located ? latitude : undefined,
      longitude: located ? longitude : undefined,
      eligibility: /\bCCP\b/.test(labelWords(e.labels)) ? ['ccp-approved'] : [],
    }],
    errors: [],
  };
}

const CREDIT_FIELDS = {
  GSID: 'project.sustaincert_id', 'Project Name': 'project.name', 'Project Developer': 'project.project_developer', Country: 'project.country',
  Methodology: 'project.methodology', Vintage: 'vintage', 'Credit Status': 'status', Quantity: 'number_of_credits',
  'Product Type': 'product.abbreviation', 'Issuance Date': 'certified_date', 'Monitoring Period Start': 'monitoring_period_start_date',
  'Monitoring Period End': 'monitoring_period_end_date', 'Serial Number': 'serial_number', Label: 'labels', Note: 'note',
  'Use Case': 'retirement_use_case',
} as const;

/** The retirement export's mapper reads a block in its current state, with an issuance summed from blocks: what an API block is. */
const blockMapper = creditBlockMapper('retirement-export');

/**
 * The block's own batch and unit fields must say what its serial says: the serial gives the keys
 * both modes share, the fields are the API's separate statement of it (CER blocks carry a Kyoto
 * serial with no GS batch, and are not checked).
 */
function serialAgreesWithFields(r: EntityReader): void {
  const parsed = parseGoldStandardSerial(r.text('serial_number') ?? '');
  if (!parsed.ok || parsed.range.numberSpace.startsWith('cdm:')) return;
  const batch = Number(parsed.range.raw.split('-')[6]);
  const fromSerial: [string, number][] = [['batch_number', batch], ['starting_credit_number', parsed.range.start], ['ending_credit_number', parsed.range.end]];
  for (const [field, expected] of fromSerial) {
    const stated = r.number(field);
    if (stated !== undefined && stated !== expected) r.fail(field, 'serial-fields-mismatch', `${stated} disagrees with the serial ${parsed.range.raw}, which says ${expected}`);
  }
}

function mapCredit(e: Entity, locator: string): Mapped {
  const r = entityReader(e, locator);
  const project = r.record('project');
  if (!project && r.errors.length === 0) r.fail('project', 'missing', 'is empty; a credit block embeds its project');
  if (!project) return { records: [], errors: r.errors };
  const product = r.record('product') ?? {};
  const row: Record<string, string> = {
    GSID: cell(project.sustaincert_id),
    'Project Name': cell(project.name),
    'Project Developer': cell(project.project_developer),
    Country: cell(project.country),
    Methodology: cell(project.methodology),
    Vintage: cell(e.vintage),
    'Credit Status': cell(e.status),
    Quantity: cell(e.number_of_credits),
    'Product Type': cell(product.abbreviation),
    'Issuance Date': cell(e.certified_date),
    'Monitoring Period Start': cell(e.monitoring_period_start_date),
    'Monitoring Period End': cell(e.monitoring_period_end_date),
    'Serial Number': cell(e.serial_number),
    Label: labelWords(e.labels),
    Note: cell(e.note),
    // Named in the reference for retired blocks, absent from every captured block. The API has no
    // retirement date, using entity or Article 6 field (none captured): those stay empty.
    'Use Case': cell(e.retirement_use_case),
  };
  const mapped = viaExportMapper(blockMapper, row, locator, CREDIT_FIELDS);
  serialAgreesWithFields(r);
  const corsiaEligible = r.boolean('is_corsia_eligible');
  const errors = [...mapped.errors, ...r.errors];
  if (errors.length > 0) return { records: [], errors };
  const phase = corsiaEligible ? corsiaPhase(mapped.records.find((rec) => rec.type === 'block')?.vintageYear) : undefined;
  if (!phase) return mapped;
  return {
    records: mapped.records.map((rec) => (rec.type === 'block' ? { ...rec, eligibility: [...(rec.eligibility ?? []), phase] } : rec)),
    errors: [],
  };
}

export const goldStandardApi: ApiMode<GoldStandardConfig> = {
  config: goldStandardConfig,
  http: (config) => httpOptions(REGISTRY, config, {
    browserUserAgent: true,
  }),
  async check(http) {
    const projects = await fetchPage(http, 'projects', 1, 1);
    const credits = await fetchPage(http, 'credits', 1, 1);
    const projectCount = headerCount(projects.headers, 'x-total-count', 'projects');
    const blockCount = headerCount(credits.headers, 'x-total-count', 'credits');
    if (projectCount === 0) throw new Error(`${REGISTRY}: the API answered but lists no projects; check baseUrl`);
    const units = credits.headers['x-total-number-of-credits'];
    const n = (v: number) => v.toLocaleString('en-US');
    return `${REGISTRY}: ${n(projectCount)} projects and ${n(blockCount)} credit blocks${units && /^\d+$/.test(units) ? ` (${n(Number(units))} credits)` : ''} on the public API`;
  },
  streams: (config): ApiStream[] => [
    { name: 'projects', totalField: 'X-Total-Count', recognises: (e) => 'sustaincert_id' in e && !('serial_number' in e), pull: (http) => pullCollection(http, 'projects', config.projectsPageSize), map: (raw) => mapProject(raw.payload, raw.locator) },
    // The credits collection is every block GS has, in its current state: blocks a pull no longer lists
    // were split (a partial retirement) or removed, and are superseded.
    { name: 'credits', totalField: 'X-Total-Count', recognises: (e) => 'serial_number' in e && 'number_of_credits' in e, snapshotOf: ['held', 'retired', 'cancelled', 'exported'], pull: (http) => pullCollection(http, 'credits', config.creditsPageSize), map: (raw) => mapCredit(raw.payload, raw.locator) },
  ],
};
