import type { ProjectRecord } from '../../schema/canonical.ts';
import { entityReader, type EntityReader } from '../runtime/entity.ts';
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

/** BioCarbon's own words for no value, beyond the blanks every reader knows (`N/A`, `none`, `-`). */
const NO_VALUE = /^(na|no aplica|--)$/i;

/**
 * A record read with BioCarbon's placeholders for no value. Quantities are strings with thousands
 * separators (`"299,564"`) beside bare numbers; dates `2022-04-28`, `2022-04-28 17:28:57`, or the
 * retirements' `30/07/2026` (`dayFirst`).
 */
export const read = (e: Entity, locator: string, options: { dayFirst?: boolean } = {}) =>
  entityReader(e, locator, { ...options, decode: (value) => (NO_VALUE.test(value.trim()) ? undefined : value) });

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
function methodologyOf(r: EntityReader): string | undefined {
  const codes = r.list('methodologies').map((_, i) => r.text(`methodologies[${i}].code`) ?? r.text(`methodologies[${i}].name`));
  const unique = [...new Set(codes.filter((c): c is string => Boolean(c)))];
  return unique.length > 0 ? unique.join('; ') : undefined;
}

/** SDGs as `objetives` lists them (`text_cadt` "SDG 2 - Zero hunger", name "Objetivo 2: …") → `sdg-2`. */
function sdgsOf(r: EntityReader): string[] {
  const numbers = r.list('objetives')
    .map((_, i) => /\bSDG\s*(\d{1,2})\b/i.exec(r.text(`objetives[${i}].text_cadt`) ?? '')?.[1] ?? /\bObjetivo\s+(\d{1,2})\b/i.exec(r.text(`objetives[${i}].name`) ?? '')?.[1])
    .filter((n): n is string => Boolean(n) && Number(n) >= 1 && Number(n) <= 17);
  return [...new Set(numbers.map(Number))].sort((a, b) => a - b).map((n) => `sdg-${n}`);
}

/** A coordinate (`"10.303400"`), typed by hand on the registry's form: one that is not a number, or is out of range, is no location. */
function coordinate(r: EntityReader, field: string, limit: number): number | undefined {
  const n = Number(r.text(field));
  return Number.isFinite(n) && Math.abs(n) <= limit ? n : undefined;
}

/** The fields the list and the detail share, read from the list record or the detail's `initiative`. */
function projectOf(r: EntityReader, locator: string): Mapped {
  const id = r.text('id');
  if (!id || !/^\d+$/.test(id)) {
    r.fail('id', 'missing', id ? `"${id}" is not an initiative id` : 'is empty');
    return { records: [], errors: r.errors };
  }
  const warnings: RowError[] = [];
  let creditingPeriodStart = r.date('quantification_period_start');
  let creditingPeriodEnd = r.date('quantification_period_end');
  const registeredOn = r.date('acceptance_date');
  if (r.errors.length > 0) return { records: [], errors: r.errors };
  // Project 116 publishes a period from 2045-01-09 to 2019-01-07: the registry's own error, left out
  // rather than swapped.
  if (creditingPeriodStart && creditingPeriodEnd && creditingPeriodEnd < creditingPeriodStart) {
    warnings.push({
      locator, field: 'quantification_period_end', code: 'period-reversed',
      message: `${locator}: quantification_period_end: the quantification period ends (${creditingPeriodEnd}) before it starts (${creditingPeriodStart}); the period was left out`,
    });
    creditingPeriodStart = undefined;
    creditingPeriodEnd = undefined;
  }
  const status = r.text('status_code') ?? r.text('status');
  const latitude = coordinate(r, 'latitude', 90);
  const longitude = coordinate(r, 'longitude', 180);
  const located = latitude !== undefined && longitude !== undefined && !(latitude === 0 && longitude === 0);
  const project: ProjectRecord = {
    type: 'project',
    registry: REGISTRY,
    registryProjectId: id,
    name: r.text('project_name') ?? r.text('name') ?? r.text('project_id') ?? r.text('code') ?? `BioCarbon ${id}`,
    proponent: r.text('holder_name'),
    // The ISO code, on every project: `country` is typed in two languages ("Turquía", "Perú").
    country: r.text('country_iso') ?? r.text('country'),
    methodology: methodologyOf(r),
    status: projectStatus(status),
    statusRaw: status,
    creditingPeriodStart,
    creditingPeriodEnd,
    registeredOn,
    latitude: located ? latitude : undefined,
    longitude: located ? longitude : undefined,
    eligibility: [],
    coBenefits: sdgsOf(r),
    registryUrl: `${SITE}/registry/biocarbon/gei/project/${id}`,
  };
  return r.errors.length > 0 ? { records: [], errors: r.errors } : { records: [project], errors: [], warnings };
}

/** A project of the list (`ghg/projects`). */
export function mapProject(e: Entity, locator: string): Mapped {
  return projectOf(read(e, locator), locator);
}

/**
 * A project's detail (`ghg/projects/{id}`: `{code: "200", status: "success", initiative}`). Beyond the
 * list it says where a project came from: `confirm_migration` YES with `migration_standard_name`
 * (project 22 migrated from the Clean Development Mechanism), the units' earlier programme. Errors name
 * the initiative's fields as the list's are named.
 */
export function mapProjectDetail(e: Entity, locator: string): Mapped {
  const initiative = read(e, locator).record('initiative');
  if (!initiative) {
    return { records: [], errors: [{ locator, field: 'initiative', code: 'missing', message: `${locator}: initiative: the detail holds no initiative` }] };
  }
  const r = read(initiative, locator);
  const mapped = projectOf(r, locator);
  const project = mapped.records[0];
  if (!project || project.type !== 'project') return mapped;
  const from = r.text('migration_standard_name') ?? r.text('migration_standard.name');
  const migrated = r.text('confirm_migration')?.toUpperCase() === 'YES' || from !== undefined;
  if (r.errors.length > 0) return { records: [], errors: r.errors };
  return {
    ...mapped,
    records: [{
      ...project,
      otherPrograms: migrated ? [{ program: from, relation: 'converted-from', field: 'migration_standard_name' }] : undefined,
    }],
  };
}
