import { sql, type SQL } from 'drizzle-orm';
import { rows, textArray } from '../../schema/database.ts';
import { toCsv } from '../../jobs/csv.ts';
import { useLocale, visible, type Context } from './context.ts';
import { projectConditions, vintageConditions, type ProjectFilter } from './filters.ts';
import { countryOf, projectTypeTerm, term, type Term } from './terms.ts';

// Trends (DESIGN §1, researchers): issued, retired, cancelled and converted tonnes by event year or
// vintage, grouped by any project or unit attribute, from the sums of the append-only events the caller
// can see (trend_facts, kept by a trigger on events).
//
// Each tonne is counted once, where it lives now (`netOfConversions`, the default). Units converted out
// to a registry whose data Tally holds (a `converted-out` event naming it: ACR and CAR offsets converted
// to CARB's, CAR credits converted to VCUs) are issued again there, so they count in that registry's
// `issued` and come off the source's: a project's conversions of a vintage are taken off its own
// issuance of that vintage, earliest issuance first, and never more than it issued. The source's figure
// therefore shrinks in the year it issued those units, whatever year they were converted in, and never
// goes below zero; a conversion of units whose issuance Tally does not hold (the bundled samples have
// conversions of vintages their issuance reports do not list) takes nothing off, since those tonnes were
// never in the source's figure. `convertedOut` is the registries' own report of conversions, by the
// year they happened (or their vintage): a series of its own that nothing is subtracted from. Without
// `netOfConversions`, `issued` is the registries' gross figure.

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
  // A registry is held when the caller can see any project of it: its issuance is then in the sums.
  const registries = await rows<{ id: string; name: string; name_ja: string; held: boolean }>(context.db, sql`select r.id, r.name, r.name_ja,
      exists (select 1 from projects q where q.registry_id = r.id and ${visible(context, 'q')}) as held from registries r`);
  const registryNames = new Map(registries.map((r) => [r.id, context.locale === 'ja' ? r.name_ja : r.name]));
  const held = registries.filter((r) => r.held).map((r) => r.id);
  const groups = [...new Set(args.groupBy)];
  const axis = args.by === 'VINTAGE' ? sql`f.vintage_year` : sql`f.year`;
  const groupNames = groups.map((_, n) => sql.raw(`g${n}`));
  const groupColumns = groups.map((g, n) => sql`${GROUP_COLUMNS[g]} as ${groupNames[n]!}`);
  const keys = sql.join([sql`year`, ...groupNames], sql`, `);
  const facts = sql`select ${axis} as year${groupColumns.length ? sql`, ${sql.join(groupColumns, sql`, `)}` : sql``},
      f.kind::text as kind, f.quantity, f.project_id, f.vintage_year, f.year as event_year, f.credit_type, f.counterparty_registry_id,
      f.owner_organization_id, f.is_private
    from trend_facts f join projects p on p.id = f.project_id
    where ${visible(context, 'f')} and ${projectConditions(context, args.filter, registries.map((r) => r.id))}
      and ${vintageConditions(args.filter, sql`f.vintage_year`)}
      and f.kind in ('issued', 'retired', 'cancelled', 'converted-out')`;
  // The tonnes each issued fact gives up to conversions (see above): its project-vintage's conversions to
  // held registries, less what earlier issuances of that project-vintage already gave, at most its own.
  // Sums stay numeric until the end, so a fully converted issuance nets to exactly zero.
  const netted = args.netOfConversions && held.length > 0 ? sql`,
    converted as (
      select project_id, vintage_year, sum(quantity) as quantity from facts
      where kind = 'converted-out' and counterparty_registry_id = any(${textArray(held)})
      group by project_id, vintage_year),
    netted as (
      select ${keys}, least(i.quantity, greatest(c.quantity - coalesce(sum(i.quantity) over (
          partition by i.project_id, i.vintage_year
          order by i.event_year nulls last, i.credit_type nulls last, i.owner_organization_id nulls first, i.is_private
          rows between unbounded preceding and 1 preceding), 0), 0)) as quantity
      from facts i join converted c on c.project_id = i.project_id and c.vintage_year is not distinct from i.vintage_year
      where i.kind = 'issued')` : sql``;
  const amounts = args.netOfConversions && held.length > 0
    ? sql`select ${keys}, kind, quantity from facts union all select ${keys}, 'netted', quantity from netted`
    : sql`select ${keys}, kind, quantity from facts`;
  const groupBy = sql.join([sql`1`, ...groups.map((_, n) => sql.raw(String(n + 2)))], sql`, `);
  const found = await rows<Record<string, unknown> & { year: number | null; issued: number; retired: number; cancelled: number; converted_out: number }>(context.db, sql`
    with facts as (${facts})${netted}
    select ${keys},
      (coalesce(sum(quantity) filter (where kind = 'issued'), 0) - coalesce(sum(quantity) filter (where kind = 'netted'), 0))::float8 as issued,
      coalesce(sum(quantity) filter (where kind = 'retired'), 0)::float8 as retired,
      coalesce(sum(quantity) filter (where kind = 'cancelled'), 0)::float8 as cancelled,
      coalesce(sum(quantity) filter (where kind = 'converted-out'), 0)::float8 as converted_out
    from (${amounts}) a
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
      return { axis: args.by, groupBy: args.groupBy, filter: args.filter, points };
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
