import type { CanonicalInput, ProjectRecord } from '../../schema/canonical.ts';
import { rowReader } from '../runtime/row.ts';
import { isRecord, ValueError } from '../runtime/values.ts';
import type { FileFormat, Mapped, RowError } from '../types.ts';
import { mapSerials } from './map-issuances.ts';
import { parsePythonLiteral, type PythonValue } from '../runtime/python-literal.ts';
import { convertedFrom, eligibilityTag, failure, place, projectUrl, REGISTRY, sdgTag, sortedTags, stageStatus, stated, uniq } from './values.ts';

// Cercarbono's projects, three ways (reference/registries.md §3.6, offsetsdb.md §2.7; rb-carbon-scraper
// `docs/api-contract-cercarbono.md`):
// - EcoRegistry's `analytics/projects` record: owner, developer, stage, `quantification_method` (the
//   methodology), `locations` (country, region, city, coordinates) and the project's issued `serials`.
//   CarbonPlan's project export is that record flattened (lists as Python repr) with the `code` added;
//   both are mapped here to the project and, from its serials, its issuances (map-issuances.ts);
// - the standard's project list (`project/public-by-standard/cercarbono-co2`): stage, methodologies,
//   developer, the country as a name, eligibility (`eligibles`), SDGs, and `convertedFromLink` for
//   projects converted in from another registry;
// - the "Projects Report" workbook the EcoRegistry site exports: a title block, then a header row
//   (row 18) with `Project ID, Project Name, Host Country, Project Stage, …`.
// Quirks:
// - the project is keyed by EcoRegistry's numeric `id`, which the retirement feed, the serials and the
//   public pages (`www.ecoregistry.io/projects/<id>`) use. The `code` (`CDC-271`) is what people quote
//   but does not follow the id (CDC-271 is project 274); it stays in the raw record;
// - "Not defined" / "No definido" mean no value; region and city "Worldwide" are a placeholder;
// - names carry stray tabs ("Aire\tde Vida\t…"), folded to spaces;
// - the country is a name ("Colombia"); no ISO code is published;
// - eligibility (ICC, CV) and SDGs are given per serial: the project carries the union of its serials'.

type Entity = Record<string, unknown>;

const projectIdOf = (value: unknown): string | undefined => {
  const text = stated(value);
  return text && /^\d+$/.test(text) ? String(Number(text)) : undefined;
};

/** Coordinates of a location's `data_map`, when both are numbers in range and not the 0,0 of an empty map. */
function coordinates(location: unknown): { latitude?: number; longitude?: number } {
  const map = isRecord(location) ? (location.data_map ?? location.dataMap) : undefined;
  if (!isRecord(map)) return {};
  const latitude = Number(map.latitude);
  const longitude = Number(map.longitude);
  if (!Number.isFinite(latitude) || !Number.isFinite(longitude) || Math.abs(latitude) > 90 || Math.abs(longitude) > 180) return {};
  if (latitude === 0 && longitude === 0) return {};
  return { latitude, longitude };
}

/**
 * An `analytics/projects` record (or the export row holding one): the project and its issuances.
 * Serials that issued nothing are warnings; anything unreadable rejects the record.
 */
export function mapAnalyticsProject(e: Entity, locator: string): Mapped {
  const errors: RowError[] = [];
  const warnings: RowError[] = [];
  const id = projectIdOf(e.id);
  if (!id) errors.push(failure(locator, 'id', 'missing', `"${String(e.id ?? '')}" is not an EcoRegistry project id`));
  const name = stated(e.name);
  const locations = Array.isArray(e.locations) ? e.locations.filter(isRecord) : [];
  const serials = Array.isArray(e.serials) ? e.serials : [];
  // Ids the platform handed out and nobody filled in: name "-", owner "Pruebas 1" (tests), stage
  // "Not assigned", no serials (7 of the 50 projects in the sample). Not a project; not an error either.
  if (id && !name && serials.length === 0) {
    return { records: [], errors: [], warnings: [failure(locator, 'name', 'placeholder-project', `project ${id} has no name ("${String(e.name ?? '')}") and no serials: an unused id, skipped`)] };
  }
  if (!name) errors.push(failure(locator, 'name', 'missing', 'is empty'));
  const facts = id ? mapSerials(serials, locator, id, errors, warnings) : [];
  const annual = Number(e.annualEstimated);
  if (errors.length > 0 || !id || !name) return { records: [], errors, warnings };
  const regions = uniq(locations.map((l) => place(l.region)));
  const project: ProjectRecord = {
    type: 'project',
    registry: REGISTRY,
    registryProjectId: id,
    name,
    proponent: stated(e.developer) ?? stated(e.owner),
    country: stated(locations[0]?.country),
    region: regions.length > 0 ? regions.join('; ') : undefined,
    methodology: stated(e.quantification_method),
    status: stageStatus(stated(e.stage)),
    statusRaw: stated(e.stage),
    // 0 is what the registry stores when no estimate was entered.
    estimatedAnnualQuantity: Number.isFinite(annual) && annual > 0 ? annual : undefined,
    eligibility: sortedTags(facts.flatMap((f) => f.eligibility)),
    coBenefits: sortedTags(facts.flatMap((f) => f.coBenefits)),
    ...coordinates(locations[0]),
    registryUrl: projectUrl(id),
  };
  const records: CanonicalInput[] = [project, ...facts.flatMap((f) => (f.issuance ? [f.issuance] : []))];
  return { records, errors: [], warnings };
}

