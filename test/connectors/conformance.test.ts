import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { parse } from 'csv-parse/sync';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileFormats } from '../../connectors/index.ts';
import type { FileFormat } from '../../connectors/types.ts';
import { detectFileFormat, ingestFile } from '../../jobs/ingest-file.ts';
import { BatchRejected, type IngestSummary } from '../../jobs/ingest.ts';
import { rows, type Database } from '../../schema/database.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';

// One conformance suite over every file format of the connector list, fed by every real export in the
// fixtures (test/fixtures/registry-samples/, the CDM, J-Credit and JCM samples, and the exports of other
// years in test/fixtures/historical/). For each file:
// - it is recognised as its registry's export, and loads with zero rejected rows;
// - where the suite knows how to add the file up, the tonnes and projects the batch stored equal the
//   totals computed here from the file (the per-registry tests add up the others);
// - loading it twice changes nothing;
// - for a CSV: header variants — other case and spacing with a BOM, reordered columns, an extra column
//   (listed as unread), the format's optional columns missing, older names (its declared aliases), a raw
//   download (every field quoted, CRLF, trailing comma), Windows-1252 — leave the ledger as it was;
//   a malformed copy gives a row error with its line number; a copy without a required column is
//   refused with that column named.
// Registry per-format tests keep only what is specific to the registry.

const FIXTURES = new URL('../fixtures/', import.meta.url).pathname;
const ROOTS = ['registry-samples', 'historical', 'cdm', 'j-credit', 'jcm'];
/** Fixtures under those roots that are not a registry's export of its records (JCM's methodology list is reference data). */
const NOT_EXPORTS = new Set(['jcm/methodologies.csv']);

/** Every CSV and XLSX export under the fixture roots, grouped by the registry folder it sits in. */
function fixtureFiles(): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(csv|xlsx)$/i.test(name) && !/constructed/.test(name) && !NOT_EXPORTS.has(relative(FIXTURES, path))) {
        const group = relative(FIXTURES, dir);
        groups.set(group, [...(groups.get(group) ?? []), path]);
      }
    }
  };
  for (const root of ROOTS) walk(join(FIXTURES, root));
  return groups;
}

// ---- totals computed from a file -----------------------------------------------------------------

type FileTotals = { issued?: number; retired?: number; cancelled?: number; projects?: number };
const num = (v: string | undefined) => Number((v ?? '').replace(/,/g, '')) || 0;
const sum = (list: Record<string, string>[], column: string, where: (r: Record<string, string>) => boolean = () => true) =>
  list.filter(where).reduce((s, r) => s + num(r[column]), 0);
const distinct = (list: Record<string, string>[], column: string) => new Set(list.map((r) => r[column]).filter(Boolean)).size;

/** How the suite adds up an export, by format id, from the rows as the file names its columns. */
const TOTALS: Record<string, (list: Record<string, string>[], name: (column: string) => string) => FileTotals> = {
  'verra-vcu-export': (l, n) => ({ issued: sum(l, n('Quantity Issued')), retired: sum(l, n('Quantity Issued'), (r) => Boolean(r[n('Retirement/Cancellation Date')]?.trim())) }),
  'verra-projects': (l, n) => ({ projects: distinct(l, n('ID')) }),
  'gold-standard-projects': (l, n) => ({ projects: distinct(l, n('GSID')) }),
  'acr-projects': (l, n) => ({ projects: distinct(l, n('Project ID')) }),
  'climate-action-reserve-projects': (l, n) => ({ projects: distinct(l, n('Project ID')) }),
  'art-trees-programs': (l, n) => ({ projects: distinct(l, n('Program ID')) }),
  'acr-issuances': (l, n) => ({ issued: sum(l, n('Total Credits Issued')) }),
  'climate-action-reserve-issuances': (l, n) => ({ issued: sum(l, n('Total Offset Credits Issued')) }),
  'art-trees-issuances': (l, n) => ({ issued: sum(l, n('Total Emission Reductions/Removals')) }),
  'acr-retirements': (l, n) => ({ retired: sum(l, n('Quantity of Credits')) }),
  'climate-action-reserve-retirements': (l, n) => ({ retired: sum(l, n('Quantity of Offset Credits')) }),
  'art-trees-retirements': (l, n) => ({ retired: sum(l, n('Quantity of Credits')) }),
  'isometric-retirements': (l, n) => ({ retired: sum(l, n('credit_batch_size_total.credit_kgs')) / 1000 }),
  'isometric-retired-credits': (l, n) => ({ retired: sum(l, n('size.credit_kgs'), (r) => r[n('status')] === 'retired') / 1000 }),
};

