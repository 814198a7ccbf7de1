import { parseArgs } from 'node:util';
import type { Database } from '../schema/database.ts';
import { CADT_FORMATS, CadtExportError, exportCadt, writeCadtExport, type CadtExportFilter, type CadtFormat } from '../jobs/cadt-export.ts';
import { organizationOf } from './organization.ts';

// `tally export --format cadt-v1|cadt-v2 [filters] --out <path>`: a slice of the ledger in CAD Trust form,
// for a CAD Trust node (jobs/cadt-export.ts).

export const exportUsage = `usage: tally export --format cadt-v1|cadt-v2 --out <path> [filters]

  --format cadt-v1   CAD Trust v1 tables: --out file.json or file.xlsx (a sheet per table); tally ingest reads both back
  --format cadt-v2   CAD Trust v2 records per entity: --out file.json (a document keyed by entity) or a folder
                     (one saved /v2/<entity> answer per entity)
  --registry <slug>        only this registry (repeat, or separate with commas)
  --project <id>           only this project: its key (verra:1340) or the registry's id (repeat, or commas)
  --country <CC>           only projects in this country, ISO 3166-1 alpha-2 (repeat, or commas)
  --vintage <from>[-<to>]  only units and issuances of these vintage years
  --status <status>        only units in this status: held, retired, cancelled, expired, buffer, exported, pending-export
  --organization <slug>    only what this organization published, its private uploads included`;

const list = (values: string[] | undefined) => values?.flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);

export async function exportCommand(db: Database, argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: {
      format: { type: 'string' }, out: { type: 'string' }, registry: { type: 'string', multiple: true }, project: { type: 'string', multiple: true },
      country: { type: 'string', multiple: true }, vintage: { type: 'string' }, status: { type: 'string', multiple: true }, organization: { type: 'string' },
    } }));
  } catch (error) {
    console.error(`tally export: ${(error as Error).message}\n\n${exportUsage}`);
    return 2;
  }
  if (!values.format || !CADT_FORMATS.includes(values.format as CadtFormat) || !values.out) {
    console.error(exportUsage);
    return 2;
  }
  const vintage = values.vintage?.match(/^(\d{4})(?:\s*-\s*(\d{4}))?$/);
  if (values.vintage && !vintage) {
    console.error(`tally export: --vintage: expected a year or a range of years (2016-2020), got "${values.vintage}"`);
    return 2;
  }
  const filter: CadtExportFilter = {
    registries: list(values.registry), projects: list(values.project), countries: list(values.country)?.map((c) => c.toUpperCase()),
    statuses: list(values.status), ...(vintage ? { vintageFrom: Number(vintage[1]), vintageTo: Number(vintage[2] ?? vintage[1]) } : {}),
  };
  let viewer: number | null = null;
  if (values.organization) {
    const org = await organizationOf(db, 'tally export', values.organization);
    if (org === undefined) return 2;
    // The organization's own data, its private rows included: the export is read as that organization.
    viewer = org;
    filter.organization = org;
  }
  try {
    const result = await exportCadt(db, values.format as CadtFormat, filter, viewer);
    const files = await writeCadtExport(result, values.out);
    console.log(`wrote ${files.join(', ')} (${values.format})`);
    for (const [table, n] of Object.entries(result.counts)) console.log(`  ${table.padEnd(20)} ${n}`);
    if (result.format === 'cadt-v2') {
      for (const [field, n] of Object.entries(result.gaps)) console.log(`  left empty: ${field} in ${n} record(s): Tally does not hold it; add it before a node activates the data`);
    }
    return 0;
  } catch (error) {
    if (error instanceof CadtExportError) {
      console.error(`tally export: ${error.message}`);
      return 2;
    }
    throw error;
  }
}
