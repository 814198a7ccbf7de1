import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asc } from 'drizzle-orm';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { article6Command } from '../../../cli/article6.ts';
import { AEF_TABLES, idRange, isAefFile, rangeSize, readAefFile, readAefRow, type AefTable } from '../../../connectors/article6/aef.ts';
import { aefWorkbook, exportAef } from '../../../jobs/article6/aef-export.ts';
import { AefRejected, ingestAef, type AefSummary } from '../../../jobs/article6/aef-upload.ts';
import { consistencyChecks } from '../../../jobs/article6/consistency.ts';
import { aefActions, aefAuthorizations, aefAuthorizedEntities, aefHoldings, aefSubmissions } from '../../../schema/db/index.ts';
import type { Database } from '../../../schema/database.ts';
import { startApi } from '../../helpers/api.ts';
import { openTestDatabase, type TestDatabase } from '../../helpers/database.ts';

// The AEF in its official spreadsheet layouts, read into the same ledger rows as the CAD Trust v2 form.
//
// - The 2024 layout (draft AEF of decision 6/CMA.4): the UNDP national registry's real, empty templates
//   (test/fixtures/article6/undp_aef_*_template.xlsx, unchanged) filled here with the rows of the CA0004
//   worked example (ca0004-vut-2025.json, itself constructed), under the templates' own titles. What
//   the filling adds is constructed: the Party and the Parties of each row written as names
//   ("Vanuatu", "Switzerland"), dates as dd/mm/yyyy, "NA" where the layout's column does not apply,
//   the record IDs, and one action type in the UNDP registry's code (`firstTransfer`).
// - The current layout (CMA.6 "second iteration"): no real workbook of it was available, so the test
//   builds one from what two independent readers of the official workbook assert: the UNFCCC-side
//   syntax checker frankcnng/consistency (AEFSyntax/aef_sheets.py: sheet names, leaf titles, spacer
//   columns, CARP placeholders) and xeptagondev/carbon-registry-undp libs/aef-v2 (src/spec/field-spec.ts
//   and src/export/template.spec.ts: header rows 7/8/7/10, gutter column A, transposed Table 1, group
//   bands above the leaf row, controlled vocabulary pre-filled in the data area). The text of the group
//   bands is not documented: the bands here are constructed.

const fixtures = new URL('../../fixtures/article6/', import.meta.url).pathname;
const fixture = join(fixtures, 'ca0004-vut-2025.json');
const ACTIONS_TEMPLATE = join(fixtures, 'undp_aef_actions_template.xlsx');
const HOLDINGS_TEMPLATE = join(fixtures, 'undp_aef_holdings_template.xlsx');

type Row = Record<string, string | number | null>;
type Doc = Record<string, Row[]>;
const document = (): Doc => JSON.parse(readFileSync(fixture, 'utf8')) as Doc;

/** The JSON's rows of a table without their prefix: `{ Date: '2025-02-14', … }`. */
const fieldsOf = (doc: Doc, table: AefTable): Row[] => (doc[AEF_TABLES[table].prefix] ?? []).map((row) =>
  Object.fromEntries(Object.entries(row).map(([k, v]) => [k.slice(AEF_TABLES[table].prefix.length), v])));

/** What the ledger holds for the JSON's rows of a table: the values readAefRow reads from them. */
const expectedRows = (doc: Doc, table: AefTable) => (doc[AEF_TABLES[table].prefix] ?? []).map((row) => readAefRow({
  table, locator: table, values: Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v === null ? '' : String(v)])),
}).row.values);

const pick = (row: Record<string, unknown>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, row[k] ?? null]));

/** dd/mm/yyyy, as the AEF writes dates. */
const dmy = (iso: unknown) => String(iso).split('-').reverse().join('/');
/** Parties as the UNDP registry writes the heading's Party: by name (constructed for the rows too). */
const PARTY_NAMES: Record<string, string> = { VUT: 'Vanuatu', CHE: 'Switzerland' };
const partyName = (code: unknown) => (code ? PARTY_NAMES[String(code)]! : 'NA');

