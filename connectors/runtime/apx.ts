import type { BlockRecord } from '../../schema/canonical.ts';
import { tokenizationMarker, type rowReader } from './row.ts';
import type { SerialRange, SerialResult } from './serial.ts';

// Columns the APX report family shares (ACR and ART TREES, archived from acr2.apx.com / art.apx.com,
// and CAR's thereserve2.apx.com): the same Yes/No eligibility columns, the same SDG list, the same
// `<prefix>-… <start> to <end>` serial column next to a project-id and a vintage column, and timestamps
// written `6/30/2025 7:43:26 PM` (reference/offsetsdb.md §2.3–2.5, §4). Each registry's own mapping
// stays in its folder; what they share is here.

export type RowReader = ReturnType<typeof rowReader>;

/**
 * Yes/No columns → eligibility codes. ACR and ART suffix the CORSIA columns with the phase name, CAR
 * does not, and CAR writes Washington Ecology as `WA ECO`. The generic `CORSIA Eligible` column is not
 * here: it does not say which phase, and the rows that carry it also carry the phase columns.
 */
const ELIGIBILITY_COLUMNS: readonly (readonly [column: string, code: string])[] = [
  ['Eligible for CORSIA 2021-2023 Compliance Period (Pilot Phase)', 'corsia-pilot-phase'],
  ['Eligible for CORSIA 2021-2023 Compliance Period', 'corsia-pilot-phase'],
  ['Eligible for CORSIA 2024-2026 Compliance Period (First Phase)', 'corsia-first-phase'],
  ['Eligible for CORSIA 2024-2026 Compliance Period', 'corsia-first-phase'],
  ['CCP Approved', 'ccp-approved'],
  // The live CAR download (2026) names it so; the archived reports say `CCP Approved`.
  ['ICVCM CCP Eligible', 'ccp-approved'],
  ['ARB Eligible', 'arb-eligible'],
  ['Ecology Eligible', 'wa-ecology-eligible'],
  ['WA ECO Eligible', 'wa-ecology-eligible'],
];

/** The eligibility codes whose column says Yes (an empty cell means no, as in the reports). */
export function apxEligibility(r: RowReader): string[] {
  const codes = new Set<string>();
  for (const [column, code] of ELIGIBILITY_COLUMNS) if (r.boolean(column)) codes.add(code);
  return [...codes];
}

/** `09: Industry, Innovation and Infrastructure;13: Climate Action` → `sdg-9`, `sdg-13` (the coBenefit vocabulary). */
export function apxSustainableDevelopmentGoals(text: string | undefined): string[] {
  if (!text) return [];
  const goals = text.split(';').map((part) => part.match(/^\s*(\d{1,2})\s*:/)?.[1]).filter((n): n is string => n !== undefined)
    .map(Number).filter((n) => n >= 1 && n <= 17);
  return [...new Set(goals)].map((n) => `sdg-${n}`);
}

/**
 * A report timestamp to `YYYY-MM-DDTHH:MM:SS` (the time kept, unlike `r.date`), for keys that must tell
 * apart two events of the same day. `3/24/2026 9:08:01 PM` → `2026-03-24T21:08:01`; a cell with only a
 * date gives the date. Undefined when empty or unreadable (the date error is then on the row).
 */
export function apxTimestamp(r: RowReader, column: string): string | undefined {
  // Read more than once per row (a date and a key): report an unreadable cell once.
  if (r.errors.some((e) => e.field === column)) return undefined;
  const date = r.date(column);
  if (!date) return undefined;
  const time = r.text(column)?.match(/\s(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AP]M)?$/i);
  if (!time) return date;
  let hours = Number(time[1]);
  const meridiem = time[4]?.toUpperCase();
  if (meridiem === 'PM' && hours < 12) hours += 12;
  if (meridiem === 'AM' && hours === 12) hours = 0;
  const two = (n: number) => String(n).padStart(2, '0');
  return `${date}T${two(hours)}:${time[2]}:${time[3] ?? '00'}`;
}

/**
 * The purpose a retirement or cancellation reason states, where it states one. The reason columns are
 * picklists (`CORSIA Compliance`, `Contribution Towards Corporate Climate Pledge`, ACR's
 * `Environmental Benefit` / `On Behalf of Third Party`); free-text purpose columns are not read, since a
 * sentence can name CORSIA or an NDC without being used for it. A reason that names a corporate claim
 * AND the host country's NDC makes two claims on the same tonnes: no single purpose is true, so it
 * stays empty and the reason text itself is kept for the contribution-claim rule.
 */
