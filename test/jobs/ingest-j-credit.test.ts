import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncSource } from '../../jobs/sync.ts';
import { startReplayServer } from '../helpers/replay-server.ts';
import { methodologyInfo, methodologyText } from '../../connectors/j-credit/methodologies.ts';
import type { Programme } from '../../connectors/j-credit/programmes.ts';
import { verifyChain } from '../../jobs/batches.ts';
import { ingestFile } from '../../jobs/ingest-file.ts';
import { rows, type Database } from '../../schema/database.ts';
import { classifyMethodology, term } from '../../schema/taxonomy/index.ts';
import { csvLine, readCsv } from '../helpers/csv.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';

// The J-Credit Scheme's registered-project list, whole (1,177 rows, CC-BY-4.0), in its two forms: the
// merged CSV as published by dx-junkyard/OpenData-Archive (a `分類` column names the sheet), and the
// official workbook with one sheet per class. Only the CSV exists; the workbook is built here from the
// CSV's real rows, one sheet per `分類` value, dates and numbers as Excel cells. Totals per class and
// programme are computed here from the CSV with plain code and compared with SQL over the ledger.

const fixture = new URL('../fixtures/registry-samples/j-credit/registration_list_all.csv', import.meta.url).pathname;
const certificationsFile = new URL('../fixtures/j-credit/certifications-constructed.csv', import.meta.url).pathname;
const invalidationsFile = new URL('../fixtures/j-credit/invalidations-constructed.csv', import.meta.url).pathname;

const list = readCsv(fixture);
const headers = Object.keys(list[0]!);
/** The CSV's own header for a column, whatever line breaks it has. */
const col = (name: string) => headers.find((h) => h.replace(/\s+/g, '') === name)!;
const NUMBER = col('プロジェクト番号');
const QTY = col('認証見込み量（2050年度までの総量見込）（t-CO2）');
const SUMMARY = col('プロジェクト概要');
const METHOD = col('適用方法論');
const CLASS = '分類';

const thousandths = (v: string) => Math.round(Number(v) * 1000);
const PROGRAMME: Record<string, Programme> = { 'J-クレジット': 'j-credit', '国内クレジット': 'japan-domestic-credit', 'J-VER': 'j-ver' };
const programmeOf = (cls: string) => PROGRAMME[cls.match(/【(.+)】/)![1]!]!;
const idOf = (r: Record<string, string>) => (r[CLASS] === '【J-クレジット】一覧(プログラム型)' ? `P${r[NUMBER]}` : r[NUMBER]!);

/** Per class: rows, projects and the expected volume (in thousandths of a tonne), from the CSV. */
function expectedByClass() {
  const out = new Map<string, { rows: number; projects: Set<string>; expected: number }>();
  for (const r of list) {
    const e = out.get(r[CLASS]!) ?? { rows: 0, projects: new Set<string>(), expected: 0 };
    e.rows += 1;
    e.projects.add(r[NUMBER]!);
    e.expected += thousandths(r[QTY]!);
    out.set(r[CLASS]!, e);
  }
  return out;
}

async function ledgerByClass(db: Database) {
  const found = await rows<{ cls: string; registry: string; n: number; expected: string }>(db, sql`select split_part(status_raw, '、', 1) as cls,
      registry_id as registry, count(*)::int as n, sum(estimated_total_quantity)::text as expected
    from projects where registry_id in ('j-credit', 'japan-domestic-credit', 'j-ver') group by 1, 2 order by 1`);
  return new Map(found.map((f) => [f.cls, { registry: f.registry, projects: f.n, expected: thousandths(f.expected) }]));
}

const PROJECT_COLUMNS = sql`key, name, name_ja, proponent, country, region, category, project_type, methodologies, methodology_raw,
  methodology_unmatched, status::text, status_raw, registered_on::text, crediting_period_end::text, estimated_total_quantity::text`;
const projectRows = (db: Database) => rows(db, sql`select ${PROJECT_COLUMNS} from projects order by key`);

