import { sql, type SQL } from 'drizzle-orm';
import { readUnitRange } from '../connectors/serials.ts';
import { ownedBy, rows, type Database } from '../schema/database.ts';
import { vocabularies } from '../schema/taxonomy/index.ts';

// Tags (schema/db/tags.ts): each eligibility, label and Article 6 fact the ledger holds becomes one code
// of the vocabulary `tag` on its subject, with the record that says so. They are derived set-based from
// what a batch wrote, once it is all in: a block's, issuance's or project's own fields (eligibility codes,
// Article 6 authorization, corresponding-adjustment declaration and status) with the latest raw record of the
// subject; CAD Trust labels on their project and the blocks they cover; and AEF actions and holdings on
// the blocks and issuances their unit ranges reach. Whichever arrives first, the registry's blocks or the
// Party's AEF, the second finds the first. Deriving again adds nothing (the tags' identity is unique).

/** The fields of other vocabularies a tag is read from (`eligibility`, `caDeclaration`, `caStatus`, `labelType`). */
const READ_FROM = ['eligibility', 'caDeclaration', 'caStatus', 'labelType'] as const;

/** Field, value → tag code, from the vocabulary's data: one parameter for every statement. */
const TAG_MAP = JSON.stringify(vocabularies.tag!.terms.flatMap((t) => READ_FROM.flatMap((field) =>
  (typeof t[field] === 'string' ? [{ field, value: t[field], code: t.code }] : []))));
const mapping = () => sql`select * from jsonb_to_recordset(${TAG_MAP}::jsonb) as m(field text, value text, code text)`;

/**
 * What to derive: what one batch wrote (its blocks, projects and issuances by `last_batch_id`; the
 * labels of its owner when it wrote any), or the whole ledger (a ledger that predates tags).
 */
export type TagScope = { batchId: number; owner: number | null; labels: boolean } | { all: true };

type Derived = { tags: number };

const scoped = (scope: TagScope, alias: string): SQL => ('all' in scope ? sql`true` : sql`${sql.raw(alias)}.last_batch_id = ${scope.batchId}`);
const batchOf = (scope: TagScope, alias: string): SQL => ('all' in scope ? sql`coalesce(${sql.raw(alias)}.last_batch_id, ${sql.raw(alias)}.first_batch_id)` : sql`${scope.batchId}::bigint`);

async function inserted(db: Database, statement: SQL): Promise<number> {
  const [result] = await rows<{ n: number }>(db, sql`with added as (${statement} on conflict do nothing returning 1) select count(*)::int as n from added`);
  return result?.n ?? 0;
}

