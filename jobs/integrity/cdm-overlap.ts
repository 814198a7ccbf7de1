import { sql } from 'drizzle-orm';
import { bigintArray, rows } from '../../schema/database.ts';
import {
  issuanceEvidence, issuancePeriods, linkEvidence, linksOf, overlappingIssuances, privacyOf, projectEvidence, projectFacts,
} from './evidence.ts';
import type { FindingCandidate, RuleRun } from './findings.ts';

// Rule 4 (DESIGN §6): CDM → VCS / GS / A6.4 overlap. A CDM activity that also issues in another
// programme (Verra's "Units Transferred from Approved GHG Program", Gold Standard's CER-backed
// issuances, an A6.4 transition) may do so only for periods the CDM did not credit, or after cancelling
// the CERs it converts. CERs and other units issued for the same period, beyond the CERs cancelled,
// are the same tonnes twice. CDM activities that transitioned to A6.4 issue from 2021-01-01, after
// their CER periods. Sources: reference/registries.md §6.2 "CDM → VCS/GS/A6.4"; ICVCM CCP 8; CORSIA EUC
// "only counted once"; decision 3/CMA.3 annex ¶73–75 (transition of CDM activities).
//
// Tonnes at risk: the overlapping CERs less the CERs cancelled for those periods (voluntarily, or for
// conversion; a cancellation whose vintage is unknown counts for any period), capped by what the other
// programme issued over the overlap.

type Cancelled = { project_id: number; serial: string; quantity: number; status: string; date: string | null; start: string | null; end: string | null };

export async function findCdmOverlaps({ db, scope }: RuleRun): Promise<FindingCandidate[]> {
  if (scope && scope.projectIds.length === 0) return [];
  const links = (await linksOf(db, scope?.projectIds, ['same-activity', 'converted-to', 'transitioned-from']))
    .filter((l) => (l.from_registry === 'cdm') !== (l.to_registry === 'cdm'));
  // One finding per CDM activity and project, whichever way and however many times they are linked.
  const pairs = new Map<string, { cdm: number; other: number; link: (typeof links)[number] }>();
  for (const l of links) {
    const [cdm, other] = l.from_registry === 'cdm' ? [l.from_id, l.to_id] : [l.to_id, l.from_id];
    const key = `${cdm}-${other}`;
    if (!pairs.has(key) || pairs.get(key)!.link.source === 'inferred') pairs.set(key, { cdm, other, link: l });
  }
  const cdmIds = [...pairs.values()].map((p) => p.cdm);
  const ids = [...pairs.values()].flatMap((p) => [p.cdm, p.other]);
  const [facts, periods] = await Promise.all([projectFacts(db, ids), issuancePeriods(db, ids)]);
  const cancelled = cdmIds.length === 0 ? [] : await rows<Cancelled>(db, sql`select project_id::float8 as project_id, block_key as serial,
      quantity::float8 as quantity, status::text as status, status_date::text as date,
      coalesce(vintage_start, make_date(vintage_year, 1, 1))::text as start, coalesce(vintage_end, make_date(vintage_year, 12, 31))::text as "end"
    from unit_blocks where project_id = any(${bigintArray(cdmIds)}) and status in ('cancelled', 'exported') and superseded_in_batch_id is null
    order by id`);
  return [...pairs.values()].flatMap(({ cdm, other, link }) => {
    const overlap = overlappingIssuances(periods.get(cdm) ?? [], periods.get(other) ?? []);
    if (!overlap) return [];
    const cancellations = cancelled.filter((b) => b.project_id === cdm && (b.start === null || (b.start <= overlap.to && overlap.from <= b.end!)));
    const cancelledTonnes = cancellations.reduce((s, b) => s + b.quantity, 0);
    const uncancelled = overlap.aTonnes - cancelledTonnes;
    const tonnes = Math.min(uncancelled, overlap.bTonnes);
    if (tonnes <= 0) return [];
    const c = facts.get(cdm)!;
    const o = facts.get(other)!;
    const inferred = link.source === 'inferred';
    return [{
      kind: 'cdm-overlap' as const,
      severity: inferred ? 'medium' as const : 'high' as const,
      title: `CDM ${c.registryProjectId} and ${o.key} credited the same period (${overlap.from} to ${overlap.to}) without enough CERs cancelled`,
      tonnesAtRisk: tonnes,
      evidence: {
        link: linkEvidence(link),
        period: { from: overlap.from, to: overlap.to },
        cdm: { ...projectEvidence(c), issuances: overlap.a.map(issuanceEvidence), tonnes: overlap.aTonnes },
        other: { ...projectEvidence(o), issuances: overlap.b.map(issuanceEvidence), tonnes: overlap.bTonnes },
        cersCancelled: { tonnes: cancelledTonnes, blocks: cancellations.map(({ serial, quantity, status, date }) => ({ serial, quantity, status, date })) },
      },
      subjects: [{ projectId: c.id }, { projectId: o.id }, ...[...overlap.a, ...overlap.b].map((i) => (i.fromBlock ? { blockId: i.id } : { issuanceId: i.id }))],
      identity: [c.key, o.key],
      restsOnInferredLink: inferred,
      ...privacyOf(c, o),
    }];
  });
}
