import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchRejected } from '../../jobs/ingest.ts';
import { ingestFile } from '../../jobs/ingest-file.ts';
import { rows } from '../../schema/database.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';

// A saved API response given to `tally ingest` is read as a stream and stored by the API stream that
// recognises its records, so it lands exactly where a sync would put it. Real captures.

const capture = (name: string) => new URL(`../fixtures/api-captures/${name}`, import.meta.url).pathname;

describe('JSON files (saved API responses)', () => {
  let t: TestDatabase;
  let dir: string;
  beforeAll(async () => {
    t = await openTestDatabase();
    dir = mkdtempSync(join(tmpdir(), 'tally-json-'));
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when Plan Vivo responses (an entities envelope) are ingested, then each is read by its stream and the totals are the file\'s', async () => {
    const projects = await ingestFile(t.handle.db, capture('planvivo-projects.json'));
    expect(projects).toMatchObject({ status: 'committed', format: 'plan-vivo-projects-json', rowsRejected: 0 });
    const issuances = await ingestFile(t.handle.db, capture('planvivo-issuances.json'));
    expect(issuances).toMatchObject({ status: 'committed', format: 'plan-vivo-issuances-json', rowsRejected: 0 });
    const holdings = await ingestFile(t.handle.db, capture('planvivo-holdings.json'));
    expect(holdings.format).toBe('plan-vivo-holdings-json');

    const file = (name: string) => JSON.parse(readFileSync(capture(name), 'utf8')) as { entities: { holdingQuantity: number }[] };
    const sum = (name: string) => file(name).entities.reduce((s, e) => s + e.holdingQuantity, 0);
    const [ledger] = await rows<{ issued: string; held: string }>(t.handle.db, sql`select
      (select sum(quantity)::bigint::text from issuances where registry_id = 'plan-vivo') as issued,
      (select sum(quantity)::bigint::text from unit_blocks where registry_id = 'plan-vivo') as held`);
    expect(ledger).toEqual({ issued: String(sum('planvivo-issuances.json')), held: String(sum('planvivo-holdings.json')) });
  });

  it('when a Gold Standard credits response (a bare array) is ingested, then its blocks land as a sync would store them', async () => {
    const summary = await ingestFile(t.handle.db, capture('gs-credits.json'));
    const credits = JSON.parse(readFileSync(capture('gs-credits.json'), 'utf8')) as { number_of_credits: number }[];
    expect(summary).toMatchObject({ status: 'committed', format: 'gold-standard-credits-json', rowsRead: credits.length, rowsRejected: 0 });
    const [blocks] = await rows<{ t: string }>(t.handle.db, sql`select sum(quantity)::bigint::text as t from unit_blocks where registry_id = 'gold-standard'`);
    expect(blocks!.t).toBe(String(credits.reduce((s, c) => s + c.number_of_credits, 0)));
  });

  it('when a JSON file holds records no API stream reads, then it is refused with the streams that read JSON', async () => {
    await expect(ingestFile(t.handle.db, capture('acr-issuances.json'))).rejects.toThrow(/match no API response Tally reads[\s\S]*gold-standard credits/);
  });

  it('when a JSON file is cut off, then the batch fails and stores nothing', async () => {
    const path = join(dir, 'cut.json');
    const text = readFileSync(capture('gs-credits.json'), 'utf8');
    writeFileSync(path, text.slice(0, Math.floor(text.length * 0.7)));
    const [before] = await rows<{ n: number }>(t.handle.db, sql`select count(*)::int as n from unit_blocks`);
    const error = await ingestFile(t.handle.db, path).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchRejected);
    const [after] = await rows<{ n: number }>(t.handle.db, sql`select count(*)::int as n from unit_blocks`);
    expect(after!.n).toBe(before!.n);
  });
});
