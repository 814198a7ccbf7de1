import { useI18n, type Key } from '../i18n.ts';
import { age } from './downloads.tsx';

// A registry's freshness on the Sources page (jobs/freshness.ts, through `registries { freshness }`): its
// status as a coloured word a person reads at a glance, what the status means in its tooltip, and
// beneath it what is flagged (a pull smaller than the one before, a registry not answering) and the
// records the latest pull no longer lists.

export type Freshness = {
  status: string; flags: string[]; schedule: string | null; ageSeconds: number | null; dueAt: string | null; consecutiveFailures: number;
  change: { rows: number | null; tonnes: number | null; issuedTonnes: number | null } | null;
  missingRecords: { count: number; sample: string[] } | null; lastBatch: { id: string } | null;
};

export const FRESHNESS_FIELDS = `freshness { status flags schedule ageSeconds dueAt consecutiveFailures
  change { rows tonnes issuedTonnes } missingRecords { count sample } lastBatch { id } }`;

/** The larger fall of the two tonnes figures (in blocks, in issuances), or the one there is. */
function tonnesChange(change: Freshness['change']): number | null {
  const known = [change?.tonnes, change?.issuedTonnes].filter((c): c is number => typeof c === 'number');
  return known.length === 0 ? null : Math.min(...known);
}

export function FreshnessStatus({ freshness: f }: { freshness: Freshness }) {
  const i18n = useI18n();
  const { t, date } = i18n;
  const status = f.status.toLowerCase();
  const percent = new Intl.NumberFormat(i18n.locale === 'ja' ? 'ja-JP' : 'en-US', { style: 'percent', maximumFractionDigits: 1, signDisplay: 'exceptZero' });
  const share = (n: number | null) => (n === null ? '–' : percent.format(n));
  const missing = f.missingRecords;
  // A registry nobody pulls and nobody uploaded has nothing to be fresh about.
  if (status === 'unscheduled' && !f.lastBatch) return <>–</>;
  return (
    <div class="freshness-cell">
      <span class={`freshness freshness-${status}`} data-status={status} title={t(`freshnessHelp_${status}` as Key, { due: date(f.dueAt) })}>{t(`freshness_${status}` as Key)}</span>
      {f.ageSeconds !== null ? <small> {t('freshnessPulled', { age: age(i18n, f.ageSeconds) })}</small> : null}
      {f.schedule ? <div><small class="count">{t('freshnessSchedule', { schedule: f.schedule })}</small></div> : null}
      {f.flags.map((flag) => (
        <div key={flag} class="error-text" data-flag={flag}><small>{flag === 'SHRANK'
          ? t('freshnessFlag_shrank', { rows: share(f.change?.rows ?? null), tonnes: share(tonnesChange(f.change)) })
          : t('freshnessFlag_not_answering', { count: f.consecutiveFailures })}</small></div>
      ))}
      {missing && missing.count > 0 ? (
        <div><small>{t('freshnessMissing', { count: missing.count, sample: `${missing.sample.join(', ')}${missing.count > missing.sample.length ? ', …' : ''}` })}</small></div>
      ) : null}
    </div>
  );
}
