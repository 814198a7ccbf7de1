import { basename } from 'node:path';
import { readFile } from 'node:fs/promises';
import { countries } from '../../schema/taxonomy/index.ts';
import { readCsvRows } from '../runtime/csv.ts';
import { readXlsxRows } from '../runtime/xlsx.ts';
import { dateValue, integerValue, numberValue, textValue } from '../runtime/values.ts';
import type { RowError } from '../types.ts';
import { aefWorkbookForm, readOfficialWorkbook, type OfficialLayout } from './aef-workbooks.ts';

// The Article 6.2 Agreed Electronic Format (AEF), tables T1–T5 (reference/registries.md §5.2), as a
// Party uploads it: a workbook with one sheet per table, one CSV file per table, or a JSON document
// keyed by table, with the CAD Trust v2 field names (`aefT2AuthorizationsQuantity`) as columns and keys,
// which is also what Tally exports; or a workbook in one of the official spreadsheet layouts (the 2024
// draft AEF and the current CMA.6 one, read by aef-workbooks.ts into the same rows). Every value is
// checked here, row by row, with the file, table and row in each message; checks across tables (a T3
// row naming a T2 authorization) are in jobs/article6.

export const AEF_TABLES = {
  t1: { prefix: 'aefT1Submission', title: 'T1 Submission' },
  t2: { prefix: 'aefT2Authorizations', title: 'T2 Authorizations' },
  t3: { prefix: 'aefT3Actions', title: 'T3 Actions' },
  t4: { prefix: 'aefT4Holdings', title: 'T4 Holdings' },
  t5: { prefix: 'aefT5AuthorizedEntities', title: 'T5 Authorized entities' },
  // Not an AEF table: the corresponding adjustments the Party applied to its emissions balance, per year,
  // from its BTR structured summary (reference/registries.md §5.1), uploaded with the AEF.
  ca: { prefix: 'caApplied', title: 'CA applied' },
} as const;
export type AefTable = keyof typeof AEF_TABLES;

type Kind = 'text' | 'party' | 'date' | 'year' | 'quantity' | 'timeframe' | 'direction';
type Field = { name: string; column: string; kind: Kind; required?: boolean; aliases?: string[] };

const f = (name: string, column: string, kind: Kind = 'text', extra: Partial<Field> = {}): Field => ({ name, column, kind, ...extra });

/** The ITMO range fields T3 and T4 share. */
const itmoRange = [
  // CAD Trust v2 once spelled the T3 and T4 field `CoopoerativeApproachId`; that spelling is read too.
  f('CooperativeApproachId', 'cooperativeApproachId', 'text', { aliases: ['CoopoerativeApproachId'] }), f('AuthorizationId', 'authorizationId'),
  f('FirstTransferringPartyId', 'firstTransferringPartyId', 'party'), f('PartyItmoRegistryId', 'partyItmoRegistryId'),
  f('ItmoFirstId', 'itmoFirstId', 'text', { required: true }), f('ItmoLastId', 'itmoLastId', 'text', { required: true }),
  f('UnitRegistryId', 'unitRegistryId'), f('UnitFirstId', 'unitFirstId'), f('UnitLastId', 'unitLastId'),
  f('Metric', 'metric'), f('QuantityTCo2', 'quantityTco2', 'quantity', { required: true }), f('MitigationType', 'mitigationType'),
  f('VintageYear', 'vintageYear', 'year'),
];

