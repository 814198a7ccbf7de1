import { useState } from 'preact/hooks';
import { gql } from '../api.ts';
import { useI18n } from '../i18n.ts';
import { href } from '../router.ts';
import { ErrorBox } from './states.tsx';

// One finding: what it is, the tonnes at risk, the projects involved, its evidence, and for people
// allowed to decide, acknowledge or dismiss (with a reason).

/** A field of the evidence as the API words it in the reader's language (Finding.evidenceFields). */
type EvidenceEntry = { key: string; label: string; text?: string; entries?: EvidenceEntry[]; items?: { text?: string; entries?: EvidenceEntry[] }[] };

export type FindingData = {
  id: string; title: string; tonnesAtRisk: number; restsOnInferredLink: boolean; evidenceFields: EvidenceEntry[];
  kind: { code: string; label: string }; severity: { code: string; label: string }; status: { code: string; label: string };
  firstSeenAt: string; projects: { key: string; name: string }[]; history: { summary: string; to: string; at: string }[];
};

export const FINDING_FIELDS = `id title tonnesAtRisk restsOnInferredLink evidenceFields kind { code label } severity { code label } status { code label }
  firstSeenAt projects { key name } history { summary to at }`;

/** Evidence as nested definition lists: every label and Tally's words in the reader's language, registries' words as written. */
function Evidence({ entries }: { entries: EvidenceEntry[] }) {
  return (
    <dl class="evidence">{entries.map((e) => (
      <div key={e.key}>
        <dt>{e.label}</dt>
        <dd>{e.text !== undefined ? (/^https?:\/\//.test(e.text) ? <a href={e.text} rel="noopener noreferrer">{e.text}</a> : e.text)
          : e.entries ? <Evidence entries={e.entries} />
            : <ol>{(e.items ?? []).map((item, i) => <li key={i}>{item.entries ? <Evidence entries={item.entries} /> : item.text}</li>)}</ol>}</dd>
      </div>
    ))}</dl>
  );
}

export function FindingCard({ finding, canDecide, onChanged }: { finding: FindingData; canDecide: boolean; onChanged?(): void }) {
  const { t, tonnes, date } = useI18n();
  const [reason, setReason] = useState('');
  const [error, setError] = useState<unknown>();
  const decide = async (status: 'ACKNOWLEDGED' | 'DISMISSED' | 'OPEN') => {
    setError(undefined);
    try {
      await gql(`mutation Decide($id: ID!, $status: SettableFindingStatus!, $reason: String) { setFindingStatus(id: $id, status: $status, reason: $reason) { id } }`,
        { id: finding.id, status, reason: reason || null });
      onChanged?.();
    } catch (e) {
      setError(e);
    }
  };
  return (
    <article class={`finding severity-${finding.severity.code}`} data-testid="finding">
      <header>
        <span class="badge">{finding.severity.label}</span> <span class="badge muted">{finding.kind.label}</span> <span class="badge muted">{finding.status.label}</span>
        <h3>{finding.title}</h3>
      </header>
      <p><strong>{t('tonnesAtRisk')}:</strong> {tonnes(finding.tonnesAtRisk)}{finding.restsOnInferredLink ? ` · ${t('inferredLink')}` : ''} · {t('firstSeen')} {date(finding.firstSeenAt)}</p>
      <p>{finding.projects.map((p, i) => <span key={p.key}>{i > 0 ? ', ' : ''}<a href={href('project', p.key)}>{p.name}</a> <small>({p.key})</small></span>)}</p>
      <details>
        <summary>{t('evidence')}</summary>
        <Evidence entries={finding.evidenceFields} />
        {finding.history.length > 0 && (
          <ul class="history" data-testid="finding-history">{finding.history.map((h) => <li key={h.at + h.to}>{date(h.at)}: {h.summary}</li>)}</ul>
        )}
      </details>
      {canDecide && finding.status.code !== 'resolved' && (
        <form class="decide" onSubmit={(e) => e.preventDefault()}>
          <label>{t('reason')}<input value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} /></label>
          {finding.status.code !== 'acknowledged' && <button type="button" onClick={() => decide('ACKNOWLEDGED')}>{t('acknowledge')}</button>}
          {finding.status.code !== 'dismissed' && <button type="button" onClick={() => decide('DISMISSED')}>{t('dismiss')}</button>}
          {finding.status.code !== 'open' && <button type="button" onClick={() => decide('OPEN')}>{t('reopen')}</button>}
        </form>
      )}
      {error !== undefined && <ErrorBox error={error} />}
    </article>
  );
}
