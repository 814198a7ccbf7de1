import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registryOfCadtName, cadtRegistryName } from '../../connectors/cad-trust/registries.ts';
import { registerConnector, registries } from '../../connectors/index.ts';
import { rowReader } from '../../connectors/runtime/row.ts';
import { parseBounds, type SerialResult } from '../../connectors/runtime/serial.ts';
import { readSerial } from '../../connectors/serials.ts';
import type { Connector, FileFormat, Mapped } from '../../connectors/types.ts';
import { ingestFile } from '../../jobs/ingest-file.ts';
import { projectRefKey, registryOfProgram } from '../../jobs/integrity/project-links.ts';
import { rows } from '../../schema/database.ts';
import { startApi } from '../helpers/api.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';

// Adding a registry is one folder and one line (README, "Adding a registry"). This test defines a small
// registry only here — its manifest, a serial grammar and one export — registers it, and checks that
// everything derived from the connector list knows it: the registry seed, file recognition, serial
// lookups (and the lookup's message), the linker's programme names and project ids, and the CAD Trust
// registry names. The registry and its file are constructed for the test.

/** `TNY-<project>-<first>-<last>`: the units of one project, numbered per project. */
function parseTinySerial(raw: string): SerialResult {
  const m = /^TNY-(\d+)-(\d+)-(\d+)$/.exec(raw.trim());
  if (!m) return { ok: false, error: `"${raw}" is not a Tiny serial (TNY-<project>-<first>-<last>)` };
  const bounds = parseBounds(raw, m[2], m[3]);
  if (!bounds.ok) return bounds;
  return { ok: true, range: { numberSpace: `tiny-registry:${m[1]}`, start: bounds.start, end: bounds.end, raw: raw.trim(), projectId: m[1] } };
}

const tinyCredits: FileFormat = {
  id: 'tiny-credits',
  registry: 'tiny-registry',
  stream: 'credits',
  description: 'Tiny registry credit list',
  generation: 'test',
  columns: { 'Project ID': { required: true }, 'Project Name': {}, Serial: { required: true }, Quantity: { required: true }, Retired: {} },
  map(row, locator): Mapped {
    const r = rowReader(row, locator);
    const projectId = r.required('Project ID', r.text('Project ID'));
    const quantity = r.quantity('Quantity');
    const serial = r.serial('Serial', parseTinySerial, quantity);
    if (r.errors.length > 0 || !projectId || !quantity || !serial) return { records: [], errors: r.errors };
    return {
      errors: [],
      records: [
        { type: 'project', registry: 'tiny-registry', registryProjectId: projectId, name: r.text('Project Name') ?? `TNY ${projectId}`, eligibility: [], coBenefits: [] },
        { type: 'block', registry: 'tiny-registry', registryProjectId: projectId, blockKey: serial.raw, quantity, eligibility: [],
          serial: { numberSpace: serial.numberSpace, start: serial.start, end: serial.end, raw: serial.raw },
          status: r.boolean('Retired') ? 'retired' : 'held' },
      ],
    };
  },
};

const tinyRegistry: Connector = {
  registry: {
    id: 'tiny-registry', name: 'Tiny Test Registry', nameJa: 'テスト登録簿', kind: 'independent', serialScheme: 'per-issuance', url: null,
    programNames: ['Tiny Registry'], projectIdPrefix: 'TNY', cadTrustName: 'Tiny Registry (CAD Trust picklist)', parseSerial: parseTinySerial,
  },
  files: [tinyCredits],
};

describe('a registry defined in one place', () => {
  let t: TestDatabase;
  const dir = mkdtempSync(join(tmpdir(), 'tally-tiny-'));

  beforeAll(async () => {
    registerConnector(tinyRegistry);
    t = await openTestDatabase();
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('when it is registered, then the seed, file recognition and serial lookups know it', async () => {
    expect(registries().map((r) => r.id)).toContain('tiny-registry');
    const [seeded] = await rows<{ name: string; serial_scheme: string }>(t.handle.db, sql`select name, serial_scheme::text from registries where id = 'tiny-registry'`);
    expect(seeded).toEqual({ name: 'Tiny Test Registry', serial_scheme: 'per-issuance' });

    const path = join(dir, 'tiny.csv');
    writeFileSync(path, 'Project ID,Project Name,Serial,Quantity,Retired\n7,Seven,TNY-7-101-200,100,no\n7,Seven,TNY-7-201-250,50,yes\n');
    const summary = await ingestFile(t.handle.db, path);
    expect(summary).toMatchObject({ format: 'tiny-credits', rowsRejected: 0, blocks: { new: 2 } });

    expect(readSerial('TNY-7-120-130')).toEqual([{ registry: 'tiny-registry', range: expect.objectContaining({ numberSpace: 'tiny-registry:7', start: 120, end: 130 }) }]);
    const api = await startApi(t.handle);
    try {
      const found = await api.gql('{ lookup(serial: "TNY-7-120-130") { blocks { serial status { code } project { key } } } }');
      expect(found.data!.lookup.blocks).toEqual([{ serial: 'TNY-7-101-200', status: { code: 'held' }, project: { key: 'tiny-registry:7' } }]);
      const unknown = await api.gql('{ lookup(serial: "NOT-A-SERIAL") { message } }');
      expect(unknown.data!.lookup.message).toMatch(/not a serial in a format Tally reads \(.*Tiny Test Registry.*\)/);
    } finally {
      await api.close();
    }
  });

  it('when other programmes and CAD Trust name it, then the linker and the CAD Trust mapping read its names', () => {
    expect(registryOfProgram('Tiny Registry')).toBe('tiny-registry');
    expect(registryOfProgram(undefined, 'TNY 7')).toBe('tiny-registry');
    expect(projectRefKey('TNY 0007')).toBe('7');
    expect(registryOfCadtName('Tiny Registry (CAD Trust picklist)')).toEqual({ slug: 'tiny-registry' });
    expect(registryOfCadtName('Tiny Test Registry')).toEqual({ slug: 'tiny-registry' });
    expect(cadtRegistryName('tiny-registry')).toBe('Tiny Registry (CAD Trust picklist)');
  });
});
