import { useState } from 'preact/hooks';
import { SOURCE_FIELDS, SourcesList, type SourceData } from '../components/blocks.tsx';
import { MIRROR_FIELDS, MirrorReports, type MirrorData } from '../components/mirrors.tsx';
import { Empty, Loaded, useQuery } from '../components/states.tsx';
import { useI18n } from '../i18n.ts';
import { href, type Route } from '../router.ts';

// Serial lookup (exchanges): paste a serial or a range, get a provenance card for every block that holds
// it: registry, project, vintage, status, events, Article 6 state, findings and sources; and what other
// sources (CAD Trust, another registry) report of the same units.

type Card = {
  id: string; serial: string | null; blockKey: string; quantity: number; vintageYear: number | null; numberSpace: string | null;
  serialStart: number | null; serialEnd: number | null; superseded: boolean;
  registry: { name: string }; project: { key: string; name: string; country: { name: string } | null };
  status: { code: string; label: string }; statusDate: string | null; retirementBeneficiary: string | null; retirementPurpose: { label: string } | null;
  article6Authorization: string | null; caDeclaration: { label: string } | null; caStatus: { label: string } | null; tokenizationMarker: string | null;
  events: { id: string; kind: { label: string }; occurredOn: string | null; quantity: number }[];
  findings: { id: string; title: string; tonnesAtRisk: number; severity: { label: string } }[];
  sources: SourceData[];
};
type Data = { lookup: {
  readings: { registry: string | null; numberSpace: string | null; start: number; end: number }[]; message: string | null; blocks: Card[];
  issuances: { id: string; serial: string | null; quantity: number; vintageYear: number | null; project: { key: string; name: string } }[];
  reportedBy: MirrorData[];
} };

const QUERY = `query Lookup($serial: String!, $locale: Locale) { lookup(serial: $serial, locale: $locale) {
  readings { registry numberSpace start end } message
  blocks { id serial blockKey quantity vintageYear numberSpace serialStart serialEnd superseded registry { name } project { key name country { name } }
    status { code label } statusDate retirementBeneficiary retirementPurpose { label } article6Authorization caDeclaration { label } caStatus { label } tokenizationMarker
    events { id kind { label } occurredOn quantity } findings { id title tonnesAtRisk severity { label } } sources { ${SOURCE_FIELDS} } }
  issuances { id serial quantity vintageYear project { key name } }
  reportedBy { ${MIRROR_FIELDS} }
} }`;

function ProvenanceCard({ block: b }: { block: Card }) {
  const { t, tonnes, date } = useI18n();
  return (
    <article class="card" data-testid="provenance">
      <h2>{b.serial ?? b.blockKey}</h2>
      <dl class="facts">
        <div><dt>{t('registry')}</dt><dd>{b.registry.name}</dd></div>
        <div><dt>{t('project')}</dt><dd><a href={href('project', b.project.key)}>{b.project.name}</a> <small>{b.project.key}</small>{b.project.country ? ` · ${b.project.country.name}` : ''}</dd></div>
        <div><dt>{t('vintage')}</dt><dd>{b.vintageYear ?? '–'}</dd></div>
        <div><dt>{t('quantity')}</dt><dd>{tonnes(b.quantity)}{b.serialStart !== null ? <small> · {b.numberSpace} {b.serialStart}–{b.serialEnd}</small> : null}</dd></div>
        <div><dt>{t('status')}</dt><dd data-testid="provenance-status" class={`status-${b.status.code}`}>{b.status.label}{b.statusDate ? ` · ${date(b.statusDate)}` : ''}{b.superseded ? ` · ${t('superseded')}` : ''}</dd></div>
        {b.retirementBeneficiary && <div><dt>{t('beneficiary')}</dt><dd>{b.retirementBeneficiary}{b.retirementPurpose ? ` · ${b.retirementPurpose.label}` : ''}</dd></div>}
        <div><dt>{t('article6')}</dt><dd>{b.article6Authorization ?? t('noAuthorization')}{b.caDeclaration ? ` · ${t('caDeclaration')}: ${b.caDeclaration.label}` : ''}{b.caStatus ? ` · ${b.caStatus.label}` : ''}</dd></div>
        {b.tokenizationMarker && <div><dt>{t('tokenized')}</dt><dd>{b.tokenizationMarker}</dd></div>}
      </dl>
      <h3>{t('findings')}</h3>
      {b.findings.length === 0 ? <p class="ok">{t('noFindingsForUnit')}</p> : (
        <ul>{b.findings.map((f) => <li key={f.id}><a href={href('findings', f.id)}>{f.title}</a> · {f.severity.label} · {tonnes(f.tonnesAtRisk)}</li>)}</ul>
      )}
      <h3>{t('events')}</h3>
      <ul>{b.events.map((e) => <li key={e.id}>{date(e.occurredOn)} · {e.kind.label} · {tonnes(e.quantity)}</li>)}</ul>
      <details><summary>{t('sources')}</summary><SourcesList sources={b.sources} /></details>
    </article>
  );
}

export function Lookup({ route }: { route: Route }) {
  const { t, tonnes } = useI18n();
  const initial = route.query.get('serial') ?? '';
  const [text, setText] = useState(initial);
  const [serial, setSerial] = useState(initial);
  const state = useQuery<Data>(QUERY, { serial }, { skip: serial === '' });
  return (
    <section>
      <h1>{t('lookupTitle')}</h1>
      <p class="lead">{t('lookupLead')}</p>
      <form class="lookup" onSubmit={(e) => { e.preventDefault(); setSerial(text.trim()); history.replaceState(null, '', href('lookup', undefined, text.trim() ? { serial: text.trim() } : {})); }}>
        <label for="serial">{t('serial')}</label>
        <input id="serial" value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} placeholder="ACR-US-1185-2025-3078-1 to 85847" autoComplete="off" spellcheck={false} />
        <button type="submit">{t('lookUp')}</button>
      </form>
      {serial !== '' && <Loaded state={state}>{({ lookup }) => (
        <>
          {lookup.readings.length > 0 && <p class="readings">{t('readAs')} {lookup.readings.map((r) => `${r.registry ?? '?'} · ${r.numberSpace ?? '?'} ${r.start}–${r.end}`).join('; ')}</p>}
          {lookup.message && <Empty>{lookup.message}</Empty>}
          {lookup.blocks.map((b) => <ProvenanceCard key={b.id} block={b} />)}
          {lookup.issuances.length > 0 && (
            <>
              <h2>{t('issuancesHolding')}</h2>
              <ul>{lookup.issuances.map((i) => <li key={i.id}><a href={href('project', i.project.key)}>{i.project.name}</a> · {i.serial} · {i.vintageYear ?? '–'} · {tonnes(i.quantity)}</li>)}</ul>
            </>
          )}
          <MirrorReports reports={lookup.reportedBy} />
        </>
      )}</Loaded>}
    </section>
  );
}
