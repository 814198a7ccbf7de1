import type { CanonicalInput, ProjectRecord } from '../../schema/canonical.ts';
import { rowReader } from '../runtime/row.ts';
import { isRecord, ValueError } from '../runtime/values.ts';
import type { FileFormat, Mapped, RowError } from '../types.ts';
import { mapSerials } from './map-issuances.ts';
import { parsePythonLiteral, type PythonValue } from '../runtime/python-literal.ts';
import { convertedFrom, eligibilityTag, failure, place, projectUrl, REGISTRY, sdgTag, sortedTags, stageStatus, stated, uniq } from './values.ts';
import { alternateCode, projectCode } from './project-codes.ts';

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
//   (row 18) with `Project ID, Project Name, Host Country, Project Stage, …`, where `Project ID` is the
//   project's code (`CDC-271`).
// Quirks:
// - every source keys the project by EcoRegistry's numeric `id`, which the retirement feed and export, the
//   serials and the public pages (`www.ecoregistry.io/projects/<id>`) use. The `code` (`CDC-271`) is what
//   people quote but does not follow the id (CDC-271 is project 274): the project records give it as the
//   project's alternate id, and the report's codes are placed through it (project-codes.ts);
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
  const facts = id ? mapSerials(serials, locator, id, errors, warnings) : [];
  const annual = Number(e.annualEstimated);
  if (errors.length > 0 || !id) return { records: [], errors, warnings };
  const regions = uniq(locations.map((l) => place(l.region)));
  const project: ProjectRecord = {
    type: 'project',
    registry: REGISTRY,
    registryProjectId: id,
    ...alternateCode(e.code),
    // A project with serials but no name is still the project: known by its code, else its id.
    ...(name ? { name } : { name: `Cercarbono ${stated(e.code) ?? id}`, nameIsIdentifier: true }),
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
  generation: 'OffsetsDB flattening of EcoRegistry\'s analytics records (2026)',
  columns: {
    id: { required: true },
    stage: { required: true },
    name: {},
    code: {},
    owner: {},
    developer: {},
    quantification_method: {},
    locations: {},
    serials: {},
    annualEstimated: {},
  },
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
  const methodologies = uniq((Array.isArray(e.methodology) ? e.methodology : []).map((m) => (isRecord(m) ? stated(m.description) : undefined)));
  const countries = Array.isArray(e.location) ? e.location.map(stated) : [];
  const converted = convertedFrom(e.convertedFromLink, undefined);
  const project: ProjectRecord = {
    type: 'project',
    registry: REGISTRY,
    registryProjectId: id,
    ...alternateCode(e.code),
    ...(name ? { name } : { name: `Cercarbono ${stated(e.code) ?? id}`, nameIsIdentifier: true }),
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

/** `Project ID` as the report writes it: a project code (`CDC-271`), or, in some copies, the numeric id (`274`, `274.0`). */
const NUMERIC_ID = /^\d+(\.0+)?$/;

export const cercarbonoProjectsReport: FileFormat = {
  id: 'cercarbono-projects-report',
  registry: REGISTRY,
  stream: 'projects',
  description: 'Cercarbono "Projects Report" workbook exported by the EcoRegistry site (title block, then Project ID, Project Name, Host Country, Project Stage, …)',
  generation: 'Projects Report (EcoRegistry site)',
  columns: {
    'Project ID': { required: true },
    'Project Stage': { required: true },
    'Project Name': {},
    'Host Country': {},
    Methodology: {},
    // The site has spelt the crediting period's start three ways (the typo is the site's).
    'Crediting periord start': { aliases: { 'Crediting period start': 'Projects Report, "period" spelt right', 'Start date first crediting period': 'Projects Report, "first crediting period" wording' } },
    'Crediting period end': {},
  },
  map(row, locator): Mapped {
    const written = row['Project ID']?.trim() ?? '';
    const filled = Object.values(row).filter((v) => v.trim() !== '');
    const code = projectCode(written);
    // A note or total line under the table (one cell of text, no project id): not a project, not an error.
    if (filled.length <= 1 && !NUMERIC_ID.test(written) && !code) return { records: [], errors: [] };
    const r = rowReader(row, locator);
    const raw = r.required('Project ID', r.text('Project ID'));
    // A numeric id is the project's key; a code is its alternate id, which the ledger places (project-codes.ts).
    const id = raw && NUMERIC_ID.test(raw) ? String(Number(raw)) : code;
    if (raw && !id) r.fail('Project ID', 'bad-id', `"${raw}" is neither a project code (CDC-271) nor EcoRegistry's numeric project id (274)`);
    const stage = stated(row['Project Stage']);
    const name = stated(row['Project Name']);
    // The unused ids the analytics export shows (name "-", stage "Not assigned"): skipped, as there.
    if (id && !name && (!stage || /^not assigned$/i.test(stage))) {
      return { records: [], errors: [], warnings: [failure(locator, 'Project Name', 'placeholder-project', `project ${raw} has no name ("${row['Project Name'] ?? ''}"): an unused id, skipped`)] };
    }
    const creditingPeriodStart = r.date('Crediting periord start');
    const creditingPeriodEnd = r.date('Crediting period end');
    if (r.errors.length > 0 || !id) return { records: [], errors: r.errors };
    const project: ProjectRecord = {
      type: 'project',
      registry: REGISTRY,
      registryProjectId: id,
      ...(id === code ? { idIsAlternate: true } : {}),
      ...(name ? { name } : { name: `Cercarbono ${raw}`, nameIsIdentifier: true }),
      country: stated(row['Host Country']),
      methodology: stated(row.Methodology),
      status: stageStatus(stage),
      statusRaw: stage,
      creditingPeriodStart,
      creditingPeriodEnd,
      eligibility: [],
      coBenefits: [],
      // The project's page is at its numeric id, which a code does not give.
      registryUrl: id === code ? undefined : projectUrl(id),
    };
    return { records: [project], errors: [] };
  },
};
