import type { BlockRecord, CanonicalInput, IssuanceRecord, LabelRecord, ProjectRecord } from '../../schema/canonical.ts';
import { termFromCadt, vocabularies, type VocabularyName } from '../../schema/taxonomy/index.ts';
import { resolveCountry } from '../../schema/taxonomy/index.ts';
import { parsePythonLiteral } from '../runtime/python-literal.ts';
import { rowReader } from '../runtime/row.ts';
import { dateValue, ValueError } from '../runtime/values.ts';
import type { Mapped, RowError } from '../types.ts';
import { A64_REGISTRY, a64LevyOf } from './a64.ts';
import { ACCEPTED_REGISTRY_NAMES, registryOfCadtName, type NationalRegistry } from './registries.ts';
import { registrySerialRange } from './serials.ts';
import type { CadtRow, CadtTable } from './v1.ts';

// One CAD Trust v1 upload, all tables together, to canonical records (connectors/cad-trust/README.md).
// Tables refer to each other (a unit to its issuance and project, a label to the units it covers), so the
// whole upload is mapped at once; what it refers to outside itself comes from the ledger (`CadtLedger`,
// looked up by the job). Each row gets its records, its errors and its warnings, by locator.

/** A project already in the ledger, as a unit or label of this upload may refer to it. */
export type LedgerProject = { registry: string; registryProjectId: string; country: string | null; methodology: string | null };

/** What the ledger holds that an upload may refer to (only what the uploading organization may see). */
export type CadtLedger = {
  /** Registry slug → how it numbers serials (`kyoto`, `per-issuance`…). */
  serialSchemes: ReadonlyMap<string, string>;
  /** By the `warehouseProjectId` of an earlier CAD Trust upload. */
  projectsByWarehouseId: ReadonlyMap<string, LedgerProject>;
  /** By registry URL (`projectLink` = a unit's `unitRegistryLink`). */
  projectsByLink: ReadonlyMap<string, LedgerProject>;
  /** By CAD Trust issuance id (the issuance key). */
  projectsByIssuance: ReadonlyMap<string, LedgerProject>;
  /** Registry of each block stored under a `warehouseUnitId` as its block key. */
  unitRegistries: ReadonlyMap<string, string>;
};

/** The ids and links an upload refers to, for the ledger look-ups. */
export type CadtReferences = { warehouseProjectIds: string[]; links: string[]; issuanceIds: string[]; warehouseUnitIds: string[] };

export type MappedUpload = { mapped: Map<string, Mapped>; nationalRegistries: NationalRegistry[] };

const present = (v: string | undefined) => (v === undefined || /^\s*(NA|N\/A|nan|None|null)?\s*$/i.test(v) ? undefined : v.trim());
const clean = (values: Record<string, string>) => Object.fromEntries(Object.entries(values).map(([k, v]) => [k, present(v) ?? '']));
const fold = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');

/** A serial bound as a whole number: `258050692`, or pandas' `258050692.0`. */
function plainInteger(bound: string): number | undefined {
  const m = bound.trim().match(/^(\d+)(?:\.0+)?$/);
  const n = m ? Number(m[1]) : undefined;
  return n !== undefined && Number.isSafeInteger(n) ? n : undefined;
}

/** The references an upload makes to rows that may be in the ledger instead. */
export function cadtReferences(rows: readonly CadtRow[]): CadtReferences {
  const refs = { warehouseProjectIds: new Set<string>(), links: new Set<string>(), issuanceIds: new Set<string>(), warehouseUnitIds: new Set<string>() };
  for (const row of rows) {
    const v = clean(row.values);
    if (v.warehouseProjectId && row.table !== 'projects') refs.warehouseProjectIds.add(v.warehouseProjectId);
    if (row.table === 'units') {
      if (v.unitRegistryLink) refs.links.add(v.unitRegistryLink);
      if (v.issuanceId) refs.issuanceIds.add(v.issuanceId);
      const embedded = embeddedIssuance(v.issuance);
      if (embedded.ok && embedded.issuance?.warehouseProjectId) refs.warehouseProjectIds.add(embedded.issuance.warehouseProjectId);
    }
    if (row.table === 'label_units' && v.warehouseUnitId) refs.warehouseUnitIds.add(v.warehouseUnitId);
  }
  return { warehouseProjectIds: [...refs.warehouseProjectIds], links: [...refs.links], issuanceIds: [...refs.issuanceIds], warehouseUnitIds: [...refs.warehouseUnitIds] };
}