/** Each table's fields: the CAD Trust v2 name without its table prefix, and the ledger column. */
export const AEF_FIELDS: Record<AefTable, Field[]> = {
  t1: [
    f('Party', 'party', 'party', { required: true }), f('Version', 'version'), f('ReportYear', 'reportYear', 'year', { required: true }),
    f('SubmissionDate', 'submittedOn', 'date'), f('NdcFirstYear', 'ndcFirstYear', 'year'), f('NdcLastYear', 'ndcLastYear', 'year'),
  ],
  t2: [
    f('Id', 'authorizationId', 'text', { required: true }), f('Date', 'authorizedOn', 'date'), f('CooperativeApproachId', 'cooperativeApproachId'),
    // The authorized quantity is optional (the 2024 layout has none): a missing one is "not stated", never 0.
    f('Version', 'version'), f('Quantity', 'quantity', 'quantity'), f('Metric', 'metric'), f('GwpValue', 'gwpValue'),
    f('ApplicableNonGhgMetric', 'applicableNonGhgMetric'), f('Sector', 'sector'), f('ActivityType', 'activityType'),
    f('PurposesForAuthorization', 'purposes'), f('AuthorizedPartyId', 'authorizedPartyId', 'party'),
    // CAD Trust v2 spells this field `AuthoziedEntityId`; the correct spelling is read too.
    f('AuthoziedEntityId', 'authorizedEntityId', 'text', { aliases: ['AuthorizedEntityId'] }),
    f('OimpAuthorizedParty', 'oimpAuthorizedParty'), f('AuthorizedTimeframe', 'timeframe', 'timeframe'),
    f('AuthorizationTerms', 'authorizationTerms'), f('AuthorizationDocumentation', 'authorizationDocumentation'),
    f('FirstTransferDefinitionOimp', 'firstTransferDefinitionOimp'), f('AdditionalInformation', 'additionalInformation'),
  ],
  t3: [
    f('Date', 'actionDate', 'date', { required: true }), f('Type', 'actionType', 'text', { required: true }), f('Subtype', 'actionSubtype'),
    ...itmoRange,
    f('QuantityNonGhg', 'quantityNonGhg', 'quantity'), f('TransferringPartyId', 'transferringPartyId', 'party'),
    f('AcquiringPartyId', 'acquiringPartyId', 'party'), f('PurposeOfUseOimp', 'purposeOfUseOimp'),
    f('UsingParticipatingPartyId', 'usingParticipatingPartyId', 'party'), f('UsingAuthorizedEntityId', 'usingAuthorizedEntityId'),
    f('ItmoUsedYear', 'itmoUsedYear', 'year'), f('ConsistencyCheckResult', 'consistencyCheckResult'),
    f('AdditionalInformation', 'additionalInformation'),
  ],
  t4: itmoRange,
  t5: [
    f('AuthorizationDate', 'authorizedOn', 'date'), f('Name', 'name', 'text', { required: true }), f('IncorporationCountry', 'incorporationCountry'),
    f('Id', 'entityId', 'text', { required: true }), f('CooperativeApproachId', 'cooperativeApproachId'), f('Conditions', 'conditions'),
    f('ChangeConditions', 'changeConditions'), f('AdditionalInformation', 'additionalInformation'),
  ],
  ca: [
    f('Year', 'year', 'year', { required: true }), f('CooperativeApproachId', 'cooperativeApproachId'),
    f('Direction', 'direction', 'direction', { required: true }), f('Quantity', 'quantity', 'quantity', { required: true }), f('Metric', 'metric'),
  ],
};

/**
 * One table row as uploaded: where it is, and its values by CAD Trust v2 field name; for a row of an
 * official layout, where each field's value stood (`column J "Quantity (t CO2 eq)"`), for the messages.
 */
export type AefRawRow = { table: AefTable; locator: string; values: Record<string, string>; where?: Record<string, string> };
/** One row read and checked: ledger column → value. */
export type AefRow = { table: AefTable; locator: string; raw: Record<string, string>; values: Record<string, string | number | null> };

const PARTIES = new Set(countries.map((c) => c.alpha3));
const fullName = (table: AefTable, field: Field) => `${AEF_TABLES[table].prefix}${field.name}`;
const key = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');

/** The table a sheet, file or JSON key names: `T2 Authorizations`, `aef_t2_authorizations`, `aefT2Authorizations`, `t2.csv`. */
export function aefTableOf(name: string): AefTable | undefined {
  const k = key(basename(name).replace(/\.(csv|json|xlsx)$/i, ''));
  if (/^(caapplied|correspondingadjustments?)/.test(k)) return 'ca';
  return (Object.keys(AEF_TABLES) as AefTable[]).find((t) => t !== 'ca' && new RegExp(`(^|aef)${t}($|[a-z])`).test(k));
}

/** Whether a header row is an AEF table's: its cells are that table's field names. */
export function aefTableOfHeaders(headers: string[]): AefTable | undefined {
  const cells = new Set(headers.map(key));
  return (Object.keys(AEF_TABLES) as AefTable[]).find((t) => AEF_FIELDS[t].some((field) => field.required && cells.has(key(fullName(t, field))))
    && AEF_FIELDS[t].filter((field) => field.required).every((field) => cells.has(key(fullName(t, field)))));
}

/**
 * Reads and checks one row's values; errors name the locator and the field. The row comes back even
 * with errors (a value that could not be read is null), so the checks across tables can still report
 * everything wrong with an upload at once.
 */
