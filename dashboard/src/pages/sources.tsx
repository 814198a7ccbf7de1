import { Loaded, useQuery } from '../components/states.tsx';
import { useI18n } from '../i18n.ts';
import { href } from '../router.ts';
import { FRESHNESS_FIELDS, FreshnessStatus, type Freshness } from './freshness.tsx';
import { Reconciliation } from './reconciliation.tsx';

// Sources: each registry's freshness, last batch and last sync, with counts and failures.

type Batch = { id: string; kind: string; status: string; source: string; startedAt: string; finishedAt: string | null; counts: Record<string, number>; errors: { message: string }[] };
type Registry = { id: string; name: string; kind: { label: string }; url: string | null; projectCount: number; lastBatch: Batch | null; lastSync: Batch | null; freshness: Freshness };

const QUERY = `query Sources($locale: Locale) { registries(locale: $locale) { id name kind { label } url projectCount
  lastBatch { id kind status source startedAt finishedAt counts errors { message } }
  lastSync { id kind status source startedAt finishedAt counts errors { message } }
  ${FRESHNESS_FIELDS} } }`;

export function Sources() {
  const { t, number, date } = useI18n();
  const state = useQuery<{ registries: Registry[] }>(QUERY);
  const describe = (b: Batch | null) => (b ? `${t(`batch_${b.status}` as never)} · ${date(b.finishedAt ?? b.startedAt)} · ${number(b.counts.rowsRead ?? 0)} ${t('rows')}${b.errors.length ? ` · ${number(b.errors.length)} ${t('errors')}` : ''}` : '–');
  return (
    <section>
      <h1>{t('sourcesTitle')}</h1>
      <p class="lead">{t('sourcesLead')}</p>
      <Loaded state={state}>{(data) => (
        <div class="scroll"><table class="list" data-testid="sources">
          <thead><tr><th scope="col">{t('registry')}</th><th scope="col">{t('freshness')}</th><th scope="col">{t('kind')}</th><th scope="col" class="num">{t('projectsCount')}</th><th scope="col">{t('lastBatch')}</th><th scope="col">{t('lastSync')}</th></tr></thead>
          <tbody>{data.registries.map((r) => (
            <tr key={r.id} data-registry={r.id} class={r.lastBatch?.status === 'failed' || r.lastSync?.status === 'failed' ? 'failed' : undefined}>
              <td>{r.url ? <a href={r.url} rel="noreferrer noopener" target="_blank">{r.name}</a> : r.name}</td>
              <td><FreshnessStatus freshness={r.freshness} /></td>
              <td>{r.kind.label}</td>
              <td class="num">{r.projectCount > 0 ? <a href={href('projects', undefined, {})}>{number(r.projectCount)}</a> : '0'}</td>
              <td>{describe(r.lastBatch)}{r.lastBatch ? <><br /><small>{r.lastBatch.source}</small></> : null}</td>
              <td>{describe(r.lastSync)}{r.lastSync?.errors[0] ? <><br /><small class="error-text">{r.lastSync.errors[0].message}</small></> : null}</td>
            </tr>
          ))}</tbody>
        </table></div>
      )}</Loaded>
      <Reconciliation />
    </section>
  );
}
