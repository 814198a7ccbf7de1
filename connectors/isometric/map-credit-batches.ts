import type { BlockRecord, CanonicalInput } from '../../schema/canonical.ts';
import { rowReader } from '../runtime/row.ts';
import type { FileFormat, Mapped, RowError, SourceRow } from '../types.ts';
import { kgOf, readCredits, REGISTRY } from './credits.ts';
import { mapRetirement } from './map-retirements.ts';

// Isometric's retired credits, one row per credit batch: the first form of CarbonPlan's Isometric
// retirements export (offsets-db-data `tests/data/isometric/retirements.csv` as first committed on
// 2026-04-14, replaced the same day by the retirement-level export map-retirements.ts reads). Each row is
// the API's `CreditBatch` (`GET /retirements/{id}/credit_batches`) flattened with dotted names: `id`
// (`ctb_…`), `serial_number`, `status`, `issued_at`, `retired_at`, `delivered_at`, `sequestered_on`,
// `country_of_issue`, `supplier_id`, `parent_id`, `left_child_id`, `right_child_id`, `issuance_id`,
// `delivery_id`, `retirement_id`, `removal_id`, `project_id`, `ccp_approved`, `size.credits`,
// `size.credit_kgs`, `beneficiary.*`, `owner.*`, `carbon_removal_data.*`. Quirks:
// - `status` is the API's `CreditBatchStatus`: `active`, `split` or `retired`. Every row of the real file
//   is `retired`, with its `retirement_id` and `retired_at` (the export lists the batches of retirements),
//   but the mapper reads each status for what it is:
//   - a retired batch is part of its retirement (`retirement_id`). The retirement is the block, keyed as
//     the retirement-level export and the API key it (`ret_…`, `ret_…/prj_…` when it takes batches of
//     several projects), its quantity the sum of its batches, so every generation and the API meet on one
//     block. The batches of one retirement come one after another (the API lists them per retirement), so
//     consecutive rows with one `retirement_id` are one record (FileFormat.group); a retirement whose
//     rows come apart in the file is refused, since its block would hold only the rows of one run;
//   - an active batch is credits held in its owner's account: a held block under its `ctb_` id;
//   - a split batch no longer exists: its two children (`left_child_id`, `right_child_id`) hold its
//     credits. No block, a warning;
// - quantities are fractional, read from `size.credit_kgs` (credits.ts);
// - the row has no purposes, notes or certificate address: the certificate is
//   `https://to.isometric.com/<ret_…>` as for the retirement-level export, and the purposes are left to
//   the sources that give them;
// - `ccp_approved` is per batch (issued under an ICVCM CCP-approved methodology): eligibility
//   `ccp-approved` when every batch of the block has it;
// - `sequestered_on` differs between the batches of one retirement: the earliest is the vintage, as the
//   API mode takes it;
// - the row names no project name, only `project_id`: the project must be in the ledger.

const STATUSES = ['active', 'split', 'retired'] as const;
type Status = (typeof STATUSES)[number];

type Batch = {
  id: string;
  status: Status;
  projectId: string;
  kg: number;
  retirementId?: string;
  retiredOn?: string;
  issuanceId?: string;
  serial?: string;
  sequesteredOn?: string;
  ccpApproved?: boolean;
  values: Record<string, string>;
  locator: string;
};

