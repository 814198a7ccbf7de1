import type { BlockRecord, CanonicalInput, IssuanceRecord } from '../../schema/canonical.ts';
import { tokenizationMarker } from '../runtime/row.ts';
import type { Mapped, RowError } from '../types.ts';
import { REGISTRY, dateOf, failure, quantityOf, text } from './map-projects.ts';
import { parseBioCarbonSerial } from './serial.ts';

// BioCarbon's three credit ledgers (rb-carbon-scraper docs/api-contract-biocarbon.md, and the captures):
// - `ghg/carbon-credits`: one record per issued block, with the registry's own arithmetic of its
//   state: `amount` = `active` (held) + `sold` (retired) + `dropouts` (cancelled), on all 144 captured
//   blocks. An issuance here is that block: key = its serial without the range (the number space).
//   Held units are not listed by serial, so no held block is stored; the retirement and cancellation
//   blocks carry their serial ranges.
// - `ghg/retreats`: one record per retirement, no id; the serial is unique (11,439 of 11,439 live).
//   `final_user` is the beneficiary; `to_name` the account the units were retired to (often a fuel
//   distributor retiring for its customers under Colombia's carbon tax), kept as details.
// - `ghg/carbon-credits/project/{id}/cancellations`: per project only, no id, no total. The pull adds
//   `initiative_id`, the id the route names, since the rows do not repeat it.
// Quantities are strings with thousands separators (`"299,564"`) beside bare numbers.

type Entity = Record<string, unknown>;

/** The unit class as the issued block (`Impuesto`, `Reserva`, `reserved`, `Voluntario`) or the retirement (`tax`, `backup`, `voluntary`) names it. */
const CREDIT_TYPES: Record<string, string> = {
  impuesto: 'tax', tax: 'tax', reserva: 'reserve', backup: 'reserve', reserved: 'reserved', voluntario: 'voluntary', voluntary: 'voluntary',
};
/** The serial's unit class where the record names no destination: every captured block pairs 2, 3 and R with one destination. */
const CLASS_TYPES: Record<string, string> = { 2: 'tax', 3: 'reserve', R: 'reserved' };
const creditType = (destination: unknown, unitClass: string) => {
  const raw = text(destination)?.toLowerCase();
  return raw ? CREDIT_TYPES[raw] ?? raw : CLASS_TYPES[unitClass];
};

function projectIdOf(e: Entity, locator: string, errors: RowError[]): string | undefined {
  const id = text(e.initiative_id);
  if (!id || !/^\d+$/.test(id)) {
    errors.push(failure(locator, 'initiative_id', 'missing', id ? `"${id}" is not an initiative id` : 'is empty'));
    return undefined;
  }
  return id;
}

function quantity(e: Entity, field: string, locator: string, errors: RowError[]): number | undefined {
  const q = quantityOf(e[field]);
  if (q === undefined) errors.push(failure(locator, field, 'missing', 'is empty'));
  else if (Number.isNaN(q)) errors.push(failure(locator, field, 'not-a-number', `"${String(e[field])}" is not a number`));
  else if (!(q > 0)) errors.push(failure(locator, field, 'quantity-not-positive', `${q} is not a positive quantity`));
  else return q;
  return undefined;
}

/** The serial, parsed and checked against the record's quantity. */
function serialOf(e: Entity, size: number | undefined, locator: string, errors: RowError[]) {
  const parsed = parseBioCarbonSerial(e.serial);
  if (!parsed.ok) {
    errors.push(failure(locator, 'serial', 'bad-serial', parsed.error));
    return undefined;
  }
  const units = parsed.range.end - parsed.range.start + 1;
  if (size !== undefined && units !== size) {
    errors.push(failure(locator, 'serial', 'serial-quantity-mismatch', `${units.toLocaleString('en-US')} units in ${parsed.range.raw} but the record says ${size.toLocaleString('en-US')}`));
    return undefined;
  }
  return { range: parsed.range, block: parsed.block!.block, unitClass: parsed.block!.unitClass };
}

const rangeOf = (s: NonNullable<ReturnType<typeof serialOf>>) => ({ numberSpace: s.range.numberSpace, start: s.range.start, end: s.range.end, raw: s.range.raw });

