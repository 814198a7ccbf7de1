import { useState } from 'preact/hooks';
import { gql } from '../api.ts';
import { download } from '../components/download.ts';
import { FilterBar, type Filter } from '../components/filters.tsx';
import { Empty, ErrorBox, Loaded, useQuery } from '../components/states.tsx';
import { useI18n } from '../i18n.ts';
import { href, type Route } from '../router.ts';

// Project explorer: filters, sort, and pages of 25 through the API's cursors.

type Row = {
  key: string; name: string; nameJa: string | null; registry: { name: string }; country: { name: string } | null;
  category: { label: string } | null; status: { label: string }; totals: { issued: number; retired: number }; private: boolean;
};
type Data = { projects: { totalCount: number; nodes: Row[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } } };

const QUERY = `query Projects($filter: ProjectFilter, $sort: ProjectSort, $descending: Boolean, $after: String, $locale: Locale) {
  projects(filter: $filter, sort: $sort, descending: $descending, first: 25, after: $after, locale: $locale) {
    totalCount pageInfo { hasNextPage endCursor }
    nodes { key name nameJa registry { name } country { name } category { label } status { label } totals { issued retired } private }
  } }`;

const SORTS = ['KEY', 'NAME', 'COUNTRY', 'REGISTERED_ON', 'ISSUED', 'RETIRED'] as const;

export function Projects({ route }: { route: Route }) {
  const { t, tonnes, number, locale } = useI18n();
  const [filter, setFilter] = useState<Filter>(route.query.get('q') ? { search: route.query.get('q')! } : {});
  const [sort, setSort] = useState<(typeof SORTS)[number]>('ISSUED');
  const [descending, setDescending] = useState(true);
  // The cursors of the pages before this one, to go back.
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const after = cursors[cursors.length - 1] ?? null;
  const state = useQuery<Data>(QUERY, { filter, sort, descending, after });
  const [exportError, setExportError] = useState<unknown>();
  const change = (next: Filter) => { setFilter(next); setCursors([null]); };
  const exportCsv = async () => {
    try {
      const data = await gql<{ projects: { csv: string } }>(`query ProjectsCsv($filter: ProjectFilter) { projects(filter: $filter, first: 0) { csv } }`, { filter });
      download('tally-projects.csv', data.projects.csv);
    } catch (error) {
      setExportError(error);
    }
  };
  return (
    <section>
      <h1>{t('projectsTitle')}</h1>
      <FilterBar filter={filter} onChange={change} fields={['search', 'registry', 'country', 'category', 'status', 'reductionRemoval', 'tag']} />
      <div class="toolbar">
        <label>{t('sortBy')}<select value={sort} onChange={(e) => { setSort((e.target as HTMLSelectElement).value as typeof sort); setCursors([null]); }}>
          {SORTS.map((s) => <option key={s} value={s}>{t(`sort_${s}`)}</option>)}
        </select></label>
        <label class="check"><input type="checkbox" checked={descending} onChange={(e) => { setDescending((e.target as HTMLInputElement).checked); setCursors([null]); }} />{t('descending')}</label>
        <button type="button" onClick={exportCsv}>{t('downloadCsv')}</button>
      </div>
      {exportError !== undefined && <ErrorBox error={exportError} />}
      <Loaded state={state}>{(data) => (
        <>
          <p class="count" data-testid="project-count">{t('projectsFound', { count: number(data.projects.totalCount) })}</p>
          {data.projects.nodes.length === 0 ? <Empty>{t('noProjects')}</Empty> : (
            <div class="scroll">
              <table class="list">
                <thead><tr>
                  <th scope="col">{t('project')}</th><th scope="col">{t('registry')}</th><th scope="col">{t('country')}</th>
                  <th scope="col">{t('category')}</th><th scope="col">{t('status')}</th><th scope="col" class="num">{t('issued')}</th><th scope="col" class="num">{t('retired')}</th>
                </tr></thead>
                <tbody>{data.projects.nodes.map((p) => (
                  <tr key={p.key}>
                    <td><a href={href('project', p.key)}>{(locale === 'ja' && p.nameJa) || p.name}</a><br /><small>{p.key}{p.private ? ` · ${t('private')}` : ''}</small></td>
                    <td>{p.registry.name}</td><td>{p.country?.name ?? '–'}</td><td>{p.category?.label ?? '–'}</td><td>{p.status.label}</td>
                    <td class="num">{tonnes(p.totals.issued)}</td><td class="num">{tonnes(p.totals.retired)}</td>
                  </tr>
                ))}</tbody>
              </table>
            </div>
          )}
          <nav class="pager" aria-label={t('pages')}>
            <button type="button" disabled={cursors.length <= 1} onClick={() => setCursors(cursors.slice(0, -1))}>{t('previous')}</button>
            <span>{t('pageNumber', { n: cursors.length })}</span>
            <button type="button" disabled={!data.projects.pageInfo.hasNextPage} onClick={() => setCursors([...cursors, data.projects.pageInfo.endCursor])}>{t('next')}</button>
          </nav>
        </>
      )}</Loaded>
    </section>
  );
}
