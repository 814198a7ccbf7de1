import { z } from 'zod';
import type { BlockRecord, IssuanceRecord, ProjectRecord } from '../../schema/canonical.ts';
import type { HttpClient } from '../runtime/http.ts';
import type { PagedStream } from '../runtime/paging.ts';
import { entityReader, mapped, type EntityReader } from '../runtime/entity.ts';
import { tokenizationMarker } from '../runtime/row.ts';
import type { ApiMode, ApiStream, Mapped, RawRecord, UnitStatus } from '../types.ts';
import { isRecord } from '../runtime/values.ts';
import { httpConfig, httpOptions } from '../runtime/http-config.ts';

// S&P Global's registry platform (reference/registries.md §0, §1.1): Verra and the other tenants
// serve the same public report API, an Elasticsearch index behind
// `POST {base}/{resource}/publicReportPageSearch`. The platform app lists its tenants as `VERRA`
// (connectors/verra), `PVCL` (connectors/plan-vivo), `BCCR` (connectors/bc-carbon-registry), `GCC`
// (connectors/global-carbon-council), `UKLR` (connectors/uk-land-carbon-registry), `OxCP`
// (connectors/oxcarbon, taken to be OxCarbon and checked at each pull), `RAAS` (the platform's own
// product name, "Registry as a Service": no registry) and `KRR` (not identified: no connector).
// What the adapter must get right, each learnt the hard way by earlier scrapers:
// - tenant headers (`registry`, `standardid`, `standardacronym`): a wrong `standardid` answers 200
//   with zero rows, which looks like an empty registry, so `check` insists on a non-empty project list.
//   A tenant whose standard ids are not documented reads them from the platform's own list
//   (`{cms}/public/standardsByRegistry/<tenant>`, unauthenticated, what the web app loads on every
//   page) at the start of each pull, checks that what it lists is the registry the tenant is taken
//   for, and sends each standard's headers with each request (a tenant may hold several standards:
//   the UK Land Carbon Registry holds the Woodland Carbon Code and the Peatland Code);
// - pages of at most 400 rows, always sorted by `entityId` (without a sort, pages overlap and skip);
// - `start` stops at 10,000: a larger query is split by filters, and a filter counts only once it is
//   proven to narrow (a value that cannot match must return 0, because the API silently ignores
//   filters it does not understand and then returns the whole index); the partitions' totals must
//   add up to the whole, or the pull fails instead of losing rows.

export const platformConfig = httpConfig({
  baseUrl: 'https://prod-us.api.platts.com/ci-raas-prod/raas-report-api/es/public',
  minIntervalMs: 250,
  timeoutMs: 60_000,
  retries: 5,
  baseDelayMs: 1_000,
}).extend({
  /** Where the platform lists each tenant's standards (`{cmsBaseUrl}/public/standardsByRegistry/<tenant>`). */
  cmsBaseUrl: z.string().url().default('https://prod-us.api.platts.com/ci-raas-prod/cms-resources'),
  /** The public app key and XSRF token the registry's web app sends (its environment.config.json). */
  appKey: z.string().optional(),
  xsrfToken: z.string().optional(),
  pageSize: z.number().int().min(1).max(400).default(400),
  /** Elasticsearch's result window: `start` + `limit` may not pass it. */
  window: z.number().int().min(1).default(10_000),
});
export type PlatformConfig = z.infer<typeof platformConfig>;

type FilterModel = Record<string, { columnFilters: { filterType: 'Text'; type: 'equals'; filter: string }[] }>;

/** A field a large query can be split on, with the values to try. */
export type PartitionKey = { field: string; values: () => readonly string[] };

export type PlatformResource = {
  /** Path segment: `project`, `issuances`, `retirements`, `cancellations`, `holdings`. */
  resource: string;
  stream: string;
  /**
   * The report's name in a standard's `publicReportExport` (`PROJECTS`, `ISSUANCES_LISTINGS`,
   * `HOLDINGS`, `RETIREMENTS`, `CANCELLATIONS`): with standards read from the platform, a standard
   * that says the report is not public is not asked for it.
   */
  report?: string;
  partitionKeys?: readonly PartitionKey[];
  /** Unit statuses the resource lists completely (ApiStream.snapshotOf). */
  snapshotOf?: readonly UnitStatus[];
  /** Fields that mark an entity of this resource (the tenant is checked by its standardId). */
  recognises(entity: Record<string, unknown>): boolean;
  map(entity: Record<string, unknown>, locator: string): Mapped;
};

