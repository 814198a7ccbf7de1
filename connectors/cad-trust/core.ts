import type { BlockRecord, CanonicalInput, IssuanceRecord, LabelRecord, ProjectRecord } from '../../schema/canonical.ts';
import { resolveCountry, termFromCadt, vocabularies, type VocabularyName } from '../../schema/taxonomy/index.ts';
import { A64_REGISTRY, a64LevyOf, usePurposeOf, type A64Levy } from '../a64-mechanism/levies.ts';
import { parsePythonLiteral } from '../runtime/python-literal.ts';
import { rowReader, tokenizationMarker } from '../runtime/row.ts';
import type { SerialRange } from '../runtime/serial.ts';
import { dateValue, ValueError } from '../runtime/values.ts';
import type { Mapped, RowError } from '../types.ts';
import { acceptedRegistryNames, registryOfCadtName, type NationalRegistry } from './registries.ts';
import { registrySerialRange } from './serials.ts';

// What a CAD Trust project, issuance, unit and label become in Tally, whichever form they come in
// (connectors/cad-trust/README.md). `map-upload.ts` (v1 tables) and `map-v2.ts` (v2 records) find a row's
// fields and what it refers to; the rules here read the values, check them and make the canonical records,
// so each rule is the same for both forms. Field names are passed in: each error names the field as the
// uploader wrote it.

/** How messages name a form: its picklists ("a CAD Trust v2 unitStatus value") and where else a reference may be. */
export type CadtForm = { name: 'CAD Trust' | 'CAD Trust v2'; elsewhere: string };

/** A picklist: a value as Tally's term (null: one the list has and Tally has no term for), and the values it takes, for messages. */
export type Picklist = { read: (value: string) => string | null | undefined; accepted: string };

/** A name or picklist value without case, spaces or punctuation, for comparing. */
export const fold = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');

/** A CAD Trust picklist value as its Tally term code, ignoring case, spaces and punctuation. */
export function termOfCadt(vocabulary: VocabularyName, value: string): string | undefined {
  return (termFromCadt(vocabulary, value) ?? vocabularies[vocabulary]!.terms.find((t) => t.cadt && fold(t.cadt) === fold(value)))?.code;
}

/** A Tally vocabulary as a CAD Trust picklist; `absent` values (CAD Trust's CDM placeholders) mean none. */
export function cadtPicklist(vocabulary: VocabularyName, absent: string[] = []): Picklist {
  return {
    read: (value) => (absent.some((a) => fold(a) === fold(value)) ? null : termOfCadt(vocabulary, value)),
    accepted: vocabularies[vocabulary]!.terms.flatMap((t) => (t.cadt ? [t.cadt] : [])).join(', '),
  };
}

/** Reads one row's fields and collects its errors and warnings, by the row's locator. */
export function cadtReader(cells: Record<string, string>, locator: string, form: CadtForm) {
  const r = rowReader(cells, locator);
  const warnings: RowError[] = [];
  const order = (field: string, start: string | undefined, end: string | undefined, startName: string, endName?: string) => {
    if (start && end && end < start) r.fail(field, 'period-order', `${endName ? `${endName} ` : ''}${end} is before ${startName} ${start}`);
  };
  return {
    ...r,
    locator,
    warnings,
    warn: (field: string, code: string, message: string) => warnings.push({ locator, field, code, message: `${locator}: ${field}: ${message}` }),
    /** A period's end before its start: an error on `field`, naming the end (`endName`) where the field does not. */
    order,
    /** A period from two date fields, checked for order. */
    period(startField: string, endField: string): [string | undefined, string | undefined] {
      const start = r.date(startField);
      const end = r.date(endField);
      order(endField, start, end, startField);
      return [start, end];
    },
    /** A date inside a cell (v1's `issuance` and `estimations` cells). */
    dateOf(field: string, value: string | undefined): string | undefined {
      try {
        return dateValue(value);
      } catch (error) {
        if (!(error instanceof ValueError)) throw error;
        r.fail(field, error.code, error.message);
        return undefined;
      }
    },
    /** A number of units: positive where required, never negative, whole where the form counts whole units. */
    count(field: string, options: { required?: boolean; whole?: boolean } = {}): number | undefined {
      const n = options.required ? r.quantity(field) : r.number(field);
      if (n !== undefined && options.whole && !Number.isSafeInteger(n)) {
        r.fail(field, 'not-an-integer', `${n} is not a whole number of units`);
        return undefined;
      }
      if (n !== undefined && n < 0) {
        r.fail(field, 'negative', `${n} is negative`);
        return undefined;
      }
      return n;
    },
    /** A picklist value as Tally's term; a value the list does not have is an error that lists the ones it does. */
    pick(field: string, list: Picklist, required = false): string | null | undefined {
      const value = r.text(field);
      if (value === undefined) {
        if (required) r.fail(field, 'missing', 'is empty');
        return undefined;
      }
      const found = list.read(value);
      if (found === undefined) r.fail(field, 'not-in-picklist', `"${value}" is not a ${form.name} ${field} value (accepted: ${list.accepted})`);
      return found;
    },
    /** A reference found neither in the upload nor where the form keeps earlier records. */
    unknown(field: string, code: string, what: string) {
      r.fail(field, code, `${what} is neither in this upload nor in ${form.elsewhere}`);
    },
  };
}
export type CadtReader = ReturnType<typeof cadtReader>;

