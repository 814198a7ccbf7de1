import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../api/auth.ts';
import { ingestFile } from '../../jobs/ingest-file.ts';
import { recordSchedules } from '../../jobs/freshness.ts';
import { addressAllowed, allowedRanges, announceStaleSources, deliverDue } from '../../jobs/webhooks.ts';
import { organizations } from '../../schema/db/index.ts';
import { createScratchDatabase, migrateDatabase, openDatabase, rows, type DatabaseHandle, type OpenOptions } from '../../schema/database.ts';
import { startApi } from '../helpers/api.ts';

// Webhooks end to end, on a real receiver on 127.0.0.1: an organization registers a URL, the real
// SocialCarbon API responses (saved as files) are ingested, and the check that follows finds the unit
// the registry retired twice; the FINDING_OPENED delivery is signed with the webhook's secret. The
// receiver refuses the first delivery (500); the process stops, a new one opens the same database, and
// the delivery is sent again, the same bytes, and accepted. Another organization's webhook is never
// sent a private record's event.

const sample = (name: string) => new URL(`../fixtures/registry-samples/socialcarbon/${name}`, import.meta.url).pathname;
const FILES = ['projects.json', 'issuances.json', 'retirements-page1.json', 'retirements-page2.json', 'cancellations.json'];
const ALLOW = ['127.0.0.1'];

type Received = { headers: IncomingHttpHeaders; body: string; path: string };

