import { basename } from 'node:path';
import type { RowError } from '../connectors/types.ts';
import { isAefFile } from '../connectors/article6/aef.ts';
import { isCadtFile } from '../connectors/cad-trust/v1.ts';
import { isCadtV2File } from '../connectors/cad-trust/v2.ts';
import type { Database } from '../schema/database.ts';
import { AefRejected, ingestAef, type AefSummary } from './article6/aef-upload.ts';
import { CADT_CONNECTOR, CADT_V2_CONNECTOR, ingestCadt, ingestCadtV2 } from './cadt-upload.ts';
import { BatchRejected, type IngestSummary } from './ingest.ts';
import { detectFileFormat, ingestFile, type FileIngestOptions } from './ingest-file.ts';

// One upload of several files, as `tally ingest` and the API's upload mutation receive it. The tables
// of an AEF submission are one upload (one batch), and so are the sheets or files of a CAD Trust v1
// template, and the JSON files of CAD Trust v2 records; every other file is a batch of its own. Each outcome says what was stored or why nothing was.

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

export async function ingestFiles(db: Database, paths: string[], options: FilesOptions = {}): Promise<FileOutcome[]> {
  const outcomes: FileOutcome[] = [];
  const report = (outcome: FileOutcome) => {
    outcomes.push(outcome);
    options.onOutcome?.(outcome);
  };
  const ownership = { ownerOrganizationId: options.ownerOrganizationId, isPrivate: options.isPrivate, apiKeyId: options.apiKeyId, preview: options.preview };
  const names = (list: string[]) => list.map((p) => basename(p));

  const aef: string[] = [];
  for (const path of paths) if (await isAefFile(path).catch(() => false)) aef.push(path);
  if (aef.length > 0) {
    try {
      report({ files: names(aef), kind: 'aef', summary: await ingestAef(db, aef, ownership), accepted: true });
    } catch (error) {
      if (error instanceof AefRejected) report({ files: names(aef), kind: 'aef', summary: error.summary, accepted: false, failure: error.message });
      else report({ files: names(aef), kind: 'unread', accepted: false, failure: (error as Error).message });
    }
  }

  const cadt: string[] = [];
  for (const path of paths.filter((p) => !aef.includes(p))) if (await isCadtFile(path).catch(() => false)) cadt.push(path);
  if (cadt.length > 0) {
    try {
      report({ files: names(cadt), kind: 'ledger', format: CADT_CONNECTOR, summary: await ingestCadt(db, cadt, { ...ownership, check: options.check }), accepted: true });
    } catch (error) {
      if (error instanceof BatchRejected) report({ files: names(cadt), kind: 'ledger', format: CADT_CONNECTOR, summary: error.summary, accepted: false, failure: error.message });
      else report({ files: names(cadt), kind: 'unread', accepted: false, failure: (error as Error).message });
    }
  }

  const cadtV2: string[] = [];
  for (const path of paths.filter((p) => !aef.includes(p) && !cadt.includes(p))) if (await isCadtV2File(path).catch(() => false)) cadtV2.push(path);
  if (cadtV2.length > 0) {
    try {
      report({ files: names(cadtV2), kind: 'ledger', format: CADT_V2_CONNECTOR, summary: await ingestCadtV2(db, cadtV2, { ...ownership, check: options.check }), accepted: true });
    } catch (error) {
      if (error instanceof BatchRejected) report({ files: names(cadtV2), kind: 'ledger', format: CADT_V2_CONNECTOR, summary: error.summary, accepted: false, failure: error.message });
      else report({ files: names(cadtV2), kind: 'unread', accepted: false, failure: (error as Error).message });
    }
  }

  for (const path of paths.filter((p) => !aef.includes(p) && !cadt.includes(p) && !cadtV2.includes(p))) {
    const files = [basename(path)];
    // Spreadsheets and CSV files are recognised before reading starts, so a file that is no known export
    // gets its explanation alone; JSON is recognised from its first record inside ingestFile.
    let format = 'json';
    if (!/\.json$/i.test(path)) {
      try {
        format = (await detectFileFormat(path, options.registry, options.sheet)).id;
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