/**
 * Every row of one upload with its reader and the records it yields. A row with errors yields none; the
 * national registries its projects name are created only for projects without errors.
 */
export class UploadRows<Row extends { locator: string }> {
  readonly nationalRegistries = new Map<string, NationalRegistry>();
  readonly #rows = new Map<string, { reader: CadtReader; records: CanonicalInput[] }>();

  constructor(
    private readonly form: CadtForm,
    private readonly cellsOf: (row: Row) => Record<string, string>,
  ) {}

  /** The row's reader, made on first use. */
  reader(row: Row): CadtReader {
    let entry = this.#rows.get(row.locator);
    if (!entry) this.#rows.set(row.locator, (entry = { reader: cadtReader(this.cellsOf(row), row.locator, this.form), records: [] }));
    return entry.reader;
  }

  emit(row: Row, ...records: CanonicalInput[]): void {
    this.#rows.get(row.locator)!.records.push(...records);
  }

  /** A national registry a project names (`Vanuatu National Registry`), created when the upload is stored. */
  noteRegistry(registry: CadtRegistry | undefined, r: CadtReader): void {
    if (registry?.national && r.errors.length === 0) this.nationalRegistries.set(registry.slug, registry.national);
  }

  mapped(): Map<string, Mapped> {
    return new Map([...this.#rows].map(([locator, { reader: r, records }]) => [locator, {
      records: r.errors.length > 0 ? [] : records, errors: r.errors, warnings: r.warnings,
    }]));
  }
}

// ---- projects ----

export type CadtRegistry = NonNullable<ReturnType<typeof registryOfCadtName>>;
export type ProjectKey = { registry: string; registryProjectId: string };
/** A project as units refer to it: its key, and the country and methodology that place its Kyoto serials. */
export type ProjectRef = ProjectKey & { country: string | null; methodology: string | null };
/** A project of the upload: its record, which the rows that describe the project fill in. */
export type CadtProject = ProjectRef & { locator: string; record: ProjectRecord & { eligibility: string[]; coBenefits: string[] } };

export type ProjectFields = { registry: string; projectId: string; name: string; link: string };

/** A project row's registry (a name Tally knows), id, name and web address. */
export function readProject(r: CadtReader, f: ProjectFields): { project: CadtProject; registry?: CadtRegistry; registryName?: string } {
  const registryName = r.required(f.registry, r.text(f.registry));
  const registry = registryName ? registryOfCadtName(registryName) : undefined;
  if (registryName && !registry) r.fail(f.registry, 'unknown-registry', `"${registryName}" is not a registry Tally knows (accepted: ${acceptedRegistryNames()})`);
  const registryProjectId = r.required(f.projectId, r.text(f.projectId)) ?? '';
  // A project without a name keeps the project, known by its id until a name comes.
  const name = r.text(f.name);
  const link = r.text(f.link);
  if (link && !/^https?:\/\/\S+$/i.test(link)) r.fail(f.link, 'not-a-url', `"${link}" is not a web address`);
  const slug = registry?.slug ?? '';
  const record = {
    type: 'project' as const, registry: slug, registryProjectId, ...(name ? { name } : { name: registryProjectId, nameIsIdentifier: true }),
    registryUrl: link, eligibility: [], coBenefits: [],
  };
  return { project: { locator: r.locator, registry: slug, registryProjectId, country: null, methodology: null, record }, registry, registryName };
}

/** The projects an upload has given, by registry and id: the same project twice is an error. */
export class ProjectKeys {
  readonly #seen = new Map<string, string>();

