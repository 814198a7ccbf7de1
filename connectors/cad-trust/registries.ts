import { resolveCountry } from '../../schema/taxonomy/index.ts';

// CAD Trust names registries in words (`currentRegistry`, `registryOfOrigin`, `relatedProjects.registry`;
// the `registries` picklist of reference/cadt.md §1.3): these are the names Tally maps to its own slugs.
// A government's registry is "<Country> National Registry" (`Chile National Registry`), which becomes
// `national-<ISO alpha-2>` (`national-cl`), a registry Tally creates when a first upload names it.

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
const BY_NAME = new Map(Object.entries(SLUGS).map(([name, slug]) => [fold(name), slug]));

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

/** The names `registryOfCadtName` accepts, for messages. */
export const ACCEPTED_REGISTRY_NAMES = `${Object.keys(SLUGS).join(', ')}, or "<Country> National Registry"`;
