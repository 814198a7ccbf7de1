import { performance } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import { rows, type Database } from '../../schema/database.ts';
import type { Problem } from '../article6/consistency.ts';
import { findCaMirrorsMissing } from './ca-mirror-missing.ts';
import { allAefProblems } from './ca-problems.ts';
import { findCaQuantityMismatches } from './ca-quantity-mismatch.ts';
import { findCaRangeMismatches } from './ca-range-mismatch.ts';
import { findCaStatusOverdue } from './ca-status-overdue.ts';
import { findCaUnauthorizedUse } from './ca-unauthorized-use.ts';
import { findUnreportedFirstTransfers } from './ca-unreported-first-transfer.ts';
import { findCdmOverlaps } from './cdm-overlap.ts';
import { findContributionClaimOverlaps } from './contribution-claim-overlap.ts';
import { conversionScope } from './conversions.ts';
import { attachSources } from './evidence.ts';
import { findExportsNotImported } from './export-not-imported.ts';
import { matchMirrors } from '../mirrors.ts';
import { findMirrorDisagreements } from './mirror-disagrees.ts';
import { recordRun, type FindingCandidate, type RecordOutcome, type RuleRun, type Scope, type ScopedBy } from './findings.ts';
import { linkProjects, type LinkOutcome } from './project-links.ts';
import { findRetiredTwice } from './retired-twice.ts';
import { findSameActivityOverlaps } from './same-activity-overlap.ts';
import { findSerialOverlaps, overlappingBlocks, type OverlapPair } from './serial-overlap.ts';
import { findTokenizedAfterRetirement } from './tokenized-after-retirement.ts';
import { findUnnettedConversions } from './unnetted-conversion.ts';

// The integrity rules (DESIGN §6), one module each: double counting (rules 1–7),
// corresponding-adjustment gaps (rules 8–14), and mirrors that disagree with the registry (rule 15). `tally check` and the scheduler
// run them over the whole ledger; the ingest job runs them over what each batch wrote and what that
// can collide with. Project links are recomputed first: rules 2, 3, 4 and 7 compare linked projects.

type Rule = {
  kind: FindingCandidate['kind'];
  /** What the rule compares, and so how an incremental run finds the findings it covers. */
  scopedBy: ScopedBy;
  /** Widens a batch's scope to everything whose findings the batch can change (default: the scope). */
  widen?(db: Database, scope: Scope): Promise<Scope>;
  find(run: RuleRun): Promise<FindingCandidate[]>;
};

export const rules: readonly Rule[] = [
  { kind: 'serial-overlap', scopedBy: 'blocks', find: findSerialOverlaps },
  { kind: 'unnetted-conversion', scopedBy: 'projects', widen: conversionScope, find: findUnnettedConversions },
  { kind: 'same-activity-overlap', scopedBy: 'projects', find: findSameActivityOverlaps },
  { kind: 'cdm-overlap', scopedBy: 'projects', find: findCdmOverlaps },
  { kind: 'retired-twice', scopedBy: 'blocks', find: findRetiredTwice },
  { kind: 'tokenized-after-retirement', scopedBy: 'blocks', find: findTokenizedAfterRetirement },
  { kind: 'export-not-imported', scopedBy: 'projects', widen: conversionScope, find: findExportsNotImported },
  // Rule 15: a mirror that disagrees with the source of record (jobs/mirrors.ts).
  { kind: 'mirror-disagrees', scopedBy: 'projects', find: findMirrorDisagreements },
  // Corresponding-adjustment gaps (rules 8–14; see jobs/article6).
  { kind: 'ca-unreported-first-transfer', scopedBy: 'everything', find: findUnreportedFirstTransfers },
  { kind: 'ca-quantity-mismatch', scopedBy: 'everything', find: findCaQuantityMismatches },
  { kind: 'ca-range-mismatch', scopedBy: 'everything', find: findCaRangeMismatches },
  { kind: 'ca-mirror-missing', scopedBy: 'everything', find: findCaMirrorsMissing },
  { kind: 'ca-unauthorized-use', scopedBy: 'blocks', find: findCaUnauthorizedUse },
  { kind: 'ca-status-overdue', scopedBy: 'blocks', find: findCaStatusOverdue },
  { kind: 'contribution-claim-overlap', scopedBy: 'blocks', find: findContributionClaimOverlaps },
];