/** The export's list cells (`locations`, `serials`, `sector`) back into values; an unreadable one is a row error. */
function literalCells(row: Record<string, string>, locator: string, columns: readonly string[], errors: RowError[]): Entity {
  const entity: Entity = { ...row };
  for (const column of columns) {
    const cell = row[column]?.trim() ?? '';
    if (cell === '' || /^(nan|none)$/i.test(cell)) {
      entity[column] = [];
      continue;
    }
    try {
      const value: PythonValue = parsePythonLiteral(cell);
      if (!Array.isArray(value)) throw new ValueError(`"${cell.slice(0, 60)}" is not a list`, 'bad-literal');
      entity[column] = value;
    } catch (error) {
      if (!(error instanceof ValueError)) throw error;
      errors.push(failure(locator, column, error.code, error.message));
    }
  }
  return entity;
}

export const cercarbonoProjects: FileFormat = {
  id: 'cercarbono-projects',
  registry: REGISTRY,
  stream: 'projects',
  description: 'Cercarbono projects, EcoRegistry analytics records flattened (id, code, owner, developer, name, quantification_method, stage, locations, serials, …)',
  requiredHeaders: ['id', 'code', 'name', 'stage', 'quantification_method', 'locations', 'serials'],
  map(row, locator): Mapped {
    const errors: RowError[] = [];
    const entity = literalCells(row, locator, ['locations', 'serials'], errors);
    if (errors.length > 0) return { records: [], errors };
    return mapAnalyticsProject(entity, locator);
  },
};

/** A project of the standard's list (`project/public-by-standard/<standard>`). */
export function mapListedProject(e: Entity, locator: string): Mapped {
  const id = projectIdOf(e.id);
  const name = stated(e.name);
  if (!id) return { records: [], errors: [failure(locator, 'id', 'missing', `"${String(e.id ?? '')}" is not an EcoRegistry project id`)] };
  if (!name) return { records: [], errors: [failure(locator, 'name', 'missing', 'is empty')] };
  const methodologies = uniq((Array.isArray(e.methodology) ? e.methodology : []).map((m) => (isRecord(m) ? stated(m.description) : undefined)));
  const countries = Array.isArray(e.location) ? e.location.map(stated) : [];
  const converted = convertedFrom(e.convertedFromLink, undefined);
  const project: ProjectRecord = {
    type: 'project',
    registry: REGISTRY,
    registryProjectId: id,
    name,
    proponent: stated(e.developer),
    country: countries.find((c) => c !== undefined) ?? stated(e.locationText),
    methodology: methodologies.length > 0 ? methodologies.join('; ') : undefined,
    status: stageStatus(stated(e.projectStage)),
    statusRaw: stated(e.projectStage),
    eligibility: sortedTags((Array.isArray(e.eligibles) ? e.eligibles : []).map(eligibilityTag)),
    coBenefits: sortedTags((Array.isArray(e.projectsGlobalGoal) ? e.projectsGlobalGoal : []).map(sdgTag)),
    registryUrl: projectUrl(id),
    ...(converted ? { otherPrograms: [converted] } : {}),
  };
  return { records: [project], errors: [] };
}

// ---- the site's "Projects Report" workbook ------------------------------------------------------

/** The report's crediting-period columns, as the site has spelt them (the typo is the site's). */
const PERIOD_START = ['Crediting periord start', 'Crediting period start', 'Start date first crediting period'];
const PERIOD_END = ['Crediting period end'];

export const cercarbonoProjectsReport: FileFormat = {
  id: 'cercarbono-projects-report',
  registry: REGISTRY,
  stream: 'projects',
  description: 'Cercarbono "Projects Report" workbook exported by the EcoRegistry site (title block, then Project ID, Project Name, Host Country, Project Stage, …)',
  requiredHeaders: ['Project ID', 'Project Name', 'Host Country', 'Project Stage'],
  map(row, locator): Mapped {
    const filled = Object.values(row).filter((v) => v.trim() !== '');
    // A note or total line under the table (one cell of text, no project id): not a project, not an error.
    if (filled.length <= 1 && !/^\d+(\.0+)?$/.test(row['Project ID']?.trim() ?? '')) return { records: [], errors: [] };
    const r = rowReader(row, locator);
    const raw = r.required('Project ID', r.text('Project ID'));
    const id = raw && /^\d+(\.0+)?$/.test(raw) ? String(Number(raw)) : undefined;
    if (raw && !id) {
      r.fail('Project ID', 'bad-id', `"${raw}" is not EcoRegistry's numeric project id (a code such as CDC-271 does not follow the id: CDC-271 is project 274)`);
    }
    const stage = stated(row['Project Stage']);
    // The unused ids the analytics export shows (name "-", stage "Not assigned"): skipped, as there.
    if (id && !stated(row['Project Name']) && (!stage || /^not assigned$/i.test(stage))) {
      return { records: [], errors: [], warnings: [failure(locator, 'Project Name', 'placeholder-project', `project ${id} has no name ("${row['Project Name'] ?? ''}"): an unused id, skipped`)] };
    }
    const name = r.required('Project Name', stated(row['Project Name']));
    const column = (names: readonly string[]) => names.find((n) => row[n] !== undefined && row[n]!.trim() !== '');
    const startColumn = column(PERIOD_START);
    const endColumn = column(PERIOD_END);
    const creditingPeriodStart = startColumn ? r.date(startColumn) : undefined;
    const creditingPeriodEnd = endColumn ? r.date(endColumn) : undefined;
    if (r.errors.length > 0 || !id || !name) return { records: [], errors: r.errors };
    const project: ProjectRecord = {
      type: 'project',
      registry: REGISTRY,
      registryProjectId: id,
      name,
      country: stated(row['Host Country']),
      methodology: stated(row.Methodology),
      status: stageStatus(stage),
      statusRaw: stage,
      creditingPeriodStart,
      creditingPeriodEnd,
      eligibility: [],
      coBenefits: [],
      registryUrl: projectUrl(id),
    };
    return { records: [project], errors: [] };
  },
};