/** Tags read from blocks', issuances' and projects' own fields, each with the latest raw record of its subject. */
async function recordTags(db: Database, scope: TagScope): Promise<number> {
  if (!('all' in scope)) {
    // A block a registry moved to another project takes its tags along.
    await db.execute(sql`update tags t set project_id = b.project_id from unit_blocks b
      where t.block_id = b.id and b.last_batch_id = ${scope.batchId} and t.project_id <> b.project_id`);
  }
  const blocks = await inserted(db, sql`insert into tags (code, project_id, block_id, raw_record_id, owner_organization_id, is_private, batch_id)
    select c.code, b.project_id, b.id, r.raw_record_id, b.owner_organization_id, b.is_private, ${batchOf(scope, 'b')}
    from unit_blocks b
    cross join lateral (
      select m.code from (${mapping()}) m
      where (m.field = 'eligibility' and m.value = any(b.eligibility)) or (m.field = 'caDeclaration' and m.value = b.ca_declaration::text)
        or (m.field = 'caStatus' and m.value = b.ca_status::text)
      union all select 'article6:authorized' where b.article6_authorization is not null) c
    cross join lateral (select max(l.raw_record_id) as raw_record_id from record_lineage l where l.block_id = b.id) r
    where ${scoped(scope, 'b')} and r.raw_record_id is not null and ${batchOf(scope, 'b')} is not null
      and (cardinality(b.eligibility) > 0 or b.article6_authorization is not null or b.ca_declaration is not null or b.ca_status is not null)`);
  const issued = await inserted(db, sql`insert into tags (code, project_id, issuance_id, raw_record_id, owner_organization_id, is_private, batch_id)
    select m.code, i.project_id, i.id, r.raw_record_id, i.owner_organization_id, i.is_private, ${batchOf(scope, 'i')}
    from issuances i
    join (${mapping()}) m on m.field = 'eligibility' and m.value = any(i.eligibility)
    cross join lateral (select max(l.raw_record_id) as raw_record_id from record_lineage l where l.issuance_id = i.id) r
    where ${scoped(scope, 'i')} and cardinality(i.eligibility) > 0 and r.raw_record_id is not null and ${batchOf(scope, 'i')} is not null`);
  // A project's own record where it has one, else the records of its issuances or blocks (a CAR
  // issuance report states the project's eligibility on its issuance rows).
  const projects = await inserted(db, sql`insert into tags (code, project_id, raw_record_id, owner_organization_id, is_private, batch_id)
    select m.code, p.id, r.raw_record_id, p.owner_organization_id, p.is_private, ${batchOf(scope, 'p')}
    from projects p
    join (${mapping()}) m on m.field = 'eligibility' and m.value = any(p.eligibility)
    cross join lateral (select coalesce(
      (select max(l.raw_record_id) from record_lineage l where l.project_id = p.id),
      (select max(l.raw_record_id) from issuances i join record_lineage l on l.issuance_id = i.id where i.project_id = p.id),
      (select max(l.raw_record_id) from unit_blocks ub join record_lineage l on l.block_id = ub.id where ub.project_id = p.id)) as raw_record_id) r
    where ${scoped(scope, 'p')} and cardinality(p.eligibility) > 0 and r.raw_record_id is not null and ${batchOf(scope, 'p')} is not null`);
  return blocks + issued + projects;
}

/** CAD Trust labels: `cadt-label:<label type>` on the label's project and on every block it covers. */
async function labelTags(db: Database, scope: TagScope): Promise<number> {
  if (!('all' in scope) && !scope.labels) return 0;
  const where = 'all' in scope ? sql`l.batch_id is not null` : ownedBy('l', scope.owner);
  const batch = 'all' in scope ? sql`l.batch_id` : sql`${scope.batchId}::bigint`;
  const onProjects = await inserted(db, sql`insert into tags (code, project_id, label_id, owner_organization_id, is_private, batch_id)
    select m.code, l.project_id, l.id, l.owner_organization_id, l.is_private, ${batch}
    from labels l join (${mapping()}) m on m.field = 'labelType' and m.value = l.label_type::text
    where ${where}`);
  const onBlocks = await inserted(db, sql`insert into tags (code, project_id, block_id, label_id, owner_organization_id, is_private, batch_id)
    select m.code, b.project_id, b.id, l.id, l.owner_organization_id, l.is_private, ${batch}
    from labels l join label_blocks lb on lb.label_id = l.id join unit_blocks b on b.id = lb.block_id
    join (${mapping()}) m on m.field = 'labelType' and m.value = l.label_type::text
    where ${where}`);
  return onProjects + onBlocks;
}

type AefRange = {
  action_id: number | null; holding_id: number | null; unit_first_id: string; unit_last_id: string; owner: number | null; private: boolean;
  batch_id: number | null; authorized: boolean; first_transfer: boolean; ca_applied: boolean;
};

/**
 * AEF actions and holdings on the blocks and issuances their underlying units (UnitFirstId … UnitLastId)
 * reach: `article6:authorized` for a row under an authorization, `article6:first-transferred` for a
 * first transfer, and `ca:applied` for a first transfer in a year and cooperative approach for which the
 * Party reports the adjustment applied (caApplied, add). The tag is the AEF publisher's, private when its
 * row is. The AEF tables are small: their unit ids are read here, where serial grammars live.
 */
