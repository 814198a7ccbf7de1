import { useEffect, useState } from 'preact/hooks';
import { dataFile } from '../api.ts';
import { download } from '../components/download.ts';
import { useI18n, type I18n } from '../i18n.ts';

// The Downloads page: what GET /data serves (jobs/downloads.ts) for the signed-in caller, from its
// manifest: each file with its rows, size and SHA-256, each column with its type and meaning, and how
// fresh each source is.

type Column = { name: string; type: string; en: string; ja: string };
type Manifest = {
  generated_at: string; ledger_version: number;
  sources: { registry: string; last_successful_pull: string | null; age_seconds: number | null }[];
  files: { name: string; rows: number; bytes: number; sha256: string }[];
  columns: Record<string, Column[]>;
};

/** How long ago, in days, hours or minutes (the Sources page's freshness says it the same way). */
export function age(i18n: I18n, seconds: number | null): string {
  if (seconds === null) return i18n.t('downloadsNever');
  if (seconds >= 86_400) return i18n.t('downloadsAgeDays', { n: Math.floor(seconds / 86_400) });
  if (seconds >= 3_600) return i18n.t('downloadsAgeHours', { n: Math.floor(seconds / 3_600) });
  return i18n.t('downloadsAgeMinutes', { n: Math.floor(seconds / 60) });
}

async function save(name: string): Promise<void> {
  download(`tally-${name}`, await (await dataFile(name)).blob());
}

export function Downloads() {
  const i18n = useI18n();
  const { t, number, locale } = i18n;
  const [manifest, setManifest] = useState<Manifest | undefined>();
  const [error, setError] = useState<string | undefined>();
  useEffect(() => {
    dataFile('manifest.json').then((r) => r.json() as Promise<Manifest>).then(setManifest, (e: Error) => setError(e.message));
  }, []);
  return (
    <section data-testid="downloads">
      <h1>{t('downloadsTitle')}</h1>
      <p class="lead">{t('downloadsLead')}</p>
      {error && <div class="error" role="alert">{error}</div>}
      {!manifest && !error && <p class="state" role="status" aria-live="polite">{t('loading')}</p>}
      {manifest && <>
        <p>{t('downloadsGenerated', { time: new Date(manifest.generated_at).toLocaleString(locale === 'ja' ? 'ja-JP' : 'en-GB', { timeZone: 'UTC', timeZoneName: 'short' }), version: manifest.ledger_version })}</p>
        <div class="scroll"><table class="list" data-testid="download-files">
          <thead><tr>
            <th scope="col">{t('downloadsFile')}</th><th scope="col" class="num">{t('downloadsRows')}</th><th scope="col" class="num">{t('downloadsSize')}</th>
            <th scope="col">{t('downloadsSha')}</th><th scope="col"></th>
          </tr></thead>
          <tbody>{manifest.files.map((f) => (
            <tr key={f.name}>
              <td><code>{f.name}</code></td>
              <td class="num">{number(f.rows)}</td>
              <td class="num">{f.bytes >= 1e6 ? `${(f.bytes / 1e6).toFixed(1)} MB` : `${number(Math.ceil(f.bytes / 1e3))} kB`}</td>
              <td><code title={f.sha256}>{f.sha256.slice(0, 16)}…</code></td>
              <td><button type="button" onClick={() => void save(f.name).catch((e: Error) => setError(e.message))}>{t('downloadsGet')}</button></td>
            </tr>
          ))}</tbody>
        </table></div>
        {Object.entries(manifest.columns).map(([name, columns]) => (
          <article key={name}>
            <h3>{t('downloadsColumns', { name })}</h3>
            <div class="scroll"><table class="list">
              <thead><tr><th scope="col">{t('downloadsColumn')}</th><th scope="col">{t('downloadsType')}</th><th scope="col">{t('downloadsMeaning')}</th></tr></thead>
              <tbody>{columns.map((c) => (
                <tr key={c.name}><td><code>{c.name}</code></td><td>{c.type}</td><td>{locale === 'ja' ? c.ja : c.en}</td></tr>
              ))}</tbody>
            </table></div>
          </article>
        ))}
        <h3>{t('downloadsFreshness')}</h3>
        <div class="scroll"><table class="list">
          <thead><tr><th scope="col"></th><th scope="col">{t('downloadsLastPull')}</th><th scope="col" class="num">{t('downloadsAge')}</th></tr></thead>
          <tbody>{manifest.sources.filter((s) => s.last_successful_pull).map((s) => (
            <tr key={s.registry}><td>{s.registry}</td><td>{i18n.date(s.last_successful_pull)}</td><td class="num">{age(i18n, s.age_seconds)}</td></tr>
          ))}</tbody>
        </table></div>
      </>}
    </section>
  );
}
