import registryList from '../../schema/taxonomy/data/registries.json' with { type: 'json' };
import { countryByCode, resolveCountry } from '../../schema/taxonomy/index.ts';

// CAD Trust names registries in words (`currentRegistry`, `registryOfOrigin`, `relatedProjects.registry`,
// v2 `projectRegistryName`; the `registries` picklist of reference/cadt.md §1.3): these are the names Tally
// maps to its own slugs. A government's registry is "<Country> National Registry" (`Chile National
// Registry`), which becomes `national-<ISO alpha-2>` (`national-cl`), a registry Tally creates when a first
// upload names it. The picklist has no name for most independent registries (ART TREES, Isometric, Puro…):
// for those the name in Tally's own registry list is read, and written by the exports, so an export reads back.

const SLUGS: Record<string, string> = {
  'CDM Registry': 'cdm',
  'Verra': 'verra',
  'Gold Standard': 'gold-standard',
  'American Carbon Registry (ACR)': 'american-carbon-registry',
  'Climate Action Reserve (CAR)': 'climate-action-reserve',
  'Article 6.4 Mechanism Registry': 'a64-mechanism',
  'Joint Crediting Mechanism': 'jcm',
  'EcoRegistry': 'cercarbono',
  'Global Carbon Council': 'global-carbon-council',
};

const fold = (s: string) => s.trim().toLowerCase().replace(/\s+/g, ' ');
const TALLY_NAMES = (registryList as { id: string; name: string }[]).map((r) => [r.name, r.id] as const);
const BY_NAME = new Map([...TALLY_NAMES, ...Object.entries(SLUGS)].map(([name, slug]) => [fold(name), slug]));
const CADT_NAME = new Map(Object.entries(SLUGS).map(([name, slug]) => [slug, name]));
const TALLY_NAME = new Map(TALLY_NAMES.map(([name, slug]) => [slug, name]));

/** A national registry Tally creates on demand: a row of the `registries` table. */
export type NationalRegistry = { id: string; name: string; nameJa: string; kind: 'national'; serialScheme: 'per-issuance'; url: null };

/** The registry a CAD Trust name means, or undefined when Tally has no slug for it. */
export function registryOfCadtName(name: string): { slug: string; national?: NationalRegistry } | undefined {
  const slug = BY_NAME.get(fold(name));
  if (slug) return { slug };
  const m = name.trim().match(/^(.+?)\s+National Registry$/i);
  const country = m ? resolveCountry(m[1]) : undefined;
  if (!country) return undefined;
  const id = `national-${country.code.toLowerCase()}`;
  // Each national registry numbers its units in its own way; Tally compares serials only inside one project.
  return { slug: id, national: { id, name: `${country.en} National Registry`, nameJa: `${country.ja}国家登録簿`, kind: 'national', serialScheme: 'per-issuance', url: null } };
}

/**
 * The name an export writes for a registry: CAD Trust's picklist name where it has one, "<Country> National
 * Registry" for a national registry, else the name in Tally's registry list (which the import reads too).
 */
export function cadtRegistryName(slug: string, fallback?: string): string {
  const national = slug.match(/^national-([a-z]{2})$/);
  const country = national ? countryByCode(national[1]!.toUpperCase()) : undefined;
  return CADT_NAME.get(slug) ?? (country ? `${country.en} National Registry` : undefined) ?? TALLY_NAME.get(slug) ?? fallback ?? slug;
}

/** The names `registryOfCadtName` accepts, for messages. */
export const ACCEPTED_REGISTRY_NAMES = `${Object.keys(SLUGS).join(', ')}, the registry names of Tally's registry list (ART TREES, Isometric, Puro.earth…), or "<Country> National Registry"`;
