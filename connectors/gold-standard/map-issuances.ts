import type { BlockRecord, CanonicalInput } from '../../schema/canonical.ts';
import type { Column, FileFormat, Mapped } from '../types.ts';
import { rowReader, tokenizationMarker } from '../runtime/row.ts';
import { parseGoldStandardSerial } from './serial.ts';

// Gold Standard's credit exports (registry.goldstandard.org, "Credits" → Issuances / Retirements →
// Download CSV). The retirement export is the issuance export plus the retirement columns, so both are
// read by `creditBlockMapper` below. Quirks (reference/registries.md §2.2–2.3, offsetsdb.md §2.2):
// - the issuance export lists each issuance batch whole, as issued, not the blocks' current state:
//   every row seen starts at unit 1 (100 of 100 in the sample), and a batch partly retired before the
//   download is still listed whole as Issued (GS11603, retired 2026-04-10, listed whole in an export
//   of 2026-04-13 or later). So an issuance-export row is an issuance with its batch's serial range,
//   and no block: storing it as a held block would count the retired part twice. What is still held
//   is what the issuance holds beyond the retired and cancelled blocks;
// - in the retirement export `Credit Status` is the block's state (Retired, Canceled);
// - the retirement export says nothing of the batch's size: its blocks give their batch an issuance
//   whose quantity is the sum of the blocks seen (`quantityFromBlocks`), until the issuance export
//   reports the batch. A batch whose other blocks are in no file is undercounted until then;
// - CERs (`Product Type` CER) keep their CDM serial (`RW-5-1463953-2-2-0-7014 - RW-5-1467609-2-2-0-7014`):
//   their number space is the CDM one, the serial's project is the CDM reference (7014), not the row's
//   GSID, and there is no GS batch number in it;
// - PERs (planned emission reductions) are not issued credits and cannot be retired: their blocks are
//   kept, with no issuance;
// - `GSID` is the project; `POA GSID` (written `11191.0`) is the programme the VPA belongs to, and the
//   GS number inside a VPA's name is the programme's, never the project's;
// - `Issuance Date` is `2026-04-13T12:35:58.842275` in the issuance export and `2026-03-31` in the
//   retirement export; the monitoring period is the block's vintage period, `Vintage` its year;
// - an older retirement export (its header documented, no file seen) has no `Label`, `Use Case`,
//   `Using Entity` or `Article Six Authorization`, but three CORSIA columns: `Eligible for CORSIA?`
//   (the block's eligibility, its phase named by the vintage as in API mode), `Retired for CORSIA?`
//   (the purpose) and `CORSIA Authorisation` (an authorization, as written). Every column a later
//   generation added is optional: absent, it reads as empty.

const REGISTRY = 'gold-standard';

/** `Credit Status` → CAD Trust unit status. Both spellings of cancelled occur in GS files. */
const BLOCK_STATUS: Record<string, BlockRecord['status']> = {
  issued: 'held',
  retired: 'retired',
  canceled: 'cancelled',
  cancelled: 'cancelled',
};

/** `Product Type` → credit type code. GS can also issue RECs, which are not carbon credits and not read here. */
const CREDIT_TYPE: Record<string, string> = { VER: 'ver', CER: 'cer', PER: 'per' };

/** `Using Entity` values (and names in notes) that say the beneficiary was withheld: not a name to store. */
const UNDISCLOSED = /^(not disclosed|undisclosed|anonymous)$/i;

/** A block cancelled to move it to another registry (Zimbabwe's 2025 regulations require it of Zimbabwean projects). */
const TRANSFERRED_OUT = /\btransferred to (?:the )?(.+? registry)\b/i;

/** `https://registry.goldstandard.org/projects?q=gs<GSID>` (the GSID is not the id of GS's own detail pages). */
export const projectUrl = (gsid: string) => `https://registry.goldstandard.org/projects?q=${gsid.toLowerCase()}`;

/** `GSID` as `GS<n>`, the form GS serials and Tally use. The column is numeric; pandas may have written it `11236.0`. */
export function readGsid(r: ReturnType<typeof rowReader>, column: string): string | undefined {
  const raw = r.required(column, r.text(column));
  if (raw === undefined) return undefined;
  const m = /^(\d+)(?:\.0+)?$/.exec(raw);
  if (!m) {
    r.fail(column, 'bad-project-id', `"${raw}" is not a GSID (a whole number)`);
    return undefined;
  }
  return `GS${Number(m[1])}`;
}