/** The workbook the scheme publishes: one sheet per class, headers with their line breaks, dates and numbers as cells. */
async function buildWorkbook(path: string): Promise<void> {
  const book = new ExcelJS.Workbook();
  const columns = headers.filter((h) => h !== CLASS);
  const asDate = (v: string) => {
    const m = v.match(/^(\d{4})\/(\d{1,2})\/(\d{1,2})(?: 0:00)?$/);
    return m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : v;
  };
  const cell = (h: string, v: string): ExcelJS.CellValue => {
    if (h === col('登録申請日') || h === col('認証対象期間終了日')) return asDate(v);
    if ((h === QTY || h === col('登録認証委員会') || h === NUMBER) && /^\d+(\.\d+)?$/.test(v)) return Number(v);
    return v;
  };
  for (const cls of [...new Set(list.map((r) => r[CLASS]!))]) {
    const sheet = book.addWorksheet(cls);
    sheet.addRow(columns);
    for (const r of list.filter((x) => x[CLASS] === cls)) sheet.addRow(columns.map((h) => cell(h, r[h]!)));
  }
  await book.xlsx.writeFile(path);
}

describe('J-Credit registered-project list, merged CSV and workbook', () => {
  let a: TestDatabase;
  let b: TestDatabase;
  let dir: string;
  let workbook: string;
  beforeAll(async () => {
    a = await openTestDatabase();
    b = await openTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'tally-j-credit-'));
    workbook = join(dir, 'registration_list.xlsx');
    await buildWorkbook(workbook);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when the merged CSV is ingested, then each class\'s projects and expected volume are in the ledger, in their own programme', async () => {
    const expected = expectedByClass();
    expect(list.length).toBe(1177);
    expect(new Map([...expected].map(([k, v]) => [k, v.rows]))).toEqual(new Map([
      ['【国内クレジット】一覧(通常型)', 477], ['【J-クレジット】一覧(通常型)', 395], ['【J-クレジット】一覧(プログラム型)', 217],
      ['【J-VER】一覧(通常型)', 78], ['【国内クレジット】一覧(プログラム型)', 10],
    ]));
    const projects = [...expected.values()].reduce((s, e) => s + e.projects.size, 0);

    const summary = await ingestFile(a.handle.db, fixture);
    expect(summary).toMatchObject({ status: 'committed', format: 'j-credit-projects', rowsRejected: 0, errors: [] });
    // A project listed once per methodology is one record.
    expect(summary.rowsRead).toBe(projects);
    expect(summary.projects.new).toBe(projects);

    const stored = await ledgerByClass(a.handle.db);
    expect(new Map([...stored].map(([k, v]) => [k, { registry: v.registry, projects: v.projects, expected: v.expected }]))).toEqual(
      new Map([...expected].map(([k, v]) => [k, { registry: programmeOf(k), projects: v.projects.size, expected: v.expected }])));
    // The ordinary and programme-type sheets both start at 1: two projects, two keys.
    const [one] = await rows<{ keys: string[] }>(a.handle.db, sql`select array_agg(key order by key) as keys from projects where registry_project_id in ('1', 'P1')`);
    expect(one!.keys).toEqual(['j-credit:1', 'j-credit:P1']);
    // Programme-type projects are marked: `P<n>` for J-Credit, `KCP…` for 国内クレジット, and the class in status_raw.
    const [marked] = await rows<{ n: number; p: number }>(a.handle.db, sql`select count(*)::int as n,
        count(*) filter (where registry_project_id ~ '^(P|KCP)\\d+$')::int as p from projects where status_raw like '%(プログラム型)%'`);
    const programmeType = [...expected].filter(([k]) => k.includes('プログラム型')).reduce((s, [, v]) => s + v.projects.size, 0);
    expect(marked).toEqual({ n: programmeType, p: programmeType });
    // Every project is in Japan, registered, with its Japanese name.
    const [shape] = await rows<Record<string, number>>(a.handle.db, sql`select count(*)::int as n, count(*) filter (where country = 'JP')::int as jp,
        count(*) filter (where status = 'registered')::int as registered, count(name_ja)::int as ja, count(*) filter (where name = name_ja)::int as same
      from projects`);
    expect(shape).toEqual({ n: projects, jp: projects, registered: projects, ja: projects, same: projects });
  });

  it('when a project is listed once per methodology, then it is one project with every methodology, summary and volume', async () => {
    const of35 = list.filter((r) => r[CLASS] === '【J-クレジット】一覧(通常型)' && r[NUMBER] === '35');
    expect(of35.length).toBe(3);
    const [p] = await rows<Record<string, unknown>>(a.handle.db, sql`select name, name_ja, methodology_raw, methodologies, estimated_total_quantity::float8 as expected
      from projects where key = 'j-credit:35'`);
    expect(p).toEqual({
      name: of35.map((r) => r[SUMMARY]).join(' / '),
      name_ja: of35.map((r) => r[SUMMARY]).join(' / '),
      methodology_raw: of35.map((r) => r[METHOD]!.replace(/\s+/g, ' ')).join('; '),
      methodologies: of35.map((r) => `j-credit-${r[METHOD]!.split(/\s/)[0]!.toLowerCase()}`),
      expected: of35.reduce((s, r) => s + Number(r[QTY]), 0),
    });
    // The largest group in the list: every row's methodology is on the project.
    const groups = new Map<string, Record<string, string>[]>();
    for (const r of list) groups.set(`${r[CLASS]}|${r[NUMBER]}`, [...(groups.get(`${r[CLASS]}|${r[NUMBER]}`) ?? []), r]);
    const [, largest] = [...groups].sort((x, y) => y[1].length - x[1].length)[0]!;
    const key = `${programmeOf(largest[0]![CLASS]!)}:${idOf(largest[0]!)}`;
    const [q] = await rows<{ n: number }>(a.handle.db, sql`select cardinality(string_to_array(methodology_raw, '; ')) as n from projects where key = ${key}`);
    expect(q!.n).toBe(new Set(largest.map((r) => r[METHOD]!.replace(/\s+/g, ' '))).size);
  });

  it('when methodology codes of each generation are classified, then they map to their J-Credit category and the common category', async () => {
    const samples: [Programme, string, string | undefined][] = [
      ['j-credit', 'EN-S-001 Ver. 1.0', '省エネ'], ['j-credit', 'EN-R-002 Ver. 1.0', '再エネ'], ['j-credit', 'IN-001 Ver. 1.0', '工業プロセス'],
      ['j-credit', 'AG-004 Ver. 1.2', '農業'], ['j-credit', 'WA-002 Ver. 1.0', '廃棄物'], ['j-credit', 'FO-001 Ver. 2.0', '森林'],
      ['japan-domestic-credit', '001', '省エネ'], ['japan-domestic-credit', '001-A', '再エネ'], ['japan-domestic-credit', '008', '再エネ'],
      ['japan-domestic-credit', '004-C', '省エネ'], ['j-ver', 'R001', '森林'], ['j-ver', 'E011', '省エネ'], ['j-ver', 'E024', '再エネ'],
      ['j-ver', 'I001', '工業プロセス'], ['j-ver', 'SS-E004', undefined],
    ];
    for (const [programme, code, ja] of samples) {
      const info = methodologyInfo(programme, code);
      expect(info.jCreditCategory?.ja, code).toBe(ja);
      const common = classifyMethodology(methodologyText(programme, code));
      if (ja) {
        expect(common.category, code).toBe(info.jCreditCategory!.category);
        expect(common.unmatched, code).toEqual([]);
      } else {
        expect(common.unmatched, code).toEqual([methodologyText(programme, code)]);
      }
      // Every project whose only methodology is this code carries that category in the ledger.
      const text = methodologyText(programme, code);
      const stored = await rows<{ category: string | null }>(a.handle.db, sql`select distinct category from projects where methodology_raw = ${text}`);
      const used = list.some((r) => programmeOf(r[CLASS]!) === programme && r[METHOD]!.replace(/\s+/g, ' ') === code);
      if (used) expect(stored.map((s) => s.category), code).toEqual([ja ? term('jCreditCategory', info.jCreditCategory!.code)!.category : 'unknown']);
    }
    // The legacy `SS-E` codes are kept as written, never dropped.
    const [ss] = await rows<{ n: number }>(a.handle.db, sql`select count(*)::int as n from projects where 'J-VER SS-E004' = any(methodology_unmatched)`);
    expect(ss!.n).toBe(new Set(list.filter((r) => r[METHOD] === 'SS-E004').map((r) => r[NUMBER])).size);
    // The expected volume is the FY2050 total, kept apart from the yearly estimate.
    const [annual] = await rows<{ n: number }>(a.handle.db, sql`select count(estimated_annual_quantity)::int as n from projects`);
    expect(annual!.n).toBe(0);
  });

  it('when the list states no continuation of a legacy project in J-Credit, then the connector declares no link', async () => {
    // No row names another programme's project number: the data never says which J-Credit project continues which.
    const namesOther = list.filter((r) => Object.values(r).some((v) => /(KC|KCP|JVR)\d{3,4}/.test(v) && v !== r[NUMBER]));
    expect(namesOther).toEqual([]);
    const [declared] = await rows<{ links: number; programmes: number }>(a.handle.db, sql`select
        (select count(*)::int from project_links where source = 'declared') as links,
        (select count(*)::int from projects where other_programs is not null) as programmes`);
    expect(declared).toEqual({ links: 0, programmes: 0 });
    // Links Tally's linker infers on its own (similar summaries and implementers) are scored suggestions, never declared ones.
    const links = await rows<{ source: string; score: number | null }>(a.handle.db, sql`select source::text, score::float8 from project_links`);
    for (const link of links) expect(link.source === 'inferred' && link.score !== null).toBe(true);
  });

  it('when the workbook (one sheet per class) is ingested, then the ledger is the one the CSV gave, and re-ingesting either changes nothing', async () => {
    const fromWorkbook = await ingestFile(b.handle.db, workbook);
    expect(fromWorkbook).toMatchObject({ status: 'committed', format: 'j-credit-projects', rowsRejected: 0, errors: [] });
    expect(await projectRows(b.handle.db)).toEqual(await projectRows(a.handle.db));

    const before = await projectRows(a.handle.db);
    for (const path of [fixture, workbook]) {
      const again = await ingestFile(a.handle.db, path);
      expect(again.projects, path).toEqual({ new: 0, changed: 0, unchanged: again.rowsRead });
      expect(again.events.new, path).toBe(0);
    }
    const csvAgain = await ingestFile(a.handle.db, fixture);
    expect(csvAgain.rawRecords.new).toBe(0);
    expect(await projectRows(a.handle.db)).toEqual(before);
    expect((await verifyChain(a.handle.db)).ok).toBe(true);
  });

  it('when a scheduled sync follows the project page to the workbook, then it stores the ledger the CSV gave', async () => {
    // The scheme's project page links the workbook under a name that changes with each update; the page
    // here is written for the test, the workbook is the one built above from the real list.
    const page = '<html><body><a href="/pdf/manual.pdf">手引き</a><a href="/data/project/registration_list_20240605.xlsx">登録プロジェクト一覧</a></body></html>';
    const server = await startReplayServer([
      { path: '/project/', responses: { body: page, headers: { 'content-type': 'text/html; charset=utf-8' } } },
      { path: '/data/project/registration_list_20240605.xlsx', responses: { file: workbook } },
    ]);
    const c = await openTestDatabase();
    try {
      const summary = await syncSource(c.handle.db, 'j-credit', { config: { urls: { projects: `${server.url}/project/` } } });
      expect(summary).toMatchObject({ status: 'committed', rowsRejected: 0 });
      expect(await projectRows(c.handle.db)).toEqual(await projectRows(a.handle.db));
    } finally {
      await Promise.all([c.close(), server.close()]);
    }
  });

  it('when a holder uploads certification and invalidation lists, then certifications are issuances and invalidations retirements of them', async () => {
    const db = a.handle.db;
    const certs = readCsv(certificationsFile);
    const invs = readCsv(invalidationsFile);
    const certSummary = await ingestFile(db, certificationsFile);
    expect(certSummary).toMatchObject({ status: 'committed', format: 'j-credit-certifications', rowsRead: certs.length, rowsRejected: 0, errors: [] });
    const invSummary = await ingestFile(db, invalidationsFile);
    expect(invSummary).toMatchObject({ status: 'committed', format: 'j-credit-invalidations', rowsRead: invs.length, rowsRejected: 0, errors: [] });

    const programmeOfSymbol = (s: string) => (s.startsWith('J') && s !== 'JP' ? 'j-credit' : s.startsWith('K') ? 'japan-domestic-credit' : 'j-ver');
    const sumBy = (list: Record<string, string>[], key: (r: Record<string, string>) => string, qty: string) => {
      const out = new Map<string, number>();
      for (const r of list) out.set(key(r), (out.get(key(r)) ?? 0) + thousandths(r[qty]!));
      return out;
    };
    const issued = await rows<{ registry: string; t: string }>(db, sql`select registry_id as registry, sum(quantity)::text as t from issuances group by 1`);
    expect(new Map(issued.map((i) => [i.registry, thousandths(i.t)]))).toEqual(sumBy(certs, (r) => programmeOfSymbol(r['制度記号']!), '認証量（t-CO2）'));
    const retired = await rows<{ registry: string; t: string; linked: number }>(db, sql`select registry_id as registry, sum(quantity)::text as t,
        count(issuance_id)::int as linked from unit_blocks where status = 'retired' group by 1`);
    expect(new Map(retired.map((i) => [i.registry, thousandths(i.t)]))).toEqual(sumBy(invs, (r) => programmeOfSymbol(r['制度記号']!), '無効化量（t-CO2）'));
    expect(retired.reduce((s, r) => s + r.linked, 0)).toBe(invs.filter((r) => r['クレジット認証番号']).length);
    // Issued and retired events carry the dates of certification and invalidation.
    const events = await rows<{ kind: string; year: number; t: string }>(db, sql`select kind::text, extract(year from occurred_on)::int as year, sum(quantity)::text as t
      from events group by 1, 2 order by 1, 2`);
    const byYear = (list: Record<string, string>[], date: string, qty: string) => sumBy(list, (r) => r[date]!.slice(0, 4), qty);
    expect(new Map(events.filter((e) => e.kind === 'issued').map((e) => [String(e.year), thousandths(e.t)]))).toEqual(byYear(certs, '認証日', '認証量（t-CO2）'));
    expect(new Map(events.filter((e) => e.kind === 'retired').map((e) => [String(e.year), thousandths(e.t)]))).toEqual(byYear(invs, '無効化日', '無効化量（t-CO2）'));
    // The use decides the purpose: reports under the Acts are compliance, offsets and voluntary reporting voluntary.
    const purposes = await rows<{ reason: string; purpose: string | null; beneficiary: string }>(db, sql`select retirement_reason as reason,
        retirement_purpose::text as purpose, retirement_beneficiary as beneficiary from unit_blocks order by id`);
    expect(purposes).toEqual([
      { reason: '温対法での報告', purpose: 'compliance', beneficiary: '例示株式会社' },
      { reason: 'カーボン・オフセット', purpose: 'voluntary', beneficiary: '例示商店' },
      { reason: '経団連カーボンニュートラル行動計画', purpose: 'voluntary', beneficiary: '例示工業株式会社' },
      { reason: 'RE100での報告', purpose: 'voluntary', beneficiary: '例示電機株式会社' },
      { reason: '省エネ法での報告', purpose: 'compliance', beneficiary: '例示病院' },
    ]);
    // Programme-type and legacy numbers reach their projects.
    const [programmeType] = await rows<{ key: string }>(db, sql`select p.key from issuances i join projects p on p.id = i.project_id where i.issuance_key = '例-認証-0004'`);
    expect(programmeType!.key).toBe('j-credit:P1');
    const again = await ingestFile(db, invalidationsFile);
    expect(again.blocks).toMatchObject({ new: 0, changed: 0 });
    expect(again.events.new).toBe(0);
  });
});

