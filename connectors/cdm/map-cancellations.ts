import type { BlockRecord } from '../../schema/canonical.ts';
import type { FileFormat, Mapped } from '../types.ts';
import { rowReader } from '../runtime/row.ts';
import { totalRow } from './total-rows.ts';
import { CDM_CREDIT_TYPES, cdmProjectId, isTrailingRow, parseProjectIdentifier, reportDate, reportedProject } from './ids.ts';
import { parseCdmReportRange } from './serial.ts';

// The CDM registry's two cancellation reports, each a workbook with a title row above the header and
// a total row (and, for administrative cancellations, a footnote) below the data (README.md):
// - voluntary cancellations (`CDM_Registry_VC_<date>_pub.xlsx`): CERs, tCERs and lCERs cancelled in the
//   voluntary cancellation account, directly or through the UN Carbon Offset Platform (`VCP` Yes). This
//   is how the CDM registry takes units out of circulation for a claim, and how CERs are cancelled before
//   another programme credits the same tonnes (the netting rule 4 looks for). They are stored as the
//   registry names them, `cancelled` (transaction `Cancellation (4)`), purpose voluntary, reason
//   "Voluntary cancellation". CAD Trust's mapping of the same registry lists these very ranges as
//   `Retired` units (README.md, "CAD Trust");
// - administrative cancellations (`Admincancellations_<date>.xlsx`): units issued in error (a
//   withdrawn request, tCERs issued instead of lCERs, CP1/CP2 split wrong), cancelled by the
//   secretariat and usually re-issued: `cancelled`, the reason as written ("See above" points at the
//   row before it, and is kept as written).
// Both name the project as `BR-2569` (Party and CDM reference) and give a bare range in that Party's
// numbering. Each range lies inside one issued range of its project (all 26,585 rows of the 2023
// reports against the April 2025 issuance report): a cancelled block is carved out of its issuance,
// which keeps its whole range, as Gold Standard's retired blocks are out of theirs.

/** The block key of a cancelled range: its project and bounds, as CAD Trust's CDM blocks are keyed. */
export const cdmBlockKey = (projectId: string, start: number, end: number) => `${projectId}:${start}-${end}`;

type Columns = { date: string; type: string; status: string; serial: string; project: string; unit: string; quantity: string };

function readCancellation(row: Record<string, string>, locator: string, c: Columns) {
  const r = rowReader(row, locator);
  const statusDate = r.required(c.date, reportDate(r, row, c.date));
  const type = r.required(c.type, r.text(c.type));
  if (type !== undefined && !/^cancellation\b/i.test(type)) r.fail(c.type, 'not-a-cancellation', `"${type}" is not a cancellation (Cancellation (4))`);
  const status = r.required(c.status, r.text(c.status));
  if (status !== undefined && !/\bcompleted$/i.test(status)) r.fail(c.status, 'not-completed', `"${status}" is not a completed transaction (4 - Completed)`);
  const identifier = r.required(c.project, r.text(c.project));
  const project = parseProjectIdentifier(identifier);
  if (identifier !== undefined && !project) r.fail(c.project, 'bad-project-identifier', `"${identifier}" is not a CDM project identifier (Party code and reference number, e.g. BR-2569)`);
  const unit = r.required(c.unit, r.text(c.unit));
  if (unit !== undefined && !CDM_CREDIT_TYPES[unit]) r.fail(c.unit, 'unknown-unit-type', `"${unit}" is not a unit the CDM issues (CER, tCER, lCER)`);
  const quantity = r.quantity(c.quantity);
  const serial = project && unit && CDM_CREDIT_TYPES[unit] ? r.serial(c.serial, (raw) => parseCdmReportRange(raw, project.party, unit), quantity) : undefined;
  if (r.errors.length > 0 || !statusDate || !project || !unit || !quantity || !serial) return { r, ok: false as const };
  const id = cdmProjectId(project.party, project.ref);
  const block = {
    type: 'block' as const,
    registry: 'cdm',
    registryProjectId: id,
    blockKey: cdmBlockKey(id, serial.start, serial.end),
    serial: { numberSpace: serial.numberSpace, start: serial.start, end: serial.end, raw: serial.raw },
    quantity,
    creditType: CDM_CREDIT_TYPES[unit],
    statusDate,
    eligibility: [],
  };
  return { r, ok: true as const, project: reportedProject(project.party, project.ref), block };
}

