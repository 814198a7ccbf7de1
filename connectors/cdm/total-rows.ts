import type { Mapped } from '../types.ts';

/**
 * The `Total` / `TOTAL` row below a CDM Registry report's data: the registry's own sum of the column
 * (an Excel formula, whose cached value the reader gives). Read as the figure the report states for
 * the whole registry, which jobs/reconcile.ts compares with the ledger; a Total row with no number in
 * the column states nothing.
 */
export function totalRow(
  row: Record<string, string>, firstColumn: string, quantityColumn: string, measure: 'issued' | 'cancelled', statedAs: string,
): Mapped | undefined {
  if (!/^total\b/i.test(row[firstColumn]?.trim() ?? '')) return undefined;
  const value = row[quantityColumn]?.replace(/[,\s]/g, '') ?? '';
  if (!/^\d+(\.\d+)?$/.test(value)) return { records: [], errors: [] };
  return { records: [{ type: 'stated', registry: 'cdm', measure, quantity: Number(value), statedAs }], errors: [] };
}
