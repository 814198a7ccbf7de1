import berkeleyTypes from './data/berkeley-project-types.json' with { type: 'json' };
import protocolCategories from './data/protocol-categories.json' with { type: 'json' };
import protocolTable from './data/protocols.json' with { type: 'json' };
import protocolExtras from './data/protocols-extra.json' with { type: 'json' };
import protocolTypes from './data/protocol-project-types.json' with { type: 'json' };
import projectTypeTable from './data/project-types.json' with { type: 'json' };
import { isTerm, vocabularies, type Term } from './vocabularies.ts';

// Methodology / protocol strings → normalized protocol ids → category, project type and
// reduction/removal (DESIGN §4). Starts from CarbonPlan's table of 1,036 known spellings, then
// normalizes (case, version suffixes, ";" lists, embedded CDM/VCS codes) so that new spellings map.
// Whatever still matches nothing is returned in `unmatched`: recorded, never dropped.

type ProtocolEntry = { category?: string; 'known-strings': string[]; program?: string };
type ProjectTypeEntry = { en: string; ja: string; category: string; reductionRemoval: 'reduction' | 'removal' | 'mixed' };

const protocolsById: Record<string, ProtocolEntry> = { ...(protocolTable as Record<string, ProtocolEntry>) };
for (const [id, extra] of Object.entries(protocolExtras as Record<string, ProtocolEntry | string>)) {
  if (typeof extra === 'string') continue; // the _source note
  const base = protocolsById[id];
  protocolsById[id] = base ? { ...base, 'known-strings': [...base['known-strings'], ...extra['known-strings']] } : extra;
}
const projectTypes = projectTypeTable as Record<string, ProjectTypeEntry>;
const typeByProtocol = protocolTypes as Record<string, string>;
const categoryByProtocol = protocolCategories as Record<string, string>;
const berkeley = berkeleyTypes as Record<string, string>;

export type ProjectTypeSource = 'berkeley' | 'protocol';

export type MethodologyClassification = {
  /** Protocol ids in the order the string names them (`acm0002`, `vm0007`, `car-adipic`). */
  protocols: string[];
  /** Parts of the string that matched no protocol, as written. */
  unmatched: string[];
  /** Vocabulary `category`: from the first protocol whose category is known, else from the project type, else `unknown`. */
  category: string;
  /** Key of project-types.json implied by the protocols, if any. */
  projectType: string | null;
};

export type ProjectClassification = MethodologyClassification & {
  projectTypeSource: ProjectTypeSource | null;
  reductionRemoval: ProjectTypeEntry['reductionRemoval'] | null;
};

/** Case, dashes and spacing folded; what two spellings of one protocol have in common. */
function fold(text: string): string {
  return text.normalize('NFKC').replace(/[‐-―]/g, '-').replace(/\s+/g, ' ').trim().toLowerCase();
}

const byExact = new Map<string, string[]>();
const byFolded = new Map<string, string[]>();
for (const [id, entry] of Object.entries(protocolsById)) {
  for (const known of entry['known-strings']) {
    for (const [index, key] of [[byExact, known.trim()], [byFolded, fold(known)]] as const) {
      const ids = index.get(key) ?? [];
      if (!ids.includes(id)) index.set(key, [...ids, id]);
    }
  }
}

// J-Credit methodology codes of the current generation: EN-S-001 (省エネ), EN-R-002 (再エネ), IN-, AG-,
// WA-, FO-. They become protocol ids `j-credit-en-s-001`; the category comes from the J-Credit category
// the prefix names (vocabulary `jCreditCategory`). Legacy 国内クレジット and J-VER codes (001-A, R001)
// stay unmatched until their programmes' method lists are loaded.
const J_CREDIT_CODE = /\b(EN-S|EN-R|IN|AG|WA|FO)-(\d{3})\b/g;
const J_CREDIT_PROTOCOL = /^j-credit-(en-s|en-r|in|ag|wa|fo)-\d{3}$/;

/** The J-Credit category (省エネ, 再エネ…) of a J-Credit methodology code such as `EN-S-001`. */
export function jCreditCategoryOf(code: string): Term | undefined {
  const prefix = code.trim().toUpperCase().match(/^(EN-S|EN-R|IN|AG|WA|FO)-\d{3}$/)?.[1];
  return vocabularies.jCreditCategory?.terms.find((t) => (t.methodologyPrefixes as string[]).includes(prefix ?? ''));
}

/** A protocol's category: CarbonPlan's, else ours where CarbonPlan left it empty or unknown. */
function categoryOf(id: string): string | undefined {
  if (J_CREDIT_PROTOCOL.test(id)) return jCreditCategoryOf(id.slice('j-credit-'.length))?.category as string | undefined;
  const category = protocolsById[id]?.category;
  return category && category !== 'unknown' ? category : categoryByProtocol[id];
}

/** The categories of CarbonPlan's table that DESIGN §4 folds into carbon-capture. */
function toCategory(category: string | undefined): string {
  if (!category || category === 'unknown') return 'unknown';
  if (category === 'biomass-cdr' || category === 'air-capture' || category === 'alkalinity-cdr') return 'carbon-capture';
  return isTerm('category', category) ? category : 'unknown';
}

// CDM (ACM0002, AM0080, AR-ACM0003, AR-AMS0007, AMS-III.D.) and Verra (VM0007, VMR0006) codes,
// wherever they sit in a string.
const CODE = /\b(?:AR-)?(?:ACM|AMS|AM)\d{4}\b|\bAMS-(?:IV|I{1,3})\.[A-Z]{1,2}\d?\b|\bVM[RD]?\d{4,5}\b/gi;

