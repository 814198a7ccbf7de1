import { z } from 'zod';
import type { BlockRecord, CanonicalInput, IssuanceRecord, ProjectRecord } from '../../schema/canonical.ts';
import { acrConversion } from '../american-carbon-registry/map-cancellations.ts';
import { acrIssuanceKeyOf } from '../american-carbon-registry/map-issuances.ts';
import { parseAcrSerial } from '../american-carbon-registry/serial.ts';
import { artCreditType, artIssuanceKey } from '../art-trees/map-issuances.ts';
import { parseArtSerial } from '../art-trees/serial.ts';
import { apxRetirementPurpose, readApxBlock, serialOf, type ApxBlock, type RowReader } from '../runtime/apx.ts';
import { HttpError, type HttpClient } from '../runtime/http.ts';
import type { PagedStream } from '../runtime/paging.ts';
import { rowReader, tokenizationMarker } from '../runtime/row.ts';
import { canonicalProjectNumber, type SerialResult } from '../runtime/serial.ts';
import type { ApiMode, ApiStream, Mapped, RawRecord } from '../types.ts';
import { httpConfig, httpOptions } from '../runtime/http-config.ts';

// ICE GreenTrace (reference/registries.md §0, §3.1, §3.3): the registry platform behind ACR
// (`ACR_REGISTRY`) and ART TREES (`ART_REGISTRY`). One adapter, one tenant per registry, as for the
// S&P platform (connectors/spglobal/platform.ts); it lives in its own folder, not in runtime/, because
// it is one platform's transport and record shape, not something every connector shares.
//
// What the adapter must get right, each measured on the live service (rb-carbon-scraper
// docs/api-contract-acr.md, 2026-08-04/05) or in the captures (test/fixtures/api-captures/acr-*.json):
// - `POST …/results` with an application/x-www-form-urlencoded body
//   (`offset=0&pageNumber=1&max=2000&holdingStatus=RETIRED`); a JSON body or a query string gets a
//   generic 500 that reads like a wrong path;
// - `max` clamps at 2,000 with no marker: pages advance by the rows actually received and the pull
//   stops on the registry's `totalCount`, never on a short page;
// - the answer is `{"datasets":{"<key>":{"rows":[…],"totalCount":N}}}` and `holdingStatus` picks the
//   ledger AND the key: ISSUED → issuedCredits, RETIRED → retiredCredits, CANCELED → cancelledCredits.
//   Without it the answer is `holdings`, the whole book, whose RETIRED and CANCELED rows are the two
//   ledgers again: it is never pulled, and an answer under any other key than the one asked for fails
//   the pull instead of double counting;
// - about 100 requests in 10 minutes earn a Cloudflare 429 with `Retry-After: 3600` (the HTTP client
//   fails at once rather than sleep an hour: maxRetryAfterMs), and sustained reading a blanket
//   `401 {"message":"Invalid API Key"}`, which is throttling: the API takes no key. A whole pull is
//   about ten requests (ACR: 994 projects, 3,358 + 10,724 + 1,358 credit rows), spaced 6 s apart;
// - the issued ledger holds each issuance's serial batches as issued (one to four rows per issuance,
//   `issuanceKey` shared), and `issuanceQuantity` is the issuance's total repeated on every batch: it
//   is taken once per issuance, never summed (the batches' `holdingQuantity` add up to it);
// - `projectReferenceId` is zero-padded (`ACR0934`) where the reports and the serials write `ACR934`:
//   ids are written the reports' way, so both modes meet on one project;
// - detail routes take the `projectKey` (`P2423FTH4Z22`), not the id: the project's page URL is built
//   from it. A sync does not call them (one request per project would spend the rate budget).

const SITE = 'https://greentrace.ice.com';

