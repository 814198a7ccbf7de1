import { sql, type SQL } from 'drizzle-orm';
import { bigintArray, rows, visibleTo, type Database } from '../schema/database.ts';
import { msg, render, type Message } from '../schema/messages/index.ts';

// Sources of record and mirrors (DESIGN §3). A unit has one source of record: the registry that issued
// it, through its own files or API. Another source that reports the same units (CAD Trust's data
// layer, Gold Standard's listing of CDM CERs) is a mirror: its records (mirror_records) attach to the
// units of record as evidence and never add tonnes. Which units of record a mirror record reports is
// worked out here, when asked, so the order in which the sources arrived does not matter.
//
// - By serial range, inside one number space, where both have serials: the registry's issuances whose
//   ranges overlap (the units exist) and its current blocks that overlap (their state).
// - Otherwise by project, vintage, quantity and date, within MATCH_TOLERANCES: a mirror record that
//   names the registry's project (its id for it, or the source's reference where that is the registry's
//   id, as CAD Trust's `projectId` is for most registries) is matched to one of that project's current
//   blocks, one in the state it reports first.
// Units of record are the registry's own public data (no owner). A mirror record no unit of record
// matches is "reported only by" its source: kept and counted apart, never added to the registry's totals.

/** How far a mirror record without serials may differ from the block of record it is matched to. */
export const MATCH_TOLERANCES = {
  /** Tonnes: registries report whole units; a mirror that rounds differently is a different block. */
  quantity: 0,
  /** Days between the mirror's status date and the block's (time zones, a day's processing). */
  statusDays: 3,
} as const;

/** One mirror record of units and what the units of record say of the same units. */
export type MirrorMatch = {
  id: number;
  registry: string;
  reportedBy: string;
  mirrorKey: string;
  projectRef: string | null;
  registryProjectId: string | null;
  numberSpace: string | null;
  serialStart: number | null;
  serialEnd: number | null;
  quantity: number;
  status: string;
  statusDate: string | null;
  vintageYear: number | null;
  ownerOrganizationId: number | null;
  isPrivate: boolean;
  rawRecordId: number | null;
  /** `serial` or `project` where units of record were found, else null (reported only by the mirror). */
  matchedBy: 'serial' | 'project' | null;
  /** Units of the record the mirror's units lie in: issued ranges, or blocks where the registry states no issuance range. */
  covered: number;
  /** Units of record in the state the mirror reports (read in the registry's own terms). */
  sameStatus: number;
  /** Units of record in another state than the mirror reports, and those states. */
  otherStatus: number;
  otherStatuses: string[];
  /** The projects of record the matched units belong to (ids, and the registry's ids for them). */
  projectIds: number[];
  projectKeys: string[];
  vintages: number[];
  blockIds: number[];
};

/** Which mirror records to match: all, by id, those a batch wrote, by the range they report, or by the projects they report. */
export type MirrorScope =
  | { all: true }
  | { ids: readonly number[] }
  | { batchId: number }
  | { numberSpace: string; start: number; end: number }
  | { projectIds: readonly number[] };

const scopeFilter = (scope: MirrorScope): SQL => {
  if ('all' in scope) return sql`true`;
  if ('ids' in scope) return sql`m.id = any(${bigintArray(scope.ids)})`;
  if ('batchId' in scope) return sql`m.last_batch_id = ${scope.batchId}`;
  if ('numberSpace' in scope) return sql`m.number_space = ${scope.numberSpace} and m.serial_range && int8range(${scope.start}, ${scope.end}, '[]')`;
  const projects = bigintArray(scope.projectIds);
  // A project's mirror records: those that name it, those its CAD Trust or other id refers to, those whose
  // units lie in its issuances or blocks, and another registry's units the project's own registry lists under it.
  return sql`(m.id in (
      select m2.id from mirror_records m2 join projects p on p.id = any(${projects})
      where (m2.registry_id = p.registry_id and (m2.registry_project_id = p.registry_project_id or m2.project_ref = p.registry_project_id
        or m2.project_ref = any(coalesce(p.alternate_ids, '{}')) or (p.registry_url is not null and position(m2.project_ref in p.registry_url) > 0)))
        or (m2.reported_by = p.registry_id and m2.project_ref = p.registry_project_id))
    or m.id in (
      select m2.id from mirror_records m2 join issuances i on i.project_id = any(${projects}) and i.number_space = m2.number_space
        and int8range(i.serial_start, i.serial_end, '[]') && m2.serial_range
      union select m2.id from mirror_records m2 join unit_blocks b on b.project_id = any(${projects}) and b.number_space = m2.number_space
        and b.serial_range && m2.serial_range))`;
};

