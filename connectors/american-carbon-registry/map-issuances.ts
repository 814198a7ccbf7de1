import type { CanonicalInput, ProjectRecord } from '../../schema/canonical.ts';
import type { FileFormat, Mapped, RowError, SourceRow } from '../types.ts';
import { rowReader } from '../runtime/row.ts';
import { apxEligibility, apxTimestamp, readBuffer, type RowReader } from '../runtime/apx.ts';
import { ACR_GENERATION, ACR_PROJECT_COLUMNS, ACR_PROJECT_ID, acrProjectOfRow, BEFORE_GMT, OFFSET_CREDIT_NAMES } from './map-projects.ts';

// ACR's issuance report (APX report r=112; reference/registries.md §3.1, offsetsdb.md §2.3): one row
// per issuance, no serials. Quirks:
// - `Total Credits Issued` is GROSS: it equals `Credits Issued to Project` + `Credits Issued to Buffer
//   Pool` on every row (checked here; a row where it does not is reported). The ledger's `quantity` is
//   that gross figure, as for CAR, and ART's is made gross to match (connectors/art-trees);
// - forest projects pay the buffer either at issuance (`Credits Issued to Buffer Pool`) or by a
//   transfer out of the project's share (`Credits Transferred to Buffer Pool`, with the former 0); both
//   are the issuance's buffer contribution, so `bufferQuantity` is their sum and `quantity` stays gross;
// - one issuance event is two rows when part of it is labelled `Verified Removal`: same project, vintage
//   and timestamp, one row for the removals and one for the rest (12 pairs in the sample, each pair on
//   consecutive lines). GreenTrace, the registry's API, has one issuance for the two (ACR885's 2025
//   issuance: rows of 14,256 and 3,456, one GreenTrace issuance of 17,712), so the rows are folded into
//   one issuance, their quantities and buffers summed (FileFormat.group);
// - the key is what the report and GreenTrace both give: the vintage and the issue day (acrIssuanceKey).
//   `Date Issued (GMT)` is a GMT time and GreenTrace gives a day in US Eastern time (its timestamps are
//   written with New York's offset, -04:00 or -05:00), so the day is the GMT time's day in New York:
//   `10/1/2025 12:08:20 AM` is 2025-09-30. Retirement and cancellation rows carry the same `Date Issued
//   (GMT)` and `Vintage`, so their blocks link to the issuance (map-retirements.ts);
// - `ReportingPeriodBegin`/`End` are the vintage period the retirement report calls `Vintage Assignment
//   Period`; dates are month-first with a 12-hour time (`3/24/2026 9:08:01 PM`).

const NEW_YORK = new Intl.DateTimeFormat('en-US', { timeZone: 'America/New_York', year: 'numeric', month: '2-digit', day: '2-digit' });

/**
 * The day in New York of a report's GMT time (`2025-10-01T00:08:20` → `2025-09-30`), which is the day
 * GreenTrace gives the issuance. A date without a time (the oldest issuances in older reports) stays as
 * written: nothing says which hour it was.
 */
