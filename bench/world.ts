import type { BlockRecord, CanonicalInput } from '../schema/canonical.ts';
import type { Database } from '../schema/database.ts';
import type { RawRecord } from '../connectors/types.ts';
import { ingest, type IngestSummary } from '../jobs/ingest.ts';
import { organisationName, PlaceNames, Rng } from './world-random.ts';
import {
  addDays, CAR_STATES, familiesOf, FAMILIES, formatProjectId, formatSerial, ISO, notAfterLast, numberSpaceOf, PROGRAM_NAME,
  PROJECT_NUMBERS, REGISTRIES, registryUrl, type BatchContext, type Family, type Listing, type Registry,
} from './world-registries.ts';

// A synthetic world for measuring the integrity engine (jobs/integrity) against a known answer.
//
// generateWorld draws, from a seed alone, a ledger's worth of projects across six registries as the
// connectors would hand them to the ingest job (canonical records: projects, issuances, serial blocks,
// conversion events), plants a known set of double counts in it, and returns the findings the engine
// should report: the ground truth. Besides the anomalies it holds legitimate situations that look
// like them (near misses: conversions netted on both sides, a project that moved registries, CERs
// cancelled before conversion, ranges that touch, names alike but numbered or in another country),
// which must raise nothing.
//
// Everything in the world is kept apart unless an anomaly or near miss joins it on purpose: every
// project has a place name unlike any other in its country, serial ranges of one number space never
// overlap, each planted anomaly uses projects or blocks of its own. So each truth entry is one
// finding, and any other finding is the engine's.

export type DoubleCountingKind =
  | 'serial-overlap' | 'unnetted-conversion' | 'same-activity-overlap' | 'cdm-overlap' | 'retired-twice'
  | 'tokenized-after-retirement' | 'export-not-imported';

export const DOUBLE_COUNTING_KINDS: readonly DoubleCountingKind[] = [
  'serial-overlap', 'unnetted-conversion', 'same-activity-overlap', 'cdm-overlap', 'retired-twice',
  'tokenized-after-retirement', 'export-not-imported',
];

export type ExpectedFinding = {
  kind: DoubleCountingKind;
  tonnes: number;
  /** Keys of the projects the finding names (`verra:1234`, `climate-action-reserve:CAR400`), sorted. */
  projects: string[];
  restsOnInferredLink: boolean;
  /** What was planted, for a person reading a failed comparison. */
  note: string;
};

export type WorldSource = { registry: string; name: string; records: CanonicalInput[] };

export type WorldCounts = {
  projects: number;
  projectsByRegistry: Record<string, number>;
  issuances: number;
  blocks: number;
  /** Events the sources state explicitly (conversions); the ingest job derives the others from block statuses. */
  events: number;
  records: number;
  anomalies: Record<DoubleCountingKind, number>;
  nearMisses: Record<string, number>;
};

export type World = { seed: number; sources: WorldSource[]; truth: ExpectedFinding[]; counts: WorldCounts };

export type WorldOptions = {
  seed: number;
  /** Projects in the world, all registries together (at least 300). */
  projects: number;
  /** Plant the anomalies (default true). Near misses are always there. */
  anomalies?: boolean;
};

// ---- the world's model, before it is written as canonical records ----------------------------------

type Status = BlockRecord['status'];
type EventInput = Extract<CanonicalInput, { type: 'event' }>;
type OtherProgram = { program?: string; projectId?: string; relation: 'same-activity' | 'converted-from'; field: string };

type Block = {
  key: string; numberSpace: string; start: number; end: number; status: Status; statusDate?: string;
  beneficiary?: string; reason?: string; details?: string; marker?: string;
  /** The event the registry reports with this block (a conversion), written right after it. */
  event?: EventInput;
};

type Issuance = {
  key: string; ctx: BatchContext; year: number;
  /** The days the units were generated in; written as vintageStart/vintageEnd where the registry dates vintages. */
  start: string; end: string; dated: boolean;
  issuedOn: string; quantity: number; serialStart: number; serialEnd: number; blocks: Block[];
};

type Project = {
  registry: Registry; number: number; id: string; key: string; name: string; country: string; proponent: string;
  listing: Listing; family: Family; state: string; statusRaw: string; otherPrograms: OtherProgram[];
  issuances: Issuance[]; events: EventInput[];
  /** Plain projects belong to no planted situation; the block anomalies are planted in them. */
  plain: boolean;
};

type Period = { start: string; end: string; year: number };
/** How an issuance is cut into blocks: quantities in serial order, each with its status. */
type Piece = { quantity: number; status: Status; conversion?: Conversion };
type Conversion = { counterparty?: string; reason: string; destination: string };

const TO_VERRA: Conversion = { counterparty: 'verra', reason: 'Converted to VCUs', destination: 'Verra (VCUs)' };
const TO_ARB: Conversion = { counterparty: 'arb', reason: 'ARB', destination: 'California Air Resources Board (ARB offset credits)' };
const TO_WA_ECO: Conversion = { reason: 'WA ECO', destination: 'Washington State Department of Ecology (Ecology offset credits)' };

const REGISTRY_WEIGHTS: readonly (readonly [Registry, number])[] = [
  ['verra', 0.40], ['gold-standard', 0.22], ['cdm', 0.18], ['american-carbon-registry', 0.10], ['climate-action-reserve', 0.085], ['art-trees', 0.015],
];

const STATUS_RAW: Record<Registry, string> = {
  'verra': 'Registered', 'gold-standard': 'Certified Project', 'american-carbon-registry': 'Active', 'climate-action-reserve': 'Registered',
  'art-trees': 'Registered', 'cdm': 'Registered',
};

const year = (y: number): Period => ({ start: `${y}-01-01`, end: `${y}-12-31`, year: y });
const sum = (list: { quantity: number }[]) => list.reduce((s, x) => s + x.quantity, 0);
const sortedKeys = (...projects: Project[]) => [...new Set(projects.map((p) => p.key))].sort();

