import type { Mapped, RawRecord } from '../types.ts';

/**
 * A project page's `Issued credits` and `Retired credits` (kept by the `project-totals` stream, api.ts)
 * as the figures Puro states for the project, which jobs/reconcile.ts sets beside the ledger.
 */
export function mapProjectTotals(raw: RawRecord): Mapped {
  const p = raw.payload as { code?: unknown; issuedCredits?: unknown; retiredCredits?: unknown };
  if (typeof p.code !== 'string' || p.code === '') return { records: [], errors: [] };
  const stated = (measure: 'issued' | 'retired', value: unknown, words: string) =>
    (typeof value === 'number' && Number.isFinite(value) && value >= 0
      ? [{ type: 'stated' as const, registry: 'puro', registryProjectId: p.code as string, measure, quantity: value, statedAs: words }]
      : []);
  return {
    records: [...stated('issued', p.issuedCredits, 'Issued credits (project page)'), ...stated('retired', p.retiredCredits, 'Retired credits (project page)')],
    errors: [],
  };
}
