import { conversions } from './conversions.ts';
import { linkEvidence, privacyOf, projectEvidence } from './evidence.ts';
import { msg } from '../../schema/messages/index.ts';
import type { FindingCandidate, RuleRun } from './findings.ts';

// Rule 2 (DESIGN §6): the same units in two registries, not netted. Units converted from one registry
// into another are issued again at the destination; if the source does not take them out of what it
// counts as issued, every total over both registries counts them twice. The real case: CAR reports
// `Offset Credits Converted to VCUs` beside issuances it still counts in full, and Verra issues the
// same units as VCUs (CAR400 ↔ VCS 1528, CAR498 ↔ VCS 1527: 45,730 and 4,270 t; reference/registries.md
// §6.2–6.3). Sources: ICVCM CCP 8 "No double counting" (double issuance in two registries); CORSIA EUC
// "only counted once". A conversion the source netted (cancelled blocks, `exported`) is not a finding;
// one with no issuance at the destination is rule 7's.
//
// Tonnes at risk, vintage by vintage: the units converted without netting that the destination issued.

export async function findUnnettedConversions({ db, scope }: RuleRun): Promise<FindingCandidate[]> {
  return (await conversions(db, scope)).flatMap((c) => {
    const counted = c.vintages.map((v) => ({ ...v, twice: Math.min(v.unnetted, v.destination) })).filter((v) => v.twice > 0);
    if (counted.length === 0) return [];
    const tonnes = counted.reduce((s, v) => s + v.twice, 0);
    const inferred = c.links.length > 0 && c.links.every((l) => l.source === 'inferred');
    return [{
      kind: 'unnetted-conversion' as const,
      severity: inferred ? 'medium' as const : 'high' as const,
      title: msg('finding.unnetted-conversion', { tonnes, source: c.source.key, registry: c.source.registry, destinations: { list: c.destinations.map((d) => d.key) } }),
      tonnesAtRisk: tonnes,
      evidence: {
        source: projectEvidence(c.source),
        destinations: c.destinations.map(projectEvidence),
        links: c.links.map(linkEvidence),
        vintages: counted.map((v) => ({ vintage: v.vintage, convertedNotNetted: v.unnetted, issuedAtDestination: v.destination, countedTwice: v.twice, destinationIssuances: v.destinationIssuances })),
        conversionEvents: c.events.filter((e) => !e.netted),
      },
      subjects: [{ projectId: c.source.id }, ...c.destinations.map((d) => ({ projectId: d.id })), ...c.sourceRecords,
        ...counted.flatMap((v) => v.destinationIssuanceIds.map((issuanceId) => ({ issuanceId })))],
      identity: [c.source.key, `to:${c.registry}`],
      restsOnInferredLink: inferred,
      ...privacyOf(c.source, ...c.destinations),
    }];
  });
}
