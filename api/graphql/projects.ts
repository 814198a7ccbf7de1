import { sql, type SQL } from 'drizzle-orm';
import { rows } from '../../schema/database.ts';
import { toCsv } from '../../jobs/csv.ts';
import { refuse, useLocale, visible, type Context } from './context.ts';
import { decodeCursor, encodeCursor, pageSize, projectConditions, type ProjectFilter } from './filters.ts';
import type { BlockRow, EventRow, IssuanceRow, LinkRow, ProjectRow, SourceRow } from './loaders.ts';
import { countryOf, projectTypeTerm, term, terms } from './terms.ts';

// Projects: the filtered, sorted, paged list; one project by key; and everything reachable from a
// project (issuances, blocks, events, labels, links, findings, sources), each through a batch loader.

type Sort = 'KEY' | 'NAME' | 'COUNTRY' | 'REGISTERED_ON' | 'ISSUED' | 'RETIRED';

const EXPORT_LIMIT = 50_000;

function sortExpression(context: Context, sort: Sort): { expr: SQL; cast: SQL } {
  const total = (kind: string) => ({
    expr: sql`coalesce((select sum(e.quantity) from events e where e.project_id = p.id and e.kind = ${kind} and ${visible(context, 'e')}), 0)`,
    cast: sql`numeric`,
  });
  switch (sort) {
    case 'KEY': return { expr: sql`p.key`, cast: sql`text` };
    case 'NAME': return { expr: sql`p.name`, cast: sql`text` };
    case 'COUNTRY': return { expr: sql`coalesce(p.country, '')`, cast: sql`text` };
    case 'REGISTERED_ON': return { expr: sql`coalesce(p.registered_on, date '0001-01-01')`, cast: sql`date` };
    case 'ISSUED': return total('issued');
    case 'RETIRED': return total('retired');
  }
}

async function registryIds(context: Context): Promise<string[]> {
  return (await rows<{ id: string }>(context.db, sql`select id from registries order by id`)).map((r) => r.id);
}

type ProjectsArgs = { filter?: ProjectFilter | null; sort: Sort; descending: boolean; first: number; after?: string | null; locale?: 'EN' | 'JA' | null };

/** A page of projects, plus what the connection's other fields need (count, CSV). */
async function projectsPage(context: Context, args: ProjectsArgs) {
  useLocale(context, args.locale);
  const first = pageSize(args.first);
  const where = projectConditions(context, args.filter, await registryIds(context));
  const { expr, cast } = sortExpression(context, args.sort);
  const direction = args.descending ? sql`desc` : sql`asc`;
  let after = sql`true`;
  if (args.after) {
    const [value, id] = decodeCursor(args.after);
    const numeric = args.sort === 'ISSUED' || args.sort === 'RETIRED';
    if (numeric ? typeof value !== 'number' : typeof value !== 'string' || (args.sort === 'REGISTERED_ON' && !/^\d{4}-\d{2}-\d{2}$/.test(value))) {
      refuse('after: this cursor belongs to another sort order; ask again from the first page', 'BAD_USER_INPUT');
    }
    after = args.descending
      ? sql`(${expr}, p.id) < (${value}::${cast}, ${id})`
      : sql`(${expr}, p.id) > (${value}::${cast}, ${id})`;
  }
  // The sort value goes into the cursor as the caller will send it back: tonnes as a number, text and dates as text.
  const asCursor = args.sort === 'ISSUED' || args.sort === 'RETIRED' ? sql`float8` : sql`text`;
  const found = await rows<{ id: number; sort_value: string | number }>(context.db, sql`select p.id::float8 as id, (${expr})::${asCursor} as sort_value
    from projects p where ${where} and ${after}
    order by ${expr} ${direction}, p.id ${direction} limit ${first + 1}`);
  const page = found.slice(0, first);
  const nodes = (await context.loaders.project.loadMany(page.map((r) => r.id))).filter((p): p is ProjectRow => p !== null && !(p instanceof Error));
  const last = page.at(-1);
  return {
    nodes,
    pageInfo: {
      hasNextPage: found.length > first,
      endCursor: last ? encodeCursor(last.sort_value, last.id) : null,
    },
    where,
  };
}

