import type { Database } from '../../schema/database.ts';
import { recordFullRun, type FindingCandidate, type RecordOutcome } from './findings.ts';
import { findSerialOverlaps } from './serial-overlap.ts';

// The integrity rules (DESIGN §6), one module each; `tally check` runs them all in full.

type Rule = { kind: FindingCandidate['kind']; find(db: Database): Promise<FindingCandidate[]> };

export const rules: readonly Rule[] = [
  { kind: 'serial-overlap', find: findSerialOverlaps },
];

export type CheckSummary = Record<string, RecordOutcome & { found: number; tonnesAtRisk: number }>;

export async function runChecks(db: Database): Promise<CheckSummary> {
  const summary: CheckSummary = {};
  for (const rule of rules) {
    const candidates = await rule.find(db);
    const outcome = await recordFullRun(db, rule.kind, candidates);
    summary[rule.kind] = { ...outcome, found: candidates.length, tonnesAtRisk: candidates.reduce((s, c) => s + c.tonnesAtRisk, 0) };
  }
  return summary;
}
