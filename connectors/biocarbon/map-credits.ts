import type { BlockRecord, CanonicalInput, IssuanceRecord } from '../../schema/canonical.ts';
import { mapped, type EntityReader } from '../runtime/entity.ts';
import { tokenizationMarker } from '../runtime/row.ts';
import type { Mapped } from '../types.ts';
import { read, REGISTRY } from './map-projects.ts';
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
const creditType = (r: EntityReader, unitClass: string) => {
  const raw = r.text('destination')?.toLowerCase();
  return raw ? CREDIT_TYPES[raw] ?? raw : CLASS_TYPES[unitClass];
};

function projectIdOf(r: EntityReader): string | undefined {
  const id = r.text('initiative_id');
  if (id && /^\d+$/.test(id)) return id;
  r.fail('initiative_id', 'missing', id ? `"${id}" is not an initiative id` : 'is empty');
  return undefined;
}

/** The serial, parsed and checked against the record's quantity. */
function serialOf(r: EntityReader, size: number | undefined) {
  const parsed = parseBioCarbonSerial(r.text('serial'));
  if (!parsed.ok) {
    r.fail('serial', 'bad-serial', parsed.error);
    return undefined;
  }
  const units = parsed.range.end - parsed.range.start + 1;
  if (size !== undefined && units !== size) {
    r.fail('serial', 'serial-quantity-mismatch', `${units.toLocaleString('en-US')} units in ${parsed.range.raw} but the record says ${size.toLocaleString('en-US')}`);
    return undefined;
  }
  return { range: parsed.range, block: parsed.block!.block, unitClass: parsed.block!.unitClass };
}

const rangeOf = (s: NonNullable<ReturnType<typeof serialOf>>) => ({ numberSpace: s.range.numberSpace, start: s.range.start, end: s.range.end, raw: s.range.raw });

/** An issued block (`ghg/carbon-credits`): an issuance with its whole serial range and the registry's figure. */
export function mapIssuedBlock(e: Entity, locator: string): Mapped {
  const r = read(e, locator);
  const id = projectIdOf(r);
  const amount = r.quantity('amount');
  const serial = serialOf(r, amount);
  const vintageStart = r.date('initial_vintage');
  const vintageEnd = r.date('final_vintage');
  const issuedOn = r.date('date_issue');
  if (r.errors.length > 0 || !id || !amount || !serial) return { records: [], errors: r.errors };
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
    creditType: creditType(r, serial.unitClass),
    serial: rangeOf(serial),
  };
  return mapped(r, [issuance]);
}

/** Retired (`ghg/retreats`) and cancelled (per-project cancellations) blocks. */
function closedBlock(status: 'retired' | 'cancelled') {
  return (e: Entity, locator: string): Mapped => {
    // A retirement's `created_at` is day first (`30/07/2026`), as every captured date with a day above 12 shows.
    const r = read(e, locator, { dayFirst: status === 'retired' });
    const id = projectIdOf(r);
    const size = r.quantity(status === 'retired' ? 'sold' : 'amount');
    const serial = serialOf(r, size);
    const vintageStart = r.date('initial_vintage');
    const vintageEnd = r.date('final_vintage');
    const statusDate = r.date(status === 'retired' ? 'created_at' : 'cancellation_date');
    if (serial && status === 'retired') {
      // The range is stated twice; both statements must agree.
      for (const [field, value] of [['initial_serial', serial.range.start], ['final_serial', serial.range.end]] as const) {
        const stated = r.number(field);
        if (stated !== undefined && stated !== value) {
          r.fail(field, 'serial-fields-mismatch', `${stated} disagrees with the serial ${serial.range.raw}, which says ${value}`);
        }
      }
    }
    if (r.errors.length > 0 || !id || !size || !serial) return { records: [], errors: r.errors };
    const beneficiary = status === 'retired' ? r.text('final_user') : undefined;
    const reason = r.text('reason');
    const market = r.text('market')?.toLowerCase();
    const retiredTo = r.text('to_name');
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
      creditType: creditType(r, serial.unitClass),
      status,
      statusDate,
      retirementBeneficiary: beneficiary,
      retirementReason: reason,
      // `market`: voluntary, or `tax` (used against Colombia's national carbon tax, a compliance use).
      retirementPurpose: market === 'voluntary' ? 'voluntary' : market === 'tax' ? 'compliance' : market ? 'other' : undefined,
      retirementDetails: retiredTo ? `retired to ${retiredTo}` : undefined,
      accountHolder: r.text('holder'),
      eligibility: [],
      tokenizationMarker: tokenizationMarker(beneficiary, reason),
    };
    const records: CanonicalInput[] = [block];
    // A retirement names its project; a record that reaches the ledger before the project list still finds it.
    const name = r.text('project_name');
    if (name) records.unshift({ type: 'project', registry: REGISTRY, registryProjectId: id, name, eligibility: [], coBenefits: [] });
    return mapped(r, records);
  };
}

export const mapRetirement = closedBlock('retired');
export const mapCancellation = closedBlock('cancelled');
