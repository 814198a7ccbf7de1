import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { sql } from 'drizzle-orm';
import { DEFAULT_API_LIMITS } from '../../schema/config.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../api/auth.ts';
import { ingestFile } from '../../jobs/ingest-file.ts';
import { loadSamplesIfEmpty } from '../../jobs/samples.ts';
import { organizations } from '../../schema/db/index.ts';
import { rows, type Database } from '../../schema/database.ts';
import { startApi } from '../helpers/api.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';

// The GraphQL API on the real samples (the registry exports a fresh Tally loads, and the §6.3
// conversion case), with a private draft and a private AEF uploaded through the API by organization A.
// Expected values come from the fixture files or from SQL over the ledger, never from the API itself.

const fixture = (path: string) => new URL(`../fixtures/${path}`, import.meta.url).pathname;
const csvRows = (path: string) => parse(readFileSync(fixture(path)), { columns: true, bom: true }) as Record<string, string>[];
// Organization A's private record: an Article 6.4 mechanism project and its units in CAD Trust v2. The
// mechanism publishes through uploads (README, "Sources of record and mirrors"), so the upload is its
// record, seen by A alone. A's private upload of ART's own export is a report of ART's units instead.
const A64 = ['a64-pacm-10471.json', 'a64-pacm-10471-units.json', 'a64-pacm-10471-unit-labels.json'];
const a64Files = () => A64.map((name) => ({ name, content: readFileSync(fixture(`cad-trust/${name}`)) }));
const A64_KEY = 'a64-mechanism:A6.4-PoA-10471';
const a64Units = () => (JSON.parse(readFileSync(fixture(`cad-trust/${A64[1]}`), 'utf8')) as { data: { unitCount: number }[] }).data;

type Keys = { admin: string; reader: string; readerA: string; publisherA: string; publisherB: string };

