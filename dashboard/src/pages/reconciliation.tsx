import { Loaded, useQuery } from '../components/states.tsx';
import { useI18n, type Key } from '../i18n.ts';

// The Sources page's reconciliation: each total a registry's own sources state beside Tally's figure
// for the same scope (jobs/reconcile.ts through `registries { reconciliation }`), with the causes of
// every difference and what stays unexplained.

type Cause = { cause: string; tonnes: number; detail: string };
type Line = {
  scope: string; project: string | null; vintageYear: number | null; vintageStart: string | null; vintageEnd: string | null; measure: string;
  statedAs: string; stated: number; tally: number; difference: number; unexplained: number; explained: Cause[];
};
type Registry = { id: string; name: string; reconciliation: { compared: number; unexplained: number; lines: Line[]; projects: Line[] } };

const LINE = 'scope project vintageYear vintageStart vintageEnd measure statedAs stated tally difference unexplained explained { cause tonnes detail }';
const QUERY = `query Reconciliation($locale: Locale) { registries(locale: $locale) { id name reconciliation { compared unexplained
  lines { ${LINE} } projects { ${LINE} } } } }`;

function Lines({ lines }: { lines: Line[] }) {
  const { t, number } = useI18n();
  const scope = (l: Line) => (l.scope === 'registry' ? t('reconWholeRegistry')
    : `${l.project}${l.vintageStart && l.vintageEnd ? ` · ${l.vintageStart} – ${l.vintageEnd}` : l.vintageYear !== null ? ` · ${l.vintageYear}` : ''}`);
  return (
    <div class="scroll"><table class="list">
      <thead><tr>
        <th scope="col">{t('reconScope')}</th><th scope="col">{t('reconMeasure')}</th><th scope="col" class="num">{t('reconStated')}</th>
        <th scope="col" class="num">{t('reconTally')}</th><th scope="col" class="num">{t('reconDifference')}</th><th scope="col">{t('reconCauses')}</th>
        <th scope="col" class="num">{t('reconUnexplained')}</th>
      </tr></thead>
      <tbody>{lines.map((l, i) => (
        <tr key={i} class={l.unexplained !== 0 ? 'failed' : undefined}>
          <td>{scope(l)}<br /><small>{l.statedAs}</small></td>
          <td>{t(`reconMeasure_${l.measure}` as Key)}</td>
          <td class="num">{number(l.stated)}</td>
          <td class="num">{number(l.tally)}</td>
          <td class="num">{number(l.difference)}</td>
          <td>{l.explained.length === 0 ? '–' : l.explained.map((e) => (
            <div key={e.cause} title={e.detail}>{t(`reconCause_${e.cause.replace(/-/g, '_')}` as Key)}: {number(e.tonnes)}</div>
          ))}</td>
          <td class="num">{number(l.unexplained)}</td>
        </tr>
      ))}</tbody>
    </table></div>
  );
}

export function Reconciliation() {
  const { t, number } = useI18n();
  const state = useQuery<{ registries: Registry[] }>(QUERY);
  return (
    <section data-testid="reconciliation">
      <h2>{t('reconTitle')}</h2>
      <p class="lead">{t('reconLead')}</p>
      <Loaded state={state}>{(data) => {
        const stated = data.registries.filter((r) => r.reconciliation.compared > 0);
        if (stated.length === 0) return <p>{t('reconNone')}</p>;
        return <>{stated.map((r) => (
          <article key={r.id}>
            <h3>{r.name}</h3>
            <p>{r.reconciliation.unexplained === 0
              ? t('reconAllExplained', { count: number(r.reconciliation.compared) })
              : t('reconSomeUnexplained', { count: number(r.reconciliation.compared), tonnes: number(r.reconciliation.unexplained) })}</p>
            {r.reconciliation.lines.length > 0 ? <Lines lines={r.reconciliation.lines} /> : null}
            {r.reconciliation.projects.length > 0 ? (
              <details open={r.reconciliation.projects.some((l) => l.unexplained !== 0)}>
                <summary>{t('reconProjects', {
                  count: number(r.reconciliation.projects.length),
                  stated: number(r.reconciliation.projects.reduce((s, l) => s + l.stated, 0)),
                  tally: number(r.reconciliation.projects.reduce((s, l) => s + l.tally, 0)),
                })}</summary>
                <Lines lines={r.reconciliation.projects} />
              </details>
            ) : null}
          </article>
        ))}</>;
      }}</Loaded>
    </section>
  );
}
