import type { BlockRecord, CanonicalInput, IssuanceRecord, ProjectRecord } from '../../schema/canonical.ts';
import { tokenizationMarker } from '../runtime/row.ts';
import { quantityMismatch } from '../runtime/serial.ts';
import { dateValue, isRecord, ValueError } from '../runtime/values.ts';
import type { Mapped, RowError } from '../types.ts';
import { parsePuroCertificate, type PuroCertificate } from './certificate.ts';
import { rscText } from './rsc.ts';

// Puro.earth records → canonical records (reference/registries.md §3.4; rb-carbon-scraper
// `docs/api-contract-puro.md`). Quirks:
// - a transaction is not a credit record: its `bundles` are (one per facility, vintage and class), and a
//   retirement routinely draws from several facilities: one retired block per bundle, keyed by its
//   certificate string (unique per bundle), never one per transaction;
// - `volume` of a transaction is the sum of its bundles' (checked), and each bundle's `volume` is its
//   certificate range's size (checked), as are the certificate's facility, vintage and issuance against
//   the bundle's own fields;
// - an issuance is keyed `<vintage>/<issuance id>`; a retirement's bundle names the issuance it drew from
//   (`issuanceId`, also in its certificate), so its block links to that issuance;
// - `PARTIALLY_WITHDRAWN` / `FULLY_WITHDRAWN` labels on issuances come with no quantity
//   (`withdrawalDetails` is null everywhere) and the registry still counts those units as issued (517437:
//   its page's 9,694 issued include a fully withdrawn 3,272): the issuance keeps its whole volume;
// - `countryCode: "NA"` is Namibia, not "not available": codes are passed through untouched;
// - a beneficiary under embargo (`beneficiaryHiddenUntil`) is simply absent; a later pull fills it in;
// - `accountHolderName` is the account that retired (often an intermediary), `beneficiaryName` the party
//   the retirement is for; the retirement's `usageType` is a picklist naming no purpose of the
//   retirement-purpose vocabulary, so the purpose stays empty and `usageType` is the reason;
// - Puro certifies engineered removals only (CO2 Removal Certificates): every block is
//   `removal-technical`; the credit class (`CORC100+`: 100+ years' durability) stays in the certificate.

export const PURO = 'puro';
export const PURO_REGISTRY_URL = 'https://registry.puro.earth';

type Entity = Record<string, unknown>;

function problem(locator: string, field: string, code: string, message: string): RowError {
  return { locator, field, code, message: `${locator}: ${field}: ${message}` };
}

/** `2026-07-24T13:33:20.438Z` / `2025-12-31` → the day; undefined when absent; an error when unreadable. */
function day(value: unknown, locator: string, field: string, errors: RowError[]): string | undefined {
  const text = rscText(value);
  try {
    return dateValue(text);
  } catch (error) {
    if (!(error instanceof ValueError)) throw error;
    errors.push(problem(locator, field, error.code, error.message));
    return undefined;
  }
}

function wholePositive(value: unknown, locator: string, field: string, errors: RowError[]): number | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value > 0) return value;
  errors.push(problem(locator, field, 'quantity-not-positive', `${JSON.stringify(value)} is not a positive whole number of credits`));
  return undefined;
}

function coordinate(value: unknown, limit: number): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  return Number.isFinite(n) && Math.abs(n) <= limit ? n : undefined;
}

// ---- projects ---------------------------------------------------------------------------------------

/** Whether a saved record is one of the projects page's (for `tally ingest` of a JSON file). */
export const isPuroProject = (e: Entity): boolean => 'code' in e && 'supplierName' in e && 'methodologyCode' in e && 'generalRules' in e && !('bundles' in e);

export function mapProject(e: Entity, locator: string): Mapped {
  const errors: RowError[] = [];
  const code = rscText(e.code);
  const projectId = rscText(e.projectId);
  const name = rscText(e.name);
  if (!code) errors.push(problem(locator, 'code', 'missing', 'is empty'));
  else if (projectId && projectId !== code) errors.push(problem(locator, 'code', 'id-mismatch', `"${code}" differs from projectId "${projectId}"`));
  if (!name) errors.push(problem(locator, 'name', 'missing', 'is empty'));
  const creditingPeriodStart = day(e.creditingPeriodStart, locator, 'creditingPeriodStart', errors);
  const creditingPeriodEnd = day(e.creditingPeriodEnd, locator, 'creditingPeriodEnd', errors);
  if (errors.length > 0 || !code || !name) return { records: [], errors };
  const methodology = isRecord(e.methodology) ? e.methodology : {};
  const goals = Array.isArray(e.sdgs) ? e.sdgs.map((g) => (isRecord(g) ? g.goal : undefined)).filter((g): g is number => Number.isInteger(g) && (g as number) >= 1 && (g as number) <= 17) : [];
  const latitude = coordinate(e.latitude, 90);
  const longitude = coordinate(e.longitude, 180);
  const project: ProjectRecord = {
    type: 'project',
    registry: PURO,
    registryProjectId: code,
    name,
    proponent: rscText(e.supplierName),
    country: rscText(e.countryCode),
    // The code (C03000000) is the methodology's identity; its name changes with editions ("Biochar, 2022").
    methodology: rscText(e.methodologyCode) ?? rscText(methodology.code),
    creditingPeriodStart,
    creditingPeriodEnd,
    eligibility: [],
    coBenefits: [...new Set(goals)].map((g) => `sdg-${g}`),
    ...(latitude !== undefined && longitude !== undefined ? { latitude, longitude } : {}),
    registryUrl: `${PURO_REGISTRY_URL}/projects/${encodeURIComponent(code)}`,
  };
  return { records: [project], errors: [] };
}

