import { sql } from 'drizzle-orm';
import { bigintArray, rows, type Database } from '../schema/database.ts';
import { runsAfter } from './cron-runs.ts';

// How fresh and how complete each registry's data is (README, "Freshness"). A source is a registry the
// scheduler pulls (TALLY_SOURCES): its status compares the last successful pull with the schedule; its
// latest complete pull (a committed sync: every stream reconciled with the registry's own count) is set
// beside the one before, in rows read and tonnes listed; and the blocks the latest no longer lists are
// counted. Only public pulls count: an organization's uploads, private or not, are never a pull, and
// another organization's private records are in no figure here. The clock is a parameter, so that
// tests can move time.

export type FreshnessStatus = 'fresh' | 'late' | 'stale' | 'pending' | 'unscheduled';
export const FRESHNESS_STATUSES: readonly FreshnessStatus[] = ['fresh', 'late', 'stale', 'pending', 'unscheduled'];
export type FreshnessFlag = 'shrank' | 'not-answering';
export const FRESHNESS_FLAGS: readonly FreshnessFlag[] = ['shrank', 'not-answering'];

/** A latest complete pull with more than this fraction fewer rows or tonnes than the one before is flagged. */
export const SHRINK_LIMIT = 0.01;
/** Failed runs in a row after which a source counts as no longer answering. */
export const NOT_ANSWERING_AFTER = 3;
/** A scheduled pull may land this long after its time (a tenth of the gap to the next run, at most an hour). */
const MAX_GRACE_MS = 60 * 60_000;
const MISSING_SAMPLE = 10;

export type Pull = { batchId: number; startedAt: Date; finishedAt: Date; rows: number; tonnes: number | null; issuedTonnes: number | null };
/** Relative change of the latest complete pull against the one before: -0.02 is 2 % fewer. */
export type PullChange = { rows: number | null; tonnes: number | null; issuedTonnes: number | null };
export type MissingRecords = { count: number; sample: string[] };

export type SourceFreshness = {
  registry: string;
  /** The cron schedule the scheduler pulls the registry on; null when it is not scheduled. */
  schedule: string | null;
  status: FreshnessStatus;
  flags: FreshnessFlag[];
  lastSuccessAt: Date | null;
  ageSeconds: number | null;
  /** The first scheduled run after the last successful pull: when a newer pull was due. */
  dueAt: Date | null;
  nextRunAt: Date | null;
  consecutiveFailures: number;
  lastError: string | null;
  latestPull: Pull | null;
  previousPull: Pull | null;
  change: PullChange | null;
  /** Blocks earlier pulls listed that the latest complete pull did not; null when its streams list no status completely. */
  missingRecords: MissingRecords | null;
  /** The registry's newest batch of any kind and outcome that is not private. */
  lastBatchId: number | null;
};

/** Every registry's freshness at `now` (default: the real clock). */
export async function sourceFreshness(db: Database, options: { now?: Date } = {}): Promise<SourceFreshness[]> {
  const now = options.now ?? new Date();
  const states = await readStates(db);
  const pulls = await readPulls(db);
  const lastBatches = await readLastBatches(db);
  const tracked = [...pulls.values()].flatMap((p) => (p.latest?.snapshotStreams ? [p.latest] : []));
  const missing = await readMissing(db, tracked);
  return states.map((state) => {
    const { latest, previous } = pulls.get(state.registry) ?? {};
    return {
      ...freshnessOf(state, latest, previous, now),
      missingRecords: latest ? missing.get(latest.batchId) ?? null : null,
      lastBatchId: lastBatches.get(state.registry) ?? null,
    };
  });
}

