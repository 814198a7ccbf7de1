import { z } from 'zod';
import type { HttpClient } from '../runtime/http.ts';
import { pageByCursor, type PagedStream } from '../runtime/paging.ts';
import type { ApiMode, ApiStream, Mapped, RawRecord, RowError } from '../types.ts';
import { kgOf, REGISTRY } from './credits.ts';
import { isometricIssuances } from './map-issuances.ts';
import { isometricProjects } from './map-projects.ts';
import { mapRetirement } from './map-retirements.ts';
import { httpConfig, httpOptions } from '../runtime/http-config.ts';

// Isometric's registry API (reference/registries.md §0, §3.5; the API's OpenAPI description as
// republished by api-evangelist/isometric-co `openapi/isometric-registry-api-openapi.json`):
// `GET {base}/projects`, `/issuances`, `/retirements` under `https://api.isometric.com/registry/v0`.
// - Every call needs a client secret in `X-Client-Secret` and an organisation's access token as
//   `Authorization: Bearer …` (both made in the registry's team settings); they live in the source's
//   configuration and are never written to logs or messages;
// - lists page Relay-style: `first` (at most 50) and `after` (the previous page's
//   `page_info.end_cursor`), answering `{nodes, page_info: {has_next_page, end_cursor, …}, total_count}`.
//   `total_count` is the whole list's size, so each stream reconciles with it;
// - a retirement names no project: its credit batches do, one more request per retirement
//   (`GET /retirements/{id}/credit_batches`, `{nodes, total_count}` without paging). The raw record
//   keeps the retirement with the batches received under `credit_batches`;
// - nodes are mapped by the file mode's mappers, fed the node flattened to the dotted names of the
//   export (`supplier.organisation.name`), so both modes give the same keys and read every quirk alike.

export const isometricConfig = httpConfig({
  baseUrl: 'https://api.isometric.com/registry/v0',
  minIntervalMs: 250,
  timeoutMs: 60_000,
  retries: 5,
  baseDelayMs: 1_000,
}).extend({
  /** The client secret, sent as `X-Client-Secret` on every call. */
  clientSecret: z.string().min(1).optional(),
  /** An organisation's access token (a JWT), sent as `Authorization: Bearer …`. */
  accessToken: z.string().min(1).optional(),
  /** Relay `first`: the API's maximum is 50. */
  pageSize: z.number().int().min(1).max(50).default(50),
}).refine((c) => (c.clientSecret === undefined) === (c.accessToken === undefined), {
  message: 'give both clientSecret and accessToken (the registry API wants both on every call), or neither',
});
export type IsometricConfig = z.infer<typeof isometricConfig>;

type Node = Record<string, unknown>;
type Connection = { nodes: Node[]; total: number; next: string | null };

const isNode = (value: unknown): value is Node => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A node as the export's row: nested objects as dotted names, lists as JSON, null as empty. */
export function flattenNode(node: Node, prefix = '', into: Record<string, string> = {}): Record<string, string> {
  for (const [key, value] of Object.entries(node)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (isNode(value)) flattenNode(value, name, into);
    else if (Array.isArray(value)) into[name] = JSON.stringify(value);
    else into[name] = value === null || value === undefined ? '' : String(value);
  }
  return into;
}

/** Checks a list response's shape; a page that is something else means the API changed (or is not the API). */
function connectionOf(body: unknown, what: string, paged: boolean): Connection {
  if (!isNode(body) || !Array.isArray(body.nodes) || typeof body.total_count !== 'number' || (paged && !isNode(body.page_info))) {
    const shape = isNode(body) ? `an object with keys ${Object.keys(body).slice(0, 6).join(', ')}` : body === null ? 'null' : typeof body;
    throw new Error(`${REGISTRY} ${what}: expected {nodes, ${paged ? 'page_info, ' : ''}total_count}, got ${shape}; the API has changed`);
  }
  const nodes = body.nodes.filter(isNode);
  if (nodes.length !== body.nodes.length) throw new Error(`${REGISTRY} ${what}: a node is not an object; the API has changed`);
  const info = isNode(body.page_info) ? body.page_info : {};
  const next = info.has_next_page === true && typeof info.end_cursor === 'string' && info.end_cursor !== '' ? info.end_cursor : null;
  if (info.has_next_page === true && next === null) throw new Error(`${REGISTRY} ${what}: has_next_page is true but there is no end_cursor`);
  return { nodes, total: body.total_count, next };
}

