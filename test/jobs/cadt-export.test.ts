import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ingestCadtV2 } from '../../jobs/cadt-upload.ts';
import { CadtExportError, exportCadt, writeCadtExport, type CadtExportFilter, type CadtFormat } from '../../jobs/cadt-export.ts';
import { exportCommand } from '../../cli/export.ts';
import { ingestFile } from '../../jobs/ingest-file.ts';
import { ingestFiles } from '../../jobs/ingest-files.ts';
import { organizations } from '../../schema/db/index.ts';
import { rows, type Database } from '../../schema/database.ts';
import { readCsv } from '../helpers/csv.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';

// Exports of ledger slices in CAD Trust v1 and v2 form, read back by Tally's own CAD Trust imports into a
// fresh ledger: ART TREES' sample exports (test/fixtures/registry-samples/art-trees) and the Article 6.4
// mechanism's constructed v2 upload, which organization A uploads privately. ART TREES publishes its own
// data, so in the fresh ledger its CAD Trust records are mirrors (README, "Sources of record and
// mirrors"): the round trip compares the ledger's blocks with the mirror records they come back as. The v2 export is validated with ajv against a JSON Schema built
// here from CAD Trust's machine-readable v2.0.2 schema (test/fixtures/cad-trust/cadtrust-schema-v2.0.2.json).

const samples = (name: string) => new URL(`../fixtures/registry-samples/art-trees/${name}`, import.meta.url).pathname;
const cadt = (name: string) => new URL(`../fixtures/cad-trust/${name}`, import.meta.url).pathname;
const A64 = ['a64-pacm-10471.json', 'a64-pacm-10471-units.json', 'a64-pacm-10471-unit-labels.json'].map(cadt);

type Figures = { projects: string[]; units: string[]; tonnes: Record<string, number>; labels: string[] };

/**
 * What a ledger holds of some registries' projects and units, in terms that do not depend on keys an
 * export may rename: from its own records, or (`mirrors`) from the CAD Trust records that report them.
 */
async function figures(db: Database, registries: string[], from: 'records' | 'mirrors'): Promise<Figures> {
  const reg = sql`array(select jsonb_array_elements_text(${JSON.stringify(registries)}::jsonb))`;
  if (from === 'records') {
    const projects = (await rows<{ key: string }>(db, sql`select key from projects where registry_id = any(${reg}) order by key`)).map((r) => r.key);
    const units = (await rows<{ b: string }>(db, sql`select concat_ws('|', p.key, b.number_space, b.serial_start, b.serial_end, b.quantity::float8, b.status,
        b.vintage_year) as b
      from unit_blocks b join projects p on p.id = b.project_id where b.registry_id = any(${reg}) order by 1`)).map((r) => r.b);
    const tonnes = Object.fromEntries((await rows<{ status: string; t: number }>(db, sql`select status::text, sum(quantity)::float8 as t from unit_blocks
      where registry_id = any(${reg}) group by 1 order by 1`)).map((r) => [r.status, r.t]));
    const labels = (await rows<{ l: string }>(db, sql`select concat_ws('|', p.key, l.label_type, l.label, count(lb.block_id)) as l from labels l
      join projects p on p.id = l.project_id left join label_blocks lb on lb.label_id = l.id where p.registry_id = any(${reg}) group by p.key, l.id order by 1`)).map((r) => r.l);
    return { projects, units, tonnes, labels };
  }
  const projects = (await rows<{ key: string }>(db, sql`select registry_id || ':' || project_ref as key from mirror_records
    where kind = 'project' and registry_id = any(${reg}) order by 1`)).map((r) => r.key);
  const units = (await rows<{ b: string }>(db, sql`select concat_ws('|', registry_id || ':' || project_ref, number_space, serial_start, serial_end, quantity::float8, status,
      vintage_year) as b
    from mirror_records where kind = 'units' and registry_id = any(${reg}) order by 1`)).map((r) => r.b);
  const tonnes = Object.fromEntries((await rows<{ status: string; t: number }>(db, sql`select status::text, sum(quantity)::float8 as t from mirror_records
    where kind = 'units' and registry_id = any(${reg}) group by 1 order by 1`)).map((r) => [r.status, r.t]));
  // A mirror's labels are its source's to keep: they stay in its raw records.
  return { projects, units, tonnes, labels: [] };
}

