import { basename } from 'node:path';
import { and, eq, sql } from 'drizzle-orm';
import {
  AEF_TABLES, WORKBOOK_TABLES, rangeSize, readAefFile, readAefRow, type AefRawRow, type AefRow, type AefTable,
} from '../../connectors/article6/aef.ts';
import type { RowError } from '../../connectors/types.ts';
import {
  aefActions, aefAuthorizations, aefAuthorizedEntities, aefHoldings, aefSubmissions, correspondingAdjustments, organizationParties,
  organizations, rawRecords,
} from '../../schema/db/index.ts';
import { bigintArray, ownedBy, rows, type Database } from '../../schema/database.ts';
import { resolveCountry } from '../../schema/taxonomy/countries.ts';
import { sha256, stableJson } from '../../schema/hash.ts';
import { BatchFailed, BatchRun } from '../batches.ts';
import { runChecks, type CheckSummary } from '../integrity/index.ts';
import { writeRows, type WriteSpec } from '../ledger-writer.ts';
import { deriveAefTags } from '../tags.ts';

// An AEF upload (DESIGN §1, §3; reference/registries.md §5): one Party's tables T1–T5 for a reporting
// year, from one workbook, a set of CSV files or a JSON document, as one batch. Every row is checked on
// its own and against the others (a T3 action names an authorization the Party has; quantities equal
// the size of their ITMO and unit ranges; vintages fall inside the authorized timeframe). An upload
// with any error stores nothing but its failed batch and the row-level reasons. Uploading the same
// tables again changes nothing; a new upload of the same submission replaces its actions and holdings.

export type AefCounts = { new: number; changed: number; unchanged: number; removed: number };
export type AefSummary = {
  batchId: number;
  status: 'committed' | 'failed' | 'preview';
  digest: string | null;
  party: string | null;
  reportYear: number | null;
  rowsRead: number;
  tables: Record<AefTable, AefCounts>;
  errors: RowError[];
  warnings: RowError[];
  failure?: string;
  check?: CheckSummary;
  checkFailure?: string;
};

export class AefRejected extends Error {
  constructor(readonly summary: AefSummary) {
    super(summary.failure);
  }
}

export type AefUploadOptions = {
  ownerOrganizationId?: number | undefined; isPrivate?: boolean | undefined; apiKeyId?: number | undefined;
  /** Check and count everything, keep nothing (status `preview`). */
  preview?: boolean | undefined;
};

const counts = (): AefCounts => ({ new: 0, changed: 0, unchanged: 0, removed: 0 });
const MAX_ERRORS = 1000;

const specs = {
  raw: { table: rawRecords, key: ['contentHash', 'stream', 'registryId', 'ownerOrganizationId'] },
  t1: { table: aefSubmissions, key: ['party', 'reportYear', 'version', 'ownerOrganizationId'], merge: merge(['submittedOn', 'ndcFirstYear', 'ndcLastYear', 'isPrivate']) },
  t2: {
    table: aefAuthorizations, key: ['party', 'authorizationId', 'version', 'ownerOrganizationId'],
    merge: merge(['authorizedOn', 'cooperativeApproachId', 'quantity', 'metric', 'gwpValue', 'applicableNonGhgMetric', 'sector', 'activityType',
      'purposes', 'authorizedPartyId', 'authorizedEntityId', 'oimpAuthorizedParty', 'timeframeStart', 'timeframeEnd', 'authorizationTerms',
      'authorizationDocumentation', 'firstTransferDefinitionOimp', 'additionalInformation', 'isPrivate']),
  },
  // T3 and T4 rows are keyed by their submission and content: the same row is the same key, a changed row a new one.
  t3: { table: aefActions, key: ['party', 'rowKey', 'ownerOrganizationId'], merge: merge(['submissionId', 'authorizationRowId', 'isPrivate']) },
  t4: { table: aefHoldings, key: ['party', 'rowKey', 'ownerOrganizationId'], merge: merge(['submissionId', 'authorizationRowId', 'isPrivate']) },
  t5: {
    table: aefAuthorizedEntities, key: ['party', 'entityId', 'cooperativeApproachId', 'ownerOrganizationId'],
    merge: merge(['name', 'incorporationCountry', 'authorizedOn', 'conditions', 'changeConditions', 'additionalInformation', 'isPrivate']),
  },
  ca: { table: correspondingAdjustments, key: ['party', 'year', 'direction', 'cooperativeApproachId', 'ownerOrganizationId'], merge: merge(['quantity', 'metric', 'isPrivate']) },
} satisfies Record<string, WriteSpec>;

function merge(columns: string[]): Record<string, 'replace'> {
  return Object.fromEntries(columns.map((c) => [c, 'replace' as const]));
}