const overlap = (a: string, b: string) => sql.raw(`(upper(${a} * ${b}) - lower(${a} * ${b}))`);

/**
 * Mirror records of units that `viewer` may see (`everyone`: all of them, for the integrity rule, whose
 * findings keep each record's privacy), with what the units of record say of the same units.
 */
export async function matchMirrors(db: Database, scope: MirrorScope, viewer: number | null | 'everyone'): Promise<MirrorMatch[]> {
  const issued = overlap('m.serial_range', "int8range(i.serial_start, i.serial_end, '[]')");
  const listed = overlap('m.serial_range', 'b.serial_range');
  const found = await rows<Record<string, unknown>>(db, sql`
    with m as (
      select m.* from mirror_records m where m.kind = 'units' and ${viewer === 'everyone' ? sql`true` : visibleTo('m', viewer)} and ${scopeFilter(scope)}
    ),
    by_issuance as (
      select m.id, sum(${issued})::float8 as covered, array_agg(distinct i.project_id) as projects,
        array_agg(distinct i.vintage_year) filter (where i.vintage_year is not null) as vintages
      from m join issuances i on i.registry_id = m.registry_id and i.number_space = m.number_space
        and int8range(i.serial_start, i.serial_end, '[]') && m.serial_range and i.owner_organization_id is null
      group by m.id
    ),
    by_block as (
      select m.id, sum(${listed})::float8 as covered,
        coalesce(sum(${listed}) filter (where b.status = m.status), 0)::float8 as same_status,
        coalesce(sum(${listed}) filter (where b.status <> m.status and not (m.status = 'held' and b.status = 'buffer')), 0)::float8 as other_status,
        coalesce(array_agg(distinct b.status::text) filter (where b.status <> m.status), '{}') as other_statuses,
        array_agg(distinct b.project_id) as projects, array_agg(distinct b.vintage_year) filter (where b.vintage_year is not null) as vintages,
        array_agg(b.id order by b.serial_start) as blocks
      from m join unit_blocks b on b.registry_id = m.registry_id and b.number_space = m.number_space and b.serial_range && m.serial_range
        and b.superseded_in_batch_id is null and b.owner_organization_id is null
      group by m.id
    ),
    by_project as (
      select distinct on (m.id) m.id, b.id as block, b.project_id, b.vintage_year, b.status::text as status
      from m join projects p on p.registry_id = m.registry_id and p.registry_project_id = coalesce(m.registry_project_id, m.project_ref) and p.owner_organization_id is null
        join unit_blocks b on b.project_id = p.id and b.superseded_in_batch_id is null and b.owner_organization_id is null
      where m.serial_range is null
        and b.vintage_year is not distinct from m.vintage_year
        and abs(b.quantity - m.quantity) <= ${MATCH_TOLERANCES.quantity}
        and (m.status_date is null or b.status_date is null or abs(b.status_date - m.status_date) <= ${MATCH_TOLERANCES.statusDays})
      order by m.id, (b.status = m.status) desc, abs(coalesce(b.status_date - m.status_date, 0)), b.id
    )
    select m.id::float8 as id, m.registry_id as registry, m.reported_by as "reportedBy", m.mirror_key as "mirrorKey", m.project_ref as "projectRef",
      m.registry_project_id as "registryProjectId", m.number_space as "numberSpace", m.serial_start::float8 as "serialStart", m.serial_end::float8 as "serialEnd",
      m.quantity::float8 as quantity, m.status::text as status, m.status_date::text as "statusDate", m.vintage_year as "vintageYear",
      m.owner_organization_id::float8 as "ownerOrganizationId", m.is_private as "isPrivate", m.raw_record_id::float8 as "rawRecordId",
      case when greatest(coalesce(bi.covered, 0), coalesce(bb.covered, 0)) > 0 then 'serial' when bp.id is not null then 'project' end as "matchedBy",
      case when bp.id is not null then m.quantity::float8 else greatest(coalesce(bi.covered, 0), coalesce(bb.covered, 0)) end as covered,
      case when bp.id is not null then (case when bp.status = m.status::text then m.quantity::float8 else 0 end) else coalesce(bb.same_status, 0) end as "sameStatus",
      case when bp.id is not null then (case when bp.status = m.status::text then 0 else m.quantity::float8 end) else coalesce(bb.other_status, 0) end as "otherStatus",
      case when bp.id is not null then (case when bp.status = m.status::text then '{}'::text[] else array[bp.status] end) else coalesce(bb.other_statuses, '{}') end as "otherStatuses",
      array(select distinct x::float8 from unnest(coalesce(bi.projects, '{}') || coalesce(bb.projects, '{}') || case when bp.id is null then '{}'::bigint[] else array[bp.project_id] end) x) as "projectIds",
      array(select distinct x from unnest(coalesce(bi.vintages, '{}') || coalesce(bb.vintages, '{}') || case when bp.vintage_year is null then '{}'::int[] else array[bp.vintage_year] end) x) as vintages,
      array(select x::float8 from unnest(coalesce(bb.blocks, case when bp.id is null then '{}'::bigint[] else array[bp.block] end)) x) as "blockIds"
    from m left join by_issuance bi on bi.id = m.id left join by_block bb on bb.id = m.id left join by_project bp on bp.id = m.id
    order by m.id`);
  const projectIds = [...new Set(found.flatMap((f) => f.projectIds as number[]))];
  const keys = projectIds.length === 0 ? new Map<number, string>() : new Map((await rows<{ id: number; key: string }>(db, sql`select id::float8 as id, registry_project_id as key
    from projects where id = any(${bigintArray(projectIds)})`)).map((p) => [p.id, p.key]));
  return found.map((f) => ({ ...f, projectKeys: (f.projectIds as number[]).map((id) => keys.get(id)!).sort() }) as MirrorMatch);
}