// ---- transactions -----------------------------------------------------------------------------------

export type TransactionType = 'Issuance' | 'Retirement';

/** Whether a saved record is a transaction of the given page (for `tally ingest` of a JSON file). */
export const isPuroTransaction = (type: TransactionType) => (e: Entity): boolean =>
  e.type === type && Array.isArray(e.bundles) && 'completedOn' in e && 'accountHolderName' in e;

type Bundle = {
  certificate: PuroCertificate;
  volume: number;
  facility: string;
  vintage: number;
  issuanceId: string;
  entity: Entity;
};

/** The issuance key every record of one issuance shares. */
export const issuanceKeyOf = (vintage: number, issuanceId: string) => `${vintage}/${issuanceId}`;

/** A bundle read and cross-checked against its certificate. */
function readBundle(b: unknown, index: number, locator: string, errors: RowError[]): Bundle | undefined {
  const at = `bundles[${index}]`;
  if (!isRecord(b)) {
    errors.push(problem(locator, at, 'bad-bundle', 'is not a record'));
    return undefined;
  }
  const before = errors.length;
  const volume = wholePositive(b.volume, locator, `${at}.volume`, errors);
  const parsed = parsePuroCertificate(b.certificates);
  if (!parsed.ok) {
    errors.push(problem(locator, `${at}.certificates`, 'bad-serial', parsed.error));
    return undefined;
  }
  const certificate = parsed.range;
  const mismatch = volume === undefined ? undefined : quantityMismatch(certificate, volume);
  if (mismatch) errors.push(problem(locator, `${at}.certificates`, 'serial-quantity-mismatch', mismatch));
  const facility = rscText(b.productionFacilityCode);
  if (facility !== certificate.facility) {
    errors.push(problem(locator, `${at}.productionFacilityCode`, 'serial-project-mismatch', `the certificate names facility ${certificate.facility} but the bundle ${facility ?? 'none'}`));
  }
  if (b.vintage !== certificate.vintageYear) {
    errors.push(problem(locator, `${at}.vintage`, 'serial-vintage-mismatch', `the certificate names vintage ${certificate.vintageYear} but the bundle ${JSON.stringify(b.vintage)}`));
  }
  const issuanceId = rscText(b.issuanceId)?.toLowerCase();
  if (issuanceId !== certificate.issuanceId) {
    errors.push(problem(locator, `${at}.issuanceId`, 'serial-issuance-mismatch', `the certificate names issuance ${certificate.issuanceId} but the bundle ${issuanceId ?? 'none'}`));
  }
  if (errors.length > before || volume === undefined) return undefined;
  return { certificate, volume, facility: certificate.facility, vintage: certificate.vintageYear!, issuanceId: certificate.issuanceId, entity: b };
}

/** The transaction's fields every kind checks: its id, type, volume and bundles (whose volumes add up to it). */
function readTransaction(e: Entity, locator: string, type: TransactionType): { id: string; bundles: Bundle[]; errors: RowError[] } {
  const errors: RowError[] = [];
  const id = rscText(e.id)?.toLowerCase() ?? '';
  if (!id) errors.push(problem(locator, 'id', 'missing', 'is empty'));
  if (e.type !== type) errors.push(problem(locator, 'type', 'wrong-type', `is ${JSON.stringify(e.type)} where the page lists ${type} transactions`));
  const volume = wholePositive(e.volume, locator, 'volume', errors);
  const list = Array.isArray(e.bundles) ? e.bundles : [];
  if (list.length === 0) errors.push(problem(locator, 'bundles', 'missing', 'the transaction has no bundles'));
  const bundles = list.map((b, i) => readBundle(b, i, locator, errors)).filter((b): b is Bundle => b !== undefined);
  if (errors.length === 0 && volume !== undefined) {
    const total = bundles.reduce((s, b) => s + b.volume, 0);
    if (total !== volume) errors.push(problem(locator, 'volume', 'volume-mismatch', `${volume} but its bundles hold ${total}`));
  }
  return { id, bundles, errors };
}