export const greenTraceConfig = httpConfig({
  baseUrl: 'https://greentrace.ice.com/api/greentraceservice/v1',
  /** Spacing between requests: 6 s keeps any pull, retries included, under ~100 requests per 10 minutes. */
  minIntervalMs: 6_000,
  /** A retirement page of 2,000 rows is ~16 MB (every row carries its label objects in full). */
  timeoutMs: 180_000,
  retries: 3,
  baseDelayMs: 5_000,
  /** A 429 asking for a longer wait than this fails the pull with the time to come back (GreenTrace asks for 3,600 s). */
  maxRetryAfterMs: 120_000,
}).extend({
  /** Rows per request (`max`); GreenTrace serves at most 2,000 whatever is asked. */
  pageSize: z.number().int().min(1).max(2000).default(2000),
  /** GreenTrace has no bot challenge, so Tally says who it is; set true if Cloudflare starts answering 403. */
  browserUserAgent: z.boolean().default(false),
});
export type GreenTraceConfig = z.infer<typeof greenTraceConfig>;

/** What differs between the platform's tenants. */
export type GreenTraceTenant = {
  /** Tally's registry slug. */
  registry: string;
  /** The path segment: `ACR_REGISTRY`, `ART_REGISTRY`. */
  tenant: string;
  /** The public site's path (`https://greentrace.ice.com/acr/…`). */
  site: string;
  /** The registry's serial parser (file mode's), which also gives the project id the serial names. */
  parseSerial(raw: string): SerialResult;
  creditType(serialRaw: string): string;
  /** The issuance key, from what every credit row carries about its issuance; undefined when it cannot be formed. */
  issuanceKey(issuance: { vintageYear: number; issuedOn?: string; registryKey?: string }): string | undefined;
  /**
   * Whether two GreenTrace issuances (two `issuanceKey`s) can fall on one issuance key (a key made of the
   * vintage and the day, as file mode can make it): the ledger's issuance is then their sum, so the pull
   * adds up the distinct issuances of a key instead of keeping the last one's figure.
   */
  issuancesShareKeys?: boolean;
  /** Where a cancellation reason is a conversion out of the registry, what it converts into. */
  conversion?(reason: string | undefined): { counterpartyRegistry?: string; destination: string } | undefined;
};

type Report = {
  stream: string;
  /** Path under the base URL, after `<kind>/registry/<TENANT>/`. */
  kind: 'project' | 'credit';
  path: string;
  /** The dataset key the answer must carry. */
  dataset: string;
  holdingStatus?: string;
  /** The registry's id of a row: duplicates across pages mean the paging shifted. */
  keyField: string;
  map(tenant: GreenTraceTenant): (row: Record<string, unknown>, locator: string) => Mapped;
};

type Dataset = { rows?: unknown; totalCount?: unknown };
type Envelope = { datasets?: Record<string, Dataset> };

const projectsReport: Report = {
  stream: 'projects', kind: 'project', path: 'project-summaries/results', dataset: 'projects', keyField: 'projectKey', map: mapProject,
};
const creditReports: Report[] = [
  { stream: 'issuances', kind: 'credit', path: 'holding-summaries/results', dataset: 'issuedCredits', holdingStatus: 'ISSUED', keyField: 'holdingKey', map: mapIssued },
  { stream: 'retirements', kind: 'credit', path: 'holding-summaries/results', dataset: 'retiredCredits', holdingStatus: 'RETIRED', keyField: 'holdingKey', map: (t) => mapClosed(t, 'retired') },
  { stream: 'cancellations', kind: 'credit', path: 'holding-summaries/results', dataset: 'cancelledCredits', holdingStatus: 'CANCELED', keyField: 'holdingKey', map: (t) => mapClosed(t, 'cancelled') },
];

const reportPath = (tenant: GreenTraceTenant, report: Report) => `${report.kind}/registry/${tenant.tenant}/${report.path}`;

