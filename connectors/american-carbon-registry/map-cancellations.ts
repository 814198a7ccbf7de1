import type { BlockRecord, CanonicalInput } from '../../schema/canonical.ts';
import type { FileFormat, Mapped } from '../types.ts';
import { rowReader } from '../runtime/row.ts';
import { ACR_GENERATION, ACR_PROJECT_ID } from './map-projects.ts';
import { ACR_CLOSED_COLUMNS, readAcrClosedRow } from './map-retirements.ts';

// ACR's cancellation report (APX report r=208; reference/registries.md §3.1 and §6.2, offsetsdb.md
// §2.3): one row per cancelled serial block. Most ACR "cancellations" are not destruction but
// conversions out of the registry (1,166 of 1,358 on GreenTrace), told apart by `Cancellation Type`:
// - `Convert to ARB offset credits`: the ERTs are cancelled so that California ARB issues ARBOCs for
//   them → status `exported`, plus an explicit `converted-out` event with counterparty `arb`, which
//   the ingest's derived event (same key) would otherwise lack;
// - `Convert to Ecology offset credits`: the same for Washington State Department of Ecology, which has
//   no registry slug yet → `exported`, counterparty empty, the destination named in the event details;
// - `Removal of credits from the registry` (details such as `Premature issuance`) and any type not
//   listed → `cancelled`.
// The header `Status Effective  (GMT)` has two spaces here (one in the retirement report): spaces do
// not count when a header is matched. `Cancellation Type` decides the status, so it is required.

type Conversion = { counterpartyRegistry?: string; destination: string };

/** The programme a cancellation type converts the units into, or undefined for a real cancellation. */
export function acrConversion(cancellationType: string | undefined): Conversion | undefined {
  const type = cancellationType?.toLowerCase() ?? '';
  if (/^convert to arb\b/.test(type)) return { counterpartyRegistry: 'arb', destination: 'California Air Resources Board (ARB offset credits)' };
  if (/^convert to ecology\b/.test(type)) return { destination: 'Washington State Department of Ecology (Ecology offset credits)' };
  return undefined;
}

export const acrCancellations: FileFormat = {
  id: 'acr-cancellations',
  registry: 'american-carbon-registry',
  stream: 'cancellations',
  description: 'ACR cancellation report (APX r=208: Credit Serial Numbers, Quantity of Credits, Status Effective (GMT), Cancellation Type, …)',
  generation: ACR_GENERATION,
  columns: {
    ...ACR_CLOSED_COLUMNS,
    'Cancellation Type': { required: true },
    'Cancellation Details': {},
  },
  distinguishedBy: ACR_PROJECT_ID,
  map(row, locator): Mapped {
    const r = rowReader(row, locator);
    const closed = readAcrClosedRow(r);
    if (!closed) return { records: [], errors: r.errors };
    const cancellationType = r.text('Cancellation Type');
    const details = r.text('Cancellation Details');
    const conversion = acrConversion(cancellationType);
    const block: BlockRecord = {
      ...closed.common,
      status: conversion ? 'exported' : 'cancelled',
      statusDate: closed.statusDate,
      retirementReason: cancellationType,
      retirementDetails: details,
    };
    const records: CanonicalInput[] = [closed.project, block];
    if (conversion) {
      records.push({
        type: 'event',
        registry: 'american-carbon-registry',
        registryProjectId: block.registryProjectId,
        kind: 'converted-out',
        // The key the ingest job gives the event it derives from an exported block, so there is one event.
        eventKey: `converted-out:${block.blockKey}`,
        occurredOn: closed.statusDate,
        quantity: block.quantity,
        vintageYear: block.vintageYear,
        blockKey: block.blockKey,
        issuanceKey: block.issuanceKey,
        counterpartyRegistry: conversion.counterpartyRegistry,
        details: { destination: conversion.destination, cancellationType, ...(details ? { cancellationDetails: details } : {}) },
      });
    }
    return { records, errors: [] };
  },
};
