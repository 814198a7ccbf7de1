import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import type { Database } from '../schema/database.ts';
import { printAefSummary, printSummary } from './output.ts';
import { ingestFiles } from '../jobs/ingest-files.ts';
import { organizationOf } from './organization.ts';

// `tally ingest <file…> [--registry <slug>] [--organization <slug> [--private]]`: each file is one
// batch, shown with a progress bar and summarized as rows read, records new / changed / unchanged,
// and rows rejected with their reasons and line numbers.

export const ingestUsage = `usage: tally ingest <file…> (.csv or .xlsx exports, .json saved API responses) [--registry <slug>] [--format <id>] [--organization <slug>] [--private]

  Article 6 AEF tables (a workbook with a sheet per table, a CSV file per table, or a JSON document,
  with CAD Trust v2 field names) are recognised, and the AEF files given together are one upload.
  So are national-registry uploads in the CAD Trust v1 template (sheets or CSV files projects, units,
  issuances, labels, label_units…, or one JSON document keyed by table): the CAD Trust v1 files given
  together are one upload. CAD Trust v2 records (JSON as a v2 node serves them: /v2/project, /v2/issuance,
  /v2/unit…, or a document keyed by entity) are one upload too; the Article 6.4 mechanism's A6.4ERs come this way.

  --registry       read the files as this registry's exports (otherwise recognised by their columns)
  --format         read the files as this export (its id), when their columns fit two exports equally
  --organization   record the files as published by this organization (its slug)
  --private        visible only to that organization
  --preview        read, check and count everything, store nothing (what the upload would do)
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
      preview: { type: 'boolean', default: false },
      errors: { type: 'string', default: '20' },
      sheet: { type: 'string' },
      format: { type: 'string' },
    },
  });
  if (positionals.length === 0) {
    console.error(ingestUsage);
    return 2;
  }
  let ownerOrganizationId: number | undefined;
  if (values.organization) {
    ownerOrganizationId = await organizationOf(db, 'tally ingest', values.organization);
    if (ownerOrganizationId === undefined) return 2;
  } else if (values.private) {
    console.error('tally ingest: --private needs --organization (a private record must have an owner)');
    return 2;
  }

  const errors = Number(values.errors);
  const outcomes = await ingestFiles(db, positionals, {
    registry: values.registry,
    format: values.format,
    sheet: values.sheet,
    ownerOrganizationId,
    isPrivate: values.private,
    preview: values.preview,
    progressFor(path) {
      if (!process.stderr.isTTY) return undefined;
      const bar = new cliProgress.SingleBar({ format: `${basename(path)} [{bar}] {percentage}% | {rows} rows`, stream: process.stderr, hideCursor: true }, cliProgress.Presets.shades_classic);
      bar.start(statSync(path).size, 0, { rows: 0 });
      return { onBytes: (n) => bar.update(n), onProgress: ({ rowsRead }) => bar.update({ rows: rowsRead }), done: () => bar.stop() };
    },
    onOutcome(outcome) {
      if (outcome.kind === 'aef') printAefSummary(outcome.summary, errors);
      else if (outcome.kind === 'ledger') printSummary(outcome.files.join(', '), outcome.format, outcome.summary, errors);
      else console.error(`${outcome.files.join(', ')}: ${outcome.failure}`);
    },
  });
  const failures = outcomes.filter((o) => !o.accepted).length;
  return failures === 0 ? 0 : 1;
}
