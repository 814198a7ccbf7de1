import { and, eq, inArray, sql } from 'drizzle-orm';
import { findingStatusChanges, findings, findingSubjects } from '../../schema/db/index.ts';
import { bigintArray, rows, textArray, type Database } from '../../schema/database.ts';
import { sha256 } from '../../schema/hash.ts';
import { render, type Message } from '../../schema/messages/index.ts';
import type { Problem } from '../article6/consistency.ts';
import { queueFindingChanges } from '../webhooks.ts';
import type { OverlapPair } from './serial-overlap.ts';

// Findings are kept, not recomputed: a rule reports what it sees as candidates, each with a fingerprint
// derived from the rule and the records involved. A candidate seen before updates its finding's
// `last_seen_at`; a new one opens a finding; a finding of the rule that a run covering it no longer
// finds is resolved (never deleted), and one seen again after that is reopened. Every status change is
// kept as history.

export type FindingKind = typeof findings.$inferInsert['kind'];
type Severity = typeof findings.$inferInsert['severity'];
export type FindingStatus = typeof findings.$inferSelect['status'];

export type FindingSubject = { projectId?: number; issuanceId?: number; blockId?: number; rawRecordId?: number; aefActionId?: number; aefAuthorizationId?: number };

export type FindingCandidate = {
  kind: FindingKind;
  severity: Severity;
  /** The title as a message of the catalogues (schema/messages), shown in each reader's language. */
  title: Message;
  tonnesAtRisk: number;
  /** What a person needs to check it without Tally: serials, dates, quantities, links. */
  evidence: Record<string, unknown>;
  /** The records involved. Every candidate names its projects: an incremental run finds findings by them. */
  subjects: FindingSubject[];
  /** Stable parts that identify the problem (natural keys of the records, not database ids). */
  identity: string[];
  restsOnInferredLink?: boolean;
  /** A finding about a private record is visible only to that record's owner. */
  ownerOrganizationId?: number | null;
  isPrivate?: boolean;
};

/**
 * What a run covers: everything (undefined), or what one batch wrote. A rule that compares blocks
 * reports every candidate involving one of `blockIds`, a rule that compares projects every candidate
 * involving one of `projectIds`; findings of the rule involving them and not found again are resolved.
 */
export type Scope = { projectIds: number[]; blockIds: number[] } | undefined;
/** `everything`: a rule over AEF uploads, small enough to run whole every time. */
export type ScopedBy = 'blocks' | 'projects' | 'everything';

/**
 * What a rule is given: the database, the scope it covers, and the serial overlaps of the run's scope,
 * found once for the two rules that sort them (1 and 5).
 */
export type RuleRun = { db: Database; scope: Scope; overlaps(): Promise<OverlapPair[]>; aefProblems(): Promise<Problem[]> };

/**
 * The fingerprint of a candidate: its rule and identity, and for a private finding its owner too, since
 * two organizations' private uploads can hold records with the same natural keys.
 */
export function fingerprintOf(candidate: Pick<FindingCandidate, 'kind' | 'identity' | 'isPrivate' | 'ownerOrganizationId'>): string {
  const identity = candidate.isPrivate ? [...candidate.identity, `owner:${candidate.ownerOrganizationId}`] : candidate.identity;
  return sha256(`${candidate.kind}\n${[...identity].sort().join('\n')}`);
}

export type RecordOutcome = { opened: number; seenAgain: number; reopened: number; resolved: number };

/** Serializes writers of findings: a full check and the incremental check of a batch may run at once. */
const FINDINGS_LOCK = 7_310_001;

