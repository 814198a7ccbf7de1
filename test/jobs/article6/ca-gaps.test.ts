import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestAef } from '../../../jobs/article6/aef-upload.ts';
import { partySummary } from '../../../jobs/article6/summary.ts';
import type { CanonicalInput } from '../../../schema/canonical.ts';
import { rows, type Database } from '../../../schema/database.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/database.ts';
import { ingestRecords } from '../../helpers/ledger.ts';

// Corresponding-adjustment gap rules 9–13 on the CA0004 worked example: the example raises none, and
// each variant raises exactly its gap with the right tonnes.

const fixture = new URL('../../fixtures/article6/ca0004-vut-2025.json', import.meta.url).pathname;
type Doc = Record<string, Record<string, unknown>[]>;
const vut = (): Doc => JSON.parse(readFileSync(fixture, 'utf8')) as Doc;

type Found = { kind: string; tonnes: number; status: string; evidence: Record<string, unknown> };
const gaps = (db: Database) => rows<Found>(db, sql`select kind::text as kind, tonnes_at_risk::float8 as tonnes, status::text as status, evidence
  from findings where kind::text like 'ca-%' order by id`);
const open = async (db: Database) => (await gaps(db)).filter((f) => f.status === 'open').map((f) => [f.kind, f.tonnes]);