async function rejected(promise: Promise<AefSummary>): Promise<AefSummary> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AefRejected) return error.summary;
    throw error;
  }
  throw new Error('the upload was accepted');
}

// ---- the 2024 layout: the real UNDP templates, filled -------------------------------------------------

const titleText = (value: ExcelJS.CellValue): string => {
  const text = value && typeof value === 'object' && 'richText' in value ? value.richText.map((r) => r.text).join('') : String(value ?? '');
  return text.replace(/\u00A0/g, ' ').replace(/\s+/g, ' ').trim();
};

/** Fills a copy of a UNDP template: each row's values under the template's titles, from the row below the header. */
async function fillTemplate(template: string, out: string, headerRow: number, rows: Record<string, ExcelJS.CellValue>[], heading?: { party: string; year: number }): Promise<string> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.readFile(template);
  const sheet = workbook.worksheets[0]!;
  const columns = new Map<string, number>();
  sheet.getRow(headerRow).eachCell({ includeEmpty: true }, (cell, col) => {
    const title = titleText(cell.value);
    if (title && !columns.has(title)) columns.set(title, col);
  });
  if (heading) {
    sheet.getCell('B3').value = heading.party;
    sheet.getCell('B4').value = heading.year;
  }
  rows.forEach((row, i) => {
    for (const [title, value] of Object.entries(row)) {
      const col = columns.get(title);
      if (col === undefined) throw new Error(`the template has no column "${title}"`);
      sheet.getCell(headerRow + 1 + i, col).value = value;
    }
  });
  await workbook.xlsx.writeFile(out);
  return out;
}

/** The CA0004 example as the 2024 layout holds it: two workbooks, the authorization repeated on every row. */
async function write2024(dir: string, doc: Doc, change: (actions: Record<string, ExcelJS.CellValue>[]) => void = () => undefined): Promise<string[]> {
  const [authorization] = fieldsOf(doc, 't2');
  const authorizationColumns = {
    'Sector(s)': authorization!.Sector!, 'Activity type(s)': authorization!.ActivityType!, 'Date of authorization': dmy(authorization!.Date),
    'Authorization ID': authorization!.Id!, 'Purposes for authorization': authorization!.PurposesForAuthorization!,
    'OIMP authorized by the Party': authorization!.OimpAuthorizedParty!, 'First transfer definition': authorization!.FirstTransferDefinitionOimp!,
  };
  const unitBlock = (r: Row) => ({
    'Cooperative approach': r.CooperativeApproachId!, 'First unique identifier': r.ItmoFirstId!, 'Last unique identifier': r.ItmoLastId!,
    'Underlying unit block start ID': r.UnitFirstId!, 'Underlying unit block last ID': r.UnitLastId!, Metric: r.Metric!,
    'Quantity (expressed in metric)': 'NA', 'Quantity (t CO2 eq)': r.QuantityTCo2!, 'Conversion factor (reporting Party)': 'NA',
    'First transferring participating Party': partyName(r.FirstTransferringPartyId), Vintage: r.VintageYear!,
  });
  const actions = fieldsOf(doc, 't3').map((r, i) => ({
    'Article 6 database record ID': `VUT-A6-${i + 1}`, ...unitBlock(r), ...authorizationColumns,
    'Action date': dmy(r.Date),
    // One in the AEF's words, one in the UNDP registry's code.
    'Action type': i === 0 ? String(r.Type) : 'firstTransfer',
    'Transferring participating Party': partyName(r.TransferringPartyId), 'Acquiring participating Party': partyName(r.AcquiringPartyId),
    'Purposes for cancellation': r.PurposeOfUseOimp ?? 'NA', 'Using participating Party or authorized entity or entities': 'NA', 'First transfer': 'NA',
  } as Record<string, ExcelJS.CellValue>));
  change(actions);
  const holdings = fieldsOf(doc, 't4').map((r, i) => ({ 'Article 6 database record ID': `VUT-A6-H${i + 1}`, ...unitBlock(r), ...authorizationColumns }));
  const [submission] = fieldsOf(doc, 't1');
  return [
    await fillTemplate(ACTIONS_TEMPLATE, join(dir, 'aef_actions_2025.xlsx'), 10, actions, { party: partyName(submission!.Party), year: Number(submission!.ReportYear) }),
    await fillTemplate(HOLDINGS_TEMPLATE, join(dir, 'aef_holdings_2025.xlsx'), 6, holdings),
  ];
}

