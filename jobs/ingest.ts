import { createHash } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { z } from 'zod';
import { CanonicalRecord, type BlockRecord, type EventRecord, type IssuanceRecord, type LabelRecord, type ProjectRecord } from '../schema/canonical.ts';
import { events, issuances, labelBlocks, labels, projects, rawRecords, recordLineage, unitBlocks } from '../schema/db/index.ts';
import { ownedBy, rows, type Database } from '../schema/database.ts';
import { log } from '../schema/log.ts';
import type { Mapped, RawRecord, RowError } from '../connectors/types.ts';
import { discardBatch, failBatch, PreviewOnly, sealBatch, sha256, stableJson, startBatch } from './batches.ts';
import { blockRow, eventRow, issuanceRow, labelRow, projectRow, type Ownership } from './harmonize.ts';
import { runChecks, type CheckSummary } from './integrity/index.ts';
import { writeRows, type WriteSpec } from './ledger-writer.ts';

// The ingest job (DESIGN §2): one source run as one batch. Raw records are stored with their hashes,
// mapped to canonical records and validated, the taxonomy is applied, the ledger is upserted, events
// are appended, and the batch is sealed with its chained digest, all in one transaction: a batch that
// fails or is interrupted leaves nothing behind but its own failed record. Ingesting the same input
// again writes nothing and reports everything unchanged.

export type IngestInput = {
  kind: 'sync' | 'upload';
  /** The file format or API connector that reads the source. */
  connector: string;
  registry?: string | undefined;
  /** A file name or URL, for the batch record and lineage. */
  source: string;
  records: AsyncIterable<RawRecord>;
  map(raw: RawRecord): Mapped;
  /** Runs after the last record is read, before sealing; throws to fail the batch (reconciliation). */
  afterRead?(received: number): void | Promise<void>;
  /** Streams that list every current block of the registry in these statuses (see ApiStream.snapshotOf). */
  snapshots?: readonly { stream: string; statuses: readonly string[] }[];
};

export type IngestOptions = {
  ownerOrganizationId?: number | undefined;
  isPrivate?: boolean | undefined;
  apiKeyId?: number | undefined;
  /** Reject the whole batch when any row has an error (Article 6 uploads), instead of committing the good rows. */
  rejectOnRowErrors?: boolean;
  chunkSize?: number;
  /** Run the integrity rules over what the batch wrote once it is committed (default true). */
  check?: boolean;
  /** Read, check and count everything, then keep nothing (status `preview`): what an upload would do. */
  preview?: boolean;
  onProgress?(progress: { rowsRead: number }): void;
};

type Tally = { new: number; changed: number; unchanged: number };
const tally = (): Tally => ({ new: 0, changed: 0, unchanged: 0 });

export type IngestSummary = {
  batchId: number;
  status: 'committed' | 'failed' | 'preview';
  digest: string | null;
  rowsRead: number;
  rowsRejected: number;
  rawRecords: { new: number; seen: number };
  projects: Tally;
  issuances: Tally;
  blocks: Tally & { superseded: number };
  labels: Tally;
  events: { new: number; existing: number };
  /** Row-level errors (rows rejected) and warnings (rows kept, a value not understood). */
  errors: RowError[];
  warnings: RowError[];
  failure?: string;
  /** What the integrity rules found in what the batch wrote. */
  check?: CheckSummary;
  checkFailure?: string;
};

export class BatchRejected extends Error {
  constructor(readonly summary: IngestSummary) {
    super(summary.failure);
  }
}

const MAX_STORED_ERRORS = 1000;
const ANALYZE_AFTER_ROWS = 10_000;

