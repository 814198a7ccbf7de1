import express from 'express';
import { eq } from 'drizzle-orm';
import { CadtExportError, cadtV1Workbook, exportCadt, type CadtExportFilter, type CadtFormat } from '../jobs/cadt-export.ts';
import type { ApiLimits } from '../schema/config.ts';
import { organizations } from '../schema/db/index.ts';
import type { DatabaseHandle } from '../schema/database.ts';
import { writerOf, type Viewer } from './auth.ts';

// Downloads of a ledger slice in CAD Trust form (jobs/cadt-export.ts), for feeding a CAD Trust node:
//
//   GET /export/cadt-v1.json   CAD Trust v1 tables as one JSON document
//   GET /export/cadt-v1.xlsx   the same tables as a workbook, one sheet per table
//   GET /export/cadt-v2.json   CAD Trust v2 records, one list per entity
//
// Filters as query parameters: registry, project, country (each repeatable or comma-separated), vintage
// (`2016` or `2016-2020`), status (unit status), organization (a publisher's slug: what it published).
// The caller's API key (as for GraphQL) decides what is visible: public rows, and its own organization's
// private ones. A slice larger than the API serves is refused with a request to narrow it.

/** Unit blocks one download may hold (the CLI has a larger limit). */
export const MAX_API_EXPORT_BLOCKS = 100_000;

const FILES: Record<string, { format: CadtFormat; workbook: boolean }> = {
  'cadt-v1.json': { format: 'cadt-v1', workbook: false },
  'cadt-v1.xlsx': { format: 'cadt-v1', workbook: true },
  'cadt-v2.json': { format: 'cadt-v2', workbook: false },
};

const refuse = (res: express.Response, status: number, message: string, code: string) =>
  void res.status(status).json({ errors: [{ message, extensions: { code } }] });

/** A query parameter's values: repeated (`?registry=a&registry=b`) or comma-separated (`?registry=a,b`). */
function values(query: express.Request['query'], name: string): string[] | undefined {
  const raw = query[name];
  const list = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).flatMap((v) => String(v).split(',')).map((v) => v.trim()).filter(Boolean);
  return list.length ? list : undefined;
}

export function exportRouter(handle: DatabaseHandle, limits: ApiLimits): express.Router {
  const router = express.Router();
  router.get('/:file', async (req, res, next) => {
    try {
      const file = FILES[req.params.file];
      if (!file) {
        refuse(res, 404, `no export "${req.params.file}": Tally serves ${Object.keys(FILES).map((f) => `/export/${f}`).join(', ')}`, 'NOT_FOUND');
        return;
      }
      // The caller was verified before the request got here (api/app.ts).
      const viewer = res.locals.viewer as Viewer;
      const db = await handle.forReads(viewer.apiKeyId === null ? limits.statementTimeoutMs.anonymous : limits.statementTimeoutMs.key, writerOf(viewer));
      const vintage = values(req.query, 'vintage')?.[0];
      const range = vintage?.match(/^(\d{4})(?:-(\d{4}))?$/);
      if (vintage && !range) return refuse(res, 400, `vintage: expected a year or a range of years (2016-2020), got "${vintage}"`, 'BAD_USER_INPUT');
      const filter: CadtExportFilter = {
        registries: values(req.query, 'registry'), projects: values(req.query, 'project'), countries: values(req.query, 'country')?.map((c) => c.toUpperCase()),
        statuses: values(req.query, 'status'), ...(range ? { vintageFrom: Number(range[1]), vintageTo: Number(range[2] ?? range[1]) } : {}),
      };
      const slug = values(req.query, 'organization')?.[0];
      if (slug) {
        const [org] = await db.select({ id: organizations.id }).from(organizations).where(eq(organizations.slug, slug));
        if (!org) return refuse(res, 400, `organization: no organization "${slug}"`, 'BAD_USER_INPUT');
        filter.organization = org.id;
      }
      const result = await exportCadt(db, file.format, filter, viewer.organizationId, MAX_API_EXPORT_BLOCKS);
      res.set('content-disposition', `attachment; filename="tally-${req.params.file}"`);
      res.set('cache-control', 'private, no-store');
      if (file.workbook && result.format === 'cadt-v1') {
        res.type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
        res.send(Buffer.from(await cadtV1Workbook(result.document).xlsx.writeBuffer()));
        return;
      }
      res.json(result.document);
    } catch (error) {
      if (error instanceof CadtExportError) return refuse(res, 400, error.message, 'BAD_USER_INPUT');
      next(error);
    }
  });
  return router;
}
