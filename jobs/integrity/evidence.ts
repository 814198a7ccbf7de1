import { sql } from 'drizzle-orm';
import { bigintArray, rows, textArray, type Database } from '../../schema/database.ts';
import { countries } from '../../schema/taxonomy/index.ts';
import type { FindingCandidate } from './findings.ts';

// What the rules that compare projects share: the facts of a project a person needs to find it in its
// registry, the periods its issuances cover, and who may see a finding.

/** ISO 3166-1 alpha-2 (how projects name their country) beside alpha-3 (how the AEF names a Party), as a table to join. */
export const PARTY_OF_COUNTRY = sql`(select * from jsonb_to_recordset(${JSON.stringify(countries.map((c) => ({ code: c.code, alpha3: c.alpha3 })))}::jsonb)
  as x(code text, alpha3 text))`;

export type ProjectFacts = {
  id: number; key: string; registry: string; registryProjectId: string; name: string; country: string | null;
  registryUrl: string | null; owner: number | null; isPrivate: boolean;
};

export async function projectFacts(db: Database, ids: Iterable<number>): Promise<Map<number, ProjectFacts>> {
  const list = [...new Set(ids)];
  if (list.length === 0) return new Map();
  const found = await rows<ProjectFacts>(db, sql`select id::float8 as id, key, registry_id as registry, registry_project_id as "registryProjectId",
      name, country, registry_url as "registryUrl", owner_organization_id::float8 as owner, is_private as "isPrivate"
    from projects where id = any(${bigintArray(list)})`);
  return new Map(found.map((p) => [p.id, p]));
}

/** A project as the evidence names it. */
export const projectEvidence = (p: ProjectFacts) => ({
  registry: p.registry, project: p.registryProjectId, name: p.name, country: p.country, registryUrl: p.registryUrl,
});

/** A finding involving a private record is private to that record's owner. */
export function privacyOf(...sides: { owner: number | null; isPrivate: boolean }[]): Pick<FindingCandidate, 'ownerOrganizationId' | 'isPrivate'> {
  const hidden = sides.find((s) => s.isPrivate);
  return hidden ? { ownerOrganizationId: hidden.owner, isPrivate: true } : { ownerOrganizationId: null, isPrivate: false };
}

/**
 * What a project issued and the days those units were generated in: its issuances with their vintage
 * (or monitoring) period, else their vintage year. For a project with no issuance in the ledger (a
 * registry that publishes retirements and cancellations but not issuances), its blocks. Items with
 * neither period nor year are left out of period comparisons.
 */
export type IssuancePeriod = {
  id: number; projectId: number; key: string; quantity: number; start: string; end: string; vintageYear: number | null;
  issuedOn: string | null; creditType: string | null; fromBlock: boolean;
};

export async function issuancePeriods(db: Database, projectIds: Iterable<number>): Promise<Map<number, IssuancePeriod[]>> {
  const list = [...new Set(projectIds)];
  const byProject = new Map<number, IssuancePeriod[]>();
  if (list.length === 0) return byProject;
  const ids = bigintArray(list);
  const found = await rows<IssuancePeriod>(db, sql`select * from (
      select id::float8 as id, project_id::float8 as "projectId", issuance_key as key, quantity::float8 as quantity,
        vintage_year as "vintageYear", issued_on::text as "issuedOn", credit_type as "creditType", false as "fromBlock",
        coalesce(vintage_start, make_date(vintage_year, 1, 1))::text as start, coalesce(vintage_end, make_date(vintage_year, 12, 31))::text as "end"
      from issuances where project_id = any(${ids}) and (vintage_start is not null or vintage_year is not null)
      union all
      select id::float8, project_id::float8, block_key, quantity::float8, vintage_year, null, credit_type, true,
        coalesce(vintage_start, make_date(vintage_year, 1, 1))::text, coalesce(vintage_end, make_date(vintage_year, 12, 31))::text
      from unit_blocks b where project_id = any(${ids}) and issuance_id is null and superseded_in_batch_id is null
        and (vintage_start is not null or vintage_year is not null)
        and not exists (select 1 from issuances i where i.project_id = b.project_id)
    ) x order by "projectId", start, id`);
  for (const i of found) {
    if (!byProject.has(i.projectId)) byProject.set(i.projectId, []);
    byProject.get(i.projectId)!.push(i);
  }
  return byProject;
}

const overlaps = (x: { start: string; end: string }, y: { start: string; end: string }) => x.start <= y.end && y.start <= x.end;

export type PeriodOverlap = { a: IssuancePeriod[]; b: IssuancePeriod[]; from: string; to: string; aTonnes: number; bTonnes: number };

/**
 * The issuances of two projects whose periods overlap, and the span they share. Periods that only
 * follow one another (one ends on the 31st, the next starts on the 1st) do not overlap.
 */