function codeToId(code: string): string {
  return code.toLowerCase().replace(/\./g, '-').replace(/-+$/, '');
}

// " - Version 1.0", "v3.1", "(Version NA)", ", June 25, 2015": versions say nothing about the protocol.
const VERSION_SUFFIX = /\s*(?:[-–,:(]\s*)?(?:\bversion\b|\bver\b\.?|\bv)\s*(?:\d[\d.]*|na)\)?.*$|\s*,\s*[a-z]+ \d{1,2}, \d{4}$/i;

function matchPart(part: string): string[] {
  const folded = fold(part);
  const direct = byFolded.get(folded);
  if (direct) return direct;

  const codes = [...part.matchAll(CODE)].map((m) => codeToId(m[0])).filter((id) => id in protocolsById);
  if (codes.length > 0) return [...new Set(codes)];
  const jCredit = [...part.matchAll(J_CREDIT_CODE)].map((m) => `j-credit-${m[1]!.toLowerCase()}-${m[2]}`);
  if (jCredit.length > 0) return [...new Set(jCredit)];

  const withoutVersion = fold(part.replace(VERSION_SUFFIX, ''));
  const unversioned = byFolded.get(withoutVersion);
  if (unversioned) return unversioned;

  // CAR writes "<project type> - <compliance programme> - <protocol title>, <date>": try shorter prefixes.
  const segments = withoutVersion.split(' - ');
  for (let n = segments.length - 1; n >= 1; n -= 1) {
    const prefix = byFolded.get(segments.slice(0, n).join(' - '));
    if (prefix) return prefix;
  }
  return [];
}

/** Classifies one methodology or protocol string as a registry writes it. */
export function classifyMethodology(raw: string | null | undefined): MethodologyClassification {
  const text = raw?.trim() ?? '';
  const protocols: string[] = [];
  const unmatched: string[] = [];
  if (text) {
    const exact = byExact.get(text) ?? byFolded.get(fold(text));
    if (exact) {
      // The table lists a multi-protocol string under each protocol; restore the order the string names them.
      const at = (id: string) => {
        const i = fold(text).indexOf(id.replace(/-/g, '.'));
        return i < 0 ? Number.MAX_SAFE_INTEGER : i;
      };
      protocols.push(...[...exact].sort((a, b) => at(a) - at(b)));
    } else {
      for (const part of text.split(/\s*;\s*/).filter(Boolean)) {
        const ids = matchPart(part);
        if (ids.length === 0) unmatched.push(part);
        for (const id of ids) if (!protocols.includes(id)) protocols.push(id);
      }
    }
  }
  // CarbonPlan maps placeholder strings ("Not provided", "Other") to the protocol `unknown`:
  // they name no protocol, so they count as unmatched.
  const named = protocols.filter((id) => id !== 'unknown');
  if (named.length < protocols.length && named.length === 0) unmatched.push(text);

  // Later protocols win, as in OffsetsDB: "VM0007; VM0048" is REDD+ under its newest framework.
  let projectType: string | null = null;
  for (const id of named) projectType = typeByProtocol[id] ?? projectType;
  // A protocol CarbonPlan left without a category (VM0033, tidal wetlands) takes its project type's.
  const category = named.map((id) => toCategory(categoryOf(id))).find((c) => c !== 'unknown')
    ?? (projectType ? projectTypes[projectType]?.category : undefined) ?? 'unknown';
  return { protocols: named, unmatched, category, projectType };
}

const BERKELEY_PREFIX: Record<string, string> = {
  verra: 'VCS',
  'gold-standard': 'GS',
  'american-carbon-registry': 'ACR',
  'climate-action-reserve': 'CAR',
};

/** The Berkeley Carbon Trading Project's project type for a registry project, where it has one. */
export function berkeleyProjectType(registry: string, registryProjectId: string): string | undefined {
  const prefix = BERKELEY_PREFIX[registry];
  const number = registryProjectId.match(/\d+/)?.[0];
  if (!prefix || !number) return undefined;
  return berkeley[`${prefix}${Number(number)}`];
}

/**
 * Classifies a project: protocols and category from its methodology; project type from Berkeley's
 * per-project table where it lists the project, else from the protocols; reduction/removal from the type.
 */
export function classifyProject(input: { registry: string; registryProjectId: string; methodology: string | null | undefined }): ProjectClassification {
  const byMethodology = classifyMethodology(input.methodology);
  const fromBerkeley = berkeleyProjectType(input.registry, input.registryProjectId);
  const projectType = fromBerkeley && fromBerkeley in projectTypes ? fromBerkeley : byMethodology.projectType;
  const source: ProjectTypeSource | null = projectType === null ? null : projectType === fromBerkeley ? 'berkeley' : 'protocol';
  const type = projectType ? projectTypes[projectType] : undefined;
  const category = byMethodology.category !== 'unknown' ? byMethodology.category : (type?.category ?? 'unknown');
  return {
    ...byMethodology,
    category,
    projectType,
    projectTypeSource: source,
    reductionRemoval: type?.reductionRemoval ?? null,
  };
}

export function projectType(key: string): ProjectTypeEntry | undefined {
  return projectTypes[key];
}

export const projectTypeKeys: readonly string[] = Object.keys(projectTypes);
