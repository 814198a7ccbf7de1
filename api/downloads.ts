import { mkdtempSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { sql } from 'drizzle-orm';
import { DOWNLOAD_FILES, DownloadCache } from '../jobs/downloads.ts';
import type { ApiLimits } from '../schema/config.ts';
import { rows, type DatabaseHandle } from '../schema/database.ts';
import { writerOf, type Viewer } from './auth.ts';
import { unchanged } from './units.ts';

// Whole-dataset downloads (jobs/downloads.ts):
//
//   GET /data/projects.csv, /data/projects.parquet   one row per project
//   GET /data/credits.csv, /data/credits.parquet     one row per transaction
//   GET /data/manifest.json                          when, how fresh, what each file and column holds
//
// Anonymous callers get the public rows; a key also gets its organization's private rows, never
// another's. The files of a ledger version are written once per viewer and served from disk until a
// batch commits; each answer's ETag is the file's SHA-256, so an unchanged file is never sent twice.

const TYPES: Record<string, string> = { csv: 'text/csv; charset=utf-8', parquet: 'application/vnd.apache.parquet', json: 'application/json; charset=utf-8' };

export function downloadsRouter(handle: DatabaseHandle, limits: ApiLimits, dir?: string): express.Router {
  const cache = new DownloadCache(dir ?? mkdtempSync(join(tmpdir(), 'tally-downloads-')));
  const router = express.Router();
  router.get('/:file', async (req, res, next) => {
    try {
      const name = req.params.file;
      if (name !== 'manifest.json' && !DOWNLOAD_FILES.includes(name)) {
        return void res.status(404).json({ errors: [{ message: `no file "${name}": Tally serves ${['manifest.json', ...DOWNLOAD_FILES].map((f) => `/data/${f}`).join(', ')}`, extensions: { code: 'NOT_FOUND' } }] });
      }
      const viewer = res.locals.viewer as Viewer;
      const db = await handle.forReads(viewer.apiKeyId === null ? limits.statementTimeoutMs.anonymous : limits.statementTimeoutMs.key, writerOf(viewer));
      const [organization] = viewer.organizationId === null ? [] : await rows<{ slug: string }>(db, sql`select slug from organizations where id = ${viewer.organizationId}`);
      const { dir: folder, manifest } = await cache.current(db, { organizationId: viewer.organizationId, organization: organization?.slug ?? null });
      const path = join(folder, name);
      const sha256 = name === 'manifest.json' ? createHash('sha256').update(await readFile(path)).digest('hex') : manifest.files.find((f) => f.name === name)!.sha256;
      const etag = `"${sha256}"`;
      const modified = new Date(manifest.generated_at);
      res.set({ etag, 'last-modified': modified.toUTCString(), 'cache-control': viewer.organizationId === null ? 'public, no-cache' : 'private, no-cache', vary: 'Authorization, X-Api-Key' });
      if (unchanged(req, etag, modified)) return void res.status(304).end();
      res.type(TYPES[name.split('.').pop()!]!);
      if (name !== 'manifest.json') res.set('content-disposition', `attachment; filename="tally-${name}"`);
      res.sendFile(path, { etag: false, lastModified: false, cacheControl: false, acceptRanges: false }, (error) => {
        if (error && !res.headersSent) next(error);
      });
    } catch (error) {
      next(error);
    }
  });
  return router;
}