const specs = {
  raw: { table: rawRecords, key: ['contentHash', 'stream', 'registryId', 'ownerOrganizationId'] },
  project: {
    table: projects,
    key: ['registryId', 'registryProjectId', 'ownerOrganizationId'],
    merge: Object.fromEntries(['name', 'nameJa', 'proponent', 'country', 'region', 'projectType', 'category', 'reductionRemoval',
      'methodologies', 'methodologyRaw', 'methodologyUnmatched', 'status', 'statusRaw', 'creditingPeriodStart', 'creditingPeriodEnd',
      'registeredOn', 'estimatedAnnualQuantity', 'estimatedTotalQuantity', 'eligibility', 'coBenefits', 'latitude', 'longitude', 'registryUrl', 'otherPrograms',
      'coveredByNdc'].map((c) => [c, 'coalesce'])),
    insertDefaults: { status: `'unknown'::project_status` },
  },
  // An issuance the registry reports with its figure: the figure is merged like any field, and an
  // issuance once reported stays reported.
  issuance: {
    table: issuances,
    key: ['projectId', 'issuanceKey'],
    merge: {
      ...Object.fromEntries(['vintageStart', 'vintageEnd', 'vintageYear', 'quantity', 'creditType', 'numberSpace', 'serialStart', 'serialEnd',
        'serialRaw', 'bufferQuantity', 'shareOfProceedsQuantity', 'omgeQuantity', 'caReserveQuantity'].map((c) => [c, 'coalesce'])),
      quantityFromBlocks: 'replace',
      issuedOn: 'least',
    },
  },
  // An issuance known only through its blocks: its quantity is recomputed from them (sumIssuancesFromBlocks).
  issuanceFromBlocks: {
    table: issuances,
    key: ['projectId', 'issuanceKey'],
    merge: {
      ...Object.fromEntries(['vintageStart', 'vintageEnd', 'vintageYear', 'creditType', 'bufferQuantity', 'shareOfProceedsQuantity',
        'omgeQuantity', 'caReserveQuantity'].map((c) => [c, 'coalesce'])),
      issuedOn: 'least',
    },
  },
  // A block's state as the registry reports it now replaces the stored one; details that some sources
  // give and others do not (a file export's beneficiary, an API without retirement dates) are kept.
  block: {
    table: unitBlocks,
    key: ['registryId', 'blockKey', 'ownerOrganizationId'],
    merge: {
      ...Object.fromEntries(['projectId', 'issuanceId', 'numberSpace', 'serialStart', 'serialEnd', 'serialRaw', 'quantity', 'vintageStart',
        'vintageEnd', 'vintageYear', 'creditType', 'unitType', 'status', 'supersededInBatchId'].map((c) => [c, 'replace'])),
      ...Object.fromEntries(['statusDate', 'retirementBeneficiary', 'retirementReason', 'retirementPurpose', 'retirementDetails',
        'accountHolder', 'eligibility', 'article6Authorization', 'caDeclaration', 'caStatus', 'tokenizationMarker'].map((c) => [c, 'coalesce'])),
    },
  },
  // CAD Trust labels: one per project, type and text; the blocks they cover are only ever added.
  label: {
    table: labels,
    key: ['projectId', 'labelType', 'label'],
    merge: Object.fromEntries(['creditingPeriodStart', 'creditingPeriodEnd', 'validityPeriodStart', 'validityPeriodEnd', 'unitQuantity', 'labelLink'].map((c) => [c, 'coalesce'])),
  },
  labelBlock: { table: labelBlocks, key: ['labelId', 'blockId'], returnIds: false },
  event: { table: events, key: ['registryId', 'eventKey', 'ownerOrganizationId'], returnIds: false },
  lineage: { table: recordLineage, key: ['rawRecordId', 'projectId', 'issuanceId', 'blockId'], returnIds: false },
} satisfies Record<string, WriteSpec>;