/** What a mirror record says that the units of record contradict: quantity or serials, status, project, vintage. */
export function disagreements(m: MirrorMatch): string[] {
  return disagreementMessages(m).map((d) => render('en', d));
}

/** What a matched mirror says otherwise than the record, as messages of the catalogues (schema/messages). */
export function disagreementMessages(m: MirrorMatch): Message[] {
  if (!m.matchedBy) return [];
  const said: Message[] = [];
  const states = (codes: string[]) => ({ list: codes.map((code) => ({ term: 'unitStatus' as const, code, inSentence: true })), join: 'slash' as const });
  const status = { term: 'unitStatus' as const, code: m.status, inSentence: true };
  if (m.covered < m.quantity) {
    said.push(msg('mirror.outside', { outside: m.quantity - m.covered, quantity: m.quantity }));
  }
  if (m.status !== 'held' && m.sameStatus < m.covered) {
    const elsewhere = m.otherStatuses.length > 0 ? msg('mirror.notInState.elsewhere', { units: m.otherStatus, states: states(m.otherStatuses) }) : null;
    said.push(msg('mirror.notInState', { units: m.covered - m.sameStatus, status, elsewhere }));
  } else if (m.status === 'held' && m.otherStatus > 0) {
    said.push(msg('mirror.heldElsewhere', { units: m.otherStatus, states: states(m.otherStatuses) }));
  }
  if (m.registryProjectId && m.projectKeys.length > 0 && m.projectKeys.some((k) => k !== m.registryProjectId)) {
    said.push(msg('mirror.otherProject', { project: m.registryProjectId, projects: { list: m.projectKeys } }));
  }
  if (m.vintageYear !== null && m.vintages.length > 0 && !m.vintages.includes(m.vintageYear)) {
    said.push(msg('mirror.otherVintage', { vintage: String(m.vintageYear), vintages: { list: [...m.vintages].sort().map(String) } }));
  }
  return said;
}