/** Issuances of `a` and of `b` whose periods overlap, summed per side: what rules 3 and 4 set against each other. */
function overlapping(a: Issuance[], b: Issuance[]): { a: number; b: number } {
  const hit = (x: Issuance, y: Issuance) => x.start <= y.end && y.start <= x.end;
  return { a: sum(a.filter((x) => b.some((y) => hit(x, y)))), b: sum(b.filter((y) => a.some((x) => hit(x, y)))) };
}

export function generateWorld(options: WorldOptions): World {
  if (!Number.isInteger(options.projects) || options.projects < 300) throw new Error('a world needs at least 300 projects');
  const rng = new Rng(options.seed);
  const places = new PlaceNames(rng);
  const withAnomalies = options.anomalies ?? true;
  const projects: Project[] = [];
  const truth: ExpectedFinding[] = [];
  const nearMisses: Record<string, number> = {};
  const nearMiss = (label: string) => { nearMisses[label] = (nearMisses[label] ?? 0) + 1; };

  // ---- identities -----------------------------------------------------------------------------------

  const usedNumbers = new Map<Registry, Set<number>>(REGISTRIES.map((r) => [r, new Set()]));
  // Ranges grow with the world so that drawing an unused number stays cheap.
  const numberRange = (r: Registry): [number, number] => {
    const [lo, hi] = PROJECT_NUMBERS[r];
    return [lo, Math.max(hi, lo + Math.ceil(options.projects * 4 * (REGISTRY_WEIGHTS.find(([x]) => x === r)?.[1] ?? 0.2)))];
  };
  const takeNumber = (r: Registry): number => {
    const [lo, hi] = numberRange(r);
    for (;;) {
      const n = rng.between(lo, hi);
      if (!usedNumbers.get(r)!.has(n)) {
        usedNumbers.get(r)!.add(n);
        return n;
      }
    }
  };

  function makeProject(registry: Registry, family: Family, listing: Listing, country: string, name: string, extra: { proponent?: string; plain?: boolean } = {}): Project {
    if (!ISO[country]) throw new Error(`no ISO code for ${country}`);
    const number = takeNumber(registry);
    const id = formatProjectId(registry, number);
    const states = CAR_STATES[country];
    const project: Project = {
      registry, number, id, key: `${registry}:${id}`, name, country, family, listing,
      proponent: extra.proponent ?? organisationName(rng, registry === 'art-trees' ? 'government' : 'developer', country),
      state: states ? rng.pick(states) : 'XX',
      statusRaw: STATUS_RAW[registry], otherPrograms: [], issuances: [], events: [], plain: extra.plain ?? false,
    };
    projects.push(project);
    return project;
  }

  const listingOf = (registry: Registry, family: Family): Listing => rng.pick(family.listings[registry]!);

  // ---- serials ----------------------------------------------------------------------------------------

  // Verra numbers every VCU in one registry-wide space: issuances take increasing ranges, sometimes
  // right after the previous one (ranges that touch), sometimes after a gap. The others restart at 1
  // in every issuance batch, whose number is part of the number space; the CDM numbers per party.
  let verraCursor = 100_000_000 + rng.int(5_000_000);
  const batchNumbers: Record<Registry, number> = {
    'verra': 4000 + rng.int(500), 'gold-standard': 20_000 + rng.int(2000), 'american-carbon-registry': 2000 + rng.int(500),
    'climate-action-reserve': 5000 + rng.int(500), 'art-trees': 5 + rng.int(5), 'cdm': 0,
  };
  const cdmCursors = new Map<string, number>();

  function allocate(registry: Registry, iso: string, quantity: number): { batch: number; start: number; end: number } {
    batchNumbers[registry] += rng.between(1, 3);
    const batch = batchNumbers[registry];
    if (registry === 'verra') {
      const start = verraCursor;
      verraCursor = start + quantity + (rng.chance(0.4) ? 0 : rng.int(20_000));
      return { batch, start, end: start + quantity - 1 };
    }
    if (registry === 'cdm') {
      const start = cdmCursors.get(iso) ?? 1_000_000 + rng.int(50_000_000);
      cdmCursors.set(iso, start + quantity + rng.int(5000));
      return { batch, start, end: start + quantity - 1 };
    }
    return { batch, start: 1, end: quantity };
  }

  // ---- issuances and blocks ---------------------------------------------------------------------------

  const buyers = (country: string) => organisationName(rng, 'buyer', country);
  const retirementDetails = (beneficiary: string, y: number): string | undefined => rng.pick([
    undefined,
    `Retired on behalf of ${beneficiary} to compensate ${y} business travel emissions`,
    `${beneficiary} carbon neutrality claim for reporting year ${y}`,
    `Offsetting the ${y} operational footprint of ${beneficiary}`,
    `Retired for customers of ${beneficiary} who chose a climate-neutral delivery in ${y}`,
  ]);

  /** A block's status and what a registry records with it. */
  function close(block: Block, p: Project, issuance: Issuance, status: Status, conversion?: Conversion): void {
    block.status = status;
    if (status === 'held' || status === 'buffer') return;
    block.statusDate = notAfterLast(addDays(issuance.issuedOn, rng.between(5, 1200)));
    const y = Number(block.statusDate.slice(0, 4));
    if (status === 'retired') {
      block.beneficiary = buyers(p.country);
      block.reason = rng.pick(['Environmental benefit', 'Voluntary offsetting', 'Carbon neutrality claim', 'Compliance with CORSIA']);
      block.details = retirementDetails(block.beneficiary, y - 1);
    } else if (status === 'cancelled') {
      block.reason = p.registry === 'cdm' ? 'Voluntary cancellation' : rng.pick(['Cancelled at the request of the account holder', 'Invalidation']);
    } else if (status === 'exported' && conversion) {
      block.reason = conversion.reason;
      // The registry's cancellation report names where the units went; the connector writes that as a
      // converted-out event keyed like the one the ingest job derives from the status, so the two are one.
      block.event = {
        type: 'event', registry: p.registry, registryProjectId: p.id, kind: 'converted-out', eventKey: `converted-out:${block.key}`,
        occurredOn: block.statusDate, quantity: block.end - block.start + 1, vintageYear: issuance.year, blockKey: block.key,
        ...(conversion.counterparty ? { counterpartyRegistry: conversion.counterparty } : {}),
        details: { cancellationReason: conversion.reason, destination: conversion.destination },
      };
    }
  }

  function newBlock(issuance: Issuance, start: number, end: number): Block {
    const raw = formatSerial(issuance.ctx, start, end);
    return { key: raw, numberSpace: numberSpaceOf(issuance.ctx), start, end, status: 'held' };
  }

  /** The blocks a registry lists for an issuance: its range cut into pieces that touch, each with a status. */
  function cut(p: Project, issuance: Issuance, pieces: Piece[]): void {
    if (sum(pieces) !== issuance.quantity) throw new Error(`pieces of ${p.key}/${issuance.key} do not add up to the issuance`);
    let next = issuance.serialStart;
    for (const piece of pieces) {
      const block = newBlock(issuance, next, next + piece.quantity - 1);
      close(block, p, issuance, piece.status, piece.conversion);
      issuance.blocks.push(block);
      next = block.end + 1;
    }
  }

  /** The status of one block, drawn as the registry's own blocks are spread. */
  function usualStatus(p: Project): Omit<Piece, 'quantity'> {
    const forestry = ['redd', 'arr', 'ifm'].includes(p.family.id);
    switch (p.registry) {
      case 'verra': return { status: rng.weighted<Status>([['retired', 0.5], ['held', 0.42], ['cancelled', 0.03], [forestry ? 'buffer' : 'held', 0.05]]) };
      case 'gold-standard': return { status: rng.weighted<Status>([['retired', 0.55], ['held', 0.45]]) };
      case 'cdm': return { status: rng.weighted<Status>([['held', 0.65], ['retired', 0.25], ['cancelled', 0.1]]) };
      case 'climate-action-reserve':
        // Registry Offset Credits are there to be converted into California's (or Washington's) credits.
        if (p.listing.creditType === 'roc' && rng.chance(0.25)) return { status: 'exported', conversion: rng.chance(0.85) ? TO_ARB : TO_WA_ECO };
        return { status: rng.weighted<Status>([['retired', 0.5], ['held', 0.45], ['cancelled', 0.05]]) };
      default: return { status: rng.weighted<Status>([['retired', 0.5], ['held', 0.45], ['cancelled', 0.05]]) };
    }
  }

  /** One to three pieces with the registry's usual statuses. */
  function defaultPieces(p: Project, quantity: number): Piece[] {
    const n = quantity < 3 ? 1 : rng.weighted([[1, 0.35], [2, 0.45], [3, 0.2]] as const);
    const cuts = new Set<number>();
    while (cuts.size < n - 1) cuts.add(rng.between(1, quantity - 1));
    const bounds = [0, ...[...cuts].sort((a, b) => a - b), quantity];
    return bounds.slice(1).map((b, i) => ({ ...usualStatus(p), quantity: b - bounds[i]! }));
  }

  function issuanceKey(p: Project, period: Period, batch: number, issuedOn: string, quantity: number): string {
    switch (p.registry) {
      case 'verra': return `batch ${batch}`;
      case 'gold-standard': return `${period.year}/${batch}`;
      case 'american-carbon-registry': return `${period.year}/${issuedOn}`;
      case 'climate-action-reserve': return `${period.year}/${issuedOn}/${quantity}`;
      case 'art-trees': return `${period.year}/${issuedOn}`;
      case 'cdm': return `CER/${period.start}/${period.end}`;
    }
  }

  /** Issues `quantity` units for `period`, in the registry's usual blocks. */
  function issue(p: Project, period: Period, quantity: number): Issuance {
    const dated = p.registry === 'verra' || p.registry === 'cdm';
    // Registries that write only a vintage year cover that calendar year, as the engine reads them.
    const { start, end } = dated ? period : year(period.year);
    const { batch, start: serialStart, end: serialEnd } = allocate(p.registry, ISO[p.country]!, quantity);
    const issuedOn = notAfterLast(addDays(end, rng.between(45, 540)));
    let key = issuanceKey(p, period, batch, issuedOn, quantity);
    while (p.issuances.some((i) => i.key === key)) key = `${key}/2`;
    const issuance: Issuance = {
      key, year: period.year, start, end, dated, issuedOn, quantity, serialStart, serialEnd, blocks: [],
      ctx: {
        registry: p.registry, projectId: p.id, iso: ISO[p.country]!, vintageYear: period.year, vintageStart: start, vintageEnd: end,
        batch, creditType: p.listing.creditType, state: p.state, projectNumber: p.number,
      },
    };
    p.issuances.push(issuance);
    cut(p, issuance, defaultPieces(p, quantity));
    return issuance;
  }

  const size = (p: Project) => rng.logBetween(p.family.size[0], p.family.size[1]);

  /** Consecutive monitoring periods of 6 to 18 months from `from`, as CDM issuances cover them. */
  function monitoringPeriods(from: string, count: number): Period[] {
    const periods: Period[] = [];
    let start = from;
    for (let i = 0; i < count; i += 1) {
      const end = addDays(start, rng.between(180, 540));
      periods.push({ start, end, year: Number(start.slice(0, 4)) });
      start = addDays(end, 1);
    }
    return periods;
  }

  /** Vintages a registry usually issues for a project starting in `first`: one to four, consecutive or with a gap. */
  function usualPeriods(p: Project, first: number, count: number): Period[] {
    if (p.registry === 'cdm') return monitoringPeriods(`${first}-${String(rng.between(1, 12)).padStart(2, '0')}-01`, count);
    const periods: Period[] = [];
    let y = first;
    for (let i = 0; i < count && y <= 2024; i += 1) {
      // Verra's first vintage often starts mid-year, with the crediting period.
      if (p.registry === 'verra' && i === 0 && rng.chance(0.2)) periods.push({ start: `${y}-${String(rng.between(2, 11)).padStart(2, '0')}-01`, end: `${y}-12-31`, year: y });
      else periods.push(year(y));
      y += rng.chance(0.2) ? 2 : 1;
    }
    return periods;
  }

  const vintageCount = () => rng.weighted([[1, 0.3], [2, 0.3], [3, 0.25], [4, 0.15]] as const);

  // ---- plain projects ---------------------------------------------------------------------------------

  function plainProject(): Project {
    const registry = rng.weighted(REGISTRY_WEIGHTS);
    const family = rng.pick(familiesOf(registry));
    const listing = listingOf(registry, family);
    const country = rng.pick(listing.countries);
    const p = makeProject(registry, family, listing, country, `${places.take([country])} ${listing.phrase}`, { plain: true });
    const first = registry === 'cdm' ? rng.between(2006, 2013) : registry === 'art-trees' ? rng.between(2016, 2021) : rng.between(2009, 2021);
    for (const period of usualPeriods(p, first, vintageCount())) issue(p, period, size(p));
    return p;
  }

  // ---- pairs of projects: one activity in two registries ----------------------------------------------

  /**
   * Two projects of one activity in registries `a` and `b`: one place name, one proponent, each
   * registry's methodology and phrase. The country is one the registry that is not Verra lists the
   * activity in (Verra lists nearly everything); with `sameCountry`, one both list it in.
   */
  function twins(a: Registry, b: Registry, options: { sameCountry?: boolean; families?: readonly string[] } = {}): [Project, Project] {
    const home = a === 'verra' ? b : a;
    const countriesOf = (listings: readonly Listing[]) => [...new Set(listings.flatMap((l) => l.countries))];
    const choices = FAMILIES.flatMap((family) => {
      const la = family.listings[a];
      const lb = family.listings[b];
      if (!la || !lb || (options.families && !options.families.includes(family.id))) return [];
      let countries = countriesOf(family.listings[home]!);
      if (options.sameCountry) {
        const other = new Set(countriesOf(home === a ? lb : la));
        countries = countries.filter((c) => other.has(c));
      }
      return countries.length > 0 ? [{ family, countries }] : [];
    });
    const { family, countries } = rng.pick(choices);
    const country = rng.pick(countries);
    const place = places.take([country]);
    const la = listingOf(a, family);
    const lb = listingOf(b, family);
    const proponent = organisationName(rng, 'developer', country);
    return [
      makeProject(a, family, la, country, `${place} ${la.phrase}`, { proponent }),
      makeProject(b, family, lb, country, `${place} ${lb.phrase}`, { proponent }),
    ];
  }

  const declare = (declaring: Project, other: Project, relation: OtherProgram['relation'], field = 'otherGhgProgramName') => {
    declaring.otherPrograms.push({ program: PROGRAM_NAME[other.registry], projectId: other.id, relation, field });
  };

  /** Calendar-year vintages `from`..`from + count − 1`, each issued in the registry's usual blocks. */
  const issueYears = (p: Project, from: number, count: number) => Array.from({ length: count }, (_, i) => issue(p, year(from + i), size(p)));

  // ---- how many of each ---------------------------------------------------------------------------------

  const scale = Math.floor(options.projects / 2500);
  const some = (min: number, max: number) => rng.between(min, max) + scale;

  // ---- anomalies across projects (rules 2, 3, 4, 7) ---------------------------------------------------

  if (withAnomalies) {
    // Rule 2: CAR reports credits converted to VCUs beside an issuance it still counts in full, and
    // the Verra project those credits went to issues them again.
    for (let n = some(2, 3); n > 0; n -= 1) {
      const [car, vcs] = twins('climate-action-reserve', 'verra');
      declare(vcs, car, 'converted-from');
      const first = rng.between(2010, 2018);
      const carIssuances = issueYears(car, first, rng.between(1, 3));
      let tonnes = 0;
      for (const converted of carIssuances.filter((_, i) => i === 0 || rng.chance(0.4))) {
        const c = Math.max(1, Math.round(converted.quantity * (0.2 + 0.8 * rng.next())));
        tonnes += c;
        car.events.push({
          type: 'event', registry: car.registry, registryProjectId: car.id, kind: 'converted-out',
          eventKey: `converted-out:${car.id}:${converted.year}:${converted.issuedOn}:${converted.quantity}`, occurredOn: converted.issuedOn,
          quantity: c, vintageYear: converted.year, issuanceKey: converted.key, counterpartyRegistry: 'verra',
          details: { sourceColumn: 'Offset Credits Converted to VCUs', destination: 'Verra VCUs', nettedOutOfIssuance: false },
        });
        // Verra issues the converted vintage, in one batch or two.
        if (c > 1 && rng.chance(0.3)) {
          const part = rng.between(1, c - 1);
          issue(vcs, year(converted.year), part);
          issue(vcs, year(converted.year), c - part);
        } else {
          issue(vcs, year(converted.year), c);
        }
      }
      // After the move, later vintages are Verra's alone.
      const last = first + carIssuances.length;
      if (last <= 2024 && rng.chance(0.5)) issueYears(vcs, last, Math.min(2, 2025 - last));
      truth.push({ kind: 'unnetted-conversion', tonnes, projects: sortedKeys(car, vcs), restsOnInferredLink: false, note: `${car.key} converted ${tonnes} t to ${vcs.key} without netting them out` });
    }

    // Rule 3, declared: a Verra project says it is also registered in another programme, and both issue
    // for the same days.
    for (let n = some(2, 3); n > 0; n -= 1) {
      const other = rng.pick<Registry>(['gold-standard', 'american-carbon-registry', 'climate-action-reserve', 'art-trees']);
      const [vcs, o] = twins('verra', other);
      declare(vcs, o, 'same-activity');
      const first = rng.between(2010, 2019);
      const count = rng.between(2, 4);
      const os = issueYears(o, first, count);
      const from = first + rng.between(0, count - 1);
      // Verra's monitoring periods run by calendar year, or from mid-year to mid-year (each then
      // overlaps two of the other's vintage years).
      const midYear = rng.chance(0.3);
      const vs = Array.from({ length: rng.between(1, 3) }, (_, i) => issue(vcs, midYear
        ? { start: `${from + i}-07-01`, end: `${from + i + 1}-06-30`, year: from + i }
        : year(from + i), size(vcs)));
      const o2 = overlapping(vs, os);
      truth.push({ kind: 'same-activity-overlap', tonnes: Math.min(o2.a, o2.b), projects: sortedKeys(vcs, o), restsOnInferredLink: false, note: `${vcs.key} declares ${o.key}; both issued from ${from}` });
    }

    // Rule 3, inferred: the same activity in Verra and Gold Standard, declared by neither, found by
    // its name, proponent, methodology and country.
    for (let n = some(2, 3); n > 0; n -= 1) {
      const [a, b] = rng.chance(0.5) ? twins('verra', 'gold-standard', { sameCountry: true, families: ['wind', 'solar', 'hydro', 'landfill'] })
        : twins('gold-standard', 'verra', { sameCountry: true, families: ['wind', 'solar', 'hydro', 'landfill'] });
      const first = rng.between(2010, 2019);
      const as = issueYears(a, first, rng.between(1, 3));
      // b starts at most a year before a and always shares at least one vintage year with it
      const from = first + rng.between(-1, as.length - 1);
      const bs = issueYears(b, from, rng.between(from < first ? 2 : 1, 3));
      const o = overlapping(as, bs);
      truth.push({ kind: 'same-activity-overlap', tonnes: Math.min(o.a, o.b), projects: sortedKeys(a, b), restsOnInferredLink: true, note: `${a.key} and ${b.key}: one name, proponent and methodology, no declaration` });
    }

    // Rule 4: a CDM activity whose units Verra also issued for the same period, with fewer CERs
    // cancelled than the overlap.
    for (let n = some(2, 3); n > 0; n -= 1) {
      const { cdm, vcs, cers, vcus } = cdmToVerra(true);
      const o = overlapping(cers, vcus);
      // Cancel some of the overlapping CERs, never all of them.
      const cancelled = rng.int(o.a);
      cancelCers(cdm, cers, vcus, cancelled);
      const tonnes = Math.min(o.a - cancelled, o.b);
      truth.push({ kind: 'cdm-overlap', tonnes, projects: sortedKeys(cdm, vcs), restsOnInferredLink: false, note: `CDM ${cdm.id} → ${vcs.key}: ${o.a} overlapping CERs, ${cancelled} cancelled, ${o.b} overlapping VCUs` });
    }

    // Rule 7: ACR cancels units for conversion to Verra, and Verra shows no issuance of that vintage
    // for a project linked to the source (none linked; linked but another vintage; linked, fewer units).
    for (let n = some(3, 4), variant = 0; n > 0; n -= 1, variant = (variant + 1) % 3) {
      const [acr, vcs] = variant === 0 ? [soloProject('american-carbon-registry'), undefined] : twins('american-carbon-registry', 'verra');
      const first = rng.between(2010, 2020);
      const issuances = issueYears(acr, first, rng.between(1, 2)).slice(0, 1);
      const exported = exportSome(acr, issuances[0]!, TO_VERRA);
      let tonnes = exported;
      if (vcs) {
        declare(vcs, acr, 'converted-from');
        if (variant === 1) {
          issueYears(vcs, first + 1, rng.between(1, 2));
        } else {
          const d = rng.between(1, exported - 1);
          issue(vcs, year(first), d);
          tonnes = exported - d;
        }
      }
      truth.push({
        kind: 'export-not-imported', tonnes, projects: vcs ? sortedKeys(acr, vcs) : sortedKeys(acr), restsOnInferredLink: false,
        note: `${acr.key} exported ${exported} t of ${first} to Verra; ${vcs ? `${vcs.key} issued ${exported - tonnes} t of it` : 'no Verra project linked'}`,
      });
    }
  }

  /** A project of `registry` with a place name of its own, and no issuances yet. */
  function soloProject(registry: Registry): Project {
    const family = rng.pick(familiesOf(registry));
    const listing = listingOf(registry, family);
    const country = rng.pick(listing.countries);
    return makeProject(registry, family, listing, country, `${places.take([country])} ${listing.phrase}`);
  }

  /** Cuts an issuance again so that its last block is exported (with its conversion event); returns the units exported. */
  function exportSome(p: Project, issuance: Issuance, conversion: Conversion): number {
    const exported = issuance.quantity < 4 ? issuance.quantity : rng.between(Math.ceil(issuance.quantity / 4), issuance.quantity - 1);
    issuance.blocks = [];
    const rest = issuance.quantity - exported;
    cut(p, issuance, [...(rest > 0 ? defaultPieces(p, rest).map((x) => (x.status === 'exported' ? { quantity: x.quantity, status: 'held' as const } : x)) : []), { quantity: exported, status: 'exported', conversion }]);
    return exported;
  }

  /**
   * A CDM activity and the Verra project it moved to (Verra status "Units Transferred from Approved GHG
   * Program"). With `overlap`, Verra's vintages start inside the CDM's monitoring periods; without, the
   * day after the last one ends.
   */
  function cdmToVerra(overlap: boolean): { cdm: Project; vcs: Project; cers: Issuance[]; vcus: Issuance[] } {
    const [cdm, vcs] = twins('cdm', 'verra');
    vcs.statusRaw = 'Units Transferred from Approved GHG Program';
    declare(vcs, cdm, 'converted-from', 'status');
    const periods = monitoringPeriods(`${rng.between(2007, 2012)}-${String(rng.between(1, 12)).padStart(2, '0')}-01`, rng.between(2, 4));
    // The CDM blocks are cut again by cancelCers, once it is known how many CERs were cancelled.
    const cers = periods.map((period) => issue(cdm, period, size(cdm)));
    const lastEnd = periods[periods.length - 1]!.end;
    const vcus: Issuance[] = [];
    if (overlap) {
      const from = Number(periods[rng.int(periods.length)]!.start.slice(0, 4));
      const count = rng.between(1, 3);
      for (let y = from; y < from + count && y <= 2024; y += 1) vcus.push(issue(vcs, year(y), size(vcs)));
    } else {
      const start = addDays(lastEnd, 1);
      const y = Number(start.slice(0, 4));
      vcus.push(issue(vcs, { start, end: `${y}-12-31`, year: y }, size(vcs)));
      for (let next = y + 1; next <= Math.min(y + 2, 2024); next += 1) vcus.push(issue(vcs, year(next), size(vcs)));
    }
    return { cdm, vcs, cers, vcus };
  }

  /**
   * Cuts the CDM activity's blocks: `cancelled` CERs cancelled from the issuances that overlap Verra's
   * (as much of each as it takes, in order), the rest held or retired. No other CER is cancelled: the
   * engine sets every cancellation of the activity against the overlap.
   */
  function cancelCers(cdm: Project, cers: Issuance[], vcus: Issuance[], cancelled: number): void {
    let left = cancelled;
    for (const cer of cers) {
      const overlaps = vcus.some((v) => cer.start <= v.end && v.start <= cer.end);
      const take = overlaps ? Math.min(left, cer.quantity) : 0;
      left -= take;
      const rest = cer.quantity - take;
      cer.blocks = [];
      const pieces: Piece[] = rest > 0 ? defaultPieces(cdm, rest).map((x) => ({ quantity: x.quantity, status: x.status === 'cancelled' ? 'held' : x.status })) : [];
      cut(cdm, cer, [...(take > 0 ? [{ quantity: take, status: 'cancelled' as const }] : []), ...pieces]);
    }
  }

  // ---- near misses: legitimate, must raise nothing -----------------------------------------------------

  // A conversion netted on both sides: CAR or ACR cancelled the units for conversion (status exported,
  // converted-out to Verra) and the linked Verra project issued the same vintage and quantity.
  for (let n = 3 + scale; n > 0; n -= 1) {
    const source = rng.pick<Registry>(['climate-action-reserve', 'american-carbon-registry']);
    const [src, vcs] = twins(source, 'verra');
    declare(vcs, src, 'converted-from');
    const first = rng.between(2010, 2020);
    const [issuance] = issueYears(src, first, 1);
    const exported = exportSome(src, issuance!, TO_VERRA);
    issue(vcs, year(first), exported);
    nearMiss('conversion netted on both sides');
  }

  // One activity that moved registries: declared in both, vintages one after the other.
  for (let n = 2 + scale; n > 0; n -= 1) {
    const [vcs, o] = twins('verra', rng.pick<Registry>(['gold-standard', 'american-carbon-registry', 'climate-action-reserve']));
    declare(vcs, o, 'same-activity');
    const first = rng.between(2010, 2018);
    const count = rng.between(1, 3);
    issueYears(o, first, count);
    issueYears(vcs, first + count, rng.between(1, 2));
    nearMiss('declared pair, consecutive periods');
  }

  // The same, undeclared: the engine links them by name and finds no overlap.
  for (let n = 2 + scale; n > 0; n -= 1) {
    const [a, b] = twins('gold-standard', 'verra', { sameCountry: true, families: ['wind', 'solar', 'hydro', 'landfill'] });
    const first = rng.between(2010, 2018);
    const count = rng.between(1, 3);
    issueYears(a, first, count);
    issueYears(b, first + count, rng.between(1, 2));
    nearMiss('inferred pair, consecutive periods');
  }

  // CDM activities that moved to Verra: CERs of the overlapping periods cancelled in full, or Verra
  // vintages starting after the last CER period.
  for (let n = 2 + scale; n > 0; n -= 1) {
    const { cdm, cers, vcus } = cdmToVerra(true);
    cancelCers(cdm, cers, vcus, overlapping(cers, vcus).a);
    nearMiss('CDM overlap with the CERs cancelled in full');
  }
  for (let n = 2 + scale; n > 0; n -= 1) {
    const { cdm, cers, vcus } = cdmToVerra(false);
    cancelCers(cdm, cers, vcus, 0);
    nearMiss('CDM then Verra, consecutive periods');
  }

  // Two phases of one site, in two registries: names alike but for their number, so not one activity.
  for (let n = 2 + scale; n > 0; n -= 1) {
    const [a, b] = twins('verra', 'gold-standard', { sameCountry: true, families: ['wind', 'solar', 'hydro'] });
    a.name = `${a.name} Phase 1`;
    b.name = `${b.name} Phase 2`;
    const first = rng.between(2011, 2020);
    issueYears(a, first, rng.between(1, 3));
    issueYears(b, first, rng.between(1, 3));
    nearMiss('same name but for a phase number, overlapping periods');
  }

  // One place name in two countries: not one activity.
  for (let n = 2 + scale; n > 0; n -= 1) {
    const family = rng.pick(FAMILIES.filter((f) => f.listings.verra && f.listings['gold-standard']));
    const la = listingOf('verra', family);
    const lb = listingOf('gold-standard', family);
    const ca = rng.pick(la.countries);
    const cb = rng.pick(lb.countries.filter((c) => c !== ca));
    const place = places.take([ca, cb]);
    const proponent = organisationName(rng, 'developer', ca);
    const a = makeProject('verra', family, la, ca, `${place} ${la.phrase}`, { proponent });
    const b = makeProject('gold-standard', family, lb, cb, `${place} ${lb.phrase}`, { proponent });
    const first = rng.between(2011, 2020);
    issueYears(a, first, rng.between(1, 3));
    issueYears(b, first, rng.between(1, 3));
    nearMiss('same name in another country, overlapping periods');
  }

  // ---- the plain world ----------------------------------------------------------------------------------

  while (projects.length < options.projects) plainProject();
  const plain = projects.filter((p) => p.plain);

  // Declarations that name no project in the ledger, or no project at all (CCB is a label, not a registry).
  for (let n = 3 + scale; n > 0; n -= 1) {
    const p = rng.pick(plain.filter((x) => x.registry === 'verra' && x.otherPrograms.length === 0));
    if (rng.chance(0.5)) {
      const [, hi] = numberRange('gold-standard');
      p.otherPrograms.push({ program: 'Gold Standard', projectId: `GS${hi + rng.between(1, 5000)}`, relation: 'same-activity', field: 'otherGhgProgramName' });
      nearMiss('declared programme project not in the ledger');
    } else {
      p.otherPrograms.push({ program: 'Climate, Community & Biodiversity Standards', relation: 'same-activity', field: 'otherGhgProgramName' });
      nearMiss('declared label that is not a registry');
    }
  }

  // ---- anomalies in blocks (rules 1, 5, 6), in plain projects -------------------------------------------

  type Placed = { p: Project; issuance: Issuance; block: Block };
  const taken = new Set<Block>();
  /** A block of a plain project not yet used by a planted anomaly. */
  const pickBlock = (accept: (x: Placed) => boolean, registries?: readonly Registry[]): Placed => {
    for (;;) {
      const p = rng.pick(plain);
      if (registries && !registries.includes(p.registry)) continue;
      const issuance = rng.pick(p.issuances);
      const block = rng.pick(issuance.blocks);
      const placed = { p, issuance, block };
      if (!taken.has(block) && block.end > block.start && block.status !== 'exported' && accept(placed)) {
        taken.add(block);
        return placed;
      }
    }
  };
  const used = (s: Status) => s === 'retired' || s === 'cancelled';
  /** `k` units inside a block (never all of it, so the new block's serial, its key, differs). */
  const inside = (b: Block): { start: number; end: number } => {
    const length = b.end - b.start + 1;
    const k = Math.max(1, Math.min(length - 1, Math.round(length * rng.next() * 0.6) || 1));
    const start = b.start + rng.int(length - k + 1);
    return { start, end: start + k - 1 };
  };

  // Held tokenization markers are not tokenizations: the units were never retired.
  for (let n = 2; n > 0; n -= 1) {
    const { block } = pickBlock((x) => x.block.status === 'held', ['verra']);
    block.marker = 'TOUCAN';
    block.details = 'Bridge request to Toucan withdrawn before retirement';
    nearMiss('held block with a bridge marker');
  }

  if (withAnomalies) {
    // Rule 1: the same units in two current blocks, not both used up: a double issuance, or units held
    // while also retired. Verra numbers registry-wide, so the second block can be another project's.
    for (let n = some(3, 4), first = true; n > 0; n -= 1, first = false) {
      // The first one always crosses projects (in Verra's space), so every world has one naming two projects.
      const { p, issuance, block } = pickBlock(() => true, first ? ['verra'] : undefined);
      let owner = p;
      let ownerIssuance = issuance;
      if (p.registry === 'verra' && (first || rng.chance(0.35))) {
        owner = rng.pick(plain.filter((x) => x.registry === 'verra' && x !== p));
        ownerIssuance = rng.pick(owner.issuances);
      }
      const { start, end } = inside(block);
      const twin = newBlock(ownerIssuance, start, end);
      twin.numberSpace = block.numberSpace;
      close(twin, owner, ownerIssuance, used(block.status) ? 'held' : rng.pick<Status>(['held', 'retired', 'cancelled']));
      ownerIssuance.blocks.push(twin);
      taken.add(twin);
      truth.push({ kind: 'serial-overlap', tonnes: end - start + 1, projects: sortedKeys(p, owner), restsOnInferredLink: false, note: `${block.key} (${block.status}) and ${twin.key} (${twin.status}) in ${block.numberSpace}` });
    }

    // Rule 5: one retirement recorded twice under two identities.
    for (let n = some(3, 4); n > 0; n -= 1) {
      const { p, issuance, block } = pickBlock((x) => used(x.block.status));
      const { start, end } = inside(block);
      const again = newBlock(issuance, start, end);
      close(again, p, issuance, block.status === 'retired' && rng.chance(0.8) ? 'retired' : rng.pick<Status>(['retired', 'cancelled']));
      if (again.status === 'retired' && block.beneficiary && rng.chance(0.5)) again.beneficiary = block.beneficiary;
      issuance.blocks.push(again);
      taken.add(again);
      truth.push({ kind: 'retired-twice', tonnes: end - start + 1, projects: sortedKeys(p), restsOnInferredLink: false, note: `${block.key} (${block.status}) and ${again.key} (${again.status})` });
    }

    // Rule 6: VCUs retired so that a bridge could mint tokens for them.
    const bridges = [
      { marker: 'TOUCAN', beneficiary: 'Toucan Protocol', details: 'Bridged to Polygon: TCO2 tokens minted by the Toucan bridge' },
      { marker: 'C3T', beneficiary: 'C3', details: 'Retired for C3T tokenization (C3 bridge)' },
      { marker: 'MOSS', beneficiary: 'MOSS Earth', details: 'Retired to back MCO2 tokens issued by MOSS' },
    ];
    for (let n = some(2, 3), i = 0; n > 0; n -= 1, i += 1) {
      const { p, block } = pickBlock((x) => x.block.status === 'retired', ['verra']);
      const bridge = bridges[i % bridges.length]!;
      block.marker = bridge.marker;
      block.beneficiary = bridge.beneficiary;
      block.details = bridge.details;
      truth.push({ kind: 'tokenized-after-retirement', tonnes: block.end - block.start + 1, projects: sortedKeys(p), restsOnInferredLink: false, note: `${block.key} retired for ${bridge.marker}` });
    }
  }

  // ---- as the connectors would hand it over ------------------------------------------------------------

  const sources: WorldSource[] = [];
  const byRegistry = new Map<Registry, Project[]>(REGISTRIES.map((r) => [r, projects.filter((p) => p.registry === r)]));
  for (const [registry, list] of byRegistry) {
    shuffle(rng, list);
    sources.push({ registry, name: `${registry}-projects.json`, records: list.map(projectRecord) });
  }
  for (const [registry, list] of byRegistry) sources.push({ registry, name: `${registry}-units.json`, records: list.flatMap(unitRecords) });

  for (const t of truth) if (!(t.tonnes > 0)) throw new Error(`planted anomaly with no tonnes: ${t.note}`);
  const order = (t: ExpectedFinding) => `${t.kind}|${t.projects.join(',')}|${String(t.tonnes).padStart(12, '0')}`;
  truth.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  const records = sources.flatMap((s) => s.records);
  const anomalies = Object.fromEntries(DOUBLE_COUNTING_KINDS.map((k) => [k, truth.filter((t) => t.kind === k).length])) as Record<DoubleCountingKind, number>;
  return {
    seed: options.seed,
    sources,
    truth,
    counts: {
      projects: projects.length,
      projectsByRegistry: Object.fromEntries([...byRegistry].map(([r, list]) => [r, list.length])),
      issuances: records.filter((r) => r.type === 'issuance').length,
      blocks: records.filter((r) => r.type === 'block').length,
      events: records.filter((r) => r.type === 'event').length,
      records: records.length,
      anomalies,
      nearMisses,
    },
  };
}

