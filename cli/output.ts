import type { AefSummary } from '../jobs/article6/aef-upload.ts';
import type { IngestSummary } from '../jobs/ingest.ts';

// How the tally command reports a batch: the same summary for an ingested file and a sync.

export function printSummary(file: string, format: string, s: IngestSummary, maxErrors: number): void {
  const t = (x: { new: number; changed: number; unchanged: number }) => `${x.new} new, ${x.changed} changed, ${x.unchanged} unchanged`;
  const lines = [
    s.status === 'preview' ? `${file} (${format}): preview, nothing stored` : `${file} (${format}): batch ${s.batchId} ${s.status}${s.digest ? `, digest ${s.digest.slice(0, 16)}…` : ''}`,
    `  rows read      ${s.rowsRead}`,
    `  rows rejected  ${s.rowsRejected}`,
    ...warningLines(s),
    ...readLines(s),
    `  raw records    ${s.rawRecords.new} new of ${s.rawRecords.seen}`,
    `  projects       ${t(s.projects)}`,
    `  issuances      ${t(s.issuances)}`,
    `  blocks         ${t(s.blocks)}${s.blocks.superseded ? `, ${s.blocks.superseded} superseded (no longer listed)` : ''}`,
    ...(s.labels.new + s.labels.changed + s.labels.unchanged > 0 ? [`  labels         ${t(s.labels)}`] : []),
    ...(s.mirrors.new + s.mirrors.changed + s.mirrors.unchanged > 0 ? [`  mirrored       ${t(s.mirrors)} (another registry's units, as evidence; no tonnes added)`] : []),
    `  events         ${s.events.new} new, ${s.events.existing} already recorded`,
  ];
  if (s.failure) lines.push(`  failed: ${s.failure}`);
  for (const e of [...s.errors, ...s.warnings].slice(0, maxErrors)) lines.push(`  ${e.message}`);
  const more = s.errors.length + s.warnings.length - maxErrors;
  if (more > 0) lines.push(s.status === 'preview' ? `  … and ${more} more` : `  … and ${more} more (stored with batch ${s.batchId})`);
  console.log(lines.join('\n'));
}

/** Warnings (rows kept, a value left out), with the country spellings no table knows named once each. */
function warningLines(s: IngestSummary): string[] {
  if (s.warnings.length === 0) return [];
  const countries = [...new Set(s.warnings.filter((w) => w.code === 'unknown-country').map((w) => /"(.*)"/.exec(w.message)?.[1] ?? ''))];
  return [`  warnings       ${s.warnings.length}${countries.length ? `, of which country spellings Tally does not know: ${countries.map((c) => `"${c}"`).join(', ')} (README: "Country spellings")` : ''}`];
}

/** How a file was read: the generations of its column names, and the columns no mapping reads. */
function readLines(s: IngestSummary): string[] {
  const details = s.details as { generations?: string[]; unreadColumns?: string[] } | undefined;
  if (!details?.generations) return [];
  return [
    `  columns        ${details.generations.join(' + ')}`,
    ...(details.unreadColumns?.length ? [`  not read       ${details.unreadColumns.join(', ')} (kept in the raw records)`] : []),
  ];
}

export function printAefSummary(s: AefSummary, maxErrors: number): void {
  const titles = { t1: 'T1 submission', t2: 'T2 authorizations', t3: 'T3 actions', t4: 'T4 holdings', t5: 'T5 entities', ca: 'CA applied' };
  const lines = [
    `AEF ${s.party ?? '(no party)'} ${s.reportYear ?? ''}: ${s.status === 'preview' ? 'preview, nothing stored' : `batch ${s.batchId} ${s.status}`}${s.digest ? `, digest ${s.digest.slice(0, 16)}…` : ''}`,
    `  rows read          ${s.rowsRead}`,
    ...Object.entries(s.tables).map(([t, c]) => `  ${titles[t as keyof typeof titles].padEnd(18)} ${c.new} new, ${c.changed} changed, ${c.unchanged} unchanged${c.removed ? `, ${c.removed} removed` : ''}`),
  ];
  if (s.failure) lines.push(`  failed: ${s.failure}`);
  for (const e of [...s.errors, ...s.warnings].slice(0, maxErrors)) lines.push(`  ${e.message}`);
  const more = s.errors.length + s.warnings.length - maxErrors;
  if (more > 0) lines.push(`  … and ${more} more (stored with batch ${s.batchId})`);
  console.log(lines.join('\n'));
}
