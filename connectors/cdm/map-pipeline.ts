import type { ProjectRecord } from '../../schema/canonical.ts';
import type { FileFormat, Mapped } from '../types.ts';
import { rowReader } from '../runtime/row.ts';
import { isCountryCode } from '../runtime/serial.ts';
import { cdmProjectId, isTrailingRow, parseReference, reportDate } from './ids.ts';
import { repairC1 } from '../runtime/windows-1252.ts';

// The UNEP Copenhagen Climate Centre's CDM pipeline (README.md): the project sheet (65 columns, one
// row per activity, written by pandas with its index as an unnamed first column) and the "CDM
// Issuance" sheet (one row per issuance request and commitment period, with its monitoring period).
// The pipeline is not the registry: it is UNEP-CCC's compilation of the UNFCCC's project and issuance
// pages, refreshed a few times a year (`Last_updated` / `Reporting date` `10Oct2024`).

const PROJECT = {
  ref: 'CDM project reference number',
  uid: 'Unique project identifier (traceable with Google)',
  title: 'Registration project title',
  methodology: 'Methodologies used at registration',
  decided: 'Registered or rejected',
  status: 'Simplified project status',
  website: 'Website project status',
  start: 'Start of first crediting period',
  ends: ['End of first crediting period', 'End of second crediting period', 'End of third crediting period'],
  annual: 'Amount Of Reductions (PDD ex-ante) per year in CP1 (PoA based on the sum of curr',
  perHost: 'Amount of reduction per host party (PoA)',
  hosts: 'List of host countries (ISO 2)',
} as const;

/**
 * `Simplified project status` → CAD Trust project status. A PoA is "Registered" from its registration;
 * "End of crediting period" is a crediting period that ran out (completed); activities whose validation
 * was terminated or replaced never registered (withdrawn); "Validation" is still at the DOE (listed).
 */
export function pipelineStatus(raw: string | undefined): ProjectRecord['status'] {
  const s = raw?.trim().toLowerCase() ?? '';
  if (s === '') return undefined;
  if (s.startsWith('registered')) return 'registered';
  if (s === 'end of crediting period') return 'completed';
  if (s === 'validation') return 'listed';
  if (s.startsWith('validation terminated') || s.startsWith('validation replaced') || s.startsWith('rejected') || s.startsWith('withdrawn')) return 'withdrawn';
  if (s.startsWith('deregistered')) return 'deregistered';
  if (s.includes('transition')) return 'transitioned';
  return 'unknown';
}

/**
 * The UNFCCC's page for a project, from its 30-character identifier: the address CAD Trust's CDM
 * records give as `projectLink`, so the two sources name the same page (and meet by it).
 */
export const unfcccProjectUrl = (uid: string) => `https://cdm.unfccc.int/Projects/Validation/DB/${uid}/view.html`;

/** `KE (363448), UG (1200)` → per-Party ex-ante amounts. */
function amountsByHost(text: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of (text ?? '').matchAll(/\b([A-Z]{2})\s*\((\d+)\)/g)) out.set(m[1]!, Number(m[2]));
  return out;
}

export const pipelineProjects: FileFormat = {
  id: 'cdm-pipeline-projects',
  registry: 'cdm',
  stream: 'projects',
  description: 'UNEP-CCC CDM pipeline, project sheet (CDM project reference number, Unique project identifier, Registration project title, …, List of host countries (ISO 2))',
  generation: 'UNEP-CCC CDM pipeline, project sheet (10 October 2024)',
  // `Type of CDM project: PA/PoA` is not read: a programme and a project are keyed alike.
  columns: {
    [PROJECT.ref]: { required: true },
    [PROJECT.uid]: { required: true },
    [PROJECT.hosts]: { required: true },
    [PROJECT.title]: {},
    [PROJECT.methodology]: {},
    [PROJECT.decided]: {},
    [PROJECT.status]: {},
    [PROJECT.website]: {},
    [PROJECT.start]: {},
    ...Object.fromEntries(PROJECT.ends.map((c) => [c, {}])),
    [PROJECT.annual]: {},
    [PROJECT.perHost]: {},
  },
  map(row, locator): Mapped {
    const r = rowReader(row, locator);
    const rawRef = r.required(PROJECT.ref, r.text(PROJECT.ref));
    const ref = parseReference(rawRef);
    if (rawRef !== undefined && ref === undefined) r.fail(PROJECT.ref, 'bad-project-number', `"${rawRef}" is not a CDM reference number`);
    const uid = r.required(PROJECT.uid, r.text(PROJECT.uid));
    if (uid !== undefined && !/^[0-9A-Z]{30}$/.test(uid)) r.fail(PROJECT.uid, 'bad-project-identifier', `"${uid}" is not a UNFCCC project identifier (30 letters and digits)`);
    const title = r.text(PROJECT.title);
    const name = title && repairC1(title);
    const hostsText = r.required(PROJECT.hosts, r.text(PROJECT.hosts));
    const hosts = (hostsText ?? '').split(/\s*;\s*/).filter(Boolean);
    const badHost = hosts.find((h) => !isCountryCode(h));
    if (badHost) r.fail(PROJECT.hosts, 'bad-host', `"${badHost}" is not a two-letter country code`);
    const status = r.text(PROJECT.status);
    const start = reportDate(r, row, PROJECT.start);
    const ends = PROJECT.ends.map((c) => reportDate(r, row, c)).filter((d): d is string => d !== undefined).sort();
    const decided = reportDate(r, row, PROJECT.decided);
    const annual = r.number(PROJECT.annual);
    const perHost = amountsByHost(r.text(PROJECT.perHost));
    if (r.errors.length > 0 || !ref || !uid || hosts.length === 0) return { records: [], errors: r.errors };
    const statusCode = pipelineStatus(status);
    // An activity listed without a title is still the activity: called by its identifier, as the
    // registry's reports call every project (ids.ts), until a source gives its title.
    const named = (id: string) => (name ? { name } : { name: `CDM ${id}`, nameIsIdentifier: true });
    const common = {
      type: 'project' as const,
      registry: 'cdm',
      methodology: r.text(PROJECT.methodology),
      status: statusCode,
      statusRaw: r.text(PROJECT.website) ?? status,
      creditingPeriodStart: start,
      creditingPeriodEnd: start && ends.at(-1) && ends.at(-1)! >= start ? ends.at(-1) : undefined,
      // `Registered or rejected` is the date of the decision either way: a registration date only for
      // an activity that registered.
      registeredOn: statusCode === 'registered' || statusCode === 'completed' ? decided : undefined,
      registryUrl: unfcccProjectUrl(uid),
      eligibility: [],
      coBenefits: [],
    };
    // Never registered: no reference number and no serials, so one project under the UNFCCC's
    // identifier (as CAD Trust keys it), in its host country when it has only one.
    if (ref === '0') {
      return { records: [{ ...common, ...named(uid), registryProjectId: uid, country: hosts.length === 1 ? hosts[0] : undefined, estimatedAnnualQuantity: annual }], errors: [] };
    }
    // One project per host Party: each Party's CERs are numbered and cancelled as its own.
    const records: ProjectRecord[] = hosts.map((host) => ({
      ...common,
      ...named(cdmProjectId(host, ref)),
      registryProjectId: cdmProjectId(host, ref),
      country: host,
      estimatedAnnualQuantity: perHost.get(host) ?? (hosts.length === 1 ? annual : undefined),
    }));
    return { records, errors: [] };
  },
};

