import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readXlsxRows } from '../../connectors/runtime/xlsx.ts';
import { ingestFile } from '../../jobs/ingest-file.ts';
import { reconcile } from '../../jobs/reconcile.ts';
import { csvLine } from '../helpers/csv.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';

// A cause is claimed only for the tonnes it accounts for; the rest is listed as unexplained. The CDM
// Registry's real administrative cancellations report (its six rows and its TOTAL row), written out as
// CSV with one row's serial range broken (a row error) or one row left out (nothing Tally can name).

const ADMIN = new URL('../fixtures/registry-samples/cdm/Admincancellations_31082023.xlsx', import.meta.url).pathname;

async function adminRows(): Promise<Record<string, string>[]> {
  const out: Record<string, string>[] = [];
  for await (const row of readXlsxRows(ADMIN, { isHeader: (cells) => cells.includes('COMPLETION DATE') })) out.push(row.values);
  return out;
}

describe('reconciliation causes', () => {
  let t: TestDatabase;
  let dir: string;
  let rows: Record<string, string>[];
  const write = (name: string, list: Record<string, string>[]) => {
    const headers = Object.keys(rows[0]!);
    const path = join(dir, name);
    writeFileSync(path, [csvLine(headers), ...list.map((r) => csvLine(headers.map((h) => r[h] ?? '')))].join('\n'));
    return path;
  };
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tally-reconcile-'));
    rows = await adminRows();
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when a row of the report is rejected, then its tonnes are explained as rows rejected', async () => {
    t = await openTestDatabase();
    const data = rows.filter((r) => /^\d/.test(r['COMPLETION DATE'] ?? ''));
    const total = rows.find((r) => /^total$/i.test(r['COMPLETION DATE'] ?? ''))!;
    expect(data.reduce((s, r) => s + Number(r['UNIT BLOCK TOTAL']), 0)).toBe(Number(total['UNIT BLOCK TOTAL']));
    const broken = { ...data[0]!, 'SERIAL RANGE': '900 - 400' };
    const summary = await ingestFile(t.handle.db, write('admin-broken.csv', [broken, ...data.slice(1), total]), { check: false });
    expect(summary.rowsRejected).toBe(1);
    const [cdm] = await reconcile(t.handle.db, { registry: 'cdm' });
    const line = cdm!.lines.find((l) => l.source === 'administrative-cancellations')!;
    const lost = Number(data[0]!['UNIT BLOCK TOTAL']);
    expect(line).toMatchObject({ stated: Number(total['UNIT BLOCK TOTAL']), tally: Number(total['UNIT BLOCK TOTAL']) - lost, difference: -lost, unexplained: 0 });
    expect(line.explained).toEqual([{ cause: 'rows-rejected', tonnes: lost, detail: expect.stringContaining('1 row(s)'), text: { key: 'recon.rows-rejected', params: { rows: 1 } } }]);
    await t.close();
  }, 120_000);

  it('when a row is missing from the file but counted in its total, then the difference is listed as unexplained', async () => {
    t = await openTestDatabase();
    const data = rows.filter((r) => /^\d/.test(r['COMPLETION DATE'] ?? ''));
    const total = rows.find((r) => /^total$/i.test(r['COMPLETION DATE'] ?? ''))!;
    await ingestFile(t.handle.db, write('admin-short.csv', [...data.slice(1), total]), { check: false });
    const [cdm] = await reconcile(t.handle.db, { registry: 'cdm' });
    const line = cdm!.lines.find((l) => l.source === 'administrative-cancellations')!;
    const missing = Number(data[0]!['UNIT BLOCK TOTAL']);
    expect(line).toMatchObject({ difference: -missing, unexplained: -missing, explained: [] });
    expect(cdm!.unexplained).toBe(missing);
  }, 120_000);
});
