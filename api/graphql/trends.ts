import { sql, type SQL } from 'drizzle-orm';
import { rows } from '../../schema/database.ts';
import { toCsv } from '../csv.ts';
import { useLocale, visible, type Context } from './context.ts';
import { projectConditions, vintageConditions, type ProjectFilter } from './filters.ts';
import { countryOf, projectTypeTerm, term, type Term } from './terms.ts';

// Trends (DESIGN §1, researchers): issued, retired, cancelled and converted tonnes by event year or
// vintage, grouped by any project or unit attribute, from the sums of the append-only events the caller
// can see (trend_facts, kept by a trigger on events). With `netOfConversions`, tonnes converted out to a
// registry whose data Tally holds are taken off the source's issued figure: they are issued again at the
// destination, and a tonne is counted once.

type Axis = 'YEAR' | 'VINTAGE';
type Group = 'REGISTRY' | 'COUNTRY' | 'CATEGORY' | 'PROJECT_TYPE' | 'REDUCTION_REMOVAL' | 'UNIT_TYPE';

const GROUP_COLUMNS: Record<Group, SQL> = {
  REGISTRY: sql`p.registry_id`,
  COUNTRY: sql`p.country`,
  CATEGORY: sql`p.category`,
  PROJECT_TYPE: sql`p.project_type`,
  REDUCTION_REMOVAL: sql`p.reduction_removal::text`,
  UNIT_TYPE: sql`f.credit_type`,
};

type TrendArgs = { filter?: ProjectFilter | null; by: Axis; groupBy: Group[]; netOfConversions: boolean; locale?: 'EN' | 'JA' | null };
type Point = { year: number | null; group: Term[]; issued: number; retired: number; cancelled: number; convertedOut: number };

function groupTerm(context: Context, group: Group, code: string | null, registryNames: Map<string, string>): Term {
  if (code === null) return { code: 'unknown', label: context.locale === 'ja' ? '不明' : 'Unknown' };
  switch (group) {
    case 'REGISTRY': return { code, label: registryNames.get(code) ?? code };
    case 'COUNTRY': return { code, label: countryOf(context.locale, code)!.name };
    case 'CATEGORY': return term(context, 'category', code);
    case 'PROJECT_TYPE': return projectTypeTerm(context.locale, code)!;
    case 'REDUCTION_REMOVAL': return term(context, 'reductionRemoval', code);
    case 'UNIT_TYPE': return term(context, 'creditType', code);
  }
}

export async function trendPoints(context: Context, args: TrendArgs): Promise<Point[]> {
  const registries = await rows<{ id: string; name: string; name_ja: string; held: boolean }>(context.db, sql`select r.id, r.name, r.name_ja,
      exists (select 1 from projects q where q.registry_id = r.id) as held from registries r`);
  const registryNames = new Map(registries.map((r) => [r.id, context.locale === 'ja' ? r.name_ja : r.name]));
  const held = registries.filter((r) => r.held).map((r) => r.id);
  const groups = [...new Set(args.groupBy)];
  const axis = args.by === 'VINTAGE' ? sql`f.vintage_year` : sql`f.year`;
  const groupColumns = groups.map((g, n) => sql`${GROUP_COLUMNS[g]} as ${sql.raw(`g${n}`)}`);
  const netted = args.netOfConversions && held.length > 0
    ? sql`coalesce(sum(f.quantity) filter (where f.kind = 'converted-out' and f.counterparty_registry_id in (${sql.join(held.map((h) => sql`${h}`), sql`, `)})), 0)`
    : sql`0`;
  const groupBy = sql.join([sql`1`, ...groups.map((_, n) => sql.raw(String(n + 2)))], sql`, `);
  const found = await rows<Record<string, unknown> & { year: number | null; issued: number; retired: number; cancelled: number; converted_out: number }>(context.db, sql`
    select ${axis} as year${groupColumns.length ? sql`, ${sql.join(groupColumns, sql`, `)}` : sql``},
      (coalesce(sum(f.quantity) filter (where f.kind = 'issued'), 0) - ${netted})::float8 as issued,
      coalesce(sum(f.quantity) filter (where f.kind = 'retired'), 0)::float8 as retired,
      coalesce(sum(f.quantity) filter (where f.kind = 'cancelled'), 0)::float8 as cancelled,
      coalesce(sum(f.quantity) filter (where f.kind = 'converted-out'), 0)::float8 as converted_out
    from trend_facts f join projects p on p.id = f.project_id
    where ${visible(context, 'f')} and ${projectConditions(context, args.filter, registries.map((r) => r.id))}
      and ${vintageConditions(args.filter, sql`f.vintage_year`)}
      and f.kind in ('issued', 'retired', 'cancelled', 'converted-out')
    group by ${groupBy} order by ${groupBy}`);
  return found.map((r) => ({
    year: r.year,
    group: groups.map((g, n) => groupTerm(context, g, (r[`g${n}`] as string | null) ?? null, registryNames)),
    issued: r.issued, retired: r.retired, cancelled: r.cancelled, convertedOut: r.converted_out,
  }));
}

export const trendResolvers = {
  Query: {
    async trends(_: unknown, args: TrendArgs, context: Context) {
      useLocale(context, args.locale);
      const points = await trendPoints(context, args);
      return { axis: args.by, groupBy: args.groupBy, points };
    },
  },
  Trend: {
    csv(trend: { axis: Axis; groupBy: Group[]; points: Point[] }) {
      const groupNames = [...new Set(trend.groupBy)].map((g) => g.toLowerCase());
      const columns = [trend.axis === 'VINTAGE' ? 'vintage' : 'year', ...groupNames.flatMap((g) => [g, `${g}_label`]), 'issued', 'retired', 'cancelled', 'converted_out'];
      return toCsv(trend.points.map((p) => ({
        [columns[0]!]: p.year,
        ...Object.fromEntries(groupNames.flatMap((g, n) => [[g, p.group[n]!.code], [`${g}_label`, p.group[n]!.label]])),
        issued: p.issued, retired: p.retired, cancelled: p.cancelled, converted_out: p.convertedOut,
      })), columns);
    },
  },
};
