import { basename } from 'node:path';
import type { RowError } from '../connectors/types.ts';
import { uploadFormats } from '../connectors/index.ts';
import type { UploadFormat } from '../connectors/types.ts';
import type { Database } from '../schema/database.ts';
import { AefRejected, ingestAef, type AefSummary } from './article6/aef-upload.ts';
import { CADT_CONNECTOR, CADT_V2_CONNECTOR, ingestCadt, ingestCadtV2 } from './cadt-upload.ts';
import { BatchRejected, type IngestSummary } from './ingest.ts';
import { detectFileFormat, ingestFile, type FileIngestOptions } from './ingest-file.ts';

// One upload of several files, as `tally ingest` and the API's upload mutation receive it. The files an
// upload format recognises (connectors/index.ts: an AEF submission's tables, a CAD Trust v1 template,
// CAD Trust v2 records) are one upload and one batch; every other file is a batch of its own. Each
// outcome says what was stored or why nothing was.

export type FileOutcome =
  | { files: string[]; kind: 'aef'; summary: AefSummary; accepted: boolean; failure?: string }
  | { files: string[]; kind: 'ledger'; format: string; summary: IngestSummary; accepted: boolean; failure?: string }
  | { files: string[]; kind: 'unread'; accepted: false; failure: string };

export type FilesOptions = Omit<FileIngestOptions, 'onBytes' | 'onProgress'> & {
  /** Progress listeners for one registry export, once its format is known (a CLI progress bar). */
  progressFor?(path: string): { onBytes(bytes: number): void; onProgress(p: { rowsRead: number }): void; done(): void } | undefined;
  /** Each outcome as it comes, for output that keeps pace with a long upload. */
  onOutcome?(outcome: FileOutcome): void;
};

type UploadOptions = Omit<FilesOptions, 'progressFor' | 'onOutcome'>;

/** The job of each upload format (connectors/index.ts `uploadFormats`): its files together, as one batch. */
const UPLOAD_JOBS: Record<UploadFormat['id'], (db: Database, paths: string[], options: UploadOptions) => Promise<FileOutcome>> = {
  'article6-aef': async (db, paths, options) => {
    const files = paths.map((p) => basename(p));
    try {
      return { files, kind: 'aef', summary: await ingestAef(db, paths, options), accepted: true };
    } catch (error) {
      if (error instanceof AefRejected) return { files, kind: 'aef', summary: error.summary, accepted: false, failure: error.message };
      return { files, kind: 'unread', accepted: false, failure: (error as Error).message };
    }
  },
  'cadt-v1': (db, paths, options) => ledgerOutcome(paths, CADT_CONNECTOR, () => ingestCadt(db, paths, options)),
  'cadt-v2': (db, paths, options) => ledgerOutcome(paths, CADT_V2_CONNECTOR, () => ingestCadtV2(db, paths, options)),
};

async function ledgerOutcome(paths: string[], format: string, run: () => Promise<IngestSummary>): Promise<FileOutcome> {
  const files = paths.map((p) => basename(p));
  try {
    return { files, kind: 'ledger', format, summary: await run(), accepted: true };
  } catch (error) {
    if (error instanceof BatchRejected) return { files, kind: 'ledger', format, summary: error.summary, accepted: false, failure: error.message };
    return { files, kind: 'unread', accepted: false, failure: (error as Error).message };
  }
}

export async function ingestFiles(db: Database, paths: string[], options: FilesOptions = {}): Promise<FileOutcome[]> {
  const outcomes: FileOutcome[] = [];
  const report = (outcome: FileOutcome) => {
    outcomes.push(outcome);
    options.onOutcome?.(outcome);
  };
  const { ownerOrganizationId, isPrivate, apiKeyId, preview, check } = options;
  const uploadOptions = { ownerOrganizationId, isPrivate, apiKeyId, preview, check };
  // The files of each upload format are one upload; what none of them recognises is a single export.
  let remaining = paths;
  for (const format of uploadFormats) {
    const mine: string[] = [];
    for (const path of remaining) if (await format.recognises(path).catch(() => false)) mine.push(path);
    if (mine.length === 0) continue;
    report(await UPLOAD_JOBS[format.id](db, mine, uploadOptions));
    remaining = remaining.filter((p) => !mine.includes(p));
  }

  for (const path of remaining) {
    const files = [basename(path)];
    // Spreadsheets and CSV files are recognised before reading starts, so a file that is no known export
    // gets its explanation alone; JSON is recognised from its first record inside ingestFile.
    let format = 'json';
    if (!/\.json$/i.test(path)) {
      try {
        format = (await detectFileFormat(path, { registry: options.registry, format: options.format }, options.sheet)).format.id;
      } catch (error) {
        report({ files, kind: 'unread', accepted: false, failure: (error as Error).message });
        continue;
      }
    }
    const progress = options.progressFor?.(path);
    try {
      const summary = await ingestFile(db, path, { ...options, onBytes: progress?.onBytes, onProgress: progress?.onProgress });
      progress?.done();
      report({ files, kind: 'ledger', format: summary.format, summary, accepted: true });
    } catch (error) {
      progress?.done();
      if (error instanceof BatchRejected) report({ files, kind: 'ledger', format, summary: error.summary, accepted: false, failure: error.message });
      else report({ files, kind: 'unread', accepted: false, failure: (error as Error).message });
    }
  }
  return outcomes;
}

/** Every row-level error of an outcome. */
export function outcomeErrors(outcome: FileOutcome): RowError[] {
  return outcome.kind === 'unread' ? [] : outcome.summary.errors;
}
