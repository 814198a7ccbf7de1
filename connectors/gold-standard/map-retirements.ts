import type { FileFormat } from '../types.ts';
import { creditBlockMapper, RETIREMENT_COLUMNS } from './map-issuances.ts';

// Gold Standard's retirement export (registry.goldstandard.org, "Credits" → Retirements → Download CSV):
// the issuance export's columns plus `Retirement Date, Note, Aeroplane Operator Name, Use Case,
// Using Entity`, one row per block that left circulation. Besides `Retired` blocks it lists `Canceled`
// ones with an empty `Retirement Date` (reference/offsetsdb.md §2.2), so it is read as block state by
// the same mapper as the issuance export (map-issuances.ts), which names every quirk. Here:
// - a block's batch gets an issuance only as large as the blocks seen (`quantityFromBlocks`), since
//   this export does not say how much the batch issued; the issuance export's figure replaces it;
// - `Use Case` Voluntary / Compliance / CORSIA… → retirement purpose, the raw value kept as the reason;
// - the beneficiary is `Using Entity`, else `Aeroplane Operator Name` (CORSIA), else the name the `Note`
//   gives ("Gold Standard Marketplace Order GSM31742 for …"); "Not Disclosed" is no beneficiary;
// - a block cancelled with the note "Transferred to Zimbabwe Carbon Registry …" left GS for another
//   registry: it is `exported`, with a `converted-out` event naming the destination;
// - an older generation of this export (`…, Serial Number, Note, Eligible for CORSIA?, Retired for
//   CORSIA?, CORSIA Authorisation, Aeroplane Operator Name`) lacks `Label`, `Use Case`, `Using Entity`
//   and `Article Six Authorization`, and is read by the same columns (README, "Export generations").

export const retirements: FileFormat = {
  id: 'gold-standard-retirements',
  registry: 'gold-standard',
  stream: 'credit-blocks',
  description: 'Gold Standard retirement export (one row per retired or cancelled credit block)',
  generation: 'registry export 2026',
  columns: RETIREMENT_COLUMNS,
  map: creditBlockMapper('retirement-export'),
};
