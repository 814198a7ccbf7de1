import { useState } from 'preact/hooks';
import { ChartFigure } from '../components/chart.tsx';
import { FINDING_FIELDS, FindingCard, type FindingData } from '../components/finding.tsx';
import { Empty, Loaded, useQuery } from '../components/states.tsx';
import { useI18n } from '../i18n.ts';
import type { Viewer } from '../main.tsx';
import { href, type Route } from '../router.ts';

// Article 6 country view (governments): authorized, first-transferred and corresponding adjustments
// applied by year, the open gaps, and the pre-submission consistency checks, for one Party.

type Year = { year: number; authorized: number; firstTransferred: number; held: number; used: number; caAdded: number; caSubtracted: number; openGapTonnes: number };
type Data = { article6: {
  party: string; summary: Year[]; gaps: FindingData[];
  authorizations: { authorizationId: string; version: string; authorizedOn: string | null; quantity: number; purposes: string | null; cooperativeApproachId: string | null; private: boolean }[];
  consistency: { check: string; outcome: string; problems: string[] }[];
} };

const QUERY = `query Article6($party: String!, $locale: Locale) { article6(party: $party) {
  party summary { year authorized firstTransferred held used caAdded caSubtracted openGapTonnes }
  gaps(locale: $locale) { ${FINDING_FIELDS} owned: private }
  authorizations { authorizationId version authorizedOn quantity purposes cooperativeApproachId private }
  consistency { check outcome problems }
} }`;

export function Article6({ route, viewer }: { route: Route; viewer: Viewer | undefined }) {
  const { t, tonnes, date } = useI18n();
  const party = (route.param ?? 'GUY').toUpperCase();
  const [text, setText] = useState(party);
  const state = useQuery<Data>(QUERY, { party });
  return (
    <section>
      <h1>{t('article6Title')}</h1>
      <p class="lead">{t('article6Lead')}</p>
      <form class="lookup" onSubmit={(e) => { e.preventDefault(); location.hash = href('article6', text.trim().toUpperCase()); }}>
        <label for="party">{t('party')}</label>
        <input id="party" value={text} maxLength={3} size={5} onInput={(e) => setText((e.target as HTMLInputElement).value)} placeholder="VUT" />
        <button type="submit">{t('show')}</button>
      </form>
      <Loaded state={state}>{({ article6: a }) => {
        const years = a.summary.map((y) => String(y.year));
        const canDecide = (f: FindingData & { owned?: boolean }) => viewer?.role === 'admin' || (viewer?.role === 'publisher' && Boolean(f.owned));
        return (
          <>
            <h2>{t('positionByYear', { party: a.party })}</h2>
            {a.summary.length === 0 ? <Empty>{t('noArticle6Data', { party: a.party })}</Empty> : (
              <>
                <ChartFigure testId="chart-article6" title={t('authorizedVsTransferred')} labels={years} series={[
                  { label: t('authorized'), data: a.summary.map((y) => y.authorized) },
                  { label: t('firstTransferred'), data: a.summary.map((y) => y.firstTransferred) },
                  { label: t('caApplied'), data: a.summary.map((y) => y.caAdded) },
                  { label: t('openGaps'), data: a.summary.map((y) => y.openGapTonnes) },
                ]} />
              </>
            )}
            <h2>{t('openGaps')}</h2>
            {a.gaps.length === 0 ? <Empty>{t('noGaps')}</Empty> : a.gaps.map((f) => <FindingCard key={f.id} finding={f} canDecide={canDecide(f)} onChanged={state.reload} />)}
            <h2>{t('authorizations')}</h2>
            {a.authorizations.length === 0 ? <Empty>{t('none')}</Empty> : (
              <div class="scroll"><table class="list">
                <thead><tr><th scope="col">{t('authorization')}</th><th scope="col">{t('date')}</th><th scope="col">{t('cooperativeApproach')}</th><th scope="col">{t('purposes')}</th><th scope="col" class="num">{t('quantity')}</th></tr></thead>
                <tbody>{a.authorizations.map((x) => (
                  <tr key={x.authorizationId + x.version}><td>{x.authorizationId} v{x.version}{x.private ? ` · ${t('private')}` : ''}</td><td>{date(x.authorizedOn)}</td><td>{x.cooperativeApproachId ?? '–'}</td><td>{x.purposes ?? '–'}</td><td class="num">{tonnes(x.quantity)}</td></tr>
                ))}</tbody>
              </table></div>
            )}
            <h2>{t('consistencyChecks')}</h2>
            <ul class="checks">{a.consistency.map((c) => (
              <li key={c.check} class={`outcome-${c.outcome}`}><strong>{t(`check_${c.check}` as never)}</strong>: {t(`outcome_${c.outcome}` as never)}
                {c.problems.length > 0 && <ul>{c.problems.map((p) => <li key={p}>{p}</li>)}</ul>}</li>
            ))}</ul>
          </>
        );
      }}</Loaded>
    </section>
  );
}
