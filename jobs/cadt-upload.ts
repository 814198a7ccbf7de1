import { basename } from 'node:path';
import { sql } from 'drizzle-orm';
import { cadtReferences, mapCadtUpload, type CadtLedger, type LedgerProject } from '../connectors/cad-trust/map-upload.ts';
import { cadtV2References, mapCadtV2Upload, projectKeyOfV2, type CadtV2Ledger } from '../connectors/cad-trust/map-v2.ts';
import { CAD_TRUST_SOURCE, withExclusiveStarts, writesExclusiveBounds } from '../connectors/cad-trust/mirrors.ts';
import { asMirrors } from '../connectors/mirrors.ts';
import type { NationalRegistry } from '../connectors/cad-trust/registries.ts';
import { readCadtV2File, V2_ENTITIES, type V2Entity, type V2Problem, type V2Row } from '../connectors/cad-trust/v2.ts';
import { cadtTableOfSheet, readCadtFile, type CadtRow, CADT_TABLES } from '../connectors/cad-trust/v1.ts';
import type { Mapped, RawRecord, RowError } from '../connectors/types.ts';
import { registries } from '../schema/db/index.ts';
import { ownedBy, rows, textArray, type Database } from '../schema/database.ts';
import { ingest, type IngestOptions, type IngestSummary } from './ingest.ts';

// A national registry's upload in the CAD Trust v1 template, or of CAD Trust v2 records
// (connectors/cad-trust/README.md): the files given together are one upload and one batch, through the ingest job, so raw
// records, lineage, the batch digest and the integrity check after commit apply as to any source. Units
// and labels may refer to projects and issuances of the organization's earlier uploads.
//
// Records of a registry whose own data Tally reads (the CDM, Verra…) are mirrors: evidence beside that
// registry's units, never tonnes (connectors/cad-trust/mirrors.ts). An organization's upload (a
// government's) with any row error stores nothing but its failed batch and the row-level reasons; CAD
// Trust's public data, loaded without an organization, reports its row errors and keeps the rest.

export const CADT_CONNECTOR = 'cadt-v1';

/** Projects of this source's earlier uploads (the same organization, or none) that the upload refers to. */
async function lookUpLedger(db: Database, uploaded: CadtRow[], viewer: number | null): Promise<CadtLedger> {
  const refs = cadtReferences(uploaded);
  type Found = { key: string; registry: string; registry_project_id: string; country: string | null; methodology: string | null };
  const asMap = (found: Found[]) => new Map<string, LedgerProject>(found.map((p) => [p.key, {
    registry: p.registry, registryProjectId: p.registry_project_id, country: p.country, methodology: p.methodology,
  }]));
  const columns = sql`p.registry_id as registry, p.registry_project_id, p.country, p.methodology_raw as methodology`;
  // A project of an earlier CAD Trust upload is known by the warehouseProjectId of the row that yielded it.
  const byWarehouseId = refs.warehouseProjectIds.length === 0 ? [] : await rows<Found>(db, sql`select distinct on (r.payload->>'warehouseProjectId')
      r.payload->>'warehouseProjectId' as key, ${columns}
    from raw_records r join record_lineage l on l.raw_record_id = r.id join projects p on p.id = l.project_id
    where r.stream = 'cadt-projects' and r.payload->>'warehouseProjectId' = any(${textArray(refs.warehouseProjectIds)})
      and ${ownedBy('r', viewer)} and ${ownedBy('p', viewer)}
    order by r.payload->>'warehouseProjectId', r.id desc`);
  const byLink = refs.links.length === 0 ? [] : await rows<Found>(db, sql`select distinct on (p.registry_url) p.registry_url as key, ${columns}
    from projects p where p.registry_url = any(${textArray(refs.links)}) and ${ownedBy('p', viewer)}
    order by p.registry_url, p.id`);
  const byIssuance = refs.issuanceIds.length === 0 ? [] : await rows<Found>(db, sql`select distinct on (i.issuance_key) i.issuance_key as key, ${columns}
    from issuances i join projects p on p.id = i.project_id
    where i.issuance_key = any(${textArray(refs.issuanceIds)}) and ${ownedBy('i', viewer)}
    order by i.issuance_key, i.id`);
  const units = refs.warehouseUnitIds.length === 0 ? [] : await rows<{ block_key: string; registry_id: string }>(db, sql`select block_key, registry_id
    from unit_blocks b where b.block_key = any(${textArray(refs.warehouseUnitIds)}) and ${ownedBy('b', viewer)}`);
  const schemes = await rows<{ id: string; serial_scheme: string }>(db, sql`select id, serial_scheme from registries`);
  return {
    serialSchemes: new Map(schemes.map((s) => [s.id, s.serial_scheme])),
    projectsByWarehouseId: asMap(byWarehouseId),
    projectsByLink: asMap(byLink),
    projectsByIssuance: asMap(byIssuance),
    unitRegistries: new Map(units.map((u) => [u.block_key, u.registry_id])),
  };
}

