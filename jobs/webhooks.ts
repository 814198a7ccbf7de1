import { createHmac, randomBytes } from 'node:crypto';
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';
import { sql } from 'drizzle-orm';
import { Agent, request } from 'undici';
import { bigintArray, rows, type Database } from '../schema/database.ts';
import { log } from '../schema/log.ts';
import { sourceFreshness } from './freshness.ts';

// Webhooks: an organization names a URL and the events it wants; Tally POSTs each event to it as JSON,
// signed with the webhook's secret. An event is queued in the transaction that makes it (a batch's
// commit, a check's findings), one row per webhook that may see it, so a private record's event goes
// to its owner's webhooks only, and a restart loses nothing: the queue is a table. Deliveries are sent
// by the process that runs the scheduler, retried with exponential backoff, and given up after
// MAX_ATTEMPTS. Only http(s) URLs whose every address is public are accepted and connected to, unless
// an address is allowed by TALLY_WEBHOOK_ALLOW; the check is made again when connecting, so a name that
// later resolves to a private address is still refused.

export const WEBHOOK_EVENTS = ['FINDING_OPENED', 'FINDING_RESOLVED', 'SOURCE_STALE', 'BATCH_COMMITTED'] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

/** Attempts before a delivery is given up: with a 30 s first retry, the last comes about a day after the event. */
export const MAX_ATTEMPTS = 12;
const RETRY_MAX_MS = 6 * 60 * 60_000;
const TIMEOUT_MS = 10_000;
/** How long a claimed delivery is another process's to send; past it, a delivery whose sender died is due again. */
const LEASE_SECONDS = 60;
const CLAIM_SIZE = 20;

export const newWebhookSecret = () => `whsec_${randomBytes(32).toString('base64url')}`;

/** `X-Tally-Signature`: `sha256=` and the hex HMAC-SHA256 of the raw body, keyed with the webhook's secret. */
export const signatureOf = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

// ---- where a webhook may deliver --------------------------------------------------------------------

type Range = [ipaddr.IPv4 | ipaddr.IPv6, number];

/** TALLY_WEBHOOK_ALLOW's entries as ranges; a single address is a range of one. */
export function allowedRanges(allow: string[]): Range[] {
  return allow.map((entry) => {
    try {
      return ipaddr.parseCIDR(entry.includes('/') ? entry : `${entry}/${ipaddr.parse(entry).kind() === 'ipv4' ? 32 : 128}`);
    } catch {
      throw new Error(`invalid configuration: TALLY_WEBHOOK_ALLOW: "${entry}" is not an IP address or CIDR range`);
    }
  });
}

/** Whether a webhook may connect to `address`: a public unicast address, or one TALLY_WEBHOOK_ALLOW names. */
export function addressAllowed(address: string, allowed: Range[]): boolean {
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  if (allowed.some(([range, bits]) => range.kind() === parsed.kind() && parsed.match(range, bits))) return true;
  return parsed.range() === 'unicast';
}

export class WebhookRefused extends Error {}

function resolveAll(hostname: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses))));
}

/**
 * Checks a webhook URL before it is stored: http or https, no credentials in it, a host that resolves,
 * and only to addresses a webhook may reach.
 */
export async function checkWebhookUrl(raw: string, allowed: Range[]): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WebhookRefused('url: not a URL');
  }
  if (raw.length > 2048) throw new WebhookRefused('url: at most 2,048 characters');
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new WebhookRefused('url: only http and https URLs are accepted');
  if (url.username || url.password) throw new WebhookRefused('url: must not carry a user name or password');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : (await resolveAll(host)).map((a) => a.address);
  } catch {
    throw new WebhookRefused(`url: the host ${host} does not resolve`);
  }
  const refused = addresses.find((a) => !addressAllowed(a, allowed));
  if (refused) throw new WebhookRefused(`url: ${host} is a private, loopback or reserved address (${refused}); webhooks go to public addresses`);
  return url;
}

/**
 * What sends deliveries: an HTTP agent that connects only to allowed addresses, whatever a name resolves
 * to at the time (an address written in the URL is checked before sending: no lookup is made for it).
 */
type Sender = { agent: Agent; allowed: Range[] };

function createSender(allow: string[]): Sender {
  const allowed = allowedRanges(allow);
  return { allowed, agent: guardedAgent(allowed) };
}

function guardedAgent(allowed: Range[]): Agent {
  return new Agent({
    connect: {
      timeout: TIMEOUT_MS,
      lookup(hostname: string, options: { all?: boolean }, callback: (error: Error | null, address: string | LookupAddress[], family?: number) => void) {
        resolveAll(hostname).then((addresses) => {
          const refused = addresses.find((a) => !addressAllowed(a.address, allowed));
          if (refused) return callback(new WebhookRefused(`${hostname} resolves to ${refused.address}, which webhooks may not reach`), []);
          if (options.all) return callback(null, addresses);
          callback(null, addresses[0]!.address, addresses[0]!.family);
        }, (error: Error) => callback(error, []));
      },
    },
  });
}

