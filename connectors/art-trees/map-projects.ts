import type { ProjectRecord } from '../../schema/canonical.ts';
import type { FileFormat, Mapped } from '../types.ts';
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
// - no registry URL: art.apx.com is gone and GreenTrace's pages are keyed by an id the report lacks.

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
export function artProgramOfRow(r: RowReader, programId: string): ProjectRecord | undefined {
  const name = r.required('Program Name', r.text('Program Name'));
  if (!name) return undefined;
  return {
    type: 'project',
    registry: 'art-trees',
    registryProjectId: programId,
    name,
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
  requiredHeaders: ['Program ID', 'Sovereign Program Developer', 'Program Name', 'Status', 'Initial Crediting Period Start Date', 'Program Country'],
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