  claim(r: CadtReader, field: string, project: ProjectKey, registryName: string | undefined): void {
    if (!project.registry || !project.registryProjectId) return;
    const key = `${project.registry}:${project.registryProjectId}`;
    const at = this.#seen.get(key);
    if (at) r.fail(field, 'duplicate-project', `project ${project.registryProjectId} of ${registryName} is already at ${at}`);
    else this.#seen.set(key, r.locator);
  }
}

/** A registry CAD Trust names, as a programme of `otherPrograms`: its slug where Tally has one, else as written. */
export const programOf = (name: string) => registryOfCadtName(name)?.slug ?? name;

export type CadtLocation = { country?: string; code?: string; region?: string; place?: { latitude: number; longitude: number } };
export type LocationFields = { country: string; region: string; gis: string };

/** A location's country (one Tally knows), region and coordinates. */
export function readLocation(r: CadtReader, f: LocationFields, options: { countryRequired?: boolean } = {}): CadtLocation {
  const country = options.countryRequired ? r.required(f.country, r.text(f.country)) : r.text(f.country);
  const resolved = country ? resolveCountry(country) : undefined;
  if (country && !resolved) r.fail(f.country, 'unknown-country', `"${country}" is not a country Tally knows (an English name or ISO 3166 code)`);
  return { country, code: resolved?.code, region: r.text(f.region), place: coordinates(r, f.gis, r.text(f.gis)) };
}

/** A location gives the project what it does not say yet: country, region, coordinates. */
export function locate(project: CadtProject, at: CadtLocation): void {
  project.record.country ??= at.country;
  project.country ??= at.code ?? null;
  project.record.region ??= at.region;
  if (project.record.latitude === undefined && at.place) Object.assign(project.record, at.place);
}

/**
 * Latitude and longitude from a location cell (v1 `geographicIdentifier`, v2 `locationGis`):
 * `{"latitude": …, "longitude": …}` / `{"lat": …, "lng": …}` as JSON or a Python repr, or `lat, long`;
 * other identifiers are no coordinates.
 */
export function coordinates(r: Pick<CadtReader, 'warn'>, field: string, value: string | undefined): { latitude: number; longitude: number } | undefined {
  if (!value) return undefined;
  let lat: number | undefined;
  let lon: number | undefined;
  const pair = value.match(/^\s*(-?\d+(?:\.\d+)?)\s*[,;]\s*(-?\d+(?:\.\d+)?)\s*$/);
  if (pair) [lat, lon] = [Number(pair[1]), Number(pair[2])];
  else if (value.trim().startsWith('{')) {
    try {
      const o = parsePythonLiteral(value) as Record<string, unknown>;
      lat = Number(o.latitude ?? o.lat);
      lon = Number(o.longitude ?? o.lng ?? o.lon);
    } catch {
      return undefined;
    }
  }
  if (lat === undefined || lon === undefined || !Number.isFinite(lat) || !Number.isFinite(lon)) return undefined;
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180) {
    r.warn(field, 'coordinates-out-of-range', `latitude ${lat}, longitude ${lon} is not a place on Earth; left out`);
    return undefined;
  }
  return { latitude: lat, longitude: lon };
}

/** A co-benefit row: an SDG the project adds (`read` gives its code); a value that is none is left out with a warning. */
export function readCoBenefit(r: CadtReader, project: CadtProject | undefined, read: (value: string) => string | undefined): void {
  const value = r.required('cobenefit', r.text('cobenefit'));
  const code = value ? read(value) : undefined;
  if (value && !code) r.warn('cobenefit', 'unknown-co-benefit', `"${value}" is not a CAD Trust co-benefit (an SDG); left out`);
  if (project && code && r.errors.length === 0 && !project.record.coBenefits.includes(code)) project.record.coBenefits.push(code);
}

/** A rating row: kept as received only. */
export function ratingNotStored(r: CadtReader): void {
  r.warn('ratingType', 'not-stored', 'ratings are kept as received but not yet stored in the ledger');
}

export type Estimation = { start?: string; end?: string; units?: number };

const DAY = 86_400_000;

/** Years from `start` to `end`, both days included: whole anniversaries, then the days left over / 365.25. */
export function years(start: string, end: string): number {
  const from = new Date(`${start}T00:00:00Z`);
  const stop = Date.parse(`${end}T00:00:00Z`) + DAY;
  const anniversary = (n: number) => Date.UTC(from.getUTCFullYear() + n, from.getUTCMonth(), from.getUTCDate());
  let whole = 0;
  while (anniversary(whole + 1) <= stop) whole += 1;
  return whole + (stop - anniversary(whole)) / DAY / 365.25;
}