// ---- CSV variants -------------------------------------------------------------------------------

type Csv = { header: string[]; records: string[][] };

const readCsvFile = (path: string): Csv => {
  const bytes = readFileSync(path);
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  const [header, ...records] = parse(text, { bom: true, relax_column_count: true, skip_empty_lines: true }) as string[][];
  return { header: header!, records };
};

const field = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
const writeCsv = (csv: Csv, options: { quoteAll?: boolean; crlf?: boolean; trailingComma?: boolean; bom?: boolean } = {}) => {
  const line = (cells: string[]) => cells.map((c) => (options.quoteAll ? `"${c.replace(/"/g, '""')}"` : field(c))).join(',') + (options.trailingComma ? ',' : '');
  const eol = options.crlf ? '\r\n' : '\n';
  return `${options.bom ? '\uFEFF' : ''}${[csv.header, ...csv.records].map(line).join(eol)}${eol}`;
};

/** Text as Windows-1252 bytes, or undefined when it holds a character that encoding lacks. */
function windows1252(text: string): Buffer | undefined {
  const specials: Record<string, number> = {
    '€': 0x80, '‚': 0x82, 'ƒ': 0x83, '„': 0x84, '…': 0x85, '†': 0x86, '‡': 0x87, 'ˆ': 0x88, '‰': 0x89, 'Š': 0x8a, '‹': 0x8b, 'Œ': 0x8c, 'Ž': 0x8e,
    '‘': 0x91, '’': 0x92, '“': 0x93, '”': 0x94, '•': 0x95, '–': 0x96, '—': 0x97, '˜': 0x98, '™': 0x99, 'š': 0x9a, '›': 0x9b, 'œ': 0x9c, 'ž': 0x9e, 'Ÿ': 0x9f,
  };
  const out: number[] = [];
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (specials[ch] !== undefined) out.push(specials[ch]!);
    else if (code < 0x80 || (code >= 0xa0 && code <= 0xff)) out.push(code);
    else return undefined;
  }
  return Buffer.from(out);
}

/** The columns of `csv` named as the format names them (today's name, or the alias the file uses). */
function columnIndex(csv: Csv, format: FileFormat, rename: ReadonlyMap<string, string>): Map<string, number> {
  const byName = new Map<string, number>();
  csv.header.forEach((h, i) => {
    const name = rename.get(h.replace(/^\uFEFF/, '').replace(/\s+/g, ' ').trim());
    if (name && format.columns[name]) byName.set(name, i);
  });
  return byName;
}

const keepColumns = (csv: Csv, keep: (i: number) => boolean): Csv => ({
  header: csv.header.filter((_, i) => keep(i)),
  records: csv.records.map((r) => r.filter((_, i) => keep(i))),
});

// ---- the ledger as one registry's figures ---------------------------------------------------------

type Snapshot = Record<string, string | number>;

async function snapshot(db: Database, registry: string): Promise<Snapshot> {
  const [s] = await rows<Snapshot>(db, sql`select
      (select count(*)::int from projects where registry_id = ${registry}) as projects,
      (select count(*)::int from issuances where registry_id = ${registry}) as issuances,
      (select coalesce(sum(quantity), 0)::text from issuances where registry_id = ${registry}) as issued,
      (select count(*)::int from unit_blocks where registry_id = ${registry} and superseded_in_batch_id is null) as blocks,
      (select coalesce(string_agg(status::text || '=' || total::text, ',' order by status), '') from (select status, sum(quantity) as total
        from unit_blocks where registry_id = ${registry} and superseded_in_batch_id is null group by status) b) as block_tonnes,
      (select coalesce(string_agg(kind::text || '=' || total::text, ',' order by kind), '') from (select kind, sum(quantity) as total
        from events where registry_id = ${registry} group by kind) e) as event_tonnes`);
  return s!;
}

async function batchTonnes(db: Database, batchId: number): Promise<Record<string, number>> {
  const found = await rows<{ kind: string; total: number }>(db, sql`select kind::text, sum(quantity)::float8 as total from events where batch_id = ${batchId} group by kind`);
  return Object.fromEntries(found.map((r) => [r.kind, r.total]));
}