describe('corresponding-adjustment gaps', () => {
  let t: TestDatabase;
  let db: Database;
  let dir: string;
  const upload = async (doc: Doc) => {
    const path = join(dir, 'upload.json');
    writeFileSync(path, JSON.stringify(doc));
    return ingestAef(db, [path]);
  };
  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    dir = mkdtempSync(join(tmpdir(), 'tally-ca-gaps-'));
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when the worked example is uploaded, then no gap is found and the summary holds its figures', async () => {
    const summary = await ingestAef(db, [fixture]);
    expect(summary.check!.rules['ca-quantity-mismatch']!.found).toBe(0);
    expect(await open(db)).toEqual([]);
    expect(await partySummary(db, 'VUT')).toEqual([
      { year: 2025, authorized: 1000, unstatedAuthorizations: 0, firstTransferred: 800, held: 200, used: 0, caAdded: 800, caSubtracted: 0, openGapTonnes: 0 },
    ]);
  });

  it('when the adjustment added is less than what was first transferred, then rule 9 finds the difference, and the summary counts it', async () => {
    const doc = vut();
    doc.caApplied![0]!.caAppliedQuantity = 700;
    await upload(doc);
    expect(await open(db)).toEqual([['ca-quantity-mismatch', 100]]);
    expect((await partySummary(db, 'VUT'))[0]).toMatchObject({ caAdded: 700, openGapTonnes: 100 });
    await upload(vut());
    expect(await open(db)).toEqual([]); // corrected: resolved
  });

  it('when more is first-transferred and held than authorized, then rule 9 finds the excess; the range sent twice is rule 10', async () => {
    const doc = vut();
    doc.aefT3Actions!.push({ ...doc.aefT3Actions![1]!, aefT3ActionsDate: '2025-09-01', aefT3ActionsItmoFirstId: 'VUT-CA0004-0351', aefT3ActionsItmoLastId: 'VUT-CA0004-0450',
      aefT3ActionsUnitFirstId: 'GS1-1-VU-GS9999-12-2025-40001-351', aefT3ActionsUnitLastId: 'GS1-1-VU-GS9999-12-2025-40001-450', aefT3ActionsQuantityTCo2: 100 });
    doc.caApplied![0]!.caAppliedQuantity = 900;
    await upload(doc);
    // 900 + 200 held = 1,100 of 1,000 authorized; ITMOs 351–400 and 401–450 each sent twice.
    expect((await open(db)).sort()).toEqual([['ca-quantity-mismatch', 100], ['ca-range-mismatch', 50], ['ca-range-mismatch', 50]]);
    await upload(vut());
    expect(await open(db)).toEqual([]);
  });

  it('when the acquiring Party reports another range, then rule 11 finds the unmirrored transfer on both sides', async () => {
    await upload({
      aefT1Submission: [{ aefT1SubmissionParty: 'CHE', aefT1SubmissionReportYear: 2025 }],
      aefT3Actions: [{
        aefT3ActionsDate: '2025-06-30', aefT3ActionsType: 'Acquisition', aefT3ActionsAuthorizationId: 'VUT0001', aefT3ActionsFirstTransferringPartyId: 'VUT',
        aefT3ActionsItmoFirstId: 'VUT-CA0004-0001', aefT3ActionsItmoLastId: 'VUT-CA0004-0300', aefT3ActionsQuantityTCo2: 300, aefT3ActionsVintageYear: 2025,
        aefT3ActionsTransferringPartyId: 'VUT', aefT3ActionsAcquiringPartyId: 'CHE',
      }],
    });
    expect((await open(db)).sort()).toEqual([['ca-mirror-missing', 300], ['ca-mirror-missing', 400]]);
  });

  it('when registry units are retired for CORSIA without authorization, or a committed adjustment is overdue, then rules 12 and 13 find them', async () => {
    const block = (project: string, key: string, start: number, end: number, extra: Record<string, unknown>): CanonicalInput => ({
      type: 'block', registry: 'gold-standard', registryProjectId: project, blockKey: key,
      serial: { numberSpace: `gold-standard:${project}:2024:1`, start, end, raw: key }, quantity: end - start + 1, vintageYear: 2024, status: 'retired', ...extra,
    });
    const summary = await ingestRecords(db, 'gold-standard', [
      { type: 'project', registry: 'gold-standard', registryProjectId: 'GS9999', name: 'Efate Solar Mini-grids', country: 'Vanuatu' },
      { type: 'project', registry: 'gold-standard', registryProjectId: 'GS9998', name: 'Kigoma Cookstoves', country: 'Tanzania' },
      // Vanuatu authorized vintages 2024–2030 (VUT0001): a CORSIA retirement there is covered.
      block('GS9999', 'GS1-1-VU-1-300', 1, 300, { statusDate: '2025-03-01', retirementPurpose: 'corsia' }),
      // Committed, retired in 2024, still pending after 15 April 2025.
      block('GS9999', 'GS1-1-VU-301-500', 301, 500, { statusDate: '2024-08-01', caDeclaration: 'committed', caStatus: 'pending', article6Authorization: 'VUT0001' }),
      // Tanzania has no authorization in Tally and the block names none.
      block('GS9998', 'GS1-1-TZ-1-150', 1, 150, { statusDate: '2025-05-05', retirementPurpose: 'corsia' }),
    ]);
    expect(summary.check!.rules['ca-unauthorized-use']).toMatchObject({ found: 1, tonnesAtRisk: 150 });
    expect(summary.check!.rules['contribution-claim-overlap']!.found).toBe(0);
    expect(summary.check!.rules['ca-status-overdue']).toMatchObject({ found: 1, tonnesAtRisk: 200 });
    const overdue = (await gaps(db)).find((f) => f.kind === 'ca-status-overdue')!;
    expect(overdue.evidence).toMatchObject({ party: 'VUT', year: 2024, deadline: '2025-04-15', block: { caStatus: 'pending', authorization: 'VUT0001' } });

    // Rule 14: a buyer's claim on tonnes the host counts, without authorization; with one, it is not a double claim.
    const claims = await ingestRecords(db, 'gold-standard', [
      block('GS9998', 'GS1-1-TZ-151-250', 151, 250, { statusDate: '2025-06-01', retirementPurpose: 'voluntary',
        retirementReason: 'Contribution Towards Corporate Climate Pledge AND Host Country NDC' }),
      block('GS9999', 'GS1-1-VU-501-600', 501, 600, { statusDate: '2025-06-01', retirementPurpose: 'voluntary', article6Authorization: 'VUT0001',
        retirementReason: 'Contribution Towards Corporate Climate Pledge AND Host Country NDC' }),
      block('GS9999', 'GS1-1-VU-601-700', 601, 700, { statusDate: '2025-06-01', retirementPurpose: 'voluntary', retirementReason: 'Offsetting 2024 business travel' }),
    ]);
    expect(claims.check!.rules['contribution-claim-overlap']).toMatchObject({ found: 1, tonnesAtRisk: 100 });
  });

  it('when units of an OIMP authorization are cancelled for CORSIA and the AEF first-transfers fewer that year, then rule 8 finds the rest', async () => {
    // VUT0002: OIMP only, first transferred at use or cancellation; 300 units cancelled for CORSIA in 2025.
    const doc = vut();
    doc.aefT2Authorizations!.push({ aefT2AuthorizationsId: 'VUT0002', aefT2AuthorizationsDate: '2025-01-10', aefT2AuthorizationsQuantity: 300,
      aefT2AuthorizationsPurposesForAuthorization: 'OIMP', aefT2AuthorizationsOimpAuthorizedParty: 'CORSIA', aefT2AuthorizationsAuthorizedTimeframe: '2024 - 2030',
      aefT2AuthorizationsFirstTransferDefinitionOimp: 'Use or Cancellation' });
    doc.aefT3Actions!.push({ aefT3ActionsDate: '2025-07-01', aefT3ActionsType: 'First transfer', aefT3ActionsSubtype: 'Use or cancellation',
      aefT3ActionsAuthorizationId: 'VUT0002', aefT3ActionsFirstTransferringPartyId: 'VUT', aefT3ActionsItmoFirstId: 'VUT-0002-001', aefT3ActionsItmoLastId: 'VUT-0002-200',
      aefT3ActionsQuantityTCo2: 200, aefT3ActionsVintageYear: 2025, aefT3ActionsPurposeOfUseOimp: 'CORSIA' });
    await upload(doc);
    const cancelled = (key: string, start: number, end: number): CanonicalInput => ({
      type: 'block', registry: 'gold-standard', registryProjectId: 'GS9997', blockKey: key, serial: { numberSpace: 'gold-standard:GS9997:2025:1', start, end, raw: key },
      quantity: end - start + 1, vintageYear: 2025, status: 'cancelled', statusDate: '2025-06-20', retirementPurpose: 'corsia', article6Authorization: 'VUT0002',
    });
    const summary = await ingestRecords(db, 'gold-standard', [
      { type: 'project', registry: 'gold-standard', registryProjectId: 'GS9997', name: 'Tanna Island Hydro', country: 'Vanuatu' },
      cancelled('GS1-1-VU-GS9997-1-120', 1, 120), cancelled('GS1-1-VU-GS9997-121-300', 121, 300),
    ]);
    expect(summary.check!.rules['ca-unreported-first-transfer']).toMatchObject({ found: 1, tonnesAtRisk: 100 });
    const [gap] = (await gaps(db)).filter((f) => f.kind === 'ca-unreported-first-transfer');
    expect(gap!.evidence).toMatchObject({ party: 'VUT', year: 2025, authorization: 'VUT0002', reportDue: '2026-04-15', registryTonnes: 300, aefFirstTransferTonnes: 200 });
    // The Party reports the other 100: the gap closes.
    doc.aefT3Actions!.push({ ...doc.aefT3Actions!.at(-1)!, aefT3ActionsDate: '2025-07-02', aefT3ActionsItmoFirstId: 'VUT-0002-201', aefT3ActionsItmoLastId: 'VUT-0002-300', aefT3ActionsQuantityTCo2: 100 });
    const fixed = await upload(doc);
    expect(fixed.check!.rules['ca-unreported-first-transfer']).toMatchObject({ found: 0, resolved: 1 });
  });
  it('when the registry holds only some of the units an AEF first-transfers, then rule 10 reports the units it does not show', async () => {
    // Gold Standard blocks of GS9999, vintage 2025, batch 40001 (the number space of the AEF's unit ids): units 1–700 of the 1–800 first-transferred.
    const held = (key: string, start: number, end: number): CanonicalInput => ({
      type: 'block', registry: 'gold-standard', registryProjectId: 'GS9999', blockKey: key,
      serial: { numberSpace: 'gold-standard:GS9999:2025:40001', start, end, raw: key }, quantity: end - start + 1, vintageYear: 2025, status: 'held',
    });
    await ingestRecords(db, 'gold-standard', [held('GS1-1-VU-GS9999-12-2025-40001-1-400', 1, 400), held('GS1-1-VU-GS9999-12-2025-40001-401-700', 401, 700)]);
    const summary = await upload(vut());
    expect(summary.check!.rules['ca-range-mismatch']).toMatchObject({ found: 1, tonnesAtRisk: 100 });
    const [gap] = (await gaps(db)).filter((f) => f.kind === 'ca-range-mismatch' && f.status === 'open');
    expect(gap!.evidence).toMatchObject({
      party: 'VUT', check: 'registry-units', numberSpace: 'gold-standard:GS9999:2025:40001', units: 400, unitsInRegistryBlocks: 300, unitsNotInRegistry: 100,
      action: { unitFirstId: 'GS1-1-VU-GS9999-12-2025-40001-401', unitLastId: 'GS1-1-VU-GS9999-12-2025-40001-800' },
    });
    // The registry's next batch shows 701–800: the gap closes. Units 1–400 were whole from the start.
    const next = await ingestRecords(db, 'gold-standard', [held('GS1-1-VU-GS9999-12-2025-40001-701-800', 701, 800)]);
    expect(next.check!.rules['ca-range-mismatch']).toMatchObject({ found: 0, resolved: 1 });
  });
});
