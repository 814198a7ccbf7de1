import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AefRejected, ingestAef, type AefSummary } from '../../../jobs/article6/aef-upload.ts';
import { verifyChain } from '../../../jobs/batches.ts';
import { rows, type Database } from '../../../schema/database.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/database.ts';

// AEF uploads (issue: Article 6): the CA0004 worked example as JSON, as a workbook and as CSV files,
// which must all store the same rows; and malformed uploads, rejected with row-level reasons and
// leaving nothing behind.

const fixture = new URL('../../fixtures/article6/ca0004-vut-2025.json', import.meta.url).pathname;
type Doc = Record<string, Record<string, unknown>[]>;
const document = (): Doc => JSON.parse(readFileSync(fixture, 'utf8')) as Doc;
const SHEETS: Record<string, string> = {
  aefT1Submission: 'T1 Submission', aefT2Authorizations: 'T2 Authorizations', aefT3Actions: 'T3 Actions',
  aefT4Holdings: 'T4 Holdings', aefT5AuthorizedEntities: 'T5 Authorized entities', caApplied: 'CA applied',
};

async function writeWorkbook(path: string, doc: Doc, leaveOut: string[] = []): Promise<string> {
  const workbook = new ExcelJS.Workbook();
  for (const [table, list] of Object.entries(doc)) {
    if (leaveOut.includes(table)) continue;
    const sheet = workbook.addWorksheet(SHEETS[table]!);
    const headers = [...new Set(list.flatMap((r) => Object.keys(r)))];
    sheet.addRow([`Agreed Electronic Format — ${SHEETS[table]}`]); // a title row above the header, as Parties write them
    sheet.addRow(headers);
    for (const r of list) sheet.addRow(headers.map((h) => r[h] ?? null));
  }
  await workbook.xlsx.writeFile(path);
  return path;
}

function writeCsvFiles(dir: string, doc: Doc): string[] {
  return Object.entries(doc).map(([table, list]) => {
    const headers = [...new Set(list.flatMap((r) => Object.keys(r)))];
    const cell = (v: unknown) => (v === null || v === undefined ? '' : /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));
    const path = join(dir, `${table}.csv`);
    writeFileSync(path, [headers.join(','), ...list.map((r) => headers.map((h) => cell(r[h])).join(','))].join('\n'));
    return path;
  });
}

const tableCounts = (db: Database) => rows<{ t1: number; t2: number; t3: number; t4: number; t5: number }>(db, sql`select
  (select count(*)::int from aef_submissions) as t1, (select count(*)::int from aef_authorizations) as t2, (select count(*)::int from aef_actions) as t3,
  (select count(*)::int from aef_holdings) as t4, (select count(*)::int from aef_authorized_entities) as t5`);

async function rejected(promise: Promise<AefSummary>): Promise<AefSummary> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AefRejected) return error.summary;
    throw error;
  }
  throw new Error('the upload was accepted');
}

