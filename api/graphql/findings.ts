import { and, inArray, sql, type SQL } from 'drizzle-orm';
import { findings } from '../../schema/db/index.ts';
import { isTerm, vocabularies } from '../../schema/taxonomy/index.ts';
import { rows, textArray } from '../../schema/database.ts';
import { FindingStatusRefused, setFindingStatus } from '../../jobs/integrity/findings.ts';
import { toCsv } from '../../jobs/csv.ts';
import { refuse, useLocale, visible, type Context } from './context.ts';
import { decodeCursor, encodeCursor, pageSize } from './filters.ts';
import type { FindingRow } from './loaders.ts';
import { term } from './terms.ts';
import { evidenceEntries } from '../../schema/messages/evidence.ts';
import { isMessageKey, msg, render, renderDeep, renderStored, type Locale } from '../../schema/messages/index.ts';

// Findings (DESIGN §6): filtered lists, largest tonnes at risk first, and the status decisions people
// make on them. A finding about another organization's private record does not exist for the caller:
// it is missing from lists, and asking for it by id answers as for an id that was never used.

type FindingFilter = {
  kinds?: string[] | null; severities?: string[] | null; statuses?: string[] | null;
  registries?: string[] | null; countries?: string[] | null; project?: string | null;
};

const EXPORT_LIMIT = 50_000;

function checked(field: string, values: string[] | null | undefined, vocabulary: 'findingKind' | 'findingSeverity' | 'findingStatus'): string[] | undefined {
  if (!values?.length) return undefined;
  const unknown = values.filter((v) => !isTerm(vocabulary, v));
  if (unknown.length) refuse(`${field}: unknown ${unknown.map((u) => `"${u}"`).join(', ')}; expected one of: ${vocabularies[vocabulary]!.terms.map((t) => t.code).join(', ')}`, 'BAD_USER_INPUT');
  return values;
}

function findingConditions(context: Context, filter: FindingFilter | null | undefined): SQL {
  const f = filter ?? {};
  const parts: SQL[] = [visible(context, 'f')];
  const kinds = checked('kinds', f.kinds, 'findingKind');
  if (kinds) parts.push(sql`f.kind::text = any(${textArray(kinds)})`);
  const severities = checked('severities', f.severities, 'findingSeverity');
  if (severities) parts.push(sql`f.severity::text = any(${textArray(severities)})`);
  const statuses = checked('statuses', f.statuses, 'findingStatus') ?? ['open', 'acknowledged'];
  parts.push(sql`f.status::text = any(${textArray(statuses)})`);
  const projectParts: SQL[] = [];
  if (f.registries?.length) projectParts.push(sql`p.registry_id = any(${textArray(f.registries)})`);
  if (f.countries?.length) projectParts.push(sql`p.country = any(${textArray(f.countries)})`);
  if (f.project) projectParts.push(sql`p.key = ${f.project}`);
  if (projectParts.length) {
    parts.push(sql`exists (select 1 from finding_subjects s
      left join unit_blocks sb on sb.id = s.block_id left join issuances si on si.id = s.issuance_id
      join projects p on p.id = coalesce(s.project_id, sb.project_id, si.project_id)
      where s.finding_id = f.id and ${sql.join(projectParts, sql` and `)})`);
  }
  return sql.join(parts, sql` and `);
}

type FindingsArgs = { filter?: FindingFilter | null; first: number; after?: string | null; locale?: 'EN' | 'JA' | null };

/** Whether this caller may change a finding's status: admins any finding they see, publishers their organization's. */
function mayDecide(context: Context, finding: FindingRow): boolean {
  const { role, organizationId } = context.viewer;
  if (role === 'admin') return true;
  return role === 'publisher' && organizationId !== null && finding.ownerOrganizationId === organizationId;
}

