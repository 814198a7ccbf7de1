import type { ProjectRecord } from '../../schema/canonical.ts';
import { resolveCountry } from '../../schema/taxonomy/index.ts';
import type { FileFormat, Mapped, RowError } from '../types.ts';
import { rowReader } from '../runtime/row.ts';
import { readReference } from './reference.ts';

// The JCM project list across partner countries, read as the "JCM Projects data (CSV)" form
// (reference registries.md §4: jcm.go.jp publishes a project CSV, linked from /jc/link-page, and a
// project page per partner, /{cc}-jp/projects). The CSV Tally has is derived: a public parser's output
// from jcm.go.jp's HTML pages (create-to-solve/carbon-registry-intelligence-db), with the site's own
// strings kept in `*_raw` columns beside the parser's readings. Tally reads the raw columns. Quirks:
// - `methodology_no_raw` is the page's HTML: one `<a href="/jc/methodologies/vn-am007-ver1-0/">VN_AM007
//   Ver1.0</a>` per methodology, separated by `<br>` or in `<li>` items; the anchors' texts are the
//   methodologies (`VN_AM011 Ver1.0; VN_AM012 Ver1.0`); `methodology_no` runs them together with spaces;
// - `registration_date_raw` is `DD Mon YY` (`28 May 19`), empty for projects not registered;
// - status: `Project registered` → registered, `Validation` (under validation) → listed, `Request for
//   Registration withdrawn` → withdrawn; anything else → unknown, the raw kept;
// - `source_url` is the same constant (`https://www.jcm.go.jp/jc/mn-projects/`) on every row, a
//   constant of the parser, not the project's page: not used. No per-project URL is stored;
// - the reference number's prefix is the host country's ISO code (reference.ts); a row whose
//   `host_country` names another country is rejected.

export const P = {
  ref: 'reference_no',
  host: 'host_country',
  title: 'project_title',
  status: 'status',
  registeredRaw: 'registration_date_raw',
  hostParticipant: 'host_country_participant',
  japaneseParticipant: 'japanese_participant',
  methodologyRaw: 'methodology_no_raw',
  methodology: 'methodology_no',
} as const;

/** JCM's project statuses → CAD Trust project status. */
export function jcmStatus(raw: string | undefined): ProjectRecord['status'] {
  const s = raw?.trim().toLowerCase() ?? '';
  if (s === '') return undefined;
  if (s === 'project registered' || s === 'registered') return 'registered';
  if (s === 'validation') return 'listed';
  if (/withdrawn/.test(s)) return 'withdrawn';
  return 'unknown';
}

const decodeEntities = (text: string) => text.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'");

/** The methodologies an HTML cell links to (`<a …>VN_AM007 Ver1.0</a>`), or the cell's plain text. */
export function methodologiesOf(html: string | undefined, plain: string | undefined): string[] {
  const anchors = [...(html ?? '').matchAll(/<a\b[^>]*>([\s\S]*?)<\/a>/gi)].map((m) => decodeEntities(m[1]!.replace(/<[^>]+>/g, '')).replace(/\s+/g, ' ').trim()).filter(Boolean);
  if (anchors.length > 0) return anchors;
  const text = decodeEntities((html ?? plain ?? '').replace(/<[^>]+>/g, ' ')).replace(/\s+/g, ' ').trim();
  return text ? [text] : [];
}

export const jcmProjects: FileFormat = {
  id: 'jcm-projects',
  registry: 'jcm',
  stream: 'projects',
  description: 'JCM project list, all partner countries (JCM Projects data CSV as derived from jcm.go.jp: reference_no, host_country, project_title, status, registration_date_raw, methodology_no_raw, …)',
  generation: 'JCM Projects data as derived from jcm.go.jp (2026)',
  // `methodology_no` is read only where `methodology_no_raw` is empty.
  columns: {
    [P.ref]: { required: true },
    [P.status]: { required: true },
    [P.title]: {},
    [P.host]: {},
    [P.registeredRaw]: {},
    [P.hostParticipant]: {},
    [P.japaneseParticipant]: {},
    [P.methodologyRaw]: {},
    [P.methodology]: {},
  },
  map(row, locator): Mapped {
    const r = rowReader(row, locator);
    const reference = readReference(r, P.ref);
    const title = r.text(P.title);
    const hostText = r.text(P.host);
    const host = resolveCountry(hostText);
    if (reference && host && host.code !== reference.host.code) {
      r.fail(P.host, 'host-mismatch', `"${hostText}" is not the partner country of ${reference.ref} (${reference.host.en})`);
    }
    const registeredOn = r.date(P.registeredRaw);
    const statusRaw = r.text(P.status);
    if (r.errors.length > 0 || !reference) return { records: [], errors: r.errors };
    const warnings: RowError[] = [];
    if (hostText && !host) warnings.push({ locator, field: P.host, code: 'unknown-country', message: `${locator}: ${P.host}: "${hostText}" is no country Tally knows; the reference number's ${reference.host.code} is used` });
    const participants = [r.text(P.hostParticipant), r.text(P.japaneseParticipant)].filter(Boolean);
    const project: ProjectRecord = {
      type: 'project',
      registry: 'jcm',
      registryProjectId: reference.ref,
      // A project listed without a title is still the project its reference number names.
      ...(title ? { name: title } : { name: `JCM ${reference.ref}`, nameIsIdentifier: true }),
      proponent: participants.length > 0 ? participants.join(' / ') : undefined,
      country: reference.host.code,
      methodology: methodologiesOf(row[P.methodologyRaw], row[P.methodology]).join('; ') || undefined,
      status: jcmStatus(statusRaw),
      statusRaw,
      registeredOn,
      eligibility: [],
      coBenefits: [],
    };
    return { records: [project], errors: [], warnings };
  },
};
