import { performance } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { DOUBLE_COUNTING_KINDS, generateWorld, ingestWorld, type ExpectedFinding, type World } from '../../../bench/world.ts';
import { parseAcrSerial } from '../../../connectors/american-carbon-registry/serial.ts';
import { parseArtSerial } from '../../../connectors/art-trees/serial.ts';
import { parseKyotoSerialRange } from '../../../connectors/cdm/serial.ts';
import { parseCarSerial } from '../../../connectors/climate-action-reserve/serial.ts';
import { parseGoldStandardSerial } from '../../../connectors/gold-standard/serial.ts';
import type { SerialResult } from '../../../connectors/runtime/serial.ts';
import { parseVerraSerial } from '../../../connectors/verra/serial.ts';
import { runChecks } from '../../../jobs/integrity/index.ts';
import { rows, type Database } from '../../../schema/database.ts';
import { openTestDatabase } from '../../helpers/database.ts';

// Accuracy of the double-counting rules (1–7) on a synthetic world with a known answer
// (bench/world.ts): thousands of projects across six registries, a few planted anomalies of each
// kind, and legitimate situations that resemble them. Every planted anomaly must come out as one
// open finding of its kind, with its tonnes, its projects and whether it rests on an inferred link;
// nothing else may be reported. A failure lists each missing and each unexpected finding.

const SEED = 20_250_917;
const PROJECTS = 5000;
/** The world checked batch by batch: smaller, since every batch runs its own check. */
const SCOPED_PROJECTS = 1500;

type Reported = { kind: string; tonnes: number; projects: string[]; restsOnInferredLink: boolean; title: string };

/** Open findings with the keys of the projects each names. */
async function openFindings(db: Database): Promise<Reported[]> {
  const found = await rows<{ kind: string; tonnes: number; inferred: boolean; title: string; projects: string | null }>(db, sql`
    select f.kind::text as kind, f.tonnes_at_risk::float8 as tonnes, f.rests_on_inferred_link as inferred, f.title,
      string_agg(distinct p.key, ',' order by p.key) as projects
    from findings f
    left join finding_subjects s on s.finding_id = f.id
    left join projects p on p.id = s.project_id
    where f.status = 'open'
    group by f.id
    order by f.id`);
  return found.map((f) => ({ kind: f.kind, tonnes: f.tonnes, projects: f.projects ? f.projects.split(',') : [], restsOnInferredLink: f.inferred, title: f.title }));
}

const label = (f: Pick<ExpectedFinding, 'tonnes' | 'projects' | 'restsOnInferredLink'> & { kind: string }) =>
  `${f.kind} ${f.tonnes} t [${f.projects.join(', ')}]${f.restsOnInferredLink ? ' (inferred link)' : ''}`;

/** Matches reported findings to the truth one to one, on kind, tonnes, projects and link source. */
function compare(truth: ExpectedFinding[], reported: Reported[]) {
  const unmatched = [...reported];
  const missing: ExpectedFinding[] = [];
  for (const expected of truth) {
    const at = unmatched.findIndex((r) => label(r) === label(expected));
    if (at >= 0) unmatched.splice(at, 1);
    else missing.push(expected);
  }
  const byKind = DOUBLE_COUNTING_KINDS.map((kind) => {
    const expected = truth.filter((t) => t.kind === kind).length;
    const matched = expected - missing.filter((m) => m.kind === kind).length;
    const found = reported.filter((r) => r.kind === kind).length;
    return { kind, expected, reported: found, matched, precision: found === 0 ? 1 : matched / found, recall: expected === 0 ? 1 : matched / expected };
  });
  return {
    missing: missing.map((m) => `${label(m)}: ${m.note}`),
    extra: unmatched.map((r) => `${label(r)}: ${r.title}`),
    byKind,
  };
}

/**
 * Ingests a world into a fresh database, runs the checks once over the whole ledger, and reads what they
 * found. `byBatch`: each source comes in two batches, each checked as it commits over what it wrote,
 * and no full check runs.
 */
async function checkWorld(world: World, options: { byBatch?: boolean } = {}) {
  const t = await openTestDatabase();
  try {
    const db = t.handle.db;
    const started = performance.now();
    const summaries = await ingestWorld(db, world, { byBatch: options.byBatch ?? false });
    const ingested = performance.now();
    const check = options.byBatch ? undefined : await runChecks(db);
    const checked = performance.now();
    for (const summary of summaries) {
      if (!options.byBatch) continue;
      expect(summary.checkFailure).toBeUndefined();
      expect(summary.check?.scope, summary.details?.source as string).toMatchObject({ batchId: summary.batchId });
    }
    return {
      warnings: summaries.flatMap((s) => s.warnings.map((w) => w.message)),
      links: check?.links ?? { declared: 0, inferred: 0 },
      reported: await openFindings(db),
      seconds: { ingest: (ingested - started) / 1000, check: (checked - ingested) / 1000 },
    };
  } finally {
    await t.close();
  }
}

