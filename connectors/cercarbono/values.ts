import type { BlockRecord, ProjectRecord } from '../../schema/canonical.ts';
import type { RowError } from '../types.ts';

// Values as EcoRegistry writes them for Cercarbono (reference/registries.md §0, §3.6; rb-carbon-scraper
// `docs/api-contract-cercarbono.md`), shared by the file and API mappers.

export const REGISTRY = 'cercarbono';

/** A project's public page: EcoRegistry's own links (the retirement export's `public_consult`) use the numeric id. */
export const projectUrl = (id: string) => `https://www.ecoregistry.io/projects/${id}`;

/** "Not defined", "No definido/Not defined", "NA": the registry saying it has no value. */
const NOT_STATED = /^(not defined|no definido|no definido\s*\/\s*not defined|na|n\/a|none|null|nan|-)$/i;

/** Text as the registry wrote it (inner tabs and runs of spaces folded), or undefined for a blank or a "no value" placeholder. */
export function stated(value: unknown): string | undefined {
  if (value === null || value === undefined || typeof value === 'object') return undefined;
  const text = String(value).replace(/\s+/g, ' ').trim();
  return text === '' || NOT_STATED.test(text) ? undefined : text;
}

/**
 * A region or city, or undefined for EcoRegistry's placeholder: "Worldwide" (or "Mundial") is stored,
 * always as region and city at once beside a real country, when neither was entered.
 */
export const place = (value: unknown): string | undefined => {
  const text = stated(value);
  return text && !/^(worldwide|mundial)$/i.test(text) ? text : undefined;
};

/** The beneficiary fields write "Not public" when the retiring party hid the name: no name. */
export const named = (value: unknown): string | undefined => {
  const text = stated(value);
  return text && !/^(not public|no p[uú]blico)$/i.test(text) ? text : undefined;
};

/**
 * Market eligibility of a serial (`elegible`): `ICC` "Colombian Carbon Tax" (the units may be used
 * against Colombia's carbon tax, the non-causation mechanism of Decree 926/2017) and `CV` "Voluntary
 * compensation". The analytics feed gives the description without the code, the export both.
 */
const ELIGIBILITY: readonly (readonly [code: string, description: RegExp, tag: string])[] = [
  ['ICC', /^colombian carbon tax$|^impuesto (nacional )?al carbono/i, 'colombia-carbon-tax'],
  ['CV', /^voluntary compensation$|^compensaci[oó]n voluntaria$/i, 'voluntary-compensation'],
];

/** The eligibility tag of one `elegible` / `eligibles` entry, or undefined when it names neither. */
export function eligibilityTag(entry: unknown): string | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  const { code, description } = entry as { code?: unknown; description?: unknown };
  const byCode = typeof code === 'string' ? ELIGIBILITY.find(([c]) => c === code.trim().toUpperCase()) : undefined;
  if (byCode) return byCode[2];
  const text = stated(description);
  return text ? ELIGIBILITY.find(([, d]) => d.test(text))?.[2] : undefined;
}

/** What a retirement says it was for (`certificate_destination`, `reason_using.description`) → purpose. */
export function retirementPurpose(destination: string | undefined): BlockRecord['retirementPurpose'] {
  if (!destination) return undefined;
  // Offsetting Colombia's carbon tax is domestic compliance; "Voluntary compensation" is voluntary.
  if (/carbon tax|impuesto/i.test(destination)) return 'compliance';
  if (/voluntary|voluntaria/i.test(destination)) return 'voluntary';
  return undefined;
}

/**
 * EcoRegistry's project stages (`stage`, `projectStage`, `projectsStage`) → CAD Trust project status.
 * Stages seen: Formulation, Public comments, Validation, Registration, Not assigned, Verification,
 * Certified, Credit Conversion, Certified credit conversion, Finished, Retired, Suspended, Cancelled,
 * Rejected.
 */
export function stageStatus(stage: string | undefined): ProjectRecord['status'] {
  const s = stage?.trim().toLowerCase();
  if (!s) return undefined;
  if (['formulation', 'public comments', 'validation', 'registration', 'not assigned'].includes(s)) return 'listed';
  // Verified and certified projects are registered: they have been through validation and issue units.
  if (['verification', 'certified', 'credit conversion', 'certified credit conversion'].includes(s)) return 'registered';
  if (s === 'finished' || s === 'retired') return 'completed';
  if (s === 'cancelled' || s === 'canceled' || s === 'rejected') return 'withdrawn';
  return 'unknown';
}

/** `{code: 13}` / `{globalGoalId: 13}` → `sdg-13`, for goals 1–17. */
export function sdgTag(entry: unknown): string | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  const { code, globalGoalId } = entry as { code?: unknown; globalGoalId?: unknown };
  const n = Number(code ?? globalGoalId);
  return Number.isInteger(n) && n >= 1 && n <= 17 ? `sdg-${n}` : undefined;
}

/** A project converted in from another registry, as the converted-from link names it. */
export function convertedFrom(link: unknown, description: unknown): NonNullable<ProjectRecord['otherPrograms']>[number] | undefined {
  const url = stated(link);
  const from = stated(description);
  if (!url && !from) return undefined;
  let projectId: string | undefined;
  let program = from;
  if (url) {
    try {
      const parsed = new URL(url);
      // BioCarbon's old pages are `…/project/?id=24`: the initiative id BioCarbon keys its projects by.
      projectId = parsed.searchParams.get('id') ?? undefined;
      program ??= /biocarbon/i.test(parsed.hostname) ? 'BioCarbon' : parsed.hostname;
    } catch {
      program ??= url;
    }
  }
  return { program, projectId, relation: 'converted-from', field: 'convertedFromLink' };
}

export const failure = (locator: string, field: string, code: string, message: string): RowError =>
  ({ locator, field, code, message: `${locator}: ${field}: ${message}` });

export const uniq = <T>(values: (T | undefined)[]): T[] => [...new Set(values.filter((v): v is T => v !== undefined))];

/**
 * Tags in one order whatever the source listed them in (`sdg-2` before `sdg-13`), so that the
 * project list, the analytics record and the export, which each list a project's tags, agree.
 */
export const sortedTags = (values: (string | undefined)[]): string[] =>
  uniq(values).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
