import { and, eq, inArray, notInArray, sql } from 'drizzle-orm';
import { findingStatusChanges, findings, findingSubjects } from '../../schema/db/index.ts';
import type { Database } from '../../schema/database.ts';
import { sha256 } from '../batches.ts';

// Findings are kept, not recomputed: a rule reports what it sees as candidates, each with a fingerprint
// derived from the rule and the records involved. A candidate seen before updates its finding's
// `last_seen_at`; a new one opens a finding; a finding of the rule not seen in a full run is resolved
// (never deleted), and one seen again after that is reopened. Every status change is kept as history.

type Kind = typeof findings.$inferInsert['kind'];
type Severity = typeof findings.$inferInsert['severity'];

export type FindingSubject = { projectId?: number; issuanceId?: number; blockId?: number; rawRecordId?: number };

export type FindingCandidate = {
  kind: Kind;
  severity: Severity;
  title: string;
  tonnesAtRisk: number;
  /** What a person needs to check it without Tally: serials, dates, quantities, links. */
  evidence: Record<string, unknown>;
  subjects: FindingSubject[];
  /** Stable parts that identify the problem (natural keys of the records, not database ids). */
  identity: string[];
  restsOnInferredLink?: boolean;
  /** A finding about a private record is visible only to that record's owner. */
  ownerOrganizationId?: number | null;
  isPrivate?: boolean;
};

export const fingerprintOf = (kind: string, identity: string[]) => sha256(`${kind}\n${[...identity].sort().join('\n')}`);

export type RecordOutcome = { opened: number; seenAgain: number; reopened: number; resolved: number };

/** Records one full run of a rule: opens, refreshes and reopens what it found, resolves what it no longer finds. */
export async function recordFullRun(db: Database, kind: Kind, candidates: FindingCandidate[]): Promise<RecordOutcome> {
  const outcome: RecordOutcome = { opened: 0, seenAgain: 0, reopened: 0, resolved: 0 };
  const fingerprints = candidates.map((c) => fingerprintOf(c.kind, c.identity));
  await db.transaction(async (txn) => {
    const tx = txn as unknown as Database;
    const existing = fingerprints.length === 0 ? [] : await tx.select({ id: findings.id, fingerprint: findings.fingerprint, status: findings.status })
      .from(findings).where(inArray(findings.fingerprint, fingerprints));
    const byFingerprint = new Map(existing.map((f) => [f.fingerprint, f]));
    for (const [i, candidate] of candidates.entries()) {
      const fingerprint = fingerprints[i]!;
      const found = byFingerprint.get(fingerprint);
      const content = {
        severity: candidate.severity,
        title: candidate.title,
        tonnesAtRisk: candidate.tonnesAtRisk,
        evidence: candidate.evidence,
        restsOnInferredLink: candidate.restsOnInferredLink ?? false,
        ownerOrganizationId: candidate.ownerOrganizationId ?? null,
        isPrivate: candidate.isPrivate ?? false,
        lastSeenAt: new Date(),
      };
      if (!found) {
        const [row] = await tx.insert(findings).values({ fingerprint, kind, status: 'open', ...content }).returning({ id: findings.id });
        await tx.insert(findingSubjects).values(candidate.subjects.map((s) => ({ findingId: row!.id, ...s }))).onConflictDoNothing();
        await tx.insert(findingStatusChanges).values({ findingId: row!.id, fromStatus: null, toStatus: 'open', reason: 'found' });
        outcome.opened += 1;
      } else if (found.status === 'resolved') {
        await tx.update(findings).set({ ...content, status: 'open', resolvedAt: null }).where(eq(findings.id, found.id));
        await tx.insert(findingStatusChanges).values({ findingId: found.id, fromStatus: 'resolved', toStatus: 'open', reason: 'found again' });
        outcome.reopened += 1;
      } else {
        // Acknowledged and dismissed findings keep their status: the people who set it decided.
        await tx.update(findings).set(content).where(eq(findings.id, found.id));
        outcome.seenAgain += 1;
      }
    }
    const gone = await tx.select({ id: findings.id, status: findings.status }).from(findings).where(and(
      eq(findings.kind, kind),
      inArray(findings.status, ['open', 'acknowledged']),
      fingerprints.length > 0 ? notInArray(findings.fingerprint, fingerprints) : sql`true`,
    ));
    for (const f of gone) {
      await tx.update(findings).set({ status: 'resolved', resolvedAt: new Date() }).where(eq(findings.id, f.id));
      await tx.insert(findingStatusChanges).values({ findingId: f.id, fromStatus: f.status, toStatus: 'resolved', reason: 'no longer found' });
      outcome.resolved += 1;
    }
  });
  return outcome;
}
