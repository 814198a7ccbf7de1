import { sql } from 'drizzle-orm';
import { rows } from '../../schema/database.ts';
import { conversions } from './conversions.ts';
import { linkEvidence, privacyOf, projectEvidence } from './evidence.ts';
import { msg } from '../../schema/messages/index.ts';
import type { FindingCandidate, RuleRun } from './findings.ts';

// Rule 7 (DESIGN §6): exported but never imported. A cancellation for export or conversion names its
// destination; the destination should show an issuance of the same vintage and quantity for a project
// linked to the source. Units that left one registry and arrived nowhere are either still to be issued,
// issued under a project nobody linked, or lost from the record (reference/registries.md §6.2
// "Cancelled in one registry, reissued in another"; ICVCM CCP 8 transparency of transfers between
// programmes). Informational: it asks for a look, it does not prove a double count. Only destinations
// whose data is in the ledger are checked: with none of a registry's issuances loaded, absence says
// nothing. Conversions that name no registry Tally knows (Washington Ecology) are not checked.
//
// Tonnes at risk, vintage by vintage: the units converted beyond what the destination issued.

export async function findExportsNotImported({ db, scope }: RuleRun): Promise<FindingCandidate[]> {
  const found = await conversions(db, scope);
  if (found.length === 0) return [];
  const withData = new Set((await rows<{ registry_id: string }>(db, sql`select distinct registry_id from issuances`)).map((r) => r.registry_id));
  return found.flatMap((c) => {
    if (!withData.has(c.registry)) return [];
    const missing = c.vintages.map((v) => ({ ...v, missing: Math.max(0, v.converted - v.destination) })).filter((v) => v.missing > 0);
    if (missing.length === 0) return [];
    const tonnes = missing.reduce((s, v) => s + v.missing, 0);
    return [{
      kind: 'export-not-imported' as const,
      severity: 'info' as const,
      title: msg('finding.export-not-imported', { tonnes, source: c.source.key, registry: c.registry }),
      tonnesAtRisk: tonnes,
      evidence: {
        source: projectEvidence(c.source),
        destinationRegistry: c.registry,
        linkedProjects: c.destinations.map(projectEvidence),
        links: c.links.map(linkEvidence),
        vintages: missing.map((v) => ({ vintage: v.vintage, converted: v.converted, issuedAtDestination: v.destination, missing: v.missing, destinationIssuances: v.destinationIssuances })),
        conversionEvents: c.events,
      },
      subjects: [{ projectId: c.source.id }, ...c.destinations.map((d) => ({ projectId: d.id })), ...c.sourceRecords,
        ...missing.flatMap((v) => v.destinationIssuanceIds.map((issuanceId) => ({ issuanceId })))],
      identity: [c.source.key, `to:${c.registry}`],
      ...privacyOf(c.source, ...c.destinations),
    }];
  });
}