describe('J-Credit list, malformed rows', () => {
  let t: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    t = await openTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'tally-j-credit-bad-'));
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await t.close();
  });

  it('when rows have an unreadable volume, a number of another programme, an unknown class or a bad date, then each is reported by its line and no project is half-written', async () => {
    const line = (r: Record<string, string>) => csvLine(headers.map((h) => r[h] ?? ''));
    const first = list[0]!;
    const corrupt = (changes: Record<string, string>) => ({ ...first, ...changes });
    const records = [
      line(first), // good: project 1
      line(corrupt({ [NUMBER]: '2', [QTY]: '12a' })),
      line(corrupt({ [NUMBER]: 'KC0003' })), // a 国内クレジット number in the J-Credit sheet
      line(corrupt({ [NUMBER]: '4', [CLASS]: '【J-クレジット】一覧(特別型)' })),
      line(corrupt({ [NUMBER]: '9999', [METHOD]: 'EN-S-001 Ver. 1.0' })), // first row of a two-row project…
      line(corrupt({ [NUMBER]: '9999', [METHOD]: 'EN-S-006 Ver. 1.0', '認証対象期間終了日': '2021/2/30 0:00' })), // …whose second row is bad
      line(corrupt({ [NUMBER]: '10' })), // good
    ];
    const header = csvLine(headers);
    // Line numbers as the file has them: the header's and some cells break over several lines.
    const starts: number[] = [];
    let next = header.split('\n').length + 1;
    for (const record of records) {
      starts.push(next);
      next += record.split('\n').length;
    }
    const lineOf = (i: number) => starts[i]!;
    const path = join(dir, 'broken.csv');
    writeFileSync(path, `\uFEFF${[header, ...records].join('\r\n')}\r\n`);

    const summary = await ingestFile(t.handle.db, path);
    expect(summary).toMatchObject({ status: 'committed', format: 'j-credit-projects', rowsRead: 6, rowsRejected: 4 });
    const at = (i: number) => summary.errors.filter((e) => e.locator === `line ${lineOf(i)}`);
    expect(at(1)).toEqual([expect.objectContaining({ code: 'not-a-number', message: expect.stringMatching(new RegExp(`^line ${lineOf(1)}: 認証見込み量.*"12a" is not a number`)) })]);
    expect(at(2)).toEqual([expect.objectContaining({ code: 'bad-project-number', message: expect.stringContaining('"KC0003" is not a project number of 【J-クレジット】一覧(通常型)') })]);
    expect(at(3)).toEqual([expect.objectContaining({ code: 'unknown-class', field: '分類' })]);
    expect(at(4)).toEqual([]);
    expect(at(5)).toEqual([expect.objectContaining({ code: 'bad-date', message: expect.stringMatching(new RegExp(`^line ${lineOf(5)}: 認証対象期間終了日: "2021/2/30 0:00"`)) })]);
    expect(summary.errors).toHaveLength(4);
    const stored = await rows<{ key: string }>(t.handle.db, sql`select key from projects order by key`);
    expect(stored.map((s) => s.key)).toEqual(['j-credit:1', 'j-credit:10']);
  });

  it('when a certification names a plain J-Credit number without its project type, or an unknown scheme symbol, then the row is refused with its line', async () => {
    const path = join(dir, 'certs.csv');
    writeFileSync(path, [
      'プロジェクト番号,プロジェクト種別,制度記号,クレジット種別,クレジット認証番号,認証日,認証量（t-CO2）',
      '1,,JC,ER,x-1,2015/3/20 0:00,10',
      '1,通常型,JX,ER,x-2,2015/3/20 0:00,10',
      '1,通常型,JC,ER,x-3,2015/3/20 0:00,-5',
      '1,通常型,JC,ER,x-4,2015/3/20 0:00,10',
    ].join('\n'));
    const summary = await ingestFile(t.handle.db, path);
    expect(summary).toMatchObject({ format: 'j-credit-certifications', rowsRead: 4, rowsRejected: 3 });
    expect(summary.errors.map((e) => [e.locator, e.code])).toEqual([['line 2', 'missing'], ['line 3', 'unknown-symbol'], ['line 4', 'quantity-not-positive']]);
    const [issued] = await rows<{ n: number }>(t.handle.db, sql`select count(*)::int as n from issuances`);
    expect(issued!.n).toBe(1);
  });
});
