import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sql, type SQL } from 'drizzle-orm';
import ExcelJS from 'exceljs';
import { cadtV1Tables, V1_EXPORT_COLUMNS, V1_EXPORT_TABLES, type CadtV1Document } from '../connectors/cad-trust/export-v1.ts';
import { cadtV2Entities, type CadtV2Document } from '../connectors/cad-trust/export-v2.ts';
import type { LedgerSlice, SliceBlock, SliceIssuance, SliceLabel, SliceProject, SliceRegistry } from '../connectors/cad-trust/slice.ts';
import { bigintArray, rows, textArray, visibleTo, type Database } from '../schema/database.ts';
import { isTerm, vocabularies } from '../schema/taxonomy/index.ts';
import { safeCellValue } from './safe-cell.ts';

// Any slice of the ledger in CAD Trust form, so Tally can feed a CAD Trust node (or a national registry can
// take back what Tally holds of it): v1 as the template's tables (a JSON document or a workbook with one
// sheet per table, both of which `tally ingest` reads back), v2 as records per entity (one JSON document
// keyed by entity, or a folder with one saved `/v2/<entity>` answer per entity). The slice is chosen by
// registry, project, country, vintage, unit status and publishing organization; what the viewer may not
// see (another organization's private rows) is never in it.

export type CadtFormat = 'cadt-v1' | 'cadt-v2';
export const CADT_FORMATS: readonly CadtFormat[] = ['cadt-v1', 'cadt-v2'];

export type CadtExportFilter = {
  registries?: string[];
  /** Project keys (`verra:1340`) or the registries' own ids (`1340`). */
  projects?: string[];
  /** ISO 3166-1 alpha-2. */
  countries?: string[];
  vintageFrom?: number;
  vintageTo?: number;
  /** Unit statuses (`held`, `retired`…): only blocks in them, and the issuances and projects they belong to. */
  statuses?: string[];
  /** Only what this organization published (its private rows too, when it is the viewer). */
  organization?: number;
};

/** A filter that names something Tally does not have, or a slice larger than the export allows. */
export class CadtExportError extends Error {}

/** Blocks one export may hold: a slice larger than this is refused with a request to narrow the filters. */
export const MAX_EXPORT_BLOCKS = 200_000;

/** Checks a filter's values against the ledger's registries and the vocabularies; throws CadtExportError saying what is accepted. */
export async function checkFilter(db: Database, filter: CadtExportFilter): Promise<void> {
  if (filter.registries?.length) {
    const known = (await rows<{ id: string }>(db, sql`select id from registries order by id`)).map((r) => r.id);
    const unknown = filter.registries.filter((r) => !known.includes(r));
    if (unknown.length) throw new CadtExportError(`registry: unknown ${unknown.map((u) => `"${u}"`).join(', ')}; expected one of: ${known.join(', ')}`);
  }
  const badCountries = (filter.countries ?? []).filter((c) => !/^[A-Z]{2}$/.test(c));
  if (badCountries.length) throw new CadtExportError(`country: ${badCountries.map((c) => `"${c}"`).join(', ')} is not an ISO 3166-1 alpha-2 code (JP, BR, US…)`);
  const badStatuses = (filter.statuses ?? []).filter((s) => !isTerm('unitStatus', s));
  if (badStatuses.length) {
    throw new CadtExportError(`status: unknown ${badStatuses.map((s) => `"${s}"`).join(', ')}; expected one of: ${vocabularies.unitStatus!.terms.map((t) => t.code).join(', ')}`);
  }
  for (const [name, year] of [['vintage from', filter.vintageFrom], ['vintage to', filter.vintageTo]] as const) {
    if (year !== undefined && (!Number.isInteger(year) || year < 1990 || year > 2100)) throw new CadtExportError(`${name}: ${year} is not a vintage year`);
  }
  if (filter.vintageFrom !== undefined && filter.vintageTo !== undefined && filter.vintageTo < filter.vintageFrom) {
    throw new CadtExportError(`vintage: ${filter.vintageTo} is before ${filter.vintageFrom}`);
  }
}