// ---- the current layout: built from the documented structure -------------------------------------------

/** Leaf titles in order, '' for a spacer column (frankcnng/consistency aef_sheets.py; xeptagondev aef-v2 field-spec.ts). */
const CURRENT: Record<'t2' | 't3' | 't4' | 't5', { sheet: string; title: string; header: number; columns: [string, string][] }> = {
  t2: {
    sheet: 'Table 2 Authorizations', title: 'Table 2: Authorizations', header: 7, columns: [
      ['Authorization ID', 'Id'], ['Date of authorization', 'Date'], ['Cooperative approach ID', 'CooperativeApproachId'], ['Version of the authorization', 'Version'],
      ['', ''], ['Authorized quantity', 'Quantity'], ['Metric', 'Metric'], ['Applicable GWP value(s)', 'GwpValue'], ['Applicable non-GHG metric', 'ApplicableNonGhgMetric'],
      ['Sector(s)', 'Sector'], ['Activity type(s)', 'ActivityType'], ['Purposes for authorization', 'PurposesForAuthorization'],
      ['Authorized Party(ies) ID', 'AuthorizedPartyId'], ['Authorized entity(ies) ID', 'AuthoziedEntityId'], ['OIMP authorized by the Party', 'OimpAuthorizedParty'],
      ['Authorized timeframe', 'AuthorizedTimeframe'], ['Authorization terms and conditions', 'AuthorizationTerms'],
      ['Authorization documentation', 'AuthorizationDocumentation'], ['First transfer definition for OIMP', 'FirstTransferDefinitionOimp'],
      ['Additional explanatory information', 'AdditionalInformation'],
    ],
  },
  t3: {
    sheet: 'Table 3 Actions', title: 'Table 3: Actions', header: 8, columns: [
      ['Action date', 'Date'], ['Action type', 'Type'], ['Action subtype', 'Subtype'], ['Cooperative approach ID', 'CooperativeApproachId'],
      ['Authorization ID', 'AuthorizationId'], ['First transferring participating Party ID', 'FirstTransferringPartyId'], ['Party ITMO registry ID', 'PartyItmoRegistryId'],
      ['First ID', 'ItmoFirstId'], ['Last ID', 'ItmoLastId'], ['', ''], ['Underlying unit registry ID', 'UnitRegistryId'], ['First unit ID', 'UnitFirstId'],
      ['Last unit ID', 'UnitLastId'], ['', ''], ['Metric', 'Metric'], ['Applicable GWP value(s)', 'GwpValue'], ['Applicable non-GHG metric', 'ApplicableNonGhgMetric'],
      ['Quantity (t CO2 eq)', 'QuantityTCo2'], ['Quantity (in non-GHG metric)', 'QuantityNonGhg'], ['', ''], ['Mitigation type', 'MitigationType'], ['Vintage', 'VintageYear'],
      ['', ''], ['Transferring participating Party ID', 'TransferringPartyId'], ['Acquiring participating Party ID', 'AcquiringPartyId'], ['', ''],
      ['Purpose for which the ITMO has been used towards or cancelled for OIMP', 'PurposeOfUseOimp'], ['Using/cancelling participating Party ID', 'UsingParticipatingPartyId'],
      ['Using/cancelling authorized entity ID', 'UsingAuthorizedEntityId'], ['Calendar year for which the ITMOs are used towards the Party\'s NDC', 'ItmoUsedYear'], ['', ''],
      ['Result of the consistency checks', 'ConsistencyCheckResult'], ['Additional explanatory information', 'AdditionalInformation'],
    ],
  },
  t4: {
    sheet: 'Table 4 Holdings', title: 'Table 4: Holdings', header: 7, columns: [
      ['Cooperative approach ID', 'CooperativeApproachId'], ['Authorization ID', 'AuthorizationId'], ['First transferring participating Party ID', 'FirstTransferringPartyId'],
      ['Party ITMO registry ID', 'PartyItmoRegistryId'], ['First ID', 'ItmoFirstId'], ['Last ID', 'ItmoLastId'], ['', ''], ['Underlying unit registry ID', 'UnitRegistryId'],
      ['First unit ID', 'UnitFirstId'], ['Last unit ID', 'UnitLastId'], ['', ''], ['Metric', 'Metric'], ['Applicable GWP value(s)', 'GwpValue'],
      ['Applicable non-GHG metric', 'ApplicableNonGhgMetric'], ['Quantity (t CO2 eq)', 'QuantityTCo2'], ['Quantity (in non-GHG metric)', 'QuantityNonGhg'], ['', ''],
      ['Mitigation type', 'MitigationType'], ['Vintage', 'VintageYear'],
    ],
  },
  t5: {
    sheet: 'Table 5 Auth. entities', title: 'Table 5: Authorized entities', header: 10, columns: [
      ['Date of the authorization', 'AuthorizationDate'], ['Name', 'Name'], ['Country of incorporation', 'IncorporationCountry'], ['Identification number', 'Id'],
      ['Cooperative approach ID', 'CooperativeApproachId'], ['Conditions', 'Conditions'], ['Change and revocation conditions', 'ChangeConditions'],
      ['Additional explanatory information', 'AdditionalInformation'],
    ],
  },
};

