import { fork } from 'node:child_process';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { sql, type SQL } from 'drizzle-orm';
import { Pool } from 'undici';
import { createApp } from '../api/app.ts';
import { readSerial } from '../connectors/serials.ts';
import { DEFAULT_API_LIMITS, type ApiLimits } from '../schema/config.ts';
import { openDatabase, rows, textArray, visibleTo, type Database, type DatabaseHandle } from '../schema/database.ts';
import { percentile } from './serial-lookup.ts';

// The HTTP GraphQL API at ledger scale (DESIGN §1, §5, §8), each figure beside the least the same
// answer costs as one SQL query through the same driver, in the same run:
// - serial lookups (`lookup(serial:)`) at one client, sequential over keep-alive: p50 and p99, beside
//   the lookup as one query (parse the serial, probe the GiST index, join the project);
// - lookups from 32 concurrent clients (autocannon, each request a different serial) for 10 s:
//   throughput and p99, beside 32 concurrent promises running the one query;
// - the trend series `trends(groupBy: [REGISTRY])` over every event, beside one GROUP BY over events
//   (the API reads the sums a trigger keeps in trend_facts; the baseline is what it would cost without).
//
// The ledger is Verra-like: registry-wide serials in `verra:VER`, written as Verra writes them, issuances
// of 8 blocks each with their serial range, and the events the ingest job derives (one `issued` per
// issuance; `retired` or `cancelled` per block in that state), dated over twelve years. Most blocks are
// retirements, as in Verra's VCU export, where every retirement splits off a block of its own.
//
// On a server the API runs in a child process and the load generator in this one: on a 2-core machine
// autocannon takes CPU of its own, and sharing one event loop with the server would charge its work
// to the API. BENCH_API_SERVER=in-process runs both in this process instead. An embedded database
// belongs to one process, so there the API always runs in this one.

const BLOCKS_PER_ISSUANCE = 8;
const MAX_PROJECTS = 2_000;
const FIRST_PROJECT = 1_000;
const FIRST_BATCH = 10_000;
/** Verra numbers units registry-wide; real serials run from 10^8 to about 10^9. */
const FIRST_SERIAL = 100_000_001;
const COUNTRIES = ['BR', 'IN', 'CN', 'ID', 'KE', 'PE', 'US', 'CO', 'KH', 'TR', 'ZW', 'MX', 'ET', 'VN', 'UG', 'GT'];
/** Retirement dates run up to this day. */
const LAST_DAY = '2025-12-31';

const SAMPLES = 5_000;
const ONE_CLIENT_REQUESTS = 2_000;
const CLIENTS = 32;
const LOAD_SECONDS = 10;
const TREND_RUNS = 5;
const LIMITS: ApiLimits = { ...DEFAULT_API_LIMITS, rateLimitPerMinute: 0, maxUploadBytes: 1024 };

const LOOKUP = 'query Lookup($s: String!) { lookup(serial: $s) { blocks { serial status { code } project { key } } } }';
const TRENDS = 'query Trends { trends(groupBy: [REGISTRY]) { points { year issued retired cancelled } } }';

type Sample = { serial: string; numberSpace: string; start: number; end: number };
type Lookup = { data?: { lookup: { blocks: { serial: string; status: { code: string }; project: { key: string } }[] } }; errors?: unknown[] };
type Trends = { data?: { trends: { points: { year: number | null; issued: number; retired: number; cancelled: number }[] } }; errors?: unknown[] };
type Totals = { issued: number; retired: number; cancelled: number };

const round = (x: number, digits: number) => Number(x.toFixed(digits));
const seconds = (started: number) => (performance.now() - started) / 1000;

const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);

/**
 * A Verra VCU serial: `batch-start-end-VCS-VCU-<code>-VER-<country>-<scope>-<project>-<DDMMYYYY>-<DDMMYYYY>-<flag>`,
 * with the code, scope and flag drawn from the issuance number `n`.
 */
const verraSerial = (n: SQL, start: SQL, end: SQL, project: SQL, country: SQL, year: SQL) =>
  sql`(${FIRST_BATCH} + ${n})::text || '-' || ${start} || '-' || ${end} || '-VCS-VCU-' || (500 + ${n} % 1500) || '-VER-' || ${country}
    || '-' || (1 + ${n} % 16) || '-' || ${project} || '-0101' || ${year} || '-3112' || ${year} || '-' || (${n} % 5 = 0)::int`;

