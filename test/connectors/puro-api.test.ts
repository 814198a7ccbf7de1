import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { puroApi } from '../../connectors/puro/api.ts';
import { parsePuroCertificate } from '../../connectors/puro/certificate.ts';
import { HttpClient } from '../../connectors/runtime/http.ts';
import { BatchRejected } from '../../jobs/ingest.ts';
import { ingestFile } from '../../jobs/ingest-file.ts';
import { readSources } from '../../jobs/scheduler.ts';
import { syncSource } from '../../jobs/sync.ts';
import { rows, textArray, type Database } from '../../schema/database.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startReplayServer, type ReplayResponse, type ReplayServer } from '../helpers/replay-server.ts';

// Puro.earth from its captured pages (test/fixtures/api-captures/puro-*.html), served over loopback as
// the registry serves them: HTML whose data sits in the Next.js RSC payload. The captures hold 6
// projects, every issuance and retirement that touches them, and their project pages; the pages'
// `Issued credits` / `Retired credits` equal what the lists add up to, which is how a pull reconciles.

const capturePath = (name: string) => new URL(`../fixtures/api-captures/${name}`, import.meta.url);
const capture = (name: string) => readFileSync(capturePath(name), 'utf8');

type Entity = Record<string, any>;

/**
 * The records of a captured page, read here without the connector's decoder: every push's string
 * literal, joined, and the `{"data":[…]}` object cut out of its flight row (`17:["$","$L1f",null,{…}]`),
 * which ends with the row's last `]`.
 */
function recordsOf(html: string): Entity[] {
  const joined = html.split('self.__next_f.push([1,').slice(1)
    .map((part) => JSON.parse(part.slice(0, part.indexOf('])</script>'))) as string).join('');
  const row = joined.split('\n').find((line) => line.includes('{"data":['))!;
  return (JSON.parse(row.slice(row.indexOf('{"data":['), row.lastIndexOf(']'))) as { data: Entity[] }).data;
}
/** A project page's stated figure, read here with a plain search. */
function stated(html: string, label: 'Issued credits' | 'Retired credits'): number {
  const joined = html.split('self.__next_f.push([1,').slice(1).map((part) => JSON.parse(part.slice(0, part.indexOf('])</script>'))) as string).join('');
  return Number(joined.split(`"label":"${label}","value":`)[1]!.match(/^\d+/)![0]);
}
/** The same list as a page the site could serve, in one push (for a list cut short). */
function pageOf(records: Entity[]): string {
  const payload = `17:["$","$L1f",null,${JSON.stringify({ data: records })}]\n`;
  return `<!DOCTYPE html><html lang="en"><head><meta charSet="utf-8"/><title>Puro.earth | Registry</title></head><body><script>self.__next_f.push([0])</script><script>self.__next_f.push([1,${JSON.stringify(payload)}])</script></body></html>`;
}

const projects = recordsOf(capture('puro-projects.html'));
const issuances = recordsOf(capture('puro-issuances.html'));
const retirements = recordsOf(capture('puro-retirements.html'));
const codes = projects.map((p) => String(p.code));
const details = new Map(codes.map((code) => [code, capture(`puro-detail-${code}.html`)]));

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const bundlesOf = (list: Entity[]) => list.flatMap((t) => t.bundles as Entity[]);
const groupSum = <K>(list: Entity[], key: (e: Entity) => K) => {
  const out = new Map<K, number>();
  for (const e of list) out.set(key(e), (out.get(key(e)) ?? 0) + Number(e.volume));
  return out;
};

const config = (url: string, extra: Record<string, unknown> = {}) => ({ baseUrl: url, minIntervalMs: 0, baseDelayMs: 1, retries: 3, timeoutMs: 10_000, ...extra });

async function ledger(db: Database) {
  const [t] = await rows<Record<string, unknown>>(db, sql`select
    (select count(*)::int from projects where registry_id = 'puro') as projects,
    (select count(*)::int from issuances where registry_id = 'puro') as issuances,
    (select coalesce(sum(quantity), 0)::float8 from issuances where registry_id = 'puro') as issued,
    (select count(*)::int from unit_blocks where registry_id = 'puro' and status = 'retired' and superseded_in_batch_id is null) as blocks,
    (select coalesce(sum(quantity), 0)::float8 from unit_blocks where registry_id = 'puro' and status = 'retired' and superseded_in_batch_id is null) as retired,
    (select count(*)::int from events where registry_id = 'puro') as events`);
  return t!;
}

