import type { BlockRecord, IssuanceRecord, ProjectRecord } from '../../schema/canonical.ts';
import { entityReader, mapped, type EntityReader } from '../runtime/entity.ts';
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

/** Bubble's placeholders for no value, beyond the blanks every reader knows: `TBC` / `TBD` stand in for a validator not yet chosen. */
const NO_VALUE = /^(tbc|tbd|na|not applicable)$/i;

const read = (e: Entity, locator: string) => entityReader(e, locator, { decode: (value) => (NO_VALUE.test(value.trim()) ? undefined : value) });

const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?Z$/;
const DAY = 86_400_000;

/**
 * A Bubble date field: the day as the person who typed it meant it. Bubble stores a date as that
 * day's local midnight in UTC: a South African 1 February 2023 is `2023-01-31T22:00:00.000Z`, a
 * Brazilian 29 March 2022 `2022-03-29T03:00:00.000Z`, an Indian 1 March 2021 `2021-02-28T18:30:00.000Z`.
 * Rounding to the nearest UTC midnight gives the day back for every zone from UTC−11 to UTC+12.
 */
function enteredDay(r: EntityReader, field: string): string | undefined {
  const raw = r.text(field);
  if (raw === undefined) return undefined;
  const at = ISO_INSTANT.test(raw) ? Date.parse(raw) : Number.NaN;
  if (Number.isNaN(at)) {
    r.fail(field, 'bad-date', `"${raw}" is not a Bubble date (2023-01-31T22:00:00.000Z)`);
    return undefined;
  }
  return new Date(Math.floor((at + DAY / 2) / DAY) * DAY).toISOString().slice(0, 10);
}

/** When a record was made (`Created Date`): an instant, whose UTC day is the day. */
function instantDay(r: EntityReader, field: string): string | undefined {
  const raw = r.text(field);
  if (raw === undefined) return undefined;
  if (!ISO_INSTANT.test(raw) || Number.isNaN(Date.parse(raw))) {
    r.fail(field, 'bad-date', `"${raw}" is not a Bubble timestamp (2024-04-09T09:17:55.665Z)`);
    return undefined;
  }
  return raw.slice(0, 10);
}

/** `2023 - 2023` or `2020`: the year the vintage starts. */
function vintageYear(r: EntityReader): number | undefined {
  const raw = r.text('Vintage');
  if (raw === undefined) return undefined;
  const m = /^(\d{4})(?:\s*-\s*(\d{4}))?$/.exec(raw);
  if (!m || (m[2] && m[2] < m[1]!)) {
    r.fail('Vintage', 'bad-vintage', `"${raw}" is not a vintage (2023, or 2023 - 2024)`);
    return undefined;
  }
  return Number(m[1]);
}

const warning = (locator: string, field: string, code: string, message: string): RowError =>
  ({ locator, field, code, message: `${locator}: ${field}: ${message}` });

/** `SCU - Removal` → `scu-removal`. */
const creditType = (value: string | undefined) => value?.toLowerCase().replace(/\s*-\s*/g, '-').replace(/\s+/g, '-');

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
function sdgs(goals: string[]): string[] {
  const numbers = goals.map((s) => /^\s*(\d{1,2})\b/.exec(s)?.[1]).filter((n): n is string => Boolean(n) && Number(n) >= 1 && Number(n) <= 17);
  return [...new Set(numbers.map(Number))].sort((a, b) => a - b).map((n) => `sdg-${n}`);
}

export function mapProject(e: Entity, locator: string): Mapped {
  const r = read(e, locator);
  const warnings: RowError[] = [];
  const id = r.required('_id', r.text('_id'));
  let creditingPeriodStart = enteredDay(r, 'Crediting period start');
  let creditingPeriodEnd = enteredDay(r, 'Crediting period end');
  if (r.errors.length > 0 || !id) return { records: [], errors: r.errors };
  if (creditingPeriodStart && creditingPeriodEnd && creditingPeriodEnd < creditingPeriodStart) {
    warnings.push(warning(locator, 'Crediting period end', 'period-reversed', `the crediting period ends (${creditingPeriodEnd}) before it starts (${creditingPeriodStart}); the period was left out`));
    creditingPeriodStart = undefined;
    creditingPeriodEnd = undefined;
  }
  const latitude = r.number('Latitude');
  const longitude = r.number('Longitude');
  const located = latitude !== undefined && longitude !== undefined && Math.abs(latitude) <= 90 && Math.abs(longitude) <= 180
    && !(latitude === 0 && longitude === 0);
  const estimate = r.number('Estimated Annual Emission Reductions');
  const proponents = [...new Set(r.texts('Project Proponent(s)_TEXT'))];
  const status = r.text('Project Status');
  const project: ProjectRecord = {
    type: 'project',
    registry: REGISTRY,
    registryProjectId: id,
    // Some names carry a trailing newline or space (`Cooperativa Agraria Carbon Removal Project\n`).
    name: r.text('Project Name') ?? r.text('Project ID') ?? `SocialCarbon ${id}`,
    proponent: proponents.length > 0 ? proponents.join(', ') : undefined,
    // A name, never an ISO code; one is written ISO-style inverted ("Congo, Democratic Republic of the").
    country: r.text('Country'),
    methodology: r.text('Methodology')?.split(/\s*,\s*/).join('; '),
    status: projectStatus(status),
    statusRaw: status,
    creditingPeriodStart,
    creditingPeriodEnd,
    estimatedAnnualQuantity: estimate !== undefined && estimate >= 0 ? estimate : undefined,
    latitude: located ? latitude : undefined,
    longitude: located ? longitude : undefined,
    eligibility: [],
    coBenefits: sdgs(r.texts('SDGs')),
    registryUrl: `${SITE}/project_details/${encodeURIComponent(id)}`,
  };
  return r.errors.length > 0 ? { records: [], errors: r.errors } : { records: [project], errors: [], warnings };
}

