import type { BlockRecord, CanonicalInput, IssuanceRecord, ProjectRecord } from '../../schema/canonical.ts';
import { entityReader, type EntityReader } from '../runtime/entity.ts';
import { tokenizationMarker } from '../runtime/row.ts';
import type { Mapped } from '../types.ts';
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

/** Puro's records are read as its pages write them: RSC escapes a leading `$` and writes dates as `$D…` (rsc.ts). */
const read = (e: Entity, locator: string) => entityReader(e, locator, { decode: rscText });

/** A transaction's or a bundle's volume: a positive whole number of credits. */
function credits(r: EntityReader, field: string): number | undefined {
  const volume = r.quantity(field);
  if (volume === undefined || Number.isSafeInteger(volume)) return volume;
  r.fail(field, 'not-an-integer', `${volume} is not a whole number of credits`);
  return undefined;
}

// ---- projects ---------------------------------------------------------------------------------------

/** Whether a saved record is one of the projects page's (for `tally ingest` of a JSON file). */
export const isPuroProject = (e: Entity): boolean => 'code' in e && 'supplierName' in e && 'methodologyCode' in e && 'generalRules' in e && !('bundles' in e);

export function mapProject(e: Entity, locator: string): Mapped {
  const r = read(e, locator);
  const code = r.required('code', r.text('code'));
  const projectId = r.text('projectId');
  if (code && projectId && projectId !== code) r.fail('code', 'id-mismatch', `"${code}" differs from projectId "${projectId}"`);
  const name = r.required('name', r.text('name'));
  const creditingPeriodStart = r.date('creditingPeriodStart');
  const creditingPeriodEnd = r.date('creditingPeriodEnd');
  const goals = r.list('sdgs').map((g) => g.goal).filter((g): g is number => Number.isInteger(g) && (g as number) >= 1 && (g as number) <= 17);
  // Coordinates come as text (`"28.0295000"`) or null; out-of-range ones are no location.
  const latitude = r.number('latitude');
  const longitude = r.number('longitude');
  const located = latitude !== undefined && longitude !== undefined && Math.abs(latitude) <= 90 && Math.abs(longitude) <= 180;
  if (r.errors.length > 0 || !code || !name) return { records: [], errors: r.errors };
  const project: ProjectRecord = {
    type: 'project',
    registry: PURO,
    registryProjectId: code,
    name,
    proponent: r.text('supplierName'),
    country: r.text('countryCode'),
    // The code (C03000000) is the methodology's identity; its name changes with editions ("Biochar, 2022").
    methodology: r.text('methodologyCode') ?? r.text('methodology.code'),
    creditingPeriodStart,
    creditingPeriodEnd,
    eligibility: [],
    coBenefits: [...new Set(goals)].map((g) => `sdg-${g}`),
    ...(located ? { latitude, longitude } : {}),
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
  /** Where the bundle is in its transaction: `bundles[0]`. */
  at: string;
  certificate: PuroCertificate;
  volume: number;
  facility: string;
  vintage: number;
  issuanceId: string;
  vintageStart?: string;
  vintageEnd?: string;
  /** The project as the bundle describes it (see projectOfBundle). */
  project: ProjectRecord;
};

/** The issuance key every record of one issuance shares. */
export const issuanceKeyOf = (vintage: number, issuanceId: string) => `${vintage}/${issuanceId}`;

/** A bundle read and cross-checked against its certificate. */
function readBundle(r: EntityReader, at: string): Bundle | undefined {
  const before = r.errors.length;
  const volume = credits(r, `${at}.volume`);
  const certificate = r.serial(`${at}.certificates`, parsePuroCertificate, volume);
  const vintageStart = r.date(`${at}.productionStartDate`);
  const vintageEnd = r.date(`${at}.productionEndDate`);
  if (!certificate) return undefined;
  const facility = r.text(`${at}.productionFacilityCode`);
  if (facility !== certificate.facility) {
    r.fail(`${at}.productionFacilityCode`, 'serial-project-mismatch', `the certificate names facility ${certificate.facility} but the bundle ${facility ?? 'none'}`);
  }
  const vintage = r.number(`${at}.vintage`);
  if (vintage !== certificate.vintageYear) {
    r.fail(`${at}.vintage`, 'serial-vintage-mismatch', `the certificate names vintage ${certificate.vintageYear} but the bundle ${vintage ?? 'none'}`);
  }
  const issuanceId = r.text(`${at}.issuanceId`)?.toLowerCase();
  if (issuanceId !== certificate.issuanceId) {
    r.fail(`${at}.issuanceId`, 'serial-issuance-mismatch', `the certificate names issuance ${certificate.issuanceId} but the bundle ${issuanceId ?? 'none'}`);
  }
  if (r.errors.length > before || volume === undefined) return undefined;
  return {
    at, certificate, volume, facility: certificate.facility, vintage: certificate.vintageYear!, issuanceId: certificate.issuanceId,
    vintageStart, vintageEnd, project: projectOfBundle(r, at, certificate),
  };
}

/** The project as a bundle describes it: sparse (projects merge with `coalesce`), for a facility the projects page may lack. */
function projectOfBundle(r: EntityReader, at: string, certificate: PuroCertificate): ProjectRecord {
  return {
    type: 'project',
    registry: PURO,
    registryProjectId: certificate.facility,
    name: r.text(`${at}.productionFacilityName`) ?? r.text(`${at}.project.name`) ?? `Puro facility ${certificate.facility}`,
    proponent: r.text(`${at}.supplierName`) ?? r.text(`${at}.project.supplierName`),
    country: certificate.country,
    methodology: r.text(`${at}.methodologyCode`),
    eligibility: [],
    coBenefits: [],
    registryUrl: `${PURO_REGISTRY_URL}/projects/${encodeURIComponent(certificate.facility)}`,
  };
}

/** The transaction's fields every kind checks: its id, type, volume and bundles (whose volumes add up to it). */
function readTransaction(r: EntityReader, e: Entity, type: TransactionType): { id: string; bundles: Bundle[] } {
  const id = r.required('id', r.text('id'))?.toLowerCase() ?? '';
  if (e.type !== type) r.fail('type', 'wrong-type', `is ${JSON.stringify(e.type)} where the page lists ${type} transactions`);
  const volume = credits(r, 'volume');
  const before = r.errors.length;
  const list = r.list('bundles');
  if (list.length === 0 && r.errors.length === before) r.fail('bundles', 'missing', 'the transaction has no bundles');
  const bundles = list.map((_, i) => readBundle(r, `bundles[${i}]`)).filter((b): b is Bundle => b !== undefined);
  if (r.errors.length === 0 && volume !== undefined) {
    const total = bundles.reduce((s, b) => s + b.volume, 0);
    if (total !== volume) r.fail('volume', 'volume-mismatch', `${volume} but its bundles hold ${total}`);
  }
  return { id, bundles };
}

const serialOf = (c: PuroCertificate) => ({ numberSpace: c.numberSpace, start: c.start, end: c.end, raw: c.raw });

export function mapIssuance(e: Entity, locator: string): Mapped {
  const r = read(e, locator);
  const t = readTransaction(r, e, 'Issuance');
  const issuedOn = r.date('issuanceDetails.issuanceDate') ?? r.date('completedOn');
  for (const b of t.bundles) {
    if (b.issuanceId !== t.id) r.fail(`${b.at}.certificates`, 'serial-issuance-mismatch', `the certificate names issuance ${b.issuanceId}, not this one (${t.id})`);
  }
  // Issuances are one bundle each today; bundles of one facility and vintage would be one issuance of
  // their summed volume (ranges then stay on the bundles, which are not stored for issuances).
  const groups = new Map<string, Bundle[]>();
  for (const b of t.bundles) groups.set(`${b.facility}|${b.vintage}`, [...(groups.get(`${b.facility}|${b.vintage}`) ?? []), b]);
  const records: CanonicalInput[] = [];
  for (const bundles of groups.values()) {
    const first = bundles[0]!;
    const issuance: IssuanceRecord = {
      type: 'issuance',
      registry: PURO,
      registryProjectId: first.facility,
      issuanceKey: issuanceKeyOf(first.vintage, t.id),
      vintageStart: first.vintageStart,
      vintageEnd: first.vintageEnd,
      vintageYear: first.vintage,
      issuedOn: issuedOn ?? r.date(`${first.at}.issuanceDate`),
      quantity: bundles.reduce((s, b) => s + b.volume, 0),
      quantityFromBlocks: false,
      creditType: 'corc',
      ...(bundles.length === 1 ? { serial: serialOf(first.certificate) } : {}),
    };
    records.push(first.project, issuance);
  }
  return r.errors.length > 0 ? { records: [], errors: r.errors } : { records, errors: [] };
}

export function mapRetirement(e: Entity, locator: string): Mapped {
  const r = read(e, locator);
  const t = readTransaction(r, e, 'Retirement');
  const retiredOn = r.date('completedOn');
  const beneficiary = r.text('retirementDetails.beneficiaryName');
  const purpose = r.text('retirementDetails.retirementPurpose');
  const usage = r.text('retirementDetails.usageType');
  const accountHolder = r.text('accountHolderName');
  if (r.errors.length > 0) return { records: [], errors: r.errors };
  const records: CanonicalInput[] = [];
  for (const b of t.bundles) {
    const block: BlockRecord = {
      type: 'block',
      registry: PURO,
      registryProjectId: b.facility,
      blockKey: b.certificate.raw,
      issuanceKey: issuanceKeyOf(b.vintage, b.issuanceId),
      serial: serialOf(b.certificate),
      quantity: b.volume,
      vintageStart: b.vintageStart,
      vintageEnd: b.vintageEnd,
      vintageYear: b.vintage,
      creditType: 'corc',
      unitType: 'removal-technical',
      status: 'retired',
      statusDate: retiredOn,
      retirementBeneficiary: beneficiary,
      retirementReason: usage,
      retirementDetails: purpose,
      accountHolder,
      eligibility: [],
      tokenizationMarker: tokenizationMarker(beneficiary, purpose),
    };
    records.push(b.project, block);
  }
  return { records, errors: [] };
}
