import type { BlockRecord, CanonicalInput } from '../../schema/canonical.ts';
import type { FileFormat, Mapped } from '../types.ts';
import { rowReader } from '../runtime/row.ts';
import { CAR, CAR_GENERATION, CAR_PROJECT_ID } from './map-projects.ts';
import { CAR_BLOCK_COLUMNS, readCarBlock } from './map-retirements.ts';

// CAR's cancellation report (thereserve2.apx.com, report r=308, reference/registries.md §3.2 and §6.2,
// offsetsdb.md §2.4): one row per cancelled serial block. Quirks:
// - most cancellations are not destruction but conversions: `Cancellation Reason` `ARB` means the
//   Registry Offset Credits (`CAR-ROC-…`) were cancelled so that CARB issues ARB offset credits for
//   them, `WA ECO` the same for Washington Ecology's programme (every sample row is one or the other).
//   Those blocks are `exported`, with an explicit `converted-out` event naming the destination, keyed
//   like the event the ingest job derives from the status so the two are one;
// - Washington Ecology has no registry in Tally yet: its events name no counterparty and say the
//   destination in `details`;
// - the reason goes to `retirementReason` and `Export Notes` (empty in the sample) to `retirementDetails`:
//   the block fields that hold why its status changed;
// - the report has no account holder and no eligibility or corresponding-adjustment columns;
// - a serial may start past 1 (CAR1316: `…-9388-2 to 25412`, 25,411 of the 25,412 issued).

/** Cancellation reasons that are conversions into a compliance programme, and where the credits went. */
const CONVERSIONS: Readonly<Record<string, { counterpartyRegistry?: string; destination: string }>> = {
  arb: { counterpartyRegistry: 'arb', destination: 'California Air Resources Board (ARB offset credits)' },
  'wa eco': { destination: 'Washington State Department of Ecology (Ecology offset credits)' },
};

export const cancellations: FileFormat = {
  id: 'climate-action-reserve-cancellations',
  registry: CAR,
  stream: 'cancellations',
  description: 'Climate Action Reserve cancellation report (one row per cancelled serial block; ARB / WA ECO = converted)',
  generation: CAR_GENERATION,
  // `Cancellation Reason` decides the status (converted or cancelled).
  columns: {
    ...CAR_BLOCK_COLUMNS,
    'Cancellation Reason': { required: true },
    'Export Notes': {},
  },
  distinguishedBy: CAR_PROJECT_ID,
  dayFirst: false,
  map(row, locator): Mapped {
    const r = rowReader(row, locator);
    const read = readCarBlock(r);
    if (r.errors.length > 0 || !read) return { records: [], errors: r.errors };
    const reason = r.text('Cancellation Reason');
    const notes = r.text('Export Notes');
    const conversion = reason ? CONVERSIONS[reason.toLowerCase().replace(/\s+/g, ' ')] : undefined;
    const block: BlockRecord = {
      ...read.block,
      status: conversion ? 'exported' : 'cancelled',
      retirementReason: reason,
      retirementDetails: notes,
      eligibility: [],
    };
    const records: CanonicalInput[] = [read.project, block];
    if (conversion) {
      records.push({
        type: 'event',
        registry: CAR,
        registryProjectId: block.registryProjectId,
        kind: 'converted-out',
        // The key the ingest job gives the event it derives from an exported block: one event, not two.
        eventKey: `converted-out:${block.blockKey}`,
        occurredOn: block.statusDate,
        quantity: block.quantity,
        vintageYear: block.vintageYear,
        blockKey: block.blockKey,
        counterpartyRegistry: conversion.counterpartyRegistry,
        details: { cancellationReason: reason, destination: conversion.destination, ...(notes ? { exportNotes: notes } : {}) },
      });
    }
    return { records, errors: [] };
  },
};