/** Every node of one list, page by page, with the `total_count` the first page gave. */
function pullList(http: HttpClient, path: string, stream: string, pageSize: number, enrich?: (node: Node) => Promise<Node>): PagedStream<RawRecord> {
  return pageByCursor(async (after) => {
    const { body } = await http.getJson<unknown>(path, { query: { first: pageSize, after } });
    const page = connectionOf(body, `${path}${after ? ` after ${after}` : ''}`, true);
    const items: RawRecord[] = [];
    for (const node of page.nodes) {
      const id = typeof node.id === 'string' ? node.id : undefined;
      if (!id) throw new Error(`${REGISTRY} ${path}: a node has no id; the API has changed`);
      items.push({ stream, locator: `${path} ${id}`, recordKey: id, payload: enrich ? await enrich(node) : node });
    }
    return { items, next: page.next, total: page.total };
  });
}

/** A retirement with the credit batches it retired, which name its project and sequestration date. */
async function withCreditBatches(http: HttpClient, node: Node): Promise<Node> {
  const what = `retirements/${String(node.id)}/credit_batches`;
  const { body } = await http.getJson<unknown>(`retirements/${encodeURIComponent(String(node.id))}/credit_batches`);
  const batches = connectionOf(body, what, false);
  if (batches.nodes.length !== batches.total) {
    throw new Error(`${REGISTRY} ${what}: received ${batches.nodes.length} credit batches but total_count is ${batches.total}; the list is incomplete`);
  }
  return { ...node, credit_batches: batches.nodes };
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined);

function kgOfQuantity(quantity: unknown): number | undefined {
  if (!isNode(quantity)) return undefined;
  if (typeof quantity.credit_kgs === 'number') return quantity.credit_kgs;
  return typeof quantity.credits === 'number' ? kgOf(quantity.credits) : undefined;
}

/**
 * A retirement node with its credit batches → its block(s): one per project the batches come from
 * (the API lets a retirement take batches of several projects of one supplier), each with the
 * earliest sequestration date of its batches as the vintage, and the issuance when all its batches
 * share one. A record saved from the export's flat rows (with `project_id`) maps as the export does.
 */
