import { parseArgs } from 'node:util';
import type { Database } from '../schema/database.ts';
import { writeDownloads } from '../jobs/downloads.ts';
import { organizationOf } from './organization.ts';

// `tally dump --out <dir> [--organization <slug>]`: the files GET /data/* serves (jobs/downloads.ts),
// written into a folder: projects and credits as CSV and Parquet, and manifest.json.

export const dumpUsage = `usage: tally dump --out <dir> [--organization <slug>]

  --out <dir>              the folder to write projects.csv, projects.parquet, credits.csv, credits.parquet and manifest.json into
  --organization <slug>    the public rows and this organization's private ones (default: the public rows only)`;

export async function dumpCommand(db: Database, argv: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: { out: { type: 'string' }, organization: { type: 'string' } } }));
  } catch (error) {
    console.error(`tally dump: ${(error as Error).message}\n\n${dumpUsage}`);
    return 2;
  }
  if (!values.out) {
    console.error(dumpUsage);
    return 2;
  }
  let organizationId: number | null = null;
  if (values.organization) {
    const org = await organizationOf(db, 'tally dump', values.organization);
    if (org === undefined) return 2;
    organizationId = org;
  }
  const manifest = await writeDownloads(db, values.out, { organizationId, organization: values.organization ?? null });
  for (const file of manifest.files) console.log(`${file.name.padEnd(18)} ${String(file.rows).padStart(10)} rows  ${String(file.bytes).padStart(12)} bytes  sha256 ${file.sha256}`);
  console.log(`manifest.json      ledger version ${manifest.ledger_version}, generated ${manifest.generated_at}`);
  return 0;
}
