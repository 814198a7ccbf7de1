import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { normalizeHeader, readCsvHeaders, readCsvRows } from '../runtime/csv.ts';
import { readXlsxRows } from '../runtime/xlsx.ts';
import { fileHead } from './v2.ts';

// The CAD Trust v1 template (reference/cadt.md §1.2, §3.5) as a national registry uploads it: a workbook
// with one sheet per table, named by the plural model name (`projects`, `units`, `issuances`, `labels`,
// `label_units`…), or one CSV file per table. Child tables carry their parent's key (`warehouseProjectId`,
// `labelId`, `warehouseUnitId`); a unit names its issuance by `issuanceId`, or carries it whole in an
// `issuance` cell as CAD Trust's own exports do. The same tables may come as one JSON document keyed by
// table name (`{"projects": [...], "units": [...]}`), as `tally export --format cadt-v1` writes them.
// A sheet or file is recognised by its name or, failing
// that, by its header row (pandas writes `Sheet1` and an unnamed index column first). Workbooks are read
// whole: exceljs's streaming reader fails on a workbook whose sheets come before its workbook part in the
// zip, as exceljs itself writes them once there are ten or so sheets, and a CAD Trust export has about ten.

export const CADT_TABLES = [
  'projects', 'projectLocations', 'estimations', 'relatedProjects', 'coBenefits', 'projectRatings', 'issuances', 'units', 'labels', 'label_units',
] as const;
export type CadtTable = (typeof CADT_TABLES)[number];

/** The CAD Trust v1 fields Tally reads, by table (src/models/<entity>/<entity>.modeltypes.cjs). */
export const CADT_FIELDS: Record<CadtTable, readonly string[]> = {
  projects: [
    'warehouseProjectId', 'currentRegistry', 'projectId', 'originProjectId', 'registryOfOrigin', 'program', 'projectName', 'projectLink',
    'projectDeveloper', 'sector', 'projectType', 'projectTags', 'coveredByNDC', 'ndcInformation', 'projectStatus', 'projectStatusDate',
    'unitMetric', 'methodology', 'methodology2', 'validationBody', 'validationDate', 'description',
    // Flattened from the child tables in CAD Trust's CDM upload files.
    'country', 'inCountryRegion', 'geographicIdentifier', 'estimations',
  ],
  projectLocations: ['id', 'warehouseProjectId', 'country', 'inCountryRegion', 'geographicIdentifier', 'fileId'],
  estimations: ['id', 'warehouseProjectId', 'creditingPeriodStart', 'creditingPeriodEnd', 'unitCount'],
  relatedProjects: ['id', 'warehouseProjectId', 'relatedProjectId', 'relationshipType', 'registry'],
  coBenefits: ['id', 'warehouseProjectId', 'cobenefit'],
  projectRatings: ['id', 'warehouseProjectId', 'ratingType', 'ratingRangeHighest', 'ratingRangeLowest', 'rating', 'ratingLink'],
  issuances: ['id', 'warehouseProjectId', 'startDate', 'endDate', 'verificationApproach', 'verificationReportDate', 'verificationBody'],
  units: [
    'warehouseUnitId', 'issuanceId', 'issuance', 'warehouseProjectId', 'projectLocationId', 'unitOwner', 'countryJurisdictionOfOwner',
    'inCountryJurisdictionOfOwner', 'serialNumberBlock', 'unitBlockStart', 'unitBlockEnd', 'unitCount', 'vintageYear', 'unitType',
    'marketplace', 'marketplaceLink', 'marketplaceIdentifier', 'unitTags', 'unitStatus', 'unitStatusReason', 'unitRegistryLink',
    'correspondingAdjustmentDeclaration', 'correspondingAdjustmentStatus',
  ],
  labels: [
    'id', 'warehouseProjectId', 'label', 'labelType', 'creditingPeriodStartDate', 'creditingPeriodEndDate', 'validityPeriodStartDate',
    'validityPeriodEndDate', 'unitQuantity', 'labelLink',
  ],
  label_units: ['id', 'labelId', 'warehouseUnitId'],
};

/** Columns that together identify a table's header row, most specific first (the order tables are tried in). */
const IDENTIFYING: [CadtTable, string[]][] = [
  ['label_units', ['labelId', 'warehouseUnitId']],
  ['labels', ['label', 'labelType']],
  ['relatedProjects', ['warehouseProjectId', 'relatedProjectId']],
  ['coBenefits', ['warehouseProjectId', 'cobenefit']],
  ['projectRatings', ['warehouseProjectId', 'ratingType']],
  ['estimations', ['warehouseProjectId', 'creditingPeriodStart', 'creditingPeriodEnd', 'unitCount']],
  ['units', ['unitStatus', 'unitCount']],
  ['projects', ['projectId', 'projectName', 'currentRegistry']],
  ['issuances', ['warehouseProjectId', 'startDate', 'endDate']],
  ['projectLocations', ['warehouseProjectId', 'country']],
];

const key = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
const FIELD_NAMES = new Map(Object.values(CADT_FIELDS).flat().map((f) => [key(f), f]));

/** A header cell as the CAD Trust field it names (`unitblockstart`, `Unit Block Start` → `unitBlockStart`), else as written. */
export const fieldName = (header: string) => FIELD_NAMES.get(key(header)) ?? normalizeHeader(header);

/** The table a sheet name names: `units`, `Units`, `label_units`, `label_unit`, `projectLocations`. */
export function cadtTableOfSheet(name: string): CadtTable | undefined {
  const k = key(name);
  return CADT_TABLES.find((t) => k === key(t) || k === key(t).replace(/s$/, ''));
}