/** Projects, issuances, blocks and events of the ledger described above; `blocks` blocks in all. */
export async function buildLedger(db: Database, blocks: number): Promise<{ projects: number; issuances: number; blocks: number; events: number }> {
  const projects = Math.max(20, Math.min(MAX_PROJECTS, Math.ceil(blocks / 500)));
  const [batch] = await rows<{ id: number }>(db, sql`insert into batches (kind, registry_id, connector, source)
    values ('sync', 'verra', 'bench', 'generated ledger') returning id::float8 as id`);
  await db.execute(sql`insert into projects (registry_id, registry_project_id, name, country)
    select 'verra', (${FIRST_PROJECT} + n)::text, 'Benchmark project ' || n, (${textArray(COUNTRIES)})[1 + n % ${COUNTRIES.length}]
    from generate_series(0, ${projects - 1}) n`);

  // Block sizes from 1 to 4,999 units, laid end to end: each block starts where the previous one ended.
  await db.execute(sql`create table bench_api_plan (g bigint primary key, n bigint not null, size bigint not null, serial_start bigint not null)`);
  await db.execute(sql`insert into bench_api_plan
    select g, g / ${BLOCKS_PER_ISSUANCE}, size, ${FIRST_SERIAL}::bigint + sum(size) over (order by g) - size
    from (select g::bigint as g, 1 + (g::bigint * 2654435761) % 4999 as size from generate_series(0, ${blocks - 1}) g) s`);

  // Vintages 2013–2022, issued one or two years later.
  await db.execute(sql`insert into issuances (registry_id, project_id, issuance_key, vintage_start, vintage_end, vintage_year, issued_on,
      quantity, credit_type, number_space, serial_start, serial_end, serial_raw, first_batch_id, last_batch_id)
    select 'verra', p.id, 'batch ' || (${FIRST_BATCH} + x.n), make_date(v.year, 1, 1), make_date(v.year, 12, 31), v.year,
      make_date(v.year + 1 + (x.n % 2)::int, 1 + (x.n % 12)::int, 1 + (x.n % 28)::int), x.quantity, 'vcu', 'verra:VER', x.serial_start, x.serial_end,
      ${verraSerial(sql`x.n`, sql`x.serial_start`, sql`x.serial_end`, sql`p.registry_project_id`, sql`p.country`, sql`v.year`)}, ${batch!.id}, ${batch!.id}
    from (select n, min(serial_start) as serial_start, max(serial_start + size - 1) as serial_end, sum(size) as quantity
      from bench_api_plan group by n) x
    cross join lateral (select 2013 + (x.n % 10)::int as year) v
    join projects p on p.registry_id = 'verra' and p.registry_project_id = (${FIRST_PROJECT} + x.n % ${projects})::text`);

  // 85% of blocks retired, 2% cancelled, the rest held; a retirement falls between issuance and LAST_DAY.
  await db.execute(sql`insert into unit_blocks (registry_id, project_id, issuance_id, block_key, number_space, serial_start, serial_end,
      serial_raw, quantity, vintage_start, vintage_end, vintage_year, credit_type, status, status_date, first_batch_id, last_batch_id)
    select 'verra', i.project_id, i.id, s.serial, 'verra:VER', b.serial_start, b.serial_start + b.size - 1, s.serial, b.size,
      i.vintage_start, i.vintage_end, i.vintage_year, 'vcu', k.status,
      case when k.status <> 'held' then i.issued_on + ((b.g * 7919) % greatest(1, ${LAST_DAY}::date - i.issued_on))::int end, ${batch!.id}, ${batch!.id}
    from bench_api_plan b
    join issuances i on i.registry_id = 'verra' and i.issuance_key = 'batch ' || (${FIRST_BATCH} + b.n)
    join projects p on p.id = i.project_id
    cross join lateral (select (case when (b.g * 40503) % 100 < 85 then 'retired' when (b.g * 40503) % 100 < 87 then 'cancelled'
      else 'held' end)::unit_status as status) k
    cross join lateral (select ${verraSerial(sql`b.n`, sql`b.serial_start`, sql`(b.serial_start + b.size - 1)`, sql`p.registry_project_id`, sql`p.country`, sql`i.vintage_year`)} as serial) s`);
  await db.execute(sql`drop table bench_api_plan`);

  // The events the ingest job derives from that state (jobs/ingest.ts, appendStateEvents), with the same keys.
  await db.execute(sql`insert into events (registry_id, project_id, issuance_id, kind, event_key, occurred_on, quantity, vintage_year, batch_id)
    select i.registry_id, i.project_id, i.id, 'issued', 'issued:' || p.registry_project_id || ':' || i.issuance_key, i.issued_on, i.quantity,
      i.vintage_year, ${batch!.id}
    from issuances i join projects p on p.id = i.project_id`);
  await db.execute(sql`insert into events (registry_id, project_id, issuance_id, block_id, kind, event_key, occurred_on, quantity, vintage_year, batch_id)
    select b.registry_id, b.project_id, b.issuance_id, b.id, b.status::text::event_kind, b.status::text || ':' || b.block_key, b.status_date,
      b.quantity, b.vintage_year, ${batch!.id}
    from unit_blocks b where b.status in ('retired', 'cancelled')`);
  await db.execute(sql`analyze`);
  const [counts] = await rows<{ projects: number; issuances: number; blocks: number; events: number }>(db, sql`select
    (select count(*)::int from projects) as projects, (select count(*)::int from issuances) as issuances,
    (select count(*)::int from unit_blocks) as blocks, (select count(*)::int from events) as events`);
  return counts!;
}