export const projectResolvers = {
  Query: {
    projects: (_: unknown, args: ProjectsArgs, context: Context) => projectsPage(context, args),
    async project(_: unknown, args: { key: string; organization?: string | null; locale?: 'EN' | 'JA' | null }, context: Context) {
      useLocale(context, args.locale);
      const publisher = args.organization === undefined || args.organization === null ? sql`true`
        : sql`p.owner_organization_id = (select id from organizations where slug = ${args.organization})`;
      // Several sources can report one registry project: the registry's own record answers first, then
      // the caller's organization's upload, then other public uploads.
      const [found] = await rows<{ id: number }>(context.db, sql`select id::float8 as id from projects p
        where p.key = ${args.key} and ${visible(context, 'p')} and ${publisher}
        order by (p.owner_organization_id is null) desc, (p.owner_organization_id is not distinct from ${context.viewer.organizationId}) desc, p.id
        limit 1`);
      return found ? context.loaders.project.load(found.id) : null;
    },
  },

  ProjectConnection: {
    async totalCount(parent: { where: SQL }, _: unknown, context: Context) {
      const [found] = await rows<{ n: number }>(context.db, sql`select count(*)::int as n from projects p where ${parent.where}`);
      return found!.n;
    },
    async csv(parent: { where: SQL }, _: unknown, context: Context) {
      const found = await rows<Record<string, unknown>>(context.db, sql`select p.key, p.registry_id as registry, p.registry_project_id, p.name,
          p.name_ja, p.proponent, p.country, p.category, p.project_type, p.reduction_removal::text as reduction_removal, p.status::text as status,
          array_to_string(p.methodologies, ' ') as methodologies, p.registered_on::text as registered_on,
          p.crediting_period_start::text as crediting_period_start, p.crediting_period_end::text as crediting_period_end, p.registry_url
        from projects p where ${parent.where} order by p.key limit ${EXPORT_LIMIT + 1}`);
      if (found.length > EXPORT_LIMIT) throw new Error(`more than ${EXPORT_LIMIT.toLocaleString('en-US')} projects match: narrow the filter to export them`);
      return toCsv(found);
    },
  },

  Project: {
    key: (p: ProjectRow) => `${p.registryId}:${p.registryProjectId}`,
    alternateIds: (p: ProjectRow) => p.alternateIds ?? [],
    registry: (p: ProjectRow, _: unknown, c: Context) => c.loaders.registry.load(p.registryId),
    country: (p: ProjectRow, _: unknown, c: Context) => countryOf(c.locale, p.country),
    category: (p: ProjectRow, _: unknown, c: Context) => term(c, 'category', p.category),
    projectType: (p: ProjectRow, _: unknown, c: Context) => projectTypeTerm(c.locale, p.projectType),
    reductionRemoval: (p: ProjectRow, _: unknown, c: Context) => term(c, 'reductionRemoval', p.reductionRemoval),
    status: (p: ProjectRow, _: unknown, c: Context) => term(c, 'projectStatus', p.status),
    eligibility: (p: ProjectRow, _: unknown, c: Context) => terms(c, 'eligibility', p.eligibility),
    coBenefits: (p: ProjectRow, _: unknown, c: Context) => terms(c, 'coBenefit', p.coBenefits),
    coveredByNdc: (p: ProjectRow, _: unknown, c: Context) => term(c, 'coveredByNdc', p.coveredByNdc),
    totals: (p: ProjectRow, _: unknown, c: Context) => c.loaders.totals.load(p.id),
    issuances: (p: ProjectRow, _: unknown, c: Context) => c.loaders.issuancesByProject.load(p.id),
    blocks: (p: ProjectRow, args: { first: number }, c: Context) => c.loaders.blocksByProject(pageSize(args.first, 5_000)).load(p.id),
    events: (p: ProjectRow, args: { first: number }, c: Context) => c.loaders.eventsByProject(pageSize(args.first, 10_000)).load(p.id),
    labels: (p: ProjectRow, _: unknown, c: Context) => c.loaders.labelsByProject.load(p.id),
    links: async (p: ProjectRow, _: unknown, c: Context) => {
      const links = await c.loaders.linksByProject.load(p.id);
      const others = await c.loaders.project.loadMany(links.map((l) => l.otherProjectId));
      // A link to a project the caller cannot see is left out: its existence is not theirs to know.
      return links.flatMap((l, i) => (others[i] && !(others[i] instanceof Error) ? [{ ...l, other: others[i] }] : []));
    },
    findings: (p: ProjectRow, _: unknown, c: Context) => c.loaders.findingsByProject.load(p.id),
    sources: (p: ProjectRow, _: unknown, c: Context) => c.loaders.sourcesByProject.load(p.id),
    private: (p: ProjectRow) => p.isPrivate,
    organization: (p: ProjectRow, _: unknown, c: Context) => (p.ownerOrganizationId === null ? null : c.loaders.organization.load(p.ownerOrganizationId)),
  },

  Issuance: {
    creditType: (i: IssuanceRow, _: unknown, c: Context) => term(c, 'creditType', i.creditType),
    serial: (i: IssuanceRow) => i.serialRaw,
    project: (i: IssuanceRow, _: unknown, c: Context) => c.loaders.project.load(i.projectId),
  },

  UnitBlock: {
    registry: (b: BlockRow, _: unknown, c: Context) => c.loaders.registry.load(b.registryId),
    project: (b: BlockRow, _: unknown, c: Context) => c.loaders.project.load(b.projectId),
    issuance: (b: BlockRow, _: unknown, c: Context) => (b.issuanceId ? c.loaders.issuance.load(b.issuanceId) : null),
    serial: (b: BlockRow) => b.serialRaw,
    creditType: (b: BlockRow, _: unknown, c: Context) => term(c, 'creditType', b.creditType),
    unitType: (b: BlockRow, _: unknown, c: Context) => term(c, 'unitType', b.unitType),
    status: (b: BlockRow, _: unknown, c: Context) => term(c, 'unitStatus', b.status),
    retirementPurpose: (b: BlockRow, _: unknown, c: Context) => term(c, 'retirementPurpose', b.retirementPurpose),
    eligibility: (b: BlockRow, _: unknown, c: Context) => terms(c, 'eligibility', b.eligibility),
    caDeclaration: (b: BlockRow, _: unknown, c: Context) => term(c, 'caDeclaration', b.caDeclaration),
    caStatus: (b: BlockRow, _: unknown, c: Context) => term(c, 'caStatus', b.caStatus),
    superseded: (b: BlockRow) => b.supersededInBatchId !== null,
    events: (b: BlockRow, _: unknown, c: Context) => c.loaders.eventsByBlock.load(b.id),
    findings: (b: BlockRow, _: unknown, c: Context) => c.loaders.findingsByBlock.load(b.id),
    sources: (b: BlockRow, _: unknown, c: Context) => c.loaders.sourcesByBlock.load(b.id),
    private: (b: BlockRow) => b.isPrivate,
  },

  Event: {
    kind: (e: EventRow, _: unknown, c: Context) => term(c, 'eventKind', e.kind),
    counterpartyRegistry: (e: EventRow, _: unknown, c: Context) => (e.counterpartyRegistryId ? c.loaders.registry.load(e.counterpartyRegistryId) : null),
    source: (e: EventRow, _: unknown, c: Context) => (e.rawRecordId ? c.loaders.source.load(e.rawRecordId) : null),
  },

  Label: {
    labelType: (l: { labelType: string }, _: unknown, c: Context) => term(c, 'labelType', l.labelType),
  },

  ProjectLink: {
    relation: (l: LinkRow, _: unknown, c: Context) => term(c, 'linkRelation', l.relation),
    source: (l: LinkRow, _: unknown, c: Context) => term(c, 'linkSource', l.source),
    project: (l: LinkRow & { other: ProjectRow }) => l.other,
  },

  SourceRecord: {
    registry: (s: SourceRow) => s.registryId,
  },
};