function shuffle<T>(rng: Rng, list: T[]): void {
  for (let i = list.length - 1; i > 0; i -= 1) {
    const j = rng.int(i + 1);
    [list[i], list[j]] = [list[j]!, list[i]!];
  }
}

function projectRecord(p: Project): CanonicalInput {
  const starts = p.issuances.map((i) => i.start).sort();
  const creditingStart = starts[0] ?? '2015-01-01';
  const years = p.registry === 'cdm' ? 7 : 10;
  return {
    type: 'project',
    registry: p.registry,
    registryProjectId: p.id,
    name: p.name,
    proponent: p.proponent,
    country: p.country,
    methodology: p.listing.methodology,
    status: 'registered',
    statusRaw: p.statusRaw,
    creditingPeriodStart: creditingStart,
    creditingPeriodEnd: addDays(`${Number(creditingStart.slice(0, 4)) + years}${creditingStart.slice(4)}`, -1),
    registeredOn: addDays(creditingStart, 90),
    ...(registryUrl(p.registry, p.id) ? { registryUrl: registryUrl(p.registry, p.id) } : {}),
    ...(p.otherPrograms.length > 0 ? { otherPrograms: p.otherPrograms } : {}),
  };
}

function unitRecords(p: Project): CanonicalInput[] {
  const ref = { registry: p.registry, registryProjectId: p.id };
  const vintage = (i: Issuance) => (i.dated ? { vintageStart: i.start, vintageEnd: i.end, vintageYear: i.year } : { vintageYear: i.year });
  const issuances: CanonicalInput[] = p.issuances.map((i) => ({
    type: 'issuance', ...ref, issuanceKey: i.key, ...vintage(i), issuedOn: i.issuedOn, quantity: i.quantity, creditType: i.ctx.creditType,
    // CAR's issuance report carries no serials; the other registries' issuance records do.
    ...(p.registry === 'climate-action-reserve' ? {} : { serial: { numberSpace: numberSpaceOf(i.ctx), start: i.serialStart, end: i.serialEnd, raw: formatSerial(i.ctx, i.serialStart, i.serialEnd) } }),
  }));
  const blocks: CanonicalInput[] = p.issuances.flatMap((i) => i.blocks.flatMap((b): CanonicalInput[] => [{
    type: 'block', ...ref, blockKey: b.key, issuanceKey: i.key,
    serial: { numberSpace: b.numberSpace, start: b.start, end: b.end, raw: b.key },
    quantity: b.end - b.start + 1, ...vintage(i), creditType: i.ctx.creditType, status: b.status,
    ...(b.statusDate ? { statusDate: b.statusDate } : {}),
    ...(b.beneficiary ? { retirementBeneficiary: b.beneficiary } : {}),
    ...(b.reason ? { retirementReason: b.reason } : {}),
    ...(b.details ? { retirementDetails: b.details } : {}),
    ...(b.marker ? { tokenizationMarker: b.marker } : {}),
  }, ...(b.event ? [b.event] : [])]));
  return [...issuances, ...p.events, ...blocks];
}

