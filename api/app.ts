import express from 'express';
import type { DatabaseHandle } from '../schema/database.ts';
import { healthHandler } from './health.ts';

/** The HTTP application: everything Tally serves, over one database. */
export function createApp(handle: DatabaseHandle): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/health', healthHandler(handle));
  return app;
}