async function load(db: Database, path: string, options: { format?: string } = {}): Promise<IngestSummary> {
  try {
    return await ingestFile(db, path, { check: false, ...options });
  } catch (error) {
    if (error instanceof BatchRejected) return error.summary;
    throw error;
  }
}

// ---- the suite ----------------------------------------------------------------------------------

const groups = fixtureFiles();

for (const [group, files] of groups) {
  describe(`conformance: ${group}`, () => {
    let t: TestDatabase;
    let dir: string;
    // Project lists first, so transaction files find the projects they name.
    const ordered = [...files].sort((a, b) => Number(!/project/i.test(basename(a))) - Number(!/project/i.test(basename(b))) || a.localeCompare(b));

    beforeAll(async () => {
      t = await openTestDatabase();
      dir = mkdtempSync(join(tmpdir(), 'tally-conformance-'));
      // An older transaction file names projects its own folder has no list of: today's list describes them.
      if (group.startsWith('historical/') && !files.some((f) => /project/i.test(basename(f)))) {
        for (const projectList of groups.get(group.replace(/^historical\//, 'registry-samples/'))?.filter((f) => /project/i.test(basename(f))) ?? []) {
          await load(t.handle.db, projectList);
        }
      }
    });
    afterAll(async () => {
      await t?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    for (const path of ordered) {
      const name = relative(FIXTURES, path);
      it(`${name}: recognised, loaded whole, added up, idempotent, and read alike in every header variant`, async () => {
        const db = t.handle.db;
        const detected = await detectFileFormat(path);
        const { format } = detected;
        const first = await load(db, path);
        expect(first.errors, `${name}: ${first.errors.slice(0, 3).map((e) => e.message).join(' | ')}`).toEqual([]);
        expect(first.rowsRejected).toBe(0);

        const isCsv = /\.csv$/i.test(path);
        const csv = isCsv ? readCsvFile(path) : undefined;
        const addUp = TOTALS[format.id];
        if (csv && addUp) {
          const named = new Map([...detected.rename].map(([header, canonical]) => [canonical, header]));
          const list = csv.records.map((r) => Object.fromEntries(csv.header.map((h, i) => [h.replace(/^\uFEFF/, '').replace(/\s+/g, ' ').trim(), r[i] ?? ''])));
          const expected = addUp(list, (c) => named.get(c) ?? c);
          const stored = await batchTonnes(db, first.batchId);
          if (expected.issued !== undefined) expect(stored.issued ?? 0).toBeCloseTo(expected.issued, 3);
          if (expected.retired !== undefined) expect(stored.retired ?? 0).toBeCloseTo(expected.retired, 3);
          if (expected.projects !== undefined) expect(first.projects.new + first.projects.changed + first.projects.unchanged).toBe(expected.projects);
        }

        const again = await load(db, path);
        expect({ projects: again.projects.new + again.projects.changed, issuances: again.issuances.new + again.issuances.changed, blocks: again.blocks.new + again.blocks.changed, events: again.events.new })
          .toEqual({ projects: 0, issuances: 0, blocks: 0, events: 0 });
        if (!csv) return;

        const before = await snapshot(db, format.registry);
        const index = columnIndex(csv, format, detected.rename);
        const variant = async (label: string, content: string | Buffer, check: (s: IngestSummary) => void = () => {}) => {
          const file = join(dir, `${label.replace(/\W+/g, '-')}-${basename(path)}`);
          writeFileSync(file, content);
          const summary = await load(db, file, { format: format.id });
          expect(summary.errors.slice(0, 3).map((e) => e.message), `${name}, ${label}`).toEqual([]);
          check(summary);
          expect(await snapshot(db, format.registry), `${name}, ${label}`).toEqual(before);
        };

        await variant('case and spacing', writeCsv({ ...csv, header: csv.header.map((h) => ` ${h.replace(/^\uFEFF/, '').toUpperCase().replace(/ /g, '  ')} `) }, { bom: true }));
        await variant('reordered', writeCsv(keepColumns({ header: [...csv.header].reverse(), records: csv.records.map((r) => [...csv.header.map((_, i) => r[i] ?? '')].reverse()) }, () => true)));
        await variant('extra column', writeCsv({ header: [...csv.header, 'Remarks added by a later export'], records: csv.records.map((r) => [...csv.header.map((_, i) => r[i] ?? ''), 'note']) }),
          (s) => expect((s.details as { unreadColumns: string[] }).unreadColumns).toContain('Remarks added by a later export'));
        const optional = new Set([...index].filter(([columnName]) => !format.columns[columnName]!.required && !KEEP_OPTIONAL.has(`${format.id}:${columnName}`)).map(([, i]) => i));
        await variant('optional columns missing', writeCsv(keepColumns(csv, (i) => !optional.has(i))));
        const aliased = csv.header.map((h, i) => {
          const columnName = [...index].find(([, j]) => j === i)?.[0];
          const alias = columnName ? Object.keys(format.columns[columnName]!.aliases ?? {})[0] : undefined;
          return alias ?? h;
        });
        if (aliased.some((h, i) => h !== csv.header[i])) await variant('older names', writeCsv({ ...csv, header: aliased }));
        await variant('raw download', writeCsv(csv, { quoteAll: true, crlf: true, trailingComma: true }));
        const latin = windows1252(writeCsv(csv));
        if (latin) await variant('Windows-1252', latin);

        // A malformed copy: the required values of the second data row are blanked.
        const required = [...index].filter(([columnName]) => format.columns[columnName]!.required).map(([, i]) => i);
        const broken = { ...csv, records: csv.records.map((r, n) => (n === 1 ? r.map((v, i) => (required.includes(i) ? '' : v)) : r)) };
        const brokenFile = join(dir, `broken-${basename(path)}`);
        writeFileSync(brokenFile, writeCsv(broken));
        const failed = await load(db, brokenFile, { format: format.id });
        expect(failed.rowsRejected, `${name}: a row without its required values`).toBeGreaterThanOrEqual(1);
        // Its line is the line the record starts on: after the header and the first record, with the line breaks inside their quoted fields.
        const line = 3 + [...csv.header, ...csv.records[0]!].join('').split('\n').length - 1;
        expect(failed.errors.map((e) => e.locator), `${name}: the row's line`).toContainEqual(expect.stringMatching(new RegExp(`\\blines? ${line}\\b`)));

        // A copy without its first required column is refused, the column named.
        const [missingName, missingAt] = [...index].find(([columnName]) => format.columns[columnName]!.required)!;
        const without = join(dir, `without-${basename(path)}`);
        writeFileSync(without, writeCsv(keepColumns(csv, (i) => i !== missingAt)));
        await expect(detectFileFormat(without, { format: format.id })).rejects.toThrow(`"${missingName}"`);
      }, 120_000);
    }
  });
}

/**
 * Optional columns the variant "optional columns missing" keeps:
 * - columns that tell apart parts of one record in today's files: dropped from such a file, the parts
 *   become one. No older file lacks them while splitting records (Gold Standard's monitoring periods
 *   and vintages tell apart CER issuances, whose Kyoto serial names neither);
 * - J-Credit's `分類`, optional because the registry's workbook gives it as the sheet's name: a CSV
 *   without it cannot tell the two kinds of project apart, and its rows are refused as such.
 */
const KEEP_OPTIONAL = new Set([
  ...['gold-standard-issuances', 'gold-standard-retirements'].flatMap((f) => ['Monitoring Period Start', 'Monitoring Period End', 'Vintage'].map((c) => `${f}:${c}`)),
  'j-credit-projects:分類',
]);

/**
 * File formats no real file of is at hand: J-Credit's holder lists are constructed from the registry's
 * documentation, and Cercarbono's Projects Report workbook is laid out from real project rows
 * (test/jobs/ingest-cercarbono.test.ts).
 */
const WITHOUT_REAL_FIXTURE = ['cercarbono-projects-report', 'j-credit-certifications', 'j-credit-invalidations'];

describe('conformance: coverage', () => {
  it('adds up files only by formats that exist', () => {
    const ids = new Set(fileFormats().map((f) => f.id));
    expect(Object.keys(TOTALS).filter((id) => !ids.has(id))).toEqual([]);
  });

  it('when every fixture is recognised, then every file format has a real export among them, but those listed here', async () => {
    const formatIds = new Set<string>();
    for (const path of [...groups.values()].flat()) formatIds.add((await detectFileFormat(path)).format.id);
    const without = fileFormats().map((f) => f.id).filter((id) => !formatIds.has(id)).sort();
    expect(without).toEqual([...WITHOUT_REAL_FIXTURE].sort());
  });
});
