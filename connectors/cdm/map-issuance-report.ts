import type { FileFormat, Mapped } from '../types.ts';
import { rowReader } from '../runtime/row.ts';
import { isCountryCode } from '../runtime/serial.ts';
import { CDM_CREDIT_TYPES, cdmProjectId, isTrailingRow, parseReference, reportDate, reportedProject } from './ids.ts';
import { parseCdmReportRange } from './serial.ts';
import { totalRow } from './total-rows.ts';

// The UNFCCC CDM Registry issuance report (sheet `CDM_Registry_Issuance_Report`): one row per completed
// issuance transaction, with the serial range it issued. Quirks (README.md):
// - the range is bare (`2211 - 9514`): the serial numbers of the issuing Party's Kyoto numbering, which
//   runs on across unit types (a Party's CERs, tCERs and lCERs never share a number), so the row's
//   `PARTY CODE` and `Unit Type` place it in `cdm:<party>:<unit type code>`, the number space of the
//   full Kyoto serials other registries write (Gold Standard's CER rows);
// - `CP` and `Project number` are text (`"1"`, `"7014"`), `Completion date` a timestamp with
//   milliseconds, which the streaming reader hands over as an Excel serial number (the workbook stores
//   its styles after its sheet, so the cell's date format is not known when the row is read); issuances the registry completed before it opened to the ITL (2007-11-09) carry that
//   day's date, not the Executive Board's decision date;
// - the last row is `Total` with an Excel formula: read as the report's stated total (total-rows.ts);
// - the report lists issuances as issued, never their state now: a row is an issuance with its serial
//   range, not a held block (what is still held is the issuance less the cancelled blocks).

/** Stable key of an issuance: commitment period, unit type and serial range (unique per Party). */
export const cdmIssuanceKey = (cp: string, unit: string, start: number, end: number) => `CP${cp} ${unit} ${start}-${end}`;

export const issuanceReport: FileFormat = {
  id: 'cdm-issuance-report',
  registry: 'cdm',
  stream: 'issuances',
  description: 'UNFCCC CDM Registry issuance report (Completion date, Transaction type, Status, SERIAL RANGE, Unit Type, CP, PARTY CODE, Project number, Total)',
  generation: 'CDM Registry issuance report (April 2025)',
  // Every column is needed: the transaction type and status say whether the row issued anything, the
  // unit type and commitment period place the range and key the issuance.
  columns: {
    'Completion date': { required: true },
    'Transaction type': { required: true },
    Status: { required: true },
    'SERIAL RANGE': { required: true },
    'Unit Type': { required: true },
    CP: { required: true },
    'PARTY CODE': { required: true },
    'Project number': { required: true },
    Total: { required: true },
  },
  map(row, locator): Mapped {
    const total = totalRow(row, 'Completion date', 'Total', 'issued', 'Total row of the CDM Registry issuance report');
    if (total) return total;
    if (isTrailingRow(row, 'Completion date')) return { records: [], errors: [] };
    const r = rowReader(row, locator);
    const issuedOn = r.required('Completion date', reportDate(r, row, 'Completion date'));
    const type = r.required('Transaction type', r.text('Transaction type'));
    if (type !== undefined && !/^issuance\b/i.test(type)) r.fail('Transaction type', 'not-an-issuance', `"${type}" is not an issuance (Issuance (1))`);
    const status = r.required('Status', r.text('Status'));
    // Only a completed transaction issued anything.
    if (status !== undefined && !/\bcompleted$/i.test(status)) r.fail('Status', 'not-completed', `"${status}" is not a completed transaction (4 - Completed)`);
    const unit = r.required('Unit Type', r.text('Unit Type'));
    if (unit !== undefined && !CDM_CREDIT_TYPES[unit]) r.fail('Unit Type', 'unknown-unit-type', `"${unit}" is not a unit the CDM issues (CER, tCER, lCER)`);
    const cp = r.required('CP', r.text('CP'))?.replace(/\.0+$/, '');
    if (cp !== undefined && !/^[12]$/.test(cp)) r.fail('CP', 'unknown-commitment-period', `"${cp}" is not a Kyoto commitment period (1 or 2)`);
    const party = r.required('PARTY CODE', r.text('PARTY CODE'));
    if (party !== undefined && !isCountryCode(party)) r.fail('PARTY CODE', 'bad-party', `"${party}" is not a two-letter country code`);
    const rawRef = r.required('Project number', r.text('Project number'));
    const ref = parseReference(rawRef);
    if (rawRef !== undefined && ref === undefined) r.fail('Project number', 'bad-project-number', `"${rawRef}" is not a CDM reference number`);
    const quantity = r.quantity('Total');
    const serial = party && unit && CDM_CREDIT_TYPES[unit] && isCountryCode(party)
      ? r.serial('SERIAL RANGE', (raw) => parseCdmReportRange(raw, party, unit), quantity)
      : undefined;
    if (r.errors.length > 0 || !issuedOn || !unit || !cp || !party || !ref || !quantity || !serial) return { records: [], errors: r.errors };
    return {
      records: [
        reportedProject(party, ref),
        {
          type: 'issuance',
          registry: 'cdm',
          registryProjectId: cdmProjectId(party, ref),
          issuanceKey: cdmIssuanceKey(cp, unit, serial.start, serial.end),
          issuedOn,
          quantity,
          creditType: CDM_CREDIT_TYPES[unit],
          serial: { numberSpace: serial.numberSpace, start: serial.start, end: serial.end, raw: serial.raw },
        },
      ],
      errors: [],
    };
  },
};
