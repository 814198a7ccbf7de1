import type { IngestSummary } from './ingest.ts';

// How the tally command reports a batch: the same summary for an ingested file and a sync.

export function printSummary(file: string, format: string, s: IngestSummary, maxErrors: number): void {
  const t = (x: { new: number; changed: number; unchanged: number }) => `${x.new} new, ${x.changed} changed, ${x.unchanged} unchanged`;
  const lines = [
    `${file} (${format}): batch ${s.batchId} ${s.status}${s.digest ? `, digest ${s.digest.slice(0, 16)}…` : ''}`,
    `  rows read      ${s.rowsRead}`,
    `  rows rejected  ${s.rowsRejected}`,
    `  raw records    ${s.rawRecords.new} new of ${s.rawRecords.seen}`,
    `  projects       ${t(s.projects)}`,
    `  issuances      ${t(s.issuances)}`,
    `  blocks         ${t(s.blocks)}${s.blocks.superseded ? `, ${s.blocks.superseded} superseded (no longer listed)` : ''}`,
    `  events         ${s.events.new} new, ${s.events.existing} already recorded`,
  ];
  if (s.failure) lines.push(`  failed: ${s.failure}`);
  for (const e of [...s.errors, ...s.warnings].slice(0, maxErrors)) lines.push(`  ${e.message}`);
  const more = s.errors.length + s.warnings.length - maxErrors;
  if (more > 0) lines.push(`  … and ${more} more (stored with batch ${s.batchId})`);
  console.log(lines.join('\n'));
}