const and = (parts: SQL[]) => sql.join(parts, sql` and `);
const vintageRange = (filter: CadtExportFilter, column: SQL): SQL[] => [
  ...(filter.vintageFrom !== undefined ? [sql`${column} >= ${filter.vintageFrom}`] : []),
  ...(filter.vintageTo !== undefined ? [sql`${column} <= ${filter.vintageTo}`] : []),
];

/** The slice of the ledger a filter selects, as `viewer` (an organization id, or null for public data) may see it. */
export async function readSlice(db: Database, filter: CadtExportFilter, viewer: number | null, maxBlocks = MAX_EXPORT_BLOCKS): Promise<LedgerSlice> {
  await checkFilter(db, filter);
  const owner = (alias: string) => (filter.organization !== undefined ? [sql`${sql.raw(alias)}.owner_organization_id = ${filter.organization}`] : []);
  const unitLevel = Boolean(filter.statuses?.length) || filter.vintageFrom !== undefined || filter.vintageTo !== undefined;

  const projectParts: SQL[] = [visibleTo('p', viewer), ...owner('p')];
  if (filter.registries?.length) projectParts.push(sql`p.registry_id = any(${textArray(filter.registries)})`);
  if (filter.countries?.length) projectParts.push(sql`p.country = any(${textArray(filter.countries)})`);
  if (filter.projects?.length) projectParts.push(sql`(p.key = any(${textArray(filter.projects)}) or p.registry_project_id = any(${textArray(filter.projects)}))`);
  let projects = await rows<SliceProject>(db, sql`select p.id::float8 as id, p.key, p.registry_id as registry, p.registry_project_id as "registryProjectId",
      p.name, p.proponent, p.country, p.region, p.sector, p.cadt_project_type as "cadtProjectType", p.project_type as "projectType", p.category,
      p.methodology_raw as "methodologyRaw", p.status::text as status, p.registered_on::text as "registeredOn",
      p.crediting_period_start::text as "creditingPeriodStart", p.crediting_period_end::text as "creditingPeriodEnd",
      p.estimated_annual_quantity::float8 as "estimatedAnnualQuantity", p.co_benefits as "coBenefits", p.covered_by_ndc::text as "coveredByNdc",
      p.latitude, p.longitude, p.registry_url as "registryUrl", p.other_programs as "otherPrograms",
      coalesce((select b.finished_at from batches b where b.id = p.last_batch_id), p.updated_at)::date::text as "seenOn", null as "cadtId"
    from projects p where ${and(projectParts)} order by p.key`);
  const projectIds = projects.map((p) => p.id);
  if (projectIds.length === 0) return { registries: new Map(), projects: [], issuances: [], blocks: [], labels: [] };

  const blockParts: SQL[] = [visibleTo('b', viewer), ...owner('b'), sql`b.project_id = any(${bigintArray(projectIds)})`, sql`b.superseded_in_batch_id is null`,
    ...vintageRange(filter, sql`b.vintage_year`)];
  if (filter.statuses?.length) blockParts.push(sql`b.status::text = any(${textArray(filter.statuses)})`);
  const blocks = await rows<SliceBlock>(db, sql`select b.id::float8 as id, b.project_id::float8 as "projectId", b.issuance_id::float8 as "issuanceId",
      b.registry_id as registry, b.block_key as "blockKey", b.number_space as "numberSpace", b.serial_start::float8 as "serialStart",
      b.serial_end::float8 as "serialEnd", b.serial_raw as "serialRaw", b.quantity::float8 as quantity, b.vintage_year as "vintageYear",
      b.unit_type::text as "unitType", b.status::text as status, b.status_date::text as "statusDate", b.retirement_beneficiary as "retirementBeneficiary",
      b.retirement_reason as "retirementReason", b.retirement_details as "retirementDetails", b.account_holder as "accountHolder",
      b.article6_authorization as "article6Authorization", b.ca_declaration::text as "caDeclaration", b.ca_status::text as "caStatus"
    from unit_blocks b where ${and(blockParts)} order by b.project_id, b.number_space, b.serial_start, b.block_key limit ${maxBlocks + 1}`);
  if (blocks.length > maxBlocks) {
    throw new CadtExportError(`the slice holds more than ${maxBlocks.toLocaleString('en-US')} unit blocks; narrow it (registry, project, country, vintage, status)`);
  }

  const issuanceParts: SQL[] = [visibleTo('i', viewer), ...owner('i'), sql`i.project_id = any(${bigintArray(projectIds)})`,
    ...vintageRange(filter, sql`coalesce(i.vintage_year, extract(year from i.vintage_start)::int)`)];
  if (filter.statuses?.length) {
    const withBlocks = [...new Set(blocks.flatMap((b) => (b.issuanceId === null ? [] : [b.issuanceId])))];
    issuanceParts.push(sql`i.id = any(${bigintArray(withBlocks)})`);
  }
  let issuances = await rows<SliceIssuance>(db, sql`select i.id::float8 as id, i.project_id::float8 as "projectId", i.issuance_key as "issuanceKey",
      i.vintage_start::text as "vintageStart", i.vintage_end::text as "vintageEnd", i.vintage_year as "vintageYear", i.issued_on::text as "issuedOn",
      i.quantity::float8 as quantity, null as "cadtIssuanceId"
    from issuances i where ${and(issuanceParts)} order by i.project_id, i.issuance_key`);
  // A block whose issuance the filters leave out (another vintage, not visible) is exported without it.
  const issuanceSet = new Set(issuances.map((i) => i.id));
  for (const b of blocks) if (b.issuanceId !== null && !issuanceSet.has(b.issuanceId)) b.issuanceId = null;

  if (unitLevel) {
    // Filters on units keep the projects that have something in the slice.
    const used = new Set([...blocks.map((b) => b.projectId), ...issuances.map((i) => i.projectId)]);
    projects = projects.filter((p) => used.has(p.id));
  }
  const kept = projects.map((p) => p.id);
  const blockIds = blocks.map((b) => b.id);
  const labels = await rows<SliceLabel>(db, sql`select l.id::float8 as id, l.project_id::float8 as "projectId", l.label_type::text as "labelType", l.label,
      l.crediting_period_start::text as "creditingPeriodStart", l.crediting_period_end::text as "creditingPeriodEnd",
      l.validity_period_start::text as "validityPeriodStart", l.validity_period_end::text as "validityPeriodEnd", l.unit_quantity::float8 as "unitQuantity",
      l.label_link as "labelLink",
      coalesce((select array_agg(lb.block_id::float8 order by lb.block_id) from label_blocks lb where lb.label_id = l.id and lb.block_id = any(${bigintArray(blockIds)})), '{}') as "blockIds"
    from labels l where ${and([visibleTo('l', viewer), ...owner('l'), sql`l.project_id = any(${bigintArray(kept)})`])} order by l.project_id, l.label_type, l.label`);

  // The CAD Trust keys the records came with, where they came from a CAD Trust upload.
  const keyed = await rows<{ project_id: number; cadt_id: string }>(db, sql`select distinct on (l.project_id) l.project_id::float8 as project_id,
      coalesce(r.payload->>'cadTrustProjectId', r.payload->>'warehouseProjectId') as cadt_id
    from record_lineage l join raw_records r on r.id = l.raw_record_id
    where l.project_id = any(${bigintArray(kept)}) and r.stream in ('cadt-projects', 'cadt-v2-project') and ${visibleTo('r', viewer)}
      and coalesce(r.payload->>'cadTrustProjectId', r.payload->>'warehouseProjectId') is not null
    order by l.project_id, r.id desc`);
  const cadtIds = new Map(keyed.map((k) => [k.project_id, k.cadt_id]));
  for (const p of projects) p.cadtId = cadtIds.get(p.id) ?? null;
  const issued = await rows<{ issuance_id: number; issuance: string }>(db, sql`select distinct on (l.issuance_id) l.issuance_id::float8 as issuance_id,
      r.payload->>'issuanceId' as issuance
    from record_lineage l join raw_records r on r.id = l.raw_record_id
    where l.issuance_id = any(${bigintArray(issuances.map((i) => i.id))}) and r.stream = 'cadt-v2-issuance' and ${visibleTo('r', viewer)}
      and r.payload->>'issuanceId' is not null
    order by l.issuance_id, r.id desc`);
  const issuanceNames = new Map(issued.map((i) => [i.issuance_id, i.issuance]));
  issuances = issuances.map((i) => ({ ...i, cadtIssuanceId: issuanceNames.get(i.id) ?? null }));

  const registryRows = await rows<SliceRegistry>(db, sql`select id, name, url from registries
    where id = any(${textArray([...new Set(projects.map((p) => p.registry))])})`);
  const keptSet = new Set(kept);
  return {
    registries: new Map(registryRows.map((r) => [r.id, r])),
    projects,
    issuances: issuances.filter((i) => keptSet.has(i.projectId)),
    blocks,
    labels: unitLevel ? labels.filter((l) => l.blockIds.length > 0) : labels,
  };
}