describe('Puro certificates', () => {
  it('when every captured certificate is parsed, then its range holds its bundle\'s volume in the issuance\'s number space', () => {
    const all = bundlesOf([...issuances, ...retirements]);
    expect(all).toHaveLength(11 + 57);
    for (const b of all) {
      const parsed = parsePuroCertificate(b.certificates);
      expect(parsed.ok, b.certificates).toBe(true);
      if (!parsed.ok) continue;
      expect(parsed.range.end - parsed.range.start + 1).toBe(b.volume);
      expect(parsed.range.numberSpace.startsWith(`puro:${b.productionFacilityCode}:${b.vintage}:${b.issuanceId}`)).toBe(true);
    }
    // Before the registry's current numbering: 30 digits, an 18-digit GS1 prefix and a 12-digit count.
    expect(parsePuroCertificate('PURO_PR_CORC_NO_310958_2021_1d0a0330-ea06-4d66-ba94-18de94f9933f_643002406555908610000000084101-643002406555908610000000084108'))
      .toMatchObject({ ok: true, range: { start: 84101, end: 84108, country: 'NO', numberSpace: 'puro:310958:2021:1d0a0330-ea06-4d66-ba94-18de94f9933f:643002406555908610' } });
    // `NA` is Namibia; the older class spelling holds an underscore.
    expect(parsePuroCertificate('PURO_PR_CORC_100_NA_583695_2025_d4257227-d51e-4f45-81ef-a50d86368965_775-784')).toMatchObject({ ok: true, range: { creditClass: 'CORC_100', country: 'NA', facility: '583695', start: 775, end: 784 } });
    expect(parsePuroCertificate('PURO_PR_CORC_NO_310958_2021_1d0a0330-ea06-4d66-ba94-18de94f9933f_643002406555908610000000084101-643002406801000010000000084108'))
      .toMatchObject({ ok: false, error: expect.stringMatching(/different 18-digit prefixes/) });
    expect(parsePuroCertificate('PURO_PR_CORC100+_US_517437_2026_82509f97-a54d-4745-86b3-a6da7a4c9e6e_3001-1')).toMatchObject({ ok: false, error: expect.stringMatching(/end 1 is before start 3001/) });
  });
});

