import { sql } from 'drizzle-orm';
import { bigintArray, rows, type Database } from '../../schema/database.ts';
import { linksOf, projectFacts, type LinkRow, type ProjectFacts } from './evidence.ts';
import type { Scope } from './findings.ts';

// What rules 2 and 7 share: units that left one registry for another (`converted-out` events naming
// the destination registry), set beside the issuances of the projects linked to the source in that
// registry, vintage by vintage.
//
// A conversion is netted when the source took the units out of its supply: the event rests on blocks
// the registry cancelled for the conversion (ACR and CAR cancellations "Convert to ARB", status
// `exported`). It is not netted when the source still counts the units as issued and only reports, next
// to the issuance, how many went elsewhere (CAR's `Offset Credits Converted to VCUs`, whose events say
// `nettedOutOfIssuance: false`).

export type VintageMatch = {
  vintage: number | null; converted: number; unnetted: number; destination: number; destinationIssuances: string[]; destinationIssuanceIds: number[];
};
export type Conversion = {
  source: ProjectFacts;
  registry: string;
  destinations: ProjectFacts[];
  links: LinkRow[];
  vintages: VintageMatch[];
  events: { event: string; date: string | null; quantity: number; vintage: number | null; netted: boolean; details: Record<string, unknown> }[];
  /** The source's issuances and blocks the conversion events rest on. */
  sourceRecords: { issuanceId?: number; blockId?: number }[];
};

type EventRow = {
  project_id: number; registry: string; vintage: number | null; event: string; date: string | null; quantity: number; netted: boolean;
  details: Record<string, unknown>; issuance_id: number | null; block_id: number | null;
};
type IssuanceRow = { id: number; project_id: number; vintage: number | null; quantity: number; key: string };

/**
 * The source projects a scoped run must look at again: those in scope, those linked to them, and those
 * whose conversions go to a registry the scope wrote to (a registry's first data can match them).
 */
export async function conversionScope(db: Database, scope: Scope): Promise<Scope> {
  if (!scope || scope.projectIds.length === 0) return scope;
  const ids = bigintArray(scope.projectIds);
  const found = await rows<{ id: number }>(db, sql`select from_project_id::float8 as id from project_links where to_project_id = any(${ids})
    union select to_project_id::float8 from project_links where from_project_id = any(${ids})
    union select distinct e.project_id::float8 from events e
      where e.kind = 'converted-out' and e.counterparty_registry_id in (select distinct registry_id from projects where id = any(${ids}))`);
  return { blockIds: scope.blockIds, projectIds: [...new Set([...scope.projectIds, ...found.map((r) => r.id)])] };
}

export async function conversions(db: Database, scope: Scope): Promise<Conversion[]> {
  if (scope && scope.projectIds.length === 0) return [];
  const scoped = scope ? sql`and e.project_id = any(${bigintArray(scope.projectIds)})` : sql``;
  const events = await rows<EventRow>(db, sql`select e.project_id::float8 as project_id, e.counterparty_registry_id as registry, e.vintage_year as vintage,
      e.event_key as event, e.occurred_on::text as date, e.quantity::float8 as quantity,
      coalesce(e.details->>'nettedOutOfIssuance', 'true') <> 'false' as netted, e.details,
      e.issuance_id::float8 as issuance_id, e.block_id::float8 as block_id
    from events e where e.kind = 'converted-out' and e.counterparty_registry_id is not null ${scoped}
    order by e.project_id, e.counterparty_registry_id, e.vintage_year, e.id`);
  if (events.length === 0) return [];
  const sources = [...new Set(events.map((e) => e.project_id))];
  const links = await linksOf(db, sources, ['same-activity', 'converted-to', 'transitioned-from']);
  const facts = await projectFacts(db, [...sources, ...links.flatMap((l) => [l.from_id, l.to_id])]);
  const destinationIds = [...new Set(links.flatMap((l) => [l.from_id, l.to_id]))];
  const issued = destinationIds.length === 0 ? [] : await rows<IssuanceRow>(db, sql`select id::float8 as id, project_id::float8 as project_id, vintage_year as vintage,
      quantity::float8 as quantity, issuance_key as key from issuances where project_id = any(${bigintArray(destinationIds)})`);

  const groups = new Map<string, EventRow[]>();
  for (const e of events) {
    const key = `${e.project_id}\n${e.registry}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(e);
  }
  return [...groups.values()].map((group) => {
    const { project_id: sourceId, registry } = group[0]!;
    const ownLinks = links.filter((l) => (l.from_id === sourceId && l.to_registry === registry) || (l.to_id === sourceId && l.from_registry === registry));
    const destinationIdsHere = new Set(ownLinks.map((l) => (l.from_id === sourceId ? l.to_id : l.from_id)));
    const byVintage = new Map<number | null, VintageMatch>();
    for (const e of group) {
      const v = byVintage.get(e.vintage) ?? { vintage: e.vintage, converted: 0, unnetted: 0, destination: 0, destinationIssuances: [], destinationIssuanceIds: [] };
      v.converted += e.quantity;
      if (!e.netted) v.unnetted += e.quantity;
      byVintage.set(e.vintage, v);
    }
    for (const v of byVintage.values()) {
      const matching = issued.filter((i) => destinationIdsHere.has(i.project_id) && (v.vintage === null || i.vintage === v.vintage));
      v.destination = matching.reduce((s, i) => s + i.quantity, 0);
      v.destinationIssuances = matching.map((i) => `${facts.get(i.project_id)!.key}/${i.key}`);
      v.destinationIssuanceIds = matching.map((i) => i.id);
    }
    return {
      source: facts.get(sourceId)!,
      registry,
      destinations: [...destinationIdsHere].map((id) => facts.get(id)!),
      links: ownLinks,
      vintages: [...byVintage.values()],
      events: group.map((e) => ({ event: e.event, date: e.date, quantity: e.quantity, vintage: e.vintage, netted: e.netted, details: e.details })),
      sourceRecords: group.flatMap((e) => [
        ...(e.issuance_id === null ? [] : [{ issuanceId: e.issuance_id }]), ...(e.block_id === null ? [] : [{ blockId: e.block_id }]),
      ]),
    };
  });
}
