import type { EventRecord, IssuanceRecord } from '../../schema/canonical.ts';
import { rowReader } from '../runtime/row.ts';
import type { FileFormat, Mapped } from '../types.ts';
import { kgOf, readCredits, REGISTRY } from './credits.ts';

// Isometric's issuances (`GET /registry/v0/issuances`, reference/registries.md §3.5), flattened with
// dotted names. Quirks:
// - the issuance gives three quantities: `credit_batch_size_total` (everything issued) =
//   `supplier_credit_batch_size_total` (to the supplier) + `buffer_pool_credit_batch_size_total`
//   (to the supplier's buffer pool against reversals). Tally's quantity is the gross total, as for
//   ACR, CAR and ART, with the buffer pool's share as `bufferQuantity`; a row whose three figures do
//   not add up is refused;
// - quantities are fractional (kilograms; see credits.ts);
// - no vintage in the export CarbonPlan keeps; the current API adds `reporting_period_start_at` /
//   `reporting_period_end_at`, read when present (the vintage year is the period's end);
// - the issuance has no project name, only `project_id`: the project must be in the ledger (the
//   projects export or stream comes first);
// - each issuance has a public page, `https://registry.isometric.com/issuance/<iss_…>`, kept in the
//   details of its `issued` event.

function mapIssuance(row: Record<string, string>, locator: string): Mapped {
  const r = rowReader(row, locator);
  const id = r.required('id', r.text('id'));
  if (id && !/^iss_[0-9A-Z]+$/i.test(id)) r.fail('id', 'bad-id', `"${id}" is not an Isometric issuance id (iss_…)`);
  const projectId = r.required('project_id', r.text('project_id'));
  const issuedOn = r.required('issued_at', r.date('issued_at'));
  const total = readCredits(r, 'credit_batch_size_total', { required: true, positive: true });
  const supplier = readCredits(r, 'supplier_credit_batch_size_total', { required: false, positive: false });
  const buffer = readCredits(r, 'buffer_pool_credit_batch_size_total', { required: false, positive: false });
  const vintageStart = r.date('reporting_period_start_at');
  const vintageEnd = r.date('reporting_period_end_at');
  if (total !== undefined && supplier !== undefined && buffer !== undefined && kgOf(supplier) + kgOf(buffer) !== kgOf(total)) {
    r.fail('credit_batch_size_total.credits', 'buffer-mismatch',
      `${total} is not supplier_credit_batch_size_total ${supplier} + buffer_pool_credit_batch_size_total ${buffer}`);
  }
  if (r.errors.length > 0 || !id || !projectId || !issuedOn || total === undefined) return { records: [], errors: r.errors };
  const issuance: IssuanceRecord = {
    type: 'issuance',
    registry: REGISTRY,
    registryProjectId: projectId,
    issuanceKey: id,
    vintageStart,
    vintageEnd,
    vintageYear: vintageEnd ? Number(vintageEnd.slice(0, 4)) : undefined,
    issuedOn,
    quantity: total,
    quantityFromBlocks: false,
    creditType: 'isometric-credit',
    bufferQuantity: buffer ?? (supplier !== undefined ? (kgOf(total) - kgOf(supplier)) / 1000 : undefined),
  };
  // The `issued` event the ledger would derive from the issuance, with the issuance's public page in
  // its details (same key: the ledger then adds none of its own).
  const issued: EventRecord = {
    type: 'event',
    registry: REGISTRY,
    registryProjectId: projectId,
    kind: 'issued',
    eventKey: `issued:${projectId}:${id}`,
    occurredOn: issuedOn,
    quantity: total,
    vintageYear: issuance.vintageYear,
    issuanceKey: id,
    details: {
      page: `https://registry.isometric.com/issuance/${id}`,
      ...(supplier !== undefined ? { supplierCredits: supplier } : {}),
      ...(issuance.bufferQuantity !== undefined ? { bufferPoolCredits: issuance.bufferQuantity } : {}),
      ...(r.text('supplier.organisation.name') ? { supplier: r.text('supplier.organisation.name') } : {}),
    },
  };
  return { records: [issuance, issued], errors: [] };
}

export const isometricIssuances: FileFormat = {
  id: 'isometric-issuances',
  registry: REGISTRY,
  stream: 'issuances',
  description: 'Isometric registry issuances, API records flattened with dotted names (id, issued_at, project_id, credit_batch_size_total.credits, buffer_pool_credit_batch_size_total.credits, …)',
  generation: 'OffsetsDB flattening of the registry API (2026)',
  // The quantities come as `.credits` and `.credit_kgs` (credits.ts): the gross total is the issuance;
  // the supplier's and the buffer pool's shares are read where given.
  columns: {
    id: { required: true },
    issued_at: { required: true },
    project_id: { required: true },
    'credit_batch_size_total.credits': { required: true },
    'credit_batch_size_total.credit_kgs': {},
    'supplier_credit_batch_size_total.credits': {},
    'supplier_credit_batch_size_total.credit_kgs': {},
    'buffer_pool_credit_batch_size_total.credits': {},
    'buffer_pool_credit_batch_size_total.credit_kgs': {},
    reporting_period_start_at: {},
    reporting_period_end_at: {},
    'supplier.organisation.name': {},
  },
  map: mapIssuance,
};
