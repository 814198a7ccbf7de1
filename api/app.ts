import express from 'express';
import { rateLimit, ipKeyGenerator } from 'express-rate-limit';
import helmet from 'helmet';
import { dashboardRouter } from '../dashboard/serve.ts';
import { DEFAULT_API_LIMITS, type ApiLimits } from '../schema/config.ts';
import type { DatabaseHandle } from '../schema/database.ts';
import { tokenOf } from './auth.ts';
import { exportRouter } from './export.ts';
import { createGraphqlHandler } from './graphql/index.ts';
import { healthHandler } from './health.ts';
import { measureRequests, metricsHandler } from './metrics.ts';

/** JSON bodies larger than this are refused before parsing (uploads are multipart and limited per file). */
const MAX_JSON_BYTES = 256 * 1024;

/**
 * The HTTP application: the dashboard at /, the GraphQL API (with GraphiQL at GET /graphql), CAD Trust
 * downloads under /export, /health and /metrics, behind security headers, a request size limit and rate
 * limits per address and per API key.
 */
export function createApp(handle: DatabaseHandle, limits: ApiLimits = DEFAULT_API_LIMITS): express.Express {
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
  app.get('/metrics', metricsHandler);

  if (limits.rateLimitPerMinute > 0) {
    const refused = (_req: express.Request, res: express.Response) => {
      res.status(429).json({ errors: [{ message: `too many requests: at most ${limits.rateLimitPerMinute} a minute; retry after the time in the RateLimit header`, extensions: { code: 'RATE_LIMITED' } }] });
    };
    const keyOf = (req: express.Request) => tokenOf({ authorization: req.get('authorization'), apiKey: req.get('x-api-key') })?.slice(0, 16);
    const address = (req: express.Request) => ipKeyGenerator(req.ip ?? 'unknown');
    app.use(['/graphql', '/export'], rateLimit({
      windowMs: 60_000, limit: limits.rateLimitPerMinute, standardHeaders: 'draft-8', legacyHeaders: false, handler: refused,
      keyGenerator: (req) => keyOf(req) ?? `address:${address(req)}`,
    }));
    // However many keys one address holds, it gets a bounded share.
    app.use(['/graphql', '/export'], rateLimit({
      windowMs: 60_000, limit: limits.rateLimitPerMinute * 4, standardHeaders: false, legacyHeaders: false, handler: refused,
      keyGenerator: (req) => `address:${address(req)}`,
    }));
  }
  app.use('/graphql', (req, res, next) => {
    const length = Number(req.get('content-length') ?? 0);
    const multipart = /^multipart\/form-data/i.test(req.get('content-type') ?? '');
    const max = multipart ? limits.maxUploadBytes + MAX_JSON_BYTES : MAX_JSON_BYTES;
    if (length > max) {
      res.status(413).json({ errors: [{ message: `the request is ${length.toLocaleString('en-US')} bytes; at most ${max.toLocaleString('en-US')} are accepted`, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
      return;
    }
    next();
  });
  const graphql = createGraphqlHandler(handle.db, { maxUploadBytes: limits.maxUploadBytes });
  app.use('/graphql', graphql as unknown as express.RequestHandler);
  app.use('/export', exportRouter(handle.db));
  app.use(dashboardRouter());
  return app;
}