/** National registries an upload names for the first time (reference data, like the seeded registries). */
async function createRegistries(db: Database, list: NationalRegistry[]): Promise<void> {
  if (list.length > 0) await db.insert(registries).values(list).onConflictDoNothing({ target: registries.id });
}

/** A records stream that fails the batch with one message (an unreadable file, a sheet that is not a table). */
async function* failing(message: string): AsyncGenerator<RawRecord> {
  throw new Error(message);
}

/** A government's upload is all or nothing; CAD Trust's public data (no organization) keeps its good rows. */
const rejectsOnRowErrors = (options: IngestOptions) => options.rejectOnRowErrors ?? options.ownerOrganizationId != null;

/** Ingests one CAD Trust v1 upload (the files together) as one batch. */
export async function ingestCadt(db: Database, paths: string[], options: IngestOptions = {}): Promise<IngestSummary> {
  const source = paths.map((p) => basename(p)).join(', ');
  const rejectOnRowErrors = rejectsOnRowErrors(options);
  const run = (records: AsyncIterable<RawRecord>, map: (raw: RawRecord) => Mapped) =>
    ingest(db, { kind: 'upload', connector: CADT_CONNECTOR, source, records, map }, { ...options, rejectOnRowErrors });

  const uploaded: CadtRow[] = [];
  // The rows as mapped: a file whose every block spans one unit more than it counts is read with its starts exclusive.
  const read: CadtRow[] = [];
  const notes = new Map<string, RowError>();
  const problems: string[] = [];
  for (const path of paths) {
    try {
      const file = await readCadtFile(path);
      uploaded.push(...file.rows);
      const exclusive = writesExclusiveBounds(file.rows);
      read.push(...(exclusive ? withExclusiveStarts(file.rows) : file.rows));
      const first = file.rows.find((row) => row.table === 'units');
      if (exclusive && first) {
        notes.set(first.locator, { locator: basename(path), field: 'unitBlockStart', code: 'exclusive-block-bounds',
          message: `${basename(path)}: every unit row spans one unit more than its unitCount (unitBlockEnd − unitBlockStart = unitCount); each block is read as starting after unitBlockStart` });
      }
      for (const sheet of file.skipped) {
        const table = cadtTableOfSheet(sheet);
        if (table) problems.push(`${basename(path)}: sheet "${sheet}" has no header row of CAD Trust v1 ${table} fields`);
      }
    } catch (error) {
      problems.push(`${basename(path)}: ${(error as Error).message}`);
    }
  }
  if (problems.length === 0 && uploaded.length === 0) problems.push(`${source}: no CAD Trust v1 table (projects, units, issuances, labels…) in the upload`);
  if (problems.length > 0) return run(failing(problems.join('; ')), () => ({ records: [], errors: [] }));

  const { mapped, nationalRegistries } = mapCadtUpload(read, await lookUpLedger(db, read, options.ownerOrganizationId ?? null));
  // An upload that will be refused writes nothing: its rows are read, checked and reported, and none is stored.
  const refused = rejectOnRowErrors && [...mapped.values()].some((m) => m.errors.length > 0);
  if (!refused) await createRegistries(db, nationalRegistries);

  // Projects first, then what hangs on them: issuances, units, the labels that cover units.
  const order = (row: CadtRow) => CADT_TABLES.indexOf(row.table);
  const ordered = uploaded.map((row, i) => ({ row, i })).sort((a, b) => order(a.row) - order(b.row) || a.i - b.i).map((x) => x.row);
  async function* records(): AsyncGenerator<RawRecord> {
    for (const row of ordered) {
      const v = row.values;
      const recordKey = (row.table === 'projects' ? v.warehouseProjectId || v.projectId : row.table === 'units' ? v.warehouseUnitId : v.id) || undefined;
      yield { stream: `cadt-${row.table}`, locator: row.locator, ...(recordKey ? { recordKey } : {}), payload: v };
    }
  }
  return run(records(), (raw) => {
    const m = asMirrors(mapped.get(raw.locator)!, raw.locator, CAD_TRUST_SOURCE);
    const note = notes.get(raw.locator);
    const warnings = note ? [note, ...m.warnings ?? []] : m.warnings;
    return refused ? { records: [], errors: m.errors, warnings } : { ...m, warnings };
  });
}

// ---- CAD Trust v2 ----

export const CADT_V2_CONNECTOR = 'cadt-v2';

/** How many rounds of "what do the found records refer to" an upload may need: unit → issuance → verification → project. */
const REFERENCE_ROUNDS = 5;

/**
 * The v2 records of this source's earlier uploads (the same organization, or none) that the upload refers to, and
 * the ledger projects the earlier projects became. Raw records keep each v2 record as received, by key.
 */