/**
 * Who a retirement was for: `Using Entity`, else the CORSIA aeroplane operator, else the name a note
 * gives ("Gold Standard Marketplace Order GSM31742 for Christin Garlich", "Retired on behalf of
 * Bullfrog Power Inc."). A withheld name ("Not Disclosed") is no beneficiary.
 */
function beneficiaryOf(usingEntity: string | undefined, aeroplaneOperator: string | undefined, note: string | undefined): string | undefined {
  const named = usingEntity ?? aeroplaneOperator ?? (note ? beneficiaryNamedIn(note) : undefined);
  return named && !UNDISCLOSED.test(named) ? named : undefined;
}

function beneficiaryNamedIn(note: string): string | undefined {
  const firstLine = note.split('\n')[0]!.trim();
  const order = /^Gold Standard Marketplace Order GSM\d+ for (.+)$/i.exec(firstLine);
  if (order) return order[1]!.trim();
  // "on behalf of X for the compensation of …": the name ends where the purpose starts.
  const behalf = /\bon behalf of (.+?)(?=\s+(?:for|to)\s|[,;]|$)/i.exec(firstLine);
  return behalf ? behalf[1]!.trim() : undefined;
}

/**
 * ICAO's eligible vintages per CORSIA phase (pilot: 2016–2020, first: 2021–2026); GS flags a block
 * eligible without naming the phase, so its vintage names it. Later vintages have no phase code yet.
 */
export function corsiaPhase(vintageYear: number | undefined): string | undefined {
  if (vintageYear === undefined) return undefined;
  if (vintageYear >= 2016 && vintageYear <= 2020) return 'corsia-pilot-phase';
  if (vintageYear >= 2021 && vintageYear <= 2026) return 'corsia-first-phase';
  return undefined;
}

/** An authorization cell that says there is none. */
const NO_AUTHORIZATION = /^(not applicable|n\/a|no|none)$/i;

/** `Use Case` → retirement purpose. A CORSIA operator with no use case is a CORSIA retirement. */
function retirementPurposeOf(useCase: string | undefined, aeroplaneOperator: string | undefined): BlockRecord['retirementPurpose'] {
  if (!useCase) return aeroplaneOperator ? 'corsia' : undefined;
  const u = useCase.toLowerCase();
  if (u.includes('corsia')) return 'corsia';
  if (/^voluntary\b/.test(u)) return 'voluntary';
  if (/^compliance\b/.test(u)) return 'compliance';
  if (/\bndc\b|nationally determined/.test(u)) return 'ndc';
  if (/\boimp\b|other international mitigation/.test(u)) return 'oimp';
  return 'other';
}

/**
 * Maps one row of the issuance or the retirement export (the latter has more columns; absent ones read
 * as empty). Only the issuance export reports how much a batch issued.
 */