function zodMessage(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

type Valid<T> = { record: T; rawIndex: number };

/** Runs one batch. Resolves with the summary of a committed batch; rejects with BatchRejected otherwise. */
export async function ingest(db: Database, input: IngestInput, options: IngestOptions = {}): Promise<IngestSummary> {
  const ownership: Ownership = { ownerOrganizationId: options.ownerOrganizationId ?? null, isPrivate: options.isPrivate ?? false };
  const batchId = await startBatch(db, {
    kind: input.kind, connector: input.connector, registryId: input.registry, source: input.source,
    ownerOrganizationId: options.ownerOrganizationId, isPrivate: options.isPrivate, apiKeyId: options.apiKeyId,
  });
  const summary: IngestSummary = {
    batchId, status: 'failed', digest: null, rowsRead: 0, rowsRejected: 0, rawRecords: { new: 0, seen: 0 },
    projects: tally(), issuances: tally(), blocks: { ...tally(), superseded: 0 }, labels: tally(), events: { new: 0, existing: 0 }, errors: [], warnings: [],
  };
  const recordsHash = createHash('sha256');
  const chunkSize = options.chunkSize ?? 2000;
  const projectIds = new Map<string, number>();
  const seenProjects = new Set<string>();
  const seenIssuances = new Set<string>();
  const seenLabels = new Set<string>();

  const outcome = () => ({
    counts: {
      rowsRead: summary.rowsRead, rowsRejected: summary.rowsRejected, rawNew: summary.rawRecords.new,
      projectsNew: summary.projects.new, projectsChanged: summary.projects.changed, projectsUnchanged: summary.projects.unchanged,
      issuancesNew: summary.issuances.new, issuancesChanged: summary.issuances.changed, issuancesUnchanged: summary.issuances.unchanged,
      blocksNew: summary.blocks.new, blocksChanged: summary.blocks.changed, blocksUnchanged: summary.blocks.unchanged, blocksSuperseded: summary.blocks.superseded,
      ...(summary.labels.new + summary.labels.changed + summary.labels.unchanged > 0
        ? { labelsNew: summary.labels.new, labelsChanged: summary.labels.changed, labelsUnchanged: summary.labels.unchanged } : {}),
      eventsNew: summary.events.new, eventsExisting: summary.events.existing,
    },
    errors: [...summary.errors, ...summary.warnings].slice(0, MAX_STORED_ERRORS),
  });

  try {
    await db.transaction(async (txn) => {
      const tx = txn as unknown as Database;
      const snapshotStreams = new Set((input.snapshots ?? []).map((s) => s.stream));
      if (snapshotStreams.size > 0) await tx.execute(sql`create temp table tally_seen_blocks (id bigint primary key) on commit drop`);
      // Reading and mapping the next chunk overlaps with writing the previous one: the CSV parser and
      // the mappers run while the database works. Writes stay in order, one at a time, on the
      // transaction's connection.
      let chunk: RawRecord[] = [];
      let writing: Promise<void> = Promise.resolve();
      const hand = async (records: RawRecord[]) => {
        const prepared = prepareChunk(records);
        await writing;
        writing = persistChunk(tx, prepared);
        writing.catch(() => {}); // awaited before the next chunk or after the last
      };
      for await (const raw of input.records) {
        chunk.push(raw);
        if (chunk.length >= chunkSize) {
          await hand(chunk);
          chunk = [];
        }
      }
      await hand(chunk);
      await writing;
      await input.afterRead?.(summary.rowsRead);
      // A large batch changes the tables' sizes by orders of magnitude inside this transaction; without
      // fresh statistics the planner picks nested loops over them for the set-based steps below.
      if (summary.rowsRead >= ANALYZE_AFTER_ROWS) await tx.execute(sql`analyze raw_records, record_lineage, unit_blocks, issuances, events`);
      for (const snapshot of input.snapshots ?? []) summary.blocks.superseded += await supersedeUnlisted(tx, batchId, input.registry, ownership.ownerOrganizationId, snapshot.statuses);
      await sumIssuancesFromBlocks(tx, batchId);
      summary.events.new += await appendStateEvents(tx, batchId);
      if (options.rejectOnRowErrors && summary.errors.length > 0) {
        throw new Error(`${summary.errors.length} row(s) have errors; nothing from this file was stored`);
      }
      if (options.preview) throw new PreviewOnly();
      const sealed = await sealBatch(tx, batchId, recordsHash.digest('hex'), outcome());
      summary.digest = sealed.digest;
    });
    summary.status = 'committed';
  } catch (error) {
    if (error instanceof PreviewOnly) {
      await discardBatch(db, batchId);
      summary.status = 'preview';
      return summary;
    }
    summary.failure = (error as Error).message;
    await failBatch(db, batchId, summary.failure, outcome());
    throw new BatchRejected(summary);
  }
  // The integrity rules over what the batch wrote (DESIGN §6). The batch stands whatever they find; a
  // check that fails is reported, and the next full check covers it.
  if (options.check !== false) {
    try {
      summary.check = await runChecks(db, { batchId });
    } catch (error) {
      summary.checkFailure = (error as Error).message;
      log.error({ err: error, batchId }, 'integrity check after the batch failed');
    }
  }
  return summary;

  type Prepared = { chunk: RawRecord[]; hashes: string[]; found: Found };
  type Found = {
    project: Valid<ProjectRecord>[]; issuance: Valid<IssuanceRecord>[]; block: Valid<BlockRecord>[]; event: Valid<EventRecord>[]; label: Valid<LabelRecord>[];
  };

  /** The CPU half of a chunk: hashes, mapping, validation. Rows with errors are reported and left out. */
  function prepareChunk(chunk: RawRecord[]): Prepared {
    summary.rowsRead += chunk.length;
    const hashes = chunk.map((raw) => sha256(stableJson(raw.payload)));
    const found: Found = { project: [], issuance: [], block: [], event: [], label: [] };
    chunk.forEach((record, rawIndex) => {
      let mapped: Mapped;
      try {
        mapped = input.map(record);
      } catch (error) {
        mapped = { records: [], errors: [{ locator: record.locator, code: 'unreadable-row', message: `${record.locator}: ${(error as Error).message}` }] };
      }
      const rowErrors = [...mapped.errors];
      const valid: CanonicalRecord[] = [];
      for (const candidate of mapped.records) {
        const parsed = CanonicalRecord.safeParse(candidate);
        if (parsed.success) valid.push(parsed.data);
        else rowErrors.push({ locator: record.locator, code: 'invalid-record', message: `${record.locator}: ${candidate.type} ${zodMessage(parsed.error)}` });
      }
      if (rowErrors.length > 0) {
        // A row with an error contributes nothing: half a row would be worse than none.
        summary.rowsRejected += 1;
        summary.errors.push(...rowErrors);
        return;
      }
      summary.warnings.push(...mapped.warnings ?? []);
      for (const record of valid) {
        recordsHash.update(`${stableJson(record)}\n`);
        (found[record.type] as Valid<CanonicalRecord>[]).push({ record, rawIndex });
      }
    });
    return { chunk, hashes, found };
  }

  /** The database half of a chunk: raw records, then the ledger rows they yield, then lineage. */
  async function persistChunk(tx: Database, { chunk, hashes, found }: Prepared): Promise<void> {
    if (chunk.length === 0) return;
    const raw = await writeRows(tx, specs.raw, chunk.map((r, i) => ({
      batchId, registryId: input.registry ?? null, stream: r.stream, source: input.source, locator: r.locator,
      recordKey: r.recordKey ?? null, contentHash: hashes[i], payload: r.payload, ...ownership,
    })));
    summary.rawRecords.new += raw.inserted;
    summary.rawRecords.seen += chunk.length;

    const rawId = (v: Valid<unknown>) => raw.ids[v.rawIndex]!;

    // Projects, with the taxonomy applied.
    await keepKnownNames(tx, found.project);
    const projectWrite = await writeRows(tx, specs.project, found.project.map((v) =>
      projectRow(v.record, ownership, batchId, chunk[v.rawIndex]!.locator, summary.warnings)));
    count(summary.projects, projectWrite, seenProjects);
    found.project.forEach((v, i) => projectIds.set(`${v.record.registry}:${v.record.registryProjectId}`, projectWrite.ids[i]!));
    // Lineage links each raw record to the most specific rows it yielded: its blocks, else its
    // issuances, else its projects. An issuance or project reached through its blocks needs no row of
    // its own for every block (a VCU export row names its project and issuance too).
    const lineageOf = new Map<number, { projects: number[]; issuances: number[]; blocks: number[] }>();
    const lineageFor = (rawIndex: number) => {
      let entry = lineageOf.get(rawIndex);
      if (!entry) lineageOf.set(rawIndex, (entry = { projects: [], issuances: [], blocks: [] }));
      return entry;
    };
    found.project.forEach((v, i) => lineageFor(v.rawIndex).projects.push(projectWrite.ids[i]!));

    await resolveProjects(tx, [...found.issuance, ...found.block, ...found.event].map((v) => v.record));
    const projectOf = (r: { registry: string; registryProjectId: string }, v: Valid<unknown>): number | undefined => {
      const id = projectIds.get(`${r.registry}:${r.registryProjectId}`);
      if (id === undefined) {
        const locator = chunk[v.rawIndex]!.locator;
        summary.errors.push({ locator, field: 'project', code: 'unknown-project', message: `${locator}: project ${r.registry}:${r.registryProjectId} is not in the ledger and this source does not describe it` });
      }
      return id;
    };

    const issuanceInput = found.issuance.flatMap((v) => {
      const projectId = projectOf(v.record, v);
      return projectId === undefined ? [] : [{ v, row: issuanceRow(v.record, projectId, ownership, batchId) }];
    });
    const issuanceIds = new Map<string, number>();
    for (const fromBlocks of [false, true]) {
      const part = issuanceInput.filter((x) => x.row.quantityFromBlocks === fromBlocks);
      const write = await writeRows(tx, fromBlocks ? specs.issuanceFromBlocks : specs.issuance, part.map((x) => x.row));
      count(summary.issuances, write, seenIssuances);
      part.forEach((x, i) => {
        issuanceIds.set(`${x.row.projectId}|${x.row.issuanceKey}`, write.ids[i]!);
        lineageFor(x.v.rawIndex).issuances.push(write.ids[i]!);
      });
    }

    const blockInput = found.block.flatMap((v) => {
      const projectId = projectOf(v.record, v);
      if (projectId === undefined) return [];
      const issuanceId = v.record.issuanceKey ? issuanceIds.get(`${projectId}|${v.record.issuanceKey}`) ?? null : null;
      return [{ v, row: blockRow(v.record, projectId, issuanceId, ownership, batchId) }];
    });
    await resolveIssuances(tx, blockInput.filter((x) => x.row.issuanceId === null).map((x) => ({ projectId: x.row.projectId, issuanceKey: x.v.record.issuanceKey })), issuanceIds);
    for (const x of blockInput) if (x.v.record.issuanceKey && x.row.issuanceId === null) x.row.issuanceId = issuanceIds.get(`${x.row.projectId}|${x.v.record.issuanceKey}`) ?? null;
    const blockWrite = await writeRows(tx, specs.block, blockInput.map((x) => x.row));
    count(summary.blocks, blockWrite);
    const blockIds = new Map(blockInput.map((x, i) => [`${x.row.registryId}|${x.row.blockKey}`, blockWrite.ids[i]!]));
    const seen = blockInput.flatMap((x, i) => ((input.snapshots ?? []).some((s) => s.stream === chunk[x.v.rawIndex]!.stream) ? [blockWrite.ids[i]!] : []));
    if (seen.length > 0) {
      await tx.execute(sql`insert into tally_seen_blocks (id) select distinct value::bigint from jsonb_array_elements_text(${JSON.stringify(seen)}::jsonb) on conflict do nothing`);
    }
    blockInput.forEach((x, i) => lineageFor(x.v.rawIndex).blocks.push(blockWrite.ids[i]!));

    await resolveIssuances(tx, found.event.map((v) => ({ projectId: projectIds.get(`${v.record.registry}:${v.record.registryProjectId}`), issuanceKey: v.record.issuanceKey })), issuanceIds);
    const eventInput = found.event.flatMap((v) => {
      const projectId = projectOf(v.record, v);
      if (projectId === undefined) return [];
      const blockId = v.record.blockKey ? blockIds.get(`${v.record.registry}|${v.record.blockKey}`) ?? null : null;
      const issuanceId = v.record.issuanceKey ? issuanceIds.get(`${projectId}|${v.record.issuanceKey}`) ?? null : null;
      return [eventRow(v.record, { projectId, issuanceId, blockId, rawRecordId: rawId(v) }, ownership, batchId)];
    });
    const eventWrite = await writeRows(tx, specs.event, eventInput);
    summary.events.new += eventWrite.inserted;
    summary.events.existing += eventInput.length - eventWrite.inserted;

    await persistLabels(tx, chunk, found.label, blockIds, (rawIndex, projectId) => lineageFor(rawIndex).projects.push(projectId));

    type Lineage = { rawRecordId: number; projectId: number | null; issuanceId: number | null; blockId: number | null };
    const lineage = [...lineageOf].flatMap(([rawIndex, t]): Lineage[] => {
      const rawRecordId = raw.ids[rawIndex]!;
      if (t.blocks.length > 0) return t.blocks.map((blockId) => ({ rawRecordId, projectId: null, issuanceId: null, blockId }));
      if (t.issuances.length > 0) return t.issuances.map((issuanceId) => ({ rawRecordId, projectId: null, issuanceId, blockId: null }));
      return t.projects.map((projectId) => ({ rawRecordId, projectId, issuanceId: null, blockId: null }));
    });
    await writeRows(tx, specs.lineage, lineage);
    options.onProgress?.({ rowsRead: summary.rowsRead });
  }

  /** Labels, and the blocks they cover: written in this chunk, or found in the ledger by registry and block key. */
  async function persistLabels(tx: Database, chunk: RawRecord[], found: Valid<LabelRecord>[], blockIds: Map<string, number>, lineage: (rawIndex: number, projectId: number) => void): Promise<void> {
    if (found.length === 0) return;
    await resolveProjects(tx, found.map((v) => v.record));
    const wanted = found.flatMap((v) => v.record.blockKeys.map((blockKey) => ({ registry_id: v.record.registry, block_key: blockKey })))
      .filter((k) => !blockIds.has(`${k.registry_id}|${k.block_key}`));
    if (wanted.length > 0) {
      const stored = await rows<{ id: string | number; registry_id: string; block_key: string }>(tx, sql`select b.id, b.registry_id, b.block_key
        from unit_blocks b join jsonb_to_recordset(${JSON.stringify(wanted)}::jsonb) as k(registry_id text, block_key text)
        on b.registry_id = k.registry_id and b.block_key = k.block_key
        where ${ownedBy('b', ownership.ownerOrganizationId)}`);
      for (const b of stored) blockIds.set(`${b.registry_id}|${b.block_key}`, Number(b.id));
    }
    const input = found.flatMap((v) => {
      const projectId = projectIds.get(`${v.record.registry}:${v.record.registryProjectId}`);
      const locator = chunk[v.rawIndex]!.locator;
      if (projectId === undefined) {
        summary.errors.push({ locator, field: 'project', code: 'unknown-project', message: `${locator}: project ${v.record.registry}:${v.record.registryProjectId} is not in the ledger and this source does not describe it` });
        return [];
      }
      const missing = v.record.blockKeys.filter((k) => !blockIds.has(`${v.record.registry}|${k}`));
      if (missing.length > 0) {
        summary.errors.push({ locator, field: 'blocks', code: 'unknown-block', message: `${locator}: the label covers ${missing.length === 1 ? 'a unit' : 'units'} not in the ledger: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}` });
        return [];
      }
      return [{ v, projectId, row: labelRow(v.record, projectId, ownership, batchId) }];
    });
    const write = await writeRows(tx, specs.label, input.map((x) => x.row));
    count(summary.labels, write, seenLabels);
    input.forEach((x) => lineage(x.v.rawIndex, x.projectId));
    await writeRows(tx, specs.labelBlock, input.flatMap((x, i) => [...new Set(x.v.record.blockKeys)].map((k) => ({
      labelId: write.ids[i]!, blockId: blockIds.get(`${x.v.record.registry}|${k}`)!,
    }))));
  }

  /**
   * A project a source knows only by an identifier keeps the name another source gave it: from this
   * chunk, else from the ledger. (The identifier goes in only where the project has no name yet.)
   */
  async function keepKnownNames(tx: Database, found: Valid<ProjectRecord>[]): Promise<void> {
    const unnamed = found.filter((v) => v.record.nameIsIdentifier);
    if (unnamed.length === 0) return;
    const named = new Map(found.filter((v) => !v.record.nameIsIdentifier).map((v) => [`${v.record.registry}:${v.record.registryProjectId}`, v.record.name]));
    const keys = JSON.stringify([...new Set(unnamed.map((v) => `${v.record.registry}:${v.record.registryProjectId}`))].filter((k) => !named.has(k)).map((key) => ({ key })));
    const stored = await rows<{ key: string; name: string }>(tx, sql`select p.key, p.name from projects p
      join jsonb_to_recordset(${keys}::jsonb) as k(key text) on p.key = k.key
      where ${ownedBy('p', ownership.ownerOrganizationId)}`);
    for (const r of stored) named.set(r.key, r.name);
    for (const v of unnamed) v.record.name = named.get(`${v.record.registry}:${v.record.registryProjectId}`) ?? v.record.name;
  }

  async function resolveProjects(tx: Database, records: { registry: string; registryProjectId: string }[]): Promise<void> {
    const missing = [...new Set(records.map((r) => `${r.registry}:${r.registryProjectId}`))].filter((k) => !projectIds.has(k));
    if (missing.length === 0) return;
    const keys = JSON.stringify(missing.map((k) => ({ key: k })));
    // Only projects of this batch's own source: records never attach to another source's project.
    const found = await rows<{ id: string | number; key: string }>(tx, sql`select p.id, p.key from projects p
      join jsonb_to_recordset(${keys}::jsonb) as k(key text) on p.key = k.key
      where ${ownedBy('p', ownership.ownerOrganizationId)}`);
    for (const r of found) projectIds.set(r.key, Number(r.id));
  }

  /** Adds to `into` the ids of issuances written in earlier chunks or batches, by project and key. */
  async function resolveIssuances(tx: Database, wanted: { projectId: number | undefined; issuanceKey: string | undefined }[], into: Map<string, number>): Promise<void> {
    const missing = wanted.filter((w): w is { projectId: number; issuanceKey: string } =>
      w.projectId !== undefined && w.issuanceKey !== undefined && !into.has(`${w.projectId}|${w.issuanceKey}`));
    if (missing.length === 0) return;
    const keys = JSON.stringify(missing.map((w) => ({ project_id: w.projectId, issuance_key: w.issuanceKey })));
    const found = await rows<{ id: string | number; project_id: string | number; issuance_key: string }>(tx, sql`select i.id, i.project_id, i.issuance_key
      from issuances i join jsonb_to_recordset(${keys}::jsonb) as k(project_id bigint, issuance_key text)
      on i.project_id = k.project_id and i.issuance_key = k.issuance_key`);
    for (const r of found) into.set(`${Number(r.project_id)}|${r.issuance_key}`, Number(r.id));
  }
}

function count(t: Tally, write: { inserted: number; updated: number; distinct: number; keys: string[] }, seen?: Set<string>): void {
  t.new += write.inserted;
  t.changed += write.updated;
  if (!seen) {
    t.unchanged += write.distinct - write.inserted - write.updated;
    return;
  }
  const fresh = new Set(write.keys.filter((k) => !seen.has(k)));
  for (const k of fresh) seen.add(k);
  t.unchanged += Math.max(0, fresh.size - write.inserted - write.updated);
}

/**
 * After a complete, reconciled pull of a registry's blocks in some statuses, the blocks in those
 * statuses that the pull did not list are superseded: the registry split them (a partial retirement
 * turns a held block into a held remainder and a retired piece, both with new serials) or removed them.
 */
async function supersedeUnlisted(tx: Database, batchId: number, registry: string | undefined, owner: number | null, statuses: readonly string[]): Promise<number> {
  if (!registry || statuses.length === 0) return 0;
  const [result] = await rows<{ n: number }>(tx, sql`with superseded as (update unit_blocks b
      set superseded_in_batch_id = ${batchId}, last_batch_id = ${batchId}, updated_at = now()
      where b.registry_id = ${registry} and ${ownedBy('b', owner)} and b.superseded_in_batch_id is null
        and b.status::text in (${sql.join(statuses.map((s) => sql`${s}`), sql`, `)})
        and not exists (select 1 from tally_seen_blocks s where s.id = b.id)
      returning 1) select count(*)::int as n from superseded`);
  return result?.n ?? 0;
}

/**
 * Issuances known only through their blocks take the sum of those blocks, recomputed from the ledger
 * for every issuance whose blocks this batch wrote; a row is touched only when its sum changed.
 */
async function sumIssuancesFromBlocks(tx: Database, batchId: number): Promise<void> {
  await tx.execute(sql`with touched as (
      select distinct issuance_id from unit_blocks where last_batch_id = ${batchId} and issuance_id is not null),
    sums as (
      select b.issuance_id, sum(b.quantity) as total from unit_blocks b join touched t on t.issuance_id = b.issuance_id
      where b.superseded_in_batch_id is null group by b.issuance_id)
    update issuances i set quantity = sums.total, last_batch_id = ${batchId}, updated_at = now()
    from sums
    where i.id = sums.issuance_id and i.quantity_from_blocks and i.quantity is distinct from sums.total`);
}

/**
 * Events that follow from the state the batch wrote (DESIGN §3: the ledger's history is its events):
 * an issuance new or changed in this batch was issued; a block now retired, cancelled, expired or
 * exported was so on its status date. Derived once the whole batch is in, so an issuance carries its
 * earliest date and its full quantity. When a later batch shows an issuance larger than its issued
 * events add up to (more of a batch seen, a figure corrected upwards), the difference is appended as
 * another issued event, so the events always sum to the issuance; a block whose quantity grew (ARB's
 * table gives retirements as running totals per compliance period) gets the same top-up. Event keys
 * are stable, so a later batch never repeats an event.
 */
async function appendStateEvents(tx: Database, batchId: number): Promise<number> {
  const [issued] = await rows<{ n: number }>(tx, sql`with added as (insert into events (registry_id, project_id, issuance_id, kind,
      event_key, occurred_on, quantity, vintage_year, batch_id, owner_organization_id, is_private, raw_record_id)
    select i.registry_id, i.project_id, i.id, 'issued',
      'issued:' || p.registry_project_id || ':' || i.issuance_key || case when e.total > 0 then ':' || i.quantity::text else '' end,
      i.issued_on, i.quantity - coalesce(e.total, 0), i.vintage_year, ${batchId}, i.owner_organization_id, i.is_private,
      coalesce((select min(l.raw_record_id) from record_lineage l where l.issuance_id = i.id),
        (select min(l.raw_record_id) from unit_blocks ib join record_lineage l on l.block_id = ib.id where ib.issuance_id = i.id))
    from issuances i
    join projects p on p.id = i.project_id
    left join lateral (select sum(quantity) as total from events ev where ev.issuance_id = i.id and ev.kind = 'issued') e on true
    where i.last_batch_id = ${batchId} and i.quantity > coalesce(e.total, 0)
    on conflict (registry_id, event_key, owner_organization_id) do nothing
    returning 1) select count(*)::int as n from added`);
  const [closed] = await rows<{ n: number }>(tx, sql`with added as (insert into events (registry_id, project_id, issuance_id, block_id,
      kind, event_key, occurred_on, quantity, vintage_year, batch_id, owner_organization_id, is_private, raw_record_id)
    select b.registry_id, b.project_id, b.issuance_id, b.id, k.kind,
      k.kind::text || ':' || b.block_key || case when e.total > 0 then ':' || b.quantity::text else '' end, b.status_date,
      b.quantity - coalesce(e.total, 0), b.vintage_year, ${batchId}, b.owner_organization_id, b.is_private,
      (select min(l.raw_record_id) from record_lineage l where l.block_id = b.id)
    from unit_blocks b
    cross join lateral (select (case b.status when 'retired' then 'retired' when 'cancelled' then 'cancelled'
      when 'expired' then 'expired' when 'exported' then 'converted-out' end)::event_kind as kind) k
    left join lateral (select sum(quantity) as total from events ev where ev.block_id = b.id and ev.kind = k.kind) e on true
    where b.last_batch_id = ${batchId} and k.kind is not null and b.quantity > coalesce(e.total, 0)
    on conflict (registry_id, event_key, owner_organization_id) do nothing
    returning 1) select count(*)::int as n from added`);
  return (issued?.n ?? 0) + (closed?.n ?? 0);
}
