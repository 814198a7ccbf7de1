import { and, desc, eq, getTableName, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import ExcelJS from 'exceljs';
import { AEF_FIELDS, AEF_TABLES, type AefTable } from '../../connectors/article6/aef.ts';
import { aefActions, aefAuthorizations, aefAuthorizedEntities, aefHoldings, aefSubmissions, correspondingAdjustments } from '../../schema/db/index.ts';
import { ownedBy, visibleTo, type Database } from '../../schema/database.ts';
import { safeCellValue } from '../safe-cell.ts';

// A Party's AEF for a reporting year, as Tally holds it, in the form the upload reads: a JSON document
// keyed by table with CAD Trust v2 field names, or a workbook with one sheet per table. Uploading an
// export again changes nothing.

export type AefDocument = Record<string, Record<string, string | number | null>[]>;

/** A stored row as the table's CAD Trust v2 fields. */
function toFields(table: AefTable, row: Record<string, unknown>): Record<string, string | number | null> {
  const out: Record<string, string | number | null> = {};
  for (const field of AEF_FIELDS[table]) {
    const name = `${AEF_TABLES[table].prefix}${field.name}`;
    if (field.kind === 'timeframe') {
      out[name] = row.timeframeStart == null ? null : `${row.timeframeStart as number} - ${row.timeframeEnd as number}`;
    } else {
      const value = row[field.column];
      out[name] = value === undefined || value === null ? null : typeof value === 'number' ? value : String(value);
    }
  }
  return out;
}

export class AefNotFound extends Error {}

/**
 * The submission of `party` for `reportYear` (its latest version) that `viewer` may see, with its tables:
 * the viewer's own organization's where it has one, and the tables of that same publisher.
 */
export async function exportAef(db: Database, party: string, reportYear: number, viewer: number | null = null): Promise<AefDocument> {
  const [submission] = await db.select().from(aefSubmissions)
    .where(and(eq(aefSubmissions.party, party), eq(aefSubmissions.reportYear, reportYear), visibleTo('aef_submissions', viewer)))
    .orderBy(sql`${aefSubmissions.ownerOrganizationId} is not distinct from ${viewer} desc`, desc(aefSubmissions.version)).limit(1);
  if (!submission) throw new AefNotFound(`no AEF submission of ${party} for ${reportYear}`);
  const visible = (table: PgTable) => and(visibleTo(getTableName(table), viewer), ownedBy(getTableName(table), submission.ownerOrganizationId));
  const authorizations = await db.select().from(aefAuthorizations)
    .where(and(eq(aefAuthorizations.party, party), visible(aefAuthorizations))).orderBy(aefAuthorizations.authorizationId, aefAuthorizations.version);
  const actions = await db.select().from(aefActions).where(and(eq(aefActions.submissionId, submission.id), visible(aefActions))).orderBy(aefActions.actionDate, aefActions.id);
  const holdings = await db.select().from(aefHoldings).where(and(eq(aefHoldings.submissionId, submission.id), visible(aefHoldings))).orderBy(aefHoldings.id);
  const entities = await db.select().from(aefAuthorizedEntities)
    .where(and(eq(aefAuthorizedEntities.party, party), visible(aefAuthorizedEntities))).orderBy(aefAuthorizedEntities.entityId);
  const adjustments = await db.select().from(correspondingAdjustments)
    .where(and(eq(correspondingAdjustments.party, party), visible(correspondingAdjustments))).orderBy(correspondingAdjustments.year, correspondingAdjustments.direction);
  return {
    [AEF_TABLES.t1.prefix]: [toFields('t1', submission)],
    [AEF_TABLES.t2.prefix]: authorizations.map((r) => toFields('t2', r)),
    [AEF_TABLES.t3.prefix]: actions.map((r) => toFields('t3', r)),
    [AEF_TABLES.t4.prefix]: holdings.map((r) => toFields('t4', r)),
    [AEF_TABLES.t5.prefix]: entities.map((r) => toFields('t5', r)),
    [AEF_TABLES.ca.prefix]: adjustments.map((r) => toFields('ca', r)),
  };
}

/** The same document as a workbook: a sheet per table, named as the upload expects, field names as headers. */
export async function aefWorkbook(document: AefDocument): Promise<ExcelJS.Workbook> {
  const workbook = new ExcelJS.Workbook();
  for (const table of Object.keys(AEF_TABLES) as AefTable[]) {
    const { prefix, title } = AEF_TABLES[table];
    const sheet = workbook.addWorksheet(title);
    const headers = AEF_FIELDS[table].map((f) => `${prefix}${f.name}`);
    sheet.addRow(headers).font = { bold: true };
    for (const row of document[prefix] ?? []) sheet.addRow(headers.map((h) => safeCellValue(row[h] ?? null)));
    sheet.columns.forEach((column) => { column.width = 24; });
  }
  return workbook;
}
