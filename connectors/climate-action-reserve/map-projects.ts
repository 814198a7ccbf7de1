import type { ProjectRecord } from '../../schema/canonical.ts';
import type { Column, FileFormat, Mapped } from '../types.ts';
import { rowReader } from '../runtime/row.ts';
import { apxEligibility } from '../runtime/apx.ts';

// CAR's project report (thereserve2.apx.com, report r=111, reference/registries.md §3.2,
// offsetsdb.md §2.4): one row per project. Quirks:
// - `Project Type` ("Landfill Gas Capture/Combustion", "Forestry - MX") is CAR's project category,
//   not a protocol: the protocol and its version (`Protocol and Version`) are only in the issuance,
//   retirement and cancellation reports, so projects seen only here carry no methodology;
// - the header `Total Number of Offset Credits Registered ` ends in a space (normalized away). The
//   canonical project has no field for it: it stays in the raw record;
// - `ARB ID` / `Compliance Program ID` / `WA ECO` (CARB and Washington Ecology ids) and the compliance
//   programme statuses have no canonical field either and stay raw;
// - dates are month-first `04/05/2024`; `Project Registered Date` is empty for listed projects;
// - a project without a name keeps its row, named by its id (`CAR1335`) and marked so; so does the
//   project an issuance, retirement or cancellation row describes.

export const CAR = 'climate-action-reserve';

/** What the reports' current column names are called (README, "Export generations"). */
export const CAR_GENERATION = 'APX 2026';

/** ACR's names for the columns of the shared APX layout, which CAR's reports may use too. */
export const ACR_NAMES = 'APX, ACR names';

/**
 * ACR's and CAR's APX reports share one layout, and the names of one may be the other's: a file whose
 * columns fit both is CAR's when its first project id is (`CAR1335`).
 */
export const CAR_PROJECT_ID = { column: 'Project ID', pattern: /^CAR/i };

/** The project columns the transaction reports repeat, read by `projectFromReport`; optional. */
export const CAR_PROJECT_COLUMNS = {
  'Project Name': {},
  'Project Developer': {},
  'Project Owner': {},
  'Project Site Country': {},
  'Project Site State': {},
  'Protocol and Version': {},
} as const satisfies Record<string, Column>;

/**
 * The yes/no eligibility columns `readEligibility` reads (`apxEligibility`, runtime/apx.ts): CAR's
 * names, and the other APX registries' it reads too; optional. The download of August 2026 names the
 * CCP column `ICVCM CCP Eligible`, the reports of April 2026 `CCP Approved`.
 */
export const CAR_ELIGIBILITY_COLUMNS = {
  'ARB Eligible': {},
  'WA ECO Eligible': {},
  'Ecology Eligible': {},
  'Eligible for CORSIA 2021-2023 Compliance Period': {},
  'Eligible for CORSIA 2021-2023 Compliance Period (Pilot Phase)': {},
  'Eligible for CORSIA 2024-2026 Compliance Period': {},
  'Eligible for CORSIA 2024-2026 Compliance Period (First Phase)': {},
  'ICVCM CCP Eligible': { aliases: { 'CCP Approved': 'APX to April 2026, CCP Approved' } },
} as const satisfies Record<string, Column>;

/** A row's project name, or its id where the row names none (the project is kept, marked). */
export function projectName(r: Reader, projectId: string): Pick<ProjectRecord, 'name' | 'nameIsIdentifier'> {
  const name = r.text('Project Name');
  return name ? { name } : { name: projectId, nameIsIdentifier: true };
}

/** CAR's public project page: `id1` is the number in the Project ID (`CAR1335` → 1335). */
export function carProjectUrl(projectId: string): string {
  return `https://thereserve2.apx.com/mymodule/reg/prjView.asp?id1=${Number(projectId.slice(3))}`;
}

/** The Project ID column writes `CAR<n>` for voluntary and compliance (ROC) projects alike. */
export function isCarProjectId(value: string): boolean {
  return /^CAR\d+$/.test(value);
}

