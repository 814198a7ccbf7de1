import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchRejected } from '../../jobs/ingest.ts';
import { ingestFile } from '../../jobs/ingest-file.ts';
import { readSources } from '../../jobs/scheduler.ts';
import { syncSource } from '../../jobs/sync.ts';
import { rows, type Database } from '../../schema/database.ts';
import { readCsv } from '../helpers/csv.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startReplayServer, type RecordedRequest, type ReplayResponse, type ReplayServer } from '../helpers/replay-server.ts';

// Cercarbono's API mode against a local server that answers like EcoRegistry's front API
// (api-front.ecoregistry.io/platform) with the real captured bodies (test/fixtures/api-captures/
// cercarbono-*.json: the standard's project list, analytics/projects, analytics/get-retirements, and the
// details of CDC-1 and of CDC-106, converted in from BioCarbon). Like the live service it answers a
// request without the `platform` / `lng` headers with HTTP 200 and an ERROR_401 body, and one from
// another Origin with HTTP 500. Each list comes whole in one response, as captured; where a case
// needs less (the two projects whose detail was captured) or a fault, the body is cut in memory.

type Entity = Record<string, unknown>;
const captureUrl = (name: string) => new URL(`../fixtures/api-captures/cercarbono-${name}.json`, import.meta.url);
const capture = (name: string) => JSON.parse(readFileSync(captureUrl(name), 'utf8')) as Entity;
const list = capture('projects');
const analytics = capture('analytics');
const retirementFeed = capture('retirements');
const detail = capture('detail');
const converted = capture('detail-converted');
const listed = list.projects as Entity[];
const analyticsProjects = analytics.project as Entity[];
const retirements = retirementFeed.retirements as Entity[];
type Serial = { serial: string; issued_quantity: number; is_buffer: boolean; elegible: { description: string }[] };
const serialsOf = (p: Entity) => (p.serials as Serial[]) ?? [];
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

const ORIGIN = 'https://registry.cercarbono.com';
type Scenario = { listIds?: number[]; analytics?: Entity; refuseAnalytics?: boolean; htmlDetail?: number };
let scenario: Scenario = {};

/** EcoRegistry's gate, then the body: the capture as stored, or cut for the scenario. */
function answer(request: RecordedRequest, body: () => ReplayResponse): ReplayResponse {
  if (request.headers.platform !== 'ecoregistry' || !request.headers.lng) {
    return { json: { status: 0, codeMessages: [{ codeMessage: 'ERROR_401', param: 'invalid', message: 'No autorizado' }] } };
  }
  if (request.headers.origin !== ORIGIN) return { status: 500, json: { status: 0, message: 'Internal server error' } };
  return body();
}

async function ledger(db: Database) {
  const [t] = await rows<Record<string, unknown>>(db, sql`select
    (select count(*)::int from projects where registry_id = 'cercarbono') as projects,
    (select count(*)::int from issuances where registry_id = 'cercarbono') as issuances,
    (select coalesce(sum(quantity), 0)::bigint::text from issuances where registry_id = 'cercarbono') as issued,
    (select count(*)::int from unit_blocks where registry_id = 'cercarbono' and status = 'retired') as retirements,
    (select coalesce(sum(quantity), 0)::bigint::text from unit_blocks where registry_id = 'cercarbono' and status = 'retired') as retired,
    (select count(*)::int from events where registry_id = 'cercarbono') as events`);
  return t!;
}