/** A standard of a tenant, as the platform lists it at `standardsByRegistry/<tenant>`. */
export type PlatformStandard = {
  id: string;
  /** `metaData`: what the `standardacronym` header carries. */
  acronym: string;
  name: string;
  /** `publicReportExport`: which reports the standard publishes (`PROJECTS: true`, `BUFFERS: false`…). */
  publicReports: Readonly<Record<string, boolean>>;
};

export type PlatformTenant = {
  registry: string;
  /** The `registry` header: `VERRA`, `PVCL` (Plan Vivo), `UKLR`, `GCC`… */
  tenant: string;
  /** The standard to read, where its id is documented (Verra's VCS, Plan Vivo's PV Climate); else `discover`. */
  standardId?: string;
  standardAcronym?: string;
  /** Standards read from the platform at pull time, for a tenant whose ids are not documented. */
  discover?: {
    /** What the tenant's standards are taken to be, for messages: "named for the Global Carbon Council". */
    describe: string;
    /** Whether a listed standard is this registry's; the pull fails when none is, naming what is listed. */
    matches(standard: PlatformStandard): boolean;
    /** Whether a record of a saved response is of this registry's standards (its `standardId`, `standardName`). */
    recognises(entity: Record<string, unknown>): boolean;
  };
  resources: readonly PlatformResource[];
};

/** A standard as a pull reads it: discovered ones carry their own headers; a documented one's go with every request. */
type Reading = PlatformStandard & { headers?: Record<string, string> };

type SearchPage = { entities?: Record<string, unknown>[]; totalEntities?: number };

const equals = (value: string) => ({ columnFilters: [{ filterType: 'Text' as const, type: 'equals' as const, filter: value }] });
const describeFilter = (filter: FilterModel) =>
  Object.entries(filter).map(([field, f]) => `${field} = "${f.columnFilters[0]?.filter}"`).join(' and ') || 'no filter';

/** A value no real record has: a filter that returns anything for it was ignored by the API. */
const IMPOSSIBLE = 'tally-filter-probe-no-such-value';

function search(http: HttpClient, resource: string, start: number, limit: number, filterModel: FilterModel, standard?: Reading) {
  return http.postJson<SearchPage>(`${resource}/publicReportPageSearch`, {
    searchFilter: {
      pagination: { start, limit, sortOptions: [{ sort: 'entityId', dir: 'ASC' }] },
      filterModel,
    },
  }, standard?.headers ? { headers: standard.headers } : {});
}

async function countOf(http: HttpClient, tenant: PlatformTenant, resource: string, filterModel: FilterModel, standard?: Reading): Promise<number> {
  const { body } = await search(http, resource, 0, 1, filterModel, standard);
  if (typeof body?.totalEntities !== 'number') {
    throw new Error(`${tenant.registry} ${resource}${within(standard)}: the response has no totalEntities; the report API has changed`);
  }
  return body.totalEntities;
}

/** Names the standard in messages where the tenant's standards were read from the platform. */
const within = (standard: Reading | undefined) => (standard?.headers ? ` (standard ${standard.acronym}, ${standard.id})` : '');


/** What the platform lists for a tenant, per HTTP client (one read per pull). */
const listed = new WeakMap<HttpClient, Map<string, Promise<PlatformStandard[]>>>();

