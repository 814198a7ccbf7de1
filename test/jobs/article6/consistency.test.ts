import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestAef } from '../../../jobs/article6/aef-upload.ts';
import { consistencyChecks } from '../../../jobs/article6/consistency.ts';
import type { Database } from '../../../schema/database.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/database.ts';

// Pre-submission consistency checks on the CA0004 worked example, then on variants that break each.

const fixture = new URL('../../fixtures/article6/ca0004-vut-2025.json', import.meta.url).pathname;
type Doc = Record<string, Record<string, unknown>[]>;
const vut = (): Doc => JSON.parse(readFileSync(fixture, 'utf8')) as Doc;

/** Switzerland's side of the first transfer: its acquisition of the ITMOs (a constructed mirror). */
const che = (first: string, last: string, quantity: number): Doc => ({
  aefT1Submission: [{ aefT1SubmissionParty: 'CHE', aefT1SubmissionReportYear: 2025 }],
  aefT2Authorizations: [],
  aefT3Actions: [{
    aefT3ActionsDate: '2025-06-30', aefT3ActionsType: 'Acquisition', aefT3ActionsCooperativeApproachId: 'CA0004', aefT3ActionsAuthorizationId: 'VUT0001',
    aefT3ActionsFirstTransferringPartyId: 'VUT', aefT3ActionsItmoFirstId: first, aefT3ActionsItmoLastId: last, aefT3ActionsQuantityTCo2: quantity,
    aefT3ActionsVintageYear: 2025, aefT3ActionsTransferringPartyId: 'VUT', aefT3ActionsAcquiringPartyId: 'CHE',
  }],
  aefT4Holdings: [],
});

describe('AEF consistency checks', () => {
  let t: TestDatabase;
  let db: Database;
  let dir: string;
  const upload = async (name: string, doc: Doc) => {
    const path = join(dir, name);
    writeFileSync(path, JSON.stringify(doc));
    return ingestAef(db, [path]);
  };
  const outcomes = async (party: string) => Object.fromEntries((await consistencyChecks(db, party, { reportYear: 2025 })).map((r) => [r.check, r.outcome]));

  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    dir = mkdtempSync(join(tmpdir(), 'tally-aef-checks-'));
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when the worked example is uploaded, then every check passes and mirrors wait for the counterparty', async () => {
    await ingestAef(db, [fixture]);
    expect(await outcomes('VUT')).toEqual({ 'authorized-quantity': 'pass', 'ca-applied': 'pass', 'first-transfer-once': 'pass', 'range-quantity': 'pass', mirror: 'not-applicable' });
  });

  it('when the acquiring Party reports the same ITMOs, then the mirror passes on both sides; when its range differs, both fail', async () => {
    await upload('che.json', che('VUT-CA0004-0001', 'VUT-CA0004-0400', 400));
    expect((await outcomes('VUT')).mirror).toBe('pass');
    expect((await outcomes('CHE')).mirror).toBe('pass');
    await upload('che.json', che('VUT-CA0004-0001', 'VUT-CA0004-0300', 300));
    const [vutMirror] = (await consistencyChecks(db, 'VUT')).filter((r) => r.check === 'mirror');
    expect(vutMirror).toEqual({ check: 'mirror', outcome: 'fail', problems: [
      'First transfer (First transfer to another Party) VUT-CA0004-0001…VUT-CA0004-0400, 400 t on 2025-06-30: CHE reports no acquisition of these ITMOs',
    ] });
    expect((await outcomes('CHE')).mirror).toBe('fail');
  });

  it('when a range is first-transferred twice and more is used than authorized, then both checks say by how much', async () => {
    const doc = vut();
    doc.aefT3Actions!.push({ ...doc.aefT3Actions![1]!, aefT3ActionsDate: '2025-09-01', aefT3ActionsItmoFirstId: 'VUT-CA0004-0351', aefT3ActionsItmoLastId: 'VUT-CA0004-0450',
      aefT3ActionsUnitFirstId: 'GS1-1-VU-GS9999-12-2025-40001-351', aefT3ActionsUnitLastId: 'GS1-1-VU-GS9999-12-2025-40001-450', aefT3ActionsQuantityTCo2: 100 });
    await upload('vut-again.json', doc);
    const results = Object.fromEntries((await consistencyChecks(db, 'VUT', { reportYear: 2025 })).map((r) => [r.check, r]));
    expect(results['authorized-quantity']!.problems).toEqual(['VUT0001: 900 first-transferred + 200 held (2025) = 1,100 > 1,000 authorized']);
    expect(results['first-transfer-once']!.problems).toEqual([
      '50 ITMOs first-transferred twice: First transfer (First transfer to another Party) VUT-CA0004-0001…VUT-CA0004-0400, 400 t on 2025-06-30 and First transfer (First transfer to another Party) VUT-CA0004-0351…VUT-CA0004-0450, 100 t on 2025-09-01',
      '50 ITMOs first-transferred twice: First transfer (First transfer to another Party) VUT-CA0004-0351…VUT-CA0004-0450, 100 t on 2025-09-01 and First transfer (Authorization) VUT-CA0004-0401…VUT-CA0004-0800, 400 t on 2025-02-14',
    ]);
    expect(results['range-quantity']!.outcome).toBe('pass');
  });
});
