import type { FindingCandidate, RuleRun } from './findings.ts';
import { problemFindings } from './ca-problems.ts';

// Rule 9 (DESIGN §6): corresponding-adjustment quantity mismatch. For a Party and year, the ITMOs it
// first transferred must equal the corresponding adjustment it added to its emissions balance; and per
// authorization, first transfers plus holdings may not exceed the authorized quantity. Sources:
// decision 2/CMA.3 annex ch. III (corresponding adjustments, the emissions balance) and para 2(b)
// (first transfer); reference/registries.md §5.2 (the CA0004 invariant) and §5.3 gap type 2. Vintages
// outside the authorized timeframe are refused at upload. Tonnes at risk: the difference.

export async function findCaQuantityMismatches(run: RuleRun): Promise<FindingCandidate[]> {
  return problemFindings(await run.aefProblems(), 'ca-quantity-mismatch', ['authorized-quantity', 'ca-applied'], 'high');
}
