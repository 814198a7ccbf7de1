import { useState } from 'preact/hooks';
import { download } from '../components/download.ts';
import { useFilterOptions } from '../components/filters.tsx';
import { FINDING_FIELDS, FindingCard, type FindingData } from '../components/finding.tsx';
import { Empty, Loaded, useQuery } from '../components/states.tsx';
import { useI18n } from '../i18n.ts';
import type { Viewer } from '../main.tsx';
import type { Route } from '../router.ts';

// Integrity: findings with their evidence and tonnes at risk, filtered by kind, severity and status;
// acknowledge or dismiss for those allowed (admins; publishers for their organization's findings).

type Data = { findings: { totalCount: number; tonnesAtRisk: number; csv: string; nodes: FindingData[] } };

const QUERY = `query Findings($filter: FindingFilter, $locale: Locale) { findings(filter: $filter, first: 100, locale: $locale) {
  totalCount tonnesAtRisk csv nodes { ${FINDING_FIELDS} owned: private } } }`;

export function Findings({ route, viewer }: { route: Route; viewer: Viewer | undefined }) {
  const { t, tonnes, number } = useI18n();
  const options = useFilterOptions();
  const [kind, setKind] = useState('');
  const [severity, setSeverity] = useState('');
  const [status, setStatus] = useState('');
  const filter = { kinds: kind ? [kind] : undefined, severities: severity ? [severity] : undefined, statuses: status ? [status] : undefined };
  const state = useQuery<Data>(QUERY, { filter });
  const vocabulary = (name: string) => options.data?.taxonomy.find((v) => v.name === name)?.terms ?? [];
  const select = (label: string, value: string, set: (v: string) => void, vocabularyName: string, all: string) => (
    <label>{label}<select value={value} onChange={(e) => set((e.target as HTMLSelectElement).value)}>
      <option value="">{all}</option>
      {vocabulary(vocabularyName).map((term) => <option key={term.code} value={term.code}>{term.label}</option>)}
    </select></label>
  );
  const canDecide = (f: FindingData & { owned?: boolean }) => viewer?.role === 'admin' || (viewer?.role === 'publisher' && Boolean(f.owned));
  return (
    <section>
      <h1>{t('findingsTitle')}</h1>
      <p class="lead">{t('findingsLead')}</p>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        {select(t('kind'), kind, setKind, 'findingKind', t('all'))}
        {select(t('severity'), severity, setSeverity, 'findingSeverity', t('all'))}
        {select(t('status'), status, setStatus, 'findingStatus', t('openAndAcknowledged'))}
      </form>
      <Loaded state={state}>{(data) => (
        <>
          <p class="count" data-testid="finding-count">{t('findingsFound', { count: number(data.findings.totalCount), tonnes: tonnes(data.findings.tonnesAtRisk) })}
            {' '}<button type="button" onClick={() => download('tally-findings.csv', data.findings.csv)}>{t('downloadCsv')}</button></p>
          {data.findings.nodes.length === 0 ? <Empty>{t('noFindings')}</Empty>
            : data.findings.nodes.map((f) => <FindingCard key={f.id} finding={f} canDecide={canDecide(f)} onChanged={state.reload} />)}
          {route.param && !data.findings.nodes.some((f) => f.id === route.param) && <p class="state">{t('findingNotListed', { id: route.param })}</p>}
        </>
      )}</Loaded>
    </section>
  );
}