async function listStandards(http: HttpClient, config: PlatformConfig, tenant: PlatformTenant): Promise<PlatformStandard[]> {
  const url = `${config.cmsBaseUrl.replace(/\/+$/, '')}/public/standardsByRegistry/${encodeURIComponent(tenant.tenant)}`;
  const { body } = await http.getJson<unknown>(url);
  if (!Array.isArray(body)) {
    throw new Error(`${tenant.registry}: the platform's list of standards for tenant ${tenant.tenant} is not a list (${url}); the platform has changed`);
  }
  return body.filter(isRecord).map((s) => ({
    id: String(s.id ?? ''),
    acronym: typeof s.metaData === 'string' ? s.metaData : '',
    name: typeof s.name === 'string' ? s.name : '',
    publicReports: isRecord(s.publicReportExport)
      ? Object.fromEntries(Object.entries(s.publicReportExport).filter(([, v]) => typeof v === 'boolean')) as Record<string, boolean>
      : {},
  })).filter((s) => /^\d+$/.test(s.id));
}

/** The standards a pull reads: the documented one, or those the platform lists that are the tenant's. */
async function standardsOf(http: HttpClient, config: PlatformConfig, tenant: PlatformTenant): Promise<Reading[]> {
  const { discover } = tenant;
  if (!discover) return [{ id: tenant.standardId!, acronym: tenant.standardAcronym!, name: tenant.standardAcronym!, publicReports: {} }];
  let byTenant = listed.get(http);
  if (!byTenant) listed.set(http, (byTenant = new Map()));
  let pending = byTenant.get(tenant.tenant);
  if (!pending) byTenant.set(tenant.tenant, (pending = listStandards(http, config, tenant)));
  const all = await pending;
  const mine = all.filter((s) => discover.matches(s));
  if (mine.length === 0) {
    const seen = all.map((s) => `${s.name || '(no name)'} (${s.id}, ${s.acronym || 'no acronym'})`).join(', ') || 'no standards';
    throw new Error(`${tenant.registry}: the platform lists ${seen} for tenant ${tenant.tenant}, none of them ${discover.describe}; ` +
      'nothing was read (the tenant may have changed hands: check the registry\'s public site)');
  }
  return mine.map((s) => ({ ...s, headers: { standardid: s.id, standardacronym: s.acronym } }));
}

/** Every record of one resource, split into partitions of at most `window` records where needed. */
function pullResource(http: HttpClient, config: PlatformConfig, tenant: PlatformTenant, spec: PlatformResource): PagedStream<RawRecord> {
  let reported: number | undefined;
  let received = 0;
  const { resource } = spec;

  async function* page(standard: Reading, filterModel: FilterModel, total: number): AsyncGenerator<RawRecord> {
    let got = 0;
    for (let start = 0; start < total; start += config.pageSize) {
      const { body } = await search(http, resource, start, config.pageSize, filterModel, standard);
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
      throw new Error(`${tenant.registry} ${resource}${within(standard)}: ${describeFilter(filterModel)} reported ${total} records and served ${got}; the pull is incomplete and nothing was stored`);
    }
  }

  async function* partition(standard: Reading, filterModel: FilterModel, total: number, keys: readonly PartitionKey[]): AsyncGenerator<RawRecord> {
    if (total <= config.window) {
      yield* page(standard, filterModel, total);
      return;
    }
    const [key, ...rest] = keys;
    if (!key) {
      throw new Error(`${tenant.registry} ${resource}${within(standard)}: ${total} records under ${describeFilter(filterModel)} exceed the ${config.window}-record window and no filter is left to split them`);
    }
    const probe = await countOf(http, tenant, resource, { ...filterModel, [key.field]: equals(IMPOSSIBLE) }, standard);
    if (probe !== 0) {
      throw new Error(`${tenant.registry} ${resource}${within(standard)}: the API ignores the filter on ${key.field} (an impossible value matched ${probe} records), so it cannot split ${total} records`);
    }
    let covered = 0;
    for (const value of key.values()) {
      const narrowed = { ...filterModel, [key.field]: equals(value) };
      const count = await countOf(http, tenant, resource, narrowed, standard);
      if (count === 0) continue;
      covered += count;
      yield* partition(standard, narrowed, count, rest);
      // Values are tried most likely first; once every record is covered the rest would all be 0.
      if (covered >= total) break;
    }
    if (covered !== total) {
      throw new Error(`${tenant.registry} ${resource}${within(standard)}: splitting ${describeFilter(filterModel)} by ${key.field} covered ${covered} of ${total} records; the values tried miss some, so nothing was stored`);
    }
  }

  async function* all(): AsyncGenerator<RawRecord> {
    // A standard that says this report is not public is not asked for it (the platform answers a
    // generic 500 for a report it does not serve).
    const standards = (await standardsOf(http, config, tenant)).filter((s) => !spec.report || s.publicReports[spec.report] !== false);
    const totals: number[] = [];
    for (const standard of standards) totals.push(await countOf(http, tenant, resource, {}, standard));
    reported = totals.reduce((sum, n) => sum + n, 0);
    for (const [i, standard] of standards.entries()) yield* partition(standard, {}, totals[i]!, spec.partitionKeys ?? []);
  }

  return { [Symbol.asyncIterator]: all, reported: () => reported, received: () => received };
}

