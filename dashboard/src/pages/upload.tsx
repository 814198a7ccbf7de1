import { useState } from 'preact/hooks';
import { uploadFiles } from '../api.ts';
import { ErrorBox, Loaded, useQuery } from '../components/states.tsx';
import { useI18n } from '../i18n.ts';
import type { Viewer } from '../main.tsx';

// Upload (publishers): choose files, see the row errors or the committed batch, and the batch history.

type RowError = { locator: string; field: string | null; code: string; message: string };
type Batch = { id: string; status: string; source: string; connector: string; startedAt: string; private: boolean; counts: Record<string, number>; errors: RowError[] };
type Result = { upload: { accepted: boolean; failure: string | null; errors: RowError[]; batches: Batch[] } };

const UPLOAD = `mutation Upload($files: [Upload!]!, $private: Boolean) { upload(files: $files, private: $private) {
  accepted failure errors { locator field code message } batches { id status source connector startedAt private counts errors { locator field code message } } } }`;
const HISTORY = `query Batches { batches(kind: UPLOAD, first: 20) { nodes { id status source connector startedAt private counts errors { locator field code message } } } }`;

export function Upload({ viewer }: { viewer: Viewer | undefined }) {
  const { t, date, number } = useI18n();
  const [files, setFiles] = useState<File[]>([]);
  const [isPrivate, setPrivate] = useState(true);
  const [sending, setSending] = useState(false);
  const [result, setResult] = useState<Result['upload']>();
  const [error, setError] = useState<unknown>();
  const history = useQuery<{ batches: { nodes: Batch[] } }>(HISTORY, { result: result?.batches.map((b) => b.id).join() });
  const canUpload = viewer && (viewer.role === 'publisher' || viewer.role === 'admin') && viewer.organization;
  const send = async () => {
    setSending(true);
    setError(undefined);
    setResult(undefined);
    try {
      setResult((await uploadFiles<Result>(UPLOAD, files, { private: isPrivate })).upload);
    } catch (e) {
      setError(e);
    } finally {
      setSending(false);
    }
  };
  return (
    <section>
      <h1>{t('uploadTitle')}</h1>
      <p class="lead">{t('uploadLead')}</p>
      {!canUpload ? <p class="state">{t('uploadNeedsPublisher')}</p> : (
        <form class="upload" onSubmit={(e) => { e.preventDefault(); void send(); }}>
          <label>{t('files')}<input type="file" multiple accept=".csv,.xlsx,.json" onChange={(e) => setFiles([...((e.target as HTMLInputElement).files ?? [])])} /></label>
          <label class="check"><input type="checkbox" checked={isPrivate} onChange={(e) => setPrivate((e.target as HTMLInputElement).checked)} />{t('keepPrivate', { organization: viewer.organization!.name })}</label>
          <button type="submit" disabled={files.length === 0 || sending}>{sending ? t('sending') : t('send')}</button>
        </form>
      )}
      {error !== undefined && <ErrorBox error={error} />}
      {result && (
        <div class={result.accepted ? 'result ok' : 'result failed'} role="status" data-testid="upload-result">
          <p><strong>{result.accepted ? t('uploadAccepted') : t('uploadRejected')}</strong>{result.failure ? ` ${result.failure}` : ''}</p>
          {result.errors.length > 0 && (
            <div class="scroll"><table class="list" data-testid="upload-errors">
              <thead><tr><th scope="col">{t('where')}</th><th scope="col">{t('field')}</th><th scope="col">{t('problem')}</th></tr></thead>
              <tbody>{result.errors.map((e, i) => <tr key={i}><td>{e.locator}</td><td>{e.field ?? '–'}</td><td>{e.message}</td></tr>)}</tbody>
            </table></div>
          )}
        </div>
      )}
      <h2>{t('batchHistory')}</h2>
      <Loaded state={history}>{(data) => (
        <div class="scroll"><table class="list">
          <thead><tr><th scope="col">{t('batch')}</th><th scope="col">{t('file')}</th><th scope="col">{t('status')}</th><th scope="col">{t('when')}</th><th scope="col" class="num">{t('rows')}</th><th scope="col" class="num">{t('errors')}</th></tr></thead>
          <tbody>{data.batches.nodes.map((b) => (
            <tr key={b.id}><td>{b.id}{b.private ? ` · ${t('private')}` : ''}</td><td>{b.source}<br /><small>{b.connector}</small></td><td>{t(`batch_${b.status}` as never)}</td>
              <td>{date(b.startedAt)}</td><td class="num">{number(b.counts.rowsRead ?? 0)}</td><td class="num">{number(b.errors.length)}</td></tr>
          ))}</tbody>
        </table></div>
      )}</Loaded>
    </section>
  );
}