type Issuance = { id: string; warehouseProjectId?: string; startDate?: string; endDate?: string };

/** A unit's `issuance` cell: CAD Trust's issuance record as a Python repr or JSON. */
function embeddedIssuance(cell: string | undefined): { ok: true; issuance?: Issuance } | { ok: false; error: string } {
  if (!cell) return { ok: true };
  let value: unknown;
  try {
    value = parsePythonLiteral(cell);
  } catch (error) {
    return { ok: false, error: `is not an issuance record (${(error as Error).message})` };
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) return { ok: false, error: 'is not an issuance record ({"id": …, "startDate": …})' };
  const o = value as Record<string, unknown>;
  const text = (k: string) => (typeof o[k] === 'string' || typeof o[k] === 'number' ? present(String(o[k])) : undefined);
  const id = text('id');
  if (!id) return { ok: false, error: 'is an issuance record without an id' };
  return { ok: true, issuance: { id, warehouseProjectId: text('warehouseProjectId'), startDate: text('startDate'), endDate: text('endDate') } };
}

/** Reads one row's cells, with the CAD Trust picklists and "NA" read as absent. */
function reader(row: CadtRow) {
  const r = rowReader(clean(row.values), row.locator);
  const warnings: RowError[] = [];
  return {
    ...r,
    warnings,
    warn: (field: string, code: string, message: string) => warnings.push({ locator: row.locator, field, code, message: `${row.locator}: ${field}: ${message}` }),
    /** A date as CAD Trust writes it (`2016-04-01T00:00:00.000Z`, a date cell). */
    dateOf(field: string, value: string | undefined): string | undefined {
      try {
        return dateValue(value);
      } catch (error) {
        if (!(error instanceof ValueError)) throw error;
        r.fail(field, error.code, error.message);
        return undefined;
      }
    },
    /** A whole number of units. */
    count(field: string, required: boolean): number | undefined {
      const n = required ? r.quantity(field) : r.number(field);
      if (n !== undefined && !Number.isSafeInteger(n)) {
        r.fail(field, 'not-an-integer', `${n} is not a whole number of units`);
        return undefined;
      }
      if (n !== undefined && n < 0) {
        r.fail(field, 'negative', `${n} is negative`);
        return undefined;
      }
      return n;
    },
    /** A picklist value as its Tally term code; `absent` values (CAD Trust's CDM placeholders) mean none. */
    term(field: string, vocabulary: VocabularyName, options: { required?: boolean; absent?: string[] } = {}): string | undefined {
      const value = r.text(field);
      if (value === undefined) {
        if (options.required) r.fail(field, 'missing', 'is empty');
        return undefined;
      }
      if (options.absent?.some((a) => fold(a) === fold(value))) return undefined;
      const terms = vocabularies[vocabulary]!.terms;
      const found = termFromCadt(vocabulary, value) ?? terms.find((t) => t.cadt && fold(t.cadt) === fold(value));
      if (!found) {
        const accepted = terms.flatMap((t) => (t.cadt ? [t.cadt] : [])).join(', ');
        r.fail(field, 'not-in-picklist', `"${value}" is not a CAD Trust ${field} value (accepted: ${accepted})`);
      }
      return found?.code;
    },
  };
}
type Reader = ReturnType<typeof reader>;

/**
 * Latitude and longitude from a location cell (v1 `geographicIdentifier`, v2 `locationGis`):
 * `{"latitude": …, "longitude": …}` / `{"lat": …, "lng": …}` as JSON or a Python repr, or `lat, long`;
 * other identifiers are no coordinates.
 */
