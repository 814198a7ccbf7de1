import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestFile } from '../../jobs/ingest-file.ts';
import { ingestFiles } from '../../jobs/ingest-files.ts';
import { catalogues, parameterNames, render, type Message } from '../../schema/messages/index.ts';
import { rows, type Database } from '../../schema/database.ts';
import { startApi } from '../helpers/api.ts';
import { csvLine, readCsv } from '../helpers/csv.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';

// Every word in both languages: findings raised by a real ingest (SocialCarbon's retirements hold one
// unit retired by two records, and a retirement for a bridge) and a real rejected row, read through the
// API in English and in Japanese (`locale` argument or `Accept-Language: ja`). The numbers are the same;
// the words are the catalogues'.

const sample = (registry: string, name: string) => new URL(`../fixtures/registry-samples/${registry}/${name}`, import.meta.url).pathname;
const SOCIALCARBON = ['projects.json', 'issuances.json', 'retirements-page1.json', 'retirements-page2.json', 'cancellations.json'].map((f) => sample('socialcarbon', f));
const ARB_CSV = sample('arb', 'nc-arboc_issuance_sheet3.csv');

const FINDINGS = `query ($locale: Locale) { findings(locale: $locale, filter: { kinds: ["retired-twice", "tokenized-after-retirement"] }) {
  csv nodes { kind { code label } title tonnesAtRisk evidence evidenceFields history { summary } } } }`;
type Node = { kind: { code: string; label: string }; title: string; tonnesAtRisk: number; evidence: Record<string, unknown>; evidenceFields: Entry[]; history: { summary: string }[] };
type Entry = { key: string; label: string; text?: string; entries?: Entry[]; items?: { text?: string; entries?: Entry[] }[] };

/** Every label of the evidence, nested fields included. */
const labels = (entries: Entry[]): string[] => entries.flatMap((e) => [e.label, ...labels(e.entries ?? []), ...(e.items ?? []).flatMap((i) => labels(i.entries ?? []))]);
const numbersIn = (text: string) => text.match(/\d[\d,]*/g) ?? [];

