import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestAef } from '../../../jobs/article6/aef-upload.ts';
import { ingestFile } from '../../../jobs/ingest-file.ts';
import { rows, type Database } from '../../../schema/database.ts';
import { readCsv } from '../../helpers/csv.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/database.ts';

// Rule 8 on the JCM: credits allocated to Japan are first transferred by the host Party when they are
// issued, and the host's AEF must report them once its report for that year is due (15 April of the
// next year). The real Mongolia–Japan table is checked as it is; a later issuance of the real project
// MN004 is constructed (its period, dates and quantities invented) to show a gap opening and closing.

const fixture = (name: string) => new URL(`../../fixtures/registry-samples/jcm/${name}`, import.meta.url).pathname;
const issuances = readCsv(fixture('issuance_records.csv'));
const today = new Date().toISOString().slice(0, 10);
const isDue = (year: number) => `${year + 1}-04-15` < today;

type Gap = { tonnes: number; status: string; evidence: Record<string, unknown> };
const gaps = (db: Database) => rows<Gap>(db, sql`select tonnes_at_risk::float8 as tonnes, status::text as status, evidence
  from findings where kind = 'ca-unreported-first-transfer' order by id`);

describe('JCM allocations to Japan as first transfers (rule 8)', () => {
  let t: TestDatabase;
  let db: Database;
  let dir: string;
  const upload = async (actions: Record<string, unknown>[]) => {
    const path = join(dir, `mng-aef-${actions.length}.json`);
    writeFileSync(path, JSON.stringify({ aefT1Submission: [{ aefT1SubmissionParty: 'MNG', aefT1SubmissionReportYear: 2024 }], aefT3Actions: actions }));
    return ingestAef(db, [path]);
  };
  const firstTransfer = (first: number, quantity: number, acquiring: string) => ({
    aefT3ActionsDate: '2024-03-25', aefT3ActionsType: 'First transfer', aefT3ActionsSubtype: 'First transfer to another Party',
    aefT3ActionsFirstTransferringPartyId: 'MNG', aefT3ActionsItmoFirstId: `MNG-JCM-${first}`, aefT3ActionsItmoLastId: `MNG-JCM-${first + quantity - 1}`,
    aefT3ActionsQuantityTCo2: quantity, aefT3ActionsVintageYear: 2022, aefT3ActionsTransferringPartyId: 'MNG', aefT3ActionsAcquiringPartyId: acquiring,
  });
  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    dir = mkdtempSync(join(tmpdir(), 'tally-jcm-a6-'));
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when the real table is ingested, then its Japan allocations are first transfers, none of them ITMOs (all mitigation before 2021)', async () => {
    await ingestFile(db, fixture('projects_all_jcm.csv'));
    const summary = await ingestFile(db, fixture('issuance_records.csv'));
    const toJapan = issuances.filter((r) => r.country === 'Japan' && r.issuance_date !== '' && Number(r.issued_amount) > 0);
    const [events] = await rows<{ n: number; t: number }>(db, sql`select count(*)::int as n, sum(quantity)::float8 as t from events where kind = 'first-transferred'`);
    expect(events).toEqual({ n: toJapan.length, t: toJapan.reduce((s, r) => s + Number(r.issued_amount), 0) });
    // ITMOs are mitigation from 2021 on: every period in the table ends by 2020, so nothing is due in the AEF.
    const itmos = toJapan.filter((r) => r.monitoring_end! >= '2021-01-01' && r.issuance_date! >= r.monitoring_end! && isDue(Number(r.issuance_date!.slice(0, 4))));
    expect(summary.check!.rules['ca-unreported-first-transfer']!.found).toBe(itmos.length);
    expect(itmos).toEqual([]);
  });

  it('when Japan\'s allocation of a 2021–2022 period is issued in 2024 and the AEF is silent, then the host\'s gap is that allocation; the host\'s own share is none of it', async () => {
    const header = readFileSync(fixture('issuance_records.csv'), 'utf8').split(/\r?\n/)[0]!;
    const row = (country: string, notified: number, issuedRaw: string, issuedIso: string, period = '01 Jan 21 - 31 Dec 22', decided = '10 Mar 24') =>
      ['JCM', 'Mongolia-Japan JCM', '10MW Solar Power Project in Darkhan City', 'MN004', period, '', '', decided, '', '80000', country, String(notified),
        issuedRaw, issuedIso, `${notified}.0`, 'https://www.jcm.go.jp/jc/mn-projects-issues'].join(',');
    const path = join(dir, 'mn004-2021-2022.csv');
    writeFileSync(path, [header,
      row('Mongolia', 3000, '20 Mar 24', '2024-03-20'),
      row('Japan', 12000, '25 Mar 24', '2024-03-25'),
      // Issued this year: the report for it is not due yet.
      row('Japan', 5000, '05 Feb 26', '2026-02-05', '01 Jan 23 - 31 Dec 23', '20 Jan 26'),
    ].join('\n'));
    const summary = await ingestFile(db, path);
    expect(summary).toMatchObject({ status: 'committed', rowsRejected: 0 });
    const expected = [{ year: 2024, tonnes: 12000 }, { year: 2026, tonnes: 5000 }].filter((g) => isDue(g.year));
    expect(summary.check!.rules['ca-unreported-first-transfer']).toMatchObject({ found: expected.length, tonnesAtRisk: expected.reduce((s, g) => s + g.tonnes, 0) });
    const open = (await gaps(db)).filter((g) => g.status === 'open');
    expect(open.map((g) => [g.evidence.year, g.tonnes])).toEqual(expected.map((g) => [g.year, g.tonnes]));
    expect(open[0]!.evidence).toMatchObject({
      party: 'MNG', acquiringParty: 'JPN', reportDue: '2025-04-15', registryTonnes: 12000, aefFirstTransferTonnes: 0,
      transfers: [expect.objectContaining({ registry: 'jcm', project: 'jcm:MN004', quantity: 12000, date: '2024-03-25' })],
    });
  });

  it('when the host reports part of it, a first transfer to another Party, and then the rest, then the gap shrinks, stays, and closes', async () => {
    await upload([firstTransfer(1, 7000, 'JPN')]);
    expect((await gaps(db)).filter((g) => g.status === 'open').map((g) => g.tonnes)).toEqual([5000]);
    // A first transfer to Switzerland is no report of the transfer to Japan.
    await upload([firstTransfer(1, 7000, 'JPN'), firstTransfer(7001, 5000, 'CHE')]);
    expect((await gaps(db)).filter((g) => g.status === 'open').map((g) => g.tonnes)).toEqual([5000]);
    await upload([firstTransfer(1, 7000, 'JPN'), firstTransfer(7001, 5000, 'JPN')]);
    const all = await gaps(db);
    expect(all.filter((g) => g.status === 'open')).toEqual([]);
    expect(all.map((g) => g.status)).toEqual(['resolved']);
  });
});