/**
 * The crediting period (earliest start, latest end) and the estimated annual quantity: every
 * estimation's units over every estimation's years (a crediting period of 2006-02-13 to 2016-02-12 is
 * 10), in whole tonnes; left out when an estimation lacks its dates or its count.
 */
export function creditingOf(estimations: Estimation[]): Pick<ProjectRecord, 'creditingPeriodStart' | 'creditingPeriodEnd' | 'estimatedAnnualQuantity'> {
  const starts = estimations.flatMap((e) => (e.start ? [e.start] : [])).sort();
  const ends = estimations.flatMap((e) => (e.end ? [e.end] : [])).sort();
  const complete = estimations.length > 0 && estimations.every((e) => e.start && e.end && e.units !== undefined && e.end >= e.start);
  const span = complete ? estimations.reduce((sum, e) => sum + years(e.start!, e.end!), 0) : 0;
  const units = estimations.reduce((sum, e) => sum + (e.units ?? 0), 0);
  return {
    creditingPeriodStart: starts[0],
    creditingPeriodEnd: ends.at(-1),
    ...(complete && span > 0 ? { estimatedAnnualQuantity: Math.round(units / span) } : {}),
  };
}

// ---- units ----

/** A vintage year between 1990 and 2100. */
export function vintageYearOf(r: CadtReader, field: string): number | undefined {
  const year = r.number(field);
  if (year === undefined || (Number.isInteger(year) && year >= 1990 && year <= 2100)) return year;
  r.fail(field, 'invalid-year', `${year} is not a vintage year`);
  return undefined;
}

/** A serial bound as a whole number: `258050692`, or pandas' `258050692.0`. */
function plainInteger(bound: string): number | undefined {
  const m = bound.trim().match(/^(\d+)(?:\.0+)?$/);
  const n = m ? Number(m[1]) : undefined;
  return n !== undefined && Number.isSafeInteger(n) ? n : undefined;
}

/** The fields that give a unit's block: its first and last serial, the registry's own serial string, its count. */
export type RangeFields = { start: string; end: string; serial: string; count: string };

/** Where a unit's serials lie; `bounds` are the range as text (v1 keys a unit without an id by them). */
export type BlockRange = { serial?: SerialRange; serialRaw?: string; bounds?: string };

/**
 * A unit's block, numbered from its start to its end, both included, and checked against its count. Bounds
 * that are whole numbers lie in the registry's own number space when the unit's serial string is one its parser
 * reads with those bounds, else in the number space `numberSpace` gives; other bounds keep the text. A unit
 * without bounds may still be placed by its registry's serial string alone.
 */
export function blockRange(r: CadtReader, f: RangeFields, unit: { quantity?: number; project?: ProjectRef }, serialSchemes: ReadonlyMap<string, string>): BlockRange {
  const start = r.text(f.start);
  const end = r.text(f.end);
  const serialText = r.text(f.serial);
  const { quantity, project } = unit;
  if ((start === undefined) !== (end === undefined)) {
    r.fail(start === undefined ? f.start : f.end, 'missing', `is empty, but ${start === undefined ? f.end : f.start} is given`);
    return {};
  }
  if (start !== undefined && end !== undefined) {
    const raw = serialText ?? `${start}-${end}`;
    const a = plainInteger(start);
    const b = plainInteger(end);
    if (a === undefined || b === undefined) return { serialRaw: raw, bounds: `${start}-${end}` };
    const bounds = `${a}-${b}`;
    if (b < a) r.fail(f.end, 'serial-order', `${b} is before ${f.start} ${a}`);
    else if (quantity !== undefined && b - a + 1 !== quantity) {
      r.fail(f.count, 'serial-quantity-mismatch', `${quantity}, but the block from ${f.start} ${a} to ${f.end} ${b} holds ${b - a + 1} units (the range is inclusive: end − start + 1)`);
    } else if (project) {
      const serial = registrySerialRange(project.registry, serialText, a, b);
      if (serial) return { serial, bounds };
      const space = numberSpace(r, f.start, project, serialSchemes);
      if (space) return { serial: { numberSpace: space, start: a, end: b, raw }, bounds };
    }
    return { serialRaw: raw, bounds };
  }
  if (!project || !serialText) return {};
  const serial = registrySerialRange(project.registry, serialText);
  if (serial && quantity !== undefined && serial.end - serial.start + 1 !== quantity) {
    r.fail(f.count, 'serial-quantity-mismatch', `${quantity}, but ${f.serial} ${serialText} holds ${serial.end - serial.start + 1} units`);
    return { serialRaw: serialText, bounds: serialText };
  }
  return serial ? { serial, bounds: serialText } : { serialRaw: serialText, bounds: serialText };
}