describe('integrity rules on a synthetic world (accuracy)', () => {
  it('when the same seed is drawn twice, then the world is the same record for record; another seed draws another world', () => {
    const a = generateWorld({ seed: SEED, projects: 400 });
    const b = generateWorld({ seed: SEED, projects: 400 });
    expect(b).toEqual(a);
    const c = generateWorld({ seed: SEED + 1, projects: 400 });
    expect(c.sources).not.toEqual(a.sources);
    expect(a.counts.projects).toBe(400);
  });

  it('when the world\'s serials are read back by the registries\' own parsers, then they give the number space, range and project each record carries', () => {
    const parsers: Record<string, (raw: string) => SerialResult> = {
      'verra': parseVerraSerial, 'gold-standard': parseGoldStandardSerial, 'american-carbon-registry': parseAcrSerial,
      'climate-action-reserve': parseCarSerial, 'art-trees': parseArtSerial, 'cdm': parseKyotoSerialRange,
    };
    const world = generateWorld({ seed: SEED, projects: 1000 });
    const wrong: string[] = [];
    for (const record of world.sources.flatMap((s) => s.records)) {
      if ((record.type !== 'block' && record.type !== 'issuance') || !record.serial) continue;
      const parsed = parsers[record.registry]!(record.serial.raw);
      const read = parsed.ok ? { numberSpace: parsed.range.numberSpace, start: parsed.range.start, end: parsed.range.end, project: parsed.range.projectId } : parsed.error;
      const carried = { numberSpace: record.serial.numberSpace, start: record.serial.start, end: record.serial.end, project: record.registryProjectId };
      if (JSON.stringify(read) !== JSON.stringify(carried)) wrong.push(`${record.serial.raw}: ${JSON.stringify(read)}`);
    }
    expect(wrong).toEqual([]);
  });

  it('when a world holds only legitimate situations, near misses included, then the checks raise no finding', async () => {
    const world = generateWorld({ seed: SEED, projects: 600, anomalies: false });
    expect(world.truth).toEqual([]);
    // The near misses are there to be passed over: netted conversions, moved projects, cancelled CERs…
    expect(Object.keys(world.counts.nearMisses).length).toBeGreaterThanOrEqual(8);
    const result = await checkWorld(world);
    expect(result.warnings).toEqual([]);
    expect(result.links.declared).toBeGreaterThan(0);
    expect(result.links.inferred).toBeGreaterThan(0);
    expect(result.reported.map((r) => `${label(r)}: ${r.title}`)).toEqual([]);
  }, 120_000);

  it(`when a ${PROJECTS.toLocaleString('en-US')}-project world with planted anomalies is checked, then each anomaly is one finding with its kind, tonnes and projects, and nothing else is reported`, async () => {
    const generated = performance.now();
    const world = generateWorld({ seed: SEED, projects: PROJECTS });
    const generateSeconds = (performance.now() - generated) / 1000;
    for (const kind of DOUBLE_COUNTING_KINDS) expect(world.counts.anomalies[kind], kind).toBeGreaterThanOrEqual(2);
    expect(world.truth.some((t) => t.restsOnInferredLink)).toBe(true);

    const result = await checkWorld(world);
    const { missing, extra, byKind } = compare(world.truth, result.reported);
    console.log(JSON.stringify({
      database: process.env.TEST_DATABASE_URL ? 'server' : 'pglite',
      seconds: { generate: Number(generateSeconds.toFixed(1)), ingest: Number(result.seconds.ingest.toFixed(1)), check: Number(result.seconds.check.toFixed(1)) },
      world: world.counts,
      links: result.links,
    }, null, 2));
    console.table(byKind);

    expect(result.warnings).toEqual([]);
    expect({ missing, extra }).toEqual({ missing: [], extra: [] });
    expect(result.reported).toHaveLength(world.truth.length);
  }, 300_000);

  it('when a world with planted anomalies arrives batch by batch, each checked only over what it wrote, then each planted anomaly is one finding and nothing else, as with the full check', async () => {
    const world = generateWorld({ seed: SEED + 1, projects: SCOPED_PROJECTS });
    expect(world.truth.length).toBeGreaterThanOrEqual(DOUBLE_COUNTING_KINDS.length);
    const result = await checkWorld(world, { byBatch: true });
    const { missing, extra } = compare(world.truth, result.reported);
    expect({ missing, extra }).toEqual({ missing: [], extra: [] });
  }, 300_000);
});