export const creditBlockMapper = (source: 'issuance-export' | 'retirement-export') => (row: Record<string, string>, locator: string): Mapped => {
  const r = rowReader(row, locator);
  const projectId = readGsid(r, 'GSID');
  const name = r.text('Project Name');
  const quantity = r.quantity('Quantity');
  const serial = r.serial('Serial Number', parseGoldStandardSerial, quantity);
  const vintageYear = r.number('Vintage');
  const vintageStart = r.date('Monitoring Period Start');
  const vintageEnd = r.date('Monitoring Period End');
  const issuedOn = r.date('Issuance Date');
  const statusDate = r.date('Retirement Date');

  const statusRaw = r.required('Credit Status', r.text('Credit Status'));
  const status = statusRaw === undefined ? undefined : BLOCK_STATUS[statusRaw.toLowerCase()];
  if (statusRaw !== undefined && status === undefined) {
    r.fail('Credit Status', 'unknown-status', `"${statusRaw}" is not a status Tally knows (Issued, Retired, Canceled)`);
  }
  const productRaw = r.required('Product Type', r.text('Product Type'));
  const creditType = productRaw === undefined ? undefined : CREDIT_TYPE[productRaw.toUpperCase()];
  if (productRaw !== undefined && creditType === undefined) {
    r.fail('Product Type', 'unknown-product-type', `"${productRaw}" is not a product Tally reads (VER, CER, PER)`);
  }
  if (vintageYear !== undefined && !Number.isInteger(vintageYear)) r.fail('Vintage', 'bad-vintage', `${vintageYear} is not a year`);
  // The older retirement export's CORSIA columns (Yes / No).
  const corsiaEligible = r.boolean('Eligible for CORSIA?');
  const retiredForCorsia = r.boolean('Retired for CORSIA?');

  // A GS serial names the project, vintage and batch; a Kyoto serial (CERs only) names the CDM project.
  const kyoto = serial !== undefined && serial.numberSpace.startsWith('cdm:');
  if (serial && kyoto && creditType !== undefined && creditType !== 'cer') {
    r.fail('Serial Number', 'serial-product-mismatch', `a Kyoto serial belongs to a CER, but the row's product is ${productRaw}`);
  }
  if (serial && !kyoto) {
    if (projectId && serial.projectId !== projectId) {
      r.fail('Serial Number', 'serial-project-mismatch', `the serial names project ${serial.projectId} but the row is project ${projectId}`);
    }
    if (vintageYear !== undefined && serial.vintageYear !== vintageYear) {
      r.fail('Serial Number', 'serial-vintage-mismatch', `the serial names vintage ${serial.vintageYear} but the row's Vintage is ${vintageYear}`);
    }
  }
  if (r.errors.length > 0 || !projectId || !quantity || !serial || !status || !creditType) return { records: [], errors: r.errors };

  const year = vintageYear ?? serial.vintageYear;
  // The parser has checked the GS serial's nine parts; the seventh is the issuance batch number. PERs
  // are not issued credits.
  const issuanceKey = creditType === 'per' || kyoto ? undefined : `${year ?? ''}/${serial.raw.split('-')[6]}`;

  const note = r.text('Note');
  const usingEntity = r.text('Using Entity');
  const aeroplaneOperator = r.text('Aeroplane Operator Name');
  const useCase = r.text('Use Case');
  const article6 = [r.text('Article Six Authorization'), r.text('CORSIA Authorisation')].find((a) => a !== undefined && !NO_AUTHORIZATION.test(a));
  const label = r.text('Label');
  const corsia = corsiaEligible ? corsiaPhase(year) : undefined;
  const transferredTo = status === 'cancelled' && note ? TRANSFERRED_OUT.exec(note)?.[1] : undefined;
  const retired = status === 'retired';
  const beneficiary = retired ? beneficiaryOf(usingEntity, aeroplaneOperator, note) : undefined;
  const methodology = r.text('Methodology');

  const records: CanonicalInput[] = [
    {
      type: 'project',
      registry: REGISTRY,
      registryProjectId: projectId,
      // A row without a project name keeps its project, known by its id until a name comes.
      ...(name ? { name } : { name: projectId, nameIsIdentifier: true }),
      proponent: r.text('Project Developer'),
      country: r.text('Country'),
      // "Not provided" is GS's placeholder, not a methodology.
      methodology: methodology && !/^not provided$/i.test(methodology) ? methodology : undefined,
      registryUrl: projectUrl(projectId),
    },
  ];
  // CERs are the CDM's units, kept in the CDM registry's numbering: Gold Standard's row reports them,
  // the CDM registry is their source of record (DESIGN §3, mirrors).
  if (kyoto) {
    records.push({
      type: 'mirror',
      registry: 'cdm',
      reportedBy: REGISTRY,
      mirrorKey: serial.raw,
      kind: 'units',
      registryProjectId: serial.country && serial.projectId ? `${serial.country}-${serial.projectId}` : undefined,
      projectRef: projectId,
      projectName: name,
      country: r.text('Country'),
      serial: { numberSpace: serial.numberSpace, start: serial.start, end: serial.end, raw: serial.raw },
      quantity,
      vintageYear: year,
      creditType,
      status: transferredTo ? 'exported' : status,
      statusDate,
    });
    return { records, errors: [] };
  }
  if (issuanceKey) {
    records.push({
      type: 'issuance',
      registry: REGISTRY,
      registryProjectId: projectId,
      issuanceKey,
      vintageStart,
      vintageEnd,
      vintageYear: year,
      issuedOn,
      quantity,
      quantityFromBlocks: source === 'retirement-export',
      creditType,
      // The issuance export's row is the issuance: its `Label` (the CCP label) and CORSIA column are the issuance's.
      ...(source === 'issuance-export' && ((label && /\bCCP\b/.test(label)) || corsia)
        ? { eligibility: [...(label && /\bCCP\b/.test(label) ? ['ccp-approved'] : []), ...(corsia ? [corsia] : [])] } : {}),
      serial: source === 'issuance-export' ? { numberSpace: serial.numberSpace, start: serial.start, end: serial.end, raw: serial.raw } : undefined,
    });
  }
  // An issuance-export row is the issuance itself (see above); PER batches, which are not issuances,
  // are kept as held blocks so their units stay visible.
  if (source === 'issuance-export' && issuanceKey) return { records, errors: [] };
  records.push({
    type: 'block',
    registry: REGISTRY,
    registryProjectId: projectId,
    blockKey: serial.raw,
    issuanceKey,
    serial: { numberSpace: serial.numberSpace, start: serial.start, end: serial.end, raw: serial.raw },
    quantity,
    vintageStart,
    vintageEnd,
    vintageYear: year,
    creditType,
    status: transferredTo ? 'exported' : status,
    statusDate,
    retirementBeneficiary: beneficiary,
    retirementReason: retired ? useCase : undefined,
    retirementPurpose: retired ? (retiredForCorsia && !useCase ? 'corsia' : retirementPurposeOf(useCase, aeroplaneOperator)) : undefined,
    retirementDetails: note,
    // "ICVCM CCP, Emission Reduction": the CCP label; and, in the older export, CORSIA eligibility.
    eligibility: [...(label && /\bCCP\b/.test(label) ? ['ccp-approved'] : []), ...(corsia ? [corsia] : [])],
    article6Authorization: article6,
    tokenizationMarker: retired ? tokenizationMarker(beneficiary, note) : undefined,
  });
  if (transferredTo) {
    // The state says `exported`; this event adds where to. No national registry has a Tally slug yet,
    // so the counterparty stays empty and the destination is named in the details.
    records.push({
      type: 'event',
      registry: REGISTRY,
      registryProjectId: projectId,
      kind: 'converted-out',
      eventKey: `converted-out:${serial.raw}`,
      occurredOn: statusDate,
      quantity,
      vintageYear: year,
      blockKey: serial.raw,
      issuanceKey,
      details: { destination: transferredTo, note },
    });
  }
  return { records, errors: [] };
};