/** The number space of a block's serials: the Kyoto one for CDM CERs, else the project's own. */
function numberSpace(r: CadtReader, field: string, project: ProjectRef, serialSchemes: ReadonlyMap<string, string>): string | undefined {
  const scheme = serialSchemes.get(project.registry) ?? (project.registry.startsWith('national-') ? 'per-issuance' : undefined);
  if (scheme !== 'kyoto') return `${project.registry}:cadt:${project.registryProjectId}`;
  // CDM afforestation/reforestation projects issue tCERs or lCERs, each type numbered on its own; neither
  // form says which, so the serials cannot be placed.
  if (project.methodology && /\bAR-/i.test(project.methodology)) {
    r.warn(field, 'unit-type-unknown', 'a CDM afforestation/reforestation project issues tCERs or lCERs and the unit does not say which; serials kept as text, not compared');
    return undefined;
  }
  if (!project.country) {
    r.warn(field, 'country-unknown', "the project's country is not known, so its Kyoto serials cannot be placed; kept as text, not compared");
    return undefined;
  }
  // Kyoto serials are unique per originating Party and unit type; 5 is the CER (connectors/cdm/serial.ts).
  return `cdm:${project.country}:5`;
}

/** The units an upload has given, by registry and key: the same unit twice is an error. */
export class UnitKeys {
  readonly #seen = new Map<string, string>();

  claim(r: CadtReader, field: string, registry: string, key: string): void {
    const k = `${registry}|${key}`;
    const at = this.#seen.get(k);
    if (at) r.fail(field, 'duplicate-unit', `the same unit (${key}) is already at ${at}`);
    else this.#seen.set(k, r.locator);
  }
}

/** What a unit says, read from either form, for its block. */
export type CadtUnit = {
  project: ProjectKey;
  blockKey: string;
  issuanceKey?: string;
  range: BlockRange;
  quantity: number;
  status: string;
  vintageYear?: number;
  vintageStart?: string;
  vintageEnd?: string;
  creditType?: BlockRecord['creditType'];
  unitType?: string;
  statusDate?: string;
  retirementReason?: string;
  retirementDetails?: string;
  retirementBeneficiary?: string;
  retirementPurpose?: BlockRecord['retirementPurpose'];
  accountHolder?: string;
  /** Its Article 6 authorization (`authorizationOf`). */
  authorization?: string;
  /** The corresponding adjustment a v1 unit declares; v2 units have no such fields. */
  declared?: { declaration?: string; status?: string };
};

/**
 * A unit's block. A unit that declares no corresponding adjustment has one committed when it is authorized; an
 * A6.4ER that is not is a mitigation contribution unit, which needs none (a64-mechanism/levies.ts).
 */
export function blockRecord(u: CadtUnit): BlockRecord {
  const caDeclaration = u.declared ? u.declared.declaration : u.authorization ? 'committed' : u.project.registry === A64_REGISTRY ? 'not-required' : undefined;
  return {
    type: 'block',
    registry: u.project.registry,
    registryProjectId: u.project.registryProjectId,
    blockKey: u.blockKey,
    issuanceKey: u.issuanceKey,
    ...(u.range.serial ? { serial: u.range.serial } : u.range.serialRaw ? { serialRaw: u.range.serialRaw } : {}),
    quantity: u.quantity,
    vintageYear: u.vintageYear,
    vintageStart: u.vintageStart,
    vintageEnd: u.vintageEnd,
    creditType: u.creditType,
    unitType: u.unitType as BlockRecord['unitType'],
    status: u.status as BlockRecord['status'],
    statusDate: u.statusDate,
    retirementReason: u.retirementReason,
    retirementDetails: u.retirementDetails,
    retirementBeneficiary: u.retirementBeneficiary,
    retirementPurpose: u.retirementPurpose,
    accountHolder: u.accountHolder,
    eligibility: [],
    article6Authorization: u.authorization,
    caDeclaration: caDeclaration as BlockRecord['caDeclaration'],
    caStatus: u.declared?.status as BlockRecord['caStatus'],
    tokenizationMarker: tokenizationMarker(u.retirementDetails, u.retirementBeneficiary),
  };
}

