import { and, desc, eq, getTableName, sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import ExcelJS from 'exceljs';
import { AEF_FIELDS, AEF_TABLES, type AefTable } from '../../connectors/article6/aef.ts';
import { CURRENT_SUBMISSION, CURRENT_TABLES } from '../../connectors/article6/aef-workbooks.ts';
import { aefActions, aefAuthorizations, aefAuthorizedEntities, aefHoldings, aefSubmissions, correspondingAdjustments } from '../../schema/db/index.ts';
import { ownedBy, visibleTo, type Database } from '../../schema/database.ts';
import { safeCellValue } from '../safe-cell.ts';

// A Party's AEF for a reporting year, as Tally holds it, in a form the upload reads: a JSON document
// keyed by table with CAD Trust v2 field names, a workbook with one sheet per table and those names as
// headers, or a workbook in the current official AEF layout (connectors/article6/aef-workbooks.ts).
// Uploading an export again changes nothing.

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

/** The workbook forms of an export: `cadt`, CAD Trust v2 field names as headers; `aef`, the current official layout. */
export type AefWorkbookLayout = 'cadt' | 'aef';
export const AEF_WORKBOOK_LAYOUTS: readonly AefWorkbookLayout[] = ['cadt', 'aef'];

/**
 * The same document as a workbook. `cadt` (the default): a sheet per table, named as the upload
 * expects, field names as headers. `aef`: the current official layout.
 */
export async function aefWorkbook(document: AefDocument, layout: AefWorkbookLayout = 'cadt'): Promise<ExcelJS.Workbook> {
  if (layout === 'aef') return officialWorkbook(document);
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

const kindOf = (table: AefTable, name: string) => AEF_FIELDS[table].find((f) => f.name === name)?.kind;

/** A value as its cell: dates as Excel dates shown dd/mm/yyyy (as the AEF writes them), text made safe. */
function officialCell(cell: ExcelJS.Cell, table: AefTable, name: string, value: string | number | null | undefined): void {
  if (value === null || value === undefined || value === '') return;
  if (kindOf(table, name) === 'date' && typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value)) {
    cell.value = new Date(`${value}T00:00:00Z`);
    cell.numFmt = 'dd/mm/yyyy';
    return;
  }
  cell.value = safeCellValue(value);
}

const TITLE_FONT = { bold: true, size: 12 };
/** Column A is the layout's gutter: titles, labels and tables start in column B. */
const FIRST_COLUMN = 2;

/**
 * The document in the current official AEF layout (CMA.6): the sheets Index, Summary information,
 * Table 1 Submission (transposed: labels in column B, values in column C, the CARP's fields with its
 * placeholders), Tables 2–5 with their leaf titles on the rows of the layout, the spacer columns left
 * blank, data below. Group bands above the titles are not written (their text is not documented).
 * The corresponding adjustments, which the AEF has no table for, follow on a sheet "CA applied" in the
 * CAD Trust form.
 */
function officialWorkbook(document: AefDocument): ExcelJS.Workbook {
  const workbook = new ExcelJS.Workbook();
  const index = workbook.addWorksheet('Index');
  index.getCell(2, FIRST_COLUMN).value = 'Agreed electronic format (AEF)';
  index.getCell(2, FIRST_COLUMN).font = TITLE_FONT;
  [CURRENT_SUBMISSION.title, ...CURRENT_TABLES.map((t) => t.title)].forEach((title, i) => { index.getCell(4 + i, FIRST_COLUMN).value = title; });
  index.getColumn(FIRST_COLUMN).width = 40;

  const summary = workbook.addWorksheet('Summary information');
  let line = 2;
  for (const [title, labels] of [
    [CURRENT_SUBMISSION.title, CURRENT_SUBMISSION.fields.map((f) => f.label)] as const,
    ...CURRENT_TABLES.map((t) => [t.title, t.columns.flatMap((col) => (col ? [col.title] : []))] as const),
  ]) {
    summary.getCell(line, FIRST_COLUMN).value = title;
    summary.getCell(line, FIRST_COLUMN).font = { bold: true };
    line += 1;
    for (const label of labels) summary.getCell(line++, FIRST_COLUMN).value = label;
    line += 1;
  }
  summary.getColumn(FIRST_COLUMN).width = 60;

  const t1 = workbook.addWorksheet(CURRENT_SUBMISSION.sheet);
  t1.getCell(2, FIRST_COLUMN).value = CURRENT_SUBMISSION.title;
  t1.getCell(2, FIRST_COLUMN).font = TITLE_FONT;
  const submission = document[AEF_TABLES.t1.prefix]?.[0] ?? {};
  CURRENT_SUBMISSION.fields.forEach((field, i) => {
    const row = CURRENT_SUBMISSION.firstRow + i;
    t1.getCell(row, FIRST_COLUMN).value = field.label;
    const value = submission[`${AEF_TABLES.t1.prefix}${field.field}`];
    if (field.carp && (value === null || value === undefined)) t1.getCell(row, FIRST_COLUMN + 1).value = field.carp;
    else officialCell(t1.getCell(row, FIRST_COLUMN + 1), 't1', field.field, value);
  });
  t1.getColumn(FIRST_COLUMN).width = 60;
  t1.getColumn(FIRST_COLUMN + 1).width = 40;

  for (const spec of CURRENT_TABLES) {
    const sheet = workbook.addWorksheet(spec.sheet);
    const prefix = AEF_TABLES[spec.table].prefix;
    sheet.getCell(2, FIRST_COLUMN).value = spec.title;
    sheet.getCell(2, FIRST_COLUMN).font = TITLE_FONT;
    spec.columns.forEach((col, i) => {
      const column = sheet.getColumn(FIRST_COLUMN + i);
      column.width = col ? 22 : 3;
      if (!col) return;
      const cell = sheet.getCell(spec.headerRow, FIRST_COLUMN + i);
      cell.value = col.title;
      cell.font = { bold: true };
      cell.alignment = { wrapText: true, vertical: 'top' };
    });
    (document[prefix] ?? []).forEach((row, n) => {
      spec.columns.forEach((col, i) => {
        if (col?.field) officialCell(sheet.getCell(spec.headerRow + 1 + n, FIRST_COLUMN + i), spec.table, col.field, row[`${prefix}${col.field}`]);
      });
    });
  }

  const adjustments = document[AEF_TABLES.ca.prefix] ?? [];
  if (adjustments.length > 0) {
    const sheet = workbook.addWorksheet(AEF_TABLES.ca.title);
    sheet.getCell(1, 1).value = 'Corresponding adjustments applied (not an AEF table; CAD Trust v2 form, as Tally exports it)';
    const headers = AEF_FIELDS.ca.map((f) => `${AEF_TABLES.ca.prefix}${f.name}`);
    sheet.getRow(2).values = headers;
    sheet.getRow(2).font = { bold: true };
    adjustments.forEach((row, n) => { sheet.getRow(3 + n).values = headers.map((h) => safeCellValue(row[h] ?? null)); });
    sheet.columns.forEach((column) => { column.width = 24; });
  }
  return workbook;
}
