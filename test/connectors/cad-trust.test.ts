import { describe, expect, it } from 'vitest';
import { parsePythonLiteral } from '../../connectors/runtime/python-literal.ts';
import { mapCadtUpload, type CadtLedger } from '../../connectors/cad-trust/map-upload.ts';
import { registryOfCadtName } from '../../connectors/cad-trust/registries.ts';
import { cadtTableOfHeaders, cadtTableOfSheet, type CadtRow } from '../../connectors/cad-trust/v1.ts';

// The CAD Trust v1 mapping on its own: the cells CAD Trust's CDM files write as Python reprs, table
// recognition, registry names, and the serials Tally must not place (CDM afforestation units, letters).

const ledger: CadtLedger = {
  serialSchemes: new Map([['cdm', 'kyoto'], ['verra', 'registry-wide']]),
  projectsByWarehouseId: new Map(), projectsByLink: new Map(), projectsByIssuance: new Map(), unitRegistries: new Map(),
};
const project = (values: Record<string, string>): CadtRow => ({
  table: 'projects', locator: 'p.csv line 2',
  values: { currentRegistry: 'CDM Registry', projectId: 'AR0001', projectName: 'Reforestation of degraded land', country: 'India', projectLink: 'https://cdm.unfccc.int/p/AR0001', ...values },
});
const unit = (line: number, values: Record<string, string>): CadtRow => ({
  table: 'units', locator: `u.csv line ${line}`,
  values: { unitStatus: 'Retired', unitCount: '100', vintageYear: '2012', unitType: 'Not Determined', correspondingAdjustmentStatus: 'Not Applicable',
    correspondingAdjustmentDeclaration: 'Unknown', unitRegistryLink: 'https://cdm.unfccc.int/p/AR0001', ...values },
});

describe('CAD Trust v1 mapping', () => {
  it('when a cell holds a Python repr or JSON, then it reads as the same value', () => {
    const repr = "{'id': '3e58d3fa', 'startDate': '2017-04-01T00:00:00.000Z', 'timeStaged': None, 'n': 4.5, 'ok': True, 'list': [1, 'a\\'b']}";
    const expected = { id: '3e58d3fa', startDate: '2017-04-01T00:00:00.000Z', timeStaged: null, n: 4.5, ok: true, list: [1, "a'b"] };
    expect(parsePythonLiteral(repr)).toEqual(expected);
    expect(parsePythonLiteral(JSON.stringify(expected))).toEqual(expected);
    expect(() => parsePythonLiteral("{'id': '3e58")).toThrow(/a string is not closed/);
  });

  it('when sheets are named or headed as CAD Trust tables, then each is recognised', () => {
    expect(['projects', 'Units', 'label_units', 'label_unit', 'projectLocations', 'Sheet1'].map(cadtTableOfSheet))
      .toEqual(['projects', 'units', 'label_units', 'label_units', 'projectLocations', undefined]);
    expect(cadtTableOfHeaders([undefined, 'unitStatus', 'Unit Count', 'unitBlockStart'])).toBe('units');
    expect(cadtTableOfHeaders(['warehouseProjectId', 'creditingPeriodStart', 'creditingPeriodEnd', 'unitCount'])).toBe('estimations');
    expect(cadtTableOfHeaders(['Project ID', 'Quantity'])).toBeUndefined();
  });

  it('when a registry is named, then Tally\'s slug comes back, a national registry by its country', () => {
    expect(registryOfCadtName('EcoRegistry')?.slug).toBe('cercarbono');
    expect(registryOfCadtName('Chile National Registry')).toMatchObject({ slug: 'national-cl', national: { name: 'Chile National Registry', kind: 'national' } });
    expect(registryOfCadtName('Atlantis National Registry')).toBeUndefined();
    expect(registryOfCadtName('Puro')).toBeUndefined();
  });

  it('when a CDM afforestation project\'s units or units with lettered bounds come, then their serials are kept as text, not placed', () => {
    const { mapped } = mapCadtUpload([
      project({ methodology: 'CDM - AR-AMS0001' }),
      unit(2, { unitBlockStart: '1001', unitBlockEnd: '1100' }),
      unit(3, { unitBlockStart: 'A1001', unitBlockEnd: 'A1100' }),
    ], ledger);
    const [first, second] = [mapped.get('u.csv line 2')!, mapped.get('u.csv line 3')!];
    expect(first.errors).toEqual([]);
    expect(first.warnings!.map((w) => w.code)).toEqual(['unit-type-unknown']);
    expect(first.records.find((r) => r.type === 'block')).toMatchObject({
      registry: 'cdm', registryProjectId: 'AR0001', blockKey: 'AR0001:1001-1100', serialRaw: '1001-1100', quantity: 100, status: 'retired', caDeclaration: 'unknown',
    });
    const block = first.records.find((r) => r.type === 'block')!;
    expect(block).not.toHaveProperty('serial');
    expect(block).toMatchObject({ unitType: undefined, caStatus: undefined });
    expect(second.errors).toEqual([]);
    expect(second.records.find((r) => r.type === 'block')).toMatchObject({ blockKey: 'AR0001:A1001-A1100', serialRaw: 'A1001-A1100' });
  });

  it('when a unit carries its registry\'s own serial string, then it lands in that registry\'s number space, unless its bounds say otherwise', () => {
    const art = (values: Record<string, string>): CadtRow => project({ currentRegistry: 'ART TREES', projectId: 'ART102', projectName: 'Guyana', country: 'Guyana', projectLink: 'https://example.org/ART102', ...values });
    const { mapped } = mapCadtUpload([
      art({}),
      unit(2, { unitRegistryLink: 'https://example.org/ART102', serialNumberBlock: 'ART-GY-102-2016-9-1401 to 1408', unitBlockStart: '1401', unitBlockEnd: '1408', unitCount: '8' }),
      unit(3, { unitRegistryLink: 'https://example.org/ART102', serialNumberBlock: 'ART-GY-102-2016-9-1401 to 1408', unitBlockStart: '1', unitBlockEnd: '8', unitCount: '8' }),
    ], ledger);
    expect(mapped.get('u.csv line 2')!.records.find((r) => r.type === 'block')).toMatchObject({ serial: { numberSpace: 'art-trees:ART102:2016:9', start: 1401, end: 1408 } });
    expect(mapped.get('u.csv line 3')!.records.find((r) => r.type === 'block')).toMatchObject({ serial: { numberSpace: 'art-trees:cadt:ART102', start: 1, end: 8 } });
  });

  it('when a CDM project is not afforestation, then its units are CERs in the host Party\'s Kyoto space', () => {
    const { mapped } = mapCadtUpload([project({ methodology: 'CDM - ACM0002' }), unit(2, { unitBlockStart: '1001.0', unitBlockEnd: '1100' })], ledger);
    expect(mapped.get('u.csv line 2')!.records.find((r) => r.type === 'block')).toMatchObject({
      serial: { numberSpace: 'cdm:IN:5', start: 1001, end: 1100, raw: '1001.0-1100' },
    });
  });
});
