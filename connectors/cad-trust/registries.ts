import { countryByCode, resolveCountry } from '../../schema/taxonomy/index.ts';
import { registries } from '../index.ts';

// CAD Trust names registries in words (`currentRegistry`, `registryOfOrigin`, `relatedProjects.registry`,
// v2 `projectRegistryName`; the `registries` picklist of reference/cadt.md §1.3): the names a registry's
// manifest declares (`cadTrustName`) map to its slug. A government's registry is "<Country> National
// Registry" (`Chile National Registry`), which becomes `national-<ISO alpha-2>` (`national-cl`), a
// registry Tally creates when a first upload names it. The picklist has no name for most independent
// registries (ART TREES, Isometric, Puro…): for those the registry's own name in its manifest is read, and
// written by the exports, so an export reads back.

const fold = (s: string) => s.trim().toLowerCase().replace(/\s+/g, ' ');

/** A national registry Tally creates on demand: a row of the `registries` table. */
export type NationalRegistry = { id: string; name: string; nameJa: string; kind: 'national'; serialScheme: 'per-issuance'; url: null };

/** The registry a CAD Trust name means, or undefined when Tally has no slug for it. */
export function registryOfCadtName(name: string): { slug: string; national?: NationalRegistry } | undefined {
  const slug = registries().find((r) => fold(r.name) === fold(name) || (r.cadTrustName !== undefined && fold(r.cadTrustName) === fold(name)))?.id;
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
  const registry = registries().find((r) => r.id === slug);
  return registry?.cadTrustName ?? (country ? `${country.en} National Registry` : undefined) ?? registry?.name ?? fallback ?? slug;
}

/** The names `registryOfCadtName` accepts, for messages. */
export const acceptedRegistryNames = () => `${registries().flatMap((r) => (r.cadTrustName ? [r.cadTrustName] : [])).join(', ')}, the registry names of Tally's registry list (ART TREES, Isometric, Puro.earth…), or "<Country> National Registry"`;