/** CAR's project statuses → CAD Trust project status (the names are CAD Trust's own). Anything else is `unknown`, raw kept. */
export function carProjectStatus(raw: string | undefined): ProjectRecord['status'] {
  const s = raw?.trim().toLowerCase() ?? '';
  if (s === '') return undefined;
  if (s === 'listed') return 'listed';
  if (s === 'registered') return 'registered';
  if (s === 'completed') return 'completed';
  // Transitioned: moved to CARB's compliance programme (OffsetsDB calls it unknown; CAD Trust has the status).
  if (s === 'transitioned') return 'transitioned';
  if (s === 'withdrawn') return 'withdrawn';
  if (s === 'de-registered' || s === 'deregistered') return 'deregistered';
  return 'unknown';
}

type Reader = ReturnType<typeof rowReader>;

/**
 * The Project ID of a report row, checked: every CAR report writes it as `CAR<n>`, and the project page
 * URL is built from the number.
 */
export function readProjectId(r: Reader): string | undefined {
  const projectId = r.required('Project ID', r.text('Project ID'));
  if (projectId && !isCarProjectId(projectId)) {
    r.fail('Project ID', 'bad-project-id', `"${projectId}" is not a CAR project id (expected CAR followed by digits, e.g. CAR1335)`);
    return undefined;
  }
  return projectId;
}

/**
 * The project as the issuance, retirement and cancellation reports describe it. These reports carry the
 * protocol and its version, which becomes the methodology; the project report does not (see above).
 * The project merge keeps what a fuller source said when a field here is empty.
 */
export function projectFromReport(r: Reader, projectId: string, eligibility: string[] = []): ProjectRecord {
  return {
    type: 'project',
    registry: CAR,
    registryProjectId: projectId,
    ...projectName(r, projectId),
    // CAR's Project Developer is the party that lists the project and reports on it, the role Verra
    // calls the proponent; OffsetsDB uses Project Owner instead. The owner stands in when no developer
    // is named. Of the transaction reports only the issuance report has these columns.
    proponent: r.text('Project Developer') ?? r.text('Project Owner'),
    country: r.text('Project Site Country'),
    region: r.text('Project Site State'),
    methodology: r.text('Protocol and Version'),
    eligibility,
    coBenefits: [],
    registryUrl: carProjectUrl(projectId),
  };
}

/** The eligibility codes whose column says Yes: the APX columns every report of this family shares. */
export const readEligibility = (r: Reader): string[] => apxEligibility(r);

/**
 * `Corresponding Adjustment`: "No" on every row of every sample (issuances, retirements). "Yes" is read
 * as a declared commitment to a corresponding adjustment; "No" says nothing more than that none is
 * declared, so it leaves the fields empty. Any other text (a letter of authorization, a country) is
 * kept as the block's Article 6 authorization rather than guessed into a declaration.
 */
export function readCorrespondingAdjustment(r: Reader): { caDeclaration?: 'committed'; article6Authorization?: string } {
  const value = r.text('Corresponding Adjustment');
  if (value === undefined || /^no$/i.test(value)) return {};
  if (/^yes$/i.test(value)) return { caDeclaration: 'committed' };
  return { article6Authorization: value };
}

export const projects: FileFormat = {
  id: 'climate-action-reserve-projects',
  registry: CAR,
  stream: 'projects',
  description: 'Climate Action Reserve project report (Project ID, ARB ID, Status, Total Number of Offset Credits Registered, …)',
  generation: CAR_GENERATION,
  // The id is the project, `Status` what it is.
  columns: {
    'Project ID': { required: true },
    'Project Developer': {},
    'Project Owner': {},
    'Project Name': {},
    Status: { required: true },
    'Project Site State': {},
    'Project Site Country': {},
    'Project Registered Date': {},
  },
  distinguishedBy: CAR_PROJECT_ID,
  dayFirst: false,
  map(row, locator): Mapped {
    const r = rowReader(row, locator);
    const projectId = readProjectId(r);
    const status = r.text('Status');
    const registeredOn = r.date('Project Registered Date');
    if (r.errors.length > 0 || !projectId) return { records: [], errors: r.errors };
    const record: ProjectRecord = {
      type: 'project',
      registry: CAR,
      registryProjectId: projectId,
      ...projectName(r, projectId),
      proponent: r.text('Project Developer') ?? r.text('Project Owner'),
      country: r.text('Project Site Country'),
      region: r.text('Project Site State'),
      status: carProjectStatus(status),
      statusRaw: status,
      registeredOn,
      eligibility: [],
      coBenefits: [],
      registryUrl: carProjectUrl(projectId),
    };
    return { records: [record], errors: [] };
  },
};