/** Serials of random blocks, each read back by the registry parsers to the block's own range. */
async function sampleSerials(db: Database): Promise<Sample[]> {
  const found = await rows<{ serial: string; start: number; end: number }>(db, sql`select serial_raw as serial,
      serial_start::float8 as start, serial_end::float8 as end
    from unit_blocks where number_space = 'verra:VER' order by random() limit ${SAMPLES}`);
  return found.map((b) => {
    const readings = readSerial(b.serial);
    const reading = readings[0];
    if (readings.length !== 1 || reading!.range.numberSpace !== 'verra:VER' || reading!.range.start !== b.start || reading!.range.end !== b.end) {
      throw new Error(`serial "${b.serial}" reads as ${JSON.stringify(readings.map((r) => r.range))}, not as its block ${b.start}–${b.end} in verra:VER`);
    }
    return { serial: b.serial, numberSpace: reading!.range.numberSpace, start: b.start, end: b.end };
  });
}

// ---- the API server --------------------------------------------------------------------------------

async function listen(handle: DatabaseHandle): Promise<Server> {
  const server = createApp(handle, LIMITS).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

async function closeServer(server: Server): Promise<void> {
  const closed = once(server, 'close');
  server.close();
  server.closeAllConnections();
  await closed;
}

type RunningApi = { origin: string; placement: 'child process' | 'in process'; stop(): Promise<void> };

async function startApi(handle: DatabaseHandle, url: string | undefined): Promise<RunningApi> {
  if (!url || process.env.BENCH_API_SERVER === 'in-process') {
    const server = await listen(handle);
    return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, placement: 'in process', stop: () => closeServer(server) };
  }
  const child = fork(fileURLToPath(import.meta.url), [], {
    // `--import tsx` resolves from the working directory: the repository's root.
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BENCH_API_DATABASE_URL: url, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const exited = once(child, 'exit');
  const ready = await Promise.race([once(child, 'message'), exited.then(([code]) => {
    throw new Error(`the API process exited (code ${String(code)}) before it listened`);
  })]);
  const { port } = ready[0] as { port: number };
  return {
    origin: `http://127.0.0.1:${port}`,
    placement: 'child process',
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** The child process: serves the API over BENCH_API_DATABASE_URL on a free loopback port, and tells the parent which. */
async function serveForParent(url: string): Promise<void> {
  const handle = await openDatabase({ url });
  const server = await listen(handle);
  const stop = () => void closeServer(server).then(() => handle.close()).finally(() => process.exit(0));
  process.once('SIGTERM', stop);
  // A parent that ended without stopping it leaves no server behind.
  process.once('disconnect', stop);
  process.send!({ port: (server.address() as AddressInfo).port });
}

// ---- measurements ----------------------------------------------------------------------------------

/** One sequential client over one keep-alive connection. */
function sequentialClient(origin: string) {
  const pool = new Pool(origin, { connections: 1 });
  return {
    async post<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
      const response = await pool.request({
        path: '/graphql', method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query, variables }),
      });
      const answer = await response.body.json() as T & { errors?: unknown[] };
      if (response.statusCode !== 200 || answer.errors) throw new Error(`the API answered ${response.statusCode}: ${JSON.stringify(answer).slice(0, 500)}`);
      return answer;
    },
    close: () => pool.close(),
  };
}

type Client = ReturnType<typeof sequentialClient>;

const pick = <T>(list: T[]): T => list[Math.floor(Math.random() * list.length)]!;

async function apiLookup(client: Client, sample: Sample): Promise<void> {
  const answer = await client.post<Lookup>(LOOKUP, { s: sample.serial });
  const blocks = answer.data?.lookup.blocks ?? [];
  if (blocks.length !== 1 || blocks[0]!.serial !== sample.serial) {
    throw new Error(`lookup of ${sample.serial} through the API found ${blocks.length} blocks, expected its own block`);
  }
}

/** The same answer as one query: the serial read by the parsers, then its block and the block's project. */
async function sqlLookup(db: Database, sample: Sample): Promise<void> {
  const reading = readSerial(sample.serial)[0]!.range;
  const found = await rows<{ serial: string; status: string; key: string }>(db, sql`select b.serial_raw as serial, b.status, p.key
    from unit_blocks b join projects p on p.id = b.project_id
    where b.number_space = ${reading.numberSpace} and b.serial_range && int8range(${reading.start}::bigint, ${reading.end}::bigint, '[]')
      and ${visibleTo('b', null)} and ${visibleTo('p', null)}`);
  if (found.length !== 1 || found[0]!.serial !== sample.serial) throw new Error(`lookup of ${sample.serial} in SQL found ${found.length} blocks, expected 1`);
}

async function timed(work: () => Promise<void>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** One client each way, taking turns, so that both see the same moments of a shared machine. */
async function oneClient(client: Client, db: Database, samples: Sample[], requests: number): Promise<{ api: number[]; sql: number[] }> {
  const api: number[] = [];
  const plain: number[] = [];
  for (let i = 0; i < requests; i += 1) {
    api.push(await timed(() => apiLookup(client, pick(samples))));
    plain.push(await timed(() => sqlLookup(db, pick(samples))));
  }
  return { api: api.sort((a, b) => a - b), sql: plain.sort((a, b) => a - b) };
}

async function apiUnderLoad(origin: string, samples: Sample[], duration: number) {
  const bodies = samples.map((s) => JSON.stringify({ query: LOOKUP, variables: { s: s.serial } }));
  let wrong = 0;
  const result = await autocannon({
    url: `${origin}/graphql`,
    connections: CLIENTS,
    duration,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    requests: [{
      setupRequest: (request) => ({ ...request, body: pick(bodies) }),
      // A string test rather than a parse, to keep the load generator's own CPU use down.
      onResponse: (status, body) => {
        if (status !== 200 || !body.startsWith('{"data":{"lookup":{"blocks":[{"serial":') || body.includes('"errors"')) wrong += 1;
      },
    }],
  });
  return { result, wrong };
}

/** The same lookups as plain HTTP: `GET /v1/units/{serial}`, answering `lookup`'s JSON. */
async function restUnderLoad(origin: string, samples: Sample[], duration: number) {
  const paths = samples.map((s) => `/v1/units/${encodeURIComponent(s.serial)}`);
  let wrong = 0;
  const result = await autocannon({
    url: origin,
    connections: CLIENTS,
    duration,
    requests: [{
      setupRequest: (request) => ({ ...request, method: 'GET', path: pick(paths) }),
      onResponse: (status, body) => {
        if (status !== 200 || !body.startsWith('{"query":') || !body.includes('"blocks":[{')) wrong += 1;
      },
    }],
  });
  return { result, wrong };
}

/** `clients` promises, each running the one-query lookup back to back for `duration` seconds. */
async function sqlUnderLoad(db: Database, samples: Sample[], duration: number): Promise<{ perSecond: number; p99: number; total: number }> {
  const latencies: number[] = [];
  const started = performance.now();
  const until = started + duration * 1000;
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (performance.now() < until) latencies.push(await timed(() => sqlLookup(db, pick(samples))));
  }));
  latencies.sort((a, b) => a - b);
  return { perSecond: latencies.length / seconds(started), p99: percentile(latencies, 99), total: latencies.length };
}

