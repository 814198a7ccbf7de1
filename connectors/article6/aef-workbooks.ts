import { basename } from 'node:path';
import { resolveCountry } from '../../schema/taxonomy/countries.ts';
import { normalizeHeader } from '../runtime/csv.ts';
import { dateValue } from '../runtime/values.ts';
import { excelSerialDate, readXlsxCells } from '../runtime/xlsx.ts';
import { AEF_FIELDS, AEF_TABLES, aefTableOf, aefTableOfHeaders, type AefFile, type AefRawRow, type AefTable } from './aef.ts';

// The Article 6.2 AEF as governments hold it: the official spreadsheet layouts, with human column
// titles under merged group bands, read into the same rows as the CAD Trust v2 form (AefRawRow keyed
// by CAD Trust v2 field names), so every check of an upload applies to them unchanged.
//
// - The 2024 layout: the draft AEF of decision 6/CMA.4 (annex VII), "Table 1: Heading" (Party,
//   Reported year), "Table 2: Actions" (26 columns under three header rows) and "Table 3: Holdings".
//   Source: the UNDP national carbon registry's templates (undp/undp-national-carbon-registry,
//   backend/services/libs/shared/src/templates/aef_actions_template.xlsx and
//   aef_holdings_template.xlsx, copied in test/fixtures/article6/) and its export service; the printed
//   layout with its footnotes in undp/carbon-library (annual.report.gen.ts). Every Actions row repeats
//   its authorization's attributes (date, sectors, activity types, purposes, OIMP, first transfer
//   definition): one T2 authorization is made per Authorization ID. There is no authorized quantity.
//   The holdings usually come as a workbook of their own, without Table 1: uploaded together with the
//   actions workbook, they take its Party and year.
// - The current layout: the AEF revised at CMA.6 ("AEF_CMA6_second_iteration.xlsx"), one workbook
//   with sheets Index, Summary information, Table 1 Submission (transposed: labels in column B,
//   values in column C), Table 2 Authorizations, Table 3 Actions, Table 4 Holdings, Table 5 Auth.
//   entities; a gutter column A, blank spacer columns between the column groups, group bands above
//   the leaf titles, CARP placeholders ("{Information in this field is populated by the CARP}"), and a
//   blank template's controlled vocabulary pre-filled in the data area. Sources: the UNFCCC-side AEF
//   syntax checker frankcnng/consistency (AEFSyntax/aef_sheets.py, AEFConsistency/aef_sheet.py), the
//   registry library xeptagondev/carbon-registry-undp libs/aef-v2 (src/spec/field-spec.ts and its
//   test of the CARP template), and the UNFCCC common nomenclature (frankcnng/ITMO
//   CommonNomenclature.json). No filled workbook of this layout has been available to test with.
//
// Columns are found by their titles, never by position: titles are compared without case, spaces
// (non-breaking ones included), punctuation or a trailing footnote mark ("Vintage(j)"), and the last
// row of titles above the data is the leaf row (the group bands repeat some titles). Values are
// brought to the CAD Trust form: Parties as ISO alpha-3 (from names or alpha-2 codes), dates as
// YYYY-MM-DD (Excel dates, day-first dd/mm/yyyy, ISO), "NA", "N/A", "-" and CARP placeholders as
// empty, action types in the AEF's words. A value that cannot be brought to that form is passed on as
// written, and the checks of readAefRow report it with its sheet, row and column.

export type OfficialLayout = 'aef-2024' | 'aef-current';

/**
 * One column of an official table: its title (and the other spellings met), the CAD Trust v2 field it
 * holds (without the table prefix), for the 2024 layout the T2 field it gives the row's authorization,
 * and whether it identifies a data row (a row with none of these is template vocabulary or a note).
 */
export type OfficialColumn = { title: string; aliases?: string[]; field?: string; authorization?: string; identifying?: boolean; using?: boolean };
/** A table of an official layout; null columns are the blank spacer columns of the current layout. */
export type OfficialTable = {
  layout: OfficialLayout; table: 't2' | 't3' | 't4' | 't5'; sheet: string; title: string; headerRow: number; columns: (OfficialColumn | null)[];
};
export type OfficialSubmissionField = { label: string; aliases?: string[]; field: string; carp?: string };

const c = (title: string, field: string | undefined, extra: Partial<OfficialColumn> = {}): OfficialColumn => ({ title, ...(field ? { field } : {}), ...extra });
const id = { identifying: true };
const CARP_INFORMATION = '{Information in this field is populated by the CARP}';
const CARP_LINK = '{Link to be produced by the CARP}';
const GWP = ['Applicable GWP values(s)', 'Applicable GWP values'];

