import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ingestFiles, outcomeErrors } from '../../jobs/ingest-files.ts';
import { refuse, requireWriter, type Context } from './context.ts';

// Uploads (DESIGN §1, governments and publishers): the files `tally ingest` reads, sent as a GraphQL
// multipart request, stored for the key's organization. Files are written to a private temporary
// folder under their own base names (never a path the sender chose), one folder each, and removed afterwards.

export const MAX_UPLOAD_FILES = 10;
/** The longest file name an upload keeps (in characters, and in bytes as a file system stores it). */
export const MAX_FILE_NAME = 200;
const MAX_FILE_NAME_BYTES = 255;

export const uploadResolvers = {
  Mutation: {
    async upload(_: unknown, args: { files: File[]; registry?: string | null; format?: string | null; private: boolean; preview: boolean }, context: Context) {
      const organizationId = requireWriter(context);
      if (args.files.length === 0) refuse('files: send at least one file', 'BAD_USER_INPUT');
      if (args.files.length > MAX_UPLOAD_FILES) refuse(`files: at most ${MAX_UPLOAD_FILES} files per upload`, 'BAD_USER_INPUT');
      for (const file of args.files) {
        const name = file.name ?? '';
        if (name.length > MAX_FILE_NAME || Buffer.byteLength(name) > MAX_FILE_NAME_BYTES) {
          refuse(`files: the file name "${name.slice(0, 40)}…" is ${name.length} characters long; at most ${MAX_FILE_NAME} (and ${MAX_FILE_NAME_BYTES} bytes) are accepted`, 'BAD_USER_INPUT');
        }
      }
      const dir = await mkdtemp(join(tmpdir(), 'tally-upload-'));
      try {
        const paths: string[] = [];
        for (const [i, file] of args.files.entries()) {
          const name = basename(file.name || `file-${i + 1}`).replace(/[^\p{L}\p{N}._ -]/gu, '_') || `file-${i + 1}`;
          // One folder per file, so two files of the same name stay apart and messages name the sender's file.
          await mkdir(join(dir, String(i + 1)));
          const path = join(dir, String(i + 1), name);
          await writeFile(path, Buffer.from(await file.arrayBuffer()));
          paths.push(path);
        }
        const outcomes = await ingestFiles(context.writer, paths, {
          registry: args.registry ?? undefined, format: args.format ?? undefined, ownerOrganizationId: organizationId, isPrivate: args.private, apiKeyId: context.viewer.apiKeyId ?? undefined,
          preview: args.preview,
        });
        const batchIds = outcomes.flatMap((o) => (o.kind === 'unread' || o.summary.status === 'preview' ? [] : [o.summary.batchId]));
        const batches = (await context.loaders.batch.loadMany(batchIds)).filter((b) => b && !(b instanceof Error));
        const unread = outcomes.filter((o) => o.kind === 'unread');
        return {
          accepted: outcomes.every((o) => o.accepted),
          preview: args.preview,
          files: outcomes.map((o) => ({
            files: o.files,
            format: o.kind === 'aef' ? 'article6-aef' : o.kind === 'ledger' ? o.format : null,
            accepted: o.accepted,
            rowsRead: o.kind === 'unread' ? 0 : o.summary.rowsRead,
            counts: o.kind === 'unread' ? {} : o.kind === 'aef' ? o.summary.tables
              : { projects: o.summary.projects, issuances: o.summary.issuances, blocks: o.summary.blocks, labels: o.summary.labels, mirrors: o.summary.mirrors, events: o.summary.events },
            errors: outcomeErrors(o),
            failure: o.accepted ? null : o.failure,
          })),
          batches,
          errors: outcomes.flatMap((o) => outcomeErrors(o)),
          failure: unread.length ? unread.map((o) => `${o.files.join(', ')}: ${o.failure}`).join('\n') : outcomes.find((o) => !o.accepted)?.failure ?? null,
        };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  },
};