function freshnessOf(state: State, latest: PullRow | undefined, previous: PullRow | undefined, now: Date): Omit<SourceFreshness, 'missingRecords' | 'lastBatchId'> {
  const lastSuccessAt = state.lastSuccessAt ?? latest?.startedAt ?? null;
  const notAnswering = state.failures >= NOT_ANSWERING_AFTER;
  const timing = scheduleStatus({ schedule: state.schedule, lastSuccessAt, tried: state.lastRunAt !== null, notAnswering }, now);
  const change = latest && previous ? compare(latest, previous) : null;
  const shrank = change !== null && [change.rows, change.tonnes, change.issuedTonnes].some((c) => c !== null && c < -SHRINK_LIMIT);
  return {
    registry: state.registry, schedule: state.schedule, ...timing,
    flags: [...(shrank ? ['shrank' as const] : []), ...(notAnswering ? ['not-answering' as const] : [])],
    lastSuccessAt, ageSeconds: lastSuccessAt ? Math.max(0, Math.round((now.getTime() - lastSuccessAt.getTime()) / 1000)) : null,
    consecutiveFailures: state.failures, lastError: state.lastError,
    latestPull: latest ? pullOf(latest) : null, previousPull: previous ? pullOf(previous) : null, change,
  };
}

/**
 * The status of a source against its schedule at `now`. A scheduled run is missed once its grace has
 * passed with no successful pull started since the last one: none missed is fresh, one is late, two or
 * more are stale (one is stale too when the source is not answering: no retry is going to make it up).
 * A scheduled source never pulled successfully is pending until its first run, and stale once one failed.
 */
export function scheduleStatus(source: { schedule: string | null; lastSuccessAt: Date | null; tried: boolean; notAnswering: boolean }, now: Date):
  { status: FreshnessStatus; dueAt: Date | null; nextRunAt: Date | null } {
  if (!source.schedule) return { status: 'unscheduled', dueAt: null, nextRunAt: null };
  const nextRunAt = runsAfter(source.schedule, now, 1)[0]!;
  if (!source.lastSuccessAt) return { status: source.tried ? 'stale' : 'pending', dueAt: null, nextRunAt };
  const runs = runsAfter(source.schedule, source.lastSuccessAt, 3);
  const missed = [0, 1].filter((i) => now.getTime() >= runs[i]!.getTime() + graceMs(runs[i]!, runs[i + 1]!)).length;
  const status = missed >= 2 || (missed === 1 && source.notAnswering) ? 'stale' : missed === 1 ? 'late' : 'fresh';
  return { status, dueAt: runs[0]!, nextRunAt };
}

function graceMs(run: Date, next: Date): number {
  return Math.min(MAX_GRACE_MS, (next.getTime() - run.getTime()) / 10);
}

function compare(latest: PullRow, previous: PullRow): PullChange {
  const ratio = (now: number | null, before: number | null) => (now === null || before === null || before === 0 ? null : (now - before) / before);
  return { rows: ratio(latest.rows, previous.rows), tonnes: ratio(latest.tonnes, previous.tonnes), issuedTonnes: ratio(latest.issuedTonnes, previous.issuedTonnes) };
}

type State = { registry: string; schedule: string | null; lastSuccessAt: Date | null; lastRunAt: Date | null; lastError: string | null; failures: number };
type PullRow = Pull & { snapshotStreams: number | undefined };

const dateOf = (value: Date | string | null): Date | null => (value === null ? null : new Date(value));
const jsonOf = <T>(value: T | string): T => (typeof value === 'string' ? JSON.parse(value) as T : value);
const numberOr = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);

/** Every registry, with its API connector's state: its schedule (kept by the scheduler) and how its runs went. */
async function readStates(db: Database): Promise<State[]> {
  const found = await rows<{ registry: string; schedule: string | null; last_success_at: Date | string | null; last_run_at: Date | string | null; last_error: string | null; failures: number }>(db,
    sql`select r.id as registry, s.cursor->>'schedule' as schedule, s.last_success_at, s.last_run_at, s.last_error, coalesce(s.consecutive_failures, 0)::int as failures
      from registries r left join connector_state s on s.connector = r.id || '-api' and s.stream = 'all' order by r.id`);
  return found.map((s) => ({
    registry: s.registry, schedule: s.schedule, lastSuccessAt: dateOf(s.last_success_at), lastRunAt: dateOf(s.last_run_at), lastError: s.last_error, failures: s.failures,
  }));
}

