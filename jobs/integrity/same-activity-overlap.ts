import {
  issuanceEvidence, issuancePeriods, linkEvidence, linksOf, overlappingIssuances, privacyOf, projectEvidence, projectFacts,
} from './evidence.ts';
import { msg } from '../../schema/messages/index.ts';
import type { FindingCandidate, RuleRun } from './findings.ts';

// Rule 3 (DESIGN §6): the same activity in two registries with overlapping periods. Two projects that
// are one activity (a link the registries declare, or one Tally inferred with its score) and that both
// issued units for the same days issued those tonnes twice: a double issuance across programmes.
// Periods that follow one another are legitimate: a project that moved from one registry to another
// (Cambria 33 and Corinth on ACR then Verra, reference/registries.md §6.3). Sources: ICVCM CCP 8 "No
// double counting" (double issuance "in another program"); CORSIA EUC "only counted once"; CAD Trust's
// duplicate-issuance audit (different registry of origin, overlapping issuance periods). Pairs with the
// CDM are rule 4's; pairs linked as a conversion are rule 2's.
//
// Tonnes at risk: the smaller of the two sides' issuances over the shared period, the most that can
// have been issued twice.

export async function findSameActivityOverlaps({ db, scope }: RuleRun): Promise<FindingCandidate[]> {
  if (scope && scope.projectIds.length === 0) return [];
  const links = await linksOf(db, scope?.projectIds, ['same-activity', 'converted-to']);
  const converted = new Set(links.filter((l) => l.relation === 'converted-to').flatMap((l) => [`${l.from_id}-${l.to_id}`, `${l.to_id}-${l.from_id}`]));
  const pairs = links.filter((l) => l.relation === 'same-activity' && l.from_registry !== 'cdm' && l.to_registry !== 'cdm'
    && !converted.has(`${l.from_id}-${l.to_id}`));
  const ids = pairs.flatMap((l) => [l.from_id, l.to_id]);
  const [facts, periods] = await Promise.all([projectFacts(db, ids), issuancePeriods(db, ids)]);
  return pairs.flatMap((link) => {
    const overlap = overlappingIssuances(periods.get(link.from_id) ?? [], periods.get(link.to_id) ?? []);
    if (!overlap) return [];
    const a = facts.get(link.from_id)!;
    const b = facts.get(link.to_id)!;
    const tonnes = Math.min(overlap.aTonnes, overlap.bTonnes);
    const inferred = link.source === 'inferred';
    return [{
      kind: 'same-activity-overlap' as const,
      severity: inferred ? 'medium' as const : 'high' as const,
      title: msg('finding.same-activity-overlap', {
        first: a.key, second: b.key, from: overlap.from, to: overlap.to,
        inferred: inferred ? msg('finding.same-activity-overlap.inferred', { score: link.score === null ? null : String(link.score) }) : null,
      }),
      tonnesAtRisk: tonnes,
      evidence: {
        link: linkEvidence(link),
        period: { from: overlap.from, to: overlap.to },
        projects: [
          { ...projectEvidence(a), issuances: overlap.a.map(issuanceEvidence), tonnes: overlap.aTonnes },
          { ...projectEvidence(b), issuances: overlap.b.map(issuanceEvidence), tonnes: overlap.bTonnes },
        ],
      },
      subjects: [{ projectId: a.id }, { projectId: b.id }, ...[...overlap.a, ...overlap.b].map((i) => (i.fromBlock ? { blockId: i.id } : { issuanceId: i.id }))],
      identity: [a.key, b.key],
      restsOnInferredLink: inferred,
      ...privacyOf(a, b),
    }];
  });
}
