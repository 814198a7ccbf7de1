import { msg } from '../../schema/messages/index.ts';
import { disagreementMessages, matchMirrors } from '../mirrors.ts';
import type { FindingCandidate, RuleRun } from './findings.ts';

// Rule 15 (DESIGN §3, §6): a mirror disagrees with the source of record. A source that reports another
// registry's units (CAD Trust's data layer, Gold Standard's listing of CDM CERs) says something of them
// that the registry's own data contradicts: units outside every issuance of record, a state the record
// does not show (reported retired, held in the record; reported held, cancelled in the record), another
// project, another vintage. The registry's record stands; the finding shows both sides so that the
// mirror's keeper or the registry can correct theirs. Tonnes at risk: the units in question, which a
// reader of the mirror alone would count differently. Source: CAD Trust's role as a mirror of
// registries, never their record (reference/registries.md; ICVCM CCP 8 "only counted once").

export async function findMirrorDisagreements(run: RuleRun): Promise<FindingCandidate[]> {
  // A batch's run covers the mirror records of the projects it touched (its own mirrors' projects included: batchScope).
  const matches = await matchMirrors(run.db, run.scope ? { projectIds: run.scope.projectIds } : { all: true }, 'everyone');
  return matches.flatMap((m): FindingCandidate[] => {
    const said = disagreementMessages(m);
    if (said.length === 0) return [];
    const inQuestion = Math.max(m.quantity - m.covered, m.status === 'held' ? m.otherStatus : m.covered - m.sameStatus, 0) || m.quantity;
    const range = m.serialStart !== null ? msg('finding.mirror-disagrees.range', { start: String(m.serialStart), end: String(m.serialEnd) }) : null;
    return [{
      kind: 'mirror-disagrees',
      severity: 'medium',
      title: msg('finding.mirror-disagrees', {
        reportedBy: m.reportedBy, quantity: m.quantity, registry: m.registry, range, status: { term: 'unitStatus', code: m.status, inSentence: true },
        disagreements: { list: said, join: 'semicolon' },
      }),
      tonnesAtRisk: inQuestion,
      evidence: {
        mirror: {
          source: m.reportedBy, key: m.mirrorKey, project: m.registryProjectId ?? m.projectRef, numberSpace: m.numberSpace,
          serials: m.serialStart !== null ? [m.serialStart, m.serialEnd] : null, quantity: m.quantity, status: m.status, statusDate: m.statusDate, vintage: m.vintageYear,
        },
        record: {
          registry: m.registry, matchedBy: m.matchedBy, projects: m.projectKeys, unitsCovered: m.covered, unitsInThatState: m.sameStatus,
          unitsInOtherStates: m.otherStatus, otherStates: m.otherStatuses, vintages: m.vintages,
        },
        disagreements: said,
      },
      subjects: [
        ...m.projectIds.map((projectId) => ({ projectId })),
        ...m.blockIds.slice(0, 20).map((blockId) => ({ blockId })),
        ...(m.rawRecordId !== null ? [{ rawRecordId: m.rawRecordId }] : []),
      ],
      identity: [`mirror:${m.reportedBy}:${m.mirrorKey}`],
      ownerOrganizationId: m.ownerOrganizationId,
      isPrivate: m.isPrivate,
    }];
  });
}