function readBatch(row: SourceRow, errors: RowError[]): Batch | undefined {
  const r = rowReader(row.values, row.locator);
  const id = r.required('id', r.text('id'));
  if (id && !/^ctb_[0-9A-Z]+$/i.test(id)) r.fail('id', 'bad-id', `"${id}" is not an Isometric credit batch id (ctb_…)`);
  const statusText = r.required('status', r.text('status'))?.toLowerCase();
  const status = STATUSES.find((s) => s === statusText);
  if (statusText && !status) r.fail('status', 'unknown-status', `"${statusText}" is not a credit batch status (active, split, retired)`);
  const projectId = r.required('project_id', r.text('project_id'));
  if (projectId && !/^prj_[0-9A-Z]+$/i.test(projectId)) r.fail('project_id', 'bad-id', `"${projectId}" is not an Isometric project id (prj_…)`);
  const tonnes = readCredits(r, 'size', { required: true, positive: true });
  const retirementId = r.text('retirement_id');
  if (retirementId && !/^ret_[0-9A-Z]+$/i.test(retirementId)) r.fail('retirement_id', 'bad-id', `"${retirementId}" is not an Isometric retirement id (ret_…)`);
  const retiredOn = r.date('retired_at');
  if (status === 'retired') {
    r.required('retirement_id', retirementId);
    r.required('retired_at', retiredOn);
  } else if (status && retirementId) {
    r.fail('retirement_id', 'status-mismatch', `the batch is ${status}, yet it names retirement ${retirementId}`);
  }
  const sequesteredOn = r.date('sequestered_on');
  const ccpApproved = r.boolean('ccp_approved');
  errors.push(...r.errors);
  if (r.errors.length > 0 || !id || !status || !projectId || tonnes === undefined) return undefined;
  return {
    id, status, projectId, kg: kgOf(tonnes), retirementId, retiredOn, issuanceId: r.text('issuance_id'), serial: r.text('serial_number'),
    sequesteredOn, ccpApproved, values: row.values, locator: row.locator,
  };
}

const eligibilityOf = (batches: Batch[]) => (batches.every((b) => b.ccpApproved === true) ? ['ccp-approved'] : []);

/** An active or split batch: a held block, or nothing (a warning) for a batch split into two. */
function batchRecords(batch: Batch, warnings: RowError[]): CanonicalInput[] {
  if (batch.status === 'split') {
    const children = [batch.values.left_child_id, batch.values.right_child_id].map((c) => c?.trim()).filter(Boolean);
    warnings.push({
      locator: batch.locator, field: 'status', code: 'split-batch',
      message: `${batch.locator}: status: credit batch ${batch.id} was split${children.length > 0 ? ` into ${children.join(' and ')}` : ''}; its credits are its children's, so no block`,
    });
    return [];
  }
  const block: BlockRecord = {
    type: 'block',
    registry: REGISTRY,
    registryProjectId: batch.projectId,
    blockKey: batch.id,
    issuanceKey: batch.issuanceId,
    serialRaw: batch.serial,
    quantity: batch.kg / 1000,
    vintageYear: batch.sequesteredOn ? Number(batch.sequesteredOn.slice(0, 4)) : undefined,
    creditType: 'isometric-credit',
    status: 'held',
    accountHolder: batch.values['owner.name']?.trim() || undefined,
    eligibility: eligibilityOf([batch]),
  };
  return [block];
}

/** `line 12` / `sheet "x" row 12` → its prefix and number, to tell whether a record follows the one before in the same file. */
function position(locator: string): { prefix: string; n: number } | undefined {
  const m = /^(.*?)(\d+)$/.exec(locator);
  return m ? { prefix: m[1]!, n: Number(m[2]) } : undefined;
}

