import type { ProjectRecord } from '../../schema/canonical.ts';
import { rowReader } from '../runtime/row.ts';
import type { FileFormat, Mapped } from '../types.ts';
import { REGISTRY } from './credits.ts';

// Isometric's projects (`GET /registry/v0/projects`, reference/registries.md §3.5; offsetsdb.md §2.8),
// as CarbonPlan flattens them: nested objects become dotted columns (`supplier.organisation.name`,
// `location.country_name`, `issued_credits_total.credits`). Quirks:
// - the project's identity is its `prj_…` id: issuances and retirements name their project by it.
//   OffsetsDB keys projects `ISO` + `short_code` (TS26, a random four-character code the registry
//   shows); the short code is kept in the raw record;
// - `protocol_slug` (`biochar`, `enhanced-weathering-agriculture`…) is the methodology; every
//   Isometric protocol is a removal protocol;
// - `country_code` is ISO 3166-1 alpha-3 (`IND`), `location.country_name` the name; `location` is
//   null on some projects (the flattened `location` column is then empty along with its children);
// - `url` is the public page `https://to.isometric.com/prj_…`;
// - statuses are `draft`, `preview`, `under_validation`, `validated`, `validation_unsuccessful`,
//   `cancelled` (the API's ProjectStatus enum).

/** Isometric's project statuses → CAD Trust project status. */
export function isometricProjectStatus(raw: string | undefined): ProjectRecord['status'] {
  switch (raw?.trim().toLowerCase()) {
    case undefined:
    case '':
      return undefined;
    case 'draft':
    case 'preview':
    case 'under_validation':
      return 'listed';
    case 'validated':
      return 'validated';
    case 'cancelled':
      return 'withdrawn';
    default:
      // `validation_unsuccessful` has no CAD Trust counterpart: kept as written in statusRaw.
      return 'unknown';
  }
}

function mapProject(row: Record<string, string>, locator: string): Mapped {
  const r = rowReader(row, locator);
  const id = r.required('id', r.text('id'));
  if (id && !/^prj_[0-9A-Z]+$/i.test(id)) r.fail('id', 'bad-id', `"${id}" is not an Isometric project id (prj_…)`);
  const name = r.text('name');
  const statusRaw = r.text('status');
  const latitude = r.number('location.latitude');
  const longitude = r.number('location.longitude');
  const creditingPeriodStart = r.date('crediting_period_start');
  const creditingPeriodEnd = r.date('crediting_period_end');
  const url = r.text('url');
  if (url && !/^https?:\/\//.test(url)) r.fail('url', 'bad-url', `"${url}" is not a web address`);
  if (r.errors.length > 0 || !id) return { records: [], errors: r.errors };
  const project: ProjectRecord = {
    type: 'project',
    registry: REGISTRY,
    registryProjectId: id,
    // A project listed without a name is still the project its id names.
    ...(name ? { name } : { name: `Isometric ${id}`, nameIsIdentifier: true }),
    proponent: r.text('supplier.organisation.name'),
    country: r.text('location.country_name') ?? r.text('country_code'),
    region: r.text('location.description'),
    methodology: r.text('protocol_slug'),
    status: isometricProjectStatus(statusRaw),
    statusRaw,
    creditingPeriodStart,
    creditingPeriodEnd,
    latitude,
    longitude,
    eligibility: [],
    coBenefits: [],
    registryUrl: url ?? `https://to.isometric.com/${id}`,
  };
  return { records: [project], errors: [] };
}

export const isometricProjects: FileFormat = {
  id: 'isometric-projects',
  registry: REGISTRY,
  stream: 'projects',
  description: 'Isometric registry projects, API records flattened with dotted names (id, name, status, short_code, protocol_slug, url, supplier.organisation.name, …)',
  generation: 'OffsetsDB flattening of the registry API (2026)',
  // `short_code` is not read: it stays in the raw record.
  columns: {
    id: { required: true },
    name: {},
    status: { required: true },
    protocol_slug: {},
    url: {},
    'supplier.organisation.name': {},
    'location.country_name': {},
    country_code: {},
    'location.description': {},
    'location.latitude': {},
    'location.longitude': {},
    crediting_period_start: {},
    crediting_period_end: {},
  },
  map: mapProject,
};