// ---- queueing events --------------------------------------------------------------------------------

/**
 * Queues FINDING_OPENED / FINDING_RESOLVED for the status changes `changeIds` (a check opening, reopening
 * or resolving findings), to every webhook that wants the event and may see the finding.
 */
export async function queueFindingChanges(tx: Database, changeIds: number[]): Promise<void> {
  if (changeIds.length === 0) return;
  await tx.execute(sql`insert into webhook_deliveries (webhook_id, event, subject, body)
    select w.id, e.event, 'finding-change:' || c.id, jsonb_build_object('event', e.event, 'occurredAt', c.changed_at,
      'finding', jsonb_build_object('id', f.id::text, 'kind', f.kind, 'severity', f.severity, 'status', f.status, 'title', f.title, 'titleMessage', f.title_message,
        'tonnesAtRisk', f.tonnes_at_risk, 'restsOnInferredLink', f.rests_on_inferred_link,
        'firstSeenAt', f.first_seen_at, 'resolvedAt', f.resolved_at, 'private', f.is_private))::text
    from finding_status_changes c
    join findings f on f.id = c.finding_id
    cross join lateral (select case when c.to_status = 'resolved' then 'FINDING_RESOLVED' else 'FINDING_OPENED' end as event) e
    join webhooks w on e.event = any(w.events) and (not f.is_private or w.organization_id = f.owner_organization_id)
    where c.id = any(${bigintArray(changeIds)}) and c.to_status in ('open', 'resolved')
    on conflict (webhook_id, subject) do nothing`);
}

/** Queues BATCH_COMMITTED for a batch, inside the transaction that commits it. */
export async function queueBatchCommitted(tx: Database, batchId: number): Promise<void> {
  await tx.execute(sql`insert into webhook_deliveries (webhook_id, event, subject, body)
    select w.id, 'BATCH_COMMITTED', 'batch:' || b.id, jsonb_build_object('event', 'BATCH_COMMITTED', 'occurredAt', b.finished_at,
      'batch', jsonb_build_object('id', b.id::text, 'kind', b.kind, 'registry', b.registry_id, 'connector', b.connector,
        'counts', b.counts, 'digest', b.digest, 'private', b.is_private))::text
    from batches b
    join webhooks w on 'BATCH_COMMITTED' = any(w.events) and (not b.is_private or w.organization_id = b.owner_organization_id)
    where b.id = ${batchId}
    on conflict (webhook_id, subject) do nothing`);
}

/** A source that fell behind, as SOURCE_STALE announces it. */
export type StaleSource = { registry: string; status: string; schedule: string | null; lastSuccessAt: string | null; consecutiveFailures: number; lastError: string | null };

/**
 * Queues SOURCE_STALE for a registry whose scheduled pulls fell behind: once per webhook and per last
 * successful pull, so a source that stays stale is announced once, and again only after it recovered
 * and fell behind anew. Sources are public registries: every webhook that wants the event gets it.
 */
export async function queueSourceStale(db: Database, source: StaleSource, now = new Date()): Promise<number> {
  const body = JSON.stringify({ event: 'SOURCE_STALE', occurredAt: now.toISOString(), source });
  const queued = await rows<{ id: number }>(db, sql`insert into webhook_deliveries (webhook_id, event, subject, body)
    select w.id, 'SOURCE_STALE', ${`stale:${source.registry}:${source.lastSuccessAt ?? 'never'}`}, ${body}
    from webhooks w where 'SOURCE_STALE' = any(w.events)
    on conflict (webhook_id, subject) do nothing
    returning id`);
  return queued.length;
}

/** Queues SOURCE_STALE for every stale source, when some webhook wants the event; returns how many were queued. */
export async function announceStaleSources(db: Database, now = new Date()): Promise<number> {
  const [wanted] = await rows<{ yes: boolean }>(db, sql`select exists (select 1 from webhooks where 'SOURCE_STALE' = any(events)) as yes`);
  if (!wanted?.yes) return 0;
  let queued = 0;
  for (const s of (await sourceFreshness(db, { now })).filter((f) => f.status === 'stale')) {
    queued += await queueSourceStale(db, {
      registry: s.registry, status: s.status, schedule: s.schedule, lastSuccessAt: s.lastSuccessAt?.toISOString() ?? null,
      consecutiveFailures: s.consecutiveFailures, lastError: s.lastError,
    }, now);
  }
  return queued;
}

// ---- delivering -------------------------------------------------------------------------------------

type Claimed = { id: number; event: string; body: string; attempts: number; url: string; secret: string };

