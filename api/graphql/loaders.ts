import DataLoader from 'dataloader';
import { and, asc, desc, eq, inArray, isNull, or, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import {
  batches, events, findingStatusChanges, findings, findingSubjects, issuances, labels, organizations, projectLinks, projects, rawRecords,
  recordLineage, registries, unitBlocks,
} from '../../schema/db/index.ts';
import { visibleTo, type Database } from '../../schema/database.ts';
import type { Viewer } from '../auth.ts';

// One loader per kind of record a resolver reaches from a parent. Each collects the ids asked for while
// a level of the query resolves and fetches them in one query, filtered by the viewer's privacy: a
// record another organization keeps private is never loaded, whichever path reaches it.

export type ProjectRow = typeof projects.$inferSelect;
export type IssuanceRow = typeof issuances.$inferSelect;
export type BlockRow = typeof unitBlocks.$inferSelect;
export type EventRow = typeof events.$inferSelect;
export type FindingRow = typeof findings.$inferSelect;
export type BatchRow = typeof batches.$inferSelect;
export type RegistryRow = typeof registries.$inferSelect;
export type SourceRow = typeof rawRecords.$inferSelect & { batchDigest: string | null };
export type LinkRow = typeof projectLinks.$inferSelect & { otherProjectId: number; outgoing: boolean };
export type Totals = { issued: number; retired: number; cancelled: number; convertedOut: number };

/** Rows with keys `ids` found by `load`, in the order DataLoader expects (null where not visible). */
function byId<T extends { id: number }>(load: (ids: number[]) => Promise<T[]>) {
  return new DataLoader<number, T | null>(async (ids) => {
    const found = new Map((await load([...ids])).map((r) => [r.id, r]));
    return ids.map((id) => found.get(id) ?? null);
  });
}

/** Lists of rows a query returns beside their parent id (a join that reaches the row through another table). */
function throughParent<T>(load: (ids: number[]) => Promise<{ parent: number; row: T }[]>) {
  return new DataLoader<number, T[]>(async (ids) => {
    const groups = new Map<number, T[]>();
    for (const { parent, row } of await load([...ids])) {
      const list = groups.get(parent);
      if (list) list.push(row);
      else groups.set(parent, [row]);
    }
    return ids.map((id) => groups.get(id) ?? []);
  });
}

/** Lists of rows grouped by a parent id the row itself holds. */
const byParent = <T>(load: (ids: number[]) => Promise<T[]>, parentOf: (row: T) => number) =>
  throughParent<T>(async (ids) => (await load(ids)).map((row) => ({ parent: parentOf(row), row })));

// The loaders every request uses most (a lookup, a page of projects) run as prepared statements:
// built once per database, not once per request, since building a query costs more than the
// index probe it runs.
const visibleToViewer = (table: { isPrivate: unknown; ownerOrganizationId: unknown }) =>
  sql`(not ${table.isPrivate} or ${table.ownerOrganizationId} is not distinct from ${sql.placeholder('viewer')}::bigint)`;
const idsIn = (column: unknown) => sql`${column} = any(string_to_array(${sql.placeholder('ids')}, ',')::bigint[])`;

function prepareById(db: Database) {
  return {
    project: db.select().from(projects).where(and(idsIn(projects.id), visibleToViewer(projects))).prepare('tally_projects_by_id'),
    issuance: db.select().from(issuances).where(and(idsIn(issuances.id), visibleToViewer(issuances))).prepare('tally_issuances_by_id'),
    block: db.select().from(unitBlocks).where(and(idsIn(unitBlocks.id), visibleToViewer(unitBlocks))).prepare('tally_blocks_by_id'),
  };
}
const prepared = new WeakMap<Database, ReturnType<typeof prepareById>>();

// Registries change only when a new one is seeded or an upload names a national registry: the list is
// kept for a minute, and read again at once when asked for one it does not have.
const REGISTRY_CACHE_MS = 60_000;
const registryCache = new WeakMap<Database, { until: number; rows: Promise<Map<string, RegistryRow>> }>();
function registryRows(db: Database, refresh = false): Promise<Map<string, RegistryRow>> {
  const cached = registryCache.get(db);
  if (cached && !refresh && cached.until > Date.now()) return cached.rows;
  const loading = db.select().from(registries).then((list) => new Map(list.map((r) => [r.id, r])));
  registryCache.set(db, { until: Date.now() + REGISTRY_CACHE_MS, rows: loading });
  loading.catch(() => registryCache.delete(db));
  return loading;
}

export function createLoaders(db: Database, viewer: Viewer) {
  const v = {
    issuances: visibleTo('issuances', viewer.organizationId),
    blocks: visibleTo('unit_blocks', viewer.organizationId),
    events: visibleTo('events', viewer.organizationId),
    findings: visibleTo('findings', viewer.organizationId),
    batches: visibleTo('batches', viewer.organizationId),
    raw: visibleTo('raw_records', viewer.organizationId),
    labels: visibleTo('labels', viewer.organizationId),
  };

  // Sources of ledger rows: the raw records their lineage names, with the digest of the batch that
  // first received each.
  const sourcesBy = (column: 'projectId' | 'blockId' | 'issuanceId') => throughParent<SourceRow>(async (ids) => {
    const found = await db.select({ parent: recordLineage[column], record: rawRecords, batchDigest: batches.digest })
      .from(recordLineage)
      .innerJoin(rawRecords, eq(rawRecords.id, recordLineage.rawRecordId))
      .leftJoin(batches, eq(batches.id, rawRecords.batchId))
      .where(and(inArray(recordLineage[column], ids), v.raw))
      .orderBy(asc(rawRecords.id));
    return found.map((r) => ({ parent: r.parent!, row: { ...r.record, batchDigest: r.batchDigest } }));
  });

  const findingsBySubject = (column: 'projectId' | 'blockId') => throughParent<FindingRow>(async (ids) => {
    const found = await db.selectDistinct({ parent: findingSubjects[column], finding: findings })
      .from(findingSubjects)
      .innerJoin(findings, eq(findings.id, findingSubjects.findingId))
      .where(and(inArray(findingSubjects[column], ids), v.findings));
    return found.map((r) => ({ parent: r.parent!, row: r.finding }))
      .sort((a, b) => b.row.tonnesAtRisk - a.row.tonnesAtRisk || a.row.id - b.row.id);
  });

  const registryList = new DataLoader<string, RegistryRow | null>(async (ids) => {
    let found = await registryRows(db);
    if (ids.some((id) => !found.has(id))) found = await registryRows(db, true);
    return ids.map((id) => found.get(id) ?? null);
  });
  let statements = prepared.get(db);
  if (!statements) prepared.set(db, (statements = prepareById(db)));
  const byIds = <T extends { id: number }>(statement: { execute(values: Record<string, unknown>): Promise<T[]> }) =>
    byId((ids) => statement.execute({ ids: ids.join(','), viewer: viewer.organizationId }));

  // A project's current blocks (by serial) and its events (oldest first), at most `limit` of each
  // project: a project with a hundred thousand retirements is not read whole to show the first page.
  const blocksByProject = new Map<number, DataLoader<number, BlockRow[]>>();
  const eventsByProject = new Map<number, DataLoader<number, EventRow[]>>();
  function firstOfProject<T extends { projectId: number }>(cache: Map<number, DataLoader<number, T[]>>, limit: number,
    table: typeof unitBlocks | typeof events, order: PgColumn[], visibleRows: SQL): DataLoader<number, T[]> {
    let loader = cache.get(limit);
    if (!loader) {
      loader = byParent(async (ids) => {
        const ranked = db.select({ id: table.id, n: sql<number>`row_number() over (partition by ${table.projectId} order by ${sql.join(order, sql`, `)})`.as('n') })
          .from(table).where(and(inArray(table.projectId, ids), visibleRows)).as('ranked');
        const found = await db.select({ row: table }).from(ranked).innerJoin(table, eq(table.id, ranked.id))
          .where(sql`${ranked.n} <= ${limit}`).orderBy(table.projectId, ...order);
        return found.map((r) => r.row as unknown as T);
      }, (r) => r.projectId);
      cache.set(limit, loader);
    }
    return loader;
  }

  return {
    registry: registryList,
    project: byIds<ProjectRow>(statements.project),
    issuance: byIds<IssuanceRow>(statements.issuance),
    block: byIds<BlockRow>(statements.block),
    batch: byId((ids) => db.select().from(batches).where(and(inArray(batches.id, ids), v.batches))),
    // The publisher of a record the caller can see: it published under that name.
    organization: byId((ids) => db.select().from(organizations).where(inArray(organizations.id, ids))),
    source: byId(async (ids) => (await db.select({ record: rawRecords, batchDigest: batches.digest }).from(rawRecords)
      .leftJoin(batches, eq(batches.id, rawRecords.batchId)).where(and(inArray(rawRecords.id, ids), v.raw)))
      .map((r) => ({ ...r.record, batchDigest: r.batchDigest }))),

    issuancesByProject: byParent((ids) => db.select().from(issuances).where(and(inArray(issuances.projectId, ids), v.issuances))
      .orderBy(asc(issuances.vintageYear), asc(issuances.issuedOn), asc(issuances.id)), (r) => r.projectId),
    blocksByProject: (limit: number) => firstOfProject(blocksByProject, limit, unitBlocks,
      [unitBlocks.numberSpace, unitBlocks.serialStart, unitBlocks.blockKey], and(isNull(unitBlocks.supersededInBatchId), v.blocks)!),
    eventsByProject: (limit: number) => firstOfProject(eventsByProject, limit, events, [events.occurredOn, events.id], v.events),
    eventsByBlock: byParent((ids) => db.select().from(events).where(and(inArray(events.blockId, ids), v.events))
      .orderBy(asc(events.occurredOn), asc(events.id)), (r) => r.blockId!),
    labelsByProject: byParent((ids) => db.select().from(labels).where(and(inArray(labels.projectId, ids), v.labels))
      .orderBy(asc(labels.labelType), asc(labels.label)), (r) => r.projectId),
    // Links in both directions; the other project must be visible too (checked by the project loader).
    linksByProject: throughParent<LinkRow>(async (ids) => {
      const found = await db.select().from(projectLinks)
        .where(or(inArray(projectLinks.fromProjectId, ids), inArray(projectLinks.toProjectId, ids)))
        .orderBy(desc(projectLinks.source), asc(projectLinks.id));
      const set = new Set(ids);
      return found.flatMap((l) => [
        ...(set.has(l.fromProjectId) ? [{ parent: l.fromProjectId, row: { ...l, otherProjectId: l.toProjectId, outgoing: true } }] : []),
        ...(set.has(l.toProjectId) ? [{ parent: l.toProjectId, row: { ...l, otherProjectId: l.fromProjectId, outgoing: false } }] : []),
      ]);
    }),
    findingsByProject: findingsBySubject('projectId'),
    findingsByBlock: findingsBySubject('blockId'),
    sourcesByProject: sourcesBy('projectId'),
    sourcesByBlock: sourcesBy('blockId'),
    sourcesByIssuance: sourcesBy('issuanceId'),
    // Totals from the events the viewer can see.
    totals: new DataLoader<number, Totals>(async (ids) => {
      const found = await db.select({
        projectId: events.projectId,
        issued: sql<number>`coalesce(sum(${events.quantity}) filter (where ${events.kind} = 'issued'), 0)::float8`,
        retired: sql<number>`coalesce(sum(${events.quantity}) filter (where ${events.kind} = 'retired'), 0)::float8`,
        cancelled: sql<number>`coalesce(sum(${events.quantity}) filter (where ${events.kind} = 'cancelled'), 0)::float8`,
        convertedOut: sql<number>`coalesce(sum(${events.quantity}) filter (where ${events.kind} = 'converted-out'), 0)::float8`,
      }).from(events).where(and(inArray(events.projectId, [...ids]), v.events)).groupBy(events.projectId);
      const map = new Map(found.map((r) => [r.projectId, r]));
      return ids.map((id) => map.get(id) ?? { issued: 0, retired: 0, cancelled: 0, convertedOut: 0 });
    }),
    // The projects and blocks a finding involves (directly, or through its blocks and issuances).
    findingProjects: throughParent<number>(async (ids) => {
      const found = await db.selectDistinct({ parent: findingSubjects.findingId, projectId: sql<number>`coalesce(${findingSubjects.projectId}, ${unitBlocks.projectId}, ${issuances.projectId})`.mapWith(Number) })
        .from(findingSubjects)
        .leftJoin(unitBlocks, eq(unitBlocks.id, findingSubjects.blockId))
        .leftJoin(issuances, eq(issuances.id, findingSubjects.issuanceId))
        .where(inArray(findingSubjects.findingId, ids));
      return found.filter((r) => r.projectId !== null).map((r) => ({ parent: r.parent, row: r.projectId }));
    }),
    findingBlocks: throughParent<number>(async (ids) => (await db.select({ parent: findingSubjects.findingId, blockId: findingSubjects.blockId })
      .from(findingSubjects).where(and(inArray(findingSubjects.findingId, ids), sql`${findingSubjects.blockId} is not null`))
      .orderBy(asc(findingSubjects.blockId))).map((r) => ({ parent: r.parent, row: r.blockId! }))),
    findingHistory: byParent((ids) => db.select().from(findingStatusChanges).where(inArray(findingStatusChanges.findingId, ids))
      .orderBy(asc(findingStatusChanges.changedAt), asc(findingStatusChanges.id)), (r) => r.findingId),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
