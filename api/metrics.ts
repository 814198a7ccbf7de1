import type { NextFunction, Request, Response } from 'express';
import { Counter, Histogram, collectDefaultMetrics, Registry } from 'prom-client';

// Prometheus metrics (prom-client) at GET /metrics: the process's own (CPU, memory, event loop lag),
// HTTP request durations by route and status, and GraphQL operations by outcome; each registry's
// freshness is added by api/freshness-metrics.ts.

export const metrics = new Registry();
collectDefaultMetrics({ register: metrics, prefix: 'tally_' });

const requestDuration = new Histogram({
  name: 'tally_http_request_duration_seconds',
  help: 'HTTP requests by method, route and status code',
  labelNames: ['method', 'route', 'status'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
  registers: [metrics],
});

export const graphqlOperations = new Counter({
  name: 'tally_graphql_operations_total',
  help: 'GraphQL operations executed, by operation name and outcome',
  labelNames: ['operation', 'outcome'] as const,
  registers: [metrics],
});

const ROUTES = ['/graphql', '/health', '/metrics'];

export function measureRequests(req: Request, res: Response, next: NextFunction): void {
  const stop = requestDuration.startTimer();
  res.on('finish', () => {
    const route = ROUTES.find((r) => req.path === r) ?? 'other';
    stop({ method: req.method, route, status: String(res.statusCode) });
  });
  next();
}

export async function metricsHandler(_req: Request, res: Response): Promise<void> {
  res.set('Content-Type', metrics.contentType).send(await metrics.metrics());
}