export const voluntaryCancellations: FileFormat = {
  id: 'cdm-voluntary-cancellations',
  registry: 'cdm',
  stream: 'voluntary-cancellations',
  description: 'UNFCCC CDM Registry voluntary cancellations (Completion Date, Transaction Type, Serial Range, Project Identifier, Status, CP (Commitment Period), Unit, Total, VCP)',
  generation: 'CDM Registry voluntary cancellations (as at 31 August 2023)',
  columns: {
    'Completion Date': { required: true },
    'Transaction Type': { required: true },
    Status: { required: true },
    'Serial Range': { required: true },
    'Project Identifier': { required: true },
    Unit: { required: true },
    Total: { required: true },
    'CP (Commitment Period)': {},
    'VCP (From Voluntary Cancellation Platform)': {},
  },
  map(row, locator): Mapped {
    const total = totalRow(row, 'Completion Date', 'Total', 'cancelled', 'Total row of the CDM Registry voluntary cancellations report');
    if (total) return total;
    if (isTrailingRow(row, 'Completion Date')) return { records: [], errors: [] };
    const read = readCancellation(row, locator, {
      date: 'Completion Date', type: 'Transaction Type', status: 'Status', serial: 'Serial Range', project: 'Project Identifier', unit: 'Unit', quantity: 'Total',
    });
    const cp = read.r.text('CP (Commitment Period)')?.replace(/\.0+$/, '');
    if (cp !== undefined && !/^[12]$/.test(cp)) read.r.fail('CP (Commitment Period)', 'unknown-commitment-period', `"${cp}" is not a Kyoto commitment period (1 or 2)`);
    const viaPlatform = read.r.boolean('VCP (From Voluntary Cancellation Platform)');
    if (!read.ok || read.r.errors.length > 0) return { records: [], errors: read.r.errors };
    const block: BlockRecord = {
      ...read.block,
      status: 'cancelled',
      retirementReason: 'Voluntary cancellation',
      retirementPurpose: 'voluntary',
      retirementDetails: viaPlatform ? 'Cancelled through the UN Carbon Offset Platform' : undefined,
    };
    return { records: [read.project, block], errors: [] };
  },
};

export const administrativeCancellations: FileFormat = {
  id: 'cdm-administrative-cancellations',
  registry: 'cdm',
  stream: 'administrative-cancellations',
  description: 'UNFCCC CDM Registry administrative cancellations (COMPLETION DATE, TRANSACTION TYPE, STATUS, TRANSACTION TOTAL, SERIAL RANGE, PROJECT IDENTIFIER, Unit Type, UNIT BLOCK TOTAL, REASON FOR CANCELLATION)',
  generation: 'CDM Registry administrative cancellations (as at 31 August 2023)',
  columns: {
    'COMPLETION DATE': { required: true },
    'TRANSACTION TYPE': { required: true },
    STATUS: { required: true },
    'SERIAL RANGE': { required: true },
    'PROJECT IDENTIFIER': { required: true },
    'Unit Type': { required: true },
    'UNIT BLOCK TOTAL': { required: true },
    'TRANSACTION TOTAL': {},
    'REASON FOR CANCELLATION': {},
  },
  map(row, locator): Mapped {
    const total = totalRow(row, 'COMPLETION DATE', 'UNIT BLOCK TOTAL', 'cancelled', 'TOTAL row of the CDM Registry administrative cancellations report');
    if (total) return total;
    if (isTrailingRow(row, 'COMPLETION DATE')) return { records: [], errors: [] };
    const read = readCancellation(row, locator, {
      date: 'COMPLETION DATE', type: 'TRANSACTION TYPE', status: 'STATUS', serial: 'SERIAL RANGE', project: 'PROJECT IDENTIFIER', unit: 'Unit Type', quantity: 'UNIT BLOCK TOTAL',
    });
    // A transaction can cancel several blocks; it is never smaller than the block on its row.
    const transaction = read.r.number('TRANSACTION TOTAL');
    if (read.ok && transaction !== undefined && transaction < read.block.quantity) {
      read.r.fail('TRANSACTION TOTAL', 'transaction-smaller-than-block', `${transaction} is less than the block's ${read.block.quantity} units`);
    }
    if (!read.ok || read.r.errors.length > 0) return { records: [], errors: read.r.errors };
    const block: BlockRecord = {
      ...read.block,
      status: 'cancelled',
      retirementReason: 'Administrative cancellation (units issued in error)',
      retirementDetails: read.r.text('REASON FOR CANCELLATION'),
    };
    return { records: [read.project, block], errors: [] };
  },
};