/** One page of a report, checked: the dataset asked for, rows as objects, a numeric total. */
async function fetchResults(http: HttpClient, tenant: GreenTraceTenant, report: Report, offset: number, max: number): Promise<{ rows: Record<string, unknown>[]; totalCount: number }> {
  const path = reportPath(tenant, report);
  const fields: Record<string, string | number> = { offset, pageNumber: Math.floor(offset / max) + 1, max };
  if (report.holdingStatus) fields.holdingStatus = report.holdingStatus;
  let body: Envelope | null;
  try {
    ({ body } = await http.postForm<Envelope | null>(path, fields));
  } catch (error) {
    if (error instanceof HttpError && error.status === 401) {
      throw new HttpError({
        code: error.code, source: error.source, url: error.url, attempts: error.attempts, status: 401, cause: error,
        message: `${tenant.registry}: GreenTrace answered POST ${error.url} with 401 "Invalid API Key". Its API takes no key: this is how it ` +
          'throttles a client that has read too much. Wait an hour or more before pulling again, and do not raise the request rate (minIntervalMs)',
      });
    }
    throw error;
  }
  const datasets = body?.datasets;
  const dataset = datasets?.[report.dataset];
  const where = `${tenant.registry} ${report.stream}: POST ${path}${report.holdingStatus ? ` (holdingStatus=${report.holdingStatus})` : ''}`;
  if (!dataset) {
    const found = datasets && typeof datasets === 'object' ? Object.keys(datasets) : [];
    const holdings = found.includes('holdings')
      ? '; "holdings" is the whole book, whose retired and cancelled rows are the other ledgers again, so it is not read'
      : '';
    throw new Error(`${where} answered without the "${report.dataset}" dataset (found ${found.length ? found.map((k) => `"${k}"`).join(', ') : 'no datasets'})${holdings}; the report API has changed, nothing was stored`);
  }
  if (!Array.isArray(dataset.rows) || typeof dataset.totalCount !== 'number') {
    throw new Error(`${where}: the "${report.dataset}" dataset has no rows array or no numeric totalCount; the report API has changed, nothing was stored`);
  }
  const rows = dataset.rows as unknown[];
  const bad = rows.findIndex((row) => row === null || typeof row !== 'object' || Array.isArray(row));
  if (bad >= 0) throw new Error(`${where}: row ${offset + bad + 1} is not an object; the report API has changed, nothing was stored`);
  return { rows: rows as Record<string, unknown>[], totalCount: dataset.totalCount };
}

/** Every row of one report, `max` rows at a time, until the registry's own total is reached. */
function pullReport(http: HttpClient, config: GreenTraceConfig, tenant: GreenTraceTenant, report: Report): PagedStream<RawRecord> {
  let reported: number | undefined;
  let received = 0;

  async function* all(): AsyncGenerator<RawRecord> {
    const seen = new Set<string>();
    let offset = 0;
    for (;;) {
      const page = await fetchResults(http, tenant, report, offset, config.pageSize);
      if (reported === undefined) reported = page.totalCount;
      else if (page.totalCount !== reported) {
        throw new Error(`${tenant.registry} ${report.stream}: the registry's totalCount went from ${reported} to ${page.totalCount} during the pull (records were added or removed, so offset pages shifted); nothing was stored: pull again`);
      }
      for (const [i, row] of page.rows.entries()) {
        const key = typeof row[report.keyField] === 'string' ? (row[report.keyField] as string) : undefined;
        if (key !== undefined) {
          if (seen.has(key)) {
            throw new Error(`${tenant.registry} ${report.stream}: ${report.keyField} ${key} was served twice (at offset ${offset + i}); the registry's order shifted during the pull, so rows may also have been skipped; nothing was stored: pull again`);
          }
          seen.add(key);
        }
        received += 1;
        yield { stream: report.stream, locator: `${report.dataset} row ${offset + i + 1}${key ? ` (${key})` : ''}`, recordKey: key, payload: row };
      }
      offset += page.rows.length;
      // Advance by what came back (max clamps silently); stop on the registry's total or an empty page.
      if (page.rows.length === 0 || offset >= page.totalCount) return;
    }
  }

  return { [Symbol.asyncIterator]: all, reported: () => reported, received: () => received };
}

