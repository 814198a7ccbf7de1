import type { ProjectRecord } from '../../schema/canonical.ts';
import type { FileFormat, Mapped } from '../types.ts';
import { rowReader } from '../runtime/row.ts';
import { projectUrl, readGsid } from './map-issuances.ts';

// Gold Standard's project export (registry.goldstandard.org, "Projects" → Download CSV): `GSID, Project
// Name, Project Developer Name, Status, Sustainable Development Goals, Project Type, Country,
// Description, Estimated Annual Credits, Methodology, Size, Programme of Activities, POA GSID`
// (reference/registries.md §2.2, offsetsdb.md §2.2). Quirks:
// - `GSID` is the project's id (`GS<GSID>`); a VPA's name often starts with its programme's number
//   ("GS12856-VPA-3 …"), which is not the project's, so names are never parsed for ids;
// - `POA GSID` (`12856.0`) is the parent programme; the canonical project has no field for it yet, so
//   it stays in the raw record;
// - `Sustainable Development Goals` lists goal numbers ("4,13,6,5,3,8"), read as `sdg-N` co-benefits;
// - `Status` is a label here (`Listed`) and an enum in GS's API (`LISTED`), read alike;
// - `Methodology` is empty in current downloads; `Project Type`, `Size`, `Description`, `Programme of
//   Activities` and `POA GSID` have no canonical field and are not read;
// - a project without a name keeps its row, named by its id (`GS11236`) and marked so.

/**
 * GS project status → CAD Trust project status. GS has three (registries.md §2.1): Listed, Gold Standard
 * Certified Design (design certification is GS's registration) and Gold Standard Certified Project
 * (certified and issuing). Anything else is kept raw as `unknown`.
 */
export function goldStandardProjectStatus(raw: string | undefined): ProjectRecord['status'] {
  const s = raw?.replace(/[_\s]+/g, ' ').trim().toLowerCase() ?? '';
  if (s === '') return undefined;
  if (s === 'listed') return 'listed';
  if (s === 'gold standard certified design' || s === 'gold standard certified project') return 'registered';
  return 'unknown';
}

/** "4,13,6,5,3,8" → sdg-3, sdg-4, …; a token that is not a goal number 1–17 is a row error. */
function sustainableDevelopmentGoals(r: ReturnType<typeof rowReader>, column: string): string[] {
  const raw = r.text(column);
  if (raw === undefined) return [];
  const goals = new Set<number>();
  for (const token of raw.split(',').map((t) => t.trim()).filter(Boolean)) {
    const goal = /^\d+$/.test(token) ? Number(token) : NaN;
    if (!(goal >= 1 && goal <= 17)) {
      r.fail(column, 'bad-sdg', `"${token}" is not a Sustainable Development Goal number (1–17)`);
      continue;
    }
    goals.add(goal);
  }
  return [...goals].sort((a, b) => a - b).map((g) => `sdg-${g}`);
}

export const projects: FileFormat = {
  id: 'gold-standard-projects',
  registry: 'gold-standard',
  stream: 'projects',
  description: 'Gold Standard project export (GSID, Project Name, Project Developer Name, Status, Sustainable Development Goals, …)',
  generation: 'registry export 2025–2026',
  // The GSID is the project, the status what it is; everything else can be missing from a row.
  columns: {
    GSID: { required: true },
    'Project Name': {},
    'Project Developer Name': {},
    Status: { required: true },
    'Sustainable Development Goals': {},
    Country: {},
    'Estimated Annual Credits': {},
    Methodology: {},
  },
  map(row, locator): Mapped {
    const r = rowReader(row, locator);
    const projectId = readGsid(r, 'GSID');
    const name = r.text('Project Name');
    const statusRaw = r.text('Status');
    const coBenefits = sustainableDevelopmentGoals(r, 'Sustainable Development Goals');
    const estimatedAnnualQuantity = r.number('Estimated Annual Credits');
    if (r.errors.length > 0 || !projectId) return { records: [], errors: r.errors };
    const record: ProjectRecord = {
      type: 'project',
      registry: 'gold-standard',
      registryProjectId: projectId,
      // A project listed without a name is still a project: it is known by its id (`GS11236`).
      ...(name ? { name } : { name: projectId, nameIsIdentifier: true }),
      proponent: r.text('Project Developer Name'),
      country: r.text('Country'),
      methodology: r.text('Methodology'),
      status: goldStandardProjectStatus(statusRaw),
      statusRaw,
      estimatedAnnualQuantity,
      eligibility: [],
      coBenefits,
      registryUrl: projectUrl(projectId),
    };
    return { records: [record], errors: [] };
  },
};
