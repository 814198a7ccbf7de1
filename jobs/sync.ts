import { sql } from 'drizzle-orm';
import { connectors } from '../connectors/index.ts';
import { HttpClient } from '../connectors/runtime/http.ts';
import { reconcile } from '../connectors/runtime/paging.ts';
import type { Connector, RawRecord } from '../connectors/types.ts';
import type { Database } from '../schema/database.ts';
import { ingest, BatchRejected, type IngestOptions, type IngestSummary } from './ingest.ts';
import type { StatedInput } from './stated-totals.ts';

// `tally sync <registry>`: pulls every stream of a connector's API as one batch. After each stream
// the number of records received is reconciled with the registry's own total; a shortfall fails the
// batch and nothing is stored. The outcome is kept in connector_state for the scheduler and the API.

export function apiConnector(registry: string): Connector & { api: NonNullable<Connector['api']> } {
  const connector = connectors.find((c) => c.registry.id === registry);
  if (!connector) throw new Error(`no connector for "${registry}"; known: ${connectors.map((c) => c.registry.id).join(', ')}`);
  if (!connector.api) {
    const withApi = connectors.filter((c) => c.api).map((c) => c.registry.id);
    throw new Error(`${registry} has no API mode (file mode only: use tally ingest); registries with an API: ${withApi.join(', ')}`);
  }
  return connector as Connector & { api: NonNullable<Connector['api']> };
}

/** The connector's configuration: its defaults, then the values given (from the sources file or a test). */
export function sourceConfig(connector: Connector & { api: NonNullable<Connector['api']> }, given: unknown = {}): unknown {
  const parsed = connector.api.config.safeParse(given ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`).join('; ');
    throw new Error(`${connector.registry.id} configuration is invalid: ${problems}`);
  }
  return parsed.data;
}

export type SyncOptions = IngestOptions & { config?: unknown };

export async function syncSource(db: Database, registry: string, options: SyncOptions = {}): Promise<IngestSummary> {
  const connector = apiConnector(registry);
  const config = sourceConfig(connector, options.config);
  const httpOptions = connector.api.http(config);
  const http = new HttpClient(httpOptions);
  const streams = connector.api.streams(config);
  const byName = new Map(streams.map((s) => [s.name, s]));

  // The registry's own count of each stream, kept as a stated total (jobs/reconcile.ts).
  const stated: StatedInput[] = [];
  async function* records(): AsyncGenerator<RawRecord> {
    for (const stream of streams) {
      const pulled = stream.pull(http);
      for await (const record of pulled) yield record;
      reconcile(registry, stream.name, pulled.received(), pulled.reported(), stream.totalField);
      const reported = pulled.reported();
      if (reported !== undefined) {
        stated.push({ stream: stream.name, rawRecordId: null, record: { type: 'stated', registry, measure: 'records', quantity: reported, statedAs: stream.totalField } });
      }
    }
  }

  const startedAt = new Date();
  try {
    const summary = await ingest(db, {
      kind: 'sync',
      connector: `${registry}-api`,
      registry,
      source: httpOptions.baseUrl ?? registry,
      records: records(),
      stated: () => stated,
      snapshots: streams.filter((s) => s.snapshotOf).map((s) => ({ stream: s.name, statuses: s.snapshotOf! })),
      map: (raw) => {
        const stream = byName.get(raw.stream);
        if (!stream) throw new Error(`record from unknown stream ${raw.stream}`);
        return stream.map(raw);
      },
    }, options);
    await recordRun(db, registry, startedAt, summary.batchId, undefined);
    return summary;
  } catch (error) {
    const batchId = error instanceof BatchRejected ? error.summary.batchId : null;
    await recordRun(db, registry, startedAt, batchId, (error as Error).message);
    throw error;
  } finally {
    await http.close();
  }
}

/** Keeps how the last run went, per connector: what the scheduler backs off on and the API reports. */
async function recordRun(db: Database, registry: string, at: Date, batchId: number | null, error: string | undefined): Promise<void> {
  const connector = `${registry}-api`;
  await db.execute(sql`insert into connector_state (connector, stream, last_batch_id, last_run_at, last_success_at, last_error, consecutive_failures, updated_at)
    values (${connector}, 'all', ${batchId}, ${at.toISOString()}, ${error ? null : at.toISOString()}, ${error ?? null}, ${error ? 1 : 0}, now())
    on conflict (connector, stream) do update set
      last_batch_id = coalesce(excluded.last_batch_id, connector_state.last_batch_id),
      last_run_at = excluded.last_run_at,
      last_success_at = coalesce(excluded.last_success_at, connector_state.last_success_at),
      last_error = excluded.last_error,
      consecutive_failures = case when excluded.last_error is null then 0 else connector_state.consecutive_failures + 1 end,
      updated_at = now()`);
}