export function apxRetirementPurpose(reason: string | undefined): BlockRecord['retirementPurpose'] {
  if (!reason) return undefined;
  if (/\bCORSIA\b/i.test(reason)) return 'corsia';
  const ndc = /\bNDC\b|nationally determined contribution/i.test(reason);
  const voluntary = /\bcorporate\b|\bvoluntary\b/i.test(reason);
  if (ndc && voluntary) return undefined;
  if (ndc) return 'ndc';
  if (voluntary) return 'voluntary';
  if (/\bcompliance\b/i.test(reason)) return 'compliance';
  return undefined;
}

/**
 * The buffer contribution of an issuance row whose report gives gross, net and buffer figures, checked:
 * gross must be net plus buffer (ACR `Total Credits Issued` = `Credits Issued to Project` + `Credits
 * Issued to Buffer Pool`; ART `Total Emission Reductions/Removals` = `Credits Verified` + `Credits
 * Deposited in Buffer`). The ledger's quantity is the gross figure, so a row where they disagree cannot
 * say what was issued and is reported. `gross` is the value the caller already read from its column.
 */
export function readBuffer(r: RowReader, columns: { gross: string; net: string; buffer: string }, gross: number | undefined): number | undefined {
  const net = r.required(columns.net, r.number(columns.net));
  const buffer = r.required(columns.buffer, r.number(columns.buffer));
  if (gross === undefined || net === undefined || buffer === undefined) return undefined;
  if (buffer < 0) {
    r.fail(columns.buffer, 'quantity-negative', `${buffer} is negative`);
    return undefined;
  }
  if (gross !== net + buffer) {
    r.fail(columns.gross, 'buffer-mismatch', `${gross} is not ${columns.net} ${net} + ${columns.buffer} ${buffer}`);
    return undefined;
  }
  return buffer;
}

export type ApxBlockColumns = { serial: string; quantity: string; projectId: string; vintage: string };

export type ApxBlock = { projectId: string; quantity: number; serial: SerialRange; vintageYear: number };

/**
 * The part of a retirement or cancellation row every APX registry reads the same way: the serial range
 * (parsed, and its size checked against the quantity), the project id, and the vintage, with the
 * serial's own project and vintage cross-checked against the row's columns. Undefined when the row has
 * errors (they are on `r.errors`).
 */
export function readApxBlock(r: RowReader, columns: ApxBlockColumns, parse: (raw: string) => SerialResult): ApxBlock | undefined {
  const projectId = r.required(columns.projectId, r.text(columns.projectId));
  const quantity = r.quantity(columns.quantity);
  const serial = r.serial(columns.serial, parse, quantity);
  const vintage = r.number(columns.vintage);
  if (vintage !== undefined && !Number.isInteger(vintage)) r.fail(columns.vintage, 'bad-vintage', `${vintage} is not a year`);
  if (serial?.projectId && projectId && serial.projectId !== projectId) {
    r.fail(columns.serial, 'serial-project-mismatch', `the serial names project ${serial.projectId} but the row is project ${projectId}`);
  }
  if (serial?.vintageYear && vintage !== undefined && serial.vintageYear !== vintage) {
    r.fail(columns.serial, 'serial-vintage-mismatch', `the serial names vintage ${serial.vintageYear} but the row's ${columns.vintage} is ${vintage}`);
  }
  const vintageYear = vintage ?? serial?.vintageYear;
  if (r.errors.length > 0 || !projectId || !quantity || !serial || vintageYear === undefined) return undefined;
  return { projectId, quantity, serial, vintageYear };
}

/** A parsed range as the canonical records hold it (without the cross-check fields). */
export function serialOf(range: SerialRange): { numberSpace: string; start: number; end: number; raw: string } {
  return { numberSpace: range.numberSpace, start: range.start, end: range.end, raw: range.raw };
}

/**
 * The retired block of an APX retirement row: `Retired on Behalf of` is the beneficiary, the reason
 * picklist gives the purpose where it names one, `Purpose of Retirement` is the free text.
 */
export function apxRetiredBlock(r: RowReader, common: Omit<BlockRecord, 'status'>, statusDate: string | undefined): BlockRecord {
  const beneficiary = r.text('Retired on Behalf of');
  const reason = r.text('Retirement Reason');
  const details = r.text('Purpose of Retirement');
  return {
    ...common,
    status: 'retired',
    statusDate,
    retirementBeneficiary: beneficiary,
    retirementReason: reason,
    retirementPurpose: apxRetirementPurpose(reason),
    retirementDetails: details,
    tokenizationMarker: tokenizationMarker(beneficiary, details),
  };
}