/** The trend series through the API, summed over its points. */
async function apiTrends(client: Client): Promise<Totals> {
  const answer = await client.post<Trends>(TRENDS);
  return sumPoints(answer.data?.trends.points ?? []);
}

/** The same series as one GROUP BY over the events. */
async function sqlTrends(db: Database): Promise<Totals> {
  return sumPoints(await rows<Totals>(db, sql`select extract(year from occurred_on)::int as year, registry_id,
      coalesce(sum(quantity) filter (where kind = 'issued'), 0)::float8 as issued,
      coalesce(sum(quantity) filter (where kind = 'retired'), 0)::float8 as retired,
      coalesce(sum(quantity) filter (where kind = 'cancelled'), 0)::float8 as cancelled
    from events where kind in ('issued', 'retired', 'cancelled', 'converted-out') group by 1, 2`));
}

const sumPoints = (points: Totals[]): Totals => points.reduce((s, p) => ({
  issued: s.issued + p.issued, retired: s.retired + p.retired, cancelled: s.cancelled + p.cancelled,
}), { issued: 0, retired: 0, cancelled: 0 });

export async function apiBench(handle: DatabaseHandle, url: string | undefined, blocks: number) {
  const db = handle.db;
  const loadStarted = performance.now();
  const ledger = await buildLedger(db, blocks);
  const loadSeconds = seconds(loadStarted);
  const samples = await sampleSerials(db);

  const api = await startApi(handle, url);
  const client = sequentialClient(api.origin);
  // The machine is shared: its load when the measurements start says how much of it they had.
  const machine = { cores: availableParallelism(), loadAverage: round(loadavg()[0]!, 2) };
  try {
    await oneClient(client, db, samples, 200); // warm caches and the JIT on both sides
    const single = await oneClient(client, db, samples, ONE_CLIENT_REQUESTS);

    await apiUnderLoad(api.origin, samples, 2); // warm-up at full concurrency
    const loaded = await apiUnderLoad(api.origin, samples, LOAD_SECONDS);
    const loadedSql = await sqlUnderLoad(db, samples, LOAD_SECONDS);
    const rest = await restUnderLoad(api.origin, samples, LOAD_SECONDS);
    const r = loaded.result;
    const apiPerSecond = r.requests.total / r.duration;
    const restPerSecond = rest.result.requests.total / rest.result.duration;

    const trendApi: number[] = [];
    const trendSql: number[] = [];
    const apiTotals = await apiTrends(client);
    const sqlTotals = await sqlTrends(db);
    for (const [kind, total] of Object.entries(apiTotals) as [keyof Totals, number][]) {
      if (Math.abs(total - sqlTotals[kind]) > 0.5) throw new Error(`trends through the API sum ${kind} to ${total}, the events to ${sqlTotals[kind]}`);
    }
    for (let i = 0; i < TREND_RUNS; i += 1) {
      trendApi.push(await timed(async () => { await apiTrends(client); }));
      trendSql.push(await timed(async () => { await sqlTrends(db); }));
    }

    const apiP99 = percentile(single.api, 99);
    return {
      benchmark: 'api (GraphQL over HTTP)',
      server: api.placement,
      machine,
      ledger: { ...ledger, loadSeconds: round(loadSeconds, 1) },
      lookupOneClient: {
        requests: single.api.length,
        apiMs: { p50: round(percentile(single.api, 50), 3), p99: round(apiP99, 3) },
        sqlMs: { p50: round(percentile(single.sql, 50), 3), p99: round(percentile(single.sql, 99), 3) },
        ratioP50: round(percentile(single.api, 50) / percentile(single.sql, 50), 2),
        target: 'API p99 ≤ 5 ms',
        met: apiP99 <= 5,
      },
      lookupConcurrent: {
        clients: CLIENTS,
        seconds: LOAD_SECONDS,
        api: {
          perSecond: round(apiPerSecond, 0), p50Ms: r.latency.p50, p99Ms: r.latency.p99, requests: r.requests.total,
          wrongAnswers: loaded.wrong, non2xx: r.non2xx, errors: r.errors, timeouts: r.timeouts,
        },
        sql: { perSecond: round(loadedSql.perSecond, 0), p99Ms: round(loadedSql.p99, 2), queries: loadedSql.total },
        ratioThroughput: round(apiPerSecond / loadedSql.perSecond, 2),
        target: `≥ 0.7 × the SQL's throughput (${CLIENTS} clients)`,
        met: apiPerSecond >= 0.7 * loadedSql.perSecond && loaded.wrong === 0 && r.errors === 0,
        rest: {
          path: 'GET /v1/units/{serial}',
          perSecond: round(restPerSecond, 0), p50Ms: rest.result.latency.p50, p99Ms: rest.result.latency.p99, requests: rest.result.requests.total,
          wrongAnswers: rest.wrong, non2xx: rest.result.non2xx, errors: rest.result.errors,
          ratioThroughput: round(restPerSecond / loadedSql.perSecond, 2),
        },
      },
      trends: {
        query: 'trends(groupBy: [REGISTRY]) { points { year issued retired cancelled } }',
        events: ledger.events,
        apiMedianMs: round(median(trendApi), 1),
        sqlMedianMs: round(median(trendSql), 1),
        ratio: round(median(trendApi) / median(trendSql), 2),
        runs: TREND_RUNS,
        target: 'API ≤ 20 ms (at 10 M events)',
        met: median(trendApi) <= 20,
      },
    };
  } finally {
    await client.close();
    await api.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.env.BENCH_API_DATABASE_URL) {
  serveForParent(process.env.BENCH_API_DATABASE_URL).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
