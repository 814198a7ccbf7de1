import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { rows, type DatabaseHandle } from '../schema/database.ts';
import { runChecks, type CheckSummary } from '../jobs/integrity/index.ts';
import { renderDeep } from '../schema/messages/index.ts';

// `tally check [--evidence] [--limit N]`: runs every integrity rule over the whole ledger, records the
// findings, and lists the open ones, largest first.

export const checkUsage = `usage: tally check [--evidence] [--limit <n>]

  --evidence   print each finding's evidence (serials, dates, quantities, source links)
  --limit <n>  list at most n open findings (default 50; 0 lists none)`;

type OpenFinding = { id: number; kind: string; severity: string; status: string; tonnes: number; title: string; inferred: boolean; evidence: unknown };

export function printCheckSummary(summary: CheckSummary): void {
  console.log(`project links: ${summary.links.declared} declared, ${summary.links.inferred} inferred`);
  for (const [kind, s] of Object.entries(summary.rules)) {
    console.log(`${kind}: ${s.found} found (${s.tonnesAtRisk.toLocaleString('en-US')} t at risk): ${s.opened} new, ${s.seenAgain} seen before, ${s.reopened} reopened, ${s.resolved} resolved`);
  }
}

export async function checkCommand(handle: DatabaseHandle, args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { evidence: { type: 'boolean', default: false }, limit: { type: 'string', default: '50' } } });
  const limit = Number(values.limit);
  if (!Number.isInteger(limit) || limit < 0) {
    console.error(`tally check: --limit must be a whole number\n\n${checkUsage}`);
    return 2;
  }
  printCheckSummary(await runChecks(handle.db));
  const open = await rows<OpenFinding>(handle.db, sql`select id::float8 as id, kind::text as kind, severity::text as severity, status::text as status,
      tonnes_at_risk::float8 as tonnes, title, rests_on_inferred_link as inferred, evidence
    from findings where status in ('open', 'acknowledged') order by tonnes_at_risk desc, id limit ${limit}`);
  if (open.length > 0) console.log('\nopen findings, largest first:');
  for (const f of open) {
    console.log(`  #${f.id} [${f.severity}] ${f.kind}: ${f.title} — ${f.tonnes.toLocaleString('en-US')} t${f.inferred ? ' (rests on an inferred link)' : ''}${f.status === 'acknowledged' ? ' (acknowledged)' : ''}`);
    if (values.evidence) console.log(`    ${JSON.stringify(renderDeep('en', f.evidence), null, 2).replace(/\n/g, '\n    ')}`);
  }
  return 0;
}