export type RuleSummary = RecordOutcome & { found: number; tonnesAtRisk: number; milliseconds: number };
export type CheckSummary = {
  scope: 'full' | { batchId: number; projects: number; blocks: number };
  links: LinkOutcome & { milliseconds: number };
  rules: Record<string, RuleSummary>;
};

/** Above this many blocks written, a batch's check runs over the whole ledger. */
const WHOLE_LEDGER_ABOVE_BLOCKS = 50_000;

/**
 * What one batch wrote: the blocks it added, changed or superseded, and every project it touched,
 * including the projects of record whose units the batch's mirror records report.
 */
export async function batchScope(db: Database, batchId: number): Promise<NonNullable<Scope>> {
  const blocks = await rows<{ id: number; project_id: number }>(db, sql`select id::float8 as id, project_id::float8 as project_id
    from unit_blocks where last_batch_id = ${batchId}`);
  const projects = await rows<{ id: number }>(db, sql`select id::float8 as id from projects where last_batch_id = ${batchId}
    union select project_id::float8 from issuances where last_batch_id = ${batchId}
    union select project_id::float8 from events where batch_id = ${batchId}`);
  const mirrored = (await matchMirrors(db, { batchId }, 'everyone')).flatMap((m) => m.projectIds);
  return {
    blockIds: blocks.map((b) => b.id),
    projectIds: [...new Set([...projects.map((p) => p.id), ...blocks.map((b) => b.project_id), ...mirrored])],
  };
}

/**
 * Runs the rules over the whole ledger, or over what batch `batchId` wrote, and records the findings.
 * `kinds` limits the run to some rules (an AEF upload runs the corresponding-adjustment ones).
 */
export async function runChecks(db: Database, options: { batchId?: number; kinds?: readonly FindingCandidate['kind'][] } = {}): Promise<CheckSummary> {
  const batch = options.batchId === undefined ? undefined : await batchScope(db, options.batchId);
  // A batch that wrote a large part of the ledger is checked whole: one sweep beats probing from each block.
  const scope = batch && batch.blockIds.length > WHOLE_LEDGER_ABOVE_BLOCKS ? undefined : batch;
  const summary: CheckSummary = {
    scope: scope ? { batchId: options.batchId!, projects: scope.projectIds.length, blocks: scope.blockIds.length } : 'full',
    links: { declared: 0, inferred: 0, milliseconds: 0 },
    rules: {},
  };
  if (scope && scope.projectIds.length === 0 && scope.blockIds.length === 0) return summary;
  const selected = rules.filter((rule) => !options.kinds || options.kinds.includes(rule.kind));
  if (selected.some((rule) => rule.scopedBy === 'projects')) {
    const linking = performance.now();
    summary.links = { ...await linkProjects(db, scope), milliseconds: Math.round(performance.now() - linking) };
  }
  let overlaps: Promise<OverlapPair[]> | undefined;
  let problems: Promise<Problem[]> | undefined;
  for (const rule of selected) {
    const started = performance.now();
    const ruleScope = rule.scopedBy === 'everything' ? undefined : rule.widen ? await rule.widen(db, scope) : scope;
    const candidates = await rule.find({
      db, scope: ruleScope, overlaps: () => (overlaps ??= overlappingBlocks(db, scope)), aefProblems: () => (problems ??= allAefProblems(db)),
    });
    await attachSources(db, candidates);
    const outcome = await recordRun(db, rule.kind, candidates, ruleScope, rule.scopedBy);
    summary.rules[rule.kind] = {
      ...outcome, found: candidates.length, tonnesAtRisk: candidates.reduce((s, c) => s + c.tonnesAtRisk, 0), milliseconds: Math.round(performance.now() - started),
    };
  }
  return summary;
}
