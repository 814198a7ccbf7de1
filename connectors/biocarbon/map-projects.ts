import type { ProjectRecord } from '../../schema/canonical.ts';
import { dateValue, numberValue, ValueError } from '../runtime/values.ts';
import type { Mapped, RowError } from '../types.ts';

// BioCarbon projects, from the list (`GET ghg/projects`) and from each project's detail
// (`GET ghg/projects/{id}`, the list record under `initiative` with what the list lacks: coordinates,
// the programme a project migrated from). Both give one project record; the ledger merges them.
//
// The project is keyed by its numeric initiative id (`20`), not by its code (`BCR-CO-319-14-004`):
// the id is what every ledger record carries (retirements and cancellations name no code), what the
// registry's own pages use, and what Cercarbono cites when it names a project converted from
// BioCarbon. The code is kept in the raw record.

export const REGISTRY = 'biocarbon';
export const SITE = 'https://globalcarbontrace.io';

type Entity = Record<string, unknown>;

export const text = (value: unknown): string | undefined => {
  if (value === null || value === undefined || typeof value === 'object') return undefined;
  const s = String(value).trim();
  return s === '' || /^(n\/a|na|none|null|no aplica|-|--)$/i.test(s) ? undefined : s;
};

/** A whole number as the API writes it: `299564`, `"299,564"` (thousands separators on most quantities). */
export function quantityOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  try {
    return numberValue(text(value));
  } catch (error) {
    if (error instanceof ValueError) return Number.NaN;
    throw error;
  }
}

export const failure = (locator: string, field: string, code: string, message: string): RowError =>
  ({ locator, field, code, message: `${locator}: ${field}: ${message}` });

/** A date as the API writes it (`2022-04-28`, `2022-04-28 17:28:57`, retirements' `30/07/2026`), or an error. */
export function dateOf(e: Entity, field: string, locator: string, errors: RowError[], options: { dayFirst?: boolean } = {}): string | undefined {
  try {
    return dateValue(text(e[field]), options);
  } catch (error) {
    if (!(error instanceof ValueError)) throw error;
    errors.push(failure(locator, field, error.code, error.message));
    return undefined;
  }
}

/** Registry statuses (a closed list: Registered, Listed, Declined, De-registered, Withdrawn, "Registration Request Under Review") → CAD Trust. */
function projectStatus(status: string | undefined): ProjectRecord['status'] {
  switch (status?.toLowerCase()) {
    case 'registered': return 'registered';
    case 'listed':
    case 'registration request under review': return 'listed';
    case 'withdrawn': return 'withdrawn';
    case 'de-registered': return 'deregistered';
    // "Declined" (registration refused) has no CAD Trust status: the raw status says it.
    default: return undefined;
  }
}

/** Methodology codes (`BCR0002`, `AR-ACM0003`) joined as the taxonomy reads a list. */
function methodologyOf(e: Entity): string | undefined {
  const list = Array.isArray(e.methodologies) ? e.methodologies as Entity[] : [];
  const codes = [...new Set(list.map((m) => text(m.code) ?? text(m.name)).filter((c): c is string => Boolean(c)))];
  return codes.length > 0 ? codes.join('; ') : undefined;
}

/** SDGs as `objetives` lists them (`text_cadt` "SDG 2 - Zero hunger", name "Objetivo 2: …") → `sdg-2`. */
function sdgsOf(e: Entity): string[] {
  const list = Array.isArray(e.objetives) ? e.objetives as Entity[] : [];
  const numbers = list.map((o) => /\bSDG\s*(\d{1,2})\b/i.exec(String(o.text_cadt ?? ''))?.[1] ?? /\bObjetivo\s+(\d{1,2})\b/i.exec(String(o.name ?? ''))?.[1])
    .filter((n): n is string => Boolean(n) && Number(n) >= 1 && Number(n) <= 17);
  return [...new Set(numbers.map(Number))].sort((a, b) => a - b).map((n) => `sdg-${n}`);
}