/** An authorization as the checks see it; a null quantity is not stated (optional in the AEF), never 0. */
type Authorization = { party: string; authorizationId: string; timeframeStart: number | null; timeframeEnd: number | null; quantity: number | null };

/** Checks across rows and tables; returns the errors and warnings with each row's locator. */
function crossCheck(rowsByTable: Record<AefTable, AefRow[]>, party: string, known: Authorization[]): { errors: RowError[]; warnings: RowError[] } {
  const errors: RowError[] = [];
  const warnings: RowError[] = [];
  const fail = (list: RowError[], row: AefRow, field: string, code: string, message: string) =>
    list.push({ locator: row.locator, field, code, message: `${row.locator}: ${field}: ${message}` });
  const authorizations = new Map<string, Authorization>(known.map((a) => [`${a.party}\n${a.authorizationId}`, a]));
  for (const row of rowsByTable.t2) {
    const v = row.values;
    authorizations.set(`${party}\n${v.authorizationId}`, {
      party, authorizationId: String(v.authorizationId), timeframeStart: v.timeframeStart as number | null, timeframeEnd: v.timeframeEnd as number | null, quantity: v.quantity as number | null,
    });
  }
  for (const table of ['t3', 't4'] as const) {
    const prefix = AEF_TABLES[table].prefix;
    for (const row of rowsByTable[table]) {
      const v = row.values;
      const quantity = v.quantityTco2 as number | null;
      const itmos = rangeSize(v.itmoFirstId as string, v.itmoLastId as string);
      if (itmos === undefined && v.itmoFirstId && v.itmoLastId) {
        fail(errors, row, `${prefix}ItmoFirstId`, 'unreadable-range', `"${v.itmoFirstId}" … "${v.itmoLastId}" is not a range of IDs (the same prefix, ending in a first and a last number)`);
      } else if (itmos !== undefined && quantity !== null && itmos !== quantity) {
        fail(errors, row, `${prefix}QuantityTCo2`, 'quantity-range-mismatch', `${quantity} ≠ ${itmos}, the number of ITMOs from ${v.itmoFirstId} to ${v.itmoLastId}`);
      }
      if (v.unitFirstId || v.unitLastId) {
        const units = rangeSize(v.unitFirstId as string, v.unitLastId as string);
        if (units === undefined) {
          fail(warnings, row, `${prefix}UnitFirstId`, 'unreadable-range', `"${v.unitFirstId}" … "${v.unitLastId}": the size of this unit range cannot be read; not checked`);
        } else if (quantity !== null && units !== quantity) {
          fail(errors, row, `${prefix}QuantityTCo2`, 'quantity-range-mismatch', `${quantity} ≠ ${units}, the number of units from ${v.unitFirstId} to ${v.unitLastId}`);
        }
      }
      // The authorization must exist when the reporting Party is the one that authorized the ITMOs;
      // ITMOs acquired from another Party rest on that Party's authorization, which is not in this upload.
      const authorizingParty = (v.firstTransferringPartyId as string | null) ?? party;
      if (!v.authorizationId) continue;
      const authorization = authorizations.get(`${authorizingParty}\n${v.authorizationId}`);
      if (!authorization) {
        if (authorizingParty === party) {
          fail(errors, row, `${prefix}AuthorizationId`, 'unknown-authorization', `"${v.authorizationId}" is not an authorization of ${party} (not in T2 of this upload nor uploaded before)`);
        }
        continue;
      }
      const vintage = v.vintageYear as number | null;
      if (vintage !== null && authorization.timeframeStart !== null && authorization.timeframeEnd !== null
        && (vintage < authorization.timeframeStart || vintage > authorization.timeframeEnd)) {
        fail(errors, row, `${prefix}VintageYear`, 'vintage-outside-timeframe',
          `${vintage} is outside the timeframe ${authorization.timeframeStart}–${authorization.timeframeEnd} of authorization ${authorization.authorizationId}`);
      }
    }
  }
  return { errors, warnings };
}

/**
 * The Parties an organization publishes AEF submissions for: its own country's, and those an admin
 * granted it (organization_parties). An upload without an organization (the operator's own command line)
 * may submit for any Party.
 */
export async function partiesOf(db: Database, organizationId: number): Promise<string[]> {
  const [organization] = await db.select({ country: organizations.country }).from(organizations).where(eq(organizations.id, organizationId));
  const granted = await db.select({ party: organizationParties.party }).from(organizationParties).where(eq(organizationParties.organizationId, organizationId));
  const own = resolveCountry(organization?.country)?.alpha3;
  return [...new Set([...(own ? [own] : []), ...granted.map((g) => g.party)])].sort();
}

/** An upload read: every row checked on its own, by table. */
type Submission = { rows: AefRow[]; byTable: Record<AefTable, AefRow[]>; errors: RowError[] };