describe('Puro API mode (the registry\'s pages)', () => {
  let t: TestDatabase;
  let db: Database;
  let server: ReplayServer;
  let dir: string;
  /** What the next pull's list pages answer, by path; the captures unless a case says otherwise. */
  const override = new Map<string, ReplayResponse[]>();
  const served = new Map<string, number>();

  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    dir = mkdtempSync(join(tmpdir(), 'tally-puro-'));
    const route = (path: string, file: string) => ({
      path,
      responses: [(): ReplayResponse => {
        const queue = override.get(path);
        served.set(path, (served.get(path) ?? 0) + 1);
        if (queue && queue.length > 0) return queue.shift()!;
        return { file: capturePath(file) };
      }],
    });
    server = await startReplayServer([
      route('/projects', 'puro-projects.html'),
      route('/issuances', 'puro-issuances.html'),
      route('/retirements', 'puro-retirements.html'),
      ...codes.map((code) => route(`/projects/${code}`, `puro-detail-${code}.html`)),
    ]);
  });
  afterAll(async () => {
    await server.close();
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when the registry answers 429 with Retry-After and then a 5xx, then the pull waits, retries, reads every page and the ledger holds what the pages add up to', async () => {
    override.set('/issuances', [{ status: 429, headers: { 'retry-after': '1' }, body: 'Too Many Requests' }, { status: 503, body: 'Service Unavailable' }]);
    served.clear();
    const started = Date.now();
    const summary = await syncSource(db, 'puro', { config: config(server.url) });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(served.get('/issuances')).toBe(3);
    expect(summary).toMatchObject({ status: 'committed', rowsRejected: 0, errors: [], rowsRead: projects.length + issuances.length + retirements.length + codes.length });
    // One request per project page: the reconciliation.
    for (const code of codes) expect(served.get(`/projects/${code}`), code).toBe(1);

    const expected = {
      projects: codes.length,
      issuances: issuances.length,
      issued: sum(issuances.map((i) => i.volume)),
      blocks: bundlesOf(retirements).length,
      retired: sum(retirements.map((r) => r.volume)),
    };
    expect(expected).toEqual({ projects: 6, issuances: 11, issued: 37_181, blocks: 57, retired: 11_657 });
    const l = await ledger(db);
    expect(l).toMatchObject(expected);
    // The ledger's derived events: one issued per issuance, one retired per bundle.
    expect(l.events).toBe(expected.issuances + expected.blocks);
    // The retired ranges of one issuance never overlap one another.
    expect(summary.check?.rules['serial-overlap']?.found).toBe(0);
    expect(summary.check?.rules['retired-twice']?.found).toBe(0);

    // Per project, the ledger agrees with the project's own page (the registry's only totals).
    const perProject = await rows<{ code: string; issued: number; retired: number }>(db, sql`select p.registry_project_id as code,
        (select coalesce(sum(quantity), 0)::float8 from issuances i where i.project_id = p.id) as issued,
        (select coalesce(sum(quantity), 0)::float8 from unit_blocks b where b.project_id = p.id and b.status = 'retired') as retired
      from projects p where p.registry_id = 'puro' order by 1`);
    expect(perProject).toEqual([...codes].sort().map((code) => ({ code, issued: stated(details.get(code)!, 'Issued credits'), retired: stated(details.get(code)!, 'Retired credits') })));

    // Per vintage, from the bundles.
    const byVintage = await rows<{ vintage: number; t: number }>(db, sql`select vintage_year as vintage, sum(quantity)::float8 as t
      from unit_blocks where registry_id = 'puro' group by 1 order by 1`);
    expect(new Map(byVintage.map((v) => [v.vintage, v.t]))).toEqual(groupSum(bundlesOf(retirements), (b) => b.vintage as number));
  });

  it('when a retirement spans several facilities, then each bundle is a block of its own facility, linked to the issuance it drew from', async () => {
    const multi = retirements.find((r) => r.id.startsWith('c97b53e4'))!;
    expect(multi.bundles).toHaveLength(6);
    const stored = await rows<Record<string, unknown>>(db, sql`select p.registry_project_id as facility, b.quantity::float8 as quantity, i.issuance_key,
        b.retirement_beneficiary as beneficiary, b.account_holder, b.retirement_reason as reason, b.status_date::text as date, b.unit_type::text as unit_type
      from unit_blocks b join projects p on p.id = b.project_id left join issuances i on i.id = b.issuance_id
      where b.block_key = any(${textArray((multi.bundles as Entity[]).map((b) => String(b.certificates)))}) order by b.block_key`);
    expect(stored).toEqual([...(multi.bundles as Entity[])].sort((a, b) => (a.certificates < b.certificates ? -1 : 1)).map((b) => ({
      facility: b.productionFacilityCode, quantity: b.volume, issuance_key: `${b.vintage}/${b.issuanceId}`,
      beneficiary: multi.retirementDetails.beneficiaryName, account_holder: multi.accountHolderName, reason: multi.retirementDetails.usageType,
      date: multi.completedOn.slice(0, 10), unit_type: 'removal-technical',
    })));
    // Every retired block links to its issuance: all the issuances are in the captures.
    const [unlinked] = await rows<{ n: number }>(db, sql`select count(*)::int as n from unit_blocks where registry_id = 'puro' and issuance_id is null`);
    expect(unlinked!.n).toBe(0);
  });

  it('when the projects are read, then Namibia stays Namibia and the methodology codes are removals the taxonomy places', async () => {
    const stored = await rows<Record<string, unknown>>(db, sql`select registry_project_id as code, country, methodologies, category, proponent
      from projects where registry_id = 'puro' order by 1`);
    expect(stored).toEqual([...projects].sort((a, b) => (a.code < b.code ? -1 : 1)).map((p) => ({
      code: p.code, country: p.countryCode, proponent: p.supplierName,
      methodologies: [{ C01000000: 'puro-wooden-building-elements', C03000000: 'puro-biochar', C06000000: 'puro-terrestrial-storage-of-biomass' }[p.methodologyCode as string]],
      category: 'carbon-capture',
    })));
    expect(stored.find((p) => p.code === '583695')!.country).toBe('NA');
  });

  it('when the same pages are pulled again, then nothing changes', async () => {
    const before = await ledger(db);
    const summary = await syncSource(db, 'puro', { config: config(server.url) });
    expect(summary.projects).toMatchObject({ new: 0, changed: 0 });
    expect(summary.issuances).toMatchObject({ new: 0, changed: 0 });
    expect(summary.blocks).toMatchObject({ new: 0, changed: 0, superseded: 0 });
    expect(summary.events.new).toBe(0);
    expect(await ledger(db)).toEqual(before);
  });

  it('when a list page is an HTML error page at HTTP 200 with no data, then the pull fails saying so and nothing is stored', async () => {
    const before = await ledger(db);
    const errorPages = [
      '<!DOCTYPE html><html><head><title>Puro.earth | Something went wrong</title></head><body><h1>500</h1></body></html>',
      // A Next.js page that rendered, but not the table.
      `<!DOCTYPE html><html><head><title>Puro.earth | Registry</title></head><body><script>self.__next_f.push([1,${JSON.stringify('1:"$Sreact.fragment"\n2:["$","h1",null,{"children":"Application error"}]\n')}])</script></body></html>`,
    ];
    for (const page of errorPages) {
      override.set('/retirements', [{ status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: page }]);
      served.clear();
      const error = await syncSource(db, 'puro', { config: config(server.url) }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BatchRejected);
      expect((error as BatchRejected).summary.failure).toMatch(/^puro retirements list: GET retirements: the answer is a page titled "Puro\.earth \| (Something went wrong|Registry)"/);
      expect(served.get('/retirements')).toBe(1); // an HTML page is an answer, not a transient failure: not retried
      expect(await ledger(db)).toEqual(before);
    }
  });

  it('when a list is cut short, then the project pages do not add up, the pull fails naming the project and nothing is stored', async () => {
    const before = await ledger(db);
    const dropped = retirements.find((r) => r.id.startsWith('95576a91'))!; // 310 retired from 181856
    override.set('/retirements', [{ status: 200, headers: { 'content-type': 'text/html; charset=utf-8' }, body: pageOf(retirements.filter((r) => r !== dropped)) }]);
    const error = await syncSource(db, 'puro', { config: config(server.url) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchRejected);
    const retired181856 = stated(details.get('181856')!, 'Retired credits');
    expect((error as BatchRejected).summary.failure).toBe(`puro: the lists do not add up to the totals the projects' own pages state (1 difference: project 181856: its page states ${retired181856.toLocaleString('en-US')} retired, the retirement list adds up to ${(retired181856 - dropped.volume).toLocaleString('en-US')}); the pull is incomplete or the site changed while it ran, and nothing was stored`);
    expect(await ledger(db)).toEqual(before);
  });

  it('when a list page is saved, then the page itself is no file Tally reads, but its data saved as JSON is, and reads as the pull did', async () => {
    const html = join(dir, 'puro-retirements.html');
    writeFileSync(html, capture('puro-retirements.html'));
    await expect(ingestFile(db, html)).rejects.toThrow(/expected a registry export as \.csv or \.xlsx, or a saved API response as \.json/);
    for (const name of ['projects.json', 'issuances.json', 'retirements.json']) {
      const path = new URL(`../fixtures/registry-samples/puro/${name}`, import.meta.url).pathname;
      const summary = await ingestFile(db, path);
      expect(summary, name).toMatchObject({ status: 'committed', format: `puro-${name.replace('.json', '')}-json`, rowsRejected: 0 });
      expect(summary.projects.new + summary.issuances.new + summary.blocks.new + summary.events.new, name).toBe(0);
      expect(summary.issuances.changed + summary.blocks.changed, name).toBe(0);
    }
  });

  it('when saved records are malformed, then each is reported with its item and field and stores nothing', async () => {
    const [a, b, c] = retirements as [Entity, Entity, Entity];
    const path = join(dir, 'puro-retirements-broken.json');
    writeFileSync(path, JSON.stringify({ data: [
      { ...a, volume: a.volume + 1 }, // item 0: the bundles hold one less
      { ...b, bundles: [{ ...b.bundles[0], volume: 2 }] }, // item 1: the certificate holds 1
      { ...c, bundles: [{ ...c.bundles[0], productionFacilityCode: '181856' }] }, // item 2: the certificate names 583695
    ] }));
    const before = await ledger(db);
    const summary = await ingestFile(db, path);
    expect(summary).toMatchObject({ status: 'committed', format: 'puro-retirements-json', rowsRead: 3, rowsRejected: 3 });
    expect(summary.errors.map((e) => [e.locator, e.field, e.code])).toEqual([
      ['item 0', 'volume', 'volume-mismatch'],
      ['item 1', 'bundles[0].certificates', 'serial-quantity-mismatch'],
      ['item 2', 'bundles[0].productionFacilityCode', 'serial-project-mismatch'],
    ]);
    expect(summary.errors[0]!.message).toBe(`item 0: volume: ${a.volume + 1} but its bundles hold ${a.volume}`);
    expect(await ledger(db)).toEqual(before);
  });

  it('when the source is checked, then it answers with the number of projects its index lists', async () => {
    const settings = puroApi.config.parse(config(server.url));
    const http = new HttpClient(puroApi.http(settings));
    try {
      expect(await puroApi.check(http, settings)).toBe(`puro: ${projects.length} projects listed at ${server.url}/projects`);
    } finally {
      await http.close();
    }
  });

  it('when Puro is configured in the sources file, then the scheduler accepts it', () => {
    const path = join(dir, 'sources.json');
    writeFileSync(path, JSON.stringify({ puro: { schedule: '0 4 * * *', config: { projectTotals: true } } }));
    expect(readSources(path)).toEqual([{ registry: 'puro', schedule: '0 4 * * *', config: { projectTotals: true } }]);
    writeFileSync(path, JSON.stringify({ puro: { schedule: '0 4 * * *', config: { projectTotals: 'yes' } } }));
    expect(() => readSources(path)).toThrow(/puro configuration is invalid: projectTotals/);
  });
});