function serialOf(r: EntityReader, field: string, size: number | undefined) {
  const parsed = parseSocialCarbonSerial(r.text(field));
  if (!parsed.ok) {
    r.fail(field, 'bad-serial', parsed.error);
    return undefined;
  }
  const units = parsed.range.end - parsed.range.start + 1;
  if (size !== undefined && units !== size) {
    r.fail(field, 'serial-quantity-mismatch', `${units.toLocaleString('en-US')} units in ${parsed.range.raw} but the record says ${size.toLocaleString('en-US')}`);
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
  const r = read(e, locator);
  const projectId = r.required('Project', r.text('Project'));
  const size = r.quantity('Quantity requested');
  const serial = serialOf(r, 'Serial Number Batch', size);
  const year = vintageYear(r);
  const requested = instantDay(r, 'Created Date');
  const batchId = r.text('Batch_ID');
  if (serial && batchId && batchId !== serial.batch) {
    r.fail('Batch_ID', 'serial-fields-mismatch', `"${batchId}" is not the batch of the serial ${serial.range.raw}`);
  }
  const approved = r.boolean('Approved') === true;
  const complete = r.boolean('Issuance complete') === true;
  if (r.errors.length > 0 || !projectId || !size || !serial) return { records: [], errors: r.errors };
  if (!approved || !complete) {
    return {
      records: [],
      errors: [],
      warnings: [warning(locator, !approved ? 'Approved' : 'Issuance complete', 'not-issued',
        `the registry has not ${!approved ? 'approved' : 'completed'} this issuance of ${size.toLocaleString('en-US')} units: it is a request, not counted as issued`)],
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
    creditType: creditType(r.text('Asset type')),
    serial: { numberSpace: serial.range.numberSpace, start: serial.range.start, end: serial.range.end, raw: serial.range.raw },
  };
  return mapped(r, [issuance]);
}

/** Retirements (`obj/retirement`) and cancellations (`obj/cancellations`): one block each. */
function closedBlock(status: 'retired' | 'cancelled') {
  return (e: Entity, locator: string): Mapped => {
    const r = read(e, locator);
    const id = r.required('_id', r.text('_id'));
    const projectId = r.required('Project', r.text('Project'));
    const size = r.quantity('Quantity');
    const serial = serialOf(r, 'Serial Numbers', size);
    const year = vintageYear(r);
    const statusDate = instantDay(r, 'Created Date');
    if (r.errors.length > 0 || !id || !projectId || !size || !serial) return { records: [], errors: r.errors };
    // Only the structured fields are read as beneficiary and purpose; 61 of 81 retirements state them
    // as prose in `Notes` ("Beneficiary: …, Purpose: …"), kept whole as the details.
    const beneficiary = status === 'retired' ? r.text('Beneficiary') : undefined;
    const notes = r.text('Notes');
    const block: BlockRecord = {
      type: 'block',
      registry: REGISTRY,
      registryProjectId: projectId,
      blockKey: id,
      issuanceKey: serial.batch,
      serial: { numberSpace: serial.range.numberSpace, start: serial.range.start, end: serial.range.end, raw: serial.range.raw },
      quantity: size,
      vintageYear: year ?? serial.range.vintageYear,
      creditType: creditType(r.text('Asset Type')),
      status,
      statusDate,
      retirementBeneficiary: beneficiary,
      retirementReason: status === 'retired' ? r.text('Purpose') : r.boolean('Non-Permanence') ? 'Non-Permanence' : undefined,
      retirementDetails: notes,
      // `Retiree` / `Canceller`: the account that retired or cancelled the units, not a beneficiary.
      accountHolder: r.text(status === 'retired' ? 'Retiree' : 'Canceller'),
      eligibility: [],
      tokenizationMarker: tokenizationMarker(beneficiary, notes),
    };
    return mapped(r, [block]);
  };
}

export const mapRetirement = closedBlock('retired');
export const mapCancellation = closedBlock('cancelled');