/** How a value goes into the built workbook: dates as real Excel dates, dd/mm/yyyy text or ISO text (all three occur). */
const excelDate = (iso: unknown) => new Date(`${String(iso)}T00:00:00Z`);

async function writeCurrent(path: string, doc: Doc, options: { dropColumn?: [AefTable, string]; change?: (tables: Record<string, Row[]>) => void } = {}): Promise<string> {
  const tables = { t2: fieldsOf(doc, 't2'), t3: fieldsOf(doc, 't3'), t4: fieldsOf(doc, 't4'), t5: fieldsOf(doc, 't5') };
  options.change?.(tables);
  const workbook = new ExcelJS.Workbook();
  const index = workbook.addWorksheet('Index');
  index.getCell('B2').value = 'Agreed electronic format';
  ['Table 1: Submission', ...Object.values(CURRENT).map((t) => t.title)].forEach((t, i) => { index.getCell(4 + i, 2).value = t; });
  const summary = workbook.addWorksheet('Summary information');
  // The reference lists of the template: a table's title and its fields down column B (never data).
  summary.getCell('B2').value = 'Table 1: Submission';
  ['Party', 'Version', 'Reported year'].forEach((label, i) => { summary.getCell(3 + i, 2).value = label; });
  summary.getCell('B7').value = 'Table 3: Actions';
  CURRENT.t3.columns.filter(([t]) => t).forEach(([title], i) => { summary.getCell(8 + i, 2).value = title; });

  // Table 1, transposed: labels down column B, values in column C; the CARP's cells keep its placeholders.
  const t1 = workbook.addWorksheet('Table 1 Submission');
  t1.getCell('B2').value = 'Table 1: Submission';
  const [submission] = fieldsOf(doc, 't1');
  const labels: [string, ExcelJS.CellValue][] = [
    ['Party', partyName(submission!.Party)], ['Version', Number(submission!.Version)], ['Reported year', submission!.ReportYear],
    ['Date of submission', excelDate(submission!.SubmissionDate)], ['Review status of the initial report', '{Information in this field is populated by the CARP}'],
    ['Result of the consistency check of this AEF submission', '{Information in this field is populated by the CARP}'],
    ['First year of the NDC implementation period', submission!.NdcFirstYear], ['Last year of the NDC implementation period', submission!.NdcLastYear],
    ['Reference to the Article 6 technical expert review report of the initial report', '{Link to be produced by the CARP}'],
  ];
  labels.forEach(([label, value], i) => {
    t1.getCell(4 + i, 2).value = label;
    t1.getCell(4 + i, 3).value = value;
  });

  for (const [table, spec] of Object.entries(CURRENT) as ['t2' | 't3' | 't4' | 't5', (typeof CURRENT)['t2']][]) {
    const sheet = workbook.addWorksheet(spec.sheet);
    sheet.getCell('B2').value = spec.title;
    const columns = spec.columns.filter(([title]) => !(options.dropColumn?.[0] === table && options.dropColumn[1] === title));
    // Two band rows above the leaf titles (constructed texts): the first column's title merged down from
    // the top band, as the UNDP template merges its ungrouped columns; a band over the ITMO block; and a
    // second band repeating four titles, which the leaf row below overrides.
    const top = spec.header - 2;
    sheet.getCell(top, 2).value = columns[0]![0];
    sheet.mergeCells(top, 2, spec.header, 2);
    columns.forEach(([title], i) => {
      const col = 2 + i;
      if (i > 0) sheet.getCell(spec.header, col).value = title || null;
      if (['First ID', 'Last ID'].includes(title)) sheet.getCell(top, col).value = 'ITMO block';
      if (['Cooperative approach ID', 'Authorization ID', 'First ID', 'Last ID', 'Name', 'Identification number', 'Conditions', 'Metric'].includes(title)) {
        sheet.getCell(spec.header - 1, col).value = title;
      }
    });
    const rows = tables[table];
    rows.forEach((row, n) => {
      columns.forEach(([title, field], i) => {
        if (!title || row[field] === undefined || row[field] === null) return;
        const value = row[field];
        let cell: ExcelJS.CellValue = value;
        if (field === 'Date' && table === 't2') cell = dmy(value);
        else if (field === 'Date' || field === 'AuthorizationDate') cell = excelDate(value);
        else if (/PartyId$/.test(field)) cell = partyName(value);
        sheet.getCell(spec.header + 1 + n, 2 + i).value = cell;
      });
    });
    // A blank template's controlled vocabulary left below the data: rows with no identifying value.
    const vocabulary: Record<string, string[]> = {
      'Action type': ['Transfer', 'Use', 'Cancellation'], 'Metric': ['GHG', 'non-GHG'], 'Mitigation type': ['Emission reductions', 'Removals'],
      'Purposes for authorization': ['NDC', 'OIMP', 'NDC and OIMP'], 'First transfer definition for OIMP': ['Authorization', 'Issuance', 'Use or cancellation'],
    };
    columns.forEach(([title], i) => (vocabulary[title] ?? []).forEach((v, k) => { sheet.getCell(spec.header + 1 + rows.length + k, 2 + i).value = v; }));
  }
  await workbook.xlsx.writeFile(path);
  return path;
}

