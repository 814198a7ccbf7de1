import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingestAef } from '../../../jobs/article6/aef-upload.ts';
import { ingestFile } from '../../../jobs/ingest-file.ts';
import { runChecks } from '../../../jobs/integrity/index.ts';
import { rows, type Database } from '../../../schema/database.ts';
import { readCsv } from '../../helpers/csv.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/database.ts';

// The real ART TREES samples (reference/registries.md §6.3 cases 5 and 6): Guyana's CORSIA
// cancellations name no authorization, and retirements in Côte d'Ivoire, Costa Rica and Guyana claim
// the tonnes for a buyer "AND Host Country NDC". Totals computed from the files themselves.

const sample = (name: string) => new URL(`../../fixtures/registry-samples/art-trees/${name}`, import.meta.url);

describe('Article 6 rules on the real ART samples', () => {
  let t: TestDatabase;
  let db: Database;
  let dir: string;
  const openTonnes = async (kind: string) => (await rows<{ n: number; tonnes: number }>(db, sql`select count(*)::int as n,
    coalesce(sum(tonnes_at_risk), 0)::float8 as tonnes from findings where kind = ${kind} and status = 'open'`))[0];
  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    dir = mkdtempSync(join(tmpdir(), 'tally-art-claims-'));
    for (const file of ['projects.csv', 'issuances.csv', 'retirements.csv', 'cancellations.csv']) await ingestFile(db, sample(file).pathname);
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when the samples are checked, then each CORSIA cancellation and each NDC contribution claim is a finding with its quantity', async () => {
    await runChecks(db);
    const corsia = readCsv(sample('cancellations.csv')).filter((r) => /corsia/i.test(r['Cancellation Reason'] ?? ''));
    const claims = readCsv(sample('retirements.csv')).filter((r) => /host country ndc/i.test(r['Retirement Reason'] ?? ''));
    const sum = (list: Record<string, string>[]) => list.reduce((s, r) => s + Number(r['Quantity of Credits']), 0);
    expect(corsia).toHaveLength(3);
    expect(await openTonnes('ca-unauthorized-use')).toEqual({ n: corsia.length, tonnes: sum(corsia) });
    expect(claims).toHaveLength(6);
    expect(await openTonnes('contribution-claim-overlap')).toEqual({ n: claims.length, tonnes: sum(claims) });
  });

  it('when Guyana uploads an AEF authorizing those vintages, then the CORSIA cancellations are no longer unauthorized', async () => {
    const path = join(dir, 'guy.json');
    writeFileSync(path, JSON.stringify({
      aefT1Submission: [{ aefT1SubmissionParty: 'GUY', aefT1SubmissionReportYear: 2025 }],
      aefT2Authorizations: [{ aefT2AuthorizationsId: 'GUY-LOA-0001', aefT2AuthorizationsQuantity: 36_100, aefT2AuthorizationsPurposesForAuthorization: 'OIMP',
        aefT2AuthorizationsOimpAuthorizedParty: 'CORSIA', aefT2AuthorizationsAuthorizedTimeframe: '2016 - 2030', aefT2AuthorizationsFirstTransferDefinitionOimp: 'Use or Cancellation' }],
      aefT3Actions: [], aefT4Holdings: [],
    }));
    const summary = await ingestAef(db, [path]);
    expect(summary.check!.rules['ca-unauthorized-use']).toMatchObject({ found: 0, resolved: 3 });
    expect(await openTonnes('ca-unauthorized-use')).toEqual({ n: 0, tonnes: 0 });
  });
});
