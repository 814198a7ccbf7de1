import { and, eq, sql } from 'drizzle-orm';
import { batches } from '../schema/db/index.ts';
import { RUNNER_LOCK_CLASS, rows, runnerToken, type Database } from '../schema/database.ts';
import { sha256, stableJson } from '../schema/hash.ts';
import { log } from '../schema/log.ts';
import { queueBatchCommitted } from './webhooks.ts';

// Batches are the unit of atomicity and the links of a tamper-evident chain (DESIGN §3):
// digest = sha256(previous batch's digest + this batch's records digest). Sealing takes a
// transaction-scoped advisory lock, so concurrent batches line up one after another.

const CHAIN_LOCK = 7_265_817_002;

export type BatchStart = {
  kind: 'sync' | 'upload';
  connector: string;
  registryId?: string | undefined;
  source: string;
  ownerOrganizationId?: number | undefined;
  isPrivate?: boolean | undefined;
  apiKeyId?: number | undefined;
  details?: Record<string, unknown> | undefined;
};

/**
 * Marks failed, as interrupted, every `running` batch whose process is gone: no live process holds its
 * runner token (a process holds its token's advisory lock for as long as it lives, so a token nobody
 * holds belongs to a process that died: `kill -9`, a lost machine). Run when a process starts serving
 * and before every batch. Returns how many batches it marked.
 */
export async function failInterruptedBatches(db: Database): Promise<number> {
  const mine = await runnerToken(db);
  const [marked] = await rows<{ n: number }>(db, sql`with marked as (update batches
      set status = 'failed', finished_at = greatest(now(), started_at),
        errors = jsonb_build_array(jsonb_build_object('locator', 'batch', 'code', 'interrupted',
          'message', 'interrupted: the process running this batch stopped before it finished; nothing from it was stored'))
      where status = 'running' and runner_token is distinct from ${mine}
        and (runner_token is null or pg_try_advisory_xact_lock(${RUNNER_LOCK_CLASS}, runner_token))
      returning 1) select count(*)::int as n from marked`);
  return marked?.n ?? 0;
}

/** Records a running batch, committed at once, so that a batch that later fails is still on record. */
async function startBatch(db: Database, start: BatchStart): Promise<number> {
  await failInterruptedBatches(db);
  const [row] = await db.insert(batches).values({
    runnerToken: await runnerToken(db),
    kind: start.kind,
    connector: start.connector,
    registryId: start.registryId,
    source: start.source,
    ownerOrganizationId: start.ownerOrganizationId,
    isPrivate: start.isPrivate ?? false,
    apiKeyId: start.apiKeyId,
    details: start.details ?? {},
  }).returning({ id: batches.id });
  log.debug({ batchId: row!.id, connector: start.connector, source: start.source }, 'batch started');
  return row!.id;
}

export type BatchOutcome = { counts: Record<string, number>; errors: unknown[] };

/** Seals a batch inside the transaction that wrote its records: chains its digest to the last sealed batch. */
async function sealBatch(tx: Database, batchId: number, recordsDigest: string, outcome: BatchOutcome): Promise<{ digest: string; previousBatchId: number | null }> {
  await tx.execute(sql`select pg_advisory_xact_lock(${CHAIN_LOCK})`);
  const [tip] = await rows<{ id: string | number; digest: string }>(tx, sql`select b.id, b.digest from batches b
    where b.status = 'committed'
      and not exists (select 1 from batches c where c.previous_batch_id = b.id and c.status = 'committed')`);
  const previousBatchId = tip ? Number(tip.id) : null;
  const digest = sha256(`${tip?.digest ?? ''}${recordsDigest}`);
  const sealed = await tx.update(batches).set({
    status: 'committed',
    finishedAt: new Date(),
    counts: outcome.counts,
    errors: outcome.errors,
    recordsDigest,
    previousBatchId,
    digest,
  }).where(and(eq(batches.id, batchId), eq(batches.status, 'running'))).returning({ id: batches.id });
  // Another process took this batch for interrupted (its runner lock was lost with its connection).
  if (sealed.length === 0) throw new Error(`batch ${batchId} was marked interrupted while it ran; nothing from it was stored`);
  await queueBatchCommitted(tx, batchId);
  return { digest, previousBatchId };
}

