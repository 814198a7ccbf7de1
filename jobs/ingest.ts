import { createHash } from 'node:crypto';
import { setImmediate } from 'node:timers/promises';
import { sql } from 'drizzle-orm';
import type { z } from 'zod';
import { CanonicalRecord, type BlockRecord, type EventRecord, type IssuanceRecord, type LabelRecord, type MirrorRecord, type ProjectRecord, type StatedRecord } from '../schema/canonical.ts';
import { events, issuances, labelBlocks, labels, mirrorRecords, projects, rawRecords, recordLineage, unitBlocks } from '../schema/db/index.ts';
import { ownedBy, rows, type Database } from '../schema/database.ts';
import { log } from '../schema/log.ts';
import type { Mapped, RawRecord, RowError } from '../connectors/types.ts';
import { asMirrors } from '../connectors/mirrors.ts';
import { sha256, stableJson } from '../schema/hash.ts';
import { BatchFailed, BatchRun } from './batches.ts';
import { blockRow, eventRow, issuanceRow, labelRow, mirrorRow, projectRow, type Ownership } from './harmonize.ts';
import { runChecks, type CheckSummary } from './integrity/index.ts';
import { writeRows, type WriteSpec } from './ledger-writer.ts';
import { writeStatedTotals, type StatedInput } from './stated-totals.ts';
import { deriveTags } from './tags.ts';

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
  /** How the source is read (a file's format, generations, unread columns), kept on the batch. */
  details?: Record<string, unknown>;
  records: AsyncIterable<RawRecord>;
  map(raw: RawRecord): Mapped;
  /** Runs after the last record is read, before sealing; throws to fail the batch (reconciliation). */
  afterRead?(received: number): void | Promise<void>;
  /** Streams that list every current block of the registry in these statuses (see ApiStream.snapshotOf). */
  snapshots?: readonly { stream: string; statuses: readonly string[] }[];
  /** Figures the source stated outside its records (an API's total counts), known once all is read. */
  stated?(): StatedInput[];
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
  /** Records of another registry's units or projects, kept as evidence (DESIGN §3, mirrors). */
  mirrors: Tally;
  events: { new: number; existing: number };
  /** Row-level errors (rows rejected) and warnings (rows kept, a value not understood). */
  errors: RowError[];
  warnings: RowError[];
  failure?: string;
  /** How the source was read (for a file: format, generations, unread columns). */
  details?: Record<string, unknown>;
  /**
   * Where the batch's time went: wall milliseconds per step, summed over its chunks. `prepare` (mapping,
   * validation, hashes) overlaps the database steps of the chunk before.
   */
  milliseconds: Record<string, number>;
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
/** Rows prepared between two turns of the event loop. */
const PREPARE_SLICE = 50;