/** The API mode of one GreenTrace tenant. */
export function greenTraceApi(tenant: GreenTraceTenant): ApiMode<GreenTraceConfig> {
  const reports = [projectsReport, ...creditReports];
  return {
    config: greenTraceConfig,
    http: (config) => httpOptions(tenant.registry, config, {
      browserUserAgent: config.browserUserAgent,
    }),
    async check(http) {
      const { totalCount } = await fetchResults(http, tenant, projectsReport, 0, 1);
      if (totalCount === 0) throw new Error(`${tenant.registry}: GreenTrace answered but lists no projects under ${tenant.tenant}; check the tenant`);
      return `${tenant.registry}: ${totalCount} projects on ICE GreenTrace (${tenant.tenant})`;
    },
    streams: (config): ApiStream[] => reports.map((report) => {
      const map = report.map(tenant);
      return {
        name: report.stream,
        totalField: `totalCount of datasets.${report.dataset}`,
        pull: (http) => pullReport(http, config, tenant, report),
        // A saved row is this tenant's when its serial (credits) or project id parses as the tenant's.
        recognises: (row) => (report.holdingStatus
          ? row.holdingStatus === report.holdingStatus && typeof row.holdingSerialNumber === 'string' && tenant.parseSerial(row.holdingSerialNumber).ok
          : 'projectKey' in row && !('holdingSerialNumber' in row) && String(row.projectId ?? '').startsWith(tenant.registry === 'art-trees' ? 'ART' : 'ACR')),
        map: (raw) => map(raw.payload, raw.locator),
      };
    }),
  };
}

// ---- records ----

/** The row's scalar fields as text, so file mode's row reader (and its messages) read it like a report row. */
function textView(row: Record<string, unknown>): Record<string, string> {
  const view: Record<string, string> = {};
  for (const [field, value] of Object.entries(row)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') view[field] = String(value);
  }
  return view;
}

/** `ACR0934` → `ACR934`, as the reports' Project ID column and the serials write it (`ART0102` → `ART102`). */
export function greenTraceProjectId(raw: string | undefined): string | undefined {
  const id = raw?.trim();
  if (!id) return undefined;
  const m = id.match(/^([A-Za-z]+)(\d+)$/);
  return m ? `${m[1]!.toUpperCase()}${canonicalProjectNumber(m[2]!)}` : id;
}

const projectUrl = (tenant: GreenTraceTenant, projectKey: string | undefined) =>
  projectKey && /^[A-Z0-9]+$/i.test(projectKey) ? `${SITE}/${tenant.site}/projects/registry/${tenant.tenant}/project/${projectKey}` : undefined;

/**
 * GreenTrace's project status (`ACTIVE`, `COMPLETED`, `TERMINATED` in the captures) → CAD Trust status.
 * ACTIVE covers listed and registered projects alike (the detail's `projectListingStatus` tells them
 * apart, one request per project): an ACTIVE project with credits issued is registered, one without
 * stays unknown, which never overwrites what the project report said.
 */
export function greenTraceProjectStatus(raw: string | undefined, issuedCredits: number | undefined): ProjectRecord['status'] {
  const s = raw?.trim().toUpperCase() ?? '';
  if (s === '') return undefined;
  if (s === 'ACTIVE') return issuedCredits !== undefined && issuedCredits > 0 ? 'registered' : 'unknown';
  if (s === 'COMPLETED' || s === 'INACTIVE') return 'completed';
  // ACR's file mode reads `ARB Terminated` as deregistered; GreenTrace gives TERMINATED for those projects.
  if (s === 'TERMINATED') return 'deregistered';
  if (s === 'CANCELED' || s === 'CANCELLED' || s === 'WITHDRAWN') return 'withdrawn';
  if (s === 'LISTED') return 'listed';
  if (s === 'REGISTERED') return 'registered';
  return 'unknown';
}

/** `creditingProgram` names the compliance programme a project is listed under (`California Air Resources Board`). */
function programEligibility(program: string | undefined): string[] {
  if (!program) return [];
  if (/air resources board|\bARB\b/i.test(program)) return ['arb-eligible'];
  if (/\becology\b/i.test(program)) return ['wa-ecology-eligible'];
  return [];
}

/**
 * A credit row's eligibility: `arbEligible`/`ecologyEligible` (`Yes`/`No`), and the registry labels
 * that grant a CORSIA phase or the CCP label. The labels seen so far are all "pending" or
 * double-claiming notices (`CORSIA_PENDING_PILOT_PHASE_…_BUFFER`, `CORSIA_DBL_CLAIM_COMP_MECH_REQ`),
 * which grant nothing. `corsiaEligible` alone does not say which phase, so, as file mode does with the
 * report's bare `CORSIA Eligible` column, it is not read.
 */
