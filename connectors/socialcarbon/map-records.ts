import type { BlockRecord, IssuanceRecord, ProjectRecord } from '../../schema/canonical.ts';
import { tokenizationMarker } from '../runtime/row.ts';
import type { Mapped, RowError } from '../types.ts';
import { parseSocialCarbonSerial } from './serial.ts';

// SocialCarbon's four Bubble types → canonical records. Bubble writes human field names, spelled
// differently per type (`Quantity requested` / `Quantity`, `Asset type` / `Asset Type`,
// `Serial Number Batch` / `Serial Numbers`).
//
// Keys: a project is its Bubble `_id`. The registry's own reference (`SOCIALCARBON-19`) is not unique
// (a peatland programme in Poland and a forest project in Brazil both publish SOCIALCARBON-19) and
// SOCIALCARBON-15 does not exist, so keying on it would merge two projects; every ledger record names
// its project by `_id` too, and the project page is routed on it. Retired and cancelled blocks are
// keyed by their `_id` as well, not by serial: the registry retired unit 26 of the Utah batch twice
// (two retirement records, one serial), and keying by serial would fold the two into one.

export const REGISTRY = 'socialcarbon';
export const SITE = 'https://registry.socialcarbon.org';

type Entity = Record<string, unknown>;

const text = (value: unknown): string | undefined => {
  if (value === null || value === undefined || typeof value === 'object') return undefined;
  const s = String(value).trim();
  // `TBC` / `TBD` stand in for a validator not yet chosen.
  return s === '' || /^(tbc|tbd|n\/a|na|none|not applicable)$/i.test(s) ? undefined : s;
};

const failure = (locator: string, field: string, code: string, message: string): RowError =>
  ({ locator, field, code, message: `${locator}: ${field}: ${message}` });

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?Z$/;
const DAY = 86_400_000;

/**
 * A Bubble date field: the day as the person who typed it meant it. Bubble stores a date as that
 * day's local midnight in UTC: a South African 1 February 2023 is `2023-01-31T22:00:00.000Z`, a
 * Brazilian 29 March 2022 `2022-03-29T03:00:00.000Z`, an Indian 1 March 2021 `2021-02-28T18:30:00.000Z`.
 * Rounding to the nearest UTC midnight gives the day back for every zone from UTC−11 to UTC+12.
 */
function enteredDay(e: Entity, field: string, locator: string, errors: RowError[]): string | undefined {
  const raw = text(e[field]);
  if (raw === undefined) return undefined;
  const m = ISO_INSTANT.exec(raw);
  const at = m ? Date.parse(raw) : Number.NaN;
  if (Number.isNaN(at)) {
    errors.push(failure(locator, field, 'bad-date', `"${raw}" is not a Bubble date (2023-01-31T22:00:00.000Z)`));
    return undefined;
  }
  return new Date(Math.floor((at + DAY / 2) / DAY) * DAY).toISOString().slice(0, 10);
}

/** When a record was made (`Created Date`): an instant, whose UTC day is the day. */
function instantDay(e: Entity, field: string, locator: string, errors: RowError[]): string | undefined {
  const raw = text(e[field]);
  if (raw === undefined) return undefined;
  if (!ISO_INSTANT.test(raw) || Number.isNaN(Date.parse(raw))) {
    errors.push(failure(locator, field, 'bad-date', `"${raw}" is not a Bubble timestamp (2024-04-09T09:17:55.665Z)`));
    return undefined;
  }
  return raw.slice(0, 10);
}

function quantity(e: Entity, field: string, locator: string, errors: RowError[]): number | undefined {
  const q = e[field];
  if (q === null || q === undefined || q === '') errors.push(failure(locator, field, 'missing', 'is empty'));
  else if (typeof q !== 'number' || !Number.isFinite(q)) errors.push(failure(locator, field, 'not-a-number', `${JSON.stringify(q)} is not a number`));
  else if (!(q > 0)) errors.push(failure(locator, field, 'quantity-not-positive', `${q} is not a positive quantity`));
  else return q;
  return undefined;
}

function idOf(e: Entity, field: string, locator: string, errors: RowError[]): string | undefined {
  const id = text(e[field]);
  if (!id) errors.push(failure(locator, field, 'missing', 'is empty'));
  return id;
}

