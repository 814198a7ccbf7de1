import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { eq } from 'drizzle-orm';
import cliProgress from 'cli-progress';
import { organizations } from '../schema/db/index.ts';
import type { Database } from '../schema/database.ts';
import { isAefFile } from '../connectors/article6/aef.ts';
import { AefRejected, ingestAef } from './article6/aef-upload.ts';
import { printAefSummary, printSummary } from './cli-output.ts';
import { BatchRejected } from './ingest.ts';
import { detectFileFormat, ingestFile } from './ingest-file.ts';

// `tally ingest <file…> [--registry <slug>] [--organization <slug> [--private]]`: each file is one
// batch, shown with a progress bar and summarized as rows read, records new / changed / unchanged,
// and rows rejected with their reasons and line numbers.

export const ingestUsage = `usage: tally ingest <file…> (.csv or .xlsx exports, .json saved API responses) [--registry <slug>] [--organization <slug>] [--private]

  Article 6 AEF tables (a workbook with a sheet per table, a CSV file per table, or a JSON document,
  with CAD Trust v2 field names) are recognised, and the AEF files given together are one upload.

  --registry       read the files as this registry's exports (otherwise recognised by their columns)
  --organization   record the files as published by this organization (its slug)
  --private        visible only to that organization
  --sheet <name>   for a workbook: read this sheet only
  --errors <n>     how many row errors to print per file (default 20)`;

export async function ingestCommand(db: Database, argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      registry: { type: 'string' },
      organization: { type: 'string' },
      private: { type: 'boolean', default: false },
      errors: { type: 'string', default: '20' },
      sheet: { type: 'string' },
    },
  });
  if (positionals.length === 0) {
    console.error(ingestUsage);
    return 2;
  }
  let ownerOrganizationId: number | undefined;
  if (values.organization) {
    const [org] = await db.select({ id: organizations.id }).from(organizations).where(eq(organizations.slug, values.organization));
    if (!org) {
      console.error(`tally ingest: no organization "${values.organization}"`);
      return 2;
    }
    ownerOrganizationId = org.id;
  } else if (values.private) {
    console.error('tally ingest: --private needs --organization (a private record must have an owner)');
    return 2;
  }

  let failures = 0;
  // The tables of one AEF submission may come as several files (one CSV per table): they are one upload.
  const aef: string[] = [];
  for (const path of positionals) if (await isAefFile(path).catch(() => false)) aef.push(path);
  if (aef.length > 0) {
    try {
      printAefSummary(await ingestAef(db, aef, { ownerOrganizationId, isPrivate: values.private }), Number(values.errors));
    } catch (error) {
      if (error instanceof AefRejected) printAefSummary(error.summary, Number(values.errors));
      else console.error(`${aef.map((p) => basename(p)).join(', ')}: ${(error as Error).message}`);
      failures += 1;
    }
  }
  for (const path of positionals.filter((p) => !aef.includes(p))) {
    const file = basename(path);
    // Spreadsheets and CSV files are recognised before the bar starts, so a file that is no known
    // export gets its explanation alone; JSON is recognised from its first record inside ingestFile.
    let format = 'json';
    if (!/\.json$/i.test(path)) {
      try {
        format = (await detectFileFormat(path, values.registry, values.sheet)).id;
      } catch (error) {
        console.error(`${file}: ${(error as Error).message}`);
        failures += 1;
        continue;
      }
    }
    const bar = process.stderr.isTTY
      ? new cliProgress.SingleBar({ format: `${file} [{bar}] {percentage}% | {rows} rows`, stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic)
      : undefined;
    bar?.start(statSync(path).size, 0, { rows: 0 });
    try {
      const summary = await ingestFile(db, path, {
        registry: values.registry,
        sheet: values.sheet,
        ownerOrganizationId,
        isPrivate: values.private,
        onBytes: (n) => bar?.update(n),
        onProgress: ({ rowsRead }) => bar?.update({ rows: rowsRead }),
      });
      bar?.stop();
      printSummary(file, summary.format, summary, Number(values.errors));
    } catch (error) {
      bar?.stop();
      if (error instanceof BatchRejected) printSummary(file, format, error.summary, Number(values.errors));
      else console.error(`${file}: ${(error as Error).message}`);
      failures += 1;
    }
  }
  return failures === 0 ? 0 : 1;
}
