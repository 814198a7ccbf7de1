import type { FindingCandidate, RuleRun } from './findings.ts';
import { problemFindings } from './ca-problems.ts';

// Rule 11 (DESIGN §6): a transfer or acquisition with no mirror at the counterparty. When both Parties'
// AEFs are in Tally, each (first) transfer must appear as the acquiring Party's acquisition of the same
// ITMO range and quantity, and each acquisition as the transferring Party's transfer; otherwise one
// side's record, and its corresponding adjustment, is missing or wrong. Sources: decision 2/CMA.3
// annex ch. IV (consistency checks of the CARP); reference/registries.md §5.3 gap type 4. Not checked
// when the counterparty has no AEF in Tally. Tonnes at risk: the unmirrored quantity.

export async function findCaMirrorsMissing(run: RuleRun): Promise<FindingCandidate[]> {
  return problemFindings(await run.aefProblems(), 'ca-mirror-missing', ['mirror'], 'medium');
}
