import type { ProjectRecord } from '../../schema/canonical.ts';
import type { FileFormat, Mapped } from '../types.ts';
import { rowReader } from '../runtime/row.ts';
import { apxSustainableDevelopmentGoals, type RowReader } from '../runtime/apx.ts';

// ACR's project report (APX report r=111; reference/registries.md §3.1, offsetsdb.md §2.3).
// Quirks:
// - Windows-1252 text, every field quoted, a trailing empty column (the CSV reader decodes and drops it);
// - `Total Number of Credits Registered ` ends in a space (normalized away); it is the registry's own
//   issued total, which the ledger does not store: it serves to reconcile the issuance report;
// - the status lives in two columns: `Voluntary Status` (empty for compliance projects) and
//   `Compliance Program Status (ARB or Ecology)` (`Not ARB or Ecology Eligible` for voluntary ones);
// - no registry URL: acr2.apx.com is dead and GreenTrace's project pages are keyed by a `projectKey`
//   (P2423FTH4Z22) the report does not carry, so `registryUrl` stays empty rather than guessed.

const NOT_COMPLIANCE = 'not arb or ecology eligible';

/** ACR's voluntary statuses (`Listed, Registered, Completed, Inactive, Canceled`) → CAD Trust project status. */
function voluntaryStatus(s: string): ProjectRecord['status'] {
  if (s === 'listed') return 'listed';
  if (s === 'registered') return 'registered';
  // Inactive: crediting has ended without ACR closing the project (Verra's `Inactive` is read the same way).
  if (s === 'completed' || s === 'inactive') return 'completed';
  // Canceled: the listing was stopped before or after registration; CAD Trust's nearest is withdrawn.
  if (s === 'canceled' || s === 'cancelled') return 'withdrawn';
  return 'unknown';
}

/**
 * ACR's ARB/Ecology statuses → CAD Trust project status. "Listed - Active … Project" is an ARB or
 * Ecology project that is crediting (ACR issues it ERTs for conversion), so registered; only the
 * proposed and submitted ones are merely listed.
 */
function complianceStatus(s: string): ProjectRecord['status'] {
  const folded = s.replace(/\s*[–—]\s*/g, ' - ');
  if (folded === 'listed - proposed project' || folded === 'submitted') return 'listed';
  if (folded.startsWith('listed - active')) return 'registered';
  if (folded === 'transferred arb or ecology project') return 'transitioned';
  if (/^(arb|ecology) (completed|inactive)$/.test(folded)) return 'completed';
  if (/^(arb|ecology) terminated$/.test(folded)) return 'deregistered';
  return 'unknown';
}

/** The status and the raw string it came from: the compliance column where the project is ARB or Ecology, else the voluntary one. */
export function acrProjectStatus(voluntary: string | undefined, compliance: string | undefined): Pick<ProjectRecord, 'status' | 'statusRaw'> {
  if (compliance && compliance.toLowerCase() !== NOT_COMPLIANCE) return { status: complianceStatus(compliance.toLowerCase()), statusRaw: compliance };
  if (voluntary) return { status: voluntaryStatus(voluntary.toLowerCase()), statusRaw: voluntary };
  return { status: undefined, statusRaw: compliance };
}

/** `CAOD1042` is a California ARB offset project id, `ECYOD1185` a Washington Ecology one. */
function complianceEligibility(complianceProgramId: string | undefined): string[] {
  if (!complianceProgramId) return [];
  if (/^CAOD/i.test(complianceProgramId)) return ['arb-eligible'];
  if (/^ECYOD/i.test(complianceProgramId)) return ['wa-ecology-eligible'];
  return [];
}

export const acrProjects: FileFormat = {
  id: 'acr-projects',
  registry: 'american-carbon-registry',
  stream: 'projects',
  description: 'ACR project report (APX r=111: Project ID, Compliance Program ID (ARB or Ecology), Voluntary Status, …)',
  requiredHeaders: ['Project ID', 'Compliance Program ID (ARB or Ecology)', 'Voluntary Status', 'Compliance Program Status (ARB or Ecology)', 'Total Number of Credits Registered'],
  map(row, locator): Mapped {
    const r = rowReader(row, locator);
    const projectId = r.required('Project ID', r.text('Project ID'));
    const name = r.required('Project Name', r.text('Project Name'));
    const status = acrProjectStatus(r.text('Voluntary Status'), r.text('Compliance Program Status (ARB or Ecology)'));
    const record: ProjectRecord | undefined = projectId && name ? {
      type: 'project',
      registry: 'american-carbon-registry',
      registryProjectId: projectId,
      name,
      proponent: r.text('Project Developer'),
      country: r.text('Project Site Country'),
      region: r.text('Project Site State'),
      methodology: r.text('Project Methodology/Protocol'),
      ...status,
      creditingPeriodStart: r.date('Current Crediting Period Start Date'),
      creditingPeriodEnd: r.date('Current Crediting Period End Date'),
      eligibility: complianceEligibility(r.text('Compliance Program ID (ARB or Ecology)')),
      coBenefits: apxSustainableDevelopmentGoals(r.text('Sustainable Development Goal(s)')),
    } : undefined;
    // Read so that a malformed total is reported, though the ledger does not keep it.
    r.number('Total Number of Credits Registered');
    return r.errors.length > 0 || !record ? { records: [], errors: r.errors } : { records: [record], errors: [] };
  },
};

/**
 * The project as an issuance, retirement or cancellation row describes it (those reports repeat the
 * project's columns), so a transaction whose project is not yet in the ledger still has one. Sparse:
 * projects merge with `coalesce`, so this never erases what the project report said. ARB and Ecology
 * eligibility are properties of the project (the same on every row of one project); CCP and CORSIA
 * eligibility are per issuance and stay on the blocks.
 */
export function acrProjectOfRow(r: RowReader, projectId: string, eligibility: readonly string[]): ProjectRecord | undefined {
  const name = r.required('Project Name', r.text('Project Name'));
  if (!name) return undefined;
  return {
    type: 'project',
    registry: 'american-carbon-registry',
    registryProjectId: projectId,
    name,
    proponent: r.text('Project Developer'),
    country: r.text('Project Site Country'),
    region: r.text('Project Site State'),
    methodology: r.text('Project Methodology/Protocol'),
    eligibility: eligibility.filter((code) => code === 'arb-eligible' || code === 'wa-ecology-eligible'),
    coBenefits: apxSustainableDevelopmentGoals(r.text('Sustainable Development Goal(s)')),
  };
}