/** Records one run of a rule over a scope: opens, refreshes and reopens what it found, resolves what it no longer finds. */
export async function recordRun(db: Database, kind: FindingKind, candidates: FindingCandidate[], scope: Scope, scopedBy: ScopedBy): Promise<RecordOutcome> {
  const outcome: RecordOutcome = { opened: 0, seenAgain: 0, reopened: 0, resolved: 0 };
  const fingerprints = candidates.map(fingerprintOf);
  await db.transaction(async (txn) => {
    const tx = txn as unknown as Database;
    await tx.execute(sql`select pg_advisory_xact_lock(${FINDINGS_LOCK})`);
    const existing = fingerprints.length === 0 ? [] : await tx.select({ id: findings.id, fingerprint: findings.fingerprint, status: findings.status })
      .from(findings).where(inArray(findings.fingerprint, fingerprints));
    const byFingerprint = new Map(existing.map((f) => [f.fingerprint, f]));
    const now = new Date();
    const changes: number[] = [];
    for (const [i, candidate] of candidates.entries()) {
      const fingerprint = fingerprints[i]!;
      const found = byFingerprint.get(fingerprint);
      const content = {
        severity: candidate.severity,
        title: render('en', candidate.title),
        titleMessage: candidate.title,
        tonnesAtRisk: candidate.tonnesAtRisk,
        evidence: candidate.evidence,
        restsOnInferredLink: candidate.restsOnInferredLink ?? false,
        ownerOrganizationId: candidate.ownerOrganizationId ?? null,
        isPrivate: candidate.isPrivate ?? false,
        lastSeenAt: now,
      };
      if (!found) {
        const [row] = await tx.insert(findings).values({ fingerprint, kind, status: 'open', ...content }).returning({ id: findings.id });
        if (candidate.subjects.length > 0) {
          await tx.insert(findingSubjects).values(candidate.subjects.map((s) => ({ findingId: row!.id, ...s }))).onConflictDoNothing();
        }
        changes.push(await statusChange(tx, { findingId: row!.id, fromStatus: null, toStatus: 'open', reason: 'found' }));
        byFingerprint.set(fingerprint, { id: row!.id, fingerprint, status: 'open' });
        outcome.opened += 1;
      } else if (found.status === 'resolved') {
        await tx.update(findings).set({ ...content, status: 'open', resolvedAt: null }).where(eq(findings.id, found.id));
        changes.push(await statusChange(tx, { findingId: found.id, fromStatus: 'resolved', toStatus: 'open', reason: 'found again' }));
        found.status = 'open';
        outcome.reopened += 1;
      } else {
        // Acknowledged and dismissed findings keep their status: the people who set it decided.
        await tx.update(findings).set(content).where(eq(findings.id, found.id));
        outcome.seenAgain += 1;
      }
    }
    const inScope = !scope || scopedBy === 'everything' ? sql`true` : scopedBy === 'blocks'
      ? sql`exists (select 1 from finding_subjects s where s.finding_id = f.id and s.block_id = any(${bigintArray(scope.blockIds)}))`
      : sql`exists (select 1 from finding_subjects s where s.finding_id = f.id and s.project_id = any(${bigintArray(scope.projectIds)}))`;
    const gone = await rows<{ id: number; status: FindingStatus }>(tx, sql`select f.id::float8 as id, f.status::text as status from findings f
      where f.kind = ${kind} and f.status in ('open', 'acknowledged') and f.fingerprint <> all(${textArray(fingerprints)}) and ${inScope}`);
    for (const f of gone) {
      await tx.update(findings).set({ status: 'resolved', resolvedAt: now }).where(eq(findings.id, f.id));
      changes.push(await statusChange(tx, { findingId: f.id, fromStatus: f.status, toStatus: 'resolved', reason: 'no longer found' }));
      outcome.resolved += 1;
    }
    await queueFindingChanges(tx, changes);
  });
  return outcome;
}

/** Records a status change of a finding; its id lets the change be announced (jobs/webhooks.ts). */
async function statusChange(tx: Database, change: typeof findingStatusChanges.$inferInsert): Promise<number> {
  const [row] = await tx.insert(findingStatusChanges).values(change).returning({ id: findingStatusChanges.id });
  return row!.id;
}

export class FindingStatusRefused extends Error {}

/**
 * A person's decision on a finding: acknowledge it, dismiss it (a reason is required), or open it again.
 * Resolution belongs to the checks, which resolve a finding when its cause is gone.
 */
export async function setFindingStatus(db: Database, findingId: number, to: 'open' | 'acknowledged' | 'dismissed', change: { reason?: string; apiKeyId?: number } = {}): Promise<void> {
  const reason = change.reason?.trim() || undefined;
  if (to === 'dismissed' && !reason) throw new FindingStatusRefused('dismissing a finding needs a reason');
  await db.transaction(async (txn) => {
    const tx = txn as unknown as Database;
    const [current] = await tx.select({ status: findings.status }).from(findings).where(eq(findings.id, findingId)).for('update');
    if (!current) throw new FindingStatusRefused(`finding ${findingId} does not exist`);
    if (current.status === to) return;
    if (current.status === 'resolved') throw new FindingStatusRefused(`finding ${findingId} is resolved: its cause is gone from the ledger`);
    await tx.update(findings).set({ status: to }).where(and(eq(findings.id, findingId)));
    await tx.insert(findingStatusChanges).values({ findingId, fromStatus: current.status, toStatus: to, reason: reason ?? null, apiKeyId: change.apiKeyId ?? null });
  });
}