describe('GraphQL API', () => {
  let t: TestDatabase;
  let db: Database;
  let api: Awaited<ReturnType<typeof startApi>>;
  const keys = {} as Keys;
  let statementTexts: string[] = [];

  beforeAll(async () => {
    t = await openTestDatabase({ onQuery: (text) => { statementTexts.push(text); } });
    db = t.handle.db;
    await loadSamplesIfEmpty(db);
    for (const file of ['car-projects.csv', 'car-issuances.csv', 'verra-projects.json', 'verra-issuances.json']) await ingestFile(db, fixture(`integrity/${file}`));
    const [a] = await db.insert(organizations).values({ slug: 'vanuatu', name: 'Government of Vanuatu', country: 'VU' }).returning();
    const [b] = await db.insert(organizations).values({ slug: 'other-gov', name: 'Another government' }).returning();
    keys.admin = (await createApiKey(db, { name: 'admin', role: 'admin', organizationId: null })).key;
    keys.reader = (await createApiKey(db, { name: 'researcher', role: 'reader', organizationId: null })).key;
    keys.readerA = (await createApiKey(db, { name: 'vanuatu analyst', role: 'reader', organizationId: a!.id })).key;
    keys.publisherA = (await createApiKey(db, { name: 'vanuatu registry', role: 'publisher', organizationId: a!.id })).key;
    keys.publisherB = (await createApiKey(db, { name: 'other registry', role: 'publisher', organizationId: b!.id })).key;
    api = await startApi(t.handle);
    const draft = await api.upload(a64Files(), { key: keys.publisherA, private: true });
    expect(draft.data?.upload).toMatchObject({ accepted: true, errors: [] });
    const report = await api.upload([
      { name: 'projects.csv', content: readFileSync(fixture('api/private-art-projects.csv')) },
      { name: 'issuances.csv', content: readFileSync(fixture('api/private-art-issuances.csv')) },
    ], { key: keys.publisherA, private: true });
    expect(report.data?.upload).toMatchObject({ accepted: true, errors: [] });
    const aef = await api.upload([{ name: 'ca0004-vut-2025.json', content: readFileSync(fixture('article6/ca0004-vut-2025.json')) }], { key: keys.publisherA, private: true });
    expect(aef.data?.upload.accepted).toBe(true);
  }, 120_000);
  afterAll(async () => {
    await api?.close();
    await t?.close();
  });

  describe('researchers', () => {
    it('lists one registry\'s projects with the count of its export, pages through them once each, and sorts by issued tonnes', async () => {
      const expected = csvRows('registry-samples/art-trees/projects.csv').map((r) => `art-trees:${r['Program ID']}`).sort();
      const all = await api.gql(`{ projects(filter: { registries: ["art-trees"] }, first: 500) { totalCount nodes { key } } }`);
      expect(all.data!.projects.totalCount).toBe(expected.length);
      const seen: string[] = [];
      let after: string | null = null;
      for (;;) {
        const page: any = await api.gql(`query ($after: String) { projects(filter: { registries: ["art-trees"] }, first: 5, after: $after) {
          nodes { key } pageInfo { hasNextPage endCursor } } }`, { after });
        seen.push(...page.data.projects.nodes.map((n: { key: string }) => n.key));
        if (!page.data.projects.pageInfo.hasNextPage) break;
        after = page.data.projects.pageInfo.endCursor;
      }
      expect(seen).toEqual(expected);
      const issued = new Map<string, number>();
      for (const r of csvRows('registry-samples/art-trees/issuances.csv')) issued.set(r['Program ID']!, (issued.get(r['Program ID']!) ?? 0) + Number(r['Total Emission Reductions/Removals']));
      const largest = [...issued.entries()].sort((x, y) => y[1] - x[1])[0]!;
      const top = await api.gql(`{ projects(filter: { registries: ["art-trees"] }, sort: ISSUED, descending: true, first: 1) { nodes { key totals { issued } } } }`);
      expect(top.data!.projects.nodes[0]).toEqual({ key: `art-trees:${largest[0]}`, totals: { issued: largest[1] } });
    });

    it('filters by country, category and free text, and says which codes exist when one does not', async () => {
      const guyana = await api.gql(`{ projects(filter: { countries: ["GY"], search: "guyana" }) { nodes { key country { code name } } } }`);
      expect(guyana.data!.projects.nodes).toEqual([{ key: 'art-trees:ART102', country: { code: 'GY', name: 'Guyana' } }]);
      const bad = await api.gql(`{ projects(filter: { categories: ["forestry"] }) { totalCount } }`);
      expect(bad.errors![0]!.message).toMatch(/categories: unknown "forestry"; expected one of: .*forest/);
      expect(bad.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    });

    it('gives trends by year and registry that equal the registry file\'s totals, in CSV too', async () => {
      const byYear = new Map<number, number>();
      for (const r of csvRows('registry-samples/art-trees/issuances.csv')) {
        const year = Number(r['Date Approved']!.slice(-4));
        byYear.set(year, (byYear.get(year) ?? 0) + Number(r['Total Emission Reductions/Removals']));
      }
      const trend = await api.gql(`{ trends(filter: { registries: ["art-trees"] }, groupBy: [REGISTRY]) { points { year group { code } issued } csv } }`);
      const points = trend.data!.trends.points.filter((p: { issued: number }) => p.issued > 0);
      expect(points.map((p: { year: number; issued: number }) => [p.year, p.issued])).toEqual([...byYear.entries()].sort((x, y) => x[0] - y[0]));
      expect(trend.data!.trends.csv.split('\r\n')[0]).toBe('year,registry,registry_label,issued,retired,cancelled,converted_out');
    });

    it('reads trends from sums that a trigger keeps equal to the events, whichever statement added them', async () => {
      const differences = await rows<{ project_id: number; kind: string }>(db, sql`
        with e as (select project_id, kind, sum(quantity) as q from events group by 1, 2),
             f as (select project_id, kind, sum(quantity) as q from trend_facts group by 1, 2)
        select coalesce(e.project_id, f.project_id) as project_id, coalesce(e.kind, f.kind)::text as kind
        from e full join f on f.project_id = e.project_id and f.kind = e.kind where e.q is distinct from f.q`);
      expect(differences).toEqual([]);
    });

    it('counts converted tonnes once: CAR credits converted to VCUs are issued at Verra and taken off CAR\'s figure', async () => {
      const query = `query ($net: Boolean) { trends(by: VINTAGE, filter: { search: "CAR4" }, groupBy: [REGISTRY], netOfConversions: $net) { points { year group { code } issued convertedOut } } }`;
      const [gross, net] = await Promise.all([api.gql(query, { net: false }), api.gql(query, { net: true })]);
      const [converted] = await rows<{ t: number }>(db, sql`select coalesce(sum(e.quantity), 0)::float8 as t from events e join projects p on p.id = e.project_id
        where e.kind = 'converted-out' and e.counterparty_registry_id = 'verra' and p.key ilike '%CAR4%'`);
      const sum = (r: any) => r.data.trends.points.reduce((s: number, p: { issued: number }) => s + p.issued, 0);
      expect(converted!.t).toBeGreaterThan(0);
      expect(sum(gross) - sum(net)).toBe(converted!.t);
    });

    it('labels results in Japanese when asked, by argument or by Accept-Language', async () => {
      const byArgument = await api.gql(`{ project(key: "art-trees:ART102", locale: JA) { status { code label } country { name } registry { name } } }`);
      expect(byArgument.data!.project).toEqual({ status: { code: 'registered', label: '登録済み' }, country: { name: 'ガイアナ' }, registry: { name: expect.any(String) } });
      const byHeader = await api.gql(`{ taxonomy { name label terms { code label } } }`, {}, { headers: { 'accept-language': 'ja-JP' } });
      const unitStatus = byHeader.data!.taxonomy.find((v: { name: string }) => v.name === 'unitStatus');
      expect(unitStatus.terms.find((term: { code: string }) => term.code === 'retired').label).toBe('無効化済み');
    });
  });

  describe('exchanges: provenance', () => {
    it('finds the block that holds a single ACR unit, with its project, status, events and sources', async () => {
      const acr = csvRows('registry-samples/american-carbon-registry/cancellations.csv')[0]!;
      const serial = Object.entries(acr).find(([k]) => /serial/i.test(k))![1];
      const lookup = await api.gql(`query ($s: String!) { lookup(serial: $s) { readings { registry numberSpace start end }
        blocks { serial quantity status { code } project { key } events { kind { code } quantity } sources { contentHash batchId batchDigest locator } } message } }`, { s: serial });
      const found = lookup.data!.lookup;
      expect(found.readings[0].registry).toBe('american-carbon-registry');
      expect(found.blocks.map((b: { serial: string }) => b.serial)).toContain(serial);
      const block = found.blocks.find((b: { serial: string }) => b.serial === serial);
      expect(block.sources[0].contentHash).toMatch(/^[0-9a-f]{64}$/);
      expect(block.sources[0].batchDigest).toMatch(/^[0-9a-f]{64}$/);
      // One unit inside the range finds the same block.
      const unit = serial.replace(/-(\d+) to \d+$/, (_: string, start: string) => `-${Number(start) + 1}`);
      const single = await api.gql(`query ($s: String!) { lookup(serial: $s) { blocks { serial } } }`, { s: unit });
      expect(single.data!.lookup.blocks.map((b: { serial: string }) => b.serial)).toContain(serial);
    });

    it('finds a Gold Standard issuance range from one unit inside it', async () => {
      const [issuance] = await rows<{ serial: string; start: number; end: number; key: string }>(db, sql`select i.serial_raw as serial,
          i.serial_start::float8 as start, i.serial_end::float8 as "end", p.key from issuances i join projects p on p.id = i.project_id
        where i.registry_id = 'gold-standard' and i.serial_raw like 'GS%' and i.serial_end > i.serial_start order by i.id limit 1`);
      expect(issuance).toBeDefined();
      const middle = Math.floor((issuance!.start + issuance!.end) / 2);
      // The GS serial of one unit: the range's prefix, then the unit as start and end.
      const unit = issuance!.serial.replace(/-\d+-\d+$/, `-${middle}-${middle}`);
      const found = await api.gql(`query ($s: String!) { lookup(serial: $s) { issuances { serial project { key } } } }`, { s: unit });
      expect(found.data!.lookup.issuances).toContainEqual({ serial: issuance!.serial, project: { key: issuance!.key } });
    });

    it('explains a serial it cannot read, and a bare number without a number space', async () => {
      const unreadable = await api.gql(`{ lookup(serial: "not-a-serial") { blocks { id } message } }`);
      expect(unreadable.data!.lookup).toMatchObject({ blocks: [], message: expect.stringMatching(/not a serial in a format Tally reads/) });
    });
  });

  describe('findings', () => {
    it('lists the unnetted conversions with their tonnes, lets an admin acknowledge one, and keeps the history', async () => {
      const list = await api.gql(`{ findings(filter: { kinds: ["unnetted-conversion"] }) { totalCount tonnesAtRisk csv nodes { id tonnesAtRisk projects { key } } } }`);
      expect(list.data!.findings).toMatchObject({ totalCount: 2, tonnesAtRisk: 50_000 });
      expect(list.data!.findings.csv.split('\r\n').filter(Boolean)).toHaveLength(3);
      const id = list.data!.findings.nodes[0].id;
      const noReason = await api.gql(`mutation ($id: ID!) { setFindingStatus(id: $id, status: DISMISSED) { id } }`, { id }, { key: keys.admin });
      expect(noReason.errors![0]!.message).toBe('dismissing a finding needs a reason');
      const done = await api.gql(`mutation ($id: ID!) { setFindingStatus(id: $id, status: ACKNOWLEDGED, reason: "checked with CAR") { status { code } history { from to reason } } }`, { id }, { key: keys.admin });
      expect(done.data!.setFindingStatus.status).toEqual({ status: { code: 'acknowledged' } }.status);
      expect(done.data!.setFindingStatus.history.at(-1)).toEqual({ from: 'open', to: 'acknowledged', reason: 'checked with CAR' });
    });
  });

  describe('governments: preview before storing', () => {
    it('counts what an upload would store, keeps nothing, and leaves no batch behind', async () => {
      const stored = sql`select (select count(*)::int from batches) as batches, (select count(*)::int from projects) as projects, (select count(*)::int from mirror_records) as mirrors`;
      const [before] = await rows<{ batches: number; projects: number; mirrors: number }>(db, stored);
      const draft = readFileSync(fixture('api/private-art-projects.csv'), 'utf8').replace('ART9901', 'ART9902');
      // ART's own export, uploaded by an organization: its report of an ART project.
      const preview = await api.upload([{ name: 'projects.csv', content: draft }], { key: keys.publisherA, private: true, preview: true });
      expect(preview.data!.upload).toMatchObject({ accepted: true, preview: true, batches: [],
        files: [{ files: ['projects.csv'], format: 'art-trees-programs', accepted: true, rowsRead: 1, counts: { projects: { new: 0 }, mirrors: { new: 1, changed: 0, unchanged: 0 } } }] });
      const [after] = await rows<{ batches: number; projects: number; mirrors: number }>(db, stored);
      expect(after).toEqual(before);
      const aef = await api.upload([{ name: 'ca0004-vut-2025.json', content: readFileSync(fixture('article6/ca0004-vut-2025.json')) }], { key: keys.publisherA, private: true, preview: true });
      expect(aef.data!.upload.files[0]).toMatchObject({ format: 'article6-aef', accepted: true, counts: { t2: { unchanged: 1 } } });
    });
  });

  describe('governments: a national registry in the CAD Trust v1 template', () => {
    it('takes projects and units as one upload, and a unit is then found by its Kyoto serial number', async () => {
      const units = csvRows('cad-trust/cdm-retired-units.csv');
      const result = await api.upload([
        { name: 'projects.csv', content: readFileSync(fixture('cad-trust/cdm-projects.csv')) },
        { name: 'units.csv', content: readFileSync(fixture('cad-trust/cdm-retired-units.csv')) },
      ], { key: keys.publisherB });
      expect(result.data!.upload).toMatchObject({ accepted: true, errors: [], batches: [{ connector: 'cadt-v1' }] });
      const unit = units[0]!;
      const start = Number(unit.unitBlockStart);
      const found = await api.gql(`query ($s: String!, $space: String) { lookup(serial: $s, numberSpace: $space) {
          blocks { quantity status { code } project { registry { id } } }
          reportedBy { reportedBy registry quantity status { code } matchedBy unitsOfRecord disagreements } } }`,
        { s: String(start + 1), space: `cdm:${unit.countryJurisdictionOfOwner === 'Brazil' ? 'BR' : 'KR'}:5` });
      // The samples hold the CDM registry's own voluntary cancellations, which CAD Trust's CDM data calls
      // "Retired": the same units from two sources. The CDM's record is the one block; CAD Trust's report of
      // it is evidence beside it, read in the CDM's terms, and agrees.
      expect(found.data!.lookup.blocks).toEqual([{ quantity: Number(unit.unitCount), status: { code: 'cancelled' }, project: { registry: { id: 'cdm' } } }]);
      expect(found.data!.lookup.reportedBy).toEqual([{
        reportedBy: 'cad-trust', registry: 'cdm', quantity: Number(unit.unitCount), status: { code: 'cancelled' }, matchedBy: 'serial',
        unitsOfRecord: Number(unit.unitCount), disagreements: [],
      }]);
    });
  });

  describe('governments: Article 6', () => {
    it('shows the Party its own private AEF: summary, authorizations, consistency and the export', async () => {
      const query = `{ article6(party: "VUT") { summary { year authorized firstTransferred } authorizations { authorizationId quantity private }
        consistency(reportYear: 2025) { check outcome } aef(reportYear: 2025) } }`;
      const own = await api.gql(query, {}, { key: keys.readerA });
      expect(own.data!.article6.authorizations).toEqual([{ authorizationId: 'VUT0001', quantity: 1000, private: true }]);
      expect(own.data!.article6.summary.find((y: { year: number }) => y.year === 2025)).toMatchObject({ authorized: 1000 });
      expect(own.data!.article6.consistency.every((c: { outcome: string }) => c.outcome !== 'fail')).toBe(true);
      expect(own.data!.article6.aef.aefT2Authorizations[0].aefT2AuthorizationsId).toBe('VUT0001');
      const other = await api.gql(query, {}, { key: keys.publisherB });
      expect(other.data!.article6).toMatchObject({ summary: [], authorizations: [], aef: null });
    });
  });

  describe('authorization matrix', () => {
    const callers = ['anonymous', 'reader', 'readerA', 'publisherA', 'publisherB', 'admin'] as const;
    const keyOf = (caller: typeof callers[number]) => (caller === 'anonymous' ? undefined : keys[caller]);
    const ownsPrivate = (caller: string) => caller === 'readerA' || caller === 'publisherA';

    it.each(callers)('%s: reads public data; sees the private draft only as its owner, in lists, trends, exports and provenance', async (caller) => {
      const key = keyOf(caller);
      const q = await api.gql(`{ publicProject: project(key: "art-trees:ART102") { key }
        privateProject: project(key: "${A64_KEY}") { key private }
        projects(filter: { registries: ["a64-mechanism"] }) { totalCount csv }
        a64: trends(filter: { registries: ["a64-mechanism"] }) { points { issued } }
        art: trends(filter: { registries: ["art-trees"] }) { points { issued } reportedOnly { source } } }`, {}, { key });
      expect(q.data!.publicProject).toEqual({ key: 'art-trees:ART102' });
      const publicIssued = csvRows('registry-samples/art-trees/issuances.csv').reduce((s, r) => s + Number(r['Total Emission Reductions/Removals']), 0);
      const draftIssued = a64Units().reduce((s, u) => s + u.unitCount, 0);
      const issued = (points: { issued: number }[]) => points.reduce((s, p) => s + p.issued, 0);
      // A's report of ART's units (its upload of ART's export) adds nothing to ART's tonnes, for anyone.
      expect(issued(q.data!.art.points)).toBe(publicIssued);
      expect(q.data!.art.reportedOnly).toEqual([]);
      if (ownsPrivate(caller)) {
        expect(q.data!.privateProject).toEqual({ key: A64_KEY, private: true });
        expect(q.data!.projects.totalCount).toBe(1);
        expect(q.data!.projects.csv).toContain('A6.4-PoA-10471');
        expect(issued(q.data!.a64.points)).toBe(draftIssued);
      } else {
        expect(q.data!.privateProject).toBeNull();
        expect(q.data!.projects.totalCount).toBe(0);
        expect(q.data!.projects.csv).not.toContain('A6.4-PoA-10471');
        expect(q.data!.a64.points).toEqual([]);
      }
      const batches = await api.gql(`{ batches(first: 500) { nodes { source private } } }`, {}, { key });
      expect(batches.data!.batches.nodes.some((b: { private: boolean }) => b.private)).toBe(ownsPrivate(caller));
    });

    it.each(callers)('%s: uploads only with a publisher key, for its own organization', async (caller) => {
      const result = await api.upload([{ name: 'projects.csv', content: readFileSync(fixture('api/private-art-projects.csv')) }], { key: keyOf(caller), private: true });
      if (caller === 'publisherA' || caller === 'publisherB') {
        expect(result.data!.upload.accepted).toBe(true);
      } else {
        expect(result.errors![0]!.extensions!.code).toBe(caller === 'anonymous' ? 'UNAUTHENTICATED' : 'FORBIDDEN');
      }
    });

    it('a publisher cannot attach records to another organization\'s private project: for it, the project is not there', async () => {
      const result = await api.upload(a64Files(), { key: keys.publisherB, preview: true });
      // B's rows describe the project: they are B's own records, and nothing in the answer speaks of A's.
      expect(result.data!.upload).toMatchObject({ accepted: true, errors: [] });
      expect(result.data!.upload.files[0].counts.projects).toEqual({ new: 1, changed: 0, unchanged: 0 });
      expect(JSON.stringify(result)).not.toMatch(/privately|another organization/);
      const [attached] = await rows<{ n: number }>(db, sql`select count(*)::int as n from unit_blocks b join projects p on p.id = b.project_id
        where p.registry_project_id = 'A6.4-PoA-10471' and b.owner_organization_id is distinct from p.owner_organization_id`);
      expect(attached!.n).toBe(0);
    });

    it('a publisher cannot change another organization\'s finding, nor learn that a private one exists', async () => {
      const [publicFinding] = await rows<{ id: number }>(db, sql`select id::float8 as id from findings where not is_private order by id limit 1`);
      const forbidden = await api.gql(`mutation ($id: ID!) { setFindingStatus(id: $id, status: ACKNOWLEDGED) { id } }`, { id: publicFinding!.id }, { key: keys.publisherB });
      expect(forbidden.errors![0]!.extensions!.code).toBe('FORBIDDEN');
      const privateFindings = await rows<{ id: number }>(db, sql`select id::float8 as id from findings where is_private order by id limit 1`);
      const probe = privateFindings[0]?.id ?? 99_999_999;
      const hidden = await api.gql(`mutation ($id: ID!) { setFindingStatus(id: $id, status: ACKNOWLEDGED) { id } }`, { id: probe }, { key: keys.publisherB });
      const missing = await api.gql(`mutation { setFindingStatus(id: 99999999, status: ACKNOWLEDGED) { id } }`, {}, { key: keys.publisherB });
      expect(hidden.errors![0]!.message).toBe(`no finding ${probe}`);
      expect(missing.errors![0]!.message).toBe('no finding 99999999');
      const readerTry = await api.gql(`mutation ($id: ID!) { setFindingStatus(id: $id, status: ACKNOWLEDGED) { id } }`, { id: publicFinding!.id }, { key: keys.reader });
      expect(readerTry.errors![0]!.extensions!.code).toBe('FORBIDDEN');
    });

    it('only an admin manages organizations and keys; a new key works at once and stops working when revoked', async () => {
      const denied = await api.gql(`mutation { createOrganization(slug: "x", name: "X") { id } }`, {}, { key: keys.publisherA });
      expect(denied.errors![0]!.extensions!.code).toBe('FORBIDDEN');
      const created = await api.gql(`mutation { createApiKey(name: "new", role: READER, organization: "vanuatu") { id key organization { slug } } }`, {}, { key: keys.admin });
      const newKey = created.data!.createApiKey;
      expect(newKey.organization.slug).toBe('vanuatu');
      const draft = await api.gql(`{ project(key: "${A64_KEY}") { key } }`, {}, { key: newKey.key });
      expect(draft.data!.project).toEqual({ key: A64_KEY });
      await api.gql(`mutation ($id: ID!) { revokeApiKey(id: $id) }`, { id: newKey.id }, { key: keys.admin });
      const after = await api.gql(`{ viewer { role } }`, {}, { key: newKey.key });
      expect(after.status).toBe(401);
      expect(after.errors![0]!.message).toBe('the API key is unknown or revoked');
    });
  });

  describe('a project, whole', () => {
    it('answers a project with its issuances, blocks, events, links, findings and sources as the ledger holds them', async () => {
      const project = await api.gql(`{ project(key: "verra:1528") { key name registry { id } issuances { issuanceKey quantity vintageYear }
        blocks { serial quantity status { code } } events { kind { code } quantity } links { relation { code } source { code } outgoing project { key } }
        findings { kind { code } tonnesAtRisk } sources { source locator contentHash } totals { issued retired } } }`);
      const p = project.data!.project;
      const [ledger] = await rows<{ issuances: number; issued: number; blocks: number; sources: number }>(db, sql`select
          (select count(*)::int from issuances i where i.project_id = p.id) as issuances,
          (select coalesce(sum(quantity), 0)::float8 from events e where e.project_id = p.id and e.kind = 'issued') as issued,
          (select count(*)::int from unit_blocks b where b.project_id = p.id and b.superseded_in_batch_id is null) as blocks,
          (select count(distinct l.raw_record_id)::int from record_lineage l where l.project_id = p.id) as sources
        from projects p where p.key = 'verra:1528'`);
      expect(p.issuances).toHaveLength(ledger!.issuances);
      expect(p.totals.issued).toBe(ledger!.issued);
      expect(p.blocks).toHaveLength(ledger!.blocks);
      expect(p.sources).toHaveLength(ledger!.sources);
      expect(p.sources[0]).toMatchObject({ source: 'verra-projects.json', contentHash: expect.stringMatching(/^[0-9a-f]{64}$/) });
      expect(p.links).toContainEqual({ relation: { code: 'same-activity' }, source: { code: 'declared' }, outgoing: true, project: { key: 'climate-action-reserve:CAR400' } });
      expect(p.findings).toEqual([{ kind: { code: 'unnetted-conversion' }, tonnesAtRisk: 45_730 }]);
    });

    it('costs the same number of database queries for 30 projects as for 120: children are loaded in batches', async () => {
      // ARB, ACR and CAR: compliance projects linked to the registries they converted from.
      const query = `query ($n: Int) { projects(first: $n, sort: ISSUED, descending: true, filter: { registries: ["arb", "american-carbon-registry", "climate-action-reserve"] }) { nodes { key registry { name } totals { issued }
        issuances { quantity } blocks(first: 5) { serial events { kind { code } } } labels { label } links { project { key } } findings { title } sources { contentHash } } } }`;
      const statements = async (n: number) => {
        statementTexts = [];
        const answer = await api.gql(query, { n });
        const nodes = answer.data!.projects.nodes as { links: unknown[] }[];
        expect(nodes).toHaveLength(n);
        // Both pages must reach every loader the query names, linked projects included.
        expect(nodes.some((p) => p.links.length > 0)).toBe(true);
        return statementTexts;
      };
      await api.gql(query, { n: 5 }); // the registry names are read once per process, on first use
      const forFew = await statements(30);
      const forMany = await statements(120);
      expect(forMany.length).toBe(forFew.length);
      expect(forMany.length).toBeLessThan(20);
    });

    it('lists batches and registries with their last batch, and a bad row of an upload comes back with its line', async () => {
      const bad = readFileSync(fixture('api/private-art-issuances.csv'), 'utf8').replace('9621384,535461,9085923', 'many,535461,9085923');
      const result = await api.upload([{ name: 'issuances.csv', content: bad }], { key: keys.publisherA, private: true });
      expect(result.data!.upload.errors).toContainEqual(expect.objectContaining({ locator: 'line 2', field: 'Total Emission Reductions/Removals' }));
      const batches = await api.gql(`{ batches(first: 1, kind: UPLOAD) { nodes { id source errors { locator message } } } }`, {}, { key: keys.publisherA });
      expect(batches.data!.batches.nodes[0]).toMatchObject({ source: 'issuances.csv', errors: [expect.objectContaining({ locator: 'line 2' })] });
      const registries = await api.gql(`{ registries { id projectCount lastBatch { status source private } } }`);
      const art = registries.data!.registries.find((r: { id: string }) => r.id === 'art-trees');
      expect(art.projectCount).toBe(csvRows('registry-samples/art-trees/projects.csv').length);
      expect(art.lastBatch).toMatchObject({ status: 'committed' });
      expect(art.lastBatch.private).toBe(false); // organization A's private batches are not shown to others
    });
  });

  describe('abuse', () => {
    it('refuses a query too deep, too costly or with thousands of aliases, and stays up', async () => {
      const nested = (n: number): string => (n === 0 ? 'key' : `links { project { ${nested(n - 1)} } }`);
      const deep = await api.gql(`{ projects { nodes { ${nested(6)} } } }`);
      expect(deep.errors![0]!.message).toMatch(/depth/i);
      const thousands = await api.gql(`{ ${Array.from({ length: 2000 }, (_, i) => `a${i}: viewer { role }`).join(' ')} }`);
      expect(thousands.errors![0]!.message).toMatch(/token limit/i);
      const aliases = await api.gql(`{ ${Array.from({ length: 100 }, (_, i) => `a${i}: viewer { role }`).join(' ')} }`);
      expect(aliases.errors![0]!.message).toMatch(/aliases/i);
      // Ten aliased copies of a wide, deep page: few aliases and tokens, but a cost far past the limit.
      const wide = `projects(first: 500) { nodes { key name blocks { serial quantity events { kind { code label } source { payload contentHash } }
        findings { title evidence blocks { serial sources { payload contentHash locator } project { key name } } projects { key name } } } } }`;
      const costly = await api.gql(`{ ${Array.from({ length: 10 }, (_, i) => `p${i}: ${wide}`).join(' ')} }`);
      expect(costly.errors![0]!.message).toMatch(/cost/i);
      const alive = await api.gql(`{ viewer { role } }`);
      expect(alive.data).toEqual({ viewer: { role: 'anonymous' } });
    });

    it('refuses an upload over the size limit with a clear error', async () => {
      const big = Buffer.alloc(6 * 1024 * 1024, 'a');
      const result = await api.upload([{ name: 'big.csv', content: big }], { key: keys.publisherA });
      expect(result.status).toBe(413);
      expect(JSON.stringify(result.errors)).toMatch(/at most/);
    });

    it('limits requests per address and says when to retry', async () => {
      const limited = await startApi(t.handle, { ...DEFAULT_API_LIMITS, rateLimitPerMinute: 3, maxUploadBytes: 1024 });
      try {
        const statuses = [];
        for (let i = 0; i < 4; i += 1) statuses.push((await limited.gql(`{ viewer { role } }`)).status);
        expect(statuses).toEqual([200, 200, 200, 429]);
      } finally {
        await limited.close();
      }
    });

    it('answers an unknown key with 401 rather than as anonymous', async () => {
      const wrong = await api.gql(`{ viewer { role } }`, {}, { key: 'tly_000000000000_' + 'x'.repeat(43) });
      expect(wrong.status).toBe(401);
    });

    it('refuses a cursor that was forged or belongs to another sort, in words', async () => {
      const page = await api.gql(`{ projects(sort: NAME, first: 2) { pageInfo { endCursor } } }`);
      const other = await api.gql(`query ($after: String) { projects(sort: ISSUED, after: $after) { totalCount } }`, { after: page.data!.projects.pageInfo.endCursor });
      expect(other.errors![0]!.message).toMatch(/another sort order/);
      const forged = await api.gql(`{ projects(after: "not-a-cursor") { totalCount } }`);
      expect(forged.errors![0]!.message).toMatch(/not a cursor this API gave out/);
    });
  });

  describe('operations', () => {
    it('serves health, Prometheus metrics and security headers', async () => {
      const health = await fetch(`${api.url}/health`);
      expect(health.status).toBe(200);
      expect(health.headers.get('x-content-type-options')).toBe('nosniff');
      const metrics = await (await fetch(`${api.url}/metrics`)).text();
      expect(metrics).toMatch(/tally_http_request_duration_seconds_bucket/);
      expect(metrics).toMatch(/tally_graphql_operations_total/);
    });
  });
});

describe('GraphQL API with its database gone', () => {
  it('answers "Unexpected error." without the database\'s words, and /health says why', async () => {
    const t = await openTestDatabase();
    const api = await startApi(t.handle);
    try {
      await t.close();
      const result = await api.gql(`{ projects { totalCount } }`);
      expect(result.errors![0]).toMatchObject({ message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
      expect(JSON.stringify(result)).not.toMatch(/select|projects p|PGlite|postgres/i);
      expect((await fetch(`${api.url}/health`)).status).toBe(503);
    } finally {
      await api.close();
    }
  });
});
