import type { BlockRecord } from '../../schema/canonical.ts';
import type { Column, FileFormat, Mapped } from '../types.ts';
import { rowReader, tokenizationMarker } from '../runtime/row.ts';
import { CREDIT_TYPE } from './map-issuances.ts';
import {
  ACR_NAMES, CAR, CAR_ELIGIBILITY_COLUMNS, CAR_GENERATION, CAR_PROJECT_COLUMNS, CAR_PROJECT_ID, projectFromReport,
  readCorrespondingAdjustment, readEligibility, readProjectId,
} from './map-projects.ts';
import { parseCarSerial } from './serial.ts';

// CAR's retirement report (thereserve2.apx.com, report r=206, reference/registries.md §3.2,
// offsetsdb.md §2.4): one row per retired serial block. Quirks:
// - there is no beneficiary column: the beneficiary, when named, is inside `Retirement Reason Details`
//   ("Retired on behalf of Bain & Company to offset FY2025 GHG emissions"). The text is kept whole as
//   the details; a beneficiary is taken only from an explicit "on behalf of X" (see `beneficiaryFromDetails`);
// - `Retirement Reason` is CAR's own list ("Environmental Benefit", "On Behalf of Third Party",
//   "Retirement for Person or Organization", "Other"): none says voluntary, CORSIA or compliance, so
//   `retirementPurpose` stays empty;
// - serials are `CAR-1-…` (Climate Reserve Tonnes) or `CAR-ROC-…` (Registry Offset Credits of ARB
//   compliance projects, which can also be retired voluntarily: two sample rows);
// - `Vintage` and `Project ID` are checked against what the serial says;
// - `Corresponding Adjustment` is "No" on every sample row (see `readCorrespondingAdjustment`);
// - dates are month-first `10/27/2025`;
// - `Retirement Reason` is in every retirement report and in no cancellation report: it is what tells
//   the two apart, so a file without it is not read as retirements;
// - an older header (documented, no file seen) names `Protocol and Version` `Protocol Version`.

const SERIAL = 'Offset Credit Serial Numbers';
const QUANTITY = 'Quantity of Offset Credits';
const DATE = 'Status Effective';

/**
 * The columns the retirement and cancellation reports share, read by `readCarBlock`: the serial,
 * quantity, project and date make the block. ACR's names for them (the same APX layout) are read too.
 */
export const CAR_BLOCK_COLUMNS = {
  Vintage: {},
  [SERIAL]: { required: true, aliases: { 'Credit Serial Numbers': ACR_NAMES } },
  [QUANTITY]: { required: true, aliases: { 'Quantity of Credits': ACR_NAMES } },
  [DATE]: { required: true, aliases: { 'Status Effective (GMT)': ACR_NAMES } },
  'Project ID': { required: true },
  ...CAR_PROJECT_COLUMNS,
} as const satisfies Record<string, Column>;

type Reader = ReturnType<typeof rowReader>;

/**
 * What the retirement and cancellation reports say alike about a block: project, serial range checked
 * against the quantity, the project id and the vintage, and the date its status took effect. Returns
 * the block's fields, or undefined when the row has errors (collected in `r`).
 */