/** Reads every file of the upload (a workbook must have the AEF's sheets) and checks each row on its own. */
async function readSubmission(paths: string[]): Promise<Submission> {
  const source = paths.map((p) => basename(p)).join(', ');
  const raw: AefRawRow[] = [];
  const present = new Set<AefTable>();
  const errors: RowError[] = [];
  for (const path of paths) {
    const file = await readAefFile(path).catch((error: Error) => { throw new Error(`${basename(path)}: ${error.message}`); });
    raw.push(...file.rows);
    for (const t of file.tables) present.add(t);
    if (file.workbook) {
      for (const t of WORKBOOK_TABLES.filter((t) => !file.tables.has(t))) {
        errors.push({ locator: basename(path), code: 'missing-sheet', message: `${basename(path)}: no sheet "${AEF_TABLES[t].title}" (the AEF workbook has one sheet per table: T1 Submission, T2 Authorizations, T3 Actions, T4 Holdings, and T5 Authorized entities if any)` });
      }
    }
  }
  const read = raw.map(readAefRow);
  errors.push(...read.flatMap((r) => r.errors));
  const rows = read.map((r) => r.row);
  const byTable = { t1: [], t2: [], t3: [], t4: [], t5: [], ca: [] } as Record<AefTable, AefRow[]>;
  for (const row of rows) byTable[row.table].push(row);
  const t1Rows = raw.filter((r) => r.table === 't1');
  if (t1Rows.length !== 1) {
    errors.push({ locator: source, code: 't1-count', message: `${source}: T1 Submission must have exactly one row (the Party and reporting year); found ${t1Rows.length}${present.has('t1') ? '' : ' (no T1 table)'}` });
  }
  return { rows, byTable, errors };
}

/**
 * The checks across rows, tables and the ledger: the publisher speaks for the Party, and T3/T4 rows
 * name authorizations the Party has (in this upload, or this publisher's earlier ones).
 */
async function crossCheckSubmission(db: Database, submission: Submission, party: string, owner: number | null): Promise<{ errors: RowError[]; warnings: RowError[] }> {
  const errors: RowError[] = [];
  if (owner !== null) {
    const allowed = await partiesOf(db, owner);
    const t1 = submission.byTable.t1[0]!;
    if (!allowed.includes(party)) {
      errors.push({ locator: t1.locator, field: 'party', code: 'party-not-held', message: `${t1.locator}: this organization publishes for ${allowed.length ? allowed.join(', ') : 'no Party (it has no country)'}, not ${party}; an admin can grant it more Parties (tally org grant)` });
    }
  }
  // Authorizations this publisher uploaded before: its own submissions, never another's.
  const known = await rows<Authorization>(db, sql`select party, authorization_id as "authorizationId", timeframe_start as "timeframeStart",
      timeframe_end as "timeframeEnd", quantity::float8 as quantity
    from aef_authorizations where ${ownedBy('aef_authorizations', owner)}`);
  const crossed = crossCheck(submission.byTable, party, known);
  return { errors: [...errors, ...crossed.errors], warnings: crossed.warnings };
}

/**
 * Writes a checked submission in its batch's transaction: raw rows with their hashes, T1, T2, T5 and
 * the adjustments, then T3 and T4 (a submission uploaded again loses the rows the new one no longer has).
 * Returns the digest of the rows.
 */
