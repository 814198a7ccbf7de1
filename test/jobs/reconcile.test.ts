import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcile, type RegistryReconciliation } from '../../jobs/reconcile.ts';
import { loadSamplesIfEmpty } from '../../jobs/samples.ts';
import { ingestFile } from '../../jobs/ingest-file.ts';
import { readXlsxRows } from '../../connectors/runtime/xlsx.ts';
import { rows } from '../../schema/database.ts';
import { readCsv } from '../helpers/csv.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { startApi } from '../helpers/api.ts';
import { reconciliationTable } from '../../cli/reconcile.ts';

// Reconciliation with the registries' own figures (README, "Reconciliation"), on the bundled samples:
// the figures each file states (the CDM reports' Total rows, Verra's Total Vintage Quantity) are
// computed here from the files themselves, and every difference from the ledger has a named cause.

const sample = (path: string) => new URL(`../fixtures/registry-samples/${path}`, import.meta.url).pathname;

/** The data rows of a CDM report (those starting with a date) summed over `column`, and its Total row's figure. */
async function cdmReport(file: string, firstColumn: string, column: string) {
  let sum = 0;
  let total: number | undefined;
  for await (const row of readXlsxRows(sample(`cdm/${file}`), { isHeader: (cells) => cells.includes(firstColumn) })) {
    const first = row.values[firstColumn] ?? '';
    if (/^total$/i.test(first.trim())) total = Number(row.values[column]);
    else if (/^\d/.test(first)) sum += Number(row.values[column]);
  }
  return { sum, total };
}

describe('reconciliation with the registries\' own figures', () => {
  let t: TestDatabase;
  let result: RegistryReconciliation[];
  beforeAll(async () => {
    t = await openTestDatabase();
    await loadSamplesIfEmpty(t.handle.db);
    result = await reconcile(t.handle.db);
  }, 600_000);
  afterAll(async () => t?.close());

  it('when every bundled sample is loaded, then every registry\'s reconciliation shows zero unexplained difference', () => {
    expect(result.map((r) => r.registry).sort()).toEqual(expect.arrayContaining(['cdm', 'verra']));
    for (const registry of result) {
      const unexplained = [...registry.lines, ...registry.projects].filter((l) => l.unexplained !== 0);
      expect(unexplained, registry.registry).toEqual([]);
      expect(registry.unexplained).toBe(0);
    }
  });

  it('when the CDM reports state their Total rows, then the stated figures are the sums of their rows and the ledger holds them', async () => {
    const cdm = result.find((r) => r.registry === 'cdm')!;
    const reports = [
      { file: 'CDM-Issuance-CompletedApril2025.xlsx', first: 'Completion date', column: 'Total', source: 'issuances', measure: 'issued' },
      { file: 'CDM_Registry_VC_31082023_pub.xlsx', first: 'Completion Date', column: 'Total', source: 'voluntary-cancellations', measure: 'cancelled' },
      { file: 'Admincancellations_31082023.xlsx', first: 'COMPLETION DATE', column: 'UNIT BLOCK TOTAL', source: 'administrative-cancellations', measure: 'cancelled' },
    ];
    for (const report of reports) {
      const { sum, total } = await cdmReport(report.file, report.first, report.column);
      expect(total, report.file).toBe(sum);
      const line = cdm.lines.find((l) => l.source === report.source)!;
      expect(line, report.file).toMatchObject({ measure: report.measure, stated: sum, tally: sum, difference: 0, unexplained: 0, explained: [] });
    }
    // 91.3 Mt issued in the report's rows (checked by hand against the workbook's Total cell).
    expect(cdm.lines.find((l) => l.source === 'issuances')!.stated).toBe(91_314_317);
  });

  it('when the Verra export repeats each vintage\'s Total Vintage Quantity, then those are the stated figures, and the blocks listed explain the rest', () => {
    const csv = readCsv(sample('verra/transactions.csv'));
    const stated = new Map<string, number>();
    const listed = new Map<string, number>();
    const num = (v: string) => Number(v.replace(/,/g, ''));
    for (const row of csv) {
      const key = `${row.ID}|${row['Vintage Start']}|${row['Vintage End']}`;
      stated.set(key, num(row['Total Vintage Quantity']!));
      listed.set(key, (listed.get(key) ?? 0) + num(row['Quantity Issued']!));
    }
    const verra = result.find((r) => r.registry === 'verra')!;
    const lines = new Map(verra.projects.map((l) => [`${l.registryProjectId}|${l.vintageStart}|${l.vintageEnd}`, l]));
    expect([...lines.keys()].sort()).toEqual([...stated.keys()].sort());
    for (const [key, quantity] of stated) {
      const line = lines.get(key)!;
      expect(line.stated, key).toBe(quantity);
      expect(line.tally, key).toBe(listed.get(key));
      const partial = line.explained.find((e) => e.cause === 'partial-listing');
      expect(partial?.tonnes ?? 0, key).toBe(quantity - listed.get(key)!);
    }
    const sumStated = [...stated.values()].reduce((a, b) => a + b, 0);
    const sumListed = [...listed.values()].reduce((a, b) => a + b, 0);
    expect(sumStated).toBeGreaterThan(17_000_000);
    expect(sumListed).toBeLessThan(4_100_000);
  });

  it('when the API is asked for registries { reconciliation }, then it answers the same lines, and the CLI table prints each', async () => {
    const api = await startApi(t.handle);
    try {
      const answer = await api.gql<{ registries: { id: string; reconciliation: { compared: number; unexplained: number; lines: { source: string; stated: number; tally: number; explained: unknown[] }[]; projects: { project: string; vintageStart: string; stated: number; explained: { cause: string; tonnes: number }[] }[] } }[] }>(
        `{ registries { id reconciliation { compared unexplained lines { source stated tally explained { cause tonnes detail } } projects { project vintageStart stated explained { cause tonnes } } } } }`);
      expect(answer.errors).toBeUndefined();
      for (const r of result) {
        const got = answer.data!.registries.find((x) => x.id === r.registry)!.reconciliation;
        expect(got.compared).toBe(r.compared);
        expect(got.unexplained).toBe(0);
        expect(got.lines.map((l) => [l.source, l.stated, l.tally])).toEqual(r.lines.map((l) => [l.source, l.stated, l.tally]));
        expect(got.projects.length).toBe(r.projects.length);
      }
      // A registry no source states a figure for answers an empty reconciliation.
      expect(answer.data!.registries.find((x) => x.id === 'jcm')!.reconciliation).toEqual({ compared: 0, unexplained: 0, lines: [], projects: [] });
    } finally {
      await api.close();
    }
    const cdm = result.find((r) => r.registry === 'cdm')!;
    const table = reconciliationTable(cdm.lines);
    expect(table[0]).toMatch(/^scope\s+measure\s+stated\s+tally\s+difference\s+unexplained\s+stated as$/);
    expect(table.some((l) => /registry\s+issued\s+91,314,317\s+91,314,317\s+0\s+0\s+Total row of the CDM Registry issuance report/.test(l))).toBe(true);
  });

  it('when a sample is ingested again, then the stated figures do not change', async () => {
    const before = await rows<{ n: number }>(t.handle.db, sql`select count(*)::int as n from stated_totals`);
    await ingestFile(t.handle.db, sample('cdm/CDM-Issuance-CompletedApril2025.xlsx'), { check: false });
    const after = await rows<{ n: number }>(t.handle.db, sql`select count(*)::int as n from stated_totals`);
    expect(after).toEqual(before);
    expect(await reconcile(t.handle.db, { registry: 'cdm' })).toEqual(result.filter((r) => r.registry === 'cdm'));
  });
});