/** `2023 - 2023` or `2020`: the year the vintage starts. */
function vintageYear(e: Entity, locator: string, errors: RowError[]): number | undefined {
  const raw = text(e.Vintage);
  if (raw === undefined) return undefined;
  const m = /^(\d{4})(?:\s*-\s*(\d{4}))?$/.exec(raw);
  if (!m || (m[2] && m[2] < m[1]!)) {
    errors.push(failure(locator, 'Vintage', 'bad-vintage', `"${raw}" is not a vintage (2023, or 2023 - 2024)`));
    return undefined;
  }
  return Number(m[1]);
}

/** `SCU - Removal` → `scu-removal`. */
const creditType = (value: unknown) => text(value)?.toLowerCase().replace(/\s*-\s*/g, '-').replace(/\s+/g, '-');

/** Project statuses seen: Listed, Certified Design (validated design, no issuance yet), Certified Project. */
function projectStatus(status: string | undefined): ProjectRecord['status'] {
  switch (status?.toLowerCase()) {
    case 'listed': return 'listed';
    case 'certified design': return 'validated';
    case 'certified project': return 'registered';
    default: return undefined;
  }
}

/** `["1 - No Poverty", "13 - Climate Action"]` → `sdg-1`, `sdg-13`. */
function sdgs(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [];
  const numbers = list.map((s) => /^\s*(\d{1,2})\b/.exec(String(s))?.[1]).filter((n): n is string => Boolean(n) && Number(n) >= 1 && Number(n) <= 17);
  return [...new Set(numbers.map(Number))].sort((a, b) => a - b).map((n) => `sdg-${n}`);
}

const names = (value: unknown) => {
  const list = (Array.isArray(value) ? value : [value]).map(text).filter((s): s is string => Boolean(s));
  return list.length > 0 ? [...new Set(list)].join(', ') : undefined;
};

export function mapProject(e: Entity, locator: string): Mapped {
  const errors: RowError[] = [];
  const warnings: RowError[] = [];
  const id = idOf(e, '_id', locator, errors);
  let creditingPeriodStart = enteredDay(e, 'Crediting period start', locator, errors);
  let creditingPeriodEnd = enteredDay(e, 'Crediting period end', locator, errors);
  if (errors.length > 0 || !id) return { records: [], errors };
  if (creditingPeriodStart && creditingPeriodEnd && creditingPeriodEnd < creditingPeriodStart) {
    warnings.push(failure(locator, 'Crediting period end', 'period-reversed', `the crediting period ends (${creditingPeriodEnd}) before it starts (${creditingPeriodStart}); the period was left out`));
    creditingPeriodStart = undefined;
    creditingPeriodEnd = undefined;
  }
  const latitude = typeof e.Latitude === 'number' && Math.abs(e.Latitude) <= 90 ? e.Latitude : undefined;
  const longitude = typeof e.Longitude === 'number' && Math.abs(e.Longitude) <= 180 ? e.Longitude : undefined;
  const located = latitude !== undefined && longitude !== undefined && !(latitude === 0 && longitude === 0);
  const estimate = e['Estimated Annual Emission Reductions'];
  const status = text(e['Project Status']);
  const project: ProjectRecord = {
    type: 'project',
    registry: REGISTRY,
    registryProjectId: id,
    // Some names carry a trailing newline or space (`Cooperativa Agraria Carbon Removal Project\n`).
    name: text(e['Project Name']) ?? text(e['Project ID']) ?? `SocialCarbon ${id}`,
    proponent: names(e['Project Proponent(s)_TEXT']),
    // A name, never an ISO code; one is written ISO-style inverted ("Congo, Democratic Republic of the").
    country: text(e.Country),
    methodology: text(e.Methodology)?.split(/\s*,\s*/).join('; '),
    status: projectStatus(status),
    statusRaw: status,
    creditingPeriodStart,
    creditingPeriodEnd,
    estimatedAnnualQuantity: typeof estimate === 'number' && estimate >= 0 ? estimate : undefined,
    latitude: located ? latitude : undefined,
    longitude: located ? longitude : undefined,
    eligibility: [],
    coBenefits: sdgs(e.SDGs),
    registryUrl: `${SITE}/project_details/${encodeURIComponent(id)}`,
  };
  return { records: [project], errors: [], warnings };
}

function serialOf(e: Entity, field: string, size: number | undefined, locator: string, errors: RowError[]) {
  const parsed = parseSocialCarbonSerial(e[field]);
  if (!parsed.ok) {
    errors.push(failure(locator, field, 'bad-serial', parsed.error));
    return undefined;
  }
  const units = parsed.range.end - parsed.range.start + 1;
  if (size !== undefined && units !== size) {
    errors.push(failure(locator, field, 'serial-quantity-mismatch', `${units.toLocaleString('en-US')} units in ${parsed.range.raw} but the record says ${size.toLocaleString('en-US')}`));
    return undefined;
  }
  return { range: parsed.range, ...parsed.batch! };
}