async function writeSubmission(tx: Database, batchId: number, submission: Submission, summary: AefSummary, ownership: { ownerOrganizationId: number | null; isPrivate: boolean }, source: string): Promise<string> {
  const { byTable, rows: checked } = submission;
  const party = summary.party!;
  const version = byTable.t1[0]!.values.version ?? '1';
  await writeRows(tx, specs.raw, checked.map((row) => ({
    batchId, registryId: null, stream: `aef-${row.table}`, source, locator: row.locator, recordKey: null,
    contentHash: sha256(stableJson(row.raw)), payload: row.raw, ...ownership,
  })));
  const tally = (table: AefTable, result: { inserted: number; updated: number; distinct: number }) => {
    summary.tables[table].new += result.inserted;
    summary.tables[table].changed += result.updated;
    summary.tables[table].unchanged += result.distinct - result.inserted - result.updated;
  };
  const own = (values: Record<string, unknown>) => ({ ...values, party, ...ownership, batchId });
  const t1 = await writeRows(tx, specs.t1, byTable.t1.map((r) => own({ ...r.values, version })));
  tally('t1', t1);
  const submissionId = t1.ids[0]!;
  tally('t2', await writeRows(tx, specs.t2, byTable.t2.map((r) => own({ ...r.values, version: r.values.version ?? '1', metric: r.values.metric ?? 'GHG' }))));
  tally('t5', await writeRows(tx, specs.t5, byTable.t5.map((r) => own(r.values))));
  tally('ca', await writeRows(tx, specs.ca, byTable.ca.map((r) => own({ ...r.values, metric: r.values.metric ?? 'GHG' }))));
  const authorizationIds = new Map((await rows<{ id: number; party: string; authorization_id: string }>(tx, sql`select id::float8 as id, party, authorization_id
    from aef_authorizations where ${ownedBy('aef_authorizations', ownership.ownerOrganizationId)}
    order by version`)).map((a) => [`${a.party}\n${a.authorization_id}`, a.id]));
  for (const table of ['t3', 't4'] as const) {
    const written = await writeRows(tx, specs[table], byTable[table].map((r) => own({
      ...r.values,
      metric: r.values.metric ?? 'GHG',
      ...(table === 't4' ? { snapshotYear: summary.reportYear } : {}),
      // The same ITMOs can be held at the end of two years: a row is itself within its submission.
      rowKey: sha256(stableJson({ reportYear: summary.reportYear, version, ...r.values })),
      submissionId,
      authorizationRowId: r.values.authorizationId
        ? authorizationIds.get(`${(r.values.firstTransferringPartyId as string | null) ?? party}\n${r.values.authorizationId}`) ?? null : null,
    })));
    tally(table, written);
    const target = table === 't3' ? aefActions : aefHoldings;
    const removed = await tx.delete(target).where(and(eq(target.submissionId, submissionId),
      sql`not (${target.id} = any(${bigintArray(written.ids)}))`)).returning({ id: target.id });
    summary.tables[table].removed += removed.length;
  }
  // The units its actions and holdings reach are tagged authorized, first-transferred, adjusted (jobs/tags.ts).
  await deriveAefTags(tx);
  return sha256(checked.map((r) => stableJson(r.values)).join('\n'));
}

/** Ingests one AEF upload (the files together are one submission) as one batch. */
export async function ingestAef(db: Database, paths: string[], options: AefUploadOptions = {}): Promise<AefSummary> {
  const source = paths.map((p) => basename(p)).join(', ');
  const ownership = { ownerOrganizationId: options.ownerOrganizationId ?? null, isPrivate: options.isPrivate ?? false };
  const run = await BatchRun.start(db, {
    kind: 'upload', connector: 'article6-aef', source,
    ownerOrganizationId: options.ownerOrganizationId, isPrivate: options.isPrivate, apiKeyId: options.apiKeyId,
  });
  const summary: AefSummary = {
    batchId: run.id, status: 'failed', digest: null, party: null, reportYear: null, rowsRead: 0,
    tables: { t1: counts(), t2: counts(), t3: counts(), t4: counts(), t5: counts(), ca: counts() }, errors: [], warnings: [],
  };
  const outcome = () => ({
    counts: Object.fromEntries(Object.entries(summary.tables).flatMap(([t, c]) => Object.entries(c).map(([k, n]) => [`${t}${k[0]!.toUpperCase()}${k.slice(1)}`, n]))),
    errors: [...summary.errors, ...summary.warnings].slice(0, MAX_ERRORS),
  });
  try {
    const submission = await readSubmission(paths);
    summary.rowsRead = submission.rows.length;
    summary.errors.push(...submission.errors);
    const t1 = submission.byTable.t1[0]?.values;
    summary.party = (t1?.party as string | undefined) ?? null;
    summary.reportYear = (t1?.reportYear as number | undefined) ?? null;
    if (summary.party) {
      const crossed = await crossCheckSubmission(db, submission, summary.party, ownership.ownerOrganizationId);
      summary.errors.push(...crossed.errors);
      summary.warnings.push(...crossed.warnings);
    }
    if (summary.errors.length > 0) await run.fail(`${summary.errors.length} error(s) in the AEF tables; nothing from this upload was stored`, outcome());
    summary.digest = (await run.commit((tx) => writeSubmission(tx, run.id, submission, summary, ownership, source), { preview: options.preview, outcome })) ?? null;
  } catch (error) {
    summary.failure = (error as Error).message;
    if (!(error instanceof BatchFailed)) await run.fail(summary.failure, outcome()).catch(() => undefined);
    throw new AefRejected(summary);
  }
  summary.status = options.preview ? 'preview' : 'committed';
  if (options.preview) return summary;
  // The corresponding-adjustment rules over the AEF data as it now stands; the upload stands whatever they find.
  try {
    summary.check = await runChecks(db, { kinds: AEF_RULES });
  } catch (error) {
    summary.checkFailure = (error as Error).message;
  }
  return summary;
}

/** The rules an AEF upload can change the findings of. */
export const AEF_RULES = ['ca-unreported-first-transfer', 'ca-quantity-mismatch', 'ca-range-mismatch', 'ca-mirror-missing', 'ca-unauthorized-use'] as const;