function creditBatchExport(): FileFormat {
  // The retirements met so far in the file being read. A file is read in order, so a record whose first
  // line is not after the last one seen (or in another sheet) starts a new file.
  let file: { prefix: string; last: number; retirements: Set<string> } | undefined;

  /** Whether this retirement already had a run of rows earlier in the file. */
  function seenBefore(rows: SourceRow[], retirement: string | undefined): boolean {
    const first = position(rows[0]!.locator);
    const last = position(rows.at(-1)!.locator);
    if (!first || !last) return false;
    if (!file || file.prefix !== first.prefix || first.n <= file.last) file = { prefix: first.prefix, last: 0, retirements: new Set() };
    file.last = last.n;
    if (!retirement) return false;
    const seen = file.retirements.has(retirement);
    file.retirements.add(retirement);
    return seen;
  }

  function mapRows(rows: SourceRow[]): Mapped {
    const errors: RowError[] = [];
    const warnings: RowError[] = [];
    const read = rows.map((row) => readBatch(row, errors));
    // The group's key: a retirement, or (without one) a single batch.
    const retirementId = rows[0]!.values.retirement_id?.trim() || undefined;
    const repeated = seenBefore(rows, retirementId);
    if (errors.length > 0) return { records: [], errors };
    const batches = read as Batch[];
    if (!retirementId) return { records: batches.flatMap((b) => batchRecords(b, warnings)), errors: [], warnings };

    const first = batches[0]!;
    if (repeated) {
      return {
        records: [],
        errors: rows.map((row) => ({
          locator: row.locator, field: 'retirement_id', code: 'retirement-apart',
          message: `${row.locator}: retirement_id: retirement ${retirementId} has rows earlier in the file, apart from these: list each retirement's credit batches together`,
        })),
      };
    }
    // One retirement: one date, one beneficiary, one account.
    for (const b of batches.slice(1)) {
      for (const [column, value, expected] of [
        ['retired_at', b.retiredOn, first.retiredOn], ['beneficiary.id', b.values['beneficiary.id']?.trim(), first.values['beneficiary.id']?.trim()],
        ['owner.id', b.values['owner.id']?.trim(), first.values['owner.id']?.trim()],
      ] as const) {
        if ((value || undefined) !== (expected || undefined)) {
          errors.push({ locator: b.locator, field: column, code: 'retirement-mismatch', message: `${b.locator}: ${column}: "${value ?? ''}", where the retirement's other batches say "${expected ?? ''}"` });
        }
      }
    }
    if (errors.length > 0) return { records: [], errors };

    // A retirement can take batches of several projects of one supplier: one block per project.
    const byProject = new Map<string, Batch[]>();
    for (const b of batches) byProject.set(b.projectId, [...(byProject.get(b.projectId) ?? []), b]);
    const records: CanonicalInput[] = [];
    for (const [projectId, group] of byProject) {
      const kg = group.reduce((s, b) => s + b.kg, 0);
      const issuances = [...new Set(group.map((b) => b.issuanceId))];
      const serials = group.map((b) => b.serial).filter((s): s is string => s !== undefined);
      const sequestered = group.map((b) => b.sequesteredOn).filter((d): d is string => d !== undefined).sort()[0];
      const mapped = mapRetirement({
        retirement_id: retirementId,
        retired_at: first.values.retired_at ?? '',
        project_id: projectId,
        sequestered_on: sequestered ?? '',
        'credit_batch_size_total.credit_kgs': String(kg),
        'beneficiary.id': first.values['beneficiary.id'] ?? '',
        'beneficiary.name': first.values['beneficiary.name'] ?? '',
        'owner.id': first.values['owner.id'] ?? '',
        'owner.name': first.values['owner.name'] ?? '',
      }, group[0]!.locator, {
        blockKey: byProject.size > 1 ? `${retirementId}/${projectId}` : undefined,
        issuanceKey: issuances.length === 1 ? issuances[0] : undefined,
        serialRaw: serials.length === 1 ? serials[0] : undefined,
        serials,
        creditBatches: group.map((b) => b.id),
        eligibility: eligibilityOf(group),
      });
      if (mapped.errors.length > 0) return { records: [], errors: mapped.errors };
      records.push(...mapped.records);
    }
    return { records, errors: [], warnings };
  }

  return {
    id: 'isometric-retired-credits',
    registry: REGISTRY,
    stream: 'credit-batches',
    description: 'Isometric retired credits, one row per credit batch (CarbonPlan\'s first retirements export: id, serial_number, status, retired_at, retirement_id, project_id, size.credits, size.credit_kgs, …)',
    generation: 'credit-level, OffsetsDB flattening of the registry API (first version of 2026-04-14)',
    columns: {
      id: { required: true },
      status: { required: true },
      project_id: { required: true },
      retirement_id: { required: true },
      retired_at: { required: true },
      'size.credits': { required: true },
      'size.credit_kgs': {},
      serial_number: {},
      issuance_id: {},
      sequestered_on: {},
      ccp_approved: {},
      left_child_id: {},
      right_child_id: {},
      'beneficiary.id': {},
      'beneficiary.name': {},
      'owner.id': {},
      'owner.name': {},
    },
    map: (row, locator) => mapRows([{ values: row, locator }]),
    group: {
      // A retirement's batches are one record; any other batch is a record of its own.
      key: (row) => row.retirement_id?.trim() || `batch ${row.id?.trim() ?? ''}`,
      map: mapRows,
    },
  };
}

export const isometricRetiredCredits: FileFormat = creditBatchExport();