describe('AEF upload', () => {
  let t: TestDatabase;
  let db: Database;
  let dir: string;
  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    dir = mkdtempSync(join(tmpdir(), 'tally-aef-'));
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when the CA0004 submission is uploaded as JSON, then every table is stored and 1,000 authorized = 400 + 400 first-transferred + 200 held', async () => {
    const summary = await ingestAef(db, [fixture]);
    expect(summary).toMatchObject({ status: 'committed', party: 'VUT', reportYear: 2025, rowsRead: 7, errors: [], warnings: [] });
    expect(summary.tables).toMatchObject({ t1: { new: 1 }, t2: { new: 1 }, t3: { new: 2 }, t4: { new: 1 }, t5: { new: 1 }, ca: { new: 1 } });
    const [totals] = await rows<{ authorized: number; first: number; held: number; linked: number; entity: string; timeframe: string }>(db, sql`select
      (select quantity::float8 from aef_authorizations where party = 'VUT' and authorization_id = 'VUT0001') as authorized,
      (select sum(quantity_tco2)::float8 from aef_actions where party = 'VUT' and action_type = 'First transfer') as first,
      (select sum(quantity_tco2)::float8 from aef_holdings where party = 'VUT' and snapshot_year = 2025) as held,
      (select count(*)::int from aef_actions where authorization_row_id is not null) as linked,
      (select authorized_entity_id from aef_authorizations) as entity,
      (select timeframe_start || '-' || timeframe_end from aef_authorizations) as timeframe`);
    expect(totals).toEqual({ authorized: 1000, first: 800, held: 200, linked: 2, entity: 'VUT-AE-01', timeframe: '2024-2030' });
    // The rows as received are kept with their hashes, and the batch joins the chain.
    expect(await verifyChain(db)).toMatchObject({ ok: true, problems: [] });
  });

  it('when the same tables come again as JSON, as a workbook and as CSV files, then nothing changes', async () => {
    const json = await ingestAef(db, [fixture]);
    const workbook = await ingestAef(db, [await writeWorkbook(join(dir, 'aef.xlsx'), document())]);
    const csv = await ingestAef(db, writeCsvFiles(dir, document()));
    for (const summary of [json, workbook, csv]) {
      expect(summary.status).toBe('committed');
      expect(summary.rowsRead).toBe(7);
      for (const c of Object.values(summary.tables)) expect(c).toMatchObject({ new: 0, changed: 0, removed: 0 });
    }
    expect(await tableCounts(db)).toEqual([{ t1: 1, t2: 1, t3: 2, t4: 1, t5: 1 }]);
  });

  it('when a workbook lacks a sheet, or rows break the rules, then the upload is refused row by row and nothing is stored', async () => {
    const before = await tableCounts(db);
    const missing = await rejected(ingestAef(db, [await writeWorkbook(join(dir, 'no-holdings.xlsx'), document(), ['aefT4Holdings'])]));
    expect(missing.errors.map((e) => e.code)).toEqual(['missing-sheet']);
    expect(missing.errors[0]!.message).toMatch(/no sheet "T4 Holdings"/);

    const doc = document();
    doc.aefT3Actions![0]!.aefT3ActionsAuthorizationId = 'VUT0099'; // no such authorization
    doc.aefT3Actions![1]!.aefT3ActionsQuantityTCo2 = 450; // the ITMO range holds 400
    doc.aefT3Actions![1]!.aefT3ActionsAcquiringPartyId = 'CH'; // alpha-2, not alpha-3
    doc.aefT4Holdings![0]!.aefT4HoldingsVintageYear = 2031; // after the 2024 – 2030 timeframe
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify(doc));
    const summary = await rejected(ingestAef(db, [bad]));
    expect(summary.status).toBe('failed');
    expect(summary.errors.map((e) => [e.locator, e.code]).sort()).toEqual([
      ['bad.json aefT3Actions[0]', 'unknown-authorization'],
      ['bad.json aefT3Actions[1]', 'quantity-range-mismatch'],
      ['bad.json aefT3Actions[1]', 'quantity-range-mismatch'],
      ['bad.json aefT3Actions[1]', 'unknown-party'],
      ['bad.json aefT4Holdings[0]', 'vintage-outside-timeframe'],
    ].sort());
    expect(summary.errors.find((e) => e.code === 'unknown-party')!.message).toBe('bad.json aefT3Actions[1]: aefT3ActionsAcquiringPartyId: "CH" is not an ISO 3166-1 alpha-3 country code');
    expect(summary.errors.find((e) => e.code === 'quantity-range-mismatch')!.message).toMatch(/450 ≠ 400, the number of ITMOs from VUT-CA0004-0001 to VUT-CA0004-0400/);
    expect(await tableCounts(db)).toEqual(before);
    const [failed] = await rows<{ n: number; errors: number }>(db, sql`select count(*)::int as n, max(jsonb_array_length(errors))::int as errors
      from batches where connector = 'article6-aef' and status = 'failed'`);
    expect(failed).toEqual({ n: 2, errors: 6 }); // the failure itself plus the five row errors
  });

  it('when a resubmission drops an action, then the submission\'s actions are replaced, not added to', async () => {
    const doc = document();
    doc.aefT3Actions = doc.aefT3Actions!.slice(1);
    const path = join(dir, 'resubmitted.json');
    writeFileSync(path, JSON.stringify(doc));
    const summary = await ingestAef(db, [path]);
    expect(summary.tables.t3).toEqual({ new: 0, changed: 0, unchanged: 1, removed: 1 });
    expect((await tableCounts(db))[0]!.t3).toBe(1);
  });
});