/** Table 1 of the current layout: its label rows, from row 4, labels in column B and values in column C. */
export const CURRENT_SUBMISSION = {
  sheet: 'Table 1 Submission', title: 'Table 1: Submission', firstRow: 4,
  fields: [
    { label: 'Party', field: 'Party' },
    { label: 'Version', field: 'Version' },
    { label: 'Reported year', field: 'ReportYear' },
    { label: 'Date of submission', field: 'SubmissionDate' },
    { label: 'Review status of the initial report', aliases: ['Review status of the initial report (CARP)'], field: 'ReviewStatus', carp: CARP_INFORMATION },
    { label: 'Result of the consistency check of this AEF submission', aliases: ['Result of the consistency check of this AEF submission (CARP)'], field: 'ResultCheck', carp: CARP_INFORMATION },
    { label: 'First year of the NDC implementation period', field: 'NdcFirstYear' },
    { label: 'Last year of the NDC implementation period', field: 'NdcLastYear' },
    {
      label: 'Reference to the Article 6 technical expert review report of the initial report',
      aliases: ['Reference to the Article 6 technical expert review report of the initial report (CARP)'], field: 'ReferenceReviewReport', carp: CARP_LINK,
    },
  ] as OfficialSubmissionField[],
};

const SUBMISSION_2024: OfficialSubmissionField[] = [{ label: 'Party', field: 'Party' }, { label: 'Reported year', field: 'ReportYear' }];

/** The ITMO block Tables 3 and 4 of the current layout share, with its spacer columns. */
const ITMO_BLOCK: (OfficialColumn | null)[] = [
  c('Cooperative approach ID', 'CooperativeApproachId'), c('Authorization ID', 'AuthorizationId', id),
  c('First transferring participating Party ID', 'FirstTransferringPartyId'), c('Party ITMO registry ID', 'PartyItmoRegistryId'),
  c('First ID', 'ItmoFirstId', id), c('Last ID', 'ItmoLastId', id), null,
  c('Underlying unit registry ID', 'UnitRegistryId'), c('First unit ID', 'UnitFirstId'), c('Last unit ID', 'UnitLastId'), null,
  c('Metric', 'Metric'), c('Applicable GWP value(s)', 'GwpValue', { aliases: GWP }), c('Applicable non-GHG metric', 'ApplicableNonGhgMetric'),
  c('Quantity (t CO2 eq)', 'QuantityTCo2', id), c('Quantity (in non-GHG metric)', 'QuantityNonGhg'), null,
  c('Mitigation type', 'MitigationType'), c('Vintage', 'VintageYear'),
];