async function aefTags(db: Database, scope: TagScope): Promise<number> {
  const found = await rows<AefRange>(db, sql`select a.id::float8 as action_id, null::float8 as holding_id, a.unit_first_id, a.unit_last_id,
      a.owner_organization_id::float8 as owner, a.is_private as private, a.batch_id::float8 as batch_id, a.authorization_id is not null as authorized,
      a.action_type ilike 'first transfer%' as first_transfer,
      a.action_type ilike 'first transfer%' and exists (select 1 from corresponding_adjustments ca where ca.party = a.party and ca.direction = 'add'
        and ca.year = extract(year from a.action_date)::int and ca.cooperative_approach_id is not distinct from a.cooperative_approach_id
        and ca.owner_organization_id is not distinct from a.owner_organization_id) as ca_applied
    from aef_actions a where a.unit_first_id is not null and a.unit_last_id is not null
    union all
    select null, h.id::float8, h.unit_first_id, h.unit_last_id, h.owner_organization_id::float8, h.is_private, h.batch_id::float8,
      h.authorization_id is not null, false, false
    from aef_holdings h where h.unit_first_id is not null and h.unit_last_id is not null`);
  const ranges = found.flatMap((r) => {
    const reading = readUnitRange(r.unit_first_id, r.unit_last_id);
    const codes = [...(r.authorized ? ['article6:authorized'] : []), ...(r.first_transfer ? ['article6:first-transferred'] : []), ...(r.ca_applied ? ['ca:applied'] : [])];
    if (!reading || codes.length === 0 || ('all' in scope && r.batch_id === null)) return [];
    return [{
      action_id: r.action_id, holding_id: r.holding_id, number_space: reading.range.numberSpace, first: reading.range.start, last: reading.range.end,
      codes, owner: r.owner, private: r.private, batch_id: 'all' in scope ? r.batch_id : scope.batchId,
    }];
  });
  if (ranges.length === 0) return 0;
  const source = sql`jsonb_to_recordset(${JSON.stringify(ranges)}::jsonb) as r(action_id bigint, holding_id bigint, number_space text, first bigint, last bigint,
    codes jsonb, owner bigint, private boolean, batch_id bigint)`;
  // Units the publisher can see: public ones, and its own.
  const onBlocks = await inserted(db, sql`insert into tags (code, project_id, block_id, aef_action_id, aef_holding_id, owner_organization_id, is_private, batch_id)
    select c.code, b.project_id, b.id, r.action_id, r.holding_id, r.owner, r.private, r.batch_id
    from ${source}
    join unit_blocks b on b.number_space = r.number_space and b.serial_range && int8range(r.first, r.last, '[]')
    cross join lateral jsonb_array_elements_text(r.codes) c(code)
    where b.superseded_in_batch_id is null and (not b.is_private or b.owner_organization_id is not distinct from r.owner) and ${scoped(scope, 'b')}`);
  const onIssuances = await inserted(db, sql`insert into tags (code, project_id, issuance_id, aef_action_id, aef_holding_id, owner_organization_id, is_private, batch_id)
    select c.code, i.project_id, i.id, r.action_id, r.holding_id, r.owner, r.private, r.batch_id
    from ${source}
    join issuances i on i.number_space = r.number_space and int8range(i.serial_start, i.serial_end, '[]') && int8range(r.first, r.last, '[]')
    cross join lateral jsonb_array_elements_text(r.codes) c(code)
    where (not i.is_private or i.owner_organization_id is not distinct from r.owner) and ${scoped(scope, 'i')}`);
  return onBlocks + onIssuances;
}

/** Derives the tags of what `scope` covers; returns how many were added. */
export async function deriveTags(db: Database, scope: TagScope): Promise<Derived> {
  const record = await recordTags(db, scope);
  const label = await labelTags(db, scope);
  const aef = await aefTags(db, scope);
  return { tags: record + label + aef };
}

/** The AEF tags after an AEF upload: its rows against every block and issuance already in the ledger. */
export async function deriveAefTags(db: Database): Promise<number> {
  return aefTags(db, { all: true });
}

/**
 * A ledger written before tags existed gets them once, when the table is still empty and the ledger is
 * not; afterwards each batch derives its own.
 */
export async function backfillTags(db: Database): Promise<void> {
  const [state] = await rows<{ empty: boolean; ledger: boolean }>(db, sql`select not exists (select 1 from tags) as empty,
    exists (select 1 from projects) as ledger`);
  if (state?.empty && state.ledger) await deriveTags(db, { all: true });
}