/**
 * Imports an export's files into a fresh ledger and returns its figures (from its records, or from the
 * mirror records of a registry that publishes its own data), and the tonnes of record it holds.
 */
async function roundTrip(files: string[], registries: string[], from: 'records' | 'mirrors' = 'mirrors'): Promise<Figures & { accepted: boolean[]; tonnesOfRecord: number }> {
  const fresh = await openTestDatabase();
  try {
    const outcomes = await ingestFiles(fresh.handle.db, files, { check: false });
    for (const o of outcomes) if (!o.accepted) throw new Error(`${o.files.join(', ')}: ${o.failure} ${o.kind === 'unread' ? '' : JSON.stringify(o.summary.errors.slice(0, 3))}`);
    const [record] = await rows<{ t: number }>(fresh.handle.db, sql`select (select coalesce(sum(quantity), 0) from unit_blocks)::float8
      + (select coalesce(sum(quantity), 0) from issuances)::float8 as t`);
    return { ...await figures(fresh.handle.db, registries, from), accepted: outcomes.map((o) => o.accepted), tonnesOfRecord: record!.t };
  } finally {
    await fresh.close();
  }
}

// ---- a JSON Schema per v2 entity, from CAD Trust's machine-readable schema ----

type SchemaField = { apiField: string; type: string; required: boolean; source: string; picklist?: string };
type CadtSchema = { tables: Record<string, { api_endpoint: string; fields: Record<string, SchemaField> }>; picklists: Record<string, string[] | { note: string }> };

function jsonSchemas(schema: CadtSchema, gaps: ReadonlySet<string>) {
  const schemas: Record<string, object> = {};
  for (const table of Object.values(schema.tables)) {
    const entity = table.api_endpoint.replace('/v2/', '');
    const properties: Record<string, object> = {};
    const required: string[] = [];
    for (const field of Object.values(table.fields)) {
      if (field.source === 'api_generated' && field.apiField !== 'cadTrustUnitLabelId') continue;
      const list = field.picklist ? schema.picklists[field.picklist] : undefined;
      const values = Array.isArray(list) ? { enum: list } : {};
      const type = field.type;
      properties[field.apiField] = type.startsWith('GUID') ? { type: 'string', format: 'uuid' }
        : type === 'URL' ? { type: 'string', format: 'uri' }
          : type.startsWith('Date') ? { type: 'string', format: 'date' }
            : type === 'Decimal' ? { type: 'number' }
              : type === 'Year' ? { type: 'integer', minimum: 1900, maximum: 2100 }
                : type === 'Array[String]' ? { type: 'array', items: { type: 'string', ...values } }
                  : { type: 'string', ...values };
      // Records as a node serves them carry their keys; what the node itself sets (orgUid, timestamps) is not Tally's to give.
      if (field.required && field.source !== 'api_generated' && field.apiField !== 'orgUid' && !gaps.has(`${entity}.${field.apiField}`)) required.push(field.apiField);
    }
    schemas[entity] = { type: 'object', properties, required, additionalProperties: false };
  }
  return schemas;
}

