import { readFileSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePlanVivoSerial } from '../../connectors/plan-vivo/serial.ts';
import { BatchRejected } from '../../jobs/ingest.ts';
import { syncSource } from '../../jobs/sync.ts';
import { rows, type Database } from '../../schema/database.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { platformSearch, type Entity } from '../helpers/platform-emulator.ts';
import { startReplayServer, type ReplayServer } from '../helpers/replay-server.ts';

// Plan Vivo, the S&P platform's PVCL tenant, from its captured responses (test/fixtures/api-captures/
// planvivo-*.json). The issuance and holding captures were trimmed by the capturing tool (7 of 27 and
// 3 of 10 entities), so served as they are they do not reconcile, which is the second case below.

const capture = (name: string) => JSON.parse(readFileSync(new URL(`../fixtures/api-captures/${name}`, import.meta.url), 'utf8')) as { entities: Entity[]; totalEntities: number };
const projects = capture('planvivo-projects.json');
const issuances = capture('planvivo-issuances.json');
const holdings = capture('planvivo-holdings.json');
const config = (url: string) => ({ baseUrl: `${url}/es/public`, minIntervalMs: 0, baseDelayMs: 1, retries: 1, timeoutMs: 5_000 });

async function ledger(db: Database) {
  const [t] = await rows<Record<string, unknown>>(db, sql`select
    (select count(*)::int from projects where registry_id = 'plan-vivo') as projects,
    (select coalesce(sum(quantity), 0)::text from issuances where registry_id = 'plan-vivo') as issued,
    (select count(*)::int from issuances where registry_id = 'plan-vivo') as issuances,
    (select coalesce(sum(quantity), 0)::text from unit_blocks where registry_id = 'plan-vivo' and status = 'held') as held`);
  return t!;
}

describe('Plan Vivo serials', () => {
  it('when a captured serial is parsed, then its range holds the record\'s quantity in the project\'s number space', () => {
    for (const e of [...issuances.entities, ...holdings.entities]) {
      const parsed = parsePlanVivoSerial(String(e.serialNo));
      expect(parsed.ok, String(e.serialNo)).toBe(true);
      if (!parsed.ok) continue;
      expect(parsed.range.end - parsed.range.start + 1).toBe(e.holdingQuantity);
      expect(parsed.range.numberSpace).toBe(`plan-vivo:${e.projectId}`);
    }
    expect(parsePlanVivoSerial('PV-rPVC-MZ-1-01052022-30042023-2550-1-SPG')).toMatchObject({ ok: false, error: expect.stringMatching(/end 1 is before start 2550/) });
    expect(parsePlanVivoSerial('PV-rPVC-MZ-1-31022022-30042023-1-2-SPG')).toMatchObject({ ok: false, error: expect.stringMatching(/vintage period/) });
  });
});

describe('Plan Vivo API mode', () => {
  let t: TestDatabase;
  let db: Database;
  let server: ReplayServer;
  let raw = false;
  const search = platformSearch({ project: projects.entities, issuances: issuances.entities, holdings: holdings.entities }, { window: 10_000, knownFilters: [] });

  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    const asCaptured: Record<string, unknown> = { project: projects, issuances, holdings };
    server = await startReplayServer(['project', 'issuances', 'holdings'].map((resource) => ({
      method: 'POST',
      path: `/es/public/${resource}/publicReportPageSearch`,
      responses: [(req) => (raw ? { json: asCaptured[resource] } : search(req))],
    })));
  });
  afterAll(async () => {
    await server.close();
    await t.close();
  });

  it('when the captured records are served consistently, then the tenant pulls them with its own headers and the ledger holds them', async () => {
    const summary = await syncSource(db, 'plan-vivo', { config: config(server.url) });
    expect(summary).toMatchObject({ status: 'committed', rowsRejected: 0, rowsRead: projects.entities.length + issuances.entities.length + holdings.entities.length });
    const sum = (list: Entity[]) => list.reduce((s, e) => s + Number(e.holdingQuantity), 0);
    expect(await ledger(db)).toEqual({
      projects: new Set([...projects.entities, ...issuances.entities, ...holdings.entities].map((e) => e.projectId)).size,
      issuances: issuances.entities.length,
      issued: String(sum(issuances.entities)) + '.000',
      held: String(sum(holdings.entities)) + '.000',
    });
    const headers = server.requests[0]!.headers;
    expect(headers).toMatchObject({ registry: 'PVCL', standardid: '671000000000001', standardacronym: 'PV', language: 'en' });
  });

  it('when the trimmed captures are served as they are, then the pull does not reconcile and nothing is stored', async () => {
    const before = await ledger(db);
    raw = true;
    const error = await syncSource(db, 'plan-vivo', { config: config(server.url) }).catch((e: unknown) => e);
    raw = false;
    expect(error).toBeInstanceOf(BatchRejected);
    expect((error as BatchRejected).summary.failure).toMatch(/reported 27 records and served 7/);
    expect(await ledger(db)).toEqual(before);
  });
});
