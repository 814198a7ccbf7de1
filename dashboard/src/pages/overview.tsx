import { useState } from 'preact/hooks';
import { ChartFigure } from '../components/chart.tsx';
import { download } from '../components/download.ts';
import { FilterBar, type Filter } from '../components/filters.tsx';
import { Loaded, useQuery } from '../components/states.tsx';
import { useI18n } from '../i18n.ts';

// Overview (researchers): issuance and retirement by year stacked by registry, by category, reduction
// vs removal and the top countries, under one set of filters. The totals are the API's trend figures.
// Issued tonnes are counted once, at the registry that issued them last (the API's `netOfConversions`);
// what a registry converted out to another is a chart of its own, so no bar is ever below zero.

type Measure = 'issued' | 'retired' | 'cancelled' | 'convertedOut';
type Point = { year: number | null; group: { code: string; label: string }[] } & Record<Measure, number>;
type Trend = { points: Point[]; csv: string };
type ReportedOnly = { registry: { code: string; label: string }; source: string; status: { code: string; label: string }; quantity: number };
type Data = { byRegistry: Trend & { reportedOnly: ReportedOnly[] }; byCategory: Trend; byKind: Trend; byCountry: Trend };

const POINT = 'year group { code label } issued retired cancelled convertedOut';
const QUERY = `query Overview($filter: ProjectFilter, $locale: Locale) {
  byRegistry: trends(filter: $filter, groupBy: [REGISTRY], locale: $locale) { points { ${POINT} } csv
    reportedOnly { registry { code label } source status { code label } quantity } }
  byCategory: trends(filter: $filter, groupBy: [CATEGORY], locale: $locale) { points { ${POINT} } csv }
  byKind: trends(filter: $filter, groupBy: [REDUCTION_REMOVAL], locale: $locale) { points { ${POINT} } csv }
  byCountry: trends(filter: $filter, groupBy: [COUNTRY], locale: $locale) { points { ${POINT} } csv }
}`;

/** Points summed by group (all years). */
function byGroup(points: Point[], measure: Measure) {
  const sums = new Map<string, { label: string; value: number }>();
  for (const p of points) {
    const g = p.group[0]!;
    const entry = sums.get(g.code) ?? { label: g.label, value: 0 };
    entry.value += p[measure];
    sums.set(g.code, entry);
  }
  return [...sums.values()].filter((e) => e.value > 0).sort((a, b) => b.value - a.value);
}

/** Tonnes reported only by a mirror, summed over the years by registry, source and state. */
function reportedOnlyRows(points: ReportedOnly[]) {
  const sums = new Map<string, ReportedOnly>();
  for (const p of points) {
    const key = `${p.registry.code}|${p.source}|${p.status.code}`;
    const entry = sums.get(key) ?? { ...p, quantity: 0 };
    entry.quantity += p.quantity;
    sums.set(key, entry);
  }
  return [...sums.values()].sort((a, b) => b.quantity - a.quantity);
}

/** A years × registries matrix for a stacked chart. */
function stacked(points: Point[], measure: Measure, unknownYear: string) {
  const years = [...new Set(points.filter((p) => p[measure] > 0).map((p) => p.year))].sort((a, b) => (a ?? 0) - (b ?? 0));
  const groups = new Map<string, string>();
  for (const p of points) if (p[measure] > 0) groups.set(p.group[0]!.code, p.group[0]!.label);
  return {
    labels: years.map((y) => (y === null ? unknownYear : String(y))),
    series: [...groups].map(([code, label]) => ({
      label, data: years.map((y) => points.filter((p) => p.year === y && p.group[0]!.code === code).reduce((s, p) => s + p[measure], 0)),
    })),
  };
}

export function Overview() {
  const { t, tonnes, compact } = useI18n();
  const [filter, setFilter] = useState<Filter>({});
  const state = useQuery<Data>(QUERY, { filter });
  return (
    <section>
      <h1>{t('overviewTitle')}</h1>
      <p class="lead">{t('overviewLead')}</p>
      <FilterBar filter={filter} onChange={setFilter} fields={['registry', 'category', 'reductionRemoval', 'vintage']} />
      <Loaded state={state}>{(data) => {
        const total = (m: Measure) => data.byRegistry.points.reduce((s, p) => s + p[m], 0);
        const issued = stacked(data.byRegistry.points, 'issued', t('unknownYear'));
        const retired = stacked(data.byRegistry.points, 'retired', t('unknownYear'));
        const convertedOut = stacked(data.byRegistry.points, 'convertedOut', t('unknownYear'));
        const categories = byGroup(data.byCategory.points, 'issued');
        const kinds = byGroup(data.byKind.points, 'issued');
        const countries = byGroup(data.byCountry.points, 'issued').slice(0, 10);
        return (
          <>
            <dl class="totals">
              {(['issued', 'retired', 'cancelled', 'convertedOut'] as const).map((m) => (
                <div key={m}><dt>{t(m)}</dt><dd data-testid={`total-${m}`} data-value={total(m)}>{tonnes(total(m))}<small class="approx">≈ {compact(total(m))} t</small></dd></div>
              ))}
            </dl>
            <div class="grid">
              <ChartFigure testId="chart-issued" title={t('chartIssuedByYear')} labels={issued.labels} series={issued.series} stacked />
              <ChartFigure testId="chart-converted-out" title={t('chartConvertedOutByYear')} labels={convertedOut.labels} series={convertedOut.series} stacked />
              <ChartFigure testId="chart-retired" title={t('chartRetiredByYear')} labels={retired.labels} series={retired.series} stacked />
              <ChartFigure testId="chart-category" title={t('chartByCategory')} labels={categories.map((c) => c.label)} series={[{ label: t('issued'), data: categories.map((c) => c.value) }]} horizontal />
              <ChartFigure testId="chart-kind" title={t('chartReductionRemoval')} kind="doughnut" labels={kinds.map((c) => c.label)} series={[{ label: t('issued'), data: kinds.map((c) => c.value) }]} />
              <ChartFigure testId="chart-country" title={t('chartTopCountries')} labels={countries.map((c) => c.label)} series={[{ label: t('issued'), data: countries.map((c) => c.value) }]} horizontal />
            </div>
            <p><button type="button" onClick={() => download('tally-trends-by-registry.csv', data.byRegistry.csv)}>{t('downloadCsv')}</button></p>
            {data.byRegistry.reportedOnly.length > 0 ? (
              <>
                <h2>{t('reportedOnlyTitle')}</h2>
                <p class="lead">{t('reportedOnlyLead')}</p>
                <div class="table-wrap"><table data-testid="reported-only">
                  <thead><tr><th>{t('registry')}</th><th>{t('reportedBySource')}</th><th>{t('status')}</th><th>{t('quantity')}</th></tr></thead>
                  <tbody>{reportedOnlyRows(data.byRegistry.reportedOnly).map((r) => (
                    <tr key={`${r.registry.code}|${r.source}|${r.status.code}`}><td>{r.registry.label}</td><td>{r.source}</td><td>{r.status.label}</td><td>{tonnes(r.quantity)}</td></tr>
                  ))}</tbody>
                </table></div>
              </>
            ) : null}
          </>
        );
      }}</Loaded>
    </section>
  );
}