export function readAefRow(raw: AefRawRow): { row: AefRow; errors: RowError[] } {
  const errors: RowError[] = [];
  const byKey = new Map(Object.entries(raw.values).map(([k, v]) => [key(k), v]));
  const values: Record<string, string | number | null> = {};
  const fail = (field: Field, code: string, message: string) => {
    const at = raw.where?.[fullName(raw.table, field)];
    errors.push({ locator: raw.locator, field: fullName(raw.table, field), code, message: `${raw.locator}: ${fullName(raw.table, field)}${at ? ` (${at})` : ''}: ${message}` });
  };
  for (const field of AEF_FIELDS[raw.table]) {
    const names = [field.name, ...(field.aliases ?? [])].map((n) => key(`${AEF_TABLES[raw.table].prefix}${n}`));
    const given = textValue(names.map((n) => byKey.get(n)).find((v) => v !== undefined && v.trim() !== ''));
    if (given === undefined) {
      if (field.required) fail(field, 'missing', 'is required');
      if (field.kind === 'timeframe') values.timeframeStart = values.timeframeEnd = null;
      else values[field.column] = null;
      continue;
    }
    try {
      switch (field.kind) {
        case 'text':
          values[field.column] = given;
          break;
        case 'party': {
          const code = given.toUpperCase();
          if (!PARTIES.has(code)) fail(field, 'unknown-party', `"${given}" is not an ISO 3166-1 alpha-3 country code`);
          values[field.column] = code;
          break;
        }
        case 'date':
          values[field.column] = dateValue(given) ?? null;
          break;
        case 'year': {
          const year = integerValue(given);
          if (year === undefined || year < 1990 || year > 2100) fail(field, 'invalid-year', `"${given}" is not a year`);
          values[field.column] = year ?? null;
          break;
        }
        case 'quantity': {
          const quantity = numberValue(given);
          if (quantity === undefined || !(quantity > 0)) fail(field, 'quantity-not-positive', `"${given}" is not a positive quantity`);
          values[field.column] = quantity ?? null;
          break;
        }
        case 'direction': {
          // The first transferring Party adds what it first transferred; the using Party subtracts what it used.
          const direction = given.trim().toLowerCase();
          if (direction !== 'add' && direction !== 'subtract') fail(field, 'invalid-direction', `"${given}" is neither add nor subtract`);
          values[field.column] = direction;
          break;
        }
        case 'timeframe': {
          const m = given.match(/^\s*(\d{4})\s*[-–]\s*(\d{4})\s*$/);
          if (!m || Number(m[2]) < Number(m[1])) fail(field, 'invalid-timeframe', `"${given}" is not a period of years like "2024 - 2030"`);
          values.timeframeStart = m ? Number(m[1]) : null;
          values.timeframeEnd = m ? Number(m[2]) : null;
          break;
        }
      }
    } catch (error) {
      // A value that could not be read is null, so the checks across rows do not compare it.
      if (field.kind === 'timeframe') values.timeframeStart = values.timeframeEnd = null;
      else values[field.column] = null;
      fail(field, 'invalid-value', (error as Error).message);
    }
  }
  return { row: { table: raw.table, locator: raw.locator, raw: raw.values, values }, errors };
}

/**
 * The size of an ID range written as its first and last IDs (`CHE-CA0004-0001` … `CHE-CA0004-0400`,
 * GS serials…, plain serial numbers, or ITMO unique identifiers): both end in a number after the same
 * prefix. Undefined when they do not.
 */
export function rangeSize(first: string | null | undefined, last: string | null | undefined): number | undefined {
  const range = idRange(first, last);
  return range ? range.end - range.start + 1 : undefined;
}

/**
 * An ITMO unique identifier (decision 6/CMA.4 annex I para 5): cooperative approach, the Party's ITMO
 * registry, the first transferring Party, the serial number (thousands commas allowed) and the vintage,
 * `CA0005-GUY01-GUY-1,000-2021`.
 */
const ITMO_UNIQUE_ID = /^(CA\d{4}-[A-Z]{3}\d{2}-[A-Z]{3})-(\d{1,3}(?:,\d{3})+|\d+)-(\d{4})$/i;

/** An ID as the part before its serial number and the serial; the vintage of a unique identifier is part of the prefix. */
function serialOf(id: string): { prefix: string; serial: string } | undefined {
  const v = id.trim();
  const unique = ITMO_UNIQUE_ID.exec(v);
  if (unique) return { prefix: `${unique[1]!.toUpperCase()}-(${unique[3]!})-`, serial: unique[2]!.replace(/,/g, '') };
  const m = /^(.*?)(\d+)$/.exec(v);
  return m ? { prefix: m[1]!, serial: m[2]! } : undefined;
}

