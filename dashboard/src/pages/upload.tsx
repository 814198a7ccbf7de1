import { useState } from 'preact/hooks';
import { uploadFiles } from '../api.ts';
import { ErrorBox, Loaded, useQuery } from '../components/states.tsx';
import { useI18n, type Key } from '../i18n.ts';
import { en } from '../messages/en.ts';
import type { Viewer } from '../main.tsx';

// Upload (publishers): choose files, check them (a preview: counted, nothing kept), see the row errors or
// what would be stored, confirm to store them, and the batch history.

type RowError = { locator: string; field: string | null; code: string; message: string };
type Batch = { id: string; status: string; source: string; connector: string; startedAt: string; private: boolean; counts: Record<string, number>; errors: RowError[] };
type Tally = { new: number; changed: number; unchanged: number };
type Uploaded = { files: string[]; format: string | null; accepted: boolean; rowsRead: number; counts: Record<string, Tally>; failure: string | null };
type Result = { upload: { accepted: boolean; preview: boolean; failure: string | null; errors: RowError[]; files: Uploaded[]; batches: Batch[] } };

const UPLOAD = `mutation Upload($files: [Upload!]!, $private: Boolean, $preview: Boolean) { upload(files: $files, private: $private, preview: $preview) {
  accepted preview failure errors { locator field code message } files { files format accepted rowsRead counts failure }
  batches { id status source connector startedAt private counts errors { locator field code message } } } }`;
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
  const send = async (preview: boolean) => {
    setSending(true);
    setError(undefined);
    setResult(undefined);
    try {
      setResult((await uploadFiles<Result>(UPLOAD, files, { private: isPrivate, preview })).upload);
    } catch (e) {
      setError(e);
    } finally {
      setSending(false);
    }
  };
  // Storing is confirmed after a check of the same files found nothing wrong.
  const checked = result?.preview && result.accepted;
  return (
    <section>
      <h1>{t('uploadTitle')}</h1>
      <p class="lead">{t('uploadLead')}</p>
      {!canUpload ? <p class="state">{t('uploadNeedsPublisher')}</p> : (
        <form class="upload" onSubmit={(e) => { e.preventDefault(); void send(true); }}>
          <label>{t('files')}<input type="file" multiple accept=".csv,.xlsx,.json" onChange={(e) => { setFiles([...((e.target as HTMLInputElement).files ?? [])]); setResult(undefined); }} /></label>
          <label class="check"><input type="checkbox" checked={isPrivate} onChange={(e) => { setPrivate((e.target as HTMLInputElement).checked); setResult(undefined); }} />{t('keepPrivate', { organization: viewer.organization!.name })}</label>
          <button type="submit" data-testid="check-upload" disabled={files.length === 0 || sending}>{sending ? t('sending') : t('check')}</button>
          <button type="button" data-testid="store-upload" disabled={!checked || sending} onClick={() => void send(false)}>{t('store')}</button>
        </form>
      )}
      {error !== undefined && <ErrorBox error={error} />}
      {result && (
        <div class={result.accepted ? 'result ok' : 'result failed'} role="status" data-testid="upload-result">
          <p><strong>{result.preview ? (result.accepted ? t('previewAccepted') : t('previewRejected')) : result.accepted ? t('uploadAccepted') : t('uploadRejected')}</strong>{result.failure ? ` ${result.failure}` : ''}</p>
          <ul>{result.files.map((f) => (
            <li key={f.files.join()}>{f.files.join(', ')}{f.format ? <small> · {f.format}</small> : null}: {t('rowsRead', { n: number(f.rowsRead) })}
              {Object.entries(f.counts).filter(([, c]) => c.new + c.changed + c.unchanged > 0).map(([kind, c]) => (
                <span key={kind}> · {`count_${kind}` in en ? t(`count_${kind}` as Key) : kind}: {t('countsLine', { new: number(c.new), changed: number(c.changed), unchanged: number(c.unchanged) })}</span>
              ))}</li>
          ))}</ul>
          {result.batches.length > 0 && <p>{t('storedAs', { batches: result.batches.map((b) => b.id).join(', ') })}</p>}
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
