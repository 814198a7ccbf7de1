import { parseArgs } from 'node:util';
import { connectors } from '../connectors/index.ts';
import { reconcile, type ReconcileLine, type RegistryReconciliation } from '../jobs/reconcile.ts';
import type { DatabaseHandle } from '../schema/database.ts';

// `tally reconcile [<registry>] [--projects <n>]`: each figure a registry's sources state (report Total
// rows, Verra's Total Vintage Quantity) beside Tally's, with the causes of every difference; exits 1
// when any difference is unexplained.

export const reconcileUsage = `usage: tally reconcile [<registry>] [--projects <n>]

  <registry>     one registry's slug (default: every registry with a stated figure)
  --projects <n> list at most n project lines per registry (default 20; lines with an unexplained difference always)`;

const fmt = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 3 });

function scopeLabel(l: ReconcileLine): string {
  if (l.scope === 'registry') return 'registry';
  const vintage = l.vintageStart && l.vintageEnd ? ` ${l.vintageStart}/${l.vintageEnd}` : l.vintageYear !== null ? ` ${l.vintageYear}` : '';
  return `project ${l.registryProjectId}${vintage}`;
}

/** The lines as an aligned table: scope, measure, stated, Tally, difference, unexplained, source's words. */
export function reconciliationTable(lines: ReconcileLine[]): string[] {
  const head = ['scope', 'measure', 'stated', 'tally', 'difference', 'unexplained', 'stated as'];
  const body = lines.map((l) => [scopeLabel(l), l.measure, fmt(l.stated), fmt(l.tally), fmt(l.difference), fmt(l.unexplained), l.statedAs]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const numeric = new Set([2, 3, 4, 5]);
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : numeric.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ');
  const out = [line(head)];
  for (const [i, l] of lines.entries()) {
    out.push(line(body[i]!));
    for (const e of l.explained) out.push(`    ${e.cause}: ${fmt(e.tonnes)} — ${e.detail}`);
  }
  return out;
}

export function printReconciliation(r: RegistryReconciliation, maxProjects: number): void {
  console.log(`${r.registry}: ${r.compared} stated figure(s) compared, ${r.unexplained === 0 ? 'every difference explained' : `${fmt(r.unexplained)} unexplained`}`);
  if (r.lines.length > 0) for (const l of reconciliationTable(r.lines)) console.log(`  ${l}`);
  if (r.projects.length > 0) {
    const shown = r.projects.filter((l, i) => i < maxProjects || l.unexplained !== 0);
    console.log(`  per project (${shown.length} of ${r.projects.length}):`);
    for (const l of reconciliationTable(shown)) console.log(`  ${l}`);
  }
}

export async function reconcileCommand(handle: DatabaseHandle, args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { projects: { type: 'string', default: '20' } } });
  const maxProjects = Number(values.projects);
  if (!Number.isInteger(maxProjects) || maxProjects < 0 || positionals.length > 1) {
    console.error(reconcileUsage);
    return 2;
  }
  const registry = positionals[0];
  if (registry !== undefined && !connectors.some((c) => c.registry.id === registry)) {
    console.error(`tally reconcile: no registry "${registry}"; known: ${connectors.map((c) => c.registry.id).join(', ')}`);
    return 2;
  }
  const result = await reconcile(handle.db, registry ? { registry } : {});
  if (result.length === 0) console.log(registry ? `${registry}: no source has stated a total for it yet` : 'no source has stated a registry total yet');
  for (const r of result) printReconciliation(r, maxProjects);
  return result.some((r) => r.unexplained !== 0) ? 1 : 0;
}