export type CadtExport =
  | { format: 'cadt-v1'; document: CadtV1Document; counts: Record<string, number> }
  | { format: 'cadt-v2'; document: CadtV2Document; counts: Record<string, number>; gaps: Record<string, number> };

/** The slice in one of the CAD Trust forms. */
export async function exportCadt(db: Database, format: CadtFormat, filter: CadtExportFilter, viewer: number | null, maxBlocks = MAX_EXPORT_BLOCKS): Promise<CadtExport> {
  const slice = await readSlice(db, filter, viewer, maxBlocks);
  const counts = (doc: Record<string, unknown[] | undefined>) => Object.fromEntries(Object.entries(doc).map(([k, v]) => [k, v?.length ?? 0]));
  if (format === 'cadt-v1') {
    const document = cadtV1Tables(slice);
    return { format, document, counts: counts(document) };
  }
  const { document, gaps } = cadtV2Entities(slice);
  return { format, document, counts: counts(document), gaps };
}

/** A v1 document as a workbook: one sheet per table, named as the v1 upload expects, the fields as headers. */
export function cadtV1Workbook(document: CadtV1Document): ExcelJS.Workbook {
  const workbook = new ExcelJS.Workbook();
  for (const table of V1_EXPORT_TABLES) {
    const sheet = workbook.addWorksheet(table);
    const columns = V1_EXPORT_COLUMNS[table];
    sheet.addRow([...columns]);
    for (const row of document[table] ?? []) sheet.addRow(columns.map((c) => safeCellValue(row[c] ?? null)));
  }
  return workbook;
}