/** Tables 2–5 of the current layout, in sheet order, with their leaf-title rows. */
export const CURRENT_TABLES: OfficialTable[] = [
  {
    layout: 'aef-current', table: 't2', sheet: 'Table 2 Authorizations', title: 'Table 2: Authorizations', headerRow: 7,
    columns: [
      c('Authorization ID', 'Id', id), c('Date of authorization', 'Date', id), c('Cooperative approach ID', 'CooperativeApproachId'),
      c('Version of the authorization', 'Version'), null, c('Authorized quantity', 'Quantity', id), c('Metric', 'Metric'),
      c('Applicable GWP value(s)', 'GwpValue', { aliases: GWP }), c('Applicable non-GHG metric', 'ApplicableNonGhgMetric'), c('Sector(s)', 'Sector'),
      c('Activity type(s)', 'ActivityType'), c('Purposes for authorization', 'PurposesForAuthorization', { aliases: ['Purpose for authorization'] }),
      c('Authorized Party(ies) ID', 'AuthorizedPartyId'), c('Authorized entity(ies) ID', 'AuthoziedEntityId'),
      c('OIMP authorized by the Party', 'OimpAuthorizedParty'), c('Authorized timeframe', 'AuthorizedTimeframe'),
      c('Authorization terms and conditions', 'AuthorizationTerms'), c('Authorization documentation', 'AuthorizationDocumentation'),
      c('First transfer definition for OIMP', 'FirstTransferDefinitionOimp'), c('Additional explanatory information', 'AdditionalInformation'),
    ],
  },
  {
    layout: 'aef-current', table: 't3', sheet: 'Table 3 Actions', title: 'Table 3: Actions', headerRow: 8,
    columns: [
      c('Action date', 'Date', { ...id, aliases: ['Action date-time'] }), c('Action type', 'Type'), c('Action subtype', 'Subtype'),
      ...ITMO_BLOCK, null,
      c('Transferring participating Party ID', 'TransferringPartyId'), c('Acquiring participating Party ID', 'AcquiringPartyId'), null,
      c('Purpose for which the ITMO has been used towards or cancelled for OIMP', 'PurposeOfUseOimp', {
        aliases: ['Purposes for which ITMO has been used towards or cancelled for OIMP', 'Purposes for which the ITMO has been used towards or cancelled for OIMP',
          'Purpose for which ITMO has been used towards or cancelled for OIMP'],
      }),
      c('Using/cancelling participating Party ID', 'UsingParticipatingPartyId'), c('Using/cancelling authorized entity ID', 'UsingAuthorizedEntityId'),
      c('Calendar year for which the ITMOs are used towards the Party\'s NDC', 'ItmoUsedYear'), null,
      c('Result of the consistency checks', 'ConsistencyCheckResult'), c('Additional explanatory information', 'AdditionalInformation'),
    ],
  },
  {
    layout: 'aef-current', table: 't4', sheet: 'Table 4 Holdings', title: 'Table 4: Holdings', headerRow: 7,
    columns: ITMO_BLOCK,
  },
  {
    layout: 'aef-current', table: 't5', sheet: 'Table 5 Auth. entities', title: 'Table 5: Authorized entities', headerRow: 10,
    columns: [
      c('Date of the authorization', 'AuthorizationDate', id), c('Name', 'Name', id), c('Country of incorporation', 'IncorporationCountry'),
      c('Identification number', 'Id', id), c('Cooperative approach ID', 'CooperativeApproachId'), c('Conditions', 'Conditions'),
      c('Change and revocation conditions', 'ChangeConditions'), c('Additional explanatory information', 'AdditionalInformation'),
    ],
  },
];

/** The 2024 layout's Actions columns (its Holdings are the first 19). */
const ACTIONS_2024: OfficialColumn[] = [
  c('Article 6 database record ID', undefined),
  c('Cooperative approach', 'CooperativeApproachId', { authorization: 'CooperativeApproachId' }),
  c('First unique identifier', 'ItmoFirstId', id), c('Last unique identifier', 'ItmoLastId', id),
  c('Underlying unit block start ID', 'UnitFirstId'),
  c('Underlying unit block last ID', 'UnitLastId', { aliases: ['Underlying unit block end ID', 'Underlying unit last block end'] }),
  c('Metric', 'Metric', { authorization: 'Metric' }),
  c('Quantity (expressed in metric)', 'QuantityNonGhg'), c('Quantity (t CO2 eq)', 'QuantityTCo2', id),
  c('Conversion factor (reporting Party)', undefined),
  c('First transferring participating Party', 'FirstTransferringPartyId'), c('Vintage', 'VintageYear'),
  c('Sector(s)', undefined, { authorization: 'Sector' }), c('Activity type(s)', undefined, { authorization: 'ActivityType' }),
  c('Date of authorization', undefined, { authorization: 'Date' }),
  c('Authorization ID', 'AuthorizationId', { ...id, authorization: 'Id' }),
  c('Purposes for authorization', undefined, { authorization: 'PurposesForAuthorization' }),
  c('OIMP authorized by the Party', undefined, { authorization: 'OimpAuthorizedParty' }),
  c('First transfer definition', undefined, { authorization: 'FirstTransferDefinitionOimp' }),
  c('Action date', 'Date', id), c('Action type', 'Type'),
  c('Transferring participating Party', 'TransferringPartyId'), c('Acquiring participating Party', 'AcquiringPartyId'),
  c('Purposes for cancellation', 'PurposeOfUseOimp'),
  // A Party, or the authorized entity or entities: read as the one or the other.
  c('Using participating Party or authorized entity or entities', undefined, { using: true }),
  c('First transfer', undefined),
];

export const TABLES_2024: OfficialTable[] = [
  { layout: 'aef-2024', table: 't3', sheet: 'Actions', title: 'Table 2: Actions', headerRow: 10, columns: ACTIONS_2024 },
  { layout: 'aef-2024', table: 't4', sheet: 'Holdings', title: 'Table 3: Holdings', headerRow: 6, columns: ACTIONS_2024.slice(0, 19) },
];

