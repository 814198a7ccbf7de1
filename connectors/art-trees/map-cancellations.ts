import type { BlockRecord } from '../../schema/canonical.ts';
import type { FileFormat, Mapped } from '../types.ts';
import { rowReader } from '../runtime/row.ts';
import { apxRetirementPurpose } from '../runtime/apx.ts';
import { ART_GENERATION, ART_PROGRAM_ID } from './map-projects.ts';
import { ART_CLOSED_COLUMNS, readArtClosedRow } from './map-retirements.ts';

// ART TREES' cancellation report (reference/registries.md §3.3 and §6.3, offsetsdb.md §2.5): one row
// per cancelled serial block. Quirks:
// - `Cancellation Reason` `CORSIA Compliance` is how ART takes units out of circulation for an
//   airline's CORSIA offsetting obligation: ART cancels rather than retires them. Status `cancelled`,
//   purpose `corsia`. The report names the trader that held the units in `Account Holder` (Mercuria,
//   CBL Markets) and the airline and phase only inside `Cancellation Details` ("Japan Airlines Co.,
//   Ltd.;First Phase: 2024-2026", "ALL NIPPON AIRWAYS CO., LTD, PHASE 1"), in no fixed form: the
//   account holder is kept as the account holder and the details as written; no beneficiary is
//   carved out of free text;
// - the Guyana (ART102) CORSIA cancellations are the units a Guyana Article 6 first transfer should
//   match (reference §6.3); the reason and details are kept for that rule.

export const artCancellations: FileFormat = {
  id: 'art-trees-cancellations',
  registry: 'art-trees',
  stream: 'cancellations',
  description: 'ART TREES cancellation report (Credit Serial Numbers, Quantity of Credits, Status Effective, Program ID, Cancellation Reason, …)',
  generation: ART_GENERATION,
  // `Cancellation Reason` gives the purpose (CORSIA) and tells this report from the retirement report.
  columns: {
    ...ART_CLOSED_COLUMNS,
    'Cancellation Reason': { required: true },
    'Cancellation Details': {},
  },
  distinguishedBy: ART_PROGRAM_ID,
  map(row, locator): Mapped {
    const r = rowReader(row, locator);
    const closed = readArtClosedRow(r);
    if (!closed) return { records: [], errors: r.errors };
    const reason = r.text('Cancellation Reason');
    const block: BlockRecord = {
      ...closed.common,
      status: 'cancelled',
      statusDate: closed.statusDate,
      retirementReason: reason,
      retirementPurpose: apxRetirementPurpose(reason),
      retirementDetails: r.text('Cancellation Details'),
    };
    return { records: [closed.program, block], errors: [] };
  },
};