const ISSUANCE = {
  kind: 'PA/PoA',
  ref: 'CDM project reference number',
  host: 'HostParty',
  date: 'Issuance date',
  start: 'Monitoring report started',
  end: 'Monitoring report ended',
  units: 'Units - Total',
  cp: 'CP',
} as const;

/**
 * The pipeline's "CDM Issuance" sheet. Its rows and the registry report's describe the same issuances,
 * but no column of one names a row of the other: the pipeline has no serials and gives the Executive
 * Board's decision date (up to years before the registry completed the transaction, e.g. every
 * issuance before 2007-11-09), the registry has no monitoring periods. They agree exactly on Party,
 * reference, commitment period and quantity (12,640 of the 12,662 registry rows of April 2025); a
 * project that issued the same quantity twice in one period (CN-1177, CN-3289, NP-136, IN-2241) needs
 * the dates to pair them. So rows are checked and kept as received here, and paired with the registry's
 * issuances where both are in view: jobs/integrity/cdm-overlap.ts reads them for the periods CERs
 * cover (README.md, "Monitoring periods").
 */
export const pipelineIssuances: FileFormat = {
  id: 'cdm-pipeline-issuances',
  registry: 'cdm',
  stream: 'pipeline-issuances',
  description: 'UNEP-CCC CDM pipeline, "CDM Issuance" sheet (PA/PoA, CDM project reference number, HostParty, Issuance process ID, Issuance date, Monitoring report started/ended, Units - Total, CP)',
  generation: 'UNEP-CCC CDM pipeline, "CDM Issuance" sheet (10 October 2024)',
  // `Issuance process ID` is not read here: jobs/integrity/cdm-overlap.ts reads it, with the columns
  // below, from the raw records (which keep the file's own header names) to tell rows apart.
  columns: {
    [ISSUANCE.ref]: { required: true },
    [ISSUANCE.host]: { required: true },
    [ISSUANCE.date]: { required: true },
    [ISSUANCE.units]: { required: true },
    [ISSUANCE.cp]: { required: true },
    [ISSUANCE.kind]: {},
    [ISSUANCE.start]: {},
    [ISSUANCE.end]: {},
  },
  map(row, locator): Mapped {
    if (isTrailingRow(row, ISSUANCE.kind)) return { records: [], errors: [] };
    const r = rowReader(row, locator);
    const rawRef = r.required(ISSUANCE.ref, r.text(ISSUANCE.ref));
    if (rawRef !== undefined && !parseReference(rawRef)) r.fail(ISSUANCE.ref, 'bad-project-number', `"${rawRef}" is not a CDM reference number`);
    const host = r.required(ISSUANCE.host, r.text(ISSUANCE.host));
    if (host !== undefined && !isCountryCode(host)) r.fail(ISSUANCE.host, 'bad-party', `"${host}" is not a two-letter country code`);
    r.required(ISSUANCE.date, reportDate(r, row, ISSUANCE.date));
    r.quantity(ISSUANCE.units);
    const cp = r.required(ISSUANCE.cp, r.text(ISSUANCE.cp))?.replace(/\.0+$/, '');
    if (cp !== undefined && !/^[12]$/.test(cp)) r.fail(ISSUANCE.cp, 'unknown-commitment-period', `"${cp}" is not a Kyoto commitment period (1 or 2)`);
    const start = reportDate(r, row, ISSUANCE.start);
    const end = reportDate(r, row, ISSUANCE.end);
    if (start && end && end < start) r.fail(ISSUANCE.end, 'period-order', `${end} is before ${ISSUANCE.start} ${start}`);
    // One row (BR-480, 2022) has no monitoring period: kept, it just covers no known days.
    return { records: [], errors: r.errors };
  },
};