/** A receiver that records every POST and answers with the next scripted status (then 200). */
async function startReceiver(script: number[]) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), path: req.url ?? '' });
      res.writeHead(script.shift() ?? 200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** A database that outlives its process: a scratch database on the server, else PGlite in a folder. */
async function durableDatabase() {
  const serverUrl = process.env.TEST_DATABASE_URL;
  const scratch = serverUrl ? await createScratchDatabase(serverUrl, 'tally_test') : undefined;
  const dir = scratch ? undefined : mkdtempSync(join(tmpdir(), 'tally-webhooks-'));
  const options: OpenOptions = scratch ? { url: scratch.url } : { dataDir: dir };
  const open = async () => {
    const handle = await openDatabase(options);
    await migrateDatabase(handle, options);
    return handle;
  };
  return { open, async drop() { await scratch?.drop(); if (dir) rmSync(dir, { recursive: true, force: true }); } };
}

describe('webhooks', () => {
  let database: Awaited<ReturnType<typeof durableDatabase>>;
  let handle: DatabaseHandle;
  let api: Awaited<ReturnType<typeof startApi>>;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let other: Awaited<ReturnType<typeof startReceiver>>;
  let keys: { verifier: string; other: string; unbound: string };
  let organizationIds: { verifier: number; other: number };
  let secret: string;
  let webhookIds: { verifier: string; other: string };
  const savedAllow = process.env.TALLY_WEBHOOK_ALLOW;

  const gql = <T = any>(query: string, variables: Record<string, unknown> = {}, key?: string) => api.gql<T>(query, variables, { key });
  const create = (url: string, events: string[], key?: string) =>
    gql('mutation($url: String!, $events: [WebhookEvent!]!) { createWebhook(url: $url, events: $events) { id secret webhook { id url events } } }', { url, events }, key);

  beforeAll(async () => {
    process.env.TALLY_WEBHOOK_ALLOW = ALLOW.join(',');
    database = await durableDatabase();
    handle = await database.open();
    const [verifier] = await handle.db.insert(organizations).values({ slug: 'verifier', name: 'Verifier' }).returning();
    const [second] = await handle.db.insert(organizations).values({ slug: 'other', name: 'Other' }).returning();
    organizationIds = { verifier: verifier!.id, other: second!.id };
    keys = {
      verifier: (await createApiKey(handle.db, { name: 'verifier', role: 'reader', organizationId: verifier!.id })).key,
      other: (await createApiKey(handle.db, { name: 'other', role: 'publisher', organizationId: second!.id })).key,
      unbound: (await createApiKey(handle.db, { name: 'admin', role: 'admin', organizationId: null })).key,
    };
    receiver = await startReceiver([500]);
    other = await startReceiver([]);
    api = await startApi(handle);
  }, 120_000);
  afterAll(async () => {
    if (savedAllow === undefined) delete process.env.TALLY_WEBHOOK_ALLOW;
    else process.env.TALLY_WEBHOOK_ALLOW = savedAllow;
    await api?.close();
    await handle?.close();
    await receiver?.close();
    await other?.close();
    await database?.drop();
  });

  it('when a webhook is created, then only http(s) URLs of allowed addresses and keys bound to an organization are accepted', async () => {
    const created = await create(`${receiver.url}/hooks/tally`, ['FINDING_OPENED', 'FINDING_RESOLVED', 'BATCH_COMMITTED'], keys.verifier);
    expect(created.errors).toBeUndefined();
    secret = created.data!.createWebhook.secret;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    const fromOther = await create(`${other.url}/`, ['FINDING_OPENED', 'BATCH_COMMITTED'], keys.other);
    webhookIds = { verifier: created.data!.createWebhook.id, other: fromOther.data!.createWebhook.id };

    const refusals = await Promise.all([
      create('ftp://127.0.0.1/x', ['BATCH_COMMITTED'], keys.verifier),
      create('http://10.1.2.3/x', ['BATCH_COMMITTED'], keys.verifier),
      create('http://169.254.169.254/latest/meta-data', ['BATCH_COMMITTED'], keys.verifier),
      create('http://[::1]:4000/', ['BATCH_COMMITTED'], keys.verifier),
      create('http://[::ffff:192.168.0.1]/', ['BATCH_COMMITTED'], keys.verifier),
      create(`http://user:pw@127.0.0.1/`, ['BATCH_COMMITTED'], keys.verifier),
      create(`${receiver.url}/`, [], keys.verifier),
    ]);
    for (const refusal of refusals) expect(refusal.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(refusals[1]!.errors![0]!.message).toMatch(/private, loopback or reserved address/);
    expect((await create(`${receiver.url}/`, ['BATCH_COMMITTED'])).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await create(`${receiver.url}/`, ['BATCH_COMMITTED'], keys.unbound)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    expect(addressAllowed('8.8.8.8', [])).toBe(true);
    expect(addressAllowed('127.0.0.1', [])).toBe(false);
    expect(addressAllowed('100.64.0.1', [])).toBe(false);
    expect(addressAllowed('fd00::1', [])).toBe(false);
    expect(addressAllowed('10.9.8.7', allowedRanges(['10.0.0.0/8']))).toBe(true);
    expect(() => allowedRanges(['not-an-address'])).toThrow(/TALLY_WEBHOOK_ALLOW/);
  });

  it('when a batch raises a finding, then the receiver gets FINDING_OPENED signed with the secret, after a failure and a restart', async () => {
    for (const name of FILES) expect(await ingestFile(handle.db, sample(name)), name).toMatchObject({ status: 'committed' });
    const [opened] = await rows<{ n: number; tonnes: number }>(handle.db, sql`select count(*)::int as n, coalesce(sum(tonnes_at_risk), 0)::float8 as tonnes
      from findings where status = 'open' and not is_private`);
    expect(opened!.n).toBeGreaterThan(0);

    const options = { allow: ALLOW, retryBaseMs: 300 };
    await deliverDue(handle.db, options);
    const findingBodies = () => receiver.received.filter((r) => r.headers['x-tally-event'] === 'FINDING_OPENED');
    // One POST per finding and one per batch; the first of them was answered 500.
    expect(findingBodies().length).toBe(opened!.n);
    expect(receiver.received.filter((r) => r.headers['x-tally-event'] === 'BATCH_COMMITTED').length).toBe(FILES.length);
    const [pending] = await rows<{ id: number; attempts: number; response_status: number }>(handle.db, sql`select id::float8 as id, attempts, response_status
      from webhook_deliveries where status = 'pending'`);
    expect(pending).toMatchObject({ attempts: 1, response_status: 500 });
    const refused = receiver.received[0]!;

    // The process stops; another opens the same database and sends what is due.
    await api.close();
    await handle.close();
    handle = await database.open();
    api = await startApi(handle);
    await new Promise((resolve) => setTimeout(resolve, 400));
    await deliverDue(handle.db, options);
    const retried = receiver.received.at(-1)!;
    expect(retried.body).toBe(refused.body);
    expect(retried.headers['x-tally-delivery']).toBe(String(pending!.id));
    const [after] = await rows<{ status: string; attempts: number }>(handle.db, sql`select status, attempts from webhook_deliveries where id = ${pending!.id}`);
    expect(after).toEqual({ status: 'delivered', attempts: 2 });

    for (const delivery of receiver.received) {
      expect(delivery.headers['x-tally-signature']).toBe(`sha256=${createHmac('sha256', secret).update(delivery.body).digest('hex')}`);
      expect(delivery.headers['content-type']).toBe('application/json');
      expect(delivery.path).toBe('/hooks/tally');
    }
    const findings = findingBodies().map((r) => JSON.parse(r.body));
    const twice = findings.find((f) => f.finding.kind === 'retired-twice');
    expect(twice).toMatchObject({ event: 'FINDING_OPENED', finding: { status: 'open', tonnesAtRisk: 1, private: false } });
    expect(findings.reduce((s, f) => s + f.finding.tonnesAtRisk, 0)).toBeCloseTo(opened!.tonnes, 3);
  }, 240_000);

  it('when an organization uploads privately, then its events reach its own webhooks only', async () => {
    const before = other.received.length;
    const privately = await ingestFile(handle.db, sample('retirements-page1.json'), { ownerOrganizationId: organizationIds.verifier, isPrivate: true });
    expect(privately.status).toBe('committed');
    await deliverDue(handle.db, { allow: ALLOW, retryBaseMs: 300 });
    const mine = receiver.received.filter((r) => JSON.parse(r.body).batch?.id === String(privately.batchId));
    expect(mine).toHaveLength(1);
    expect(JSON.parse(mine[0]!.body).batch.private).toBe(true);
    const leaked = other.received.slice(before).filter((r) => r.body.includes('"private": true'));
    expect(leaked).toEqual([]);
    const [queued] = await rows<{ n: number }>(handle.db, sql`select count(*)::int as n from webhook_deliveries d join webhooks w on w.id = d.webhook_id
      where w.organization_id = ${organizationIds.other} and (d.body like '%"private": true%' or d.subject = ${`batch:${privately.batchId}`})`);
    expect(queued!.n).toBe(0);

    // Another organization's webhook does not exist for anyone else.
    const listed = await gql<{ webhooks: { id: string; deliveries: { status: string }[] }[] }>('{ webhooks { id deliveries(first: 100) { status } } }', {}, keys.other);
    expect(listed.data!.webhooks.map((w) => w.id)).toEqual([webhookIds.other]);
    expect((await gql('mutation($id: ID!) { deleteWebhook(id: $id) }', { id: webhookIds.verifier }, keys.other)).data).toEqual({ deleteWebhook: false });
    const mineListed = await gql<{ webhooks: { deliveries: { status: string; attempts: number }[] }[] }>('{ webhooks { deliveries(first: 100) { status attempts } } }', {}, keys.verifier);
    expect(mineListed.data!.webhooks[0]!.deliveries.every((d) => d.status === 'DELIVERED')).toBe(true);
  }, 120_000);

  it('when a scheduled source misses its windows, then SOURCE_STALE is queued once per last successful pull (simulated clock)', async () => {
    const created = await create(`${other.url}/stale`, ['SOURCE_STALE'], keys.other);
    expect(created.errors).toBeUndefined();
    // Pulled daily at 03:00; the last successful pull started on 2 March at 03:00.
    await recordSchedules(handle.db, [{ registry: 'socialcarbon', schedule: '0 3 * * *' }]);
    const pulledAt = (when: Date) => handle.db.execute(sql`update connector_state set last_success_at = ${when.toISOString()}, last_run_at = ${when.toISOString()}
      where connector = 'socialcarbon-api' and stream = 'all'`);
    await pulledAt(new Date(2026, 2, 2, 3));
    expect(await announceStaleSources(handle.db, new Date(2026, 2, 3, 12))).toBe(0);
    expect(await announceStaleSources(handle.db, new Date(2026, 2, 5, 12))).toBe(1);
    expect(await announceStaleSources(handle.db, new Date(2026, 2, 6, 12))).toBe(0);
    // It recovered, then fell behind again: announced again.
    await pulledAt(new Date(2026, 2, 7, 3));
    expect(await announceStaleSources(handle.db, new Date(2026, 2, 7, 12))).toBe(0);
    expect(await announceStaleSources(handle.db, new Date(2026, 2, 10, 12))).toBe(1);

    await deliverDue(handle.db, { allow: ALLOW, retryBaseMs: 300 });
    // Deliveries due together are sent at once: they may arrive in any order.
    const sent = other.received.filter((r) => r.path === '/stale').map((r) => JSON.parse(r.body));
    expect(sent.map((b) => [b.event, b.source.registry, b.source.status, b.source.lastSuccessAt]).sort((x, y) => x[3].localeCompare(y[3]))).toEqual([
      ['SOURCE_STALE', 'socialcarbon', 'stale', new Date(2026, 2, 2, 3).toISOString()],
      ['SOURCE_STALE', 'socialcarbon', 'stale', new Date(2026, 2, 7, 3).toISOString()],
    ]);
    // The verifier's webhook did not ask for SOURCE_STALE.
    expect(receiver.received.filter((r) => r.headers['x-tally-event'] === 'SOURCE_STALE')).toEqual([]);
  });

  it('when an address is no longer allowed, or a name resolves to a private one, then nothing is sent there', async () => {
    const before = receiver.received.length;
    const queue = (subject: string) => handle.db.execute(sql`insert into webhook_deliveries (webhook_id, event, subject, body)
      values (${webhookIds.verifier}::bigint, 'BATCH_COMMITTED', ${subject}, '{"event": "BATCH_COMMITTED"}')`);
    await queue('test:literal');
    await deliverDue(handle.db, { allow: [], retryBaseMs: 60_000 });
    // The same receiver under a name: the check is made on the address the name resolves to, when connecting.
    await handle.db.execute(sql`update webhooks set url = replace(url, '127.0.0.1', 'localhost') where id = ${webhookIds.verifier}::bigint`);
    await queue('test:named');
    await deliverDue(handle.db, { allow: [], retryBaseMs: 60_000 });
    expect(receiver.received.length).toBe(before);
    const refused = await rows<{ subject: string; status: string; response_status: number | null; last_error: string }>(handle.db, sql`select subject, status, response_status, last_error
      from webhook_deliveries where subject like 'test:%' order by subject`);
    expect(refused).toEqual([
      { subject: 'test:literal', status: 'pending', response_status: null, last_error: expect.stringMatching(/127\.0\.0\.1 is an address webhooks may not reach/) },
      { subject: 'test:named', status: 'pending', response_status: null, last_error: expect.stringMatching(/localhost resolves to .* which webhooks may not reach/) },
    ]);
  });

  it('when a webhook is deleted, then its queued deliveries go with it', async () => {
    const deleted = await gql('mutation($id: ID!) { deleteWebhook(id: $id) }', { id: webhookIds.other }, keys.other);
    expect(deleted.data).toEqual({ deleteWebhook: true });
    const [left] = await rows<{ n: number }>(handle.db, sql`select count(*)::int as n from webhook_deliveries where webhook_id = ${webhookIds.other}::bigint`);
    expect(left!.n).toBe(0);
  });
});