function creditEligibility(r: RowReader, labels: unknown): string[] {
  const codes = new Set<string>();
  if (r.boolean('arbEligible')) codes.add('arb-eligible');
  if (r.boolean('ecologyEligible')) codes.add('wa-ecology-eligible');
  for (const label of Array.isArray(labels) ? labels : []) {
    const key = typeof label === 'object' && label !== null ? String((label as { labelKey?: unknown }).labelKey ?? '').toUpperCase() : '';
    if (/PENDING|DBL_CLAIM|INELIGIBLE|NOT_ELIGIBLE|_NA$/.test(key)) continue;
    if (/CORSIA/.test(key) && /PILOT/.test(key)) codes.add('corsia-pilot-phase');
    else if (/CORSIA/.test(key) && /FIRST_PHASE|PHASE_1(_|$)/.test(key)) codes.add('corsia-first-phase');
    if (/(^|_)CCP(_|$)/.test(key)) codes.add('ccp-approved');
  }
  return [...codes];
}

function mapProject(tenant: GreenTraceTenant) {
  return (row: Record<string, unknown>, locator: string): Mapped => {
    const r = rowReader(textView(row), locator);
    const id = r.required('projectId', greenTraceProjectId(r.text('projectId')));
    const name = r.required('projectName', r.text('projectName'));
    const issuedCredits = r.number('issuedCredits');
    const statusRaw = r.text('projectStatus');
    if (r.errors.length > 0 || !id || !name) return { records: [], errors: r.errors };
    const project: ProjectRecord = {
      type: 'project',
      registry: tenant.registry,
      registryProjectId: id,
      name,
      proponent: r.text('projectDeveloper'),
      country: r.text('country'),
      methodology: r.text('projectMethodology'),
      status: greenTraceProjectStatus(statusRaw, issuedCredits),
      statusRaw,
      eligibility: programEligibility(r.text('creditingProgram')),
      coBenefits: [],
      registryUrl: projectUrl(tenant, r.text('projectKey')),
    };
    return { records: [project], errors: [] };
  };
}

type Credit = {
  r: RowReader;
  block: ApxBlock;
  project: ProjectRecord;
  issuanceKey: string | undefined;
  issuedOn: string | undefined;
  vintageStart: string | undefined;
  eligibility: string[];
};

/**
 * What every credit row says, whatever its ledger: the batch or block (serial parsed by file mode's
 * parser and checked against the quantity, the project and the vintage), its issuance and its project.
 * Undefined when the row has errors (they are on `r.errors`).
 */
function readCredit(tenant: GreenTraceTenant, row: Record<string, unknown>, locator: string): { credit?: Credit; r: RowReader; issuedOn?: string } {
  const view = textView(row);
  // The padded id (ACR0934) is written as the serial and the reports write it, before anything compares them.
  const id = greenTraceProjectId(view.projectReferenceId);
  if (id) view.projectReferenceId = id;
  const r = rowReader(view, locator);
  const block = readApxBlock(r, { serial: 'holdingSerialNumber', quantity: 'holdingQuantity', projectId: 'projectReferenceId', vintage: 'vintage' }, tenant.parseSerial);
  const name = r.required('projectName', r.text('projectName'));
  const issuedOn = r.date('issuanceDate');
  const vintageStart = r.date('issuanceVintageStartDate');
  const eligibility = creditEligibility(r, row.registryLabels);
  if (r.errors.length > 0 || !block || !name) return { r, issuedOn };
  const project: ProjectRecord = {
    type: 'project',
    registry: tenant.registry,
    registryProjectId: block.projectId,
    name,
    proponent: r.text('developerProfileName'),
    country: r.text('projectSiteLocationCountry'),
    region: r.text('projectSiteLocationState'),
    // ARB and Ecology eligibility belong to the project (as in file mode); CORSIA and CCP stay on the blocks.
    eligibility: eligibility.filter((code) => code === 'arb-eligible' || code === 'wa-ecology-eligible'),
    coBenefits: [],
    registryUrl: projectUrl(tenant, r.text('projectKey')),
  };
  const issuanceKey = tenant.issuanceKey({ vintageYear: block.vintageYear, issuedOn, registryKey: r.text('issuanceKey') });
  return { r, issuedOn, credit: { r, block, project, issuanceKey, issuedOn, vintageStart, eligibility } };
}

