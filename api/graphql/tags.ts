import DataLoader from 'dataloader';
import { sql } from 'drizzle-orm';
import { rows } from '../../schema/database.ts';
import { labelOf } from '../../schema/taxonomy/index.ts';
import { visible, type Context } from './context.ts';
import type { BlockRow, IssuanceRow, Loaders, ProjectRow } from './loaders.ts';

// Tags (schema/db/tags.ts) on projects, issuances and blocks, each with its source, through one loader
// per subject kind: one query per level of a request. A project's list holds its own tags and, grouped by
// code and source, those of its issuances and blocks, so a project of ten thousand CORSIA-eligible blocks
// lists one entry that counts them.

type Subject = 'PROJECT' | 'ISSUANCE' | 'BLOCK';
type Parent = 'project_id' | 'issuance_id' | 'block_id';

export type TagRow = {
  parent: number; code: string; subject: Subject; count: number; rawRecordId: number | null; labelId: number | null;
  aefActionId: number | null; aefHoldingId: number | null; owner: number | null; isPrivate: boolean;
  rawRegistry: string | null; rawSource: string | null; projectRegistry: string; registryUrl: string | null;
  label: string | null; labelLink: string | null; party: string | null; actionType: string | null; authorizationId: string | null;
  authorizationDocumentation: string | null;
};

function load(context: Context, parent: Parent) {
  return new DataLoader<number, TagRow[]>(async (ids) => {
    const found = await rows<TagRow>(context.db, sql`select g.parent::float8 as parent, g.code, g.subject, g.count,
        g.raw_record_id::float8 as "rawRecordId", g.label_id::float8 as "labelId", g.aef_action_id::float8 as "aefActionId",
        g.aef_holding_id::float8 as "aefHoldingId", g.owner::float8 as owner, g.is_private as "isPrivate",
        r.registry_id as "rawRegistry", r.source as "rawSource", p.registry_id as "projectRegistry", p.registry_url as "registryUrl",
        l.label, l.label_link as "labelLink", coalesce(a.party, h.party) as party, a.action_type as "actionType",
        coalesce(a.authorization_id, h.authorization_id) as "authorizationId", au.authorization_documentation as "authorizationDocumentation"
      from (
        select t.${sql.raw(parent)} as parent, t.code,
          case when t.block_id is not null then 'BLOCK' when t.issuance_id is not null then 'ISSUANCE' else 'PROJECT' end as subject,
          count(*)::int as count, min(t.raw_record_id) as raw_record_id, t.label_id, t.aef_action_id, t.aef_holding_id,
          t.owner_organization_id as owner, bool_or(t.is_private) as is_private, min(t.project_id) as project_id
        from tags t
        where t.${sql.raw(parent)} = any(string_to_array(${ids.join(',')}, ',')::bigint[]) and ${visible(context, 't')}
        group by 1, 2, 3, t.label_id, t.aef_action_id, t.aef_holding_id, t.owner_organization_id
      ) g
      join projects p on p.id = g.project_id
      left join raw_records r on r.id = g.raw_record_id
      left join labels l on l.id = g.label_id
      left join aef_actions a on a.id = g.aef_action_id
      left join aef_holdings h on h.id = g.aef_holding_id
      left join aef_authorizations au on au.id = coalesce(a.authorization_row_id, h.authorization_row_id)
      order by g.parent, g.code, case g.subject when 'PROJECT' then 0 when 'ISSUANCE' then 1 else 2 end, g.owner nulls first,
        g.raw_record_id, g.label_id, g.aef_action_id, g.aef_holding_id`);
    const byParent = new Map<number, TagRow[]>();
    for (const row of found) {
      const list = byParent.get(row.parent);
      if (list) list.push(row);
      else byParent.set(row.parent, [row]);
    }
    return ids.map((id) => byParent.get(id) ?? []);
  });
}

// The loaders live as long as the request's other loaders.
const perRequest = new WeakMap<Loaders, Record<Parent, DataLoader<number, TagRow[]>>>();
function loaders(context: Context) {
  let found = perRequest.get(context.loaders);
  if (!found) {
    found = { project_id: load(context, 'project_id'), issuance_id: load(context, 'issuance_id'), block_id: load(context, 'block_id') };
    perRequest.set(context.loaders, found);
  }
  return found;
}

const isLink = (value: string | null) => (value && /^https?:\/\//i.test(value) ? value : null);

export const tagResolvers = {
  Project: {
    tags: (p: ProjectRow, _: unknown, c: Context) => loaders(c).project_id.load(p.id),
  },
  Issuance: {
    tags: (i: IssuanceRow, _: unknown, c: Context) => loaders(c).issuance_id.load(i.id),
  },
  UnitBlock: {
    tags: (b: BlockRow, _: unknown, c: Context) => loaders(c).block_id.load(b.id),
  },
  Tag: {
    label: (t: TagRow, _: unknown, c: Context) => labelOf('tag', t.code, c.locale),
    source: (t: TagRow) => t,
  },
  TagSource: {
    kind: (t: TagRow) => (t.labelId !== null ? 'LABEL' : t.aefActionId !== null ? 'AEF_ACTION' : t.aefHoldingId !== null ? 'AEF_HOLDING' : 'RECORD'),
    registry: (t: TagRow) => (t.labelId === null && t.aefActionId === null && t.aefHoldingId === null ? t.rawRegistry ?? t.projectRegistry : t.projectRegistry),
    organization: (t: TagRow, _: unknown, c: Context) => (t.owner === null ? null : c.loaders.organization.load(t.owner)),
    record: (t: TagRow, _: unknown, c: Context) => (t.rawRecordId === null ? null : c.loaders.source.load(t.rawRecordId)),
    text(t: TagRow) {
      if (t.labelId !== null) return t.label;
      if (t.aefActionId !== null || t.aefHoldingId !== null) {
        return [t.party, t.aefActionId !== null ? t.actionType : 'Holding', t.authorizationId].filter(Boolean).join(' · ');
      }
      return null;
    },
    url: (t: TagRow) => (t.labelId !== null ? isLink(t.labelLink)
      : t.aefActionId !== null || t.aefHoldingId !== null ? isLink(t.authorizationDocumentation)
        : isLink(t.rawSource) ?? t.registryUrl),
    private: (t: TagRow) => t.isPrivate,
  },
};
