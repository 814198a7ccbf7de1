import type { BlockRecord, EventRecord } from '../../schema/canonical.ts';
import { pythonList } from '../runtime/python-literal.ts';
import { rowReader, tokenizationMarker } from '../runtime/row.ts';
import { ValueError } from '../runtime/values.ts';
import type { FileFormat, Mapped } from '../types.ts';
import { readCredits, REGISTRY } from './credits.ts';

// Isometric's retirements (`GET /registry/v0/retirements`, reference/registries.md §3.5), flattened
// with dotted names. A retirement names no project: its credit batches do
// (`GET /retirements/{id}/credit_batches`), and CarbonPlan's export carries the batches' `project_id`
// and `sequestered_on` on the row. Quirks:
// - `retirement_id` is the `ret_…` id (`id` in the API); it is the block's key. Its public
//   certificate is `url` (`https://to.isometric.com/ret_…`), kept in the details of its `retired` event;
// - `purposes` is a list (Python repr in the export: `['public_environmental_claims',
//   'corporate_targets']`, sometimes `[]`) of `corporate_targets`, `public_environmental_claims`,
//   `insetting`, `regulatory_requirement`, `other`: written as the reason, comma-joined, and mapped to a
//   purpose where they agree on one;
// - `beneficiary.name` is who the claim is for, `owner.name` the account that retired (a retailer such
//   as Stripe retiring for its customer): beneficiary and account holder;
// - `notes` is free text (Stripe's order references): the details;
// - `sequestered_on` is when the carbon was removed: its year is the vintage (OffsetsDB takes the
//   earliest over the batches);
// - quantities are fractional (credits.ts).

/** Isometric's `RetirementPurpose` values → Tally's purpose. */
const PURPOSES: Record<string, NonNullable<BlockRecord['retirementPurpose']>> = {
  corporate_targets: 'voluntary',
  public_environmental_claims: 'voluntary',
  insetting: 'voluntary',
  regulatory_requirement: 'compliance',
  other: 'other',
};

/** The one purpose a list of Isometric purposes states: voluntary when voluntary ones come with `other`, none when they conflict. */
export function isometricPurpose(purposes: readonly string[]): BlockRecord['retirementPurpose'] {
  const mapped = new Set(purposes.map((p) => PURPOSES[p]).filter((p) => p !== undefined));
  if (mapped.size === 1) return [...mapped][0];
  if (mapped.size === 2 && mapped.has('voluntary') && mapped.has('other')) return 'voluntary';
  return undefined;
}

/** What a caller that split a retirement by project supplies in place of the row's own identity. */
export type RetirementPart = {
  /** The block's key when the retirement spans projects (`ret_…/prj_…`). */
  blockKey?: string;
  issuanceKey?: string;
  serialRaw?: string;
  /** The serial numbers of the credit batches, for the event's details. */
  serials?: string[];
  /** The credit batches' ids (`ctb_…`), for the event's details, where the source lists them. */
  creditBatches?: string[];
  /** Eligibility the credit batches state (`ccp-approved`). */
  eligibility?: string[];
};

export function mapRetirement(row: Record<string, string>, locator: string, part: RetirementPart = {}): Mapped {
  const r = rowReader(row, locator);
  const idColumn = row.retirement_id !== undefined ? 'retirement_id' : 'id';
  const id = r.required(idColumn, r.text(idColumn));
  if (id && !/^ret_[0-9A-Z]+$/i.test(id)) r.fail(idColumn, 'bad-id', `"${id}" is not an Isometric retirement id (ret_…)`);
  const projectId = r.required('project_id', r.text('project_id'));
  const retiredOn = r.required('retired_at', r.date('retired_at'));
  const quantity = readCredits(r, 'credit_batch_size_total', { required: true, positive: true });
  const sequesteredOn = r.date('sequestered_on');
  let purposes: string[] = [];
  try {
    purposes = pythonList(row.purposes).map((p) => {
      if (typeof p !== 'string') throw new ValueError(`${JSON.stringify(p)} is not a purpose`, 'bad-purpose');
      return p;
    });
  } catch (error) {
    if (!(error instanceof ValueError)) throw error;
    r.fail('purposes', error.code, error.message);
  }
  if (r.errors.length > 0 || !id || !projectId || !retiredOn || quantity === undefined) return { records: [], errors: r.errors };

  const blockKey = part.blockKey ?? id;
  const beneficiary = r.text('beneficiary.name');
  const notes = r.text('notes');
  const url = r.text('url') ?? `https://to.isometric.com/${id}`;
  const vintageYear = sequesteredOn ? Number(sequesteredOn.slice(0, 4)) : undefined;
  const block: BlockRecord = {
    type: 'block',
    registry: REGISTRY,
    registryProjectId: projectId,
    blockKey,
    issuanceKey: part.issuanceKey,
    serialRaw: part.serialRaw,
    quantity,
    vintageYear,
    creditType: 'isometric-credit',
    status: 'retired',
    statusDate: retiredOn,
    retirementBeneficiary: beneficiary,
    retirementReason: purposes.length > 0 ? purposes.join(', ') : undefined,
    retirementPurpose: isometricPurpose(purposes),
    retirementDetails: notes,
    accountHolder: r.text('owner.name'),
    eligibility: part.eligibility ?? [],
    tokenizationMarker: tokenizationMarker(beneficiary, notes),
  };
  // The `retired` event the ledger would derive from the block, with the retirement certificate and
  // the parties' ids in its details (same key: the ledger then adds none of its own).
  const retired: EventRecord = {
    type: 'event',
    registry: REGISTRY,
    registryProjectId: projectId,
    kind: 'retired',
    eventKey: `retired:${blockKey}`,
    occurredOn: retiredOn,
    quantity,
    vintageYear,
    blockKey,
    issuanceKey: part.issuanceKey,
    details: {
      certificate: url,
      retirement: id,
      // An export without the column says nothing of the purposes: no list, rather than an empty one.
      ...(row.purposes !== undefined ? { purposes } : {}),
      ...(r.text('beneficiary.id') ? { beneficiaryId: r.text('beneficiary.id') } : {}),
      ...(r.text('owner.id') ? { ownerId: r.text('owner.id') } : {}),
      ...(sequesteredOn ? { sequesteredOn } : {}),
      ...(part.serials?.length ? { serials: part.serials } : {}),
      ...(part.creditBatches?.length ? { creditBatches: part.creditBatches } : {}),
    },
  };
  return { records: [block, retired], errors: [] };
}

export const isometricRetirements: FileFormat = {
  id: 'isometric-retirements',
  registry: REGISTRY,
  stream: 'retirements',
  description: 'Isometric registry retirements, API records flattened with dotted names, with their credit batches\' project and sequestration date (retirement_id, retired_at, purposes, project_id, credit_batch_size_total.credits, …)',
  generation: 'retirement-level, OffsetsDB flattening of the registry API (2026-04-14 on)',
  columns: {
    retirement_id: { required: true },
    retired_at: { required: true },
    project_id: { required: true },
    'credit_batch_size_total.credits': { required: true },
    'credit_batch_size_total.credit_kgs': {},
    purposes: {},
    url: {},
    notes: {},
    sequestered_on: {},
    'beneficiary.id': {},
    'beneficiary.name': {},
    'owner.id': {},
    'owner.name': {},
  },
  map: (row, locator) => mapRetirement(row, locator),
};