/**
 * The columns both credit exports have, each read by the mapper above. The serial carries the project,
 * vintage and batch; `Credit Status` and `Product Type` decide the status and whether a row is an
 * issuance at all (PERs are not), so a file without them is not a GS credit export.
 */
const BLOCK_COLUMNS = {
  Vintage: {},
  'Credit Status': { required: true },
  Quantity: { required: true },
  GSID: { required: true },
  'Project Name': {},
  'Project Developer': {},
  Country: {},
  Methodology: {},
  'Product Type': { required: true },
  'Issuance Date': {},
  'Monitoring Period Start': {},
  'Monitoring Period End': {},
  'Serial Number': { required: true },
  // Added by GS in later years: optional.
  Label: {},
  'Article Six Authorization': {},
} as const satisfies Record<string, Column>;

export const issuances: FileFormat = {
  id: 'gold-standard-issuances',
  registry: REGISTRY,
  stream: 'issuances',
  description: 'Gold Standard issuance export (one row per issuance batch, listed whole)',
  generation: 'registry export 2026',
  columns: BLOCK_COLUMNS,
  map: creditBlockMapper('issuance-export'),
};

/**
 * The retirement export: the issuance export's columns plus the retirement's. `Retirement Date` and
 * `Note` are in every generation and in no issuance export: they make a file the retirement export
 * (a row a block in its current state, not an issuance), and the note tells a block transferred to
 * another registry from a cancelled one. The CORSIA columns are the older export's.
 */
export const RETIREMENT_COLUMNS = {
  ...BLOCK_COLUMNS,
  'Retirement Date': { required: true },
  Note: { required: true },
  'Aeroplane Operator Name': {},
  'Use Case': {},
  'Using Entity': {},
  'Eligible for CORSIA?': {},
  'Retired for CORSIA?': {},
  'CORSIA Authorisation': {},
} as const satisfies Record<string, Column>;