/** Thrown inside a batch's transaction to end a preview: the rollback keeps nothing. */
class PreviewOnly extends Error {}

/** A batch that did not commit: its row is marked failed with this reason, and nothing it wrote remains. */
export class BatchFailed extends Error {}

/**
 * The life of one batch, the same for every source (a registry file, an API pull, an AEF upload): it is
 * recorded as running at once, so that a failure is on record too; its records are written in one
 * transaction and sealed into the digest chain; a preview is written, counted and rolled back, and its
 * row removed, so it leaves no trace; any failure leaves the row failed with its reason and nothing else.
 */
export class BatchRun {
  private constructor(readonly db: Database, readonly id: number) {}

  static async start(db: Database, start: BatchStart): Promise<BatchRun> {
    return new BatchRun(db, await startBatch(db, start));
  }

  /**
   * Runs `write` in the batch's transaction; it returns the digest of the records it wrote. Resolves with
   * the batch's chained digest, or `undefined` for a preview; rejects with BatchFailed.
   */
  async commit(write: (tx: Database) => Promise<string>, options: { preview?: boolean | undefined; outcome(): BatchOutcome }): Promise<string | undefined> {
    try {
      let digest: string | undefined;
      await this.db.transaction(async (txn) => {
        const tx = txn as unknown as Database;
        const recordsDigest = await write(tx);
        if (options.preview) throw new PreviewOnly();
        digest = (await sealBatch(tx, this.id, recordsDigest, options.outcome())).digest;
      });
      return digest;
    } catch (error) {
      if (!(error instanceof PreviewOnly)) return this.fail((error as Error).message, options.outcome());
      await this.db.delete(batches).where(eq(batches.id, this.id));
      return undefined;
    }
  }

  /** Marks the batch failed with its reason (what it wrote was rolled back), and rejects with BatchFailed. */
  async fail(reason: string, outcome: BatchOutcome): Promise<never> {
    await this.db.update(batches).set({
      status: 'failed',
      finishedAt: new Date(),
      counts: outcome.counts,
      errors: [{ locator: 'batch', code: 'batch-failed', message: reason }, ...outcome.errors.slice(0, 999)],
    }).where(eq(batches.id, this.id));
    throw new BatchFailed(reason);
  }
}

/**
 * Checks the chain from its genesis: each committed batch's digest is sha256(previous digest +
 * records digest), and every raw record's payload still hashes to its stored content hash.
 */
export async function verifyChain(db: Database): Promise<{ ok: boolean; batches: number; problems: string[] }> {
  const chain = await rows<{ id: string | number; previous_batch_id: string | number | null; records_digest: string; digest: string }>(db,
    sql`select id, previous_batch_id, records_digest, digest from batches where status = 'committed' order by id`);
  const byId = new Map(chain.map((b) => [Number(b.id), b]));
  const problems: string[] = [];
  for (const b of chain) {
    const previous = b.previous_batch_id === null ? undefined : byId.get(Number(b.previous_batch_id));
    if (b.previous_batch_id !== null && !previous) problems.push(`batch ${b.id}: previous batch ${b.previous_batch_id} is missing`);
    if (sha256(`${previous?.digest ?? ''}${b.records_digest}`) !== b.digest) problems.push(`batch ${b.id}: digest does not match its records and its predecessor`);
  }
  // Page through raw records by id, so verifying a large ledger does not hold it in memory.
  for (let after = 0; ;) {
    const page = await rows<{ id: string | number; content_hash: string; payload: unknown }>(db,
      sql`select id, content_hash, payload from raw_records where id > ${after} order by id limit 5000`);
    if (page.length === 0) break;
    for (const r of page) {
      const payload = typeof r.payload === 'string' ? JSON.parse(r.payload) : r.payload;
      if (sha256(stableJson(payload)) !== r.content_hash) problems.push(`raw record ${r.id}: payload does not match its content hash`);
    }
    after = Number(page.at(-1)!.id);
  }
  return { ok: problems.length === 0, batches: chain.length, problems };
}