/** Claims up to CLAIM_SIZE due deliveries for this process: no other process sends them while the lease runs. */
async function claimDue(db: Database): Promise<Claimed[]> {
  return rows<Claimed>(db, sql`update webhook_deliveries d
    set locked_until = now() + make_interval(secs => ${LEASE_SECONDS}), attempts = d.attempts + 1, last_attempt_at = now()
    from webhooks w
    where w.id = d.webhook_id and d.id in (select id from webhook_deliveries
      where status = 'pending' and next_attempt_at <= now() and (locked_until is null or locked_until < now())
      order by next_attempt_at, id limit ${CLAIM_SIZE} for update skip locked)
    returning d.id::float8 as id, d.event, d.body, d.attempts, w.url, w.secret`);
}

type Attempt = { status: number | null; error: string | null };

/** One POST of a delivery: its body as queued, signed. A 2xx answer delivers it; nothing else does. */
async function send(sender: Sender, delivery: Claimed): Promise<Attempt> {
  const host = new URL(delivery.url).hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) && !addressAllowed(host, sender.allowed)) return { status: null, error: `${host} is an address webhooks may not reach` };
  try {
    const response = await request(delivery.url, {
      method: 'POST',
      dispatcher: sender.agent,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Tally-Webhooks/1',
        'x-tally-event': delivery.event,
        'x-tally-delivery': String(delivery.id),
        'x-tally-signature': signatureOf(delivery.secret, delivery.body),
      },
      body: delivery.body,
      headersTimeout: TIMEOUT_MS,
      bodyTimeout: TIMEOUT_MS,
    });
    await response.body.dump({ limit: 64 * 1024 });
    const ok = response.statusCode >= 200 && response.statusCode < 300;
    return { status: response.statusCode, error: ok ? null : `the receiver answered ${response.statusCode}` };
  } catch (error) {
    const cause = (error as { cause?: Error }).cause;
    return { status: null, error: (cause ?? (error as Error)).message.slice(0, 500) };
  }
}

/** Records an attempt: delivered, due again after the backoff, or given up after MAX_ATTEMPTS. */
async function record(db: Database, delivery: Claimed, attempt: Attempt, retryBaseMs: number): Promise<void> {
  const delivered = attempt.error === null;
  const status = delivered ? 'delivered' : delivery.attempts >= MAX_ATTEMPTS ? 'failed' : 'pending';
  const delayMs = Math.min(retryBaseMs * 2 ** (delivery.attempts - 1), RETRY_MAX_MS);
  await db.execute(sql`update webhook_deliveries set status = ${status}, locked_until = null, response_status = ${attempt.status},
      last_error = ${attempt.error}, delivered_at = ${delivered ? sql`now()` : sql`null`},
      next_attempt_at = ${status === 'pending' ? sql`now() + make_interval(secs => ${delayMs / 1000})` : sql`next_attempt_at`}
    where id = ${delivery.id}`);
  if (!delivered) log.info({ delivery: delivery.id, event: delivery.event, attempt: delivery.attempts, status, reason: attempt.error }, 'webhook delivery failed');
}

export type DeliveryOptions = { allow: string[]; retryBaseMs: number };

/** Sends every delivery that is due now, a claim at a time; returns how many attempts were made. */
export async function deliverDue(db: Database, options: DeliveryOptions, sender = createSender(options.allow)): Promise<number> {
  let attempts = 0;
  for (;;) {
    const claimed = await claimDue(db);
    if (claimed.length === 0) return attempts;
    await Promise.all(claimed.map(async (delivery) => record(db, delivery, await send(sender, delivery), options.retryBaseMs)));
    attempts += claimed.length;
  }
}

export type Deliveries = {
  /** Sends what is due now, without waiting for the next tick (after a batch commits, say). */
  poke(): void;
  stop(): Promise<void>;
};

/** How often the sending process looks for sources that went stale. */
const STALE_EVERY_MS = 5 * 60_000;

/**
 * Sends due deliveries every `intervalMs` (and when poked) until stopped, one pass at a time; every
 * five minutes a pass first queues SOURCE_STALE for sources that went stale.
 */
export function startDeliveries(db: Database, options: DeliveryOptions & { intervalMs?: number }): Deliveries {
  const sender = createSender(options.allow);
  let running: Promise<void> | undefined;
  let stopped = false;
  let staleCheckedAt = 0;
  const announce = async () => {
    if (Date.now() - staleCheckedAt < STALE_EVERY_MS) return;
    staleCheckedAt = Date.now();
    await announceStaleSources(db);
  };
  const pass = () => {
    if (stopped || running) return;
    running = announce().then(() => deliverDue(db, options, sender)).then(() => undefined, (error: unknown) => {
      log.error({ err: error }, 'webhook deliveries failed');
    }).finally(() => { running = undefined; });
  };
  const timer = setInterval(pass, options.intervalMs ?? 5_000);
  timer.unref();
  pass();
  return {
    poke: pass,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
      await sender.agent.close();
    },
  };
}