function coordinate(value: unknown, limit: number): number | undefined {
  const n = typeof value === 'number' ? value : Number(text(value));
  return Number.isFinite(n) && Math.abs(n) <= limit && text(value) !== undefined ? n : undefined;
}

/** The fields the list and the detail share; `e` is the list record or the detail's `initiative`. */
function projectOf(e: Entity, locator: string): Mapped {
  const id = text(e.id);
  if (!id || !/^\d+$/.test(id)) return { records: [], errors: [failure(locator, 'id', 'missing', `${id ? `"${id}" is not an initiative id` : 'is empty'}`)] };
  const errors: RowError[] = [];
  const warnings: RowError[] = [];
  let creditingPeriodStart = dateOf(e, 'quantification_period_start', locator, errors);
  let creditingPeriodEnd = dateOf(e, 'quantification_period_end', locator, errors);
  const registeredOn = dateOf(e, 'acceptance_date', locator, errors);
  if (errors.length > 0) return { records: [], errors };
  // Project 116 publishes a period from 2045-01-09 to 2019-01-07: the registry's own error, left out
  // rather than swapped.
  if (creditingPeriodStart && creditingPeriodEnd && creditingPeriodEnd < creditingPeriodStart) {
    warnings.push(failure(locator, 'quantification_period_end', 'period-reversed',
      `the quantification period ends (${creditingPeriodEnd}) before it starts (${creditingPeriodStart}); the period was left out`));
    creditingPeriodStart = undefined;
    creditingPeriodEnd = undefined;
  }
  const status = text(e.status_code) ?? text(e.status);
  const latitude = coordinate(e.latitude, 90);
  const longitude = coordinate(e.longitude, 180);
  const located = latitude !== undefined && longitude !== undefined && !(latitude === 0 && longitude === 0);
  const project: ProjectRecord = {
    type: 'project',
    registry: REGISTRY,
    registryProjectId: id,
    name: text(e.project_name) ?? text(e.name) ?? text(e.project_id) ?? text(e.code) ?? `BioCarbon ${id}`,
    proponent: text(e.holder_name),
    // The ISO code, on every project: `country` is typed in two languages ("Turquía", "Perú").
    country: text(e.country_iso) ?? text(e.country),
    methodology: methodologyOf(e),
    status: projectStatus(status),
    statusRaw: status,
    creditingPeriodStart,
    creditingPeriodEnd,
    registeredOn,
    latitude: located ? latitude : undefined,
    longitude: located ? longitude : undefined,
    eligibility: [],
    coBenefits: sdgsOf(e),
    registryUrl: `${SITE}/registry/biocarbon/gei/project/${id}`,
  };
  return { records: [project], errors: [], warnings };
}

/** A project of the list (`ghg/projects`). */
export function mapProject(e: Entity, locator: string): Mapped {
  return projectOf(e, locator);
}

/**
 * A project's detail (`ghg/projects/{id}`: `{code: "200", status: "success", initiative}`). Beyond the
 * list it says where a project came from: `confirm_migration` YES with `migration_standard_name`
 * (project 22 migrated from the Clean Development Mechanism), the units' earlier programme.
 */
export function mapProjectDetail(e: Entity, locator: string): Mapped {
  const initiative = e.initiative;
  if (!initiative || typeof initiative !== 'object' || Array.isArray(initiative)) {
    return { records: [], errors: [failure(locator, 'initiative', 'missing', 'the detail holds no initiative')] };
  }
  const detail = initiative as Entity;
  const mapped = projectOf(detail, locator);
  const project = mapped.records[0];
  if (!project || project.type !== 'project') return mapped;
  const from = text(detail.migration_standard_name) ?? text((detail.migration_standard as Entity | null)?.name);
  const migrated = text(detail.confirm_migration)?.toUpperCase() === 'YES' || from !== undefined;
  return {
    ...mapped,
    records: [{
      ...project,
      otherPrograms: migrated ? [{ program: from, relation: 'converted-from', field: 'migration_standard_name' }] : undefined,
    }],
  };
}
