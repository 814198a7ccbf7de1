import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFile } from '../../../jobs/ingest-file.ts';
import { cdmPipelinePeriods } from '../../../jobs/integrity/cdm-overlap.ts';
import { projectFacts } from '../../../jobs/integrity/evidence.ts';
import { runChecks } from '../../../jobs/integrity/index.ts';
import { rows, type Database } from '../../../schema/database.ts';
import { readCsv } from '../../helpers/csv.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { ingestRecords } from '../../helpers/ledger.ts';

// The integrity engine over real CDM, Gold Standard and Verra samples together (the registry-samples a
// fresh Tally loads), then with three constructed projects that declare CDM activities: a Verra project
// "transferred from" a CDM PoA, and two Article 6.4 activities transitioned from one. Expected links and
// tonnes are computed here from the workbooks and CSV files with exceljs and plain code.

const sample = (path: string) => new URL(`../../fixtures/registry-samples/${path}`, import.meta.url).pathname;
const capture = (name: string) => new URL(`../../fixtures/api-captures/${name}`, import.meta.url).pathname;
const SAMPLES = [
  'gold-standard/projects.csv', 'gold-standard/issuances.csv', 'gold-standard/retirements.csv', 'verra/projects.csv', 'verra/transactions.csv',
  'cdm/CDM-Issuance-CompletedApril2025.xlsx', 'cdm/CDM_Registry_VC_31082023_pub.xlsx', 'cdm/Admincancellations_31082023.xlsx',
  'cdm/UNEP-CCC-pipeline-issuances-April2025.xlsx', 'cdm/UNEP-CCC-pipeline-projects-many-countries.xlsx',
];

type Row = Record<string, ExcelJS.CellValue>;

/** The data rows of a report's first sheet below the header row that holds `first`, up to its Total row. */
async function reportRows(path: string, first: string): Promise<Row[]> {
  const book = new ExcelJS.Workbook();
  await book.xlsx.readFile(path);
  let names: string[] | undefined;
  let done = false;
  const out: Row[] = [];
  book.worksheets[0]!.eachRow((row) => {
    const cells = Array.from((row.values as ExcelJS.CellValue[]).slice(1), (c) => c);
    if (!names) {
      if (cells.includes(first)) names = cells.map((c) => String(c ?? '').trim());
      return;
    }
    if (done || /^total$/i.test(String(cells[0] ?? ''))) {
      done = true;
      return;
    }
    out.push(Object.fromEntries(names.map((h, i) => [h, cells[i] ?? null])));
  });
  return out;
}

const day = (d: ExcelJS.CellValue) => (d as Date).toISOString().slice(0, 10);
const sum = (list: number[]) => list.reduce((a, b) => a + b, 0);
const range = (text: unknown) => String(text).split(' - ').map(Number) as [number, number];

async function linksIn(db: Database) {
  return rows<{ relation: string; source: string; from: string; to: string; evidence: Record<string, unknown> }>(db, sql`select l.relation::text, l.source::text,
      a.key as "from", b.key as "to", l.evidence
    from project_links l join projects a on a.id = l.from_project_id join projects b on b.id = l.to_project_id order by 3, 4`);
}

async function findingsIn(db: Database) {
  return rows<{ kind: string; severity: string; tonnes: number; projects: string[]; evidence: Record<string, unknown> }>(db, sql`select f.kind::text, f.severity::text,
      f.tonnes_at_risk::float8 as tonnes, f.evidence,
      array(select p.key from finding_subjects s join projects p on p.id = s.project_id where s.finding_id = f.id order by p.key) as projects
    from findings f where f.status = 'open' order by f.kind, f.id`);
}

