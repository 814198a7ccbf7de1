import { parseArgs } from 'node:util';
import { writeFile } from 'node:fs/promises';
import type { Database } from '../schema/database.ts';
import { AEF_WORKBOOK_LAYOUTS, AefNotFound, aefWorkbook, exportAef, type AefWorkbookLayout } from '../jobs/article6/aef-export.ts';
import { consistencyChecks } from '../jobs/article6/consistency.ts';
import { partySummary } from '../jobs/article6/summary.ts';
import { organizationOf } from './organization.ts';

// `tally article6 <party> [--year <y>] [--export <file.json|file.xlsx> [--layout cadt|aef]] [--organization <slug>]`:
// a Party's Article 6 position by year, the consistency checks of its AEF, and its AEF for a year.

export const article6Usage = `usage: tally article6 <party> [--year <y>] [--export <file.json|file.xlsx> [--layout cadt|aef]] [--organization <slug>]

  <party>          ISO 3166-1 alpha-3 (VUT, CHE…)
  --year           the reporting year to check and export (checks: all years up to it)
  --export         write the Party's AEF for --year as JSON or a workbook, in a form tally ingest reads
  --layout         the workbook's form: cadt (default), a sheet per table with CAD Trust v2 field names
                   as headers; aef, the current official AEF spreadsheet (CMA.6: Table 1 Submission …
                   Table 5 Auth. entities)
  --organization   see that organization's private uploads too`;

const t = (n: number) => n.toLocaleString('en-US').padStart(12);

export async function article6Command(db: Database, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: {
    year: { type: 'string' }, export: { type: 'string' }, layout: { type: 'string' }, organization: { type: 'string' },
  } });
  const layout = (values.layout ?? 'cadt') as AefWorkbookLayout;
  if (!AEF_WORKBOOK_LAYOUTS.includes(layout) || (values.layout !== undefined && !/\.xlsx$/i.test(values.export ?? ''))) {
    console.error(article6Usage);
    return 2;
  }
  const party = positionals[0]?.toUpperCase();
  const year = values.year === undefined ? undefined : Number(values.year);
  if (!party || !/^[A-Z]{3}$/.test(party) || (year !== undefined && !Number.isInteger(year)) || (values.export && year === undefined)) {
    console.error(article6Usage);
    return 2;
  }
  let viewer: number | null = null;
  if (values.organization) {
    const org = await organizationOf(db, 'tally article6', values.organization);
    if (org === undefined) return 2;
    viewer = org;
  }
  const years = await partySummary(db, party, viewer);
  console.log(`${party}         authorized  first-transf.        held        used    CA added  CA subtr.  open gaps`);
  for (const y of years) {
    console.log(`${y.year}   ${t(y.authorized)}${t(y.firstTransferred)}${t(y.held)}${t(y.used)}${t(y.caAdded)}${t(y.caSubtracted)}${t(y.openGapTonnes)}`);
  }
  for (const y of years.filter((x) => x.unstatedAuthorizations > 0)) {
    console.log(`${y.year}: ${y.unstatedAuthorizations} authorization(s) state no quantity (not counted in "authorized")`);
  }
  console.log('\nconsistency checks:');
  for (const r of await consistencyChecks(db, party, { reportYear: year, viewer })) {
    console.log(`  ${r.outcome.padEnd(14)} ${r.check}`);
    for (const problem of r.problems) console.log(`                 ${problem}`);
  }
  if (values.export && year !== undefined) {
    try {
      const document = await exportAef(db, party, year, viewer);
      if (/\.xlsx$/i.test(values.export)) await (await aefWorkbook(document, layout)).xlsx.writeFile(values.export);
      else await writeFile(values.export, `${JSON.stringify(document, null, 1)}\n`);
      console.log(`\nwrote ${values.export}`);
    } catch (error) {
      if (error instanceof AefNotFound) {
        console.error(`tally article6: ${error.message}`);
        return 1;
      }
      throw error;
    }
  }
  return 0;
}
