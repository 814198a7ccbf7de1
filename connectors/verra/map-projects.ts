import type { ProjectRecord } from '../../schema/canonical.ts';
import type { FileFormat, Mapped } from '../types.ts';
import { rowReader } from '../runtime/row.ts';

// Verra's project export, in its two column sets (reference/offsetsdb.md §2.1):
// - legacy: `ID, Name, Proponent, Project Type, AFOLU Activities, Methodology, Status, Country/Area, …`,
//   dates ISO or DD/MM/YYYY;
// - 2026 (S&P platform): `Program, Project ID, Project Name, Proponents, …, Country, Status`, dates
//   `01 Jan 2020`, methodologies `AMS-I.D. (Version NA)` joined by ", ", proponents suffixed " (PP)".

/** Verra's project statuses → CAD Trust project status. Anything else is kept raw as `unknown`. */
export function verraProjectStatus(raw: string | undefined): ProjectRecord['status'] {
  const s = raw?.trim().toLowerCase() ?? '';
  if (s === '') return undefined;
  if (s.startsWith('under development') || s.startsWith('under validation') || s.startsWith('pipeline listing')
    || s.startsWith('registration requested') || s.startsWith('registration and verification approval requested')) return 'listed';
  if (s === 'registered' || s.startsWith('verification approval requested') || s.startsWith('crediting period renewal')
    || s.startsWith('late to verify') || s.startsWith('on hold') || s.startsWith('requantification requested')
    || s === 'units transferred from approved ghg program') return 'registered';
  if (s === 'withdrawn') return 'withdrawn';
  if (s === 'inactive') return 'completed';
  return 'unknown';
}

function project(fields: {
  row: Record<string, string>; locator: string; id: string; name: string; proponent: string; country: string;
  methodology: string; estimate: string; registration: string; start: string; end: string; region: string;
}): Mapped {
  const r = rowReader(fields.row, fields.locator, { dayFirst: true });
  const projectId = r.required(fields.id, r.text(fields.id));
  const name = r.required(fields.name, r.text(fields.name));
  const record: ProjectRecord | undefined = projectId && name ? {
    type: 'project',
    registry: 'verra',
    registryProjectId: projectId.replace(/^VCS/i, ''),
    name,
    proponent: r.text(fields.proponent)?.replace(/ \(PP\)/g, ''),
    country: r.text(fields.country),
    region: r.text(fields.region),
    methodology: r.text(fields.methodology),
    status: verraProjectStatus(r.text('Status')),
    statusRaw: r.text('Status'),
    estimatedAnnualQuantity: r.number(fields.estimate),
    registeredOn: r.date(fields.registration),
    creditingPeriodStart: r.date(fields.start),
    creditingPeriodEnd: r.date(fields.end),
    eligibility: [],
    coBenefits: [],
    registryUrl: `https://registry.verra.org/app/projectDetail/VCS/${projectId.replace(/^VCS/i, '')}`,
  } : undefined;
  return r.errors.length > 0 || !record ? { records: [], errors: r.errors } : { records: [record], errors: [] };
}

export const projectsLegacy: FileFormat = {
  id: 'verra-projects',
  registry: 'verra',
  stream: 'projects',
  description: 'Verra project export (columns until 2026: ID, Name, Proponent, …, Country/Area)',
  requiredHeaders: ['ID', 'Name', 'Proponent', 'Methodology', 'Status', 'Country/Area', 'Crediting Period Start Date'],
  dayFirst: true,
  map: (row, locator) => project({
    row, locator, id: 'ID', name: 'Name', proponent: 'Proponent', country: 'Country/Area', methodology: 'Methodology',
    estimate: 'Estimated Annual Emission Reductions', registration: 'Project Registration Date',
    start: 'Crediting Period Start Date', end: 'Crediting Period End Date', region: 'Region',
  }),
};

export const projects2026: FileFormat = {
  id: 'verra-projects-2026',
  registry: 'verra',
  stream: 'projects',
  description: 'Verra project export (2026 registry platform: Program, Project ID, Project Name, Proponents, …)',
  requiredHeaders: ['Program', 'Project ID', 'Project Name', 'Proponents', 'Methodology', 'Country', 'Status'],
  dayFirst: true,
  map: (row, locator) => project({
    row, locator, id: 'Project ID', name: 'Project Name', proponent: 'Proponents', country: 'Country', methodology: 'Methodology',
    estimate: 'Estimated Average Annual Emission Reductions and Carbon Dioxide Removals', registration: 'Project Registration Date',
    start: 'Crediting Period Duration Start Date', end: 'Crediting Period Duration End Date', region: 'Region',
  }),
};