// ---- tests ---------------------------------------------------------------------------------------------

/** The ledger's rows of one submission, by table, in a stable order. */
async function ledger(db: Database) {
  return {
    t1: await db.select().from(aefSubmissions),
    t2: await db.select().from(aefAuthorizations).orderBy(asc(aefAuthorizations.authorizationId)),
    t3: await db.select().from(aefActions).orderBy(asc(aefActions.actionDate)),
    t4: await db.select().from(aefHoldings).orderBy(asc(aefHoldings.itmoFirstId)),
    t5: await db.select().from(aefAuthorizedEntities).orderBy(asc(aefAuthorizedEntities.entityId)),
  };
}

const T1_COLUMNS = ['party', 'version', 'reportYear', 'submittedOn', 'ndcFirstYear', 'ndcLastYear'];
/** The T3 and T4 columns the 2024 layout holds; the others (subtype, registries, mitigation type…) are new in the current one. */
const RANGE_2024 = ['cooperativeApproachId', 'authorizationId', 'firstTransferringPartyId', 'itmoFirstId', 'itmoLastId', 'unitFirstId', 'unitLastId', 'metric',
  'quantityTco2', 'vintageYear'];
const ACTION_2024 = ['actionDate', 'actionType', ...RANGE_2024, 'quantityNonGhg', 'transferringPartyId', 'acquiringPartyId', 'purposeOfUseOimp',
  'usingParticipatingPartyId', 'usingAuthorizedEntityId'];