/** The project as a bundle describes it: sparse (projects merge with `coalesce`), for a facility the projects page may lack. */
function projectOfBundle(b: Bundle): ProjectRecord {
  const project = isRecord(b.entity.project) ? b.entity.project : {};
  return {
    type: 'project',
    registry: PURO,
    registryProjectId: b.facility,
    name: rscText(b.entity.productionFacilityName) ?? rscText(project.name) ?? `Puro facility ${b.facility}`,
    proponent: rscText(b.entity.supplierName) ?? rscText(project.supplierName),
    country: b.certificate.country,
    methodology: rscText(b.entity.methodologyCode),
    eligibility: [],
    coBenefits: [],
    registryUrl: `${PURO_REGISTRY_URL}/projects/${encodeURIComponent(b.facility)}`,
  };
}

const serialOf = (c: PuroCertificate) => ({ numberSpace: c.numberSpace, start: c.start, end: c.end, raw: c.raw });

export function mapIssuance(e: Entity, locator: string): Mapped {
  const t = readTransaction(e, locator, 'Issuance');
  const details = isRecord(e.issuanceDetails) ? e.issuanceDetails : {};
  const issuedOn = day(details.issuanceDate ?? e.completedOn, locator, 'issuanceDetails.issuanceDate', t.errors);
  for (const [i, b] of t.bundles.entries()) {
    if (b.issuanceId !== t.id) t.errors.push(problem(locator, `bundles[${i}].certificates`, 'serial-issuance-mismatch', `the certificate names issuance ${b.issuanceId}, not this one (${t.id})`));
  }
  if (t.errors.length > 0) return { records: [], errors: t.errors };

  // Issuances are one bundle each today; bundles of one facility and vintage would be one issuance of
  // their summed volume (ranges then stay on the bundles, which are not stored for issuances).
  const groups = new Map<string, Bundle[]>();
  for (const b of t.bundles) groups.set(`${b.facility}|${b.vintage}`, [...(groups.get(`${b.facility}|${b.vintage}`) ?? []), b]);
  const records: CanonicalInput[] = [];
  for (const bundles of groups.values()) {
    const first = bundles[0]!;
    const errors: RowError[] = [];
    const issuance: IssuanceRecord = {
      type: 'issuance',
      registry: PURO,
      registryProjectId: first.facility,
      issuanceKey: issuanceKeyOf(first.vintage, t.id),
      vintageStart: day(first.entity.productionStartDate, locator, 'bundles.productionStartDate', errors),
      vintageEnd: day(first.entity.productionEndDate, locator, 'bundles.productionEndDate', errors),
      vintageYear: first.vintage,
      issuedOn: issuedOn ?? day(first.entity.issuanceDate, locator, 'bundles.issuanceDate', errors),
      quantity: bundles.reduce((s, b) => s + b.volume, 0),
      quantityFromBlocks: false,
      creditType: 'corc',
      ...(bundles.length === 1 ? { serial: serialOf(first.certificate) } : {}),
    };
    if (errors.length > 0) return { records: [], errors };
    records.push(projectOfBundle(first), issuance);
  }
  return { records, errors: [] };
}

export function mapRetirement(e: Entity, locator: string): Mapped {
  const t = readTransaction(e, locator, 'Retirement');
  const retiredOn = day(e.completedOn, locator, 'completedOn', t.errors);
  if (t.errors.length > 0) return { records: [], errors: t.errors };
  const details = isRecord(e.retirementDetails) ? e.retirementDetails : {};
  const beneficiary = rscText(details.beneficiaryName);
  const purpose = rscText(details.retirementPurpose);
  const records: CanonicalInput[] = [];
  for (const b of t.bundles) {
    const errors: RowError[] = [];
    const block: BlockRecord = {
      type: 'block',
      registry: PURO,
      registryProjectId: b.facility,
      blockKey: b.certificate.raw,
      issuanceKey: issuanceKeyOf(b.vintage, b.issuanceId),
      serial: serialOf(b.certificate),
      quantity: b.volume,
      vintageStart: day(b.entity.productionStartDate, locator, 'bundles.productionStartDate', errors),
      vintageEnd: day(b.entity.productionEndDate, locator, 'bundles.productionEndDate', errors),
      vintageYear: b.vintage,
      creditType: 'corc',
      unitType: 'removal-technical',
      status: 'retired',
      statusDate: retiredOn,
      retirementBeneficiary: beneficiary,
      retirementReason: rscText(details.usageType),
      retirementDetails: purpose,
      accountHolder: rscText(e.accountHolderName),
      eligibility: [],
      tokenizationMarker: tokenizationMarker(beneficiary, purpose),
    };
    if (errors.length > 0) return { records: [], errors };
    records.push(projectOfBundle(b), block);
  }
  return { records, errors: [] };
}