/** An issued-ledger row: one serial batch of an issuance, mapped to that issuance (and its project). */
function mapIssued(tenant: GreenTraceTenant) {
  // For a tenant whose GreenTrace issuances can share a key: per project and key, the GreenTrace
  // issuances met in this pull (or saved file) and their quantities. The closure is made per pull.
  const shared = new Map<string, Map<string, number>>();
  return (row: Record<string, unknown>, locator: string): Mapped => {
    const { credit, r, issuedOn } = readCredit(tenant, row, locator);
    // The issuance's total, repeated on each of its batches: the same figure for every row of one key.
    const quantity = r.quantity('issuanceQuantity');
    r.required('issuanceDate', issuedOn);
    if (credit && quantity !== undefined && credit.block.quantity > quantity) {
      r.fail('holdingQuantity', 'batch-exceeds-issuance', `the batch holds ${credit.block.quantity} units but its issuance's issuanceQuantity is ${quantity}`);
    }
    if (credit && !credit.issuanceKey && r.errors.length === 0) r.fail('issuanceKey', 'missing', 'is empty, so the batch cannot be tied to its issuance');
    const registryKey = r.text('issuanceKey');
    if (tenant.issuancesShareKeys && credit && !registryKey && r.errors.length === 0) {
      r.fail('issuanceKey', 'missing', "is empty, so the batch cannot be told from another issuance's of the same vintage and day");
    }
    if (r.errors.length > 0 || !credit || !quantity || !credit.issuanceKey) return { records: [], errors: r.errors };
    let total = quantity;
    if (tenant.issuancesShareKeys && registryKey) {
      // Rows of one key merge in the ledger with the last one's figure: each carries the sum of the
      // distinct GreenTrace issuances met so far, so the last carries them all (and a batch of an
      // issuance already met adds nothing).
      const key = `${credit.block.projectId}|${credit.issuanceKey}`;
      const parts = shared.get(key) ?? new Map<string, number>();
      parts.set(registryKey, quantity);
      shared.set(key, parts);
      total = [...parts.values()].reduce((a, b) => a + b, 0);
    }
    const issuance: IssuanceRecord = {
      type: 'issuance',
      registry: tenant.registry,
      registryProjectId: credit.block.projectId,
      issuanceKey: credit.issuanceKey,
      vintageStart: credit.vintageStart,
      vintageYear: credit.block.vintageYear,
      issuedOn: credit.issuedOn,
      quantity: total,
      quantityFromBlocks: false,
      creditType: tenant.creditType(credit.block.serial.raw),
    };
    return { records: [credit.project, issuance], errors: [] };
  };
}

