import { reconcile, type ReconcileExplanation, type RegistryReconciliation, type ReconcileLine } from '../../jobs/reconcile.ts';
import { render } from '../../schema/messages/index.ts';
import type { Context } from './context.ts';

// Reconciliation with each registry's own figures (jobs/reconcile.ts). Stated figures and the ledger
// figures beside them are public records only, so the answer is the same for every caller; it is
// computed once per request for all registries asked about.

const perRequest = new WeakMap<object, Promise<Map<string, RegistryReconciliation>>>();

function all(context: Context): Promise<Map<string, RegistryReconciliation>> {
  let found = perRequest.get(context);
  if (!found) {
    found = reconcile(context.db).then((list) => new Map(list.map((r) => [r.registry, r])));
    perRequest.set(context, found);
  }
  return found;
}

export const reconciliationResolvers = {
  Registry: {
    async reconciliation(r: { id: string }, _: unknown, context: Context): Promise<RegistryReconciliation> {
      return (await all(context)).get(r.id) ?? { registry: r.id, lines: [], projects: [], compared: 0, unexplained: 0 };
    },
  },
  ReconciliationLine: {
    project: (l: ReconcileLine) => l.registryProjectId,
  },
  ReconciliationCause: {
    detail: (e: ReconcileExplanation, _: unknown, context: Context) => render(context.locale, e.text),
  },
};