describe('findings and row errors in English and Japanese', () => {
  let t: TestDatabase;
  let db: Database;
  let api: Awaited<ReturnType<typeof startApi>>;
  let dir: string;

  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    await ingestFiles(db, SOCIALCARBON);
    dir = mkdtempSync(join(tmpdir(), 'tally-messages-'));
    const csv = readCsv(ARB_CSV);
    const headers = Object.keys(csv[0]!);
    const path = join(dir, 'arb-broken.csv');
    writeFileSync(path, [
      readFileSync(ARB_CSV, 'utf8').split(/\r?\n/)[0]!,
      csvLine(headers.map((h) => csv[0]![h] ?? '')), // line 2
      csvLine(headers.map((h) => (h === 'Retired 2nd Compliance Period (CA)' ? '12a' : csv[1]![h] ?? ''))), // line 3
      '',
    ].join('\n'));
    await ingestFile(db, path);
    api = await startApi(t.handle);
  }, 180_000);
  afterAll(async () => {
    await api?.close();
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('when a real ingest raises findings, then each is stored with its title as a message of the catalogues', async () => {
    const stored = await rows<{ kind: string; title: string; message: Message }>(db, sql`select kind::text as kind, title, title_message as message from findings order by id`);
    expect(stored.map((f) => f.kind).sort()).toEqual(['retired-twice', 'tokenized-after-retirement']);
    for (const f of stored) {
      expect(f.message.key).toBe(`finding.${f.kind}`);
      // The rule gives every parameter its title names, and the English title stored beside it is that message's.
      expect(Object.keys(f.message.params ?? {}).sort()).toEqual(parameterNames(catalogues.en[f.message.key]).sort());
      expect(f.title).toBe(render('en', f.message));
    }
  });

  it('when findings are asked for in Japanese, then titles, kinds, evidence labels and history read Japanese, with the same numbers as in English', async () => {
    const en = (await api.gql<{ findings: { nodes: Node[]; csv: string } }>(FINDINGS, { locale: 'EN' })).data!.findings;
    const byArgument = (await api.gql<{ findings: { nodes: Node[]; csv: string } }>(FINDINGS, { locale: 'JA' })).data!.findings;
    const byHeader = (await api.gql<{ findings: { nodes: Node[]; csv: string } }>(FINDINGS, {}, { headers: { 'accept-language': 'ja-JP,ja;q=0.9' } })).data!.findings;
    expect(byHeader.nodes).toEqual(byArgument.nodes);
    const enTwice = en.nodes.find((n) => n.kind.code === 'retired-twice')!;
    const jaTwice = byArgument.nodes.find((n) => n.kind.code === 'retired-twice')!;
    expect(enTwice.title).toMatch(/^1 units \(26–26\) of socialcarbon:\S+ are retired twice \(\d{4}-\d\d-\d\d and \d{4}-\d\d-\d\d\)$/);
    expect(jaTwice.title).toContain('二重に無効化されています');
    expect(jaTwice.title).toContain('ユニット');
    expect(jaTwice.kind.label).toBe('二重無効化');
    expect(numbersIn(jaTwice.title).sort()).toEqual(numbersIn(enTwice.title).sort());
    expect(jaTwice.tonnesAtRisk).toBe(enTwice.tonnesAtRisk);

    const enToken = en.nodes.find((n) => n.kind.code === 'tokenized-after-retirement')!;
    const jaToken = byArgument.nodes.find((n) => n.kind.code === 'tokenized-after-retirement')!;
    expect(enToken.title).toMatch(/^10 units of socialcarbon:\S+ retired on 2024-04-30 for the THALLO bridge$/);
    expect(jaToken.title).toMatch(/^socialcarbon:\S+ の 10 ユニットが2024-04-30に THALLO ブリッジのために無効化されています$/);

    // Every label is the Japanese catalogue's, none the English one or a bare key.
    const jaLabels = new Set(Object.entries(catalogues.ja).filter(([k]) => k.startsWith('evidence.')).map(([, v]) => v));
    const enLabels = new Set(Object.entries(catalogues.en).filter(([k]) => k.startsWith('evidence.')).map(([, v]) => v));
    for (const node of byArgument.nodes) {
      const all = labels(node.evidenceFields);
      expect(all.length).toBeGreaterThan(5);
      expect(all.filter((l) => !jaLabels.has(l))).toEqual([]);
      expect(all.filter((l) => enLabels.has(l) && !jaLabels.has(l))).toEqual([]);
      expect(node.history.map((h) => h.summary)).toEqual(['新規 → 未対応（検出）']);
    }
    for (const node of en.nodes) expect(node.history.map((h) => h.summary)).toEqual(['new → Open (found)']);
    const status = (entries: Entry[]) => entries.find((e) => e.key === 'blocks')!.items![0]!.entries!.find((e) => e.key === 'status')!.text;
    expect(status(jaTwice.evidenceFields)).toBe('無効化済み');
    expect(status(enTwice.evidenceFields)).toBe('Retired');
    // The raw evidence keeps its keys and codes for machines.
    expect(jaTwice.evidence).toEqual(enTwice.evidence);
    // The CSV of the list carries the titles in the asked language.
    expect(byArgument.csv).toContain('二重に無効化されています');
    expect(en.csv).toContain('are retired twice');
  });

  it('when a finding was stored before titles were messages, then its stored title is shown in every language', async () => {
    const [row] = await rows<{ id: number }>(db, sql`select id::float8 as id from findings where kind = 'retired-twice'`);
    await db.execute(sql`update findings set title_message = null, title = 'an older English title' where id = ${row!.id}`);
    const asked = await api.gql<{ finding: { title: string } }>(`query ($id: ID!) { finding(id: $id, locale: JA) { title } }`, { id: String(row!.id) });
    expect(asked.data!.finding.title).toBe('an older English title');
  });

  it('when a real row is rejected, then its error reads in the caller\'s language', async () => {
    const QUERY = `{ batches(first: 5) { nodes { errors { locator field code message } } } }`;
    const errorsOf = (data: { batches: { nodes: { errors: { locator: string; field: string; code: string; message: string }[] }[] } } | undefined) =>
      data!.batches.nodes.flatMap((b) => b.errors).filter((e) => e.code === 'not-a-number');
    const en = errorsOf((await api.gql(QUERY)).data as never);
    const ja = errorsOf((await api.gql(QUERY, {}, { headers: { 'accept-language': 'ja' } })).data as never);
    expect(en).toEqual([{ locator: 'line 3', field: 'Retired 2nd Compliance Period (CA)', code: 'not-a-number', message: 'line 3: Retired 2nd Compliance Period (CA): "12a" is not a number' }]);
    expect(ja).toEqual([{ locator: '3行目', field: 'Retired 2nd Compliance Period (CA)', code: 'not-a-number', message: '3行目：Retired 2nd Compliance Period (CA)：「12a」は数値ではありません' }]);
  });

  it('when a serial is not in the ledger, then the lookup says so in the caller\'s language', async () => {
    const QUERY = `query ($locale: Locale) { lookup(serial: "VCS-VCU-1-VER-US-1-1-01012020-31122020-1", locale: $locale) { message } }`;
    const en = (await api.gql<{ lookup: { message: string } }>(QUERY, { locale: 'EN' })).data!.lookup.message;
    const ja = (await api.gql<{ lookup: { message: string } }>(QUERY, { locale: 'JA' })).data!.lookup.message;
    expect(en).toMatch(/^No block or issuance the ledger holds contains|is not a serial in a format Tally reads/);
    expect(ja).toMatch(/台帳にありません|シリアル番号ではなく/);
  });
});
