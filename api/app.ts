import express from 'express';
import { rateLimit, ipKeyGenerator } from 'express-rate-limit';
import helmet from 'helmet';
import { dashboardRouter } from '../dashboard/serve.ts';
import { DEFAULT_API_LIMITS, type ApiLimits } from '../schema/config.ts';
import type { DatabaseHandle } from '../schema/database.ts';
import { authenticate, InvalidApiKey, tokenOf, type Viewer } from './auth.ts';
import { boundedBody } from './body.ts';
import { downloadsRouter } from './downloads.ts';
import { exportRouter } from './export.ts';
import { watchFreshness } from './freshness-metrics.ts';
import { createGraphqlHandler } from './graphql/index.ts';
import { healthHandler } from './health.ts';
import { measureRequests, metricsHandler } from './metrics.ts';
import { unitsRouter } from './units.ts';

/** The verified caller of a request to /graphql, /export, /data or /v1 (set by the authentication step below). */
export const viewerOf = (res: express.Response): Viewer => res.locals.viewer as Viewer;

const refuse = (res: express.Response, status: number, message: string, code: string) =>
  void res.status(status).json({ errors: [{ message, extensions: { code } }] });

/**
 * The HTTP application: the dashboard at /, the GraphQL API (with GraphiQL at GET /graphql), CAD Trust
 * downloads under /export, whole-dataset downloads under /data, a unit's provenance at /v1/units/{serial}, /health and /metrics, behind
 * security headers, request size limits, and rate limits per address and per verified API key.
 */
export function createApp(handle: DatabaseHandle, limits: ApiLimits = DEFAULT_API_LIMITS, downloadsDir?: string): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.use(helmet({
    contentSecurityPolicy: {
      directives: {
        // GraphiQL is one page of inline script and style served from here; nothing is loaded from elsewhere.
        'script-src': ["'self'", "'unsafe-inline'"],
        'style-src': ["'self'", "'unsafe-inline'"],
        'img-src': ["'self'", 'data:'],
        'connect-src': ["'self'"],
        // GraphiQL's editor runs its language service in workers it creates from blobs.
        'worker-src': ["'self'", 'blob:'],
      },
    },
  }));
  app.use(measureRequests);
  app.get('/health', healthHandler(handle));
  watchFreshness(handle.db);
  app.get('/metrics', metricsHandler);

  const api = ['/graphql', '/export', '/data', '/v1'];
  const address = (req: express.Request) => `address:${ipKeyGenerator(req.ip ?? 'unknown')}`;
  const perMinute = limits.rateLimitPerMinute;
  // However many keys one address holds, it gets a bounded share.
  if (perMinute > 0) app.use(api, rateLimiter(perMinute * 4, address, false));
  app.use(api, async (req, res, next) => {
    try {
      res.locals.viewer = await authenticate(handle.db, tokenOf({ authorization: req.get('authorization'), apiKey: req.get('x-api-key') }));
      res.locals.refusal = undefined;
    } catch (error) {
      if (!(error instanceof InvalidApiKey)) return next(error);
      res.locals.viewer = { role: 'anonymous', organizationId: null, apiKeyId: null } satisfies Viewer;
      res.locals.refusal = error.message;
    }
    next();
  });
  // A verified key has its own bucket; a caller without one, or whose key is refused, counts against its
  // address, never against the bucket of a key it merely names.
  if (perMinute > 0) {
    app.use(api, rateLimiter(perMinute, (req, res) => {
      const { apiKeyId } = viewerOf(res);
      return apiKeyId !== null ? `key:${apiKeyId}` : address(req);
    }));
  }
  app.use(api, (_req, res, next) => (res.locals.refusal ? refuse(res, 401, res.locals.refusal as string, 'UNAUTHENTICATED') : next()));
  app.use('/graphql', boundedBody(limits.maxUploadBytes));
  const graphql = createGraphqlHandler(handle, limits);
  app.use('/graphql', graphql as unknown as express.RequestHandler);
  app.use('/export', exportRouter(handle, limits));
  app.use('/data', downloadsRouter(handle, limits, downloadsDir));
  app.use('/v1', unitsRouter(graphql));
  app.use(dashboardRouter());
  return app;

  function rateLimiter(limit: number, keyGenerator: (req: express.Request, res: express.Response) => string, headers = true) {
    return rateLimit({
      windowMs: 60_000, limit, standardHeaders: headers ? 'draft-8' : false, legacyHeaders: false, keyGenerator,
      handler: (_req, res) => refuse(res, 429, `too many requests: at most ${perMinute} a minute; retry after the time in the RateLimit header`, 'RATE_LIMITED'),
    });
  }
}