/**
 * An issuance (`obj/issuance`). A record the registry has not approved and completed (`Approved`,
 * `Issuance complete`) is a request, not units in existence: it is left out, with a warning. The
 * issuance date is `Created Date`, the only date the record states: the stamp in the batch id falls
 * before it on some issuances and weeks after it on others, so it says nothing reliable.
 */
export function mapIssuance(e: Entity, locator: string): Mapped {
  const errors: RowError[] = [];
  const projectId = idOf(e, 'Project', locator, errors);
  const size = quantity(e, 'Quantity requested', locator, errors);
  const serial = serialOf(e, 'Serial Number Batch', size, locator, errors);
  const year = vintageYear(e, locator, errors);
  const requested = instantDay(e, 'Created Date', locator, errors);
  const batchId = text(e.Batch_ID);
  if (serial && batchId && batchId !== serial.batch) {
    errors.push(failure(locator, 'Batch_ID', 'serial-fields-mismatch', `"${batchId}" is not the batch of the serial ${serial.range.raw}`));
  }
  if (errors.length > 0 || !projectId || !size || !serial) return { records: [], errors };
  if (e.Approved !== true || e['Issuance complete'] !== true) {
    return {
      records: [],
      errors: [],
      warnings: [failure(locator, e.Approved !== true ? 'Approved' : 'Issuance complete', 'not-issued',
        `the registry has not ${e.Approved !== true ? 'approved' : 'completed'} this issuance of ${size.toLocaleString('en-US')} units: it is a request, not counted as issued`)],
    };
  }
  const issuance: IssuanceRecord = {
    type: 'issuance',
    registry: REGISTRY,
    registryProjectId: projectId,
    issuanceKey: serial.batch,
    vintageYear: year ?? serial.range.vintageYear,
    issuedOn: requested,
    quantity: size,
    quantityFromBlocks: false,
    creditType: creditType(e['Asset type']),
    serial: { numberSpace: serial.range.numberSpace, start: serial.range.start, end: serial.range.end, raw: serial.range.raw },
  };
  return { records: [issuance], errors: [] };
}

/** Retirements (`obj/retirement`) and cancellations (`obj/cancellations`): one block each. */
function closedBlock(status: 'retired' | 'cancelled') {
  return (e: Entity, locator: string): Mapped => {
    const errors: RowError[] = [];
    const id = idOf(e, '_id', locator, errors);
    const projectId = idOf(e, 'Project', locator, errors);
    const size = quantity(e, 'Quantity', locator, errors);
    const serial = serialOf(e, 'Serial Numbers', size, locator, errors);
    const year = vintageYear(e, locator, errors);
    const statusDate = instantDay(e, 'Created Date', locator, errors);
    if (errors.length > 0 || !id || !projectId || !size || !serial) return { records: [], errors };
    // Only the structured fields are read as beneficiary and purpose; 61 of 81 retirements state them
    // as prose in `Notes` ("Beneficiary: …, Purpose: …"), kept whole as the details.
    const beneficiary = status === 'retired' ? text(e.Beneficiary) : undefined;
    const notes = text(e.Notes);
    const block: BlockRecord = {
      type: 'block',
      registry: REGISTRY,
      registryProjectId: projectId,
      blockKey: id,
      issuanceKey: serial.batch,
      serial: { numberSpace: serial.range.numberSpace, start: serial.range.start, end: serial.range.end, raw: serial.range.raw },
      quantity: size,
      vintageYear: year ?? serial.range.vintageYear,
      creditType: creditType(e['Asset Type']),
      status,
      statusDate,
      retirementBeneficiary: beneficiary,
      retirementReason: status === 'retired' ? text(e.Purpose) : e['Non-Permanence'] === true ? 'Non-Permanence' : undefined,
      retirementDetails: notes,
      // `Retiree` / `Canceller`: the account that retired or cancelled the units, not a beneficiary.
      accountHolder: text(status === 'retired' ? e.Retiree : e.Canceller),
      eligibility: [],
      tokenizationMarker: tokenizationMarker(beneficiary, notes),
    };
    return { records: [block], errors: [] };
  };
}

export const mapRetirement = closedBlock('retired');
export const mapCancellation = closedBlock('cancelled');