const AUTHORIZATION_2024 = ['authorizationId', 'authorizedOn', 'cooperativeApproachId', 'metric', 'sector', 'activityType', 'purposes', 'oimpAuthorizedParty',
  'firstTransferDefinitionOimp'];

describe('AEF official layouts', () => {
  let t: TestDatabase;
  let db: Database;
  let dir: string;
  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    dir = mkdtempSync(join(tmpdir(), 'tally-aef-layouts-'));
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const clear = async () => {
    for (const table of [aefActions, aefHoldings, aefAuthorizedEntities, aefAuthorizations, aefSubmissions]) await db.delete(table);
  };

  it('when an ITMO range is written as unique identifiers, or with CAD Trust\'s misspelled key, then it is read', () => {
    expect(rangeSize('CA0005-GUY01-GUY-1,000-2021', 'CA0005-GUY01-GUY-1,999-2021')).toBe(1000);
    expect(idRange('CA0005-GUY01-GUY-1-2021', 'CA0005-GUY01-GUY-400-2021')).toMatchObject({ start: 1, end: 400 });
    expect(rangeSize('CA0005-GUY01-GUY-1-2021', 'CA0005-GUY01-GUY-400-2022')).toBeUndefined(); // two vintages: not one range
    expect(rangeSize('1', '400')).toBe(400);
    const read = readAefRow({ table: 't4', locator: 'x', values: { aefT4HoldingsCoopoerativeApproachId: 'CA0004', aefT4HoldingsItmoFirstId: '1', aefT4HoldingsItmoLastId: '2', aefT4HoldingsQuantityTCo2: '2' } });
    expect(read.errors).toEqual([]);
    expect(read.row.values.cooperativeApproachId).toBe('CA0004');
  });

  it('when the real UNDP templates are read empty, then their header rows are found and they hold no rows', async () => {
    expect(await isAefFile(ACTIONS_TEMPLATE)).toBe(true);
    expect(await isAefFile(HOLDINGS_TEMPLATE)).toBe(true);
    const actions = await readAefFile(ACTIONS_TEMPLATE);
    expect(actions.layout).toBe('aef-2024');
    expect([...actions.tables].sort()).toEqual(['t1', 't3']);
    // Table 1's cells still hold the template's own words.
    expect(actions.rows).toEqual([expect.objectContaining({ table: 't1', values: { aefT1SubmissionParty: 'Party', aefT1SubmissionReportYear: 'Year' } })]);
    const holdings = await readAefFile(HOLDINGS_TEMPLATE);
    expect({ tables: [...holdings.tables], rows: holdings.rows }).toEqual({ tables: ['t4'], rows: [] });
  });

  it('when the CA0004 submission comes in the 2024 layout (actions and holdings workbooks), then the ledger holds its actions and holdings as from the JSON', async () => {
    await clear();
    const doc = document();
    const files = await write2024(dir, doc);
    for (const file of files) expect(await isAefFile(file)).toBe(true);
    const summary = await ingestAef(db, files);
    expect(summary).toMatchObject({ status: 'committed', party: 'VUT', reportYear: 2025, errors: [], warnings: [] });
    expect(summary.tables).toMatchObject({ t1: { new: 1 }, t2: { new: 1 }, t3: { new: 2 }, t4: { new: 1 }, t5: { new: 0 } });

    const held = await ledger(db);
    const t1 = expectedRows(doc, 't1')[0]!;
    // The 2024 heading has the Party and the year only.
    expect(pick(held.t1[0]!, T1_COLUMNS)).toEqual({ ...pick(t1, ['party', 'reportYear']), version: '1', submittedOn: null, ndcFirstYear: null, ndcLastYear: null });
    expect(held.t3.map((r) => pick(r, ACTION_2024))).toEqual(expectedRows(doc, 't3').map((r) => pick(r, ACTION_2024)));
    expect(held.t4.map((r) => pick(r, [...RANGE_2024, 'snapshotYear']))).toEqual(expectedRows(doc, 't4').map((r) => ({ ...pick(r, RANGE_2024), snapshotYear: 2025 })));
    expect(held.t3.every((r) => r.authorizationRowId === held.t2[0]!.id) && held.t4[0]!.authorizationRowId === held.t2[0]!.id).toBe(true);
    // Totals as the JSON's: the first transfers and the holdings.
    const sum = (list: Row[], key: string) => list.reduce((s, r) => s + Number(r[key]), 0);
    expect(held.t3.filter((r) => r.actionType === 'First transfer').reduce((s, r) => s + r.quantityTco2, 0))
      .toBe(sum(fieldsOf(doc, 't3').filter((r) => r.Type === 'First transfer'), 'QuantityTCo2'));
    expect(held.t4.reduce((s, r) => s + r.quantityTco2, 0)).toBe(sum(fieldsOf(doc, 't4'), 'QuantityTCo2'));

    // One authorization made from the rows' authorization columns, with no quantity: the layout has none.
    expect(held.t2.map((r) => pick(r, [...AUTHORIZATION_2024, 'quantity', 'timeframeStart']))).toEqual(
      expectedRows(doc, 't2').map((r) => ({ ...pick(r, AUTHORIZATION_2024), quantity: null, timeframeStart: null })));
    // With no authorized quantity stated, the check against it does not apply (it is not 0).
    const checks = Object.fromEntries((await consistencyChecks(db, 'VUT', { reportYear: 2025 })).map((r) => [r.check, r.outcome]));
    expect(checks).toMatchObject({ 'authorized-quantity': 'not-applicable', 'first-transfer-once': 'pass', 'range-quantity': 'pass' });

    // The API says so too: no quantity (not 0), and the year counts one authorization that states none.
    const api = await startApi(t.handle);
    try {
      const answer = await api.gql(`{ article6(party: "VUT") { authorizations { authorizationId quantity } summary { year authorized unstatedAuthorizations } } }`);
      expect(answer.errors).toBeUndefined();
      expect(answer.data!.article6.authorizations).toEqual([{ authorizationId: held.t2[0]!.authorizationId, quantity: null }]);
      const year = answer.data!.article6.summary.find((y: { year: number }) => y.year === Number(String(held.t2[0]!.authorizedOn).slice(0, 4)));
      expect(year).toMatchObject({ authorized: 0, unstatedAuthorizations: 1 });
    } finally {
      await api.close();
    }
  });

  it('when the CA0004 submission comes in the current layout, then the ledger holds every row as from the JSON, and the JSON changes nothing', async () => {
    await clear();
    const doc = document();
    const path = await writeCurrent(join(dir, 'AEF_CMA6_second_iteration - Vanuatu 2025.xlsx'), doc);
    expect(await isAefFile(path)).toBe(true);
    const summary = await ingestAef(db, [path]);
    expect(summary).toMatchObject({ status: 'committed', party: 'VUT', reportYear: 2025, errors: [], warnings: [], rowsRead: 6 });
    expect(summary.tables).toMatchObject({ t1: { new: 1 }, t2: { new: 1 }, t3: { new: 2 }, t4: { new: 1 }, t5: { new: 1 } });

    const held = await ledger(db);
    for (const table of ['t1', 't2', 't3', 't4', 't5'] as const) {
      const expected = expectedRows(doc, table);
      expect(held[table].map((r) => pick(r, Object.keys(expected[0]!)))).toEqual(expected);
    }
    // The same rows: the JSON of the submission, uploaded over it, finds every row unchanged.
    const json = await ingestAef(db, [fixture]);
    for (const table of ['t1', 't2', 't3', 't4', 't5'] as const) {
      expect(json.tables[table]).toEqual({ new: 0, changed: 0, unchanged: doc[AEF_TABLES[table].prefix]!.length, removed: 0 });
    }
    const checks = Object.fromEntries((await consistencyChecks(db, 'VUT', { reportYear: 2025 })).map((r) => [r.check, r.outcome]));
    expect(checks).toMatchObject({ 'authorized-quantity': 'pass', 'ca-applied': 'pass', 'first-transfer-once': 'pass', 'range-quantity': 'pass' });
  });

  it('when the submission is exported in the current layout (tally article6 --layout aef) and uploaded again, then nothing changes', async () => {
    // The ledger holds the JSON's submission (previous test), with its corresponding adjustment.
    const path = join(dir, 'export-aef.xlsx');
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      expect(await article6Command(db, ['VUT', '--year', '2025', '--export', path, '--layout', 'aef'])).toBe(0);
    } finally {
      log.mockRestore();
    }
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.readFile(path);
    expect(workbook.worksheets.map((s) => s.name)).toEqual(['Index', 'Summary information', 'Table 1 Submission', 'Table 2 Authorizations', 'Table 3 Actions',
      'Table 4 Holdings', 'Table 5 Auth. entities', 'CA applied']);
    const t1 = workbook.getWorksheet('Table 1 Submission')!;
    expect([t1.getCell('B4').value, t1.getCell('C4').value, t1.getCell('B8').value, t1.getCell('C8').value])
      .toEqual(['Party', 'VUT', 'Review status of the initial report', '{Information in this field is populated by the CARP}']);
    const t3 = workbook.getWorksheet('Table 3 Actions')!;
    expect([t3.getCell('A8').value, t3.getCell('B8').value, t3.getCell('J8').value, t3.getCell('K8').value, t3.getCell('B9').value])
      .toEqual([null, 'Action date', 'Last ID', null, new Date('2025-02-14T00:00:00Z')]);

    const again = await ingestAef(db, [path]);
    expect(again.status).toBe('committed');
    const doc = document();
    for (const [table, c] of Object.entries(again.tables)) {
      expect(c, table).toEqual({ new: 0, changed: 0, unchanged: doc[AEF_TABLES[table as AefTable].prefix]?.length ?? 0, removed: 0 });
    }
    // The default stays the CAD Trust form.
    expect((await aefWorkbook(await exportAef(db, 'VUT', 2025))).worksheets.map((s) => s.name)[0]).toBe('T1 Submission');
  });

  it('when an official workbook has a quantity that is not a number, or lacks a required column, then each row is refused naming its sheet, row and column', async () => {
    const before = await ledger(db);
    const actions2024 = await write2024(dir, document(), (rows) => { rows[1]!['Quantity (t CO2 eq)'] = 'four hundred'; });
    const old = await rejected(ingestAef(db, actions2024));
    expect(old.errors.map((e) => [e.locator, e.code])).toEqual([['aef_actions_2025.xlsx sheet "Actions" row 12', 'invalid-value']]);
    expect(old.errors[0]!.message).toBe('aef_actions_2025.xlsx sheet "Actions" row 12: aefT3ActionsQuantityTCo2 (column I "Quantity (t CO2 eq)"): "four hundred" is not a number');

    const path = await writeCurrent(join(dir, 'malformed.xlsx'), document(), {
      dropColumn: ['t3', 'Quantity (t CO2 eq)'],
      change: (tables) => { tables.t4![0]!.QuantityTCo2 = 'two hundred'; },
    });
    const current = await rejected(ingestAef(db, [path]));
    expect(current.errors.map((e) => [e.locator, e.code])).toEqual([
      ['malformed.xlsx sheet "Table 3 Actions" row 9', 'missing'],
      ['malformed.xlsx sheet "Table 3 Actions" row 10', 'missing'],
      ['malformed.xlsx sheet "Table 4 Holdings" row 8', 'invalid-value'],
    ]);
    expect(current.errors.map((e) => e.message)).toEqual([
      'malformed.xlsx sheet "Table 3 Actions" row 9: aefT3ActionsQuantityTCo2 (no column "Quantity (t CO2 eq)" in the header row 8): is required',
      'malformed.xlsx sheet "Table 3 Actions" row 10: aefT3ActionsQuantityTCo2 (no column "Quantity (t CO2 eq)" in the header row 8): is required',
      'malformed.xlsx sheet "Table 4 Holdings" row 8: aefT4HoldingsQuantityTCo2 (column P "Quantity (t CO2 eq)"): "two hundred" is not a number',
    ]);
    expect(await ledger(db)).toEqual(before);
  });
});