/** A v2 entity's records as a v2 node answers `GET /v2/<entity>` with every record on one page. */
export const v2Page = (records: unknown[]) => ({ page: 1, pageCount: 1, data: records });

/**
 * Writes an export: v1 as `.json` or `.xlsx`; v2 as one `.json` document keyed by entity, or, for a path
 * without `.json`, a folder with one `<entity>.json` saved answer per entity. Returns the files written.
 */
export async function writeCadtExport(result: CadtExport, out: string): Promise<string[]> {
  if (result.format === 'cadt-v1') {
    if (/\.xlsx$/i.test(out)) {
      await cadtV1Workbook(result.document).xlsx.writeFile(out);
      return [out];
    }
    if (!/\.json$/i.test(out)) throw new CadtExportError(`--out: a CAD Trust v1 export is written as .json or .xlsx, not "${out}"`);
    await writeFile(out, `${JSON.stringify(result.document, null, 1)}\n`);
    return [out];
  }
  if (/\.json$/i.test(out)) {
    await writeFile(out, `${JSON.stringify(result.document, null, 1)}\n`);
    return [out];
  }
  await mkdir(out, { recursive: true });
  const written: string[] = [];
  for (const [entity, records] of Object.entries(result.document)) {
    const path = join(out, `${entity}.json`);
    await writeFile(path, `${JSON.stringify(v2Page(records), null, 1)}\n`);
    written.push(path);
  }
  return written;
}