export function acrIssueDay(gmt: string): string {
  if (!gmt.includes('T')) return gmt;
  const parts = Object.fromEntries(NEW_YORK.formatToParts(new Date(`${gmt}Z`)).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day}`;
}

/**
 * The key of an ACR issuance within its project, the same in file and API mode: `<vintage>/<issue day>`
 * (`2025/2025-10-28`). The issue day is the registry's in New York (acrIssueDay).
 */
export const acrIssuanceKeyOf = (vintageYear: number, day: string) => `${vintageYear}/${day}`;

/** The key of an ACR issuance, from the columns the issuance, retirement and cancellation reports share. */
export function acrIssuanceKey(r: RowReader, vintageYear: number | undefined): string | undefined {
  const issuedAt = apxTimestamp(r, 'Date Issued (GMT)');
  if (!issuedAt || vintageYear === undefined) return undefined;
  return acrIssuanceKeyOf(vintageYear, acrIssueDay(issuedAt));
}

type IssuanceRow = {
  projectId: string;
  project: ProjectRecord;
  issuanceKey: string;
  vintageYear: number;
  issuedOn: string;
  vintageStart?: string;
  vintageEnd?: string;
  quantity: number;
  buffer: number;
};

/** One row of the report, checked. Undefined when it has errors (added to `errors`). */
function readIssuanceRow(row: SourceRow, errors: RowError[]): IssuanceRow | undefined {
  const r = rowReader(row.values, row.locator);
  const projectId = r.required('Project ID', r.text('Project ID'));
  r.required('Date Issued (GMT)', r.date('Date Issued (GMT)'));
  const vintageYear = r.required('Vintage', r.number('Vintage'));
  const vintageStart = r.date('ReportingPeriodBegin');
  const vintageEnd = r.date('ReportingPeriodEnd');
  const quantity = r.quantity('Total Credits Issued');
  const issuedToBuffer = readBuffer(r, { gross: 'Total Credits Issued', net: 'Credits Issued to Project', buffer: 'Credits Issued to Buffer Pool' }, quantity);
  const transferredToBuffer = r.number('Credits Transferred to Buffer Pool') ?? 0;
  if (transferredToBuffer < 0) r.fail('Credits Transferred to Buffer Pool', 'quantity-negative', `${transferredToBuffer} is negative`);
  const issuanceKey = acrIssuanceKey(r, vintageYear);
  const project = projectId ? acrProjectOfRow(r, projectId, apxEligibility(r)) : undefined;
  errors.push(...r.errors);
  if (r.errors.length > 0 || !projectId || vintageYear === undefined || !quantity || issuedToBuffer === undefined || !issuanceKey || !project) return undefined;
  return {
    projectId, project, issuanceKey, vintageYear, issuedOn: issuanceKey.slice(issuanceKey.indexOf('/') + 1), vintageStart, vintageEnd, quantity,
    buffer: issuedToBuffer + transferredToBuffer,
  };
}

/** `line 12` / `sheet "x" row 12` → its prefix and number, to tell whether a record follows the one before in the same file. */
function position(locator: string): { prefix: string; n: number } | undefined {
  const m = /^(.*?)(\d+)$/.exec(locator);
  return m ? { prefix: m[1]!, n: Number(m[2]) } : undefined;
}

const earliest = (values: (string | undefined)[]) => values.filter((v): v is string => v !== undefined).sort()[0];
const latest = (values: (string | undefined)[]) => values.filter((v): v is string => v !== undefined).sort().at(-1);

function issuanceReport(): FileFormat {
  // The issuances met so far in the file being read (project and key → the line their rows start on). A
  // file is read in order, so a record whose first line is not after the last one seen (or in another
  // sheet) starts a new file. An issuance's rows are consecutive in every report seen; one whose rows
  // come apart would be stored with the first run's quantity only, so the later run is refused, saying so.
  let file: { prefix: string; last: number; issuances: Map<string, number> } | undefined;

  /** The line an earlier run of this issuance's rows started on, if it had one in this file. */
  function earlierRun(rows: SourceRow[], issuance: string | undefined): number | undefined {
    const first = position(rows[0]!.locator);
    const last = position(rows.at(-1)!.locator);
    if (!first || !last) return undefined;
    if (!file || file.prefix !== first.prefix || first.n <= file.last) file = { prefix: first.prefix, last: 0, issuances: new Map() };
    file.last = last.n;
    if (!issuance) return undefined;
    const seen = file.issuances.get(issuance);
    if (seen === undefined) file.issuances.set(issuance, first.n);
    // The same lines again are the same rows (a copy of the file read alongside), not a second run.
    return seen !== undefined && seen !== first.n ? seen : undefined;
  }

  function mapRows(rows: SourceRow[]): Mapped {
    const errors: RowError[] = [];
    const read = rows.map((row) => readIssuanceRow(row, errors));
    const first = read[0];
    const apart = earlierRun(rows, first ? `${first.projectId}|${first.issuanceKey}` : undefined);
    if (errors.length > 0) return { records: [], errors };
    const parts = read as IssuanceRow[];
    const { projectId, issuanceKey, vintageYear, issuedOn } = parts[0]!;
    if (apart !== undefined) {
      return {
        records: [],
        errors: rows.map((row) => ({
          locator: row.locator, field: 'Date Issued (GMT)', code: 'issuance-apart',
          message: `${row.locator}: Date Issued (GMT): ${projectId}'s vintage ${vintageYear} issuance of ${issuedOn} has rows from line ${apart} on, apart from these; ` +
            'its rows are one issuance and must come together (sort the report by Project ID, Vintage and Date Issued)',
        })),
      };
    }
    // One issuance: the removal and non-removal rows (and any other row of the project, vintage and day) summed.
    const records: CanonicalInput[] = parts.map((p) => p.project);
    records.push({
      type: 'issuance',
      registry: 'american-carbon-registry',
      registryProjectId: projectId,
      issuanceKey,
      vintageStart: earliest(parts.map((p) => p.vintageStart)),
      vintageEnd: latest(parts.map((p) => p.vintageEnd)),
      vintageYear,
      issuedOn,
      quantity: parts.reduce((s, p) => s + p.quantity, 0),
      creditType: 'ert',
      bufferQuantity: parts.reduce((s, p) => s + p.buffer, 0),
    });
    return { records, errors: [] };
  }

  return {
    id: 'acr-issuances',
    registry: 'american-carbon-registry',
    stream: 'issuances',
    description: 'ACR issuance report (APX r=112: Date Issued (GMT), Vintage, Total Credits Issued, Credits Issued to Project, …)',
    generation: ACR_GENERATION,
    // The issuance is its project, date, vintage and gross total, which must be the project's share plus
    // the buffer's (the row is checked, and the buffer kept): without any of them it is no issuance.
    // `Verified Removal` is not read: the removal and non-removal rows of an issuance are folded into one.
    columns: {
      'Date Issued (GMT)': { required: true, aliases: { 'Date Issued': BEFORE_GMT } },
      Vintage: { required: true },
      ReportingPeriodBegin: {},
      ReportingPeriodEnd: {},
      'Total Credits Issued': { required: true, aliases: { 'Total Offset Credits Issued': OFFSET_CREDIT_NAMES } },
      'Credits Issued to Project': { required: true },
      'Credits Issued to Buffer Pool': { required: true },
      'Credits Transferred to Buffer Pool': {},
      'Project ID': { required: true },
      ...ACR_PROJECT_COLUMNS,
    },
    distinguishedBy: ACR_PROJECT_ID,
    map: (row, locator) => mapRows([{ values: row, locator }]),
    group: {
      // Consecutive rows of one project, vintage and issue day are one issuance.
      key: (row) => {
        const r = rowReader(row, '');
        return `${row['Project ID']?.trim() ?? ''}|${acrIssuanceKey(r, r.number('Vintage')) ?? `unread ${row.Vintage ?? ''}|${row['Date Issued (GMT)'] ?? ''}`}`;
      },
      map: mapRows,
    },
  };
}

export const acrIssuances: FileFormat = issuanceReport();