export function overlappingIssuances(a: IssuancePeriod[], b: IssuancePeriod[]): PeriodOverlap | undefined {
  const inA = a.filter((x) => b.some((y) => overlaps(x, y)));
  if (inA.length === 0) return undefined;
  const inB = b.filter((y) => a.some((x) => overlaps(x, y)));
  const spans = inA.flatMap((x) => inB.filter((y) => overlaps(x, y)).map((y) => ({ start: x.start > y.start ? x.start : y.start, end: x.end < y.end ? x.end : y.end })));
  const sum = (list: IssuancePeriod[]) => list.reduce((s, i) => s + i.quantity, 0);
  return {
    a: inA, b: inB,
    from: spans.reduce((m, s) => (s.start < m ? s.start : m), spans[0]!.start),
    to: spans.reduce((m, s) => (s.end > m ? s.end : m), spans[0]!.end),
    aTonnes: sum(inA), bTonnes: sum(inB),
  };
}

/** An issuance as the evidence names it. */
export const issuanceEvidence = (i: IssuancePeriod) => ({
  [i.fromBlock ? 'block' : 'issuance']: i.key, period: `${i.start}/${i.end}`, vintage: i.vintageYear, quantity: i.quantity, issuedOn: i.issuedOn, creditType: i.creditType,
});

/** The links of a scope's projects (all links in a full run), with the registries of both ends. */
export type LinkRow = {
  id: number; from_id: number; to_id: number; from_registry: string; to_registry: string;
  relation: string; source: 'declared' | 'inferred'; score: number | null; evidence: Record<string, unknown>;
};

export async function linksOf(db: Database, projectIds: number[] | undefined, relations: readonly string[]): Promise<LinkRow[]> {
  const scoped = projectIds ? sql`and (l.from_project_id = any(${bigintArray(projectIds)}) or l.to_project_id = any(${bigintArray(projectIds)}))` : sql``;
  return rows<LinkRow>(db, sql`select l.id::float8 as id, l.from_project_id::float8 as from_id, l.to_project_id::float8 as to_id,
      a.registry_id as from_registry, b.registry_id as to_registry, l.relation::text as relation, l.source::text as source,
      l.score::float8 as score, l.evidence
    from project_links l join projects a on a.id = l.from_project_id join projects b on b.id = l.to_project_id
    where l.relation::text = any(${textArray(relations)}) ${scoped}
    order by l.id`);
}

/** How a link is described in evidence: who declared it, or Tally's score and its parts. */
export const linkEvidence = (l: LinkRow) => ({ relation: l.relation, source: l.source, score: l.score, ...l.evidence });

/** Source records named in a finding's evidence, newest first, at most this many. */
const SOURCES_PER_FINDING = 10;

type SourceRow = { block_id: number | null; issuance_id: number | null; id: number; source: string; locator: string | null; sha256: string; batch: number; fetched: string };

/**
 * Names in each finding the raw records its blocks and issuances came from (record_lineage): the file
 * or API and where inside it, the record's SHA-256 and its batch, so a person can find the very row.
 */
export async function attachSources(db: Database, candidates: FindingCandidate[]): Promise<void> {
  const blockIds = candidates.flatMap((c) => c.subjects.flatMap((s) => (s.blockId === undefined ? [] : [s.blockId])));
  const issuanceIds = candidates.flatMap((c) => c.subjects.flatMap((s) => (s.issuanceId === undefined ? [] : [s.issuanceId])));
  if (blockIds.length === 0 && issuanceIds.length === 0) return;
  const found = await rows<SourceRow>(db, sql`select l.block_id::float8 as block_id, l.issuance_id::float8 as issuance_id, r.id::float8 as id,
      r.source, r.locator, r.content_hash as sha256, r.batch_id::float8 as batch, r.fetched_at::text as fetched
    from record_lineage l join raw_records r on r.id = l.raw_record_id
    where l.block_id = any(${bigintArray(blockIds)}) or l.issuance_id = any(${bigintArray(issuanceIds)})
    order by r.id desc`);
  for (const candidate of candidates) {
    const blocks = new Set(candidate.subjects.map((s) => s.blockId).filter((id) => id !== undefined));
    const issued = new Set(candidate.subjects.map((s) => s.issuanceId).filter((id) => id !== undefined));
    const mine = found.filter((r) => (r.block_id !== null && blocks.has(r.block_id)) || (r.issuance_id !== null && issued.has(r.issuance_id)));
    const unique = [...new Map(mine.map((r) => [r.id, r])).values()].slice(0, SOURCES_PER_FINDING);
    if (unique.length === 0) continue;
    candidate.evidence.sources = unique.map((r) => ({ source: r.source, locator: r.locator, sha256: r.sha256, batch: r.batch, fetchedAt: r.fetched }));
    candidate.subjects.push(...unique.map((r) => ({ rawRecordId: r.id })));
  }
}