export function coordinates(r: { warn(field: string, code: string, message: string): void }, field: string, value: string | undefined): { latitude: number; longitude: number } | undefined {
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

export type Estimation = { start?: string; end?: string; units?: number };

/** The project's estimations from its `estimations` cell (a list, as the CDM upload writes it). */
function estimationsCell(r: Reader): Estimation[] {
  const cell = r.text('estimations');
  if (!cell) return [];
  let list: unknown;
  try {
    list = parsePythonLiteral(cell);
  } catch (error) {
    r.fail('estimations', 'unreadable', `is not a list of estimations (${(error as Error).message})`);
    return [];
  }
  if (!Array.isArray(list)) {
    r.fail('estimations', 'unreadable', 'is not a list of estimations ([{creditingPeriodStart, creditingPeriodEnd, unitCount}])');
    return [];
  }
  return list.map((item) => {
    const o = (item ?? {}) as Record<string, unknown>;
    const units = o.unitCount === null || o.unitCount === undefined ? undefined : Number(o.unitCount);
    const start = r.dateOf('estimations', typeof o.creditingPeriodStart === 'string' ? o.creditingPeriodStart : undefined);
    const end = r.dateOf('estimations', typeof o.creditingPeriodEnd === 'string' ? o.creditingPeriodEnd : undefined);
    if (start && end && end < start) r.fail('estimations', 'period-order', `creditingPeriodEnd ${end} is before creditingPeriodStart ${start}`);
    return { start, end, units: units !== undefined && Number.isFinite(units) && units >= 0 ? units : undefined };
  });
}

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

type Project = {
  row: CadtRow;
  registry: string;
  registryProjectId: string;
  /** ISO alpha-2, for Kyoto number spaces. */
  country: string | null;
  methodology: string | null;
  record: ProjectRecord & { eligibility: string[]; coBenefits: string[] };
};

type Unit = {
  row: CadtRow;
  reader: Reader;
  project?: { registry: string; registryProjectId: string };
  issuance?: Issuance;
  /** The issuance is carried in the unit's own `issuance` cell, not in the issuances table. */
  embedded: boolean;
  block?: BlockRecord;
};

/** Maps every row of one upload. Rows come in any order; the result is keyed by locator. */
export function mapCadtUpload(rows: readonly CadtRow[], ledger: CadtLedger): MappedUpload {
  const byTable = new Map<CadtTable, CadtRow[]>();
  for (const row of rows) byTable.set(row.table, [...(byTable.get(row.table) ?? []), row]);
  const of = (table: CadtTable) => byTable.get(table) ?? [];
  const mapped = new Map<string, Mapped>();
  const result = (row: CadtRow, r: Reader, records: CanonicalInput[] = []) =>
    mapped.set(row.locator, { records: r.errors.length > 0 ? [] : records, errors: r.errors, warnings: r.warnings });
  const national = new Map<string, NationalRegistry>();

  // ---- projects and their child tables ----
  const projects = new Map<string, Project>(); // by warehouseProjectId, else by row locator
  const projectKeys = new Map<string, string>(); // registry:projectId → locator of its first row
  const byLink = new Map<string, Project>();
  const projectReaders = new Map<Project, Reader>();
  const ownEstimations = new Map<Project, Estimation[]>();
  for (const row of of('projects')) {
    const r = reader(row);
    const registryName = r.required('currentRegistry', r.text('currentRegistry'));
    const registry = registryName ? registryOfCadtName(registryName) : undefined;
    if (registryName && !registry) {
      r.fail('currentRegistry', 'unknown-registry', `"${registryName}" is not a registry Tally knows (accepted: ${ACCEPTED_REGISTRY_NAMES})`);
    }
    const registryProjectId = r.required('projectId', r.text('projectId'));
    const name = r.required('projectName', r.text('projectName'));
    const warehouseProjectId = r.text('warehouseProjectId');
    const link = r.text('projectLink');
    if (link && !/^https?:\/\/\S+$/i.test(link)) r.fail('projectLink', 'not-a-url', `"${link}" is not a web address`);
    const key = registry && registryProjectId ? `${registry.slug}:${registryProjectId}` : undefined;
    if (key && projectKeys.has(key)) r.fail('projectId', 'duplicate-project', `project ${registryProjectId} of ${registryName} is already at ${projectKeys.get(key)}`);
    if (warehouseProjectId && projects.has(warehouseProjectId)) {
      r.fail('warehouseProjectId', 'duplicate-project', `${warehouseProjectId} is already at ${projects.get(warehouseProjectId)!.row.locator}`);
    }
    const origin = r.text('registryOfOrigin');
    const originProjectId = r.text('originProjectId');
    const otherPrograms: NonNullable<ProjectRecord['otherPrograms']> = [];
    if (origin && originProjectId && fold(origin) !== fold(registryName ?? '')) {
      otherPrograms.push({ program: registryOfCadtName(origin)?.slug ?? origin, projectId: originProjectId, relation: 'converted-from', field: 'registryOfOrigin' });
    }
    const country = r.text('country');
    const resolved = country ? resolveCountry(country) : undefined;
    if (country && !resolved) r.fail('country', 'unknown-country', `"${country}" is not a country Tally knows (an English name or ISO 3166 code)`);
    const methodology = [r.text('methodology'), r.text('methodology2')].filter(Boolean).join('; ') || undefined;
    const place = coordinates(r, 'geographicIdentifier', r.text('geographicIdentifier'));
    const own = estimationsCell(r);
    const project: Project = {
      row,
      registry: registry?.slug ?? '',
      registryProjectId: registryProjectId ?? '',
      country: resolved?.code ?? null,
      methodology: methodology ?? null,
      record: {
        type: 'project',
        registry: registry?.slug ?? '',
        registryProjectId: registryProjectId ?? '',
        name: name ?? '',
        proponent: r.text('projectDeveloper'),
        country,
        region: r.text('inCountryRegion'),
        methodology,
        status: r.term('projectStatus', 'projectStatus') as ProjectRecord['status'],
        statusRaw: r.text('projectStatus'),
        coveredByNdc: r.term('coveredByNDC', 'coveredByNdc') as ProjectRecord['coveredByNdc'],
        registryUrl: link,
        eligibility: [],
        coBenefits: [],
        ...place,
        ...(otherPrograms.length > 0 ? { otherPrograms } : {}),
        ...creditingOf(own),
      },
    };
    ownEstimations.set(project, own);
    if (key && !projectKeys.has(key)) projectKeys.set(key, row.locator);
    projects.set(warehouseProjectId ?? row.locator, project);
    projectReaders.set(project, r);
    if (link && !byLink.has(link)) byLink.set(link, project);
    if (registry?.national && r.errors.length === 0) national.set(registry.slug, registry.national);
  }

  /** A child row's project: it must be in this upload (a project's children travel with it). */
  const parentOf = (r: Reader, table: string): Project | undefined => {
    const id = r.required('warehouseProjectId', r.text('warehouseProjectId'));
    const project = id ? projects.get(id) : undefined;
    if (id && !project) r.fail('warehouseProjectId', 'unknown-project', `${id} names no project in this upload (a project's ${table} are uploaded with its projects row)`);
    return project;
  };
  const estimations = new Map<Project, Estimation[]>();
  for (const row of of('estimations')) {
    const r = reader(row);
    const project = parentOf(r, 'estimations');
    const estimation = { start: r.date('creditingPeriodStart'), end: r.date('creditingPeriodEnd'), units: r.count('unitCount', false) };
    if (estimation.start && estimation.end && estimation.end < estimation.start) {
      r.fail('creditingPeriodEnd', 'period-order', `${estimation.end} is before creditingPeriodStart ${estimation.start}`);
    }
    if (project && r.errors.length === 0) estimations.set(project, [...(estimations.get(project) ?? []), estimation]);
    result(row, r);
  }
  for (const [project, list] of estimations) Object.assign(project.record, creditingOf([...ownEstimations.get(project)!, ...list]));
  for (const row of of('projectLocations')) {
    const r = reader(row);
    const project = parentOf(r, 'projectLocations');
    const country = r.text('country');
    const resolved = country ? resolveCountry(country) : undefined;
    if (country && !resolved) r.fail('country', 'unknown-country', `"${country}" is not a country Tally knows (an English name or ISO 3166 code)`);
    const place = coordinates(r, 'geographicIdentifier', r.text('geographicIdentifier'));
    if (project && r.errors.length === 0) {
      // The first location gives what the project row does not say.
      project.record.country ??= country;
      project.country ??= resolved?.code ?? null;
      project.record.region ??= r.text('inCountryRegion');
      if (project.record.latitude === undefined && place) Object.assign(project.record, place);
    }
    result(row, r);
  }
  for (const row of of('relatedProjects')) {
    const r = reader(row);
    const project = parentOf(r, 'relatedProjects');
    const relatedId = r.required('relatedProjectId', r.text('relatedProjectId'));
    const registry = r.text('registry');
    if (project && relatedId && r.errors.length === 0) {
      project.record.otherPrograms = [...(project.record.otherPrograms ?? []), {
        program: registry ? registryOfCadtName(registry)?.slug ?? registry : undefined, projectId: relatedId, relation: 'same-activity', field: 'relatedProjects',
      }];
    }
    result(row, r);
  }
  for (const row of of('coBenefits')) {
    const r = reader(row);
    const project = parentOf(r, 'coBenefits');
    const value = r.required('cobenefit', r.text('cobenefit'));
    const code = value ? termFromCadt('coBenefit', value)?.code : undefined;
    if (value && !code) r.warn('cobenefit', 'unknown-co-benefit', `"${value}" is not a CAD Trust co-benefit (an SDG); left out`);
    if (project && code && r.errors.length === 0 && !project.record.coBenefits.includes(code)) project.record.coBenefits.push(code);
    result(row, r);
  }
  for (const row of of('projectRatings')) {
    const r = reader(row);
    parentOf(r, 'projectRatings');
    r.warn('ratingType', 'not-stored', 'ratings are kept as received but not yet stored in the ledger');
    result(row, r);
  }
  for (const project of projects.values()) result(project.row, projectReaders.get(project)!, [project.record]);

  // ---- what units and labels refer to: projects here or in the ledger, issuances ----
  const uploaded = (p: Project) => ({ registry: p.registry, registryProjectId: p.registryProjectId });
  const projectInfo = new Map<string, { country: string | null; methodology: string | null }>();
  for (const p of projects.values()) projectInfo.set(`${p.registry}:${p.registryProjectId}`, p);
  const fromLedger = (p: LedgerProject | undefined) => {
    if (!p) return undefined;
    projectInfo.set(`${p.registry}:${p.registryProjectId}`, p);
    return { registry: p.registry, registryProjectId: p.registryProjectId };
  };
  const projectByWarehouseId = (id: string | undefined) => {
    if (!id) return undefined;
    const here = projects.get(id);
    return here ? uploaded(here) : fromLedger(ledger.projectsByWarehouseId.get(id));
  };

  const issuances = new Map<string, { row: CadtRow; reader: Reader; issuance: Issuance; project?: { registry: string; registryProjectId: string } }>();
  for (const row of of('issuances')) {
    const r = reader(row);
    const id = r.required('id', r.text('id'));
    const warehouseProjectId = r.required('warehouseProjectId', r.text('warehouseProjectId'));
    const project = projectByWarehouseId(warehouseProjectId);
    if (warehouseProjectId && !project) {
      r.fail('warehouseProjectId', 'unknown-project', `project ${warehouseProjectId} is neither in this upload nor in the ledger`);
    }
    const startDate = r.date('startDate');
    const endDate = r.date('endDate');
    if (startDate && endDate && endDate < startDate) r.fail('endDate', 'period-order', `${endDate} is before startDate ${startDate}`);
    if (id && issuances.has(id)) r.fail('id', 'duplicate-issuance', `issuance ${id} is already at ${issuances.get(id)!.row.locator}`);
    if (id && !issuances.has(id)) issuances.set(id, { row, reader: r, issuance: { id, warehouseProjectId, startDate, endDate }, project });
    else result(row, r);
  }

  // ---- units ----
  const units: Unit[] = [];
  const unitsById = new Map<string, Unit>();
  const blockKeys = new Map<string, string>(); // registry|blockKey → locator
  for (const row of of('units')) {
    const r = reader(row);
    const unit: Unit = { row, reader: r, embedded: false };
    units.push(unit);
    const issuanceId = r.text('issuanceId');
    const cell = embeddedIssuance(r.text('issuance'));
    if (!cell.ok) r.fail('issuance', 'unreadable', cell.error);
    else if (cell.issuance) {
      unit.issuance = issuances.get(cell.issuance.id)?.issuance ?? cell.issuance;
      unit.embedded = !issuances.has(cell.issuance.id);
      if (unit.embedded) {
        unit.issuance.startDate = r.dateOf('issuance', unit.issuance.startDate);
        unit.issuance.endDate = r.dateOf('issuance', unit.issuance.endDate);
        if (unit.issuance.startDate && unit.issuance.endDate && unit.issuance.endDate < unit.issuance.startDate) {
          r.fail('issuance', 'period-order', `endDate ${unit.issuance.endDate} is before startDate ${unit.issuance.startDate}`);
        }
      }
    }
    if (issuanceId && !unit.issuance) unit.issuance = issuances.get(issuanceId)?.issuance;
    // The project: by warehouseProjectId where both sides have one, else by the unit's registry link.
    const warehouseProjectId = r.text('warehouseProjectId') ?? unit.issuance?.warehouseProjectId;
    const link = r.text('unitRegistryLink');
    const here = (warehouseProjectId ? projects.get(warehouseProjectId) : undefined) ?? (link ? byLink.get(link) : undefined);
    unit.project = (here ? uploaded(here) : undefined)
      ?? (warehouseProjectId ? fromLedger(ledger.projectsByWarehouseId.get(warehouseProjectId)) : undefined)
      ?? (link ? fromLedger(ledger.projectsByLink.get(link)) : undefined)
      ?? (issuanceId ? fromLedger(ledger.projectsByIssuance.get(issuanceId)) : undefined);
    if (issuanceId && !unit.issuance && !ledger.projectsByIssuance.has(issuanceId)) {
      r.fail('issuanceId', 'unknown-issuance', `issuance ${issuanceId} is neither in this upload nor in the ledger`);
    }
    if (!unit.project) {
      const named = [warehouseProjectId && `warehouseProjectId ${warehouseProjectId}`, link && `unitRegistryLink ${link}`].filter(Boolean).join(', ');
      r.fail('project', 'unknown-project', named
        ? `the unit's project (${named}) is neither in this upload nor in the ledger`
        : 'the unit names no project (no issuance with a warehouseProjectId, no unitRegistryLink)');
    }

    const quantity = r.count('unitCount', true);
    const status = r.term('unitStatus', 'unitStatus', { required: true });
    const unitType = r.term('unitType', 'unitType', { absent: ['Not Determined'] });
    const caDeclaration = r.term('correspondingAdjustmentDeclaration', 'caDeclaration', { absent: ['Not Applicable'] });
    const caStatus = r.term('correspondingAdjustmentStatus', 'caStatus', { absent: ['Not Applicable'] });
    let vintageYear = r.number('vintageYear');
    if (vintageYear !== undefined && (!Number.isInteger(vintageYear) || vintageYear < 1990 || vintageYear > 2100)) {
      r.fail('vintageYear', 'invalid-year', `${vintageYear} is not a vintage year`);
      vintageYear = undefined;
    }

    // The block: numbered from unitBlockStart to unitBlockEnd, both included.
    const start = r.text('unitBlockStart');
    const end = r.text('unitBlockEnd');
    const warehouseUnitId = r.text('warehouseUnitId');
    let serial: BlockRecord['serial'];
    let serialRaw: string | undefined;
    let bounds: string | undefined;
    if ((start === undefined) !== (end === undefined)) {
      r.fail(start === undefined ? 'unitBlockStart' : 'unitBlockEnd', 'missing', `is empty, but ${start === undefined ? 'unitBlockEnd' : 'unitBlockStart'} is given`);
    } else if (start !== undefined && end !== undefined) {
      serialRaw = r.text('serialNumberBlock') ?? `${start}-${end}`;
      const a = plainInteger(start);
      const b = plainInteger(end);
      bounds = a !== undefined && b !== undefined ? `${a}-${b}` : `${start}-${end}`;
      if (a !== undefined && b !== undefined && b < a) {
        r.fail('unitBlockEnd', 'serial-order', `${b} is before unitBlockStart ${a}`);
      } else if (a !== undefined && b !== undefined && quantity !== undefined && b - a + 1 !== quantity) {
        r.fail('unitCount', 'serial-quantity-mismatch',
          `${quantity}, but the block from unitBlockStart ${a} to unitBlockEnd ${b} holds ${b - a + 1} units (the range is inclusive: end − start + 1)`);
      } else if (a !== undefined && b !== undefined && unit.project) {
        // The registry's own serial string, when its parser reads it with these bounds, places the block
        // where that registry's connector does; otherwise the project's (or the Kyoto) number space.
        serial = registrySerialRange(unit.project.registry, r.text('serialNumberBlock'), a, b);
        const space = serial ? undefined : numberSpace(unit.project, r);
        if (space) serial = { numberSpace: space, start: a, end: b, raw: serialRaw };
      }
    } else if (unit.project && r.text('serialNumberBlock')) {
      serialRaw = r.text('serialNumberBlock');
      serial = registrySerialRange(unit.project.registry, serialRaw);
      if (serial && quantity !== undefined && serial.end - serial.start + 1 !== quantity) {
        r.fail('unitCount', 'serial-quantity-mismatch', `${quantity}, but serialNumberBlock ${serialRaw} holds ${serial.end - serial.start + 1} units`);
        serial = undefined;
      }
      if (!serial && !warehouseUnitId) r.fail('unitBlockStart', 'missing', 'is empty, and the unit has no warehouseUnitId: nothing tells it apart from the others');
      bounds = serialRaw;
    } else if (!warehouseUnitId) {
      r.fail('unitBlockStart', 'missing', 'is empty, and the unit has no warehouseUnitId: nothing tells it apart from the others');
    }
    const blockKey = warehouseUnitId ?? (unit.project && bounds ? `${unit.project.registryProjectId}:${bounds}` : undefined);
    if (unit.project && blockKey) {
      const k = `${unit.project.registry}|${blockKey}`;
      if (blockKeys.has(k)) r.fail(warehouseUnitId ? 'warehouseUnitId' : 'unitBlockStart', 'duplicate-unit', `the same unit (${blockKey}) is already at ${blockKeys.get(k)}`);
      else blockKeys.set(k, row.locator);
    }
    if (warehouseUnitId) unitsById.set(warehouseUnitId, unit);
    if (unit.project && blockKey && quantity && status) {
      unit.block = {
        type: 'block',
        ...unit.project,
        blockKey,
        issuanceKey: unit.issuance?.id ?? issuanceId,
        ...(serial ? { serial } : serialRaw ? { serialRaw } : {}),
        quantity,
        vintageYear,
        unitType: unitType as BlockRecord['unitType'],
        status: status as BlockRecord['status'],
        retirementReason: r.text('unitStatusReason'),
        accountHolder: r.text('unitOwner'),
        eligibility: [],
        caDeclaration: caDeclaration as BlockRecord['caDeclaration'],
        caStatus: caStatus as BlockRecord['caStatus'],
      };
    }
  }

  /** The number space of a block's serials: the Kyoto one for CDM CERs, else the project's own. */
  function numberSpace(project: { registry: string; registryProjectId: string }, r: Reader): string | undefined {
    const scheme = ledger.serialSchemes.get(project.registry) ?? (project.registry.startsWith('national-') ? 'per-issuance' : undefined);
    if (scheme !== 'kyoto') return `${project.registry}:cadt:${project.registryProjectId}`;
    const info = projectInfo.get(`${project.registry}:${project.registryProjectId}`);
    // CDM afforestation/reforestation projects issue tCERs or lCERs, each type numbered on its own;
    // the template does not say which, so the serials cannot be placed.
    if (info?.methodology && /\bAR-/i.test(info.methodology)) {
      r.warn('unitBlockStart', 'unit-type-unknown', 'a CDM afforestation/reforestation project issues tCERs or lCERs and the unit does not say which; serials kept as text, not compared');
      return undefined;
    }
    if (!info?.country) {
      r.warn('unitBlockStart', 'country-unknown', "the project's country is not known, so its Kyoto serials cannot be placed; kept as text, not compared");
      return undefined;
    }
    // Kyoto serials are unique per originating Party and unit type; 5 is the CER (connectors/cdm/serial.ts).
    return `cdm:${info.country}:5`;
  }

  // ---- labels, and the units they cover ----
  const labels = new Map<string, { row: CadtRow; reader: Reader; record?: LabelRecord; project?: { registry: string; registryProjectId: string } }>();
  const labelRows: { row: CadtRow; reader: Reader; record?: LabelRecord }[] = [];
  for (const row of of('labels')) {
    const r = reader(row);
    const id = r.text('id');
    const warehouseProjectId = r.required('warehouseProjectId', r.text('warehouseProjectId'));
    const project = projectByWarehouseId(warehouseProjectId);
    if (warehouseProjectId && !project) r.fail('warehouseProjectId', 'unknown-project', `project ${warehouseProjectId} is neither in this upload nor in the ledger`);
    const labelType = r.term('labelType', 'labelType', { required: true });
    const label = r.required('label', r.text('label'));
    const period = (startField: string, endField: string) => {
      const s = r.date(startField);
      const e = r.date(endField);
      if (s && e && e < s) r.fail(endField, 'period-order', `${e} is before ${startField} ${s}`);
      return [s, e] as const;
    };
    const [creditingPeriodStart, creditingPeriodEnd] = period('creditingPeriodStartDate', 'creditingPeriodEndDate');
    const [validityPeriodStart, validityPeriodEnd] = period('validityPeriodStartDate', 'validityPeriodEndDate');
    const unitQuantity = r.count('unitQuantity', false);
    const entry = {
      row, reader: r, project,
      record: project && labelType && label ? {
        type: 'label' as const, ...project, labelType: labelType as LabelRecord['labelType'], label, creditingPeriodStart, creditingPeriodEnd,
        validityPeriodStart, validityPeriodEnd, unitQuantity, labelLink: r.text('labelLink'), blockKeys: [] as string[],
      } : undefined,
    };
    if (id && labels.has(id)) r.fail('id', 'duplicate-label', `label ${id} is already at ${labels.get(id)!.row.locator}`);
    else if (id) labels.set(id, entry);
    labelRows.push(entry);
  }
  for (const row of of('label_units')) {
    const r = reader(row);
    const labelId = r.required('labelId', r.text('labelId'));
    const warehouseUnitId = r.required('warehouseUnitId', r.text('warehouseUnitId'));
    const label = labelId ? labels.get(labelId) : undefined;
    if (labelId && !label) r.fail('labelId', 'unknown-label', `label ${labelId} is not in this upload's labels`);
    const unit = warehouseUnitId ? unitsById.get(warehouseUnitId) : undefined;
    const storedIn = warehouseUnitId ? ledger.unitRegistries.get(warehouseUnitId) : undefined;
    if (warehouseUnitId && !unit && !storedIn) r.fail('warehouseUnitId', 'unknown-unit', `unit ${warehouseUnitId} is neither in this upload nor in the ledger`);
    const registry = unit?.project?.registry ?? storedIn;
    if (label?.record && unit?.project && `${unit.project.registry}:${unit.project.registryProjectId}` !== `${label.record.registry}:${label.record.registryProjectId}`) {
      r.fail('warehouseUnitId', 'other-project', `unit ${warehouseUnitId} is of project ${unit.project.registryProjectId}, not of the label's project ${label.record.registryProjectId}`);
    } else if (label?.record && !unit && registry && registry !== label.record.registry) {
      r.fail('warehouseUnitId', 'other-project', `unit ${warehouseUnitId} is in registry ${registry}, not in the label's ${label.record.registry}`);
    }
    if (label?.record && warehouseUnitId && r.errors.length === 0) {
      label.record.blockKeys.push(warehouseUnitId);
      // A Letter of Authorization authorizes the units it covers: the block carries its reference, so
      // the Article 6 rules see the authorization.
      if (label.record.labelType === 'letter-of-authorization' && unit?.block) unit.block.article6Authorization ??= label.record.label;
    }
    result(row, r);
  }
  for (const entry of labelRows) result(entry.row, entry.reader, entry.record ? [entry.record] : []);

  // ---- issuances: known only through their units, so their first figure is the sum of this upload's ----
  const totals = new Map<string, number>();
  // A6.4 issuances: the units forwarded to the Adaptation Fund and cancelled for OMGE are its levies (a64.ts).
  const levies = new Map<string, { shareOfProceeds: number; omge: number }>();
  for (const unit of units) {
    if (!unit.block || unit.reader.errors.length > 0 || !unit.issuance) continue;
    totals.set(unit.issuance.id, (totals.get(unit.issuance.id) ?? 0) + unit.block.quantity);
    if (unit.block.registry !== A64_REGISTRY) continue;
    const levy = levies.get(unit.issuance.id) ?? { shareOfProceeds: 0, omge: 0 };
    const kind = a64LevyOf({ status: unit.block.status, texts: [unit.block.accountHolder, unit.block.retirementReason] });
    if (kind === 'share-of-proceeds') levy.shareOfProceeds += unit.block.quantity;
    if (kind === 'omge') levy.omge += unit.block.quantity;
    levies.set(unit.issuance.id, levy);
  }
  const issuanceRecord = (issuance: Issuance, project: { registry: string; registryProjectId: string }, quantity: number): IssuanceRecord => {
    const levy = levies.get(issuance.id);
    return {
      type: 'issuance', ...project, issuanceKey: issuance.id, vintageStart: issuance.startDate, vintageEnd: issuance.endDate, quantity, quantityFromBlocks: true,
      ...(levy ? { creditType: 'a64er', shareOfProceedsQuantity: levy.shareOfProceeds, omgeQuantity: levy.omge } : {}),
    };
  };
  for (const { row, reader: r, issuance, project } of issuances.values()) {
    const total = totals.get(issuance.id);
    if (!total) r.warn('id', 'issuance-without-units', `no unit of this upload names issuance ${issuance.id}; it is recorded with its units (its quantity is theirs)`);
    result(row, r, project && total ? [issuanceRecord(issuance, project, total)] : []);
  }
  for (const unit of units) {
    const records: CanonicalInput[] = [];
    const total = unit.issuance ? totals.get(unit.issuance.id) : undefined;
    if (unit.embedded && unit.issuance && unit.project && total) records.push(issuanceRecord(unit.issuance, unit.project, total));
    if (unit.block) records.push(unit.block);
    result(unit.row, unit.reader, records);
  }
  return { mapped, nationalRegistries: [...national.values()] };
}
