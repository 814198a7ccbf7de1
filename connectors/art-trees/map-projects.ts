import type { ProjectRecord } from '../../schema/canonical.ts';
import type { Column, FileFormat, Mapped } from '../types.ts';
import { rowReader } from '../runtime/row.ts';
import type { RowReader } from '../runtime/apx.ts';

// ART TREES' program report (old art.apx.com report r=111, now GreenTrace `ART_REGISTRY`;
// reference/registries.md §3.3, offsetsdb.md §2.5). ART calls its projects "programs": jurisdictional
// REDD+ programmes whose developer is a government agency. Quirks:
// - `Program  Country` has two spaces (normalized to `Program Country`) and writes the country's name
//   in capitals (`GUYANA`, `CONGO, THE DEMOCRATIC REPUBLIC OF THE`); the taxonomy resolves it;
// - `Crediting Program and Standard` is the methodology as written: `ART - The REDD+ Environmental
//   Excellence Standard (TREES)`, or `FCPF - Carbon Fund Methodological Framework` for the World Bank
//   FCPF programmes ART hosts (OffsetsDB forces both to `art-trees`; Tally passes the string on);
// - `Program Jurisdiction(s)` is the sub-national area, cut at 50 characters in the report;
// - no registry URL: art.apx.com is gone and GreenTrace's pages are keyed by an id the report lacks;
// - a program without a name keeps its row, named by its id (`ART102`) and marked so; so does the
//   program an issuance, retirement or cancellation row describes.

/** What the reports' current column names are called (README, "Export generations"). */
export const ART_GENERATION = 'APX 2026';

/**
 * The APX reports of ART, ACR and CAR share one layout: a file whose columns fit two of them equally
 * is ART's when its first program id is (`ART102`).
 */
export const ART_PROGRAM_ID = { column: 'Program ID', pattern: /^ART/i };

/** The program columns every transaction report repeats (read by `artProgramOfRow`); optional. */
export const ART_PROGRAM_COLUMNS = {
  'Program Name': {},
  'Sovereign Program Developer': {},
  // Written `Program  Country` (two spaces): the same name, spaces not counting.
  'Program Country': {},
  'Program Jurisdiction(s)': {},
  'Crediting Program and Standard': {},
} as const satisfies Record<string, Column>;

/** ART's program statuses → CAD Trust project status (the sample has Listed and Registered). */
export function artProgramStatus(raw: string | undefined): ProjectRecord['status'] {
  const s = raw?.trim().toLowerCase() ?? '';
  if (s === '') return undefined;
  if (s === 'listed' || s === 'submitted') return 'listed';
  if (s === 'registered') return 'registered';
  if (s === 'completed' || s === 'inactive') return 'completed';
  if (s === 'withdrawn' || s === 'canceled' || s === 'cancelled') return 'withdrawn';
  return 'unknown';
}

/**
 * The program as an issuance, retirement or cancellation row describes it, so a transaction whose
 * program is not yet in the ledger still has one (sparse; projects merge with `coalesce`).
 */
export function artProgramOfRow(r: RowReader, programId: string): ProjectRecord {
  const name = r.text('Program Name');
  return {
    type: 'project',
    registry: 'art-trees',
    registryProjectId: programId,
    ...(name ? { name } : { name: programId, nameIsIdentifier: true }),
    proponent: r.text('Sovereign Program Developer'),
    country: r.text('Program Country'),
    region: r.text('Program Jurisdiction(s)'),
    methodology: r.text('Crediting Program and Standard'),
    eligibility: [],
    coBenefits: [],
  };
}

export const artPrograms: FileFormat = {
  id: 'art-trees-programs',
  registry: 'art-trees',
  stream: 'projects',
  description: 'ART TREES program report (Program ID, Sovereign Program Developer, Program Name, Status, Program Country, …)',
  generation: ART_GENERATION,
  // The id is the program, the status what it is.
  columns: {
    'Program ID': { required: true },
    ...ART_PROGRAM_COLUMNS,
    Status: { required: true },
    'Initial Crediting Period Start Date': {},
  },
  distinguishedBy: ART_PROGRAM_ID,
  map(row, locator): Mapped {
    const r = rowReader(row, locator);
    const programId = r.required('Program ID', r.text('Program ID'));
    const program = programId ? artProgramOfRow(r, programId) : undefined;
    const statusRaw = r.text('Status');
    const creditingPeriodStart = r.date('Initial Crediting Period Start Date');
    if (r.errors.length > 0 || !program) return { records: [], errors: r.errors };
    return { records: [{ ...program, status: artProgramStatus(statusRaw), statusRaw, creditingPeriodStart }], errors: [] };
  },
};