export const findingResolvers = {
  Query: {
    async findings(_: unknown, args: FindingsArgs, context: Context) {
      useLocale(context, args.locale);
      const first = pageSize(args.first);
      const where = findingConditions(context, args.filter);
      let after = sql`true`;
      if (args.after) {
        const [tonnes, id] = decodeCursor(args.after);
        after = sql`(f.tonnes_at_risk, -f.id) < (${Number(tonnes)}::numeric, ${-id})`;
      }
      const found = await rows<{ id: number; tonnes: number }>(context.db, sql`select f.id::float8 as id, f.tonnes_at_risk::float8 as tonnes
        from findings f where ${where} and ${after} order by f.tonnes_at_risk desc, f.id limit ${first + 1}`);
      const page = found.slice(0, first);
      const last = page.at(-1);
      const [totals] = await rows<{ n: number; tonnes: number }>(context.db, sql`select count(*)::int as n, coalesce(sum(f.tonnes_at_risk), 0)::float8 as tonnes from findings f where ${where}`);
      const nodes = await loadFindings(context, page.map((r) => r.id));
      return {
        nodes,
        pageInfo: { hasNextPage: found.length > first, endCursor: last ? encodeCursor(last.tonnes, last.id) : null },
        totalCount: totals!.n,
        tonnesAtRisk: totals!.tonnes,
        where,
      };
    },
    async finding(_: unknown, args: { id: string; locale?: 'EN' | 'JA' | null }, context: Context) {
      useLocale(context, args.locale);
      const [found] = await loadFindings(context, [Number(args.id)]);
      return found ?? null;
    },
  },

  Mutation: {
    async setFindingStatus(_: unknown, args: { id: string; status: 'OPEN' | 'ACKNOWLEDGED' | 'DISMISSED'; reason?: string | null }, context: Context) {
      if (context.viewer.role === 'anonymous') refuse('changing a finding needs an API key', 'UNAUTHENTICATED');
      const id = Number(args.id);
      const [finding] = await loadFindings(context, [id]);
      if (!finding) refuse(`no finding ${args.id}`, 'NOT_FOUND');
      if (!mayDecide(context, finding)) {
        refuse(context.viewer.role === 'publisher'
          ? `finding ${args.id} is not about your organization's records: only an admin can change it`
          : `a ${context.viewer.role} key cannot change findings`, 'FORBIDDEN');
      }
      try {
        await setFindingStatus(context.db, id, args.status.toLowerCase() as 'open' | 'acknowledged' | 'dismissed', {
          reason: args.reason ?? undefined, apiKeyId: context.viewer.apiKeyId ?? undefined,
        });
      } catch (error) {
        if (error instanceof FindingStatusRefused) refuse(error.message, 'BAD_USER_INPUT');
        throw error;
      }
      const [updated] = await loadFindings(context, [id]);
      return updated;
    },
  },

  FindingConnection: {
    async csv(parent: { where: SQL }, _: unknown, context: Context) {
      const found = await rows<Record<string, unknown>>(context.db, sql`select f.id, f.kind::text as kind, f.severity::text as severity,
          f.status::text as status, f.tonnes_at_risk::float8 as tonnes_at_risk, f.rests_on_inferred_link as inferred, f.title, f.title_message,
          f.first_seen_at, f.last_seen_at,
          (select string_agg(distinct p.key, ' ') from finding_subjects s left join unit_blocks sb on sb.id = s.block_id
             left join issuances si on si.id = s.issuance_id join projects p on p.id = coalesce(s.project_id, sb.project_id, si.project_id)
             where s.finding_id = f.id and ${visible(context, 'p')}) as projects
        from findings f where ${parent.where} order by f.tonnes_at_risk desc, f.id limit ${EXPORT_LIMIT + 1}`);
      if (found.length > EXPORT_LIMIT) throw new Error(`more than ${EXPORT_LIMIT.toLocaleString('en-US')} findings match: narrow the filter to export them`);
      return toCsv(found.map(({ title_message: message, ...r }) => ({
        ...r, title: renderStored(context.locale, message, r.title as string),
        first_seen_at: new Date(r.first_seen_at as string).toISOString(), last_seen_at: new Date(r.last_seen_at as string).toISOString(),
      })));
    },
  },

  Finding: {
    kind: (f: FindingRow, _: unknown, c: Context) => term(c, 'findingKind', f.kind),
    severity: (f: FindingRow, _: unknown, c: Context) => term(c, 'findingSeverity', f.severity),
    status: (f: FindingRow, _: unknown, c: Context) => term(c, 'findingStatus', f.status),
    title: (f: FindingRow, _: unknown, c: Context) => renderStored(c.locale, f.titleMessage, f.title),
    evidence: (f: FindingRow, _: unknown, c: Context) => renderDeep(c.locale, f.evidence),
    evidenceFields: (f: FindingRow, _: unknown, c: Context) => evidenceEntries(c.locale, (f.evidence ?? {}) as Record<string, unknown>),
    async projects(f: FindingRow, _: unknown, c: Context) {
      const found = await c.loaders.project.loadMany(await c.loaders.findingProjects.load(f.id));
      return found.filter((p) => p && !(p instanceof Error));
    },
    async blocks(f: FindingRow, _: unknown, c: Context) {
      const found = await c.loaders.block.loadMany(await c.loaders.findingBlocks.load(f.id));
      return found.filter((b) => b && !(b instanceof Error));
    },
    history: async (f: FindingRow, _: unknown, c: Context) => (await c.loaders.findingHistory.load(f.id))
      .map((h) => ({ from: h.fromStatus ?? 'new', to: h.toStatus, reason: h.reason, at: h.changedAt, summary: historyLine(c.locale, h) })),
    private: (f: FindingRow) => f.isPrivate,
  },
};

/** One status change in words: `Open → Resolved (no longer found)`, a check's reason worded, a person's as written. */
function historyLine(locale: Locale, h: { fromStatus: string | null; toStatus: string; reason: string | null; apiKeyId: number | null }): string {
  const status = (code: string | null) => (code === null ? msg('history.new') : { term: 'findingStatus' as const, code });
  // The checks record their reason without a key; a person's reason is theirs, whatever it says.
  const checkReason = `history.reason.${h.reason}`;
  const reason = h.reason === null ? null : h.apiKeyId === null && isMessageKey(checkReason) ? msg(checkReason) : h.reason;
  return render(locale, reason === null
    ? msg('history.change', { from: status(h.fromStatus), to: status(h.toStatus) })
    : msg('history.changeWithReason', { from: status(h.fromStatus), to: status(h.toStatus), reason }));
}

/** Findings by id, in the given order, that the caller may see. */
export async function loadFindings(context: Context, ids: number[]): Promise<FindingRow[]> {
  if (ids.length === 0) return [];
  const found = await context.db.select().from(findings).where(and(inArray(findings.id, ids), visible(context, 'findings')));
  const byId = new Map(found.map((f) => [f.id, f]));
  return ids.flatMap((id) => byId.get(id) ?? []);
}