describe('Cercarbono API mode (EcoRegistry)', () => {
  let t: TestDatabase;
  let db: Database;
  let server: ReplayServer;
  const config = (url: string, extra: Record<string, unknown> = {}) => ({
    baseUrl: `${url}/platform`, details: false, minIntervalMs: 0, baseDelayMs: 1, retries: 1, timeoutMs: 5_000, ...extra,
  });

  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    server = await startReplayServer([
      {
        path: '/platform/project/public-by-standard/cercarbono-co2',
        // Throttled once, with the wait to keep.
        responses: [{ status: 429, headers: { 'retry-after': '1' }, body: 'Too Many Requests' }, (req) => answer(req, () => (scenario.listIds
          ? { json: { ...list, projects: listed.filter((p) => scenario.listIds!.includes(Number(p.id))) } }
          : { file: captureUrl('projects') }))],
      },
      {
        path: '/platform/analytics/projects',
        // Fails once with a 5xx, then answers.
        responses: [{ status: 502, body: 'Bad Gateway' }, (req) => answer(req, () => {
          if (scenario.refuseAnalytics) return { json: { status: 0, codeMessages: [{ codeMessage: 'ERROR_401', param: 'invalid', message: 'No autorizado' }] } };
          return scenario.analytics ? { json: scenario.analytics } : { file: captureUrl('analytics') };
        })],
      },
      { path: '/platform/analytics/get-retirements', responses: [(req) => answer(req, () => ({ file: captureUrl('retirements') }))] },
      { path: '/platform/project/public/1', responses: [(req) => answer(req, () => ({ file: captureUrl('detail') }))] },
      {
        path: '/platform/project/public/106',
        responses: [(req) => answer(req, () => (scenario.htmlDetail === 106
          ? { status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: '<!doctype html><html><head><title>EcoRegistry</title></head><body><div id="root"></div></body></html>' }
          : { file: captureUrl('detail-converted') }))],
      },
    ]);
  });
  afterAll(async () => {
    await server.close();
    await t.close();
  });

  it('when the whole captured standard is pulled through a 429 and a 502, then its projects, serials and retirements are stored and the other standards\' are left out', async () => {
    scenario = {};
    const summary = await syncSource(db, 'cercarbono', { config: config(server.url) });
    const ids = new Set(listed.map((p) => Number(p.id)));
    const ours = analyticsProjects.filter((p) => ids.has(Number(p.id)));
    const issued = ours.flatMap(serialsOf).filter((s) => s.issued_quantity > 0);
    const retired = retirements.filter((r) => ids.has(Number(r.project_id)));
    expect(summary).toMatchObject({ status: 'committed', rowsRejected: 0, errors: [], rowsRead: listed.length + ours.length + retired.length });
    // Serials that issued nothing are warnings, not issuances.
    expect(summary.warnings.map((w) => w.code)).toEqual(ours.flatMap(serialsOf).filter((s) => s.issued_quantity === 0).map(() => 'nothing-issued'));
    expect(await ledger(db)).toEqual({
      projects: listed.length,
      issuances: issued.length,
      issued: String(sum(issued.map((s) => s.issued_quantity))),
      retirements: retired.length,
      retired: String(sum(retired.map((r) => Number(r.quantity)))),
      events: issued.length + retired.length,
    });
    // Another standard's project and retirements (the biodiversity standard's project 224, project 209) never reach the ledger.
    expect(analyticsProjects.some((p) => !ids.has(Number(p.id)))).toBe(true);
    expect(retirements.some((r) => !ids.has(Number(r.project_id)))).toBe(true);

    // CDC-1's serials add up to what its detail says the registry certified (certificatedVerification).
    const [cdc1] = await rows<{ t: string }>(db, sql`select sum(i.quantity)::bigint::text as t from issuances i join projects p on p.id = i.project_id
      where p.key = 'cercarbono:1'`);
    expect(Number(cdc1!.t)).toBe(sum((detail.certificatedVerification as { total: number }[]).map((c) => c.total)));

    // Each request carried EcoRegistry's headers and the registry's own origin; the 429's wait was kept, the 502 retried.
    expect(server.requests.every((r) => r.headers.platform === 'ecoregistry' && r.headers.lng === 'en' && r.headers.origin === ORIGIN
      && r.headers.referer === `${ORIGIN}/`)).toBe(true);
    const listCalls = server.requests.filter((r) => r.path.endsWith('/cercarbono-co2'));
    expect(listCalls).toHaveLength(2);
    expect(listCalls[1]!.at - listCalls[0]!.at).toBeGreaterThanOrEqual(900);
    expect(server.requests.filter((r) => r.path === '/platform/analytics/projects')).toHaveLength(2);

    // The retirement feed's use and final user; eligibility and SDGs as the projects state them.
    const uses = await rows<{ reason: string; purpose: string | null; n: number }>(db, sql`select retirement_reason as reason, retirement_purpose::text as purpose,
        count(*)::int as n from unit_blocks where registry_id = 'cercarbono' group by 1, 2 order by 1`);
    const byReason = new Map<string, number>();
    for (const r of retired) {
      const reason = (r.reason_using as { description: string }).description;
      byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
    }
    expect(new Map(uses.map((u) => [u.reason, u.n]))).toEqual(byReason);
    expect(uses.find((u) => u.reason === 'Colombian Carbon Tax')?.purpose).toBe('compliance');
    expect(uses.find((u) => u.reason === 'Voluntary compensation')?.purpose).toBe('voluntary');
    const wallet = retired.find((r) => String(r.final_user).includes('Polkadot'))!;
    const [block] = await rows<Record<string, unknown>>(db, sql`select retirement_beneficiary, retirement_details, serial_raw, quantity::text as quantity, status_date::text as date
      from unit_blocks where registry_id = 'cercarbono' and retirement_beneficiary like '%Polkadot%'`);
    expect(block).toEqual({ retirement_beneficiary: wallet.final_user, retirement_details: `final user's country: ${wallet.country_final_user}`,
      serial_raw: wallet.serial, quantity: `${wallet.quantity}.000`, date: String(wallet.date).slice(0, 10) });
    const tags = await rows<{ id: string; eligibility: string[]; co_benefits: string[] }>(db, sql`select registry_project_id as id, eligibility, co_benefits
      from projects where registry_id = 'cercarbono' order by registry_project_id::int`);
    const cdc29 = listed.find((p) => p.id === 29)!;
    expect(tags.find((p) => p.id === '29')).toEqual({ id: '29', eligibility: ['colombia-carbon-tax', 'voluntary-compensation'],
      co_benefits: (cdc29.projectsGlobalGoal as { globalGoalId: number }[]).map((g) => `sdg-${g.globalGoalId}`) });
    expect(tags.find((p) => p.id === '274')).toEqual({ id: '274', eligibility: [], co_benefits: [] });
  });

  it('when the standard is pulled again, then nothing changes', async () => {
    scenario = {};
    const before = await ledger(db);
    const summary = await syncSource(db, 'cercarbono', { config: config(server.url) });
    expect(summary).toMatchObject({ status: 'committed', rawRecords: { new: 0 }, events: { new: 0 }, blocks: { new: 0, changed: 0 } });
    expect(summary.issuances).toMatchObject({ new: 0, changed: 0 });
    expect(await ledger(db)).toEqual(before);
  });

  it('when a project\'s detail comes back as an HTML page with status 200, then the pull stops and nothing is stored', async () => {
    scenario = { listIds: [1, 106], htmlDetail: 106 };
    const before = await ledger(db);
    const error = await syncSource(db, 'cercarbono', { config: config(server.url, { details: true }) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchRejected);
    expect((error as BatchRejected).summary.failure).toMatch(/expected JSON from http:\/\/127\.0\.0\.1:\d+\/platform\/project\/public\/106 but got an HTML page \(HTTP 200, title "EcoRegistry"\)/);
    expect(await ledger(db)).toEqual(before);
  });

  it('when the details are pulled, then crediting periods are set, and the project converted from BioCarbon gets its issuance and a converted-in event', async () => {
    scenario = { listIds: [1, 106] };
    const before = await ledger(db);
    const summary = await syncSource(db, 'cercarbono', { config: config(server.url, { details: true }) });
    expect(summary).toMatchObject({ status: 'committed', rowsRejected: 0, errors: [] });
    const project = converted.project as Entity;
    const certified = converted.certificatedVerification as { total: number; verificationNumber: number }[];
    const period = (converted.previousCertifications as { periodInit: string; periodEnd: string }[])[0]!;

    const periods = await rows<Record<string, unknown>>(db, sql`select registry_project_id as id, crediting_period_start::text as start,
        crediting_period_end::text as "end", other_programs from projects where key in ('cercarbono:1', 'cercarbono:106') order by registry_project_id::int`);
    expect(periods).toEqual([
      { id: '1', start: (detail.project as Entity).periodInit, end: (detail.project as Entity).periodEnd, other_programs: null },
      { id: '106', start: project.periodInit, end: project.periodEnd,
        other_programs: [{ program: project.convertedFromDescription, projectId: '24', relation: 'converted-from', field: 'convertedFromLink' }] },
    ]);
    const [issuance] = await rows<Record<string, unknown>>(db, sql`select i.issuance_key, i.quantity::float8 as quantity, i.vintage_start::text as start,
        i.vintage_end::text as "end", i.vintage_year from issuances i join projects p on p.id = i.project_id where p.key = 'cercarbono:106'`);
    expect(issuance).toEqual({ issuance_key: `converted verification ${certified[0]!.verificationNumber}`, quantity: certified[0]!.total,
      start: period.periodInit, end: period.periodEnd, vintage_year: Number(period.periodEnd.slice(0, 4)) });
    const events = await rows<Record<string, unknown>>(db, sql`select kind::text, quantity::float8 as quantity, counterparty_registry_id as counterparty,
        details->>'from' as "from" from events e join projects p on p.id = e.project_id where p.key = 'cercarbono:106' and kind in ('issued', 'converted-in') order by kind`);
    expect(events).toEqual([
      { kind: 'converted-in', quantity: certified[0]!.total, counterparty: 'biocarbon', from: 'BioCarbon' },
      { kind: 'issued', quantity: certified[0]!.total, counterparty: null, from: null },
    ]);
    // What CDC-106 retired (the feed) stays within what was converted in (its detail).
    const retired106 = sum(retirements.filter((r) => r.project_id === 106).map((r) => Number(r.quantity)));
    expect(retired106).toBeLessThanOrEqual(certified[0]!.total);
    const [{ t }] = (await rows<{ t: string }>(db, sql`select sum(b.quantity)::bigint::text as t from unit_blocks b join projects p on p.id = b.project_id
      where p.key = 'cercarbono:106'`)) as [{ t: string }];
    expect(Number(t)).toBe(retired106);
    // The projects and retirements were there already: the details added the periods and the converted issuance.
    const after = await ledger(db);
    expect(after).toMatchObject({ projects: before.projects, retirements: before.retirements, issuances: Number(before.issuances) + 1 });
  });

  it('when EcoRegistry refuses with HTTP 200 and an ERROR_401 body, or another Origin gets its 500, then the pull fails with the reason and nothing is stored', async () => {
    const before = await ledger(db);
    scenario = { refuseAnalytics: true };
    const refused = await syncSource(db, 'cercarbono', { config: config(server.url) }).catch((e: unknown) => e);
    expect((refused as BatchRejected).summary.failure).toMatch(/analytics\/projects: the registry refused the request with HTTP 200 \(ERROR_401 No autorizado\)/);
    scenario = {};
    const wrongOrigin = await syncSource(db, 'cercarbono', { config: config(server.url, { origin: 'https://registry.verra.org' }) }).catch((e: unknown) => e);
    expect((wrongOrigin as BatchRejected).summary.failure).toMatch(/project\/public-by-standard\/cercarbono-co2 returned HTTP 500 .*\(2 attempts\)/);
    expect(await ledger(db)).toEqual(before);
  });

  it('when analytics/projects leaves out a listed project that was not converted in, then the pull does not reconcile and nothing is stored', async () => {
    const before = await ledger(db);
    scenario = { analytics: { ...analytics, project: analyticsProjects.filter((p) => p.id !== 29) } };
    const error = await syncSource(db, 'cercarbono', { config: config(server.url) }).catch((e: unknown) => e);
    scenario = {};
    const expected = listed.filter((p) => !p.convertedFromLink).length;
    expect((error as BatchRejected).summary.failure).toBe(`cercarbono issuances: received ${expected - 1} records but the registry reports ${expected} ` +
      '(projects on the standard\'s list, less those converted in from another registry); the pull is incomplete and nothing was stored');
    expect(await ledger(db)).toEqual(before);
  });

  it('when the retirement export is read after the feed, then a retirement both list is one block: the export\'s unit range, the feed\'s named end user', async () => {
    const exported = readCsv(new URL('../fixtures/registry-samples/cercarbono/retirements.csv', import.meta.url)).filter((r) => r.project_id === '1');
    const fromFeed = retirements.filter((r) => r.project_id === 1);
    const key = (serial: string, at: string, quantity: number) => `${serial} ${at.replace(' ', 'T').slice(0, 19)} ${quantity}`;
    const feedKeys = new Set(fromFeed.map((r) => key(String(r.serial), String(r.date), Number(r.quantity))));
    const both = exported.filter((r) => feedKeys.has(key(r.serial!, r.date!, Number(r.quantity))));
    expect(both.length).toBeGreaterThan(0);

    const summary = await ingestFile(db, new URL('../fixtures/registry-samples/cercarbono/retirements.csv', import.meta.url).pathname);
    expect(summary).toMatchObject({ status: 'committed', rowsRejected: 0 });
    const [{ n }] = (await rows<{ n: number }>(db, sql`select count(*)::int as n from unit_blocks b join projects p on p.id = b.project_id
      where p.key = 'cercarbono:1'`)) as [{ n: number }];
    expect(n).toBe(new Set([...feedKeys, ...exported.map((r) => key(r.serial!, r.date!, Number(r.quantity)))]).size);
    // A retirement whose end user the export hides ("Not public", no passive subject) but whose units it gives; the feed names the end user.
    const hidden = both.find((r) => r.end_user === 'Not public' && !r.passive_subject)!;
    const named = fromFeed.find((r) => key(String(r.serial), String(r.date), Number(r.quantity)) === key(hidden.serial!, hidden.date!, Number(hidden.quantity)))!;
    const [block] = await rows<Record<string, unknown>>(db, sql`select retirement_beneficiary, serial_start::float8 as serial_start, serial_end::float8 as serial_end, number_space from unit_blocks
      where registry_id = 'cercarbono' and block_key = ${key(hidden.serial!, hidden.date!, Number(hidden.quantity))}`);
    expect(block).toEqual({ retirement_beneficiary: named.final_user, serial_start: Number(hidden.from), serial_end: Number(hidden.to), number_space: `cercarbono:${hidden.serial}` });
  });

  it('when the scheduler reads a sources file, then Cercarbono is accepted with its configuration and refused with a bad one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tally-cercarbono-sources-'));
    try {
      const path = join(dir, 'sources.json');
      writeFileSync(path, JSON.stringify({ cercarbono: { schedule: '30 4 * * *', config: { language: 'es', details: false } } }));
      expect(readSources(path)).toEqual([{ registry: 'cercarbono', schedule: '30 4 * * *', config: { language: 'es', details: false } }]);
      writeFileSync(path, JSON.stringify({ cercarbono: { schedule: '30 4 * * *', config: { origin: 'registry.cercarbono.com' } } }));
      expect(() => readSources(path)).toThrow(/cercarbono configuration is invalid: origin/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