/** The API mode of one tenant of the platform. */
export function platformApi(tenant: PlatformTenant): ApiMode<PlatformConfig> {
  if (Boolean(tenant.standardId) === Boolean(tenant.discover) || Boolean(tenant.standardId) !== Boolean(tenant.standardAcronym)) {
    throw new Error(`${tenant.registry}: a platform tenant names either its standard (standardId and standardAcronym) or how to discover it, not both`);
  }
  const { discover } = tenant;
  return {
    config: platformConfig,
    http: (config) => httpOptions(tenant.registry, config, {
      baseUrl: config.baseUrl.endsWith('/') ? config.baseUrl : `${config.baseUrl}/`,
      browserUserAgent: true,
      headers: {
        registry: tenant.tenant,
        // A discovering tenant sends each standard's ids with each request instead.
        ...(tenant.standardId ? { standardid: tenant.standardId, standardacronym: tenant.standardAcronym! } : {}),
        language: 'en',
        application: 'Markit',
        ...(config.appKey ? { appkey: config.appKey } : {}),
        ...(config.xsrfToken ? { 'x-xsrf-token': config.xsrfToken } : {}),
      },
    }),
    async check(http, config) {
      const standards = await standardsOf(http, config, tenant);
      let projects = 0;
      for (const standard of standards) projects += await countOf(http, tenant, tenant.resources[0]?.resource ?? 'project', {}, standard);
      // A wrong standardid answers 200 with nothing: an empty registry is a configuration error.
      if (projects === 0) throw new Error(`${tenant.registry}: the report API answered but lists no projects; check the tenant headers (registry ${tenant.tenant}, standardid ${standards.map((s) => s.id).join(', ')})`);
      const read = discover ? ` (tenant ${tenant.tenant}: ${standards.map((s) => `${s.name} ${s.id}`).join(', ')})` : '';
      return `${tenant.registry}: ${projects} projects on the S&P Global registry platform${read}`;
    },
    streams: (config): ApiStream[] => tenant.resources.map((spec) => ({
      name: spec.stream,
      totalField: 'totalEntities',
      ...(spec.snapshotOf ? { snapshotOf: spec.snapshotOf } : {}),
      recognises: (e) => (discover ? discover.recognises(e) : String(e.standardId) === tenant.standardId) && spec.recognises(e),
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

/**
 * A figure the platform writes as 0 where a record has none (a buffer, a reserve, a share of proceeds):
 * a positive number, or nothing.
 */
export const positive = (value: number | undefined): number | undefined => (value !== undefined && value > 0 ? value : undefined);

// ---- Records of a tenant whose serial format is not documented ----
//
// The other tenants (BC Carbon Registry, Global Carbon Council, UK Land Carbon Registry, OxCarbon)
// serve the records Verra and Plan Vivo serve, with the same field names; what no public source
// documents is how each writes its serials. Their serials are kept as written (`serialRaw`), never
// parsed by guess, so their blocks are not compared by range until a parser for the format exists.

type Entity = Record<string, unknown>;

/** Platform statuses across tenants (Verra's display names, Plan Vivo's `Active`, the UK codes' Under development / Validated / Verified). */
export function platformProjectStatus(status: string | undefined): ProjectRecord['status'] {
  switch (status?.trim().toLowerCase()) {
    case 'active': case 'registered': case 'verified': return 'registered';
    case 'under development': case 'under validation': case 'listed': case 'pipeline': return 'listed';
    case 'validated': return 'validated';
    case 'withdrawn': return 'withdrawn';
    case 'inactive': return 'completed';
    // "Not delivered" (validated, never verified) and anything else: the raw status says it.
    default: return undefined;
  }
}

/** `vintage` `2022 - 2023` or `2024`: the year it starts. */
function vintageYearOf(r: EntityReader): number | undefined {
  const m = /^(\d{4})\b/.exec(r.text('vintage') ?? '');
  return m ? Number(m[1]) : undefined;
}

type Serialized = { id: string; quantity: number; serial: string };

/** The fields every serialized record shares: project, quantity, the serial as written. */
function serialized(r: EntityReader, serialField: string): Serialized | undefined {
  const id = r.required('projectId', r.text('projectId') ?? r.text('publicProjectId'));
  const quantity = r.quantity('holdingQuantity');
  const serial = r.required(serialField, r.text(serialField));
  return id && quantity !== undefined && serial ? { id, quantity, serial } : undefined;
}

/** The period a record's units were generated in, where it states one whose end does not precede its start. */
function vintagePeriod(r: EntityReader): { vintageStart?: string; vintageEnd?: string } {
  const vintageStart = r.date('periodStartDate') ?? r.date('monitoringPeriodStart');
  const vintageEnd = r.date('periodEndDate') ?? r.date('monitoringPeriodEnd');
  return vintageStart && vintageEnd && vintageEnd < vintageStart ? {} : { vintageStart, vintageEnd };
}

/**
 * The platform's five reports mapped for a tenant whose serial format is not documented: projects,
 * issuances (keyed by their serial, as Plan Vivo's: no batch number is published), holdings (held or
 * buffer), retirements and cancellations (Verra's field names; cancellations in snake_case).
 */
export function rawSerialResources(registry: string, label: string): PlatformResource[] {
  const project = (r: EntityReader, id: string): ProjectRecord => ({
    type: 'project', registry, registryProjectId: id,
    name: r.text('projectName') ?? r.text('publicProjectName') ?? `${label} ${id}`,
    country: r.text('countryName'), methodology: r.text('methodologies'), eligibility: [], coBenefits: [],
  });
  const unit = (r: EntityReader) => (r.text('unitClass') ?? r.text('unitClassName') ?? r.text('unitType'))?.toLowerCase();

  function mapProject(e: Entity, locator: string): Mapped {
    const r = entityReader(e, locator);
    const id = r.required('projectId', r.text('projectId'));
    if (!id) return { records: [], errors: r.errors };
    // 0 stands for no coordinate.
    const latitude = r.number('latitude');
    const longitude = r.number('longitude');
    const located = latitude && longitude && Math.abs(latitude) <= 90 && Math.abs(longitude) <= 180;
    let creditingPeriodStart = r.date('creditPeriodStartDate') ?? r.date('projectStartDate');
    let creditingPeriodEnd = r.date('creditPeriodEndDate') ?? r.date('projectEndDate');
    if (creditingPeriodStart && creditingPeriodEnd && creditingPeriodEnd < creditingPeriodStart) creditingPeriodStart = creditingPeriodEnd = undefined;
    const status = r.text('status');
    return mapped(r, [{
      ...project(r, id),
      proponent: r.text('proponents')?.replace(/ \(PP\)/g, '') ?? r.text('accountName'),
      region: r.text('regionName'),
      status: platformProjectStatus(status),
      statusRaw: status,
      registeredOn: r.date('projectRegistrationDate'),
      creditingPeriodStart,
      creditingPeriodEnd,
      estimatedAnnualQuantity: positive(r.number('avgAnnualVolVcu')),
      latitude: located ? latitude : undefined,
      longitude: located ? longitude : undefined,
    }]);
  }

  function mapIssuance(e: Entity, locator: string): Mapped {
    const r = entityReader(e, locator);
    const s = serialized(r, 'serialNo');
    if (!s) return { records: [], errors: r.errors };
    const issuance: IssuanceRecord = {
      type: 'issuance', registry, registryProjectId: s.id,
      // No batch number is published and the serial is not parsed: the serial string is the issuance.
      issuanceKey: `serial ${s.serial}`,
      ...vintagePeriod(r),
      vintageYear: vintageYearOf(r),
      issuedOn: r.date('issueDate'),
      quantity: s.quantity,
      quantityFromBlocks: false,
      creditType: unit(r),
      bufferQuantity: positive(r.number('unitsIssuedInPermanenceBufferAccount')),
      caReserveQuantity: positive(r.number('unitsIssuedInCorrespondingAdjustmentReserveAccount')),
      omgeQuantity: positive(r.number('omgeQuantity')),
      shareOfProceedsQuantity: positive(r.number('adaptationFundQuantity')),
    };
    return mapped(r, [project(r, s.id), issuance]);
  }

  const block = (r: EntityReader, s: Serialized, status: UnitStatus): BlockRecord => ({
    type: 'block', registry, registryProjectId: s.id,
    blockKey: s.serial,
    serialRaw: s.serial,
    quantity: s.quantity,
    ...vintagePeriod(r),
    vintageYear: vintageYearOf(r),
    creditType: unit(r),
    status,
    accountHolder: r.text('accountName'),
    eligibility: [],
    article6Authorization: r.text('hcloaName') ?? r.text('letter_of_auth_hcloa'),
  });

  /** A block of one of the ledgers, with what that ledger adds to it. */
  function mapBlock(e: Entity, locator: string, serialField: string, read: (r: EntityReader, s: Serialized) => BlockRecord): Mapped {
    const r = entityReader(e, locator);
    const s = serialized(r, serialField);
    if (!s) return { records: [], errors: r.errors };
    return mapped(r, [project(r, s.id), read(r, s)]);
  }

  const mapHolding = (e: Entity, locator: string) =>
    mapBlock(e, locator, 'serialNo', (r, s) => block(r, s, r.boolean('isBuffer') ? 'buffer' : 'held'));

  const mapRetirement = (e: Entity, locator: string) => mapBlock(e, locator, 'serialNo', (r, s) => {
    const beneficiary = r.text('beneficialOwner');
    const details = r.text('retirementReasonDetails') ?? r.text('retirementRemarks');
    return {
      ...block(r, s, 'retired'),
      statusDate: r.date('retiredDate'),
      retirementBeneficiary: beneficiary,
      retirementReason: r.text('retirementReason'),
      retirementDetails: details,
      tokenizationMarker: tokenizationMarker(beneficiary, details),
    };
  });

  const mapCancellation = (e: Entity, locator: string) => mapBlock(e, locator, 'serial_no', (r, s) => ({
    ...block(r, s, 'cancelled'),
    statusDate: r.date('cancellation_date'),
    retirementReason: r.text('cancellationReason'),
    retirementDetails: [r.text('cancellationReasonDetails'), r.text('cancellation_remarks'), r.text('subAccountName')].filter(Boolean).join(' | ') || undefined,
  }));

  return [
    { resource: 'project', stream: 'projects', report: 'PROJECTS', recognises: platformEntity.project, map: mapProject },
    { resource: 'issuances', stream: 'issuances', report: 'ISSUANCES_LISTINGS', recognises: platformEntity.issuance, map: mapIssuance },
    { resource: 'holdings', stream: 'holdings', report: 'HOLDINGS', snapshotOf: ['held', 'buffer'], recognises: platformEntity.holding, map: mapHolding },
    { resource: 'retirements', stream: 'retirements', report: 'RETIREMENTS', snapshotOf: ['retired'], recognises: platformEntity.retirement, map: mapRetirement },
    { resource: 'cancellations', stream: 'cancellations', report: 'CANCELLATIONS', snapshotOf: ['cancelled'], recognises: platformEntity.cancellation, map: mapCancellation },
  ];
}
