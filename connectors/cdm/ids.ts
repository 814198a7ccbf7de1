import type { ProjectRecord } from '../../schema/canonical.ts';
import type { rowReader } from '../runtime/row.ts';
import { excelSerialDate } from '../runtime/xlsx.ts';

// How Tally names a CDM project (connectors/cdm/README.md, "Project identity").
//
// The CDM registry knows a project by its host Party and its CDM reference number, and writes them
// together as the `Project Identifier` of its cancellation reports (`BR-2569`); its issuance report
// gives the same two as `PARTY CODE` and `Project number`, the UNEP-CCC pipeline as `HostParty` and
// `CDM project reference number`, and the Kyoto serial as its first and last parts
// (`RW-5-1463953-2-2-0-7014`). CER serial numbers are unique per Party, not per project, and a
// programme with several host Parties (PoA 7014: Kenya, Rwanda, Uganda) issues each Party's CERs in
// that Party's numbering: so a Tally CDM project is one Party's part of a CDM activity, `KE-7014`,
// `RW-7014`, `UG-7014`, with one host country each. The reference number alone (`7014`), as other
// programmes declare it, names every Party's part (jobs/integrity/project-links.ts).
//
// Activities the pipeline lists without a reference number (reference `0`: never registered) are
// known by the UNFCCC's 30-character project identifier, as CAD Trust's CDM data knows every project.

/** `BR-2569`: host Party (ISO 3166-1 alpha-2) and CDM reference number, leading zeros dropped. */
export const cdmProjectId = (party: string, ref: string | number): string => `${party}-${Number(ref)}`;

/** Reads a `Project Identifier` (`BR-2569`), or undefined when it is not one. */
export function parseProjectIdentifier(text: string | undefined): { party: string; ref: string } | undefined {
  const m = /^([A-Z]{2})-0*(\d+)$/.exec(text?.trim() ?? '');
  return m ? { party: m[1]!, ref: m[2]! } : undefined;
}

/** A CDM reference number as the reports write it (`7014`, pandas' `7014.0`), or undefined. */
export function parseReference(text: string | undefined): string | undefined {
  const m = /^0*(\d+)(?:\.0+)?$/.exec(text?.trim() ?? '');
  return m ? String(Number(m[1])) : undefined;
}

/**
 * The project as a registry report row describes it: its id and host Party only. The registry
 * publishes no project names; like Verra (`VCS <id>`) and Plan Vivo (`Plan Vivo <id>`) for records
 * without one, the name is the registry's own identifier, `CDM BR-2569`, until a source that names the
 * project (the pipeline's project sheet, CAD Trust) gives its title.
 */
export function reportedProject(party: string, ref: string): ProjectRecord {
  const id = cdmProjectId(party, ref);
  return { type: 'project', registry: 'cdm', registryProjectId: id, name: `CDM ${id}`, nameIsIdentifier: true, country: party, eligibility: [], coBenefits: [] };
}

/** The credit type codes of the unit types the CDM registry issues. */
export const CDM_CREDIT_TYPES: Readonly<Record<string, string>> = { CER: 'cer', tCER: 'tcer', lCER: 'lcer' };

/**
 * Whether a row of a published report is one of the lines below the data: a `Total` / `TOTAL` row
 * (a formula over the column), a footnote (`* The administrative Cancellation account is used…`), or a
 * note merged across the row. These are skipped, not errors; a data row, which starts with its
 * completion date, never is.
 */
export function isTrailingRow(row: Record<string, string>, firstColumn: string): boolean {
  const first = row[firstColumn]?.trim() ?? '';
  if (/^total\b/i.test(first) || first.startsWith('*')) return true;
  // A note merged across the row repeats its text in every cell; a data row starts with its date.
  const others = Object.entries(row).filter(([k]) => k !== firstColumn);
  return first !== '' && !/^\d{4}-\d{2}-\d{2}/.test(first) && others.every(([, v]) => v.trim() === '' || v.trim() === first);
}

/**
 * A date column of a UNFCCC report: a date, or the Excel serial number the streaming reader gives for
 * it when the workbook stores its styles after its sheet (the issuance report does; see
 * `excelSerialDate`).
 */
export function reportDate(r: ReturnType<typeof rowReader>, row: Record<string, string>, column: string): string | undefined {
  return excelSerialDate(row[column]) ?? r.date(column);
}
