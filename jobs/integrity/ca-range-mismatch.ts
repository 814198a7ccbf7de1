import type { FindingCandidate, RuleRun } from './findings.ts';
import { problemFindings } from './ca-problems.ts';

// Rule 10 (DESIGN §6): corresponding-adjustment range mismatch. An ITMO range first-transferred twice
// is a double first transfer (and a double corresponding adjustment), and a range whose size is not its
// quantity cannot be reconciled. Sources: decision 2/CMA.3 annex para 2(b) ("first transfer" happens
// once per ITMO); reference/registries.md §5.3 gap type 3. Matching AEF unit ranges against registry
// blocks is not done yet. Tonnes at risk: the ITMOs counted twice, or the size difference.

export async function findCaRangeMismatches(run: RuleRun): Promise<FindingCandidate[]> {
  return problemFindings(await run.aefProblems(), 'ca-range-mismatch', ['first-transfer-once', 'range-quantity'], 'high');
}