/** The latest two complete pulls of each registry: its committed public syncs. */
async function readPulls(db: Database): Promise<Map<string, { latest?: PullRow; previous?: PullRow }>> {
  const found = await rows<{ id: number | string; registry: string; started_at: Date | string; finished_at: Date | string; counts: Record<string, unknown> | string; n: number }>(db,
    sql`select id, registry, started_at, finished_at, counts, n from (
        select b.id, b.registry_id as registry, b.started_at, b.finished_at, b.counts, row_number() over (partition by b.registry_id order by b.id desc)::int as n
        from batches b
        where b.kind = 'sync' and b.status = 'committed' and b.owner_organization_id is null and not b.is_private and b.registry_id is not null) p
      where n <= 2`);
  const pulls = new Map<string, { latest?: PullRow; previous?: PullRow }>();
  for (const row of found) {
    const entry = pulls.get(row.registry) ?? {};
    entry[row.n === 1 ? 'latest' : 'previous'] = pullRow(row);
    pulls.set(row.registry, entry);
  }
  return pulls;
}

function pullRow(row: { id: number | string; started_at: Date | string; finished_at: Date | string; counts: Record<string, unknown> | string }): PullRow {
  const counts = jsonOf(row.counts);
  return {
    batchId: Number(row.id), startedAt: new Date(row.started_at), finishedAt: new Date(row.finished_at), rows: numberOr(counts.rowsRead) ?? 0,
    tonnes: numberOr(counts.blockTonnes), issuedTonnes: numberOr(counts.issuedTonnes), snapshotStreams: numberOr(counts.snapshotStreams) ?? undefined,
  };
}

const pullOf = ({ snapshotStreams: _, ...pull }: PullRow): Pull => pull;

/** Each registry's newest batch that is not private: what a registry known only through uploads reports. */
async function readLastBatches(db: Database): Promise<Map<string, number>> {
  const found = await rows<{ registry: string; id: number | string }>(db, sql`select b.registry_id as registry, max(b.id) as id
    from batches b where b.registry_id is not null and not b.is_private group by b.registry_id`);
  return new Map(found.map((b) => [b.registry, Number(b.id)]));
}

/**
 * The public blocks each pull superseded: current blocks of the statuses its streams list completely
 * that it no longer listed (jobs/ingest.ts, supersedeUnlisted, which also makes the pull their last batch).
 */
async function readMissing(db: Database, pulls: PullRow[]): Promise<Map<number, MissingRecords>> {
  if (pulls.length === 0) return new Map();
  const found = await rows<{ id: number | string; n: number; sample: string[] | string }>(db, sql`select p.id,
      (select count(*)::int from unit_blocks b where b.last_batch_id = p.id and b.superseded_in_batch_id = p.id and b.owner_organization_id is null) as n,
      coalesce((select jsonb_agg(k.block_key order by k.block_key) from (select b.block_key from unit_blocks b
        where b.last_batch_id = p.id and b.superseded_in_batch_id = p.id and b.owner_organization_id is null
        order by b.block_key limit ${MISSING_SAMPLE}) k), '[]'::jsonb) as sample
    from unnest(${bigintArray(pulls.map((p) => p.batchId))}) as p(id)`);
  return new Map(found.map((m) => [Number(m.id), { count: m.n, sample: jsonOf(m.sample) }]));
}

/**
 * Keeps the schedule of each source the scheduler pulls in its connector's state (stream `all`, in
 * `cursor.schedule`), so that every process serving the API reads the same schedules; sources no longer
 * scheduled lose theirs.
 */
export async function recordSchedules(db: Database, sources: readonly { registry: string; schedule: string }[]): Promise<void> {
  const scheduled = sources.map((s) => ({ connector: `${s.registry}-api`, schedule: s.schedule }));
  await db.execute(sql`update connector_state set cursor = cursor - 'schedule', updated_at = now()
    where stream = 'all' and cursor->>'schedule' is not null
      and connector not in (select connector from jsonb_to_recordset(${JSON.stringify(scheduled)}::jsonb) as s(connector text, schedule text))`);
  if (scheduled.length === 0) return;
  await db.execute(sql`insert into connector_state (connector, stream, cursor)
    select s.connector, 'all', jsonb_build_object('schedule', s.schedule) from jsonb_to_recordset(${JSON.stringify(scheduled)}::jsonb) as s(connector text, schedule text)
    on conflict (connector, stream) do update set cursor = coalesce(connector_state.cursor, '{}'::jsonb) || excluded.cursor, updated_at = now()`);
}