/** An issued block (`ghg/carbon-credits`): an issuance with its whole serial range and the registry's figure. */
export function mapIssuedBlock(e: Entity, locator: string): Mapped {
  const errors: RowError[] = [];
  const id = projectIdOf(e, locator, errors);
  const amount = quantity(e, 'amount', locator, errors);
  const serial = serialOf(e, amount, locator, errors);
  const vintageStart = dateOf(e, 'initial_vintage', locator, errors);
  const vintageEnd = dateOf(e, 'final_vintage', locator, errors);
  const issuedOn = dateOf(e, 'date_issue', locator, errors);
  if (errors.length > 0 || !id || !amount || !serial) return { records: [], errors };
  const start = vintageStart ?? serial.range.vintageStart;
  const issuance: IssuanceRecord = {
    type: 'issuance',
    registry: REGISTRY,
    registryProjectId: id,
    issuanceKey: serial.block,
    vintageStart: start,
    vintageEnd: vintageEnd ?? serial.range.vintageEnd,
    // The year the vintage starts, as the serial writes it (`year` is empty on multi-year blocks).
    vintageYear: start ? Number(start.slice(0, 4)) : serial.range.vintageYear,
    issuedOn,
    quantity: amount,
    quantityFromBlocks: false,
    creditType: creditType(e.destination, serial.unitClass),
    serial: rangeOf(serial),
  };
  return { records: [issuance], errors: [] };
}

/** Retired (`ghg/retreats`) and cancelled (per-project cancellations) blocks. */
function closedBlock(status: 'retired' | 'cancelled') {
  return (e: Entity, locator: string): Mapped => {
    const errors: RowError[] = [];
    const id = projectIdOf(e, locator, errors);
    const size = quantity(e, status === 'retired' ? 'sold' : 'amount', locator, errors);
    const serial = serialOf(e, size, locator, errors);
    const vintageStart = dateOf(e, 'initial_vintage', locator, errors);
    const vintageEnd = dateOf(e, 'final_vintage', locator, errors);
    const statusDate = status === 'retired'
      // `30/07/2026`: day first, as every captured date with a day above 12 shows.
      ? dateOf(e, 'created_at', locator, errors, { dayFirst: true })
      : dateOf(e, 'cancellation_date', locator, errors);
    if (serial && status === 'retired') {
      // The range is stated twice; both statements must agree.
      for (const [field, value] of [['initial_serial', serial.range.start], ['final_serial', serial.range.end]] as const) {
        if (e[field] !== undefined && e[field] !== null && Number(e[field]) !== value) {
          errors.push(failure(locator, field, 'serial-fields-mismatch', `${String(e[field])} disagrees with the serial ${serial.range.raw}, which says ${value}`));
        }
      }
    }
    if (errors.length > 0 || !id || !size || !serial) return { records: [], errors };
    const beneficiary = status === 'retired' ? text(e.final_user) : undefined;
    const reason = text(e.reason);
    const market = text(e.market)?.toLowerCase();
    const block: BlockRecord = {
      type: 'block',
      registry: REGISTRY,
      registryProjectId: id,
      blockKey: serial.range.raw,
      issuanceKey: serial.block,
      serial: rangeOf(serial),
      quantity: size,
      // Retirements state no vintage dates; the serial's months are not the block's exact days.
      vintageStart,
      vintageEnd,
      vintageYear: vintageStart ? Number(vintageStart.slice(0, 4)) : serial.range.vintageYear,
      creditType: creditType(e.destination, serial.unitClass),
      status,
      statusDate,
      retirementBeneficiary: beneficiary,
      retirementReason: reason,
      // `market`: voluntary, or `tax` (used against Colombia's national carbon tax, a compliance use).
      retirementPurpose: market === 'voluntary' ? 'voluntary' : market === 'tax' ? 'compliance' : market ? 'other' : undefined,
      retirementDetails: text(e.to_name) ? `retired to ${text(e.to_name)}` : undefined,
      accountHolder: text(e.holder),
      eligibility: [],
      tokenizationMarker: tokenizationMarker(beneficiary, reason),
    };
    const records: CanonicalInput[] = [block];
    // A retirement names its project; a record that reaches the ledger before the project list still finds it.
    const name = text(e.project_name);
    if (name) records.unshift({ type: 'project', registry: REGISTRY, registryProjectId: id, name, eligibility: [], coBenefits: [] });
    return { records, errors: [] };
  };
}

export const mapRetirement = closedBlock('retired');
export const mapCancellation = closedBlock('cancelled');
