import { useI18n } from '../i18n.ts';

// What other sources than the units' registry report of them (README, "Sources of record and mirrors"):
// each source with its own values, whether the registry's record holds the same units, and where the
// two disagree. Never counted as tonnes.

export const MIRROR_FIELDS = 'reportedBy registry key project numberSpace serialStart serialEnd quantity status { code label } statusDate vintageYear matchedBy unitsOfRecord projectsOfRecord disagreements';

export type MirrorData = {
  reportedBy: string; registry: string; key: string; project: string | null; numberSpace: string | null; serialStart: number | null; serialEnd: number | null;
  quantity: number; status: { code: string; label: string }; statusDate: string | null; vintageYear: number | null;
  matchedBy: string | null; unitsOfRecord: number; projectsOfRecord: string[]; disagreements: string[];
};

export function MirrorReports({ reports }: { reports: MirrorData[] }) {
  const { t, tonnes, date } = useI18n();
  if (reports.length === 0) return null;
  return (
    <>
      <h2>{t('reportedByTitle')}</h2>
      <p class="lead">{t('reportedByLead')}</p>
      <div class="table-wrap"><table data-testid="mirror-reports">
        <thead><tr><th>{t('reportedBySource')}</th><th>{t('project')}</th><th>{t('quantity')}</th><th>{t('status')}</th><th>{t('vintage')}</th><th>{t('reportedByRecord')}</th></tr></thead>
        <tbody>{reports.map((m) => (
          <tr key={`${m.reportedBy}|${m.key}`}>
            <td>{m.reportedBy}</td>
            <td>{m.project ?? '–'}</td>
            <td>{tonnes(m.quantity)}{m.serialStart !== null ? <small> · {m.numberSpace} {m.serialStart}–{m.serialEnd}</small> : null}</td>
            <td>{m.status.label}{m.statusDate ? ` · ${date(m.statusDate)}` : ''}</td>
            <td>{m.vintageYear ?? '–'}</td>
            <td data-testid="mirror-match">{m.matchedBy === null ? t('reportedOnlyBy', { source: m.reportedBy })
              : m.disagreements.length === 0 ? t('reportedAgrees', { registry: m.registry, projects: m.projectsOfRecord.join(', ') })
                : <>{t('reportedDisagrees', { registry: m.registry })}<ul>{m.disagreements.map((d) => <li key={d}>{d}</li>)}</ul></>}</td>
          </tr>
        ))}</tbody>
      </table></div>
    </>
  );
}