/** A retired- or cancelled-ledger row: one block, in the state the ledger names. */
function mapClosed(tenant: GreenTraceTenant, status: 'retired' | 'cancelled') {
  return (row: Record<string, unknown>, locator: string): Mapped => {
    const { credit, r } = readCredit(tenant, row, locator);
    const dateField = status === 'retired' ? 'retirementDate' : 'cancellationDate';
    const statusDate = r.required(dateField, r.date(dateField) ?? r.date('holdingStatusEffectiveTimestamp'));
    if (r.errors.length > 0 || !credit || !statusDate) return { records: [], errors: r.errors };
    const { block } = credit;
    const common = {
      type: 'block' as const,
      registry: tenant.registry,
      registryProjectId: block.projectId,
      blockKey: block.serial.raw,
      issuanceKey: credit.issuanceKey,
      serial: serialOf(block.serial),
      quantity: block.quantity,
      vintageStart: credit.vintageStart,
      vintageYear: block.vintageYear,
      creditType: tenant.creditType(block.serial.raw),
      statusDate,
      accountHolder: r.text('accountHolderProfileName'),
      eligibility: credit.eligibility,
    };

    if (status === 'retired') {
      const beneficiary = r.text('retirementOnBehalfOfName');
      const reason = r.text('retirementReasonDisplayName') ?? r.text('retirementReason');
      // Free text, like the report's `Purpose of Retirement`: kept as the details, never parsed for a purpose.
      const details = r.text('retirementPurpose');
      const retired: BlockRecord = {
        ...common,
        status: 'retired',
        retirementBeneficiary: beneficiary,
        retirementReason: reason,
        retirementPurpose: apxRetirementPurpose(reason),
        retirementDetails: details,
        tokenizationMarker: tokenizationMarker(beneficiary, details),
      };
      return { records: [credit.project, retired], errors: [] };
    }

    const reason = r.text('cancellationReasonDisplayName') ?? r.text('cancellationReason');
    const conversion = tenant.conversion?.(reason);
    // Buffer units cancelled to compensate a reversal come from the reserve (risk mitigation) account.
    const fromReserve = r.boolean('isReserve') ? 'buffer pool (reserve) units' : undefined;
    const cancelled: BlockRecord = {
      ...common,
      status: conversion ? 'exported' : 'cancelled',
      retirementBeneficiary: r.text('cancellationOnBehalfOfName'),
      retirementReason: reason,
      retirementPurpose: apxRetirementPurpose(reason),
      retirementDetails: fromReserve,
    };
    const records: CanonicalInput[] = [credit.project, cancelled];
    if (conversion) {
      records.push({
        type: 'event',
        registry: tenant.registry,
        registryProjectId: block.projectId,
        kind: 'converted-out',
        // The key file mode and the ingest job's derived event use, so there is one event per block.
        eventKey: `converted-out:${cancelled.blockKey}`,
        occurredOn: statusDate,
        quantity: cancelled.quantity,
        vintageYear: cancelled.vintageYear,
        blockKey: cancelled.blockKey,
        issuanceKey: cancelled.issuanceKey,
        counterpartyRegistry: conversion.counterpartyRegistry,
        details: { destination: conversion.destination, cancellationType: reason },
      });
    }
    return { records, errors: [] };
  };
}

// ---- tenants ----

/**
 * ACR (`ACR_REGISTRY`). The key is file mode's, `<vintage>/<issue day>` (acrIssuanceKeyOf), so an
 * issuance pulled here and the same issuance read from the report are one ledger row: GreenTrace gives
 * the day (`issuanceDate`, a day in US Eastern time, as its timestamps are written), the report a GMT
 * time that file mode turns into that day, and one GreenTrace issuance is the report's removal and
 * non-removal rows together (ACR885's 2025 issuance: 17,712 = 3,456 + 14,256), which file mode sums.
 * GreenTrace's own issuance id is not in the key, since the report has none: two GreenTrace issuances
 * of one project and vintage on one day (none in the captures) are one ledger issuance, their sum.
 */
export const acrGreenTrace = greenTraceApi({
  registry: 'american-carbon-registry',
  tenant: 'ACR_REGISTRY',
  site: 'acr',
  parseSerial: parseAcrSerial,
  creditType: () => 'ert',
  issuanceKey: ({ vintageYear, issuedOn }) => (issuedOn ? acrIssuanceKeyOf(vintageYear, issuedOn) : undefined),
  issuancesShareKeys: true,
  conversion: acrConversion,
});

/**
 * ART TREES (`ART_REGISTRY`). File mode keys an issuance `<vintage>/<Date Approved>` by the day, which
 * is what GreenTrace's `issuanceDate` gives: the key is file mode's own, so both modes meet on one
 * issuance. ART converts nothing out; its CORSIA cancellations stay cancelled, purpose `corsia`.
 */
export const artGreenTrace = greenTraceApi({
  registry: 'art-trees',
  tenant: 'ART_REGISTRY',
  site: 'art',
  parseSerial: parseArtSerial,
  creditType: artCreditType,
  issuanceKey: ({ vintageYear, issuedOn }) => artIssuanceKey(vintageYear, issuedOn),
});
