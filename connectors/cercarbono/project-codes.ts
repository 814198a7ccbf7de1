import type { ProjectRecord } from '../../schema/canonical.ts';
import { stated } from './values.ts';

// EcoRegistry gives each Cercarbono project two identifiers (rb-carbon-scraper
// `docs/api-contract-cercarbono.md`; reference/offsetsdb.md §2.7, §7):
// - a numeric `id`, counted over every project of the platform (all the standards EcoRegistry hosts). The
//   serials name it (`CDC_<id>_…`), and so do the retirement feed and export (`project_id`), the analytics
//   feed and the public pages (`www.ecoregistry.io/projects/<id>`): it is the key Tally gives the project;
// - a `code` (`CDC-271`), the reference people quote and the site's "Projects Report" lists as
//   `Project ID`, numbered per standard prefix (CDC, CP, CGS, CDB and CBA reuse numbers).
// One does not follow from the other: CDC-1 to CDC-50 are projects 1 to 50, but CDC-271 is project 274.
// The registry pairs them only in its project records (the standard's project list, a project's detail,
// the analytics feed as CarbonPlan exports it): those give the project its code as an alternate id, and a
// source that knows only the code (the Projects Report) names the project by it (`idIsAlternate`), which
// the ledger resolves to the id it is paired with, or keeps until a project record pairs it.

/** A project code as Cercarbono writes it (`CDC-271`, any case, spaces around the dash, leading zeros) in one form: `CDC-271`. */
export function projectCode(text: string | undefined): string | undefined {
  const m = text === undefined ? null : /^([A-Z]+)\s*-\s*0*(\d+)$/i.exec(text.trim());
  return m ? `${m[1]!.toUpperCase()}-${Number(m[2])}` : undefined;
}

/** A project record's `code`, as the project's alternate id. */
export function alternateCode(code: unknown): Pick<ProjectRecord, 'alternateIds'> {
  const written = projectCode(stated(code));
  return written ? { alternateIds: [written] } : {};
}
