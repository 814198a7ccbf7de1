import type { IssuanceRecord } from '../../schema/canonical.ts';
import { rowReader } from '../runtime/row.ts';
import { isRecord, ValueError } from '../runtime/values.ts';
import type { FileFormat, Mapped, RowError } from '../types.ts';
import { pythonList, type PythonValue } from '../runtime/python-literal.ts';
import { serialProject } from './serial.ts';
import { eligibilityTag, REGISTRY, sdgTag, uniq } from './values.ts';

// Cercarbono's issued serials: EcoRegistry's `analytics/projects` lists them inside each project
// (`serials`), and CarbonPlan's issuance export is that list flattened, one row per serial with
// `verification, serial, issued_quantity, issuance_date, year, is_buffer, vintage_of_credits,
// global_goals, elegible` (lists as Python repr). Each serial is one issuance, keyed by the serial.
// Quirks:
// - a batch's share for the buffer is a serial of its own (`…_BF`, `…_BFC_2018`) with `is_buffer`
//   True. It is issued like the rest (the registry's issued totals, `certificatedVerification`,
//   include it), so it is an issuance whose whole quantity is `bufferQuantity`; other serials say 0;
// - `vintage_of_credits` is a period, `2010-01-01 / 2018-09-30`, and `year` the registry's vintage year
//   for the serial, which for a multi-year period is a year inside it (2015 here), not its end (which
//   OffsetsDB takes): the ledger keeps the period and the registry's year;
// - `issued_quantity` is 0 on some serials (26 of 890 in the sample: `CDC_29_7_1_327_14_CO_1_1_2011`):
//   nothing was issued, so no issuance is recorded, and the row says so in a warning;
// - `elegible` (sic) is market eligibility, ICC / CV (values.ts), and `global_goals` the SDGs: the
//   ledger has no place for them on an issuance, so they are the project's (map-projects.ts);
// - the export row names no project: the serial does (serial.ts), and the project must be in the ledger.

export type SerialFacts = { issuance?: IssuanceRecord; eligibility: string[]; coBenefits: string[] };

/** A serial entry's fields as text, whether from the export (text already) or from the API (JSON values). */
export function cellsOf(entry: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(entry).map(([k, v]) => [k, v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v)]));
}

function listCell(r: ReturnType<typeof rowReader>, row: Record<string, string>, column: string): PythonValue[] {
  try {
    return pythonList(row[column]);
  } catch (error) {
    if (!(error instanceof ValueError)) throw error;
    r.fail(column, error.code, error.message);
    return [];
  }
}

/**
 * One serial → its issuance (none when nothing was issued), eligibility tags and SDGs. `projectId` is
 * the project the serial is listed under, checked against the one the serial names; errors and
 * warnings are added to the lists given.
 */
export function mapSerial(row: Record<string, string>, locator: string, projectId: string | undefined, errors: RowError[], warnings: RowError[]): SerialFacts | undefined {
  const r = rowReader(row, locator);
  const parsed = serialProject(row.serial);
  if (!parsed.ok) r.fail('serial', 'bad-serial', parsed.error);
  else if (projectId !== undefined && parsed.projectId !== projectId) {
    r.fail('serial', 'serial-project-mismatch', `the serial names project ${parsed.projectId} but it is listed under project ${projectId}`);
  }
  const quantity = r.required('issued_quantity', r.number('issued_quantity'));
  if (quantity !== undefined && (!Number.isInteger(quantity) || quantity < 0)) r.fail('issued_quantity', 'bad-quantity', `${quantity} is not a whole, non-negative number of credits`);
  const issuedOn = r.date('issuance_date');
  const year = r.number('year');
  if (year !== undefined && !(Number.isInteger(year) && year >= 1990 && year <= 2100)) r.fail('year', 'bad-vintage', `${year} is not a year`);
  const isBuffer = r.boolean('is_buffer');
  let vintageStart: string | undefined;
  let vintageEnd: string | undefined;
  const period = r.text('vintage_of_credits');
  if (period) {
    const m = /^(\d{4}-\d{2}-\d{2})\s*\/\s*(\d{4}-\d{2}-\d{2})$/.exec(period);
    if (!m) r.fail('vintage_of_credits', 'bad-period', `"${period}" is not a period written "YYYY-MM-DD / YYYY-MM-DD"`);
    else if (m[2]! < m[1]!) r.fail('vintage_of_credits', 'bad-period', `"${period}" ends before it starts`);
    else [vintageStart, vintageEnd] = [m[1], m[2]];
  }
  const eligibility = uniq(listCell(r, row, 'elegible').map(eligibilityTag));
  const coBenefits = uniq(listCell(r, row, 'global_goals').map(sdgTag));
  errors.push(...r.errors);
  if (r.errors.length > 0 || !parsed.ok || quantity === undefined) return undefined;
  if (quantity === 0) {
    warnings.push({ locator, field: 'issued_quantity', code: 'nothing-issued', message: `${locator}: issued_quantity: serial ${parsed.serial} issued 0 credits; no issuance recorded` });
    return { eligibility, coBenefits };
  }
  const issuance: IssuanceRecord = {
    type: 'issuance',
    registry: REGISTRY,
    registryProjectId: parsed.projectId,
    issuanceKey: parsed.serial,
    vintageStart,
    vintageEnd,
    vintageYear: year ?? (vintageEnd ? Number(vintageEnd.slice(0, 4)) : undefined),
    issuedOn,
    quantity,
    quantityFromBlocks: false,
    creditType: 'cercarbono-credit',
    bufferQuantity: isBuffer === undefined ? undefined : isBuffer ? quantity : 0,
  };
  return { issuance, eligibility, coBenefits };
}

/** The serials a project lists (the export's `serials` cell, or the API's array), each mapped. */
export function mapSerials(serials: readonly PythonValue[] | readonly unknown[], locator: string, projectId: string, errors: RowError[], warnings: RowError[]): SerialFacts[] {
  return serials.flatMap((entry, i) => {
    if (!isRecord(entry)) {
      errors.push({ locator, field: 'serials', code: 'bad-serial', message: `${locator}: serials: entry ${i + 1} is not an object` });
      return [];
    }
    const serial = typeof entry.serial === 'string' ? entry.serial : `entry ${i + 1}`;
    const facts = mapSerial(cellsOf(entry), `${locator} serial ${serial}`, projectId, errors, warnings);
    return facts ? [facts] : [];
  });
}

export const cercarbonoIssuances: FileFormat = {
  id: 'cercarbono-issuances',
  registry: REGISTRY,
  stream: 'issuances',
  description: 'Cercarbono issued serials, EcoRegistry records flattened (verification, serial, issued_quantity, issuance_date, year, is_buffer, vintage_of_credits, elegible, …)',
  generation: 'OffsetsDB flattening of EcoRegistry\'s serials (2026)',
  // `verification` is not read: the serial is the issuance.
  columns: {
    serial: { required: true },
    issued_quantity: { required: true },
    issuance_date: {},
    year: {},
    is_buffer: {},
    vintage_of_credits: {},
    elegible: {},
    global_goals: {},
  },
  map(row, locator): Mapped {
    const errors: RowError[] = [];
    const warnings: RowError[] = [];
    const facts = mapSerial(row, locator, undefined, errors, warnings);
    if (errors.length > 0 || !facts) return { records: [], errors, warnings };
    return { records: facts.issuance ? [facts.issuance] : [], errors: [], warnings };
  },
};