const ALL_TABLES = [...TABLES_2024, ...CURRENT_TABLES];

/** Titles only the AEF uses: a header row must have one of them to be taken for an AEF table. */
const DISTINCTIVE = new Set([
  'Article 6 database record ID', 'First unique identifier', 'First transferring participating Party', 'Authorization ID',
  'Cooperative approach ID', 'First transferring participating Party ID', 'Party ITMO registry ID', 'Version of the authorization', 'Authorized quantity',
].map((t) => titleKey(t)));
/** A header row has at least this many of its table's titles. */
const MIN_TITLES = 4;

// ---- titles and values ----------------------------------------------------------------------------

/** A title as compared: NFKC (CO₂ → CO2), superscript footnote letters dropped, lower case, letters and digits only. */
function titleKey(text: string): string {
  return text.replace(/[\u1D2C-\u1D6A\u2070-\u207F]/g, '').normalize('NFKC').toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** The keys a title cell may stand for: as written, and without a trailing footnote mark ("Vintage(j)", "Sector(s) (k)"). */
function titleKeys(text: string): string[] {
  const stripped = text.replace(/\s*\(?[a-z]{1,2}\)\s*\.?\s*$/i, '');
  return stripped !== text ? [titleKey(text), titleKey(stripped)] : [titleKey(text)];
}

const PLACEHOLDER = /^\{[^{}]*\bCARP\b[^{}]*\}$/i;
const NOT_APPLICABLE = /^(n\/?a|not applicable|-|–|—)$/i;

/** A cell's text with "NA", "N/A", "-" and the CARP placeholders as empty. */
export function cellValue(text: string | undefined): string {
  const v = (text ?? '').replace(/\u00A0/g, ' ').trim();
  return v === '' || NOT_APPLICABLE.test(v) || PLACEHOLDER.test(v) ? '' : v;
}

/** A date as YYYY-MM-DD: an Excel date or serial, dd/mm/yyyy (day first, as the AEF writes it), ISO, or milliseconds since 1970; undefined when it is none. */
export function aefDate(text: string): string | undefined {
  const serial = excelSerialDate(text);
  if (serial) return serial;
  if (/^\d{12,13}$/.test(text)) {
    const date = new Date(Number(text));
    const year = date.getUTCFullYear();
    return year >= 1990 && year <= 2100 ? date.toISOString().slice(0, 10) : undefined;
  }
  try {
    return dateValue(text, { dayFirst: true });
  } catch {
    return undefined;
  }
}

/** Action types in the AEF's words, from any case and the UNDP registry's codes. */
const ACTION_TYPES: Record<string, string> = {
  authorization: 'Authorization', authorisation: 'Authorization', firsttransfer: 'First transfer', transfer: 'Transfer',
  crossboardertransfer: 'Transfer', crossbordertransfer: 'Transfer', acquisition: 'Acquisition', acquistion: 'Acquisition',
  use: 'Use', usetowardsndc: 'Use', useforoimp: 'Use', cancellation: 'Cancellation', voluntarycancellation: 'Cancellation',
  omgecancellation: 'Cancellation', retire: 'Cancellation',
};

/** A Party as ISO alpha-3 from a name, alpha-2 or alpha-3 code; as written when it is none of them. */
export function aefParty(text: string): string {
  return resolveCountry(text)?.alpha3 ?? text;
}

let kinds: Map<string, string> | undefined;
/** The kind (AEF_FIELDS) of a table's field, by its name without prefix. */
function kindOf(table: AefTable, field: string): string | undefined {
  kinds ??= new Map((Object.keys(AEF_FIELDS) as AefTable[]).flatMap((t) => AEF_FIELDS[t].map((f) => [`${t}.${f.name}`, f.kind] as const)));
  return kinds.get(`${table}.${field}`);
}

/** A value of a field in the CAD Trust form, from the cell's text (already without NA and placeholders). */
function fieldValue(table: AefTable, field: string, text: string): string {
  if (text === '') return '';
  if (table === 't3' && field === 'Type') return ACTION_TYPES[titleKey(text)] ?? text;
  switch (kindOf(table, field)) {
    case 'party':
      return aefParty(text);
    case 'date':
      return aefDate(text) ?? text;
    default:
      return text;
  }
}

const columnLetter = (index: number): string => {
  let n = index + 1;
  let s = '';
  while (n > 0) {
    s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
    n = Math.floor((n - 1) / 26);
  }
  return s;
};

// ---- recognising sheets, titles and header rows -----------------------------------------------------

type Hint = { layout: OfficialLayout; table: AefTable };

/** The table a title cell or sheet name names: "Table 2: Actions" (2024), "Table 3 Actions" (current)… */
function tableNamed(text: string): Hint | undefined {
  const m = /^\s*table\s*(\d)\s*[:.]?\s*(heading|submission|authori[sz]ations|actions|holdings|auth(?:ori[sz]ed)?\.?\s*entities)\b/i.exec(text.replace(/\u00A0/g, ' '));
  if (!m) return undefined;
  const name = m[2]!.toLowerCase();
  const n = Number(m[1]);
  if (n === 1 && name === 'heading') return { layout: 'aef-2024', table: 't1' };
  if (n === 2 && name === 'actions') return { layout: 'aef-2024', table: 't3' };
  if (n === 3 && name === 'holdings') return { layout: 'aef-2024', table: 't4' };
  if (n === 1 && name === 'submission') return { layout: 'aef-current', table: 't1' };
  if (n === 2 && name.startsWith('authori')) return { layout: 'aef-current', table: 't2' };
  if (n === 3 && name === 'actions') return { layout: 'aef-current', table: 't3' };
  if (n === 4 && name === 'holdings') return { layout: 'aef-current', table: 't4' };
  if (n === 5 && name.includes('entities')) return { layout: 'aef-current', table: 't5' };
  return undefined;
}

/** A title row: its first non-empty cell names a table, and the row holds little else. */
function titleRow(cells: string[]): Hint | undefined {
  const filled = cells.filter((v) => v.trim() !== '');
  return filled.length > 0 && filled.length <= 2 ? tableNamed(filled[0]!) : undefined;
}

type Header = { spec: OfficialTable; row: number; byColumn: Map<number, OfficialColumn>; extra: Map<number, string>; missing: OfficialColumn[] };

const byTitle = new Map<string, { spec: OfficialTable; column: OfficialColumn }[]>();
for (const spec of ALL_TABLES) {
  for (const column of spec.columns) {
    if (!column) continue;
    for (const title of [column.title, ...(column.aliases ?? [])]) {
      const list = byTitle.get(titleKey(title)) ?? [];
      list.push({ spec, column });
      byTitle.set(titleKey(title), list);
    }
  }
}

/**
 * The columns of a row of titles, for the table it is the header of; undefined when it is no official
 * header. A column merged down from the group bands (`Article 6 database record ID` over three rows)
 * has its title in the top cell only: an empty title takes the nearest title above it in `bands`,
 * the rows between the table's title and this one.
 */
function officialHeader(cells: string[], row: number, hint: Hint | undefined, bands: string[][] = []): Header | undefined {
  const matches = new Map<OfficialTable, Map<number, OfficialColumn>>();
  let distinctive = false;
  cells.forEach((cell, index) => {
    if (cell.trim() === '') return;
    const keys = titleKeys(cell);
    const key = keys.find((k) => byTitle.has(k));
    if (!key) return;
    if (DISTINCTIVE.has(key)) distinctive = true;
    for (const { spec, column } of byTitle.get(key)!) {
      const found = matches.get(spec) ?? new Map<number, OfficialColumn>();
      if (![...found.values()].includes(column)) found.set(index, column);
      matches.set(spec, found);
    }
  });
  if (!distinctive) return undefined;
  const candidates = [...matches.entries()].filter(([, found]) => found.size >= MIN_TITLES);
  if (candidates.length === 0) return undefined;
  // The table the sheet or title names; else the one with most titles matched, the smaller on a tie
  // (Holdings' titles are all Actions' titles too).
  const named = candidates.find(([spec]) => hint && spec.layout === hint.layout && spec.table === hint.table);
  const [spec, byColumn] = named ?? candidates.sort(([a, x], [b, y]) => y.size - x.size || a.columns.length - b.columns.length)[0]!;
  const width = Math.max(cells.length, ...bands.map((b) => b.length));
  for (let index = 0; index < width; index += 1) {
    if ((cells[index] ?? '').trim() !== '' || byColumn.has(index)) continue;
    const above = [...bands].reverse().map((b) => b[index] ?? '').find((v) => v.trim() !== '');
    if (above === undefined) continue;
    const keys = titleKeys(above);
    const column = spec.columns.find((col) => col && [col.title, ...(col.aliases ?? [])].some((t) => keys.includes(titleKey(t))));
    if (column && ![...byColumn.values()].includes(column)) byColumn.set(index, column);
  }
  const extra = new Map<number, string>();
  cells.forEach((cell, index) => {
    if (cell.trim() !== '' && !byColumn.has(index)) extra.set(index, normalizeHeader(cell.replace(/\u00A0/g, ' ')));
  });
  const mapped = new Set(byColumn.values());
  return { spec, row, byColumn, extra, missing: spec.columns.filter((col): col is OfficialColumn => col !== null && !mapped.has(col)) };
}

/** The label of a Table 1 row (its first non-empty cell) and the value right of it. */
function submissionLabel(cells: string[], fields: OfficialSubmissionField[]): { field: OfficialSubmissionField; value: string; index: number } | undefined {
  const index = cells.findIndex((v) => v.trim() !== '');
  if (index < 0) return undefined;
  const keys = titleKeys(cells[index]!);
  const field = fields.find((f) => [f.label, ...(f.aliases ?? [])].some((l) => keys.includes(titleKey(l))));
  return field ? { field, value: cells[index + 1] ?? '', index } : undefined;
}

/** A row's cells with its empty cells as '' (a streamed row leaves them out). */
const dense = (cells: string[]): string[] => Array.from(cells, (v) => v ?? '');

/** Rows after a header within which another row of the same titles makes that one the header. */
const LOOKAHEAD = 5;
const SKIPPED_SHEETS = /^\s*(index|summary\s+information)\s*$/i;
/** A note under a table: "(a) …", "Note: …", "* …", "Source: …". */
const NOTE = /^\s*(\(?[a-z]{1,2}\)\s|\*|notes?\b|sources?\b)/i;

/**
 * Which form an AEF workbook has, from its sheet names and the first rows of each sheet: `cadt` (a
 * sheet per table named as the CAD Trust v2 table), one of the official layouts, or undefined when
 * it is no AEF workbook.
 */
export async function aefWorkbookForm(path: string): Promise<'cadt' | OfficialLayout | undefined> {
  let sheet: string | undefined;
  let scanned = 0;
  for await (const row of readXlsxCells(path)) {
    if (row.sheet !== sheet) {
      sheet = row.sheet;
      scanned = 0;
      const named = tableNamed(sheet);
      if (named?.layout === 'aef-current') return 'aef-current';
      if (aefTableOf(sheet) !== undefined) return 'cadt';
    }
    if (scanned >= 30) continue;
    scanned += 1;
    const cells = dense(row.cells);
    const title = titleRow(cells);
    if (title) return title.layout;
    const header = officialHeader(cells, row.row, undefined);
    if (header) return header.spec.layout;
  }
  return undefined;
}

// ---- reading ---------------------------------------------------------------------------------------

type Section =
  | { kind: 't1'; layout: OfficialLayout; sheet: string; values: Record<string, string>; rows: number[]; where: Record<string, string> }
  // `pending`: the rows read after the header while another row of the same titles may still follow.
  | { kind: 'table'; header: Header; sheet: string; rows: number; pending: { cells: string[]; row: number }[] | null }
  | { kind: 'cadt'; table: AefTable; sheet: string; headers: string[] };

type AuthorizationRows = { values: Record<string, string>; where: Record<string, string>; seen: Map<string, { value: string; at: string }>; at: Map<string, number[]> };

/**
 * Every table row of a workbook in an official layout, as CAD Trust v2 rows. For the 2024 layout,
 * T2 is made from the authorization columns of the Actions and Holdings rows: one row per
 * Authorization ID; rows of one authorization that disagree on its attributes stop the reading.
 */
export async function readOfficialWorkbook(path: string, layout: OfficialLayout): Promise<AefFile> {
  const file = basename(path);
  const rows: AefRawRow[] = [];
  const tables = new Set<AefTable>();
  const authorizations = new Map<string, AuthorizationRows>();
  const conflicts: string[] = [];
  let section: Section | undefined;
  let hint: Hint | undefined;
  /** The rows above a header since the table's title (its group bands). */
  let bands: string[][] = [];

  const finish = () => {
    if (section?.kind === 'table') confirm(section);
    if (section?.kind === 't1' && section.rows.length > 0) {
      const first = section.rows[0]!;
      const last = section.rows[section.rows.length - 1]!;
      rows.push({ table: 't1', locator: `${file} sheet "${section.sheet}" ${first === last ? `row ${first}` : `rows ${first}–${last}`}`, values: section.values, where: section.where });
      tables.add('t1');
    }
    section = undefined;
  };

  const startTable = (header: Header, sheet: string) => {
    finish();
    section = { kind: 'table', header, sheet, rows: 0, pending: [] };
    tables.add(header.spec.table);
  };

  /** Reads a data row; false when the row is none (blank, template vocabulary, a note or a band). */
  const tableRow = (s: Extract<Section, { kind: 'table' }>, cells: string[], row: number): boolean => {
    const { spec, byColumn, extra } = s.header;
    const width = Math.max(cells.length, ...byColumn.keys(), ...extra.keys()) + 1;
    const filled = Array.from({ length: width }, (_, i) => cellValue(cells[i]));
    const present = [...byColumn.keys(), ...extra.keys()].filter((i) => filled[i] !== '');
    if (present.length === 0) return false;
    // Template vocabulary left in the data area, or a note under the table: no identifying value.
    if (![...byColumn.entries()].some(([i, col]) => col.identifying && filled[i] !== '')) return false;
    if (present.length === 1 && NOTE.test(filled[present[0]!]!)) return false;
    const locator = `${file} sheet "${s.sheet}" row ${row}`;
    const values: Record<string, string> = {};
    const where: Record<string, string> = {};
    const prefix = AEF_TABLES[spec.table].prefix;
    const attributes: [OfficialColumn, string, string][] = [];
    for (const [i, col] of byColumn) {
      const value = filled[i]!;
      const at = `column ${columnLetter(i)} "${col.title}"`;
      if (col.field) {
        values[`${prefix}${col.field}`] = fieldValue(spec.table, col.field, value);
        where[`${prefix}${col.field}`] = at;
      } else if (col.using) {
        // The using Party when it names one, else the authorized entity or entities.
        const party = value === '' ? undefined : resolveCountry(value)?.alpha3;
        values[`${prefix}UsingParticipatingPartyId`] = party ?? '';
        values[`${prefix}UsingAuthorizedEntityId`] = party ? '' : value;
        where[`${prefix}UsingParticipatingPartyId`] = where[`${prefix}UsingAuthorizedEntityId`] = at;
      } else if (value !== '') {
        values[col.title] = value;
      }
      if (col.authorization) attributes.push([col, value, at]);
    }
    for (const [col, value, at] of attributes) authorizationValue(values, col, value, at, s.sheet, row);
    for (const [i, title] of extra) if (filled[i] !== '' && !(title in values)) values[title] = filled[i]!;
    for (const col of s.header.missing) {
      if (col.field) where[`${prefix}${col.field}`] = `no column "${col.title}" in the header row ${s.header.row}`;
    }
    s.rows += 1;
    rows.push({ table: spec.table, locator, values, where });
    return true;
  };

  /** The 2024 layout: the row's authorization attributes, gathered per Authorization ID. */
  const authorizationValue = (values: Record<string, string>, col: OfficialColumn, value: string, at: string, sheet: string, row: number) => {
    const authorizationId = values[`${AEF_TABLES.t3.prefix}AuthorizationId`] ?? values[`${AEF_TABLES.t4.prefix}AuthorizationId`];
    if (!authorizationId || col.authorization === 'Id') return;
    const entry: AuthorizationRows = authorizations.get(authorizationId) ?? { values: {}, where: {}, seen: new Map(), at: new Map() };
    authorizations.set(authorizationId, entry);
    const rowsOfSheet = entry.at.get(sheet) ?? [];
    if (!rowsOfSheet.includes(row)) rowsOfSheet.push(row);
    entry.at.set(sheet, rowsOfSheet);
    if (value === '') return;
    const name = `${AEF_TABLES.t2.prefix}${col.authorization!}`;
    const normalized = fieldValue('t2', col.authorization!, value);
    const before = entry.seen.get(name);
    if (!before) {
      entry.seen.set(name, { value: normalized, at: `sheet "${sheet}" row ${row}` });
      entry.values[name] = normalized;
      entry.where[name] = at;
    } else if (before.value !== normalized && col.authorization !== 'Metric') {
      conflicts.push(`authorization ${authorizationId}: "${col.title}" is "${before.value}" in ${before.at} and "${normalized}" in sheet "${sheet}" row ${row}`);
    }
  };

  /** The header is the last row of titles: the rows after it are data once no other came within LOOKAHEAD rows. */
  const confirm = (s: Extract<Section, { kind: 'table' }>) => {
    const pending = s.pending ?? [];
    s.pending = null;
    for (const p of pending) tableRow(s, p.cells, p.row);
  };

  let sheet: string | undefined;
  for await (const { sheet: name, row, cells: sparse } of readXlsxCells(path)) {
    const cells = dense(sparse);
    if (name !== sheet) {
      finish();
      sheet = name;
      bands = [];
      hint = tableNamed(name) ?? (/^\s*actions\s*$/i.test(name) ? { layout: 'aef-2024', table: 't3' } : /^\s*holdings\s*$/i.test(name) ? { layout: 'aef-2024', table: 't4' } : undefined);
      if (hint?.table === 't1') section = { kind: 't1', layout: hint.layout, sheet: name, values: {}, rows: [], where: {} };
    }
    if (SKIPPED_SHEETS.test(name)) continue;
    if (cells.every((v) => v.trim() === '')) continue;
    const title = titleRow(cells);
    if (title) {
      finish();
      bands = [];
      hint = title;
      if (title.table === 't1') section = { kind: 't1', layout: title.layout, sheet: name, values: {}, rows: [], where: {} };
      continue;
    }
    let header = officialHeader(cells, row, hint, bands);
    if (header) {
      // The group bands repeat some titles: the last row of titles before the data is the header, and
      // the rows between the two were bands.
      if (section?.kind === 'table' && section.pending && section.header.spec === header.spec) {
        bands.push(...section.pending.map((p) => p.cells));
        header = officialHeader(cells, row, hint, bands) ?? header;
        section.header = header;
        section.pending = [];
      } else {
        startTable(header, name);
      }
      bands.push(cells);
      continue;
    }
    const cadt = aefTableOfHeaders(cells.map(normalizeHeader));
    if (cadt) {
      // A sheet in the CAD Trust form (Tally's own export adds its corresponding adjustments so).
      finish();
      section = { kind: 'cadt', table: cadt, sheet: name, headers: cells.map(normalizeHeader) };
      tables.add(cadt);
      continue;
    }
    if (section?.kind !== 'table') bands.push(cells);
    if (section?.kind === 't1') {
      const label = submissionLabel(cells, section.layout === 'aef-2024' ? SUBMISSION_2024 : CURRENT_SUBMISSION.fields);
      if (label) {
        const key = `${AEF_TABLES.t1.prefix}${label.field.field}`;
        section.values[key] = fieldValue('t1', label.field.field, cellValue(label.value));
        section.where[key] = `row ${row} "${label.field.label}", column ${columnLetter(label.index + 1)}`;
        section.rows.push(row);
      }
    } else if (section?.kind === 'table') {
      if (section.pending) {
        section.pending.push({ cells, row });
        if (section.pending.length >= LOOKAHEAD) confirm(section);
      } else {
        tableRow(section, cells, row);
      }
    } else if (section?.kind === 'cadt') {
      const values: Record<string, string> = {};
      section.headers.forEach((h, i) => {
        if (h !== '') values[h] = cells[i] ?? '';
      });
      rows.push({ table: section.table, locator: `${file} sheet "${name}" row ${row}`, values });
    }
  }
  finish();

  if (conflicts.length > 0) {
    throw new Error(`the rows of one authorization must give it the same attributes (the 2024 layout repeats them on every row): ${conflicts.join('; ')}`);
  }
  for (const [authorizationId, entry] of authorizations) {
    const at = [...entry.at.entries()].map(([s, list]) => `sheet "${s}" ${list.length === 1 ? 'row' : 'rows'} ${list.join(', ')}`).join('; ');
    rows.push({
      table: 't2', locator: `${file} ${at} (Authorization ID ${authorizationId})`,
      values: { [`${AEF_TABLES.t2.prefix}Id`]: authorizationId, ...entry.values }, where: entry.where,
    });
    tables.add('t2');
  }
  if (layout === 'aef-current') {
    const missing = (['t1', 't2', 't3', 't4'] as const).filter((t) => !tables.has(t));
    if (missing.length > 0) {
      const names = missing.map((t) => (t === 't1' ? CURRENT_SUBMISSION.sheet : CURRENT_TABLES.find((x) => x.table === t)!.sheet));
      throw new Error(`no ${names.map((n) => `"${n}"`).join(', ')} found (sheet missing, or its header row of column titles not recognised); the current AEF workbook has the sheets ${CURRENT_SUBMISSION.sheet}, ${CURRENT_TABLES.map((x) => x.sheet).join(', ')}`);
    }
  }
  return { rows, tables, workbook: false, layout };
}
