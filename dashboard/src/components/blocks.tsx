import { useI18n } from '../i18n.ts';

// A table of serial blocks: serial, quantity, vintage, status and Article 6 state.

export type BlockData = {
  id: string; serial: string | null; blockKey: string; quantity: number; vintageYear: number | null; status: { label: string };
  statusDate: string | null; retirementBeneficiary: string | null; article6Authorization: string | null;
  caDeclaration: { label: string } | null; caStatus: { label: string } | null; superseded: boolean;
};

export const BLOCK_FIELDS = `id serial blockKey quantity vintageYear status { label } statusDate retirementBeneficiary article6Authorization
  caDeclaration { label } caStatus { label } superseded`;

export function BlocksTable({ blocks }: { blocks: BlockData[] }) {
  const { t, tonnes, date } = useI18n();
  return (
    <div class="scroll">
      <table class="list">
        <thead><tr>
          <th scope="col">{t('serial')}</th><th scope="col" class="num">{t('quantity')}</th><th scope="col">{t('vintage')}</th>
          <th scope="col">{t('status')}</th><th scope="col">{t('article6')}</th>
        </tr></thead>
        <tbody>{blocks.map((b) => (
          <tr key={b.id}>
            <td class="serial">{b.serial ?? b.blockKey}{b.superseded ? <small> · {t('superseded')}</small> : null}</td>
            <td class="num">{tonnes(b.quantity)}</td>
            <td>{b.vintageYear ?? '–'}</td>
            <td>{b.status.label}{b.statusDate ? <small> · {date(b.statusDate)}</small> : null}{b.retirementBeneficiary ? <><br /><small>{b.retirementBeneficiary}</small></> : null}</td>
            <td>{b.article6Authorization ?? '–'}{b.caDeclaration ? <><br /><small>{t('caDeclaration')}: {b.caDeclaration.label}{b.caStatus ? ` · ${b.caStatus.label}` : ''}</small></> : null}</td>
          </tr>
        ))}</tbody>
      </table>
    </div>
  );
}

export type SourceData = { id: string; source: string; locator: string | null; contentHash: string; fetchedAt: string; batchId: string; batchDigest: string | null };
export const SOURCE_FIELDS = 'id source locator contentHash fetchedAt batchId batchDigest';

export function SourcesList({ sources }: { sources: SourceData[] }) {
  const { t, date } = useI18n();
  return (
    <ul class="sources">{sources.map((s) => (
      <li key={s.id}>
        <strong>{s.source}</strong>{s.locator ? ` · ${s.locator}` : ''} · {date(s.fetchedAt)} · {t('batch')} {s.batchId}
        <br /><small>SHA-256 <code>{s.contentHash}</code>{s.batchDigest ? <> · {t('batchDigest')} <code>{s.batchDigest.slice(0, 16)}…</code></> : null}</small>
      </li>
    ))}</ul>
  );
}