/** An ID range as its shared prefix and first and last numbers, or undefined when it is not one. */
export function idRange(first: string | null | undefined, last: string | null | undefined): { prefix: string; start: number; end: number } | undefined {
  if (!first || !last) return undefined;
  const a = serialOf(first);
  const b = serialOf(last);
  if (!a || !b || a.prefix !== b.prefix) return undefined;
  const start = Number(a.serial);
  const end = Number(b.serial);
  return end >= start && Number.isSafeInteger(end) ? { prefix: a.prefix, start, end } : undefined;
}

// ---- reading files ----------------------------------------------------------------------------------

/** Whether a file is an AEF file, from its name and content: CAD Trust v2 names, or a workbook in an official layout. */
export async function isAefFile(path: string): Promise<boolean> {
  if (/\.json$/i.test(path)) {
    const text = await readFile(path, 'utf8');
    return /"aef_?t[1-5]/i.test(text.slice(0, 4096));
  }
  if (/\.xlsx$/i.test(path)) return (await aefWorkbookForm(path)) !== undefined;
  if (/\.csv$/i.test(path)) {
    for await (const row of readCsvRows(path)) return aefTableOfHeaders(Object.keys(row.values)) !== undefined;
  }
  return false;
}

/**
 * What one AEF file holds: its rows, and the tables it has (a table may be present and empty);
 * `workbook` when it is a CAD Trust workbook, which must have a sheet per table.
 */
export type AefFile = { rows: AefRawRow[]; tables: Set<AefTable>; workbook: boolean; layout?: OfficialLayout | undefined };

/**
 * Every table row in one AEF file: a workbook (a sheet per table, or an official layout), a CSV file
 * (one table) or a JSON document.
 */
export async function readAefFile(path: string): Promise<AefFile> {
  const file = basename(path);
  const tables = new Set<AefTable>();
  if (/\.json$/i.test(path)) {
    const document = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    const rows = Object.entries(document).flatMap(([name, value]) => {
      const table = aefTableOf(name);
      if (!table) return [];
      tables.add(table);
      const list = Array.isArray(value) ? value : [value];
      return list.map((item, i) => ({
        table, locator: `${file} ${name}[${i}]`,
        values: Object.fromEntries(Object.entries(item as Record<string, unknown>).map(([k, v]) => [k, v === null || v === undefined ? '' : String(v)])),
      }));
    });
    return { rows, tables, workbook: false };
  }
  if (/\.xlsx$/i.test(path)) {
    const form = await aefWorkbookForm(path);
    if (form === 'aef-2024' || form === 'aef-current') return readOfficialWorkbook(path, form);
    // A sheet is the table its name names, read below the header row of that table's field names.
    const named = (sheet: string) => {
      const table = aefTableOf(sheet);
      if (table) tables.add(table);
    };
    const read = new Set<string>();
    const onHeader = ({ sheet, headers }: { sheet: string; headers: string[] }) => {
      named(sheet);
      if (aefTableOf(sheet) !== undefined && aefTableOfHeaders(headers) === aefTableOf(sheet)) read.add(sheet);
    };
    const rows: AefRawRow[] = [];
    for await (const row of readXlsxRows(path, { isHeader: (cells) => aefTableOfHeaders(cells) !== undefined, onHeader, onSkippedSheet: named })) {
      if (read.has(row.sheet)) rows.push({ table: aefTableOf(row.sheet)!, locator: `${file} sheet "${row.sheet}" row ${row.line}`, values: row.values });
    }
    return { rows, tables, workbook: true };
  }
  const found: AefRawRow[] = [];
  let table: AefTable | undefined;
  for await (const row of readCsvRows(path)) {
    table ??= aefTableOfHeaders(Object.keys(row.values));
    if (!table) throw new Error(`${file}: the header names no AEF table (expected CAD Trust v2 field names such as aefT3ActionsType)`);
    found.push({ table, locator: `${file} line ${row.line}`, values: row.values });
  }
  if (table) tables.add(table);
  return { rows: found, tables, workbook: false };
}

/** The sheets an AEF workbook must have (T5 only when the Party authorized entities). */
export const WORKBOOK_TABLES: readonly AefTable[] = ['t1', 't2', 't3', 't4'];
