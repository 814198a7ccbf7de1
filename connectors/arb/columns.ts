import type { BlockRecord, OtherProgramRecord } from '../../schema/canonical.ts';
import type { z } from 'zod';

// What the columns of CARB's issuance table mean, kept as data (reference/registries.md §3.6;
// carbonplan/offsets-db-data `offsets_db_data/arb.py`; the California Cap-and-Trade Regulation,
// 17 CCR §95800 ff.). The table has one row per reporting period of a project; each figure is a running
// total for the issuance on that row, restated in every edition of the table.

export const ARB = 'arb';

/** `CAOD1007`, `CAFR5003`, `CALS5014`, `CAMM1009`: `CA`, the protocol's letters, a number. */
export const ARB_PROJECT_ID = /^CA[A-Z]{2,3}\d+$/;

/**
 * `Project Type` → the protocol's title as protocols.json spells it (Urban Forest and Rice in
 * protocols-extra.json), so the taxonomy classifies the project. An unknown type is passed as written
 * and recorded as unmatched.
 */
const PROTOCOL_OF_PROJECT_TYPE: Record<string, string> = {
  forest: 'ARB Compliance Offset Protocol: U.S. Forest Projects',
  livestock: 'ARB Compliance Offset Protocol: Capturing and Destroying Methane from Manure Management Systems',
  mmc: 'ARB Compliance Offset Protocol: Mine Methane Capture Projects',
  ods: 'ARB Compliance Offset Protocol: Destruction of U.S. Ozone Depleting Substances Banks',
  'urban forest': 'ARB Compliance Offset Protocol: Urban Forest Projects',
  rice: 'ARB Compliance Offset Protocol: Rice Cultivation Projects',
};

export function protocolOfProjectType(projectType: string | undefined): string | undefined {
  if (!projectType) return undefined;
  return PROTOCOL_OF_PROJECT_TYPE[projectType.trim().toLowerCase()] ?? projectType;
}

/**
 * The California compliance periods (17 CCR §95840): 2013–2014, 2015–2017, then three years each.
 * The table names the period a credit was surrendered for, never the day.
 */
export function californiaCompliancePeriod(n: number): string {
  if (n === 1) return '2013–2014';
  const start = 2015 + (n - 2) * 3;
  return `${start}–${start + 2}`;
}

/** A quantity column whose credits left the issuance's supply: how the ledger records it. */
export type Disposal = {
  column: string;
  /** The part of the block key after the CARB Issuance ID (`CAOD1007-A/retired-ca-cp4`). */
  key: string;
  status: Extract<BlockRecord['status'], 'retired' | 'cancelled'>;
  purpose?: BlockRecord['retirementPurpose'];
  details: string;
};

const FIXED_DISPOSALS: readonly Disposal[] = [
  { column: 'Retired Voluntarily', key: 'retired-voluntarily', status: 'retired', purpose: 'voluntary', details: 'retired voluntarily, not surrendered for a compliance obligation' },
  { column: 'Retired for Compliance in Quebec', key: 'retired-quebec', status: 'retired', purpose: 'compliance', details: 'surrendered for compliance in Québec\'s cap-and-trade system (linked with California\'s)' },
  // An intentional reversal (the `Intentional Reversal` column, negative, on a row that issues nothing)
  // must be made good by the operator, who retires credits of later issuances (CAFR5012: 9,423 + 8,850
  // + 8,877 = the 27,150 reversed).
  { column: 'Retired for Intentional Reversal', key: 'retired-intentional-reversal', status: 'retired', purpose: 'other', details: 'retired to replace credits lost in an intentional reversal' },
  // Forest issuances put part of their credits into CARB's Forest Buffer Account; this is how many of
  // this issuance's buffer credits CARB retired to cover unintentional reversals (the `Comment` says which).
  { column: 'Buffer Pool Retired', key: 'buffer-retired', status: 'retired', purpose: 'other', details: 'buffer credits retired by CARB from the Forest Buffer Account to cover unintentional reversals' },
  { column: 'Invalidated or Canceled', key: 'invalidated', status: 'cancelled', details: 'invalidated or canceled by CARB' },
];

/** `Retired 1st Compliance Period (CA)` … `Retired 5th …`, and any later period the table adds. */
const CA_COMPLIANCE_COLUMN = /^Retired (\d+)(?:st|nd|rd|th) Compliance Period \(CA\)$/;

/** The disposal columns the table has today, by name (the column map lists them). */
export const DISPOSAL_COLUMNS: readonly string[] = [
  'Retired Voluntarily',
  ...['1st', '2nd', '3rd', '4th', '5th'].map((n) => `Retired ${n} Compliance Period (CA)`),
  ...FIXED_DISPOSALS.filter((d) => d.column !== 'Retired Voluntarily').map((d) => d.column),
];

/** The disposal columns a header row has, in the table's order. */
export function disposalColumns(headers: readonly string[]): Disposal[] {
  const found: Disposal[] = [];
  for (const column of headers) {
    const fixed = FIXED_DISPOSALS.find((d) => d.column === column);
    if (fixed) {
      found.push(fixed);
      continue;
    }
    const period = CA_COMPLIANCE_COLUMN.exec(column);
    if (period) {
      const n = Number(period[1]);
      found.push({
        column,
        key: `retired-ca-cp${n}`,
        status: 'retired',
        purpose: 'compliance',
        details: `surrendered for California cap-and-trade compliance period ${n} (${californiaCompliancePeriod(n)})`,
      });
    }
  }
  return found;
}

type OtherProgram = z.input<typeof OtherProgramRecord>;

/**
 * The Offset Project Registry a project's credits came from, by the prefix of its `OPR Project ID`:
 * ACR and CAR ids carry theirs; Verra's are bare numbers in the table (OffsetsDB prefixes them `VCS`).
 * The programme name is one `jobs/integrity/project-links.ts` resolves to a registry.
 */
export function oprProgram(oprId: string, field: string): OtherProgram {
  const id = oprId.replace(/\s+/g, '').toUpperCase();
  const base = { relation: 'converted-from' as const, field };
  if (/^ACR\d+$/.test(id)) return { ...base, program: 'American Carbon Registry', projectId: id };
  if (/^CAR\d+$/.test(id)) return { ...base, program: 'Climate Action Reserve', projectId: id };
  if (/^(VCS)?\d+$/.test(id)) return { ...base, program: 'Verra', projectId: id.replace(/^VCS/, '') };
  return { ...base, projectId: oprId.trim() };
}

/** A second OPR id named in the `Comment` ("…the OPR ID# is ACR258."), where a later verification was listed elsewhere. */
export function oprIdsInComment(comment: string | undefined): string[] {
  if (!comment) return [];
  return [...comment.matchAll(/\bOPR ID\s*#?\s*(?:is\s+)?((?:ACR|CAR|VCS)\s?\d+)/gi)].map((m) => m[1]!.replace(/\s+/g, '').toUpperCase());
}
