import type { ProjectRecord } from '../../schema/canonical.ts';
import type { Column, FileFormat, Mapped } from '../types.ts';
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
//   (P2423FTH4Z22) the report does not carry, so `registryUrl` stays empty rather than guessed;
// - a project without a name keeps its row, named by its id (`ACR123`) and marked so; so does the
//   project an issuance, retirement or cancellation row describes.

/** What the APX reports' current column names are called (README, "Export generations"). */
export const ACR_GENERATION = 'APX 2024–2026';

/** Until about May 2024 the reports' dates had no `(GMT)` suffix (`Date Issued`, `Status Effective`). */
export const BEFORE_GMT = 'APX before May 2024';

/** ACR's reports are said to have used CAR's "Offset Credit" names before (`Quantity of Offset Credits`). */
export const OFFSET_CREDIT_NAMES = 'APX, Offset Credit names';

/** A 2024 retirement report had `Retirement Reason Details` where `Purpose of Retirement` is now. */
export const REASON_DETAILS = 'APX 2024, Retirement Reason Details';

/**
 * ACR's and CAR's APX reports share one layout, and named their columns alike once: a file whose
 * columns fit both is ACR's when its first project id is (`ACR123`).
 */
export const ACR_PROJECT_ID = { column: 'Project ID', pattern: /^ACR/i };

/**
 * The project columns every transaction report repeats (read by `acrProjectOfRow`), and the yes/no
 * eligibility columns `apxEligibility` reads (runtime/apx.ts): ACR's names, and the other APX
 * registries' names it reads as well. All optional: a report without them still reads.
 */
export const ACR_PROJECT_COLUMNS = {
  'Project Name': {},
  'Project Developer': {},
  'Project Site Country': {},
  'Project Site State': {},
  'Project Methodology/Protocol': {},
  'Sustainable Development Goal(s)': {},
  'ARB Eligible': {},
  'Ecology Eligible': {},
  'WA ECO Eligible': {},
  'Eligible for CORSIA 2021-2023 Compliance Period (Pilot Phase)': {},
  'Eligible for CORSIA 2021-2023 Compliance Period': {},
  'Eligible for CORSIA 2024-2026 Compliance Period (First Phase)': {},
  'Eligible for CORSIA 2024-2026 Compliance Period': {},
  'CCP Approved': {},
  'ICVCM CCP Eligible': {},
} as const satisfies Record<string, Column>;

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
  generation: ACR_GENERATION,
  // The id is the project; `Voluntary Status` is ACR's own column (the status of every voluntary
  // project, and what tells this report from CAR's and ART's project reports).
  columns: {
    'Project ID': { required: true },
    'Compliance Program ID (ARB or Ecology)': {},
    'Project Developer': {},
    'Project Name': {},
    'Project Methodology/Protocol': {},
    'Current Crediting Period Start Date': {},
    'Current Crediting Period End Date': {},
    'Voluntary Status': { required: true },
    'Compliance Program Status (ARB or Ecology)': {},
    'Project Site State': {},
    'Project Site Country': {},
    'Sustainable Development Goal(s)': {},
    'Total Number of Credits Registered': { aliases: { 'Total Number of Offset Credits Registered': OFFSET_CREDIT_NAMES } },
  },
  distinguishedBy: ACR_PROJECT_ID,
  map(row, locator): Mapped {
    const r = rowReader(row, locator);
    const projectId = r.required('Project ID', r.text('Project ID'));
    const name = r.text('Project Name');
    const status = acrProjectStatus(r.text('Voluntary Status'), r.text('Compliance Program Status (ARB or Ecology)'));
    const record: ProjectRecord | undefined = projectId ? {
      type: 'project',
      registry: 'american-carbon-registry',
      registryProjectId: projectId,
      ...(name ? { name } : { name: projectId, nameIsIdentifier: true }),
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
export function acrProjectOfRow(r: RowReader, projectId: string, eligibility: readonly string[]): ProjectRecord {
  const name = r.text('Project Name');
  return {
    type: 'project',
    registry: 'american-carbon-registry',
    registryProjectId: projectId,
    ...(name ? { name } : { name: projectId, nameIsIdentifier: true }),
    proponent: r.text('Project Developer'),
    country: r.text('Project Site Country'),
    region: r.text('Project Site State'),
    methodology: r.text('Project Methodology/Protocol'),
    eligibility: eligibility.filter((code) => code === 'arb-eligible' || code === 'wa-ecology-eligible'),
    coBenefits: apxSustainableDevelopmentGoals(r.text('Sustainable Development Goal(s)')),
  };
}
