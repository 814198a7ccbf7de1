import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSamplesIfEmpty } from '../../jobs/samples.ts';
import { startApi } from '../helpers/api.ts';
import { readCsv } from '../helpers/csv.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { onceCountedIssuedByYear } from '../helpers/trends.ts';

// Trends on the bundled samples, the ledger a fresh Tally starts with: no figure is ever negative, on
// either axis, under any grouping, netted or gross; and tonnes converted from one registry to another
// (ACR's and CAR's offsets converted to CARB's) are counted once, at the registry that issued them last,
// even where a registry converted out more in a year, or of a vintage, than it issued. Expected values
// come from the sample files or from the ledger's events, never from trend_facts or the API itself.

type Point = { year: number | null; group: { code: string }[]; issued: number; retired: number; cancelled: number; convertedOut: number };
type Axis = 'YEAR' | 'VINTAGE';

const ACR = 'american-carbon-registry';
const acrSample = (name: string) => new URL(`../fixtures/registry-samples/${ACR}/${name}`, import.meta.url);
const GROUPS = ['REGISTRY', 'COUNTRY', 'CATEGORY', 'PROJECT_TYPE', 'REDUCTION_REMOVAL', 'UNIT_TYPE'] as const;
const GROUPINGS: string[][] = [[], ...GROUPS.map((g) => [g]), [...GROUPS]];
const MEASURES = ['issued', 'retired', 'cancelled', 'convertedOut'] as const;
const QUERY = `query ($by: TrendAxis, $groupBy: [TrendGroup!], $net: Boolean, $filter: ProjectFilter) {
  trends(by: $by, groupBy: $groupBy, netOfConversions: $net, filter: $filter) { points { year group { code } issued retired cancelled convertedOut } csv } }`;

/** Sums of `value` by `key`. */
function sums<T, K>(items: T[], key: (item: T) => K, value: (item: T) => number): Map<K, number> {
  const out = new Map<K, number>();
  for (const item of items) out.set(key(item), (out.get(key(item)) ?? 0) + value(item));
  return out;
}