type UnitText = { registry: string } & Pick<CadtUnit, 'status' | 'accountHolder' | 'retirementReason' | 'retirementDetails'>;

/** Which A6.4 levy a unit of the mechanism is, from what it says of itself (a64-mechanism/levies.ts). */
export function levyOf(u: UnitText): A64Levy | undefined {
  if (u.registry !== A64_REGISTRY) return undefined;
  return a64LevyOf({ status: u.status, texts: [u.accountHolder, u.retirementReason, u.retirementDetails] });
}

/** The use a retirement or cancellation states (CORSIA, OIMP, an NDC); an OMGE cancellation is no use. */
export function retirementPurposeOf(u: UnitText): BlockRecord['retirementPurpose'] {
  const used = u.status === 'retired' || u.status === 'cancelled';
  return used && levyOf(u) !== 'omge' ? usePurposeOf(u.retirementReason, u.retirementDetails) : undefined;
}

/** The credit type of a v2 unit, by its registry: A6.4ERs of the mechanism, CERs of the CDM. */
export function creditTypeOf(registry: string): BlockRecord['creditType'] {
  return registry === A64_REGISTRY ? 'a64er' : registry === 'cdm' ? 'cer' : undefined;
}

// ---- issuances ----

/** An issuance as both forms give it: its key and vintage (CAD Trust issuances carry no quantity). */
export type CadtIssuance = { key: string; vintageStart?: string; vintageEnd?: string; issuedOn?: string };

/**
 * The issuances of an upload as the sums of their blocks, and for the A6.4 mechanism's the levies among
 * those blocks: the units forwarded to the Adaptation Fund and those cancelled for OMGE.
 */
export class IssuanceTotals {
  readonly #byKey = new Map<string, { quantity: number; shareOfProceeds: number; omge: number; a64: boolean }>();

  /** Counts a block that stands (its row has no errors) onto its issuance. */
  add(issuanceKey: string, block: BlockRecord): void {
    const total = this.#byKey.get(issuanceKey) ?? { quantity: 0, shareOfProceeds: 0, omge: 0, a64: false };
    const levy = levyOf(block);
    total.quantity += block.quantity;
    if (levy === 'share-of-proceeds') total.shareOfProceeds += block.quantity;
    if (levy === 'omge') total.omge += block.quantity;
    total.a64 ||= block.registry === A64_REGISTRY;
    this.#byKey.set(issuanceKey, total);
  }

  /** Warns of an issuance no block of the upload names: its quantity is unknown, so it is not stored. */
  checkNamed(r: CadtReader, field: string, issuanceKey: string): void {
    if (this.#byKey.has(issuanceKey)) return;
    r.warn(field, 'issuance-without-units', `no unit of this upload names issuance ${issuanceKey}; it is recorded with its units (its quantity is theirs)`);
  }

  /** The issuance's record, its quantity its blocks'; undefined when no block names it. */
  record(issuance: CadtIssuance, project: ProjectKey): IssuanceRecord | undefined {
    const total = this.#byKey.get(issuance.key);
    if (!total) return undefined;
    return {
      type: 'issuance', registry: project.registry, registryProjectId: project.registryProjectId, issuanceKey: issuance.key,
      vintageStart: issuance.vintageStart, vintageEnd: issuance.vintageEnd, issuedOn: issuance.issuedOn, quantity: total.quantity, quantityFromBlocks: true,
      ...(total.a64 ? { creditType: 'a64er', shareOfProceedsQuantity: total.shareOfProceeds, omgeQuantity: total.omge } : {}),
    };
  }
}

// ---- labels ----

/** A label as both forms give it; its blocks are added as the upload links units to it. */
export type CadtLabel = Omit<LabelRecord, 'type' | 'registry' | 'registryProjectId' | 'blockKeys'>;

export function labelRecord(project: ProjectKey, label: CadtLabel, blockKeys: string[] = []): LabelRecord & { blockKeys: string[] } {
  return { type: 'label', registry: project.registry, registryProjectId: project.registryProjectId, ...label, blockKeys };
}

/**
 * A unit's Article 6 authorization: the Letter of Authorization on it (v2 "Article 6 - Authorisation"),
 * else the reference the unit gives (v2 `unitItmosReferenceId`).
 */
export function authorizationOf(labels: readonly { labelType?: string; label?: string }[], reference?: string): string | undefined {
  return labels.find((l) => l.labelType === 'letter-of-authorization')?.label ?? reference;
}