describe('integrity over real CDM, Gold Standard and Verra samples', () => {
  let t: TestDatabase;
  let db: Database;
  let dir: string;
  let registry: Row[];
  let cancelled: Row[];
  let pipeline: Row[];
  const gsIssuances = readCsv(sample('gold-standard/issuances.csv'));

  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    dir = mkdtempSync(join(tmpdir(), 'tally-cdm-real-'));
    registry = await reportRows(sample('cdm/CDM-Issuance-CompletedApril2025.xlsx'), 'SERIAL RANGE');
    cancelled = await reportRows(sample('cdm/CDM_Registry_VC_31082023_pub.xlsx'), 'Serial Range');
    pipeline = await reportRows(sample('cdm/UNEP-CCC-pipeline-issuances-April2025.xlsx'), 'Issuance process ID');
    for (const path of SAMPLES) {
      const summary = await ingestFile(db, sample(path), { check: false });
      expect(summary.rowsRejected, path).toBe(0);
    }
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t.close();
  });

  it('when the samples are checked together, then the one link is Gold Standard\'s CER serials naming CDM RW-7014, and no rule finds anything', async () => {
    const summary = await runChecks(db);
    expect(summary.scope).toBe('full');

    // From the GS export: the CER rows and the CDM project (Party, reference) their Kyoto serials name.
    const cers = gsIssuances.filter((r) => r['Product Type'] === 'CER');
    expect(cers).toHaveLength(3);
    const named = new Set(cers.map((r) => {
      const parts = r['Serial Number']!.split(' - ')[0]!.split('-');
      return `gold-standard:GS${r.GSID}|cdm:${parts[0]}-${parts[6]}`;
    }));
    expect(named).toEqual(new Set(['gold-standard:GS4823|cdm:RW-7014']));
    const links = await linksIn(db);
    expect(links.map((l) => `${l.from}|${l.to}`)).toEqual([...named]);
    expect(links[0]).toMatchObject({ relation: 'same-activity', source: 'declared', evidence: { declaredBy: 'gold-standard:GS4823', field: 'serial', projectId: 'RW-7014', serialCount: 3 } });
    expect(summary.links).toMatchObject({ declared: 1, inferred: 0 });

    // Nothing on this data: every rule runs and finds nothing.
    expect(Object.values(summary.rules).every((r) => r.found === 0)).toBe(true);
    expect(await findingsIn(db)).toEqual([]);
  });

  it('when CDM RW-7014 and GS4823 credit overlapping periods, then rule 4 still finds nothing: GS\'s units are the CDM issuance\'s own CERs', async () => {
    // The registry's RW-7014 issuance and the pipeline row that gives its monitoring period.
    const rw = registry.filter((r) => r['PARTY CODE'] === 'RW' && r['Project number'] === '7014');
    expect(rw).toHaveLength(1);
    const [start, end] = range(rw[0]!['SERIAL RANGE']);
    const period = pipeline.filter((p) => p.HostParty === 'RW' && p['CDM project reference number'] === 7014 && p['Units - Total'] === rw[0]!.Total);
    expect(period.map((p) => [day(p['Monitoring report started']), day(p['Monitoring report ended'])])).toEqual([['2013-03-15', '2019-08-16']]);
    // GS4823's three CER rows cover 2017-08-19 … 2019-08-16, inside that period, and tile the CDM range exactly.
    const gs = gsIssuances.filter((r) => r.GSID === '4823').map((r) => {
      const [a, b] = r['Serial Number']!.split(' - ').map((s) => Number(s.split('-')[2]));
      return { a: a!, b: b!, from: r['Monitoring Period Start'], to: r['Monitoring Period End'] };
    }).sort((x, y) => x.a - y.a);
    expect(gs.every((g) => g.from! <= '2019-08-16' && g.to! >= '2013-03-15')).toBe(true);
    expect([gs[0]!.a, gs.at(-1)!.b]).toEqual([start, end]);
    expect(gs.every((g, i) => i === 0 || g.a === gs[i - 1]!.b + 1)).toBe(true);

    // The rule pairs the registry issuance with the pipeline row (so the CDM side does have its period) …
    const [cdm] = await rows<{ id: number }>(db, sql`select id::float8 as id from projects where key = 'cdm:RW-7014'`);
    const periods = await cdmPipelinePeriods(db, await projectFacts(db, [cdm!.id]), [cdm!.id]);
    expect(periods.get(cdm!.id)!.map((p) => [p.key, p.start, p.end, p.quantity])).toEqual([[`CP2 CER ${start}-${end}`, '2013-03-15', '2019-08-16', end - start + 1]]);
    // … and GS's CER rows are the CDM's own units: GS reports them (mirror records, in cdm:RW:5, the same
    // 7,635 units) and issues nothing for them.
    const carried = await rows<{ number_space: string; t: number }>(db, sql`select number_space, sum(quantity)::float8 as t from mirror_records
      where reported_by = 'gold-standard' and project_ref = 'GS4823' group by 1`);
    expect(carried).toEqual([{ number_space: 'cdm:RW:5', t: end - start + 1 }]);
    const [gsIssued] = await rows<{ n: number }>(db, sql`select count(*)::int as n from issuances i join projects p on p.id = i.project_id where p.key = 'gold-standard:GS4823'`);
    expect(gsIssued!.n).toBe(0);
    expect(await findingsIn(db)).toEqual([]);
  });

  it('when a Verra project declares a CDM PoA it was transferred from, then it links to the PoA\'s part in its own country, and rule 4 reports the CERs not cancelled for the overlap', async () => {
    // Constructed: the real first records of Verra's public API (api-captures) with an invented project
    // id, name, country and programme declaration, and one invented issuance for 2019–2020. No Verra
    // project is known to declare CDM 7359; this only drives the real CDM rows through the rules.
    const project = { ...JSON.parse(readFileSync(capture('verra-projects-first-entity.json'), 'utf8')),
      vcsProjectId: '99001', projectId: 99001, projectName: 'Constructed cookstove project (test)', countryName: 'Kenya',
      status: 'Units Transferred from Approved GHG Program', stateCode: 'VCS_EX_CRED_TRANS_FRM_OTHER_PROG',
      otherGhgProgramName: 'CDM', otherGhgProgramId: '7359', registeredOtherGhgProgram: true };
    const vcus = 300_000;
    const issuance = { ...JSON.parse(readFileSync(capture('verra-issuances-first-entity.json'), 'utf8')),
      vcsProjectId: '99001', projectName: 'Constructed cookstove project (test)', countryName: 'Kenya', vintage: '2019 - 2020', holdingQuantity: vcus,
      serialNo: `19999-5000000001-${5_000_000_000 + vcus}-VCS-VCU-500-VER-KE-14-99001-01012019-31122020-0` };
    writeFileSync(join(dir, 'verra-projects.json'), JSON.stringify({ entities: [project] }));
    writeFileSync(join(dir, 'verra-issuances.json'), JSON.stringify({ entities: [issuance] }));
    for (const name of ['verra-projects.json', 'verra-issuances.json']) expect((await ingestFile(db, join(dir, name), { check: false })).rowsRejected).toBe(0);

    const summary = await runChecks(db);
    const links = (await linksIn(db)).filter((l) => l.to === 'verra:99001' || l.from === 'verra:99001');
    // 7359 has parts in Kenya and Madagascar: the Kenyan project declares the Kenyan part, twice: as the
    // other programme it is registered in (same activity) and, by its status, as where its units came
    // from (the conversion runs from the CDM part to the Verra project).
    expect(links.map((l) => [l.from, l.relation, l.to])).toEqual([['cdm:KE-7359', 'converted-to', 'verra:99001'], ['verra:99001', 'same-activity', 'cdm:KE-7359']]);

    // Expected from the workbooks: KE-7359's CERs whose monitoring period meets 2019–2020, less every
    // KE-7359 voluntary cancellation (no cancellation says which period it is for), capped by the VCUs.
    const ke = registry.filter((r) => r['PARTY CODE'] === 'KE' && r['Project number'] === '7359');
    const periodOf = (r: Row) => pipeline.find((p) => p.HostParty === 'KE' && p['CDM project reference number'] === 7359 && p['Units - Total'] === r.Total && p.CP === Number(r.CP))!;
    const overlapping = ke.filter((r) => day(periodOf(r)['Monitoring report started']) <= '2020-12-31' && day(periodOf(r)['Monitoring report ended']) >= '2019-01-01');
    const cersInOverlap = sum(overlapping.map((r) => Number(r.Total)));
    const cancelledKe = sum(cancelled.filter((r) => r['Project Identifier'] === 'KE-7359').map((r) => Number(r.Total)));
    const atRisk = Math.min(cersInOverlap - cancelledKe, vcus);
    expect({ cersInOverlap, cancelledKe, atRisk }).toEqual({ cersInOverlap: 500_741, cancelledKe: 408_927, atRisk: 91_814 });

    expect(summary.rules['cdm-overlap']).toMatchObject({ found: 1, tonnesAtRisk: atRisk });
    const [finding] = (await findingsIn(db)).filter((f) => f.kind === 'cdm-overlap');
    expect(finding).toMatchObject({ severity: 'high', tonnes: atRisk, projects: ['cdm:KE-7359', 'verra:99001'] });
    expect(finding!.evidence).toMatchObject({
      period: { from: '2019-01-01', to: '2020-12-31' }, cdm: { project: 'KE-7359', tonnes: cersInOverlap }, other: { tonnes: vcus }, cersCancelled: { tonnes: cancelledKe },
    });
    expect((finding!.evidence.cdm as { issuances: { issuance: string }[] }).issuances.map((i) => i.issuance).sort())
      .toEqual(overlapping.map((r) => `CP${r.CP} CER ${String(r['SERIAL RANGE']).replace(' - ', '-')}`).sort());
  });

  it('when Article 6.4 activities name CDM 7014 as their origin, then each is transitioned from it, and only an A6.4 period inside the CERs\' is at risk', async () => {
    // Constructed canonical records, as a CAD Trust v2 upload keeps `cadTrustReferenceProjectId`
    // (`CDM-7014`): one activity in Rwanda credited for 2021, after the CDM's last monitored day, and one
    // with no host country given, credited for 2019, inside the CDM's CP2 periods.
    const a64 = (id: string, country: string | undefined, vintage: number, quantity: number) => [
      { type: 'project' as const, registry: 'a64-mechanism', registryProjectId: id, name: `Constructed A6.4 activity ${id} (test)`, country,
        otherPrograms: [{ program: 'CDM', projectId: '7014', relation: 'converted-from' as const, field: 'cadTrustReferenceProjectId' }] },
      { type: 'issuance' as const, registry: 'a64-mechanism', registryProjectId: id, issuanceKey: `${id}/${vintage}`, vintageStart: `${vintage}-01-01`,
        vintageEnd: `${vintage}-12-31`, vintageYear: vintage, quantity },
    ];
    await ingestRecords(db, 'a64-mechanism', [...a64('A64-T-0001', 'Rwanda', 2021, 5_000), ...a64('A64-T-0002', undefined, 2019, 5_000)]);
    const summary = await runChecks(db);

    const links = (await linksIn(db)).filter((l) => l.from.startsWith('a64-mechanism:'));
    const parts = [...new Set(registry.filter((r) => r['Project number'] === '7014').map((r) => `cdm:${r['PARTY CODE']}-7014`))].sort();
    expect(parts).toEqual(['cdm:KE-7014', 'cdm:RW-7014', 'cdm:UG-7014']);
    // The pipeline's project sheet adds 7014's other host Parties (without issuances) as parts too.
    const allParts = (await rows<{ key: string }>(db, sql`select key from projects where registry_id = 'cdm' and registry_project_id ~ '-7014$' order by key`)).map((r) => r.key);
    expect(links.map((l) => [l.from, l.relation, l.to])).toEqual([
      ['a64-mechanism:A64-T-0001', 'transitioned-from', 'cdm:RW-7014'],
      ...allParts.map((p) => ['a64-mechanism:A64-T-0002', 'transitioned-from', p]),
    ]);
    expect(links.every((l) => l.source === 'declared' && l.evidence.field === 'cadTrustReferenceProjectId')).toBe(true);

    // Expected: per part with CERs monitored in 2019, its CERs in that period less its voluntary
    // cancellations, capped by the 5,000 A6.4ERs. 2021 meets no CDM period: nothing for A64-T-0001.
    const expected = parts.flatMap((part) => {
      const id = part.slice('cdm:'.length);
      const [party] = id.split('-');
      const cers = sum(registry.filter((r) => `${r['PARTY CODE']}-${r['Project number']}` === id).filter((r) => {
        const p = pipeline.find((x) => x.HostParty === party && x['CDM project reference number'] === 7014 && x['Units - Total'] === r.Total && x.CP === Number(r.CP))!;
        return day(p['Monitoring report started']) <= '2019-12-31' && day(p['Monitoring report ended']) >= '2019-01-01';
      }).map((r) => Number(r.Total)));
      const vc = sum(cancelled.filter((r) => r['Project Identifier'] === id).map((r) => Number(r.Total)));
      const tonnes = Math.min(cers - vc, 5_000);
      return cers > 0 && tonnes > 0 ? [{ part, tonnes }] : [];
    });
    expect(expected).toEqual([{ part: 'cdm:KE-7014', tonnes: 85 }, { part: 'cdm:RW-7014', tonnes: 5_000 }, { part: 'cdm:UG-7014', tonnes: 5_000 }]);
    const found = (await findingsIn(db)).filter((f) => f.kind === 'cdm-overlap' && f.projects.some((p) => p.startsWith('a64-mechanism:')));
    expect(found.map((f) => ({ part: f.projects.find((p) => p.startsWith('cdm:')), tonnes: f.tonnes, other: f.projects.find((p) => !p.startsWith('cdm:')) }))
      .sort((a, b) => a.part!.localeCompare(b.part!)))
      .toEqual(expected.map((e) => ({ ...e, other: 'a64-mechanism:A64-T-0002' })));
    expect(summary.rules['cdm-overlap']!.found).toBe(1 + expected.length);
  });
});