function mapRetirementNode(node: Node, locator: string): Mapped {
  const row = flattenNode(node);
  if (!Array.isArray(node.credit_batches)) {
    if (row.project_id) return mapRetirement(row, locator);
    const error: RowError = { locator, field: 'credit_batches', code: 'missing', message: `${locator}: credit_batches: the retirement has no credit batches, so no project; pull it through the API (which fetches them)` };
    return { records: [], errors: [error] };
  }
  const batches = node.credit_batches.filter(isNode);
  const groups = new Map<string, Node[]>();
  for (const batch of batches) {
    const project = text(batch.project_id) ?? '';
    groups.set(project, [...(groups.get(project) ?? []), batch]);
  }
  const total = kgOfQuantity(node.credit_batch_size_total);
  const batchKg = batches.map((b) => kgOfQuantity(b.size));
  if (batches.length === 0 || groups.has('') || batchKg.some((kg) => kg === undefined)) {
    const error: RowError = { locator, field: 'credit_batches', code: 'bad-batches', message: `${locator}: credit_batches: ${batches.length === 0 ? 'none listed' : 'a batch has no project_id or size'}; the retirement cannot be placed` };
    return { records: [], errors: [error] };
  }
  const sumKg = batchKg.reduce<number>((s, kg) => s + kg!, 0);
  if (total !== undefined && sumKg !== total) {
    const error: RowError = { locator, field: 'credit_batch_size_total', code: 'batches-mismatch', message: `${locator}: credit_batch_size_total: ${total / 1000} credits, but its credit batches hold ${sumKg / 1000}` };
    return { records: [], errors: [error] };
  }
  const records: Mapped['records'] = [];
  const errors: RowError[] = [];
  for (const [projectId, group] of groups) {
    const kg = group.reduce((s, b) => s + kgOfQuantity(b.size)!, 0);
    const sequestered = group.map((b) => text(b.sequestered_on)).filter((d): d is string => d !== undefined).sort()[0];
    const issuances = [...new Set(group.map((b) => text(b.issuance_id)))];
    const serials = group.map((b) => text(b.serial_number)).filter((s): s is string => s !== undefined);
    const split = groups.size > 1;
    const part = flattenNode({ ...node, credit_batches: null });
    const mapped = mapRetirement({
      ...part,
      retirement_id: String(node.id ?? ''),
      project_id: projectId,
      sequestered_on: sequestered ?? '',
      ...(split ? { 'credit_batch_size_total.credits': String(kg / 1000), 'credit_batch_size_total.credit_kgs': String(kg) } : {}),
    }, locator, {
      blockKey: split ? `${String(node.id)}/${projectId}` : undefined,
      issuanceKey: issuances.length === 1 ? issuances[0] : undefined,
      serialRaw: serials.length === 1 ? serials[0] : undefined,
      serials,
    });
    records.push(...mapped.records);
    errors.push(...mapped.errors);
  }
  return errors.length > 0 ? { records: [], errors } : { records, errors };
}

const viaExport = (map: (row: Record<string, string>, locator: string) => Mapped) => (raw: RawRecord) => map(flattenNode(raw.payload), raw.locator);

function headers(config: IsometricConfig): Record<string, string> {
  if (!config.clientSecret || !config.accessToken) {
    throw new Error(`${REGISTRY}: the registry API needs credentials: set clientSecret (sent as X-Client-Secret) and accessToken ` +
      '(sent as Authorization: Bearer) in the source\'s config; both are made in the registry\'s team settings');
  }
  return { 'x-client-secret': config.clientSecret, authorization: `Bearer ${config.accessToken}` };
}

export const isometricApi: ApiMode<IsometricConfig> = {
  config: isometricConfig,
  http: (config) => httpOptions(REGISTRY, config, {
    baseUrl: config.baseUrl.endsWith('/') ? config.baseUrl : `${config.baseUrl}/`,
    headers: headers(config),
  }),
  async check(http) {
    const { body } = await http.getJson<unknown>('projects', { query: { first: 1 } });
    const page = connectionOf(body, 'projects', true);
    if (page.total === 0) throw new Error(`${REGISTRY}: the registry API answered but lists no projects`);
    return `${REGISTRY}: ${page.total} projects on the Isometric registry`;
  },
  streams: (config): ApiStream[] => [
    {
      name: 'projects',
      totalField: 'total_count',
      recognises: (e) => typeof e.id === 'string' && e.id.startsWith('prj_') && 'short_code' in e,
      pull: (http) => pullList(http, 'projects', 'projects', config.pageSize),
      map: viaExport(isometricProjects.map),
    },
    {
      name: 'issuances',
      totalField: 'total_count',
      recognises: (e) => typeof e.id === 'string' && e.id.startsWith('iss_') && 'issued_at' in e,
      pull: (http) => pullList(http, 'issuances', 'issuances', config.pageSize),
      map: viaExport(isometricIssuances.map),
    },
    {
      name: 'retirements',
      totalField: 'total_count',
      recognises: (e) => (typeof e.id === 'string' && e.id.startsWith('ret_') && 'retired_at' in e)
        || (typeof e.retirement_id === 'string' && e.retirement_id.startsWith('ret_')),
      pull: (http) => pullList(http, 'retirements', 'retirements', config.pageSize, (node) => withCreditBatches(http, node)),
      map: (raw) => mapRetirementNode(raw.payload, raw.locator),
    },
  ],
};
