import { sql, type SQL } from 'drizzle-orm';
import { rows, textArray } from '../../schema/database.ts';
import { refuse, visible, type Context } from './context.ts';
import { decodeCursor, encodeCursor, pageSize } from './filters.ts';
import { loadFindings } from './findings.ts';

// The changes feed: what the batches committed after an instant wrote (projects, issuances, blocks and
// mirror records, each new, updated or superseded), and the findings opened or resolved after it. A record's
// `last_batch_id` names the batch that last changed its content (a pull that finds it unchanged leaves
// it), so a record is listed once per feed, at its latest change. Oldest first; the cursor is the
// instant (to the microsecond, as text), the subject's rank and the row's id.

type ChangeRow = { atKey: string; rank: number; seq: number; id: number; key: string; registry: string | null; batchId: number | null; type: string };

const SUBJECTS = ['PROJECT', 'ISSUANCE', 'UNIT_BLOCK', 'MIRROR_RECORD', 'FINDING'] as const;

/** The records a batch of `recent` last changed, from `table` aliased `t`. */
function recordChanges(context: Context, table: string, key: string, rank: number, registries: SQL, superseded = false): SQL {
  const type = superseded
    ? sql`case when t.superseded_in_batch_id = r.id then 'SUPERSEDED' when t.first_batch_id = r.id then 'NEW' else 'UPDATED' end`
    : sql`case when t.first_batch_id = r.id then 'NEW' else 'UPDATED' end`;
  return sql`select r.finished_at as at, ${rank}::int as rank, t.id as seq, t.id, t.${sql.raw(key)} as key, t.registry_id as registry, r.id as batch_id, ${type} as type
    from recent r join ${sql.raw(table)} t on t.last_batch_id = r.id
    where ${visible(context, 't')} and ${registries}`;
}

export const changeResolvers = {
  Query: {
    async changes(_: unknown, args: { since: string; registries?: string[] | null; first: number; after?: string | null }, context: Context) {
      const since = new Date(args.since);
      if (Number.isNaN(since.getTime())) refuse('since: expected an ISO 8601 instant such as 2026-12-01T00:00:00Z', 'BAD_USER_INPUT');
      const first = pageSize(args.first);
      const registries = args.registries?.length ? textArray(args.registries) : null;
      const ofRegistries = registries ? sql`t.registry_id = any(${registries})` : sql`true`;
      const findingOfRegistries = registries
        ? sql`exists (select 1 from finding_subjects s join projects p on p.id = s.project_id where s.finding_id = f.id and p.registry_id = any(${registries}))`
        : sql`true`;
      let after = sql`true`;
      if (args.after) {
        const [position, seq] = decodeCursor(args.after);
        const [atKey, rank] = String(position).split('|');
        if (!atKey || !rank || !/^\d+$/.test(rank)) refuse('after: not a cursor this API gave out', 'BAD_USER_INPUT');
        after = sql`(x."atKey", x.rank, x.seq) > (${atKey}, ${Number(rank)}::int, ${seq}::bigint)`;
      }
      const found = await rows<ChangeRow>(context.db, sql`with recent as (
          select b.id, b.finished_at from batches b where b.status = 'committed' and b.finished_at > ${since.toISOString()}::timestamptz and ${visible(context, 'b')})
        select x."atKey", x.rank, x.seq::float8 as seq, x.id::float8 as id, x.key, x.registry, x.batch_id::float8 as "batchId", x.type
        from (select c.*, to_char(c.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') as "atKey" from (
          ${recordChanges(context, 'projects', 'key', 0, ofRegistries)}
          union all ${recordChanges(context, 'issuances', 'issuance_key', 1, ofRegistries)}
          union all ${recordChanges(context, 'unit_blocks', 'block_key', 2, ofRegistries, true)}
          union all ${recordChanges(context, 'mirror_records', 'mirror_key', 3, ofRegistries)}
          union all select c.changed_at, 4, c.id, f.id, f.kind::text, null, null, case when c.to_status = 'resolved' then 'RESOLVED' else 'OPENED' end
            from finding_status_changes c join findings f on f.id = c.finding_id
            where c.changed_at > ${since.toISOString()}::timestamptz and ${visible(context, 'f')} and ${findingOfRegistries}
              and (c.to_status = 'resolved' or (c.to_status = 'open' and (c.from_status is null or c.from_status = 'resolved')))
        ) c) x
        where ${after}
        order by x."atKey", x.rank, x.seq
        limit ${first + 1}`);
      const page = found.slice(0, first);
      const last = page.at(-1);
      return {
        nodes: page.map((c) => ({ ...c, at: new Date(`${c.atKey}Z`), subject: SUBJECTS[c.rank] })),
        pageInfo: { hasNextPage: found.length > first, endCursor: last ? encodeCursor(`${last.atKey}|${last.rank}`, last.seq) : null },
      };
    },
  },

  Change: {
    async finding(parent: { subject: string; id: number }, _: unknown, context: Context) {
      if (parent.subject !== 'FINDING') return null;
      const [found] = await loadFindings(context, [parent.id]);
      return found ?? null;
    },
  },
};