describe('CAD Trust export', () => {
  let t: TestDatabase;
  let db: Database;
  let dir: string;
  let orgA: number;
  let orgB: number;
  beforeAll(async () => {
    t = await openTestDatabase();
    db = t.handle.db;
    dir = mkdtempSync(join(tmpdir(), 'tally-cadt-export-'));
    for (const f of ['projects.csv', 'issuances.csv', 'retirements.csv', 'cancellations.csv']) await ingestFile(db, samples(f), { check: false });
    [{ id: orgA }, { id: orgB }] = await db.insert(organizations).values([
      { slug: 'pacm-feed', name: 'Article 6.4 mechanism feed' }, { slug: 'another-registry', name: 'Another registry' },
    ]).returning({ id: organizations.id }) as [{ id: number }, { id: number }];
    await ingestCadtV2(db, A64, { ownerOrganizationId: orgA, isPrivate: true, check: false });
  }, 120_000);
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const write = async (format: CadtFormat, out: string, filter: CadtExportFilter = {}, viewer: number | null = null) =>
    writeCadtExport(await exportCadt(db, format, filter, viewer), join(dir, out));

  it('when ART TREES is exported as CAD Trust v1 (JSON and workbook) and read into a fresh ledger, then CAD Trust\'s report of its projects, units and their tonnes comes back, and no tonne of record', async () => {
    const projects = readCsv(samples('projects.csv'));
    const moved = [...readCsv(samples('retirements.csv')), ...readCsv(samples('cancellations.csv'))];
    const source = await figures(db, ['art-trees'], 'records');
    // The figures of the source ledger are the registry's own.
    expect(source.projects).toEqual(projects.map((p) => `art-trees:${p['Program ID']}`).sort());
    expect(source.units).toHaveLength(moved.length);
    expect(Object.values(source.tonnes).reduce((a, b) => a + b, 0)).toBe(moved.reduce((n, r) => n + Number(r['Quantity of Credits']), 0));

    for (const out of ['art-v1.json', 'art-v1.xlsx']) {
      const back = await roundTrip(await write('cadt-v1', out, { registries: ['art-trees'] }), ['art-trees']);
      expect(back).toEqual({ ...source, accepted: [true], tonnesOfRecord: 0 });
    }
  });

  it('when ART TREES is exported as CAD Trust v2 (one document, and a folder of saved answers) and read back, then the same projects and units come back as CAD Trust\'s report', async () => {
    const registries = ['art-trees'];
    const source = await figures(db, registries, 'records');
    const document = await write('cadt-v2', 'all-v2.json', { registries });
    expect(await roundTrip(document, registries)).toEqual({ ...source, accepted: [true], tonnesOfRecord: 0 });
    const folder = await write('cadt-v2', 'all-v2', { registries });
    expect(folder.map((f) => f.split('/').pop())).toEqual(readdirSync(join(dir, 'all-v2')).sort((a, b) => folder.findIndex((f) => f.endsWith(`/${a}`)) - folder.findIndex((f) => f.endsWith(`/${b}`))));
    expect(await roundTrip(folder, registries)).toEqual({ ...source, accepted: [true], tonnesOfRecord: 0 });
  });

  it('when a slice is exported as v2, then every record validates against CAD Trust\'s v2.0.2 schema, its keys resolve, and only fields Tally does not hold are left empty', async () => {
    const result = await exportCadt(db, 'cadt-v2', { registries: ['art-trees'] }, null);
    expect(result.format).toBe('cadt-v2');
    if (result.format !== 'cadt-v2') return;
    const schema = JSON.parse(readFileSync(cadt('cadtrust-schema-v2.0.2.json'), 'utf8')) as CadtSchema;
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    (addFormats as unknown as (a: Ajv2020) => void)(ajv);
    const schemas = jsonSchemas(schema, new Set(Object.keys(result.gaps)));
    for (const [entity, records] of Object.entries(result.document)) {
      const validate = ajv.compile(schemas[entity]!);
      for (const record of records) {
        if (!validate(record)) throw new Error(`${entity} ${JSON.stringify(record)}: ${ajv.errorsText(validate.errors)}`);
      }
    }
    // The schema is not empty: a record without a required field, or with a value outside a picklist, fails.
    expect((schemas.project as { required: string[] }).required).toEqual(expect.arrayContaining(['cadTrustProjectId', 'projectRegistryName', 'projectId', 'projectName', 'projectStatusDate']));
    const unit = ajv.compile(schemas.unit!);
    const { unitCount: _, ...uncounted } = result.document.unit![0]!;
    expect([unit(result.document.unit![0]), unit({ ...result.document.unit![0], unitStatus: 'Exported' }), unit(uncounted), unit({ ...result.document.unit![0], orgUid: 'x' })])
      .toEqual([true, false, false, false]);
    // Every key a record names is a record of the export.
    const keys = new Map(Object.entries(result.document).map(([entity, list]) => [entity, new Set(list.map((r) => String(r[`cadTrust${entity.replace(/(^|-)(\w)/g, (_, __, c: string) => c.toUpperCase()).replace('CoBenefit', 'Cobenefit')}Id`])))]));
    const fks: [string, string, string][] = [['project-methodology', 'cadTrustProjectId', 'project'], ['project-methodology', 'cadTrustMethodologyId', 'methodology'],
      ['location', 'cadTrustProjectId', 'project'], ['verification', 'cadTrustProjectId', 'project'], ['issuance', 'cadTrustVerificationId', 'verification'],
      ['issuance', 'cadTrustProjectMethodologyId', 'project-methodology'], ['issuance', 'cadTrustLocationId', 'location'], ['unit', 'cadTrustIssuanceId', 'issuance'],
      ['stakeholder', 'cadTrustProjectId', 'project']];
    for (const [entity, field, target] of fks) {
      for (const record of result.document[entity] ?? []) if (record[field] !== undefined) expect(keys.get(target)!.has(String(record[field])), `${entity}.${field}`).toBe(true);
    }
    // The fields left empty, counted from the ledger: Tally keeps no verification bodies; reasons and dates only where registries gave them.
    const [ledger] = await rows<Record<string, number>>(db, sql`select
      (select count(*)::int from issuances i join projects p on p.id = i.project_id where p.registry_id = 'art-trees') as issuances,
      (select count(*)::int from unit_blocks where registry_id = 'art-trees' and retirement_reason is null) as "noReason",
      (select count(*)::int from unit_blocks where registry_id = 'art-trees' and status_date is null) as "noDate",
      (select count(*)::int from unit_blocks where registry_id = 'art-trees' and issuance_id is null) as "noIssuance"`);
    expect(ledger!.noIssuance).toBe(0);
    expect(result.gaps).toMatchObject({ 'verification.verificationBody': ledger!.issuances });
    expect(result.gaps['unit.unitStatusReason'] ?? 0).toBe(ledger!.noReason);
    expect(result.gaps['unit.unitStatusDate'] ?? 0).toBe(ledger!.noDate);
    expect(Object.keys(result.gaps).every((g) => ['verification.verificationBody', 'unit.unitStatusReason', 'unit.unitStatusDate', 'project.projectSector',
      'project.projectType', 'project.projectStatus'].includes(g))).toBe(true);
  });

  it('when filters narrow the slice (vintage, status, country, project), then the export holds exactly the ledger rows they select', async () => {
    const count = async (where: ReturnType<typeof sql>) => (await rows<{ n: number; t: number }>(db, sql`select count(*)::int as n, coalesce(sum(b.quantity), 0)::float8 as t
      from unit_blocks b join projects p on p.id = b.project_id where not b.is_private and ${where}`))[0]!;
    const units = async (filter: CadtExportFilter) => {
      const r = await exportCadt(db, 'cadt-v1', filter, null);
      const list = r.document.units ?? [];
      return { n: list.length, t: list.reduce((s, u) => s + Number(u.unitCount), 0), projects: r.document.projects?.length ?? 0 };
    };
    const art = await units({ registries: ['art-trees'], vintageFrom: 2021, vintageTo: 2022, statuses: ['retired'] });
    expect({ n: art.n, t: art.t }).toEqual(await count(sql`b.registry_id = 'art-trees' and b.vintage_year between 2021 and 2022 and b.status = 'retired'`));
    expect(art.projects).toBe((await rows(db, sql`select distinct project_id from unit_blocks where registry_id = 'art-trees' and vintage_year between 2021 and 2022 and status = 'retired'`)).length);
    const [{ country }] = await rows<{ country: string }>(db, sql`select p.country from unit_blocks b join projects p on p.id = b.project_id
      where not b.is_private group by 1 order by count(*) desc limit 1`) as [{ country: string }];
    const inCountry = await units({ countries: [country] });
    expect(inCountry.n).toBeGreaterThan(0);
    expect({ n: inCountry.n, t: inCountry.t }).toEqual(await count(sql`p.country = ${country}`));
    const one = await units({ projects: ['art-trees:ART102'] });
    expect({ n: one.n, t: one.t, projects: one.projects }).toEqual({ ...await count(sql`p.key = 'art-trees:ART102'`), projects: 1 });
    await expect(exportCadt(db, 'cadt-v1', { statuses: ['active'] }, null)).rejects.toThrow(CadtExportError);
    await expect(exportCadt(db, 'cadt-v1', { registries: ['atlantis'] }, null)).rejects.toThrow(/registry: unknown "atlantis"; expected one of: .*art-trees/);
  });

  it('when another organization or an anonymous reader exports, then the private A6.4 upload is not in it; when its publisher exports its own data, it is, levies and CDM origin included', async () => {
    for (const viewer of [null, orgB]) {
      for (const format of ['cadt-v1', 'cadt-v2'] as const) {
        const text = JSON.stringify((await exportCadt(db, format, {}, viewer)).document);
        expect(text).not.toContain('10471');
        expect(text).not.toContain('6a40a6a4');
      }
    }
    const own = await exportCadt(db, 'cadt-v2', { organization: orgA }, orgA);
    expect(own.counts).toMatchObject({ project: 1, issuance: 1, unit: 5, label: 1, 'unit-label': 2 });
    expect((own.document as Record<string, unknown[]>).project![0]).toMatchObject({ projectRegistryName: 'Article 6.4 Mechanism Registry', cadTrustReferenceProjectId: 'CDM-10471' });
    const files = await writeCadtExport(own, join(dir, 'a64.json'));
    // The mechanism publishes through CAD Trust: its upload is its record, and comes back as records.
    const source = await figures(db, ['a64-mechanism'], 'records');
    const [issued] = await rows<{ t: number }>(db, sql`select sum(quantity)::float8 as t from issuances where registry_id = 'a64-mechanism'`);
    expect(await roundTrip(files, ['a64-mechanism'], 'records')).toEqual({ ...source, accepted: [true], tonnesOfRecord: issued!.t + Object.values(source.tonnes).reduce((a, b) => a + b, 0) });
    // Read back: the levies on the issuance and the transitioned activity's declaration.
    const fresh = await openTestDatabase();
    try {
      await ingestFiles(fresh.handle.db, files, { check: false });
      const [issuance] = await rows<Record<string, number>>(fresh.handle.db, sql`select quantity::float8 as q, share_of_proceeds_quantity::float8 as sop, omge_quantity::float8 as omge from issuances`);
      const [original] = await rows<Record<string, number>>(db, sql`select quantity::float8 as q, share_of_proceeds_quantity::float8 as sop, omge_quantity::float8 as omge from issuances where registry_id = 'a64-mechanism'`);
      expect(issuance).toEqual(original);
      const [project] = await rows<{ other_programs: unknown }>(fresh.handle.db, sql`select other_programs from projects`);
      expect(project!.other_programs).toEqual([{ program: 'CDM', projectId: '10471', relation: 'converted-from', field: 'cadTrustReferenceProjectId' }]);
    } finally {
      await fresh.close();
    }
  });

  it('when `tally export` runs, then it writes the files and their counts, and refuses a filter it cannot read', async () => {
    const printed: string[] = [];
    const errors: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
    const error = vi.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
    try {
      const out = join(dir, 'cli-v1.xlsx');
      expect(await exportCommand(db, ['--format', 'cadt-v1', '--registry', 'art-trees', '--vintage', '2016-2021', '--out', out])).toBe(0);
      expect(existsSync(out)).toBe(true);
      const [expected] = await rows<{ n: number }>(db, sql`select count(*)::int as n from unit_blocks where registry_id = 'art-trees' and vintage_year between 2016 and 2021`);
      expect(printed[0]).toBe(`wrote ${out} (cadt-v1)`);
      expect(printed).toContain(`  ${'units'.padEnd(20)} ${expected!.n}`);
      const folder = join(dir, 'cli-v2');
      expect(await exportCommand(db, ['--format', 'cadt-v2', '--organization', 'pacm-feed', '--out', folder])).toBe(0);
      expect(readdirSync(folder)).toContain('unit.json');
      expect(JSON.parse(readFileSync(join(folder, 'unit.json'), 'utf8'))).toMatchObject({ page: 1, pageCount: 1, data: expect.any(Array) });
      expect(printed.some((l) => l.startsWith('  left empty: verification.verificationBody in 1 record(s)'))).toBe(true);
      expect(await exportCommand(db, ['--format', 'cadt-v1', '--status', 'active', '--out', join(dir, 'x.json')])).toBe(2);
      expect(errors.at(-1)).toMatch(/^tally export: status: unknown "active"; expected one of: held, retired/);
      expect(await exportCommand(db, ['--format', 'cadt-v3', '--out', join(dir, 'x.json')])).toBe(2);
    } finally {
      log.mockRestore();
      error.mockRestore();
    }
  });
});
