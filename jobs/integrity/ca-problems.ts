import { sql } from 'drizzle-orm';
import { rows, type Database } from '../../schema/database.ts';
import { aefProblems, type ConsistencyCheck, type Problem } from '../article6/consistency.ts';
import { msg } from '../../schema/messages/index.ts';
import type { FindingCandidate } from './findings.ts';

// What rules 9–11 share: the problems the pre-submission checks find in every Party's AEF, over all
// rows (a finding that involves a private row stays private to its owner).

export async function allAefProblems(db: Database): Promise<Problem[]> {
  const parties = await rows<{ party: string }>(db, sql`select distinct party from aef_submissions order by party`);
  const found: Problem[] = [];
  for (const { party } of parties) found.push(...(await aefProblems(db, party, { viewer: 'all' })).problems);
  return found;
}

/** A finding for one problem of the given checks. */
export function problemFindings(problems: Problem[], kind: 'ca-quantity-mismatch' | 'ca-range-mismatch' | 'ca-mirror-missing', checks: readonly ConsistencyCheck[], severity: FindingCandidate['severity']): FindingCandidate[] {
  return problems.filter((p) => checks.includes(p.check)).map((p) => ({
    kind,
    severity,
    title: msg(`finding.${kind}`, { party: p.party, problem: p.text }),
    tonnesAtRisk: p.tonnes,
    evidence: { party: p.party, year: p.year, check: p.check, problem: p.text, aefActionIds: p.actionIds },
    subjects: p.actionIds.map((aefActionId) => ({ aefActionId })),
    identity: [p.party, p.check, ...p.identity],
    ownerOrganizationId: p.owner,
    isPrivate: p.isPrivate,
  }));
}
