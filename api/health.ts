import type { Request, Response } from 'express';
import { sql } from 'drizzle-orm';
import { migrationStatus, rows, type DatabaseHandle } from '../schema/database.ts';

/**
 * GET /health: 200 when the database answers and every migration is applied, 503 otherwise.
 * Load balancers and the README's start check read the status code; people read the body.
 */
export function healthHandler(handle: DatabaseHandle) {
  return async (_req: Request, res: Response) => {
    try {
      const [probe] = await rows<{ version: string }>(handle.db, sql`select current_setting('server_version') as version`);
      const migrations = await migrationStatus(handle.db);
      const ok = migrations.current;
      res.status(ok ? 200 : 503).json({
        status: ok ? 'ok' : 'migrations-pending',
        database: { kind: handle.kind, reachable: true, version: probe?.version },
        migrations,
      });
    } catch (error) {
      res.status(503).json({
        status: 'database-unreachable',
        database: { kind: handle.kind, reachable: false, error: (error as Error).message },
      });
    }
  };
}
