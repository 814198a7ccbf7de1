import { basename } from 'node:path';
import type { RowError } from '../connectors/types.ts';
import { isAefFile } from '../connectors/article6/aef.ts';
import type { Database } from '../schema/database.ts';
import { AefRejected, ingestAef, type AefSummary } from './article6/aef-upload.ts';
import { BatchRejected, type IngestSummary } from './ingest.ts';
import { ingestFile, type FileIngestOptions } from './ingest-file.ts';

// One upload of several files, as `tally ingest` and the API's upload mutation receive it: the tables
// of an AEF submission are one upload (one batch), every other file is a batch of its own. Each
// outcome says what was stored or why nothing was.

export type FileOutcome =
  | { files: string[]; kind: 'aef'; summary: AefSummary; accepted: boolean; failure?: string }
  | { files: string[]; kind: 'ledger'; summary: IngestSummary & { format?: string }; accepted: boolean; failure?: string }
  | { files: string[]; kind: 'unread'; accepted: false; failure: string };

export type FilesOptions = FileIngestOptions & {
  /** Called before each plain file with its name, for progress displays. */
  onFile?(path: string): void;
};

export async function ingestFiles(db: Database, paths: string[], options: FilesOptions = {}): Promise<FileOutcome[]> {
  const outcomes: FileOutcome[] = [];
  const aef: string[] = [];
  for (const path of paths) if (await isAefFile(path).catch(() => false)) aef.push(path);
  if (aef.length > 0) {
    const files = aef.map((p) => basename(p));
    try {
      const summary = await ingestAef(db, aef, { ownerOrganizationId: options.ownerOrganizationId, isPrivate: options.isPrivate, apiKeyId: options.apiKeyId });
      outcomes.push({ files, kind: 'aef', summary, accepted: true });
    } catch (error) {
      if (error instanceof AefRejected) outcomes.push({ files, kind: 'aef', summary: error.summary, accepted: false, failure: error.message });
      else outcomes.push({ files, kind: 'unread', accepted: false, failure: (error as Error).message });
    }
  }
  for (const path of paths.filter((p) => !aef.includes(p))) {
    const files = [basename(path)];
    options.onFile?.(path);
    try {
      const summary = await ingestFile(db, path, options);
      outcomes.push({ files, kind: 'ledger', summary, accepted: true });
    } catch (error) {
      if (error instanceof BatchRejected) outcomes.push({ files, kind: 'ledger', summary: error.summary, accepted: false, failure: error.message });
      else outcomes.push({ files, kind: 'unread', accepted: false, failure: (error as Error).message });
    }
  }
  return outcomes;
}

/** Every row-level error of an outcome. */
export function outcomeErrors(outcome: FileOutcome): RowError[] {
  return outcome.kind === 'unread' ? [] : outcome.summary.errors;
}