async function lookUpV2Ledger(db: Database, uploaded: V2Row[], viewer: number | null): Promise<CadtV2Ledger> {
  const earlier = new Map<V2Entity, Map<string, Record<string, unknown>>>();
  let wanted = cadtV2References(uploaded, earlier);
  for (let round = 0; round < REFERENCE_ROUNDS && wanted.size > 0; round += 1) {
    const found: { entity: V2Entity; values: Record<string, unknown> }[] = [];
    for (const [entity, ids] of wanted) {
      const list = await rows<{ record_key: string; payload: Record<string, unknown> }>(db, sql`select distinct on (r.record_key) r.record_key, r.payload
        from raw_records r where r.stream = ${`cadt-v2-${entity}`} and r.record_key = any(${textArray(ids)}) and ${ownedBy('r', viewer)}
        order by r.record_key, r.id desc`);
      const byId = earlier.get(entity) ?? new Map<string, Record<string, unknown>>();
      earlier.set(entity, byId);
      for (const { record_key: id, payload } of list) {
        byId.set(id, payload);
        found.push({ entity, values: payload });
      }
    }
    wanted = cadtV2References(found, earlier);
    // What is still missing after a round is reported by the mapper; only newly named keys are looked for again.
    for (const [entity, ids] of [...wanted]) {
      const fresh = ids.filter((id) => !earlier.get(entity)?.has(id));
      if (fresh.length === 0) wanted.delete(entity);
      else wanted.set(entity, fresh);
    }
  }
  const earlierProjects = new Map<string, LedgerProject>();
  const keys = [...(earlier.get('project') ?? new Map()).entries()].flatMap(([id, values]) => {
    const key = projectKeyOfV2(values);
    return key ? [{ id, key: `${key.registry}:${key.registryProjectId}` }] : [];
  });
  if (keys.length > 0) {
    const found = await rows<{ key: string; registry: string; registry_project_id: string; country: string | null; methodology: string | null }>(db, sql`
      select p.key, p.registry_id as registry, p.registry_project_id, p.country, p.methodology_raw as methodology from projects p
      where p.key = any(${textArray(keys.map((k) => k.key))}) and ${ownedBy('p', viewer)}`);
    const byKey = new Map(found.map((p) => [p.key, p]));
    for (const { id, key } of keys) {
      const p = byKey.get(key);
      if (p) earlierProjects.set(id, { registry: p.registry, registryProjectId: p.registry_project_id, country: p.country, methodology: p.methodology });
    }
  }
  const schemes = await rows<{ id: string; serial_scheme: string }>(db, sql`select id, serial_scheme from registries`);
  return { serialSchemes: new Map(schemes.map((s) => [s.id, s.serial_scheme])), earlier, earlierProjects };
}

/**
 * Ingests one CAD Trust v2 upload (the JSON files together) as one batch: records as a v2 node serves them,
 * projects first, then what hangs on them, units before the labels that cover them.
 */
export async function ingestCadtV2(db: Database, paths: string[], options: IngestOptions = {}): Promise<IngestSummary> {
  const source = paths.map((p) => basename(p)).join(', ');
  const rejectOnRowErrors = rejectsOnRowErrors(options);
  const run = (records: AsyncIterable<RawRecord>, map: (raw: RawRecord) => Mapped) =>
    ingest(db, { kind: 'upload', connector: CADT_V2_CONNECTOR, source, records, map }, { ...options, rejectOnRowErrors });

  const uploaded: V2Row[] = [];
  const unread: V2Problem[] = [];
  const failures: string[] = [];
  for (const path of paths) {
    try {
      const file = await readCadtV2File(path);
      uploaded.push(...file.rows);
      unread.push(...file.problems);
    } catch (error) {
      failures.push(`${basename(path)}: ${(error as Error).message}`);
    }
  }
  if (failures.length === 0 && uploaded.length === 0 && unread.length === 0) failures.push(`${source}: no CAD Trust v2 record in the upload`);
  if (failures.length > 0) return run(failing(failures.join('; ')), () => ({ records: [], errors: [] }));

  const { mapped, nationalRegistries } = mapCadtV2Upload(uploaded, unread, await lookUpV2Ledger(db, uploaded, options.ownerOrganizationId ?? null));
  const refused = rejectOnRowErrors && [...mapped.values()].some((m) => m.errors.length > 0);
  if (!refused) await createRegistries(db, nationalRegistries);

  const order = (row: V2Row) => V2_ENTITIES.indexOf(row.entity);
  const ordered = uploaded.map((row, i) => ({ row, i })).sort((a, b) => order(a.row) - order(b.row) || a.i - b.i).map((x) => x.row);
  async function* records(): AsyncGenerator<RawRecord> {
    for (const problem of unread) yield { stream: 'cadt-v2-unread', locator: problem.locator, payload: { problem: problem.message } };
    for (const row of ordered) {
      const recordKey = row.id ?? (row.entity === 'unit-label' ? `${String(row.values.cadTrustLabelId)}|${String(row.values.cadTrustUnitId)}` : undefined);
      yield { stream: `cadt-v2-${row.entity}`, locator: row.locator, ...(recordKey ? { recordKey } : {}), payload: row.values };
    }
  }
  return run(records(), (raw) => {
    const m = asMirrors(mapped.get(raw.locator)!, raw.locator, CAD_TRUST_SOURCE);
    return refused ? { records: [], errors: m.errors, warnings: m.warnings } : m;
  });
}