/** The table a header row belongs to, from the CAD Trust field names in it. */
export function cadtTableOfHeaders(headers: readonly (string | undefined)[]): CadtTable | undefined {
  const cells = new Set(Array.from(headers, (h) => key(h ?? '')));
  return IDENTIFYING.find(([, columns]) => columns.every((c) => cells.has(key(c))))?.[0];
}

/** One table row as uploaded: its table, where it is, and its cells by CAD Trust field name. */
export type CadtRow = { table: CadtTable; locator: string; values: Record<string, string> };

const isUnnamed = (header: string) => header === '' || /^Unnamed: \d+$/.test(header);

function byField(values: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [header, value] of Object.entries(values)) if (!isUnnamed(header)) out[fieldName(header)] = value;
  return out;
}

/**
 * The rows of a workbook's table sheets: each sheet is read as the table its name names, else as the
 * table its header row shows; sheets with no such header go to `skipped`.
 */
async function* workbookRows(path: string, skipped: string[]): AsyncGenerator<CadtRow> {
  const file = basename(path);
  const tableOfSheet = new Map<string, CadtTable>();
  const rows = readXlsxRows(path, {
    isHeader: (cells) => cadtTableOfHeaders(cells) !== undefined,
    onHeader: ({ sheet, headers }) => tableOfSheet.set(sheet, cadtTableOfSheet(sheet) ?? cadtTableOfHeaders(headers)!),
    onSkippedSheet: (sheet) => skipped.push(sheet),
  });
  for await (const row of rows) {
    yield { table: tableOfSheet.get(row.sheet)!, locator: `${file} sheet "${row.sheet}" row ${row.line}`, values: byField(row.values) };
  }
}

/** A JSON value as the text a cell would hold: lists and records as JSON (the `issuance` and `estimations` cells read it). */
const cellOf = (value: unknown): string =>
  value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);

/** The tables of a JSON document keyed by v1 table name, each a list of records; undefined when it is not one. */
async function readJsonTables(path: string): Promise<[string, CadtTable, Record<string, unknown>[]][] | undefined> {
  // A document of v1 tables opens with a table's name; anything else (a saved API answer) is not parsed whole.
  if (!/^\uFEFF?\s*\{\s*"(projects?|projectLocations?|estimations?|relatedProjects?|coBenefits?|projectRatings?|issuances?|units?|labels?|label_units?)"\s*:/i.test(await fileHead(path, 4096))) return undefined;
  let document: unknown;
  try {
    document = JSON.parse(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
  if (!document || typeof document !== 'object' || Array.isArray(document)) return undefined;
  const tables = Object.entries(document as Record<string, unknown>).flatMap(([name, list]) => {
    const table = cadtTableOfSheet(name);
    return table && Array.isArray(list) ? [[name, table, list.filter((r) => r && typeof r === 'object') as Record<string, unknown>[]] as const] : [];
  });
  // A table named like a v1 one whose records carry v1 field names (v2 documents use other names: `unit`, `cadTrustUnitId`).
  const v2 = tables.some(([, , list]) => list.some((r) => Object.keys(r).some((k) => /^cadTrust\w+Id$/.test(k))));
  const v1 = !v2 && tables.some(([, , list]) => list.length > 0 && cadtTableOfHeaders(Object.keys(list[0]!)) !== undefined);
  return v1 ? tables.map(([name, table, list]) => [name, table, list]) : undefined;
}

/** Whether a file is a CAD Trust v1 table (a CSV file) or holds some (a workbook, a JSON document), from its header rows. */
export async function isCadtFile(path: string): Promise<boolean> {
  if (/\.json$/i.test(path)) return (await readJsonTables(path)) !== undefined;
  if (/\.csv$/i.test(path)) return cadtTableOfHeaders(await readCsvHeaders(path)) !== undefined;
  if (!/\.xlsx$/i.test(path)) return false;
  const skipped: string[] = [];
  let sheets = 0;
  for await (const _ of readXlsxRows(path, { isHeader: (cells) => cadtTableOfHeaders(cells) !== undefined, onHeader: () => { sheets += 1; }, onSkippedSheet: (s) => skipped.push(s) })) break;
  return sheets > 0;
}

/**
 * Every table row of one file. A workbook's sheet is read as the table its name names, else as the
 * table its header row shows; sheets with no such header are listed in `skipped`.
 */
export async function readCadtFile(path: string): Promise<{ rows: CadtRow[]; skipped: string[] }> {
  const file = basename(path);
  const rows: CadtRow[] = [];
  if (/\.xlsx$/i.test(path)) {
    const skipped: string[] = [];
    for await (const row of workbookRows(path, skipped)) rows.push(row);
    return { rows, skipped };
  }
  if (/\.json$/i.test(path)) {
    const tables = await readJsonTables(path);
    if (!tables) throw new Error('the JSON document holds no CAD Trust v1 table (expected keys such as projects, units, issuances with v1 field names)');
    for (const [name, table, list] of tables) {
      list.forEach((record, i) => rows.push({
        table, locator: `${file} ${name}[${i}]`, values: byField(Object.fromEntries(Object.entries(record).map(([k, v]) => [k, cellOf(v)]))),
      }));
    }
    return { rows, skipped: [] };
  }
  if (!/\.csv$/i.test(path)) throw new Error('expected a CAD Trust v1 workbook (.xlsx), table (.csv) or JSON document');
  const table = cadtTableOfHeaders(await readCsvHeaders(path));
  if (!table) {
    throw new Error('the header names no CAD Trust v1 table (expected field names such as projectId, projectName, currentRegistry or unitStatus, unitCount)');
  }
  for await (const row of readCsvRows(path)) rows.push({ table, locator: `${file} line ${row.line}`, values: byField(row.values) });
  return { rows, skipped: [] };
}