const specs = {
  raw: { table: rawRecords, key: ['contentHash', 'stream', 'registryId', 'ownerOrganizationId'] },
  project: {
    table: projects,
    key: ['registryId', 'registryProjectId', 'ownerOrganizationId'],
    merge: Object.fromEntries(['name', 'nameJa', 'proponent', 'country', 'region', 'projectType', 'category', 'reductionRemoval',
      'methodologies', 'methodologyRaw', 'methodologyUnmatched', 'status', 'statusRaw', 'creditingPeriodStart', 'creditingPeriodEnd',
      'registeredOn', 'estimatedAnnualQuantity', 'estimatedTotalQuantity', 'eligibility', 'coBenefits', 'latitude', 'longitude', 'registryUrl', 'otherPrograms',
      'alternateIds', 'coveredByNdc'].map((c) => [c, 'coalesce'])),
    insertDefaults: { status: `'unknown'::project_status` },
  },
  // An issuance the registry reports with its figure: the figure is merged like any field, and an
  // issuance once reported stays reported.
  issuance: {
    table: issuances,
    key: ['projectId', 'issuanceKey'],
    merge: {
      ...Object.fromEntries(['vintageStart', 'vintageEnd', 'vintageYear', 'quantity', 'creditType', 'eligibility', 'numberSpace', 'serialStart', 'serialEnd',
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
      ...Object.fromEntries(['vintageStart', 'vintageEnd', 'vintageYear', 'creditType', 'eligibility', 'bufferQuantity', 'shareOfProceedsQuantity',
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
  // What a source reports of another registry's units: its latest word on them replaces the last.
  mirror: {
    table: mirrorRecords,
    key: ['reportedBy', 'mirrorKey', 'ownerOrganizationId'],
    merge: Object.fromEntries(['registryId', 'kind', 'registryProjectId', 'projectRef', 'projectName', 'country', 'numberSpace', 'serialStart', 'serialEnd',
      'serialRaw', 'quantity', 'vintageYear', 'creditType', 'status', 'statusDate', 'rawRecordId'].map((c) => [c, 'replace'])),
    returnIds: false,
  },
  event: { table: events, key: ['registryId', 'eventKey', 'ownerOrganizationId'], returnIds: false },
  lineage: { table: recordLineage, key: ['rawRecordId', 'projectId', 'issuanceId', 'blockId'], returnIds: false },
} satisfies Record<string, WriteSpec>;

function zodMessage(error: z.ZodError): string {
  return error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ');
}

type Valid<T> = { record: T; rawIndex: number };

/** Runs one batch. Resolves with the summary of a committed batch; rejects with BatchRejected otherwise. */
export async function ingest(db: Database, input: IngestInput, options: IngestOptions = {}): Promise<IngestSummary> {
  const run = await BatchRun.start(db, {
    kind: input.kind, connector: input.connector, registryId: input.registry, source: input.source, details: input.details,
    ownerOrganizationId: options.ownerOrganizationId, isPrivate: options.isPrivate, apiKeyId: options.apiKeyId,
  });
  const batch = new LedgerBatch(run.id, input, options, await uploaderOf(db, options.ownerOrganizationId));
  const { summary } = batch;
  try {
    summary.digest = (await run.commit((tx) => batch.write(tx), { preview: options.preview, outcome: () => batch.outcome() })) ?? null;
  } catch (error) {
    if (!(error instanceof BatchFailed)) throw error;
    summary.failure = error.message;
    throw new BatchRejected(summary);
  }
  summary.status = options.preview ? 'preview' : 'committed';
  // The integrity rules over what the batch wrote (DESIGN §6). The batch stands whatever they find; a
  // check that fails is reported, and the next full check covers it.
  if (summary.status === 'committed' && options.check !== false) {
    try {
      summary.check = await runChecks(db, { batchId: run.id });
    } catch (error) {
      summary.checkFailure = (error as Error).message;
      log.error({ err: error, batchId: run.id }, 'integrity check after the batch failed');
    }
  }
  return summary;
}

/**
 * How an organization's upload names itself as a source: `upload:<organization>`. What it reports of a
 * registry whose own data Tally reads is a mirror of that registry's units (DESIGN §3), never a second
 * count of them; its records of registries that publish through uploads are their record.
 */
async function uploaderOf(db: Database, organizationId: number | undefined): Promise<string | undefined> {
  if (organizationId === undefined) return undefined;
  const [org] = await rows<{ slug: string }>(db, sql`select slug from organizations where id = ${organizationId}`);
  return `upload:${org?.slug ?? organizationId}`;
}

type Found = {
  project: Valid<ProjectRecord>[]; issuance: Valid<IssuanceRecord>[]; block: Valid<BlockRecord>[]; event: Valid<EventRecord>[]; label: Valid<LabelRecord>[];
  mirror: Valid<MirrorRecord>[]; stated: Valid<StatedRecord>[];
};
/** A chunk of records read and mapped (`prepare`), on its way to the ledger (`persist`). */
type Chunk = { records: RawRecord[]; hashes: string[]; found: Found; rawIds: number[]; lineage: Map<number, { projects: number[]; issuances: number[]; blocks: number[] }> };

/**
 * One batch of ledger records on its way in: what it has read and written so far, and the ids it has
 * resolved. Chunks go through `prepare` (hashes, mapping, validation: the CPU half) and `persist` (the
 * ledger rows, in dependency order: the database half); once all are in, `derive` writes what follows
 * from the state they left (superseded blocks, issuance sums, state events).
 */
class LedgerBatch {
  readonly summary: IngestSummary;
  readonly #ownership: Ownership;
  readonly #recordsHash = createHash('sha256');
  readonly #projectIds = new Map<string, number>();
  readonly #issuanceIds = new Map<string, number>();
  readonly #seen = { projects: new Set<string>(), issuances: new Set<string>(), labels: new Set<string>(), mirrors: new Set<string>() };
  /** Kilograms of CO2e the batch's valid rows list: in blocks, and in issuances the source gives a figure for. */
  readonly #kilograms = { blocks: 0, issued: 0 };

  constructor(readonly batchId: number, readonly input: IngestInput, readonly options: IngestOptions, readonly uploader?: string) {
    this.#ownership = { ownerOrganizationId: options.ownerOrganizationId ?? null, isPrivate: options.isPrivate ?? false };
    this.summary = {
      batchId, status: 'failed', digest: null, rowsRead: 0, rowsRejected: 0, rawRecords: { new: 0, seen: 0 },
      projects: tally(), issuances: tally(), blocks: { ...tally(), superseded: 0 }, labels: tally(), mirrors: tally(), events: { new: 0, existing: 0 }, errors: [], warnings: [],
      milliseconds: {},
      ...(input.details ? { details: input.details } : {}),
    };
  }

  /** What the batch row keeps: counts, and the first errors and warnings. */
  outcome() {
    const s = this.summary;
    return {
      counts: {
        rowsRead: s.rowsRead, rowsRejected: s.rowsRejected, rawNew: s.rawRecords.new,
        projectsNew: s.projects.new, projectsChanged: s.projects.changed, projectsUnchanged: s.projects.unchanged,
        issuancesNew: s.issuances.new, issuancesChanged: s.issuances.changed, issuancesUnchanged: s.issuances.unchanged,
        blocksNew: s.blocks.new, blocksChanged: s.blocks.changed, blocksUnchanged: s.blocks.unchanged, blocksSuperseded: s.blocks.superseded,
        ...(s.labels.new + s.labels.changed + s.labels.unchanged > 0
          ? { labelsNew: s.labels.new, labelsChanged: s.labels.changed, labelsUnchanged: s.labels.unchanged } : {}),
        ...(s.mirrors.new + s.mirrors.changed + s.mirrors.unchanged > 0
          ? { mirrorsNew: s.mirrors.new, mirrorsChanged: s.mirrors.changed, mirrorsUnchanged: s.mirrors.unchanged } : {}),
        eventsNew: s.events.new, eventsExisting: s.events.existing,
        warnings: s.warnings.length,
        // What freshness compares between two pulls of a registry (jobs/freshness.ts).
        blockTonnes: this.#kilograms.blocks / 1000, issuedTonnes: this.#kilograms.issued / 1000,
        ...(this.input.snapshots?.length ? { snapshotStreams: this.input.snapshots.length } : {}),
      },
      errors: [...s.errors, ...s.warnings].slice(0, MAX_STORED_ERRORS),
    };
  }

  /** Writes every record of the input in the batch's transaction; returns the digest of the records. */
  async write(tx: Database): Promise<string> {
    if (this.input.snapshots?.length) await tx.execute(sql`create temp table tally_seen_blocks (id bigint primary key) on commit drop`);
    // Reading and mapping the next chunk overlaps with writing the previous one: the CSV parser and the
    // mappers run while the database works. Writes stay in order, one at a time, on the transaction's connection.
    const chunkSize = this.options.chunkSize ?? 2000;
    let records: RawRecord[] = [];
    let writing: Promise<void> = Promise.resolve();
    const hand = async (next: RawRecord[]) => {
      const chunk = await this.#timed('prepare', () => this.prepare(next));
      await writing;
      writing = this.persist(tx, chunk);
      writing.catch(() => {}); // awaited before the next chunk or after the last
    };
    for await (const raw of this.input.records) {
      records.push(raw);
      if (records.length >= chunkSize) {
        await hand(records);
        records = [];
      }
    }
    await hand(records);
    await writing;
    await this.input.afterRead?.(this.summary.rowsRead);
    await writeStatedTotals(tx, this.input.stated?.() ?? [], this.#ownership, this.batchId);
    await this.#timed('derive', () => this.derive(tx));
    if (this.options.rejectOnRowErrors && this.summary.errors.length > 0) {
      throw new Error(`${this.summary.errors.length} row(s) have errors; nothing from this file was stored`);
    }
    return this.#recordsHash.digest('hex');
  }

  /**
   * The CPU half of a chunk: hashes, mapping, validation. Rows with errors are reported and left out.
   * It gives way to the event loop every PREPARE_SLICE rows, so that the previous chunk's statements go
   * out as soon as the database answers the one before, instead of waiting for the whole chunk.
   */
  async prepare(records: RawRecord[]): Promise<Chunk> {
    const { summary } = this;
    summary.rowsRead += records.length;
    const hashes: string[] = [];
    const found: Found = { project: [], issuance: [], block: [], event: [], label: [], mirror: [], stated: [] };
    for (let start = 0; start < records.length; start += PREPARE_SLICE) {
      if (start > 0) await setImmediate();
      for (let rawIndex = start; rawIndex < Math.min(start + PREPARE_SLICE, records.length); rawIndex += 1) {
        hashes.push(sha256(stableJson(records[rawIndex]!.payload)));
        this.#validate(records[rawIndex]!, rawIndex, found);
      }
    }
    return { records, hashes, found, rawIds: [], lineage: new Map() };
  }

  /** Maps and validates one record into `found`; a row with an error is reported and contributes nothing. */
  #validate(record: RawRecord, rawIndex: number, found: Found): void {
    const { summary } = this;
    let mapped: Mapped;
    try {
      mapped = this.input.map(record);
      if (this.uploader) mapped = asMirrors(mapped, record.locator, this.uploader);
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
    for (const canonical of valid) {
      this.#recordsHash.update(`${stableJson(canonical)}\n`);
      // Summed in whole kilograms (tonnes carry three decimals), so the sum is exact.
      if (canonical.type === 'block') this.#kilograms.blocks += Math.round(canonical.quantity * 1000);
      if (canonical.type === 'issuance' && !canonical.quantityFromBlocks) this.#kilograms.issued += Math.round(canonical.quantity * 1000);
      (found[canonical.type] as Valid<CanonicalRecord>[]).push({ record: canonical, rawIndex });
    }
  }

  /** The database half of a chunk: raw records, then the ledger rows they yield, then lineage. */
  async persist(tx: Database, chunk: Chunk): Promise<void> {
    if (chunk.records.length === 0) return;
    const { summary, batchId, input } = this;
    const raw = await this.#timed('rawRecords', () => writeRows(tx, specs.raw, chunk.records.map((r, i) => ({
      batchId, registryId: input.registry ?? null, stream: r.stream, source: input.source, locator: r.locator,
      recordKey: r.recordKey ?? null, contentHash: chunk.hashes[i], payload: r.payload, ...this.#ownership,
    }))));
    summary.rawRecords.new += raw.inserted;
    summary.rawRecords.seen += chunk.records.length;
    chunk.rawIds = raw.ids;
    await this.#timed('projects', () => this.writeProjects(tx, chunk));
    await this.#timed('projects', () => this.resolveProjects(tx, [...chunk.found.issuance, ...chunk.found.block, ...chunk.found.event].map((v) => v.record)));
    await this.#timed('issuances', () => this.writeIssuances(tx, chunk));
    const blockIds = await this.#timed('blocks', () => this.writeBlocks(tx, chunk));
    await this.#timed('events', () => this.writeEvents(tx, chunk, blockIds));
    await this.#timed('labels', () => this.writeLabels(tx, chunk, blockIds));
    await this.#timed('mirrors', () => this.writeMirrors(tx, chunk));
    // Figures the source states about the registry's totals (jobs/reconcile.ts reconciles with them).
    await writeStatedTotals(tx, chunk.found.stated.map((v) => ({ record: v.record, stream: chunk.records[v.rawIndex]!.stream, rawRecordId: chunk.rawIds[v.rawIndex]! })), this.#ownership, batchId);
    await this.#timed('lineage', () => this.writeLineage(tx, chunk));
    this.options.onProgress?.({ rowsRead: summary.rowsRead });
  }

  /**
   * What follows from the state the whole batch left: blocks a complete pull no longer lists are
   * superseded, issuances known through their blocks take their sums, and state events are appended.
   */
  async derive(tx: Database): Promise<void> {
    const { summary, batchId, input } = this;
    // A large batch changes the tables' sizes by orders of magnitude inside this transaction; without
    // fresh statistics the planner picks nested loops over them for the set-based steps below.
    if (summary.rowsRead >= ANALYZE_AFTER_ROWS) await tx.execute(sql`analyze raw_records, record_lineage, unit_blocks, issuances, events`);
    for (const snapshot of input.snapshots ?? []) {
      summary.blocks.superseded += await supersedeUnlisted(tx, batchId, input.registry, this.#ownership.ownerOrganizationId, snapshot.statuses);
    }
    await sumIssuancesFromBlocks(tx, batchId);
    summary.events.new += await appendStateEvents(tx, batchId);
    // Eligibility, labels and Article 6 facts of what the batch wrote, as tags with their sources.
    const labelled = summary.labels.new + summary.labels.changed + summary.labels.unchanged > 0;
    await this.#timed('tags', () => deriveTags(tx, { batchId, owner: this.#ownership.ownerOrganizationId, labels: labelled }));
  }

  /** Runs one step of the batch, adding its wall time to `summary.milliseconds[step]`. */
  async #timed<T>(step: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.summary.milliseconds[step] = (this.summary.milliseconds[step] ?? 0) + performance.now() - started;
    }
  }

  // Lineage links each raw record to the most specific rows it yielded: its blocks, else its issuances,
  // else its projects. An issuance or project reached through its blocks needs no row of its own for
  // every block (a VCU export row names its project and issuance too).
  #lineage(chunk: Chunk, rawIndex: number) {
    let entry = chunk.lineage.get(rawIndex);
    if (!entry) chunk.lineage.set(rawIndex, (entry = { projects: [], issuances: [], blocks: [] }));
    return entry;
  }

  /** The project a record names, from this batch's own source; a row error when there is none. */
  #projectOf(chunk: Chunk, r: { registry: string; registryProjectId: string }, rawIndex: number): number | undefined {
    const id = this.#projectIds.get(`${r.registry}:${r.registryProjectId}`);
    if (id === undefined) {
      const locator = chunk.records[rawIndex]!.locator;
      this.summary.errors.push({
        locator, field: 'project', code: 'unknown-project', params: { project: `${r.registry}:${r.registryProjectId}` },
        message: `${locator}: project ${r.registry}:${r.registryProjectId} is not in the ledger and this source does not describe it`,
      });
    }
    return id;
  }

  /** Projects, with the taxonomy applied. */
  async writeProjects(tx: Database, chunk: Chunk): Promise<void> {
    const found = chunk.found.project;
    await this.placeAlternateIds(tx, found);
    await this.adoptAlternateIds(tx, found);
    await this.keepKnownNames(tx, found);
    const write = await writeRows(tx, specs.project, found.map((v) =>
      projectRow(v.record, this.#ownership, this.batchId, chunk.records[v.rawIndex]!.locator, this.summary.warnings)));
    count(this.summary.projects, write, this.#seen.projects);
    found.forEach((v, i) => {
      this.#projectIds.set(`${v.record.registry}:${v.record.registryProjectId}`, write.ids[i]!);
      this.#lineage(chunk, v.rawIndex).projects.push(write.ids[i]!);
    });
  }

  async writeIssuances(tx: Database, chunk: Chunk): Promise<void> {
    const input = chunk.found.issuance.flatMap((v) => {
      const projectId = this.#projectOf(chunk, v.record, v.rawIndex);
      return projectId === undefined ? [] : [{ v, row: issuanceRow(v.record, projectId, this.#ownership, this.batchId) }];
    });
    for (const fromBlocks of [false, true]) {
      const part = input.filter((x) => x.row.quantityFromBlocks === fromBlocks);
      const write = await writeRows(tx, fromBlocks ? specs.issuanceFromBlocks : specs.issuance, part.map((x) => x.row));
      count(this.summary.issuances, write, this.#seen.issuances);
      part.forEach((x, i) => {
        this.#issuanceIds.set(`${x.row.projectId}|${x.row.issuanceKey}`, write.ids[i]!);
        this.#lineage(chunk, x.v.rawIndex).issuances.push(write.ids[i]!);
      });
    }
  }

  /** Blocks, attached to their issuances; returns their ids by registry and block key. */
  async writeBlocks(tx: Database, chunk: Chunk): Promise<Map<string, number>> {
    const input = chunk.found.block.flatMap((v) => {
      const projectId = this.#projectOf(chunk, v.record, v.rawIndex);
      return projectId === undefined ? [] : [{ v, row: blockRow(v.record, projectId, null, this.#ownership, this.batchId) }];
    });
    await this.resolveIssuances(tx, input.map((x) => ({ projectId: x.row.projectId, issuanceKey: x.v.record.issuanceKey })));
    for (const x of input) if (x.v.record.issuanceKey) x.row.issuanceId = this.#issuanceIds.get(`${x.row.projectId}|${x.v.record.issuanceKey}`) ?? null;
    const write = await writeRows(tx, specs.block, input.map((x) => x.row));
    count(this.summary.blocks, write);
    const snapshots = this.input.snapshots ?? [];
    const seen = input.flatMap((x, i) => (snapshots.some((s) => s.stream === chunk.records[x.v.rawIndex]!.stream) ? [write.ids[i]!] : []));
    if (seen.length > 0) {
      await tx.execute(sql`insert into tally_seen_blocks (id) select distinct value::bigint from jsonb_array_elements_text(${JSON.stringify(seen)}::jsonb) on conflict do nothing`);
    }
    input.forEach((x, i) => this.#lineage(chunk, x.v.rawIndex).blocks.push(write.ids[i]!));
    return new Map(input.map((x, i) => [`${x.row.registryId}|${x.row.blockKey}`, write.ids[i]!]));
  }

  async writeEvents(tx: Database, chunk: Chunk, blockIds: Map<string, number>): Promise<void> {
    const found = chunk.found.event;
    await this.resolveIssuances(tx, found.map((v) => ({ projectId: this.#projectIds.get(`${v.record.registry}:${v.record.registryProjectId}`), issuanceKey: v.record.issuanceKey })));
    const input = found.flatMap((v) => {
      const projectId = this.#projectOf(chunk, v.record, v.rawIndex);
      if (projectId === undefined) return [];
      const blockId = v.record.blockKey ? blockIds.get(`${v.record.registry}|${v.record.blockKey}`) ?? null : null;
      const issuanceId = v.record.issuanceKey ? this.#issuanceIds.get(`${projectId}|${v.record.issuanceKey}`) ?? null : null;
      return [eventRow(v.record, { projectId, issuanceId, blockId, rawRecordId: chunk.rawIds[v.rawIndex]! }, this.#ownership, this.batchId)];
    });
    const write = await writeRows(tx, specs.event, input);
    this.summary.events.new += write.inserted;
    this.summary.events.existing += input.length - write.inserted;
  }

  /** Labels, and the blocks they cover: written in this chunk, or found in the ledger by registry and block key. */
  async writeLabels(tx: Database, chunk: Chunk, blockIds: Map<string, number>): Promise<void> {
    const found = chunk.found.label;
    if (found.length === 0) return;
    const { summary } = this;
    await this.resolveProjects(tx, found.map((v) => v.record));
    const wanted = found.flatMap((v) => v.record.blockKeys.map((blockKey) => ({ registry_id: v.record.registry, block_key: blockKey })))
      .filter((k) => !blockIds.has(`${k.registry_id}|${k.block_key}`));
    if (wanted.length > 0) {
      const stored = await rows<{ id: string | number; registry_id: string; block_key: string }>(tx, sql`select b.id, b.registry_id, b.block_key
        from unit_blocks b join jsonb_to_recordset(${JSON.stringify(wanted)}::jsonb) as k(registry_id text, block_key text)
        on b.registry_id = k.registry_id and b.block_key = k.block_key
        where ${ownedBy('b', this.#ownership.ownerOrganizationId)}`);
      for (const b of stored) blockIds.set(`${b.registry_id}|${b.block_key}`, Number(b.id));
    }
    const input = found.flatMap((v) => {
      const locator = chunk.records[v.rawIndex]!.locator;
      const projectId = this.#projectOf(chunk, v.record, v.rawIndex);
      if (projectId === undefined) return [];
      const missing = v.record.blockKeys.filter((k) => !blockIds.has(`${v.record.registry}|${k}`));
      if (missing.length > 0) {
        summary.errors.push({ locator, field: 'blocks', code: 'unknown-block', message: `${locator}: the label covers ${missing.length === 1 ? 'a unit' : 'units'} not in the ledger: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}` });
        return [];
      }
      return [{ v, projectId, row: labelRow(v.record, projectId, this.#ownership, this.batchId) }];
    });
    const write = await writeRows(tx, specs.label, input.map((x) => x.row));
    count(summary.labels, write, this.#seen.labels);
    input.forEach((x) => this.#lineage(chunk, x.v.rawIndex).projects.push(x.projectId));
    await writeRows(tx, specs.labelBlock, input.flatMap((x, i) => [...new Set(x.v.record.blockKeys)].map((k) => ({
      labelId: write.ids[i]!, blockId: blockIds.get(`${x.v.record.registry}|${k}`)!,
    }))));
  }

  /** Another registry's units or projects as this source reports them: evidence, never tonnes. */
  async writeMirrors(tx: Database, chunk: Chunk): Promise<void> {
    const found = chunk.found.mirror;
    const write = await writeRows(tx, specs.mirror, found.map((v) => mirrorRow(v.record, chunk.rawIds[v.rawIndex]!, this.#ownership, this.batchId)));
    count(this.summary.mirrors, write, this.#seen.mirrors);
  }

  async writeLineage(tx: Database, chunk: Chunk): Promise<void> {
    type Lineage = { rawRecordId: number; projectId: number | null; issuanceId: number | null; blockId: number | null };
    const lineage = [...chunk.lineage].flatMap(([rawIndex, t]): Lineage[] => {
      const rawRecordId = chunk.rawIds[rawIndex]!;
      if (t.blocks.length > 0) return t.blocks.map((blockId) => ({ rawRecordId, projectId: null, issuanceId: null, blockId }));
      if (t.issuances.length > 0) return t.issuances.map((issuanceId) => ({ rawRecordId, projectId: null, issuanceId, blockId: null }));
      return t.projects.map((projectId) => ({ rawRecordId, projectId, issuanceId: null, blockId: null }));
    });
    await writeRows(tx, specs.lineage, lineage);
  }

  /**
   * A project a source knows only by an identifier keeps the name another source gave it: from this
   * chunk, else from the ledger. (The identifier goes in only where the project has no name yet.)
   */
  async keepKnownNames(tx: Database, found: Valid<ProjectRecord>[]): Promise<void> {
    const unnamed = found.filter((v) => v.record.nameIsIdentifier);
    if (unnamed.length === 0) return;
    const named = new Map(found.filter((v) => !v.record.nameIsIdentifier).map((v) => [`${v.record.registry}:${v.record.registryProjectId}`, v.record.name]));
    const keys = JSON.stringify([...new Set(unnamed.map((v) => `${v.record.registry}:${v.record.registryProjectId}`))].filter((k) => !named.has(k)).map((key) => ({ key })));
    const stored = await rows<{ key: string; name: string }>(tx, sql`select p.key, p.name from projects p
      join jsonb_to_recordset(${keys}::jsonb) as k(key text) on p.key = k.key
      where ${ownedBy('p', this.#ownership.ownerOrganizationId)}`);
    for (const r of stored) named.set(r.key, r.name);
    for (const v of unnamed) v.record.name = named.get(`${v.record.registry}:${v.record.registryProjectId}`) ?? v.record.name;
  }

  /**
   * Records that name their project by an alternate id (`idIsAlternate`) take the project's own id where
   * this chunk, the batch's own source or the registry's own records pair the two; unpaired, they stay
   * filed under the alternate id.
   */
  async placeAlternateIds(tx: Database, found: Valid<ProjectRecord>[]): Promise<void> {
    const named = found.filter((v) => v.record.idIsAlternate);
    if (named.length === 0) return;
    const paired = new Map<string, string>();
    for (const { record } of found) {
      if (!record.idIsAlternate) for (const alternate of record.alternateIds ?? []) paired.set(`${record.registry}:${alternate}`, record.registryProjectId);
    }
    const wanted = named.map((v) => v.record).filter((r) => !paired.has(`${r.registry}:${r.registryProjectId}`))
      .map((r) => ({ registry: r.registry, alternate: r.registryProjectId }));
    const stored = wanted.length === 0 ? [] : await rows<{ registry: string; alternate: string; id: string }>(tx, sql`
      select k.registry, k.alternate, p.registry_project_id as id from projects p
      join jsonb_to_recordset(${JSON.stringify(wanted)}::jsonb) as k(registry text, alternate text)
        on p.registry_id = k.registry and k.alternate = any(p.alternate_ids)
      where p.owner_organization_id is null or ${ownedBy('p', this.#ownership.ownerOrganizationId)}`);
    for (const r of stored) paired.set(`${r.registry}:${r.alternate}`, r.id);
    for (const { record } of named) {
      const id = paired.get(`${record.registry}:${record.registryProjectId}`);
      if (id !== undefined) record.registryProjectId = id;
    }
  }

  /**
   * A project filed under an alternate id takes its own id once a record pairs the two: renamed, or
   * folded into the project of that id when one exists already (`foldProject`).
   */
  async adoptAlternateIds(tx: Database, found: Valid<ProjectRecord>[]): Promise<void> {
    const pairs = found.filter((v) => !v.record.idIsAlternate).flatMap(({ record }) => (record.alternateIds ?? [])
      .filter((alternate) => alternate !== record.registryProjectId)
      .map((alternate) => ({ registry: record.registry, alternate, id: record.registryProjectId })));
    if (pairs.length === 0) return;
    const filed = await rows<{ filed: string; existing: string | null; id: string }>(tx, sql`
      select p.id as filed, q.id as existing, k.id from jsonb_to_recordset(${JSON.stringify(pairs)}::jsonb) as k(registry text, alternate text, id text)
      join projects p on p.registry_id = k.registry and p.registry_project_id = k.alternate
      left join projects q on q.registry_id = k.registry and q.registry_project_id = k.id and q.owner_organization_id is not distinct from p.owner_organization_id
      where ${ownedBy('p', this.#ownership.ownerOrganizationId)}`);
    for (const f of filed) {
      if (f.existing === null) await tx.execute(sql`update projects set registry_project_id = ${f.id} where id = ${f.filed}`);
      else await foldProject(tx, Number(f.filed), Number(f.existing));
    }
  }

  /** Finds the ids of projects written by earlier chunks or batches of this batch's own source. */
  async resolveProjects(tx: Database, records: { registry: string; registryProjectId: string }[]): Promise<void> {
    const missing = [...new Set(records.map((r) => `${r.registry}:${r.registryProjectId}`))].filter((k) => !this.#projectIds.has(k));
    if (missing.length === 0) return;
    const keys = JSON.stringify(missing.map((k) => ({ key: k })));
    // Only projects of this batch's own source: records never attach to another source's project.
    const found = await rows<{ id: string | number; key: string }>(tx, sql`select p.id, p.key from projects p
      join jsonb_to_recordset(${keys}::jsonb) as k(key text) on p.key = k.key
      where ${ownedBy('p', this.#ownership.ownerOrganizationId)}`);
    for (const r of found) this.#projectIds.set(r.key, Number(r.id));
  }

  /** Finds the ids of issuances written in earlier chunks or batches, by project and key. */
  async resolveIssuances(tx: Database, wanted: { projectId: number | undefined; issuanceKey: string | undefined }[]): Promise<void> {
    const missing = wanted.filter((w): w is { projectId: number; issuanceKey: string } =>
      w.projectId !== undefined && w.issuanceKey !== undefined && !this.#issuanceIds.has(`${w.projectId}|${w.issuanceKey}`));
    if (missing.length === 0) return;
    const keys = JSON.stringify(missing.map((w) => ({ project_id: w.projectId, issuance_key: w.issuanceKey })));
    const found = await rows<{ id: string | number; project_id: string | number; issuance_key: string }>(tx, sql`select i.id, i.project_id, i.issuance_key
      from issuances i join jsonb_to_recordset(${keys}::jsonb) as k(project_id bigint, issuance_key text)
      on i.project_id = k.project_id and i.issuance_key = k.issuance_key`);
    for (const r of found) this.#issuanceIds.set(`${Number(r.project_id)}|${r.issuance_key}`, Number(r.id));
  }
}

/**
 * Folds a project filed under an alternate id into the project of its own id. Only a project list names
 * a project by an alternate id, so the project filed under one holds no units: its provenance and
 * finding subjects move to the project (not doubled where it has them), its links go (the linker draws
 * the project's again), and it is deleted.
 */
async function foldProject(tx: Database, from: number, to: number): Promise<void> {
  await tx.execute(sql`update record_lineage l set project_id = ${to} where project_id = ${from}
    and not exists (select 1 from record_lineage m where m.raw_record_id = l.raw_record_id and m.project_id = ${to})`);
  await tx.execute(sql`update finding_subjects s set project_id = ${to} where project_id = ${from}
    and not exists (select 1 from finding_subjects t where t.finding_id = s.finding_id and t.project_id = ${to})`);
  await tx.execute(sql`delete from record_lineage where project_id = ${from}`);
  await tx.execute(sql`delete from finding_subjects where project_id = ${from}`);
  await tx.execute(sql`delete from project_links where from_project_id = ${from} or to_project_id = ${from}`);
  await tx.execute(sql`delete from projects where id = ${from}`);
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