export function readCarBlock(r: Reader) {
  const projectId = readProjectId(r);
  const quantity = r.quantity(QUANTITY);
  const serial = r.serial(SERIAL, parseCarSerial, quantity);
  const statusDate = r.required(DATE, r.date(DATE));
  const vintage = r.number('Vintage');
  if (serial?.projectId && projectId && serial.projectId !== `CAR${Number(projectId.slice(3))}`) {
    r.fail(SERIAL, 'serial-project-mismatch', `the serial names project ${serial.projectId} but the row is project ${projectId}`);
  }
  if (serial?.vintageYear !== undefined && vintage !== undefined && serial.vintageYear !== vintage) {
    r.fail(SERIAL, 'serial-vintage-mismatch', `the serial names vintage ${serial.vintageYear} but the row's Vintage is ${vintage}`);
  }
  if (r.errors.length > 0 || !projectId || !quantity || !serial || !statusDate) return undefined;
  const block = {
    type: 'block',
    registry: CAR,
    registryProjectId: projectId,
    blockKey: serial.raw,
    serial: { numberSpace: serial.numberSpace, start: serial.start, end: serial.end, raw: serial.raw },
    quantity,
    vintageYear: serial.vintageYear,
    creditType: serial.raw.startsWith('CAR-ROC-') ? CREDIT_TYPE.roc : CREDIT_TYPE.crt,
    statusDate,
  } satisfies Partial<BlockRecord>;
  return { project: projectFromReport(r, projectId), block };
}

// Where the beneficiary's name ends inside "… on behalf of <name> <rest>": a connecting word (" to offset",
// " for 2025 emissions", " in support of"), a bracket or a dash opening a remark, or a date or
// fiscal-year token ("Kinaxis Inc. F2024 period", "Lenovo Clients 1 February 2026 – …").
const NAME_ENDS = [
  / (?:to|for|in support of) /,
  / \(/,
  / [-–—] /,
  /;/,
  / (?:F|FY|CY)?\d{4}\b/,
  / \d{1,2} [A-Z][a-z]+ \d{4}\b/,
];

/**
 * The beneficiary named in CAR's free-text details, only where the text says "on behalf of <name>"
 * (case-insensitive; the first such phrase). Everything else — a bare name ("PETSTAR S.A.P.I. DE C.V."),
 * "Beneficiary: …", "Retired on behalf McKinstry", Spanish "a nombre de …" — yields none: the details
 * keep the text, and guessing would put purposes and slogans where names belong.
 */
export function beneficiaryFromDetails(details: string | undefined): string | undefined {
  const after = details?.match(/\bon behalf of\s+(?:the\s+)?(.+)$/i)?.[1];
  if (!after) return undefined;
  let end = after.length;
  for (const pattern of NAME_ENDS) {
    const at = after.search(pattern);
    if (at > 0 && at < end) end = at;
  }
  // A full stop closing the sentence goes ("Gatwick Airport Limited."); one closing an abbreviation stays ("Inc.", "L.P.").
  const name = after.slice(0, end).trim().replace(/(?<=[a-z]{4})\.$/, '').trim();
  return name.length > 0 ? name : undefined;
}

export const retirements: FileFormat = {
  id: 'climate-action-reserve-retirements',
  registry: CAR,
  stream: 'retirements',
  description: 'Climate Action Reserve retirement report (one row per retired serial block)',
  generation: CAR_GENERATION,
  columns: {
    ...CAR_BLOCK_COLUMNS,
    'Protocol and Version': { aliases: { 'Protocol Version': 'APX retirement header ~2024' } },
    ...CAR_ELIGIBILITY_COLUMNS,
    'Corresponding Adjustment': {},
    'Account Holder': {},
    'Retirement Reason': { required: true },
    'Retirement Reason Details': {},
  },
  distinguishedBy: CAR_PROJECT_ID,
  dayFirst: false,
  map(row, locator): Mapped {
    const r = rowReader(row, locator);
    const read = readCarBlock(r);
    const eligibility = readEligibility(r);
    const ca = readCorrespondingAdjustment(r);
    if (r.errors.length > 0 || !read) return { records: [], errors: r.errors };
    const details = r.text('Retirement Reason Details');
    const block: BlockRecord = {
      ...read.block,
      status: 'retired',
      retirementBeneficiary: beneficiaryFromDetails(details),
      retirementReason: r.text('Retirement Reason'),
      retirementDetails: details,
      accountHolder: r.text('Account Holder'),
      eligibility,
      ...ca,
      tokenizationMarker: tokenizationMarker(details),
    };
    return { records: [read.project, block], errors: [] };
  },
};