describe('trends on the bundled samples', () => {
  let t: TestDatabase;
  let api: Awaited<ReturnType<typeof startApi>>;

  beforeAll(async () => {
    t = await openTestDatabase();
    await loadSamplesIfEmpty(t.handle.db);
    api = await startApi(t.handle);
  }, 180_000);
  afterAll(async () => {
    await api?.close();
    await t?.close();
  });

  async function trend(variables: { by: Axis; groupBy?: string[]; net: boolean; filter?: Record<string, unknown> }): Promise<{ points: Point[]; csv: string }> {
    const answer = await api.gql<{ trends: { points: Point[]; csv: string } }>(QUERY, { groupBy: [], ...variables });
    expect(answer.errors).toBeUndefined();
    return answer.data!.trends;
  }

  it.each([['YEAR', true], ['YEAR', false], ['VINTAGE', true], ['VINTAGE', false]] as const)(
    'trends on the bundled samples contain no negative value (by %s, netOfConversions %s), in the points or the CSV, under any grouping',
    async (by, net) => {
      const totals = await trend({ by, net });
      const perYear = sums(totals.points, (p) => p.year, (p) => p.issued);
      expect(totals.points.length).toBeGreaterThan(0);
      for (const groupBy of GROUPINGS) {
        const { points, csv } = await trend({ by, groupBy, net });
        const negative = points.filter((p) => MEASURES.some((m) => p[m] < 0));
        expect(negative, `groupBy [${groupBy}]`).toEqual([]);
        const lines = parse(csv, { columns: true }) as Record<string, string>[];
        expect(lines.length).toBe(points.length);
        expect(lines.filter((l) => ['issued', 'retired', 'cancelled', 'converted_out'].some((c) => Number(l[c]) < 0)), `CSV, groupBy [${groupBy}]`).toEqual([]);
        // However the points are split, a year's issued tonnes add up to the same total.
        const grouped = sums(points, (p) => p.year, (p) => p.issued);
        expect([...grouped.keys()].sort()).toEqual([...perYear.keys()].sort());
        for (const [year, issued] of perYear) expect(grouped.get(year), `groupBy [${groupBy}], ${year}`).toBeCloseTo(issued, 3);
      }
    },
  );

  it('when ACR converted more of a vintage to CARB than the ACR issuances Tally holds, then ACR\'s issued of that vintage loses only what it issued, and its conversions are a series of their own', async () => {
    // From the sample files: ACR's issuance report, and the cancellation report whose `Convert to …` rows
    // are conversions (to CARB, which Tally holds, and to Washington's Ecology, which it does not).
    const issued = readCsv(acrSample('issuances.csv')).map((r) => ({ project: r['Project ID']!, vintage: Number(r['Vintage']), quantity: Number(r['Total Credits Issued']) }));
    const conversions = readCsv(acrSample('cancellations.csv')).filter((r) => /^Convert to /.test(r['Cancellation Type']!))
      .map((r) => ({ project: r['Project ID']!, vintage: Number(r['Vintage']), quantity: Number(r['Quantity of Credits']), toCarb: /^Convert to ARB\b/.test(r['Cancellation Type']!) }));
    const issuedOf = sums(issued, (i) => `${i.project}/${i.vintage}`, (i) => i.quantity);
    const toCarbOf = sums(conversions.filter((c) => c.toCarb), (c) => `${c.project}/${c.vintage}`, (c) => c.quantity);
    const gross = sums(issued, (i) => i.vintage, (i) => i.quantity);
    const toCarb = sums(conversions.filter((c) => c.toCarb), (c) => c.vintage, (c) => c.quantity);
    const converted = sums(conversions, (c) => c.vintage, (c) => c.quantity);
    const netted = sums([...toCarbOf], ([key]) => Number(key.split('/')[1]), ([key, q]) => Math.min(q, issuedOf.get(key) ?? 0));

    const [grossTrend, netTrend] = await Promise.all([
      trend({ by: 'VINTAGE', net: false, filter: { registries: [ACR] } }), trend({ by: 'VINTAGE', net: true, filter: { registries: [ACR] } }),
    ]);
    const vintages = [...new Set([...gross.keys(), ...converted.keys()])].sort();
    const row = (points: Point[], vintage: number) => points.find((p) => p.year === vintage);
    for (const vintage of vintages) {
      expect(row(grossTrend.points, vintage)?.issued ?? 0, `gross ${vintage}`).toBe(gross.get(vintage) ?? 0);
      expect(row(netTrend.points, vintage)?.issued ?? 0, `net ${vintage}`).toBe((gross.get(vintage) ?? 0) - (netted.get(vintage) ?? 0));
      for (const points of [grossTrend.points, netTrend.points]) expect(row(points, vintage)?.convertedOut ?? 0, `converted ${vintage}`).toBe(converted.get(vintage) ?? 0);
    }
    // The case the netting used to get wrong: more of a vintage converted to CARB than ACR's issuances of it
    // Tally holds (issued − converted would be negative), yet some of it is netted.
    const overdrawn = vintages.filter((v) => (toCarb.get(v) ?? 0) > (gross.get(v) ?? 0) && (netted.get(v) ?? 0) > 0);
    expect(overdrawn.length).toBeGreaterThan(0);
    for (const vintage of overdrawn) expect(row(netTrend.points, vintage)!.issued).toBeGreaterThanOrEqual(0);
  });

  it('when a registry converts out more in a year than it issued that year, then the year\'s total counts each tonne once, equal to the ledger\'s issuance less the conversions its own issuance held', async () => {
    const [gross, net, total] = await Promise.all([
      trend({ by: 'YEAR', groupBy: ['REGISTRY'], net: false }), trend({ by: 'YEAR', groupBy: ['REGISTRY'], net: true }), trend({ by: 'YEAR', net: true }),
    ]);
    // In the samples ACR converted to CARB in 2024 several times what it issued in 2024.
    const acr = (points: Point[]) => points.filter((p) => p.group[0]!.code === ACR);
    const overdrawn = acr(gross.points).filter((p) => p.convertedOut > p.issued);
    expect(overdrawn.length).toBeGreaterThan(0);
    for (const p of overdrawn) {
      const counted = acr(net.points).find((q) => q.year === p.year)!;
      expect(counted.issued).toBeGreaterThanOrEqual(0);
      expect(counted.issued).toBeLessThanOrEqual(p.issued);
      expect(counted.convertedOut).toBe(p.convertedOut);
    }
    const expected = await onceCountedIssuedByYear(t.handle.db);
    const byRegistry = sums(net.points, (p) => p.year, (p) => p.issued);
    const ungrouped = sums(total.points, (p) => p.year, (p) => p.issued);
    const years = [...new Set([...expected.keys(), ...ungrouped.keys()])];
    expect(years.length).toBeGreaterThan(1);
    for (const year of years) {
      expect(ungrouped.get(year) ?? 0, `${year}`).toBeCloseTo(expected.get(year) ?? 0, 3);
      expect(byRegistry.get(year) ?? 0, `${year}`).toBeCloseTo(expected.get(year) ?? 0, 3);
    }
    // And the gross view is the registries' own figures, nothing netted.
    const grossTotal = [...sums(gross.points, () => 0, (p) => p.issued).values()][0]!;
    const netTotal = [...byRegistry.values()].reduce((s, q) => s + q, 0);
    expect(grossTotal).toBeGreaterThan(netTotal);
  });
});
