import { createHash } from 'node:crypto';
import express from 'express';
import { buildDashboard, type DashboardBundle } from './build.ts';

// GET / serves the dashboard page; its script and stylesheet come from /assets. The bundle is built
// once, on the first request, and kept; ETags let browsers keep it too.

export function dashboardRouter(): express.Router {
  const router = express.Router();
  let bundle: Promise<DashboardBundle> | undefined;
  const load = () => (bundle ??= buildDashboard());
  const send = (type: string, pick: (b: DashboardBundle) => string) => async (req: express.Request, res: express.Response) => {
    const body = pick(await load());
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
    res.set({ 'Content-Type': type, ETag: etag, 'Cache-Control': 'no-cache' });
    if (req.get('if-none-match') === etag) res.status(304).end();
    else res.send(body);
  };
  router.get('/', send('text/html; charset=utf-8', (b) => b.html));
  router.get('/assets/app.js', send('text/javascript; charset=utf-8', (b) => b.js));
  router.get('/assets/app.css', send('text/css; charset=utf-8', (b) => b.css));
  return router;
}
