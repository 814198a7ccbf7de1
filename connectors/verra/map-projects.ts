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

/**
 * One export in two generations: the project search export (until 2026) and the 2026 platform's, whose
 * columns are the same facts under other names. A row without a name keeps its project, named by its id.
 */
export const projectExport: FileFormat = {
  id: 'verra-projects',
  registry: 'verra',
  stream: 'projects',
  description: 'Verra project export (ID, Name, Proponent, …, Country/Area; or the 2026 platform\'s Project ID, Project Name, …)',
  generation: 'project search export (2019–2026)',
  columns: {
    ID: { required: true, aliases: { 'Project ID': 'platform 2026' } },
    Name: { aliases: { 'Project Name': 'platform 2026' } },
    Proponent: { aliases: { Proponents: 'platform 2026' } },
    Methodology: {},
    Status: { required: true },
    'Country/Area': { aliases: { Country: 'platform 2026' } },
    Region: {},
    'Estimated Annual Emission Reductions': { aliases: { 'Estimated Average Annual Emission Reductions and Carbon Dioxide Removals': 'platform 2026' } },
    'Project Registration Date': {},
    'Crediting Period Start Date': { aliases: { 'Crediting Period Duration Start Date': 'platform 2026' } },
    'Crediting Period End Date': { aliases: { 'Crediting Period Duration End Date': 'platform 2026' } },
  },
  dayFirst: true,
  map(row, locator): Mapped {
    const r = rowReader(row, locator, { dayFirst: true });
    const id = r.required('ID', r.text('ID'))?.replace(/^VCS\s*/i, '');
    if (!id || r.errors.length > 0) return { records: [], errors: r.errors };
    const name = r.text('Name');
    const record: ProjectRecord = {
      type: 'project',
      registry: 'verra',
      registryProjectId: id,
      // The platform lists some projects without a title: the project exists, and is known by its id.
      ...(name ? { name } : { name: `VCS ${id}`, nameIsIdentifier: true }),
      proponent: r.text('Proponent')?.replace(/ \(PP\)/g, ''),
      country: r.text('Country/Area'),
      region: r.text('Region'),
      methodology: r.text('Methodology'),
      status: verraProjectStatus(r.text('Status')),
      statusRaw: r.text('Status'),
      estimatedAnnualQuantity: r.number('Estimated Annual Emission Reductions'),
      registeredOn: r.date('Project Registration Date'),
      creditingPeriodStart: r.date('Crediting Period Start Date'),
      creditingPeriodEnd: r.date('Crediting Period End Date'),
      eligibility: [],
      coBenefits: [],
      registryUrl: `https://registry.verra.org/app/projectDetail/VCS/${id}`,
    };
    return r.errors.length > 0 ? { records: [], errors: r.errors } : { records: [record], errors: [] };
  },
};