// ---- into a ledger ----------------------------------------------------------------------------------------

/**
 * Feeds every source of the world through the ingest job, one batch each, as an upload would: raw
 * records (the canonical records themselves), mapping, validation, taxonomy, ledger. Throws if any
 * record is rejected: a world the ledger does not take whole is a broken world.
 *
 * By default the checks are left to the caller (`runChecks(db)` once, over the whole ledger). With
 * `byBatch`, each source comes in two batches, cut between two projects near its middle, and each batch
 * is checked as it commits over what it wrote: anomalies then span batches as well as sit inside one.
 */
export async function ingestWorld(db: Database, world: World, options: { byBatch?: boolean } = {}): Promise<IngestSummary[]> {
  const summaries: IngestSummary[] = [];
  const batches = world.sources.flatMap((source) => (options.byBatch ? halves(source) : [source]));
  for (const source of batches) {
    async function* records(): AsyncGenerator<RawRecord> {
      for (const [i, record] of source.records.entries()) {
        yield { stream: `${record.type}s`, locator: `item ${i + 1}`, payload: record as unknown as Record<string, unknown> };
      }
    }
    const summary = await ingest(db, {
      kind: 'upload',
      connector: 'synthetic-world',
      registry: source.registry,
      source: source.name,
      records: records(),
      map: (raw) => ({ records: [raw.payload as unknown as CanonicalInput], errors: [] }),
    }, { check: options.byBatch ?? false });
    if (summary.errors.length > 0) {
      throw new Error(`${source.name}: ${summary.rowsRejected} records rejected, e.g. ${summary.errors.slice(0, 3).map((e) => e.message).join(' | ')}`);
    }
    summaries.push(summary);
  }
  return summaries;
}

/** A source's records in two, cut at the first change of project after the middle. */
function halves(source: WorldSource): WorldSource[] {
  const projectOf = (record: CanonicalInput) => (record as { registryProjectId?: string }).registryProjectId;
  let cut = Math.floor(source.records.length / 2);
  while (cut > 0 && cut < source.records.length && projectOf(source.records[cut]!) === projectOf(source.records[cut - 1]!)) cut += 1;
  return [
    { ...source, name: `${source.name} (first part)`, records: source.records.slice(0, cut) },
    { ...source, name: `${source.name} (second part)`, records: source.records.slice(cut) },
  ].filter((part) => part.records.length > 0);
}
