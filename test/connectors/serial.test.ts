import { describe, expect, it } from 'vitest';
import { parseAcrSerial } from '../../connectors/american-carbon-registry/serial.ts';
import { parseArtSerial } from '../../connectors/art-trees/serial.ts';
import { parseKyotoSerialRange } from '../../connectors/cdm/serial.ts';
import { parseCarSerial } from '../../connectors/climate-action-reserve/serial.ts';
import { parseGoldStandardSerial } from '../../connectors/gold-standard/serial.ts';
import { quantityMismatch, serialCount, type SerialRange, type SerialResult } from '../../connectors/runtime/serial.ts';
import { readUnitRange } from '../../connectors/serials.ts';
import { parseVerraSerial } from '../../connectors/verra/serial.ts';
import { readCsv } from '../helpers/csv.ts';

const samples = new URL('../fixtures/registry-samples/', import.meta.url);

function parsed(result: SerialResult): SerialRange {
  if (!result.ok) throw new Error(result.error);
  return result.range;
}

function failure(result: SerialResult): string {
  if (result.ok) throw new Error(`expected a failure, parsed ${JSON.stringify(result.range)}`);
  return result.error;
}

describe('when a registry documents an example serial, then it parses to that exact range', () => {
  it('Verra, current registry with a sectoral scope (13 parts): 425 units of project 1340', () => {
    const range = parsed(parseVerraSerial('19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1'));
    expect(range).toEqual({
      numberSpace: 'verra:VER',
      start: 941467007,
      end: 941467431,
      raw: '19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1',
      projectId: '1340',
      country: 'ET',
      vintageYear: 2020,
      vintageStart: '2020-01-01',
      vintageEnd: '2020-12-31',
    });
    expect(serialCount(range)).toBe(425);
  });

  it('Verra, current registry without a sectoral scope (12 parts): 235,604 units', () => {
    const range = parsed(parseVerraSerial('19902-1139690318-1139925921-VCS-VCU-500-VER-US-3352-01012024-31122024-0'));
    expect(range).toMatchObject({ numberSpace: 'verra:VER', start: 1139690318, end: 1139925921, projectId: '3352', country: 'US', vintageYear: 2024 });
    expect(serialCount(range)).toBe(235_604);
  });

  it("Verra's own padded example: leading zeros are read as numbers and dropped from the project id", () => {
    const range = parsed(parseVerraSerial('0001-000001-000100-VCS-VCU-003-VER-US-0003-01012020-31122020-1'));
    expect(range).toMatchObject({ numberSpace: 'verra:VER', start: 1, end: 100, projectId: '3' });
  });

  it('Verra, legacy APX and Markit serials (no VCS part) get their own number spaces', () => {
    expect(parsed(parseVerraSerial('240-7863589-7889021-VCU-003-APX-IN-1-101-01042006-18032007-0'))).toEqual({
      numberSpace: 'verra:APX',
      start: 7863589,
      end: 7889021,
      raw: '240-7863589-7889021-VCU-003-APX-IN-1-101-01042006-18032007-0',
      projectId: '101',
      country: 'IN',
      vintageYear: 2006,
      vintageStart: '2006-04-01',
      vintageEnd: '2007-03-18',
    });
    expect(parsed(parseVerraSerial('7928-441971601-441981566-VCU-050-MER-BR-1-332-01012017-31122017-0'))).toMatchObject({
      numberSpace: 'verra:MER',
      start: 441971601,
      end: 441981566,
      projectId: '332',
      country: 'BR',
      vintageStart: '2017-01-01',
      vintageEnd: '2017-12-31',
    });
  });

  it('Gold Standard: 29,743 credits in batch 30645 of GS7495, vintage 2025', () => {
    const range = parsed(parseGoldStandardSerial('GS1-1-KE-GS7495-16-2025-30645-608-30350'));
    expect(range).toEqual({
      numberSpace: 'gold-standard:GS7495:2025:30645',
      start: 608,
      end: 30350,
      raw: 'GS1-1-KE-GS7495-16-2025-30645-608-30350',
      projectId: 'GS7495',
      country: 'KE',
      vintageYear: 2025,
    });
    expect(serialCount(range)).toBe(29_743);
  });

  it('Gold Standard: a CER written as a Kyoto range is handed to the CDM parser', () => {
    const range = parsed(parseGoldStandardSerial('RW-5-1463953-2-2-0-7014 - RW-5-1467609-2-2-0-7014'));
    expect(range).toEqual({
      numberSpace: 'cdm:RW:5',
      start: 1463953,
      end: 1467609,
      raw: 'RW-5-1463953-2-2-0-7014 - RW-5-1467609-2-2-0-7014',
      projectId: '7014',
      country: 'RW',
    });
    expect(serialCount(range)).toBe(3657);
  });

  it('CDM: a CER range of project ref 8 in Brazil, whatever the spacing around the joining dash', () => {
    const expected = { numberSpace: 'cdm:BR:5', start: 85316059, end: 85448545, projectId: '8', country: 'BR' };
    expect(parsed(parseKyotoSerialRange('BR-5-85316059-1-1-0-8 - BR-5-85448545-1-1-0-8'))).toMatchObject(expected);
    expect(parsed(parseKyotoSerialRange('BR-5-85316059-1-1-0-8-BR-5-85448545-1-1-0-8'))).toMatchObject(expected);
    expect(parsed(parseKyotoSerialRange('  BR-5-85316059-1-1-0-8  -  BR-5-85448545-1-1-0-8 '))).toMatchObject({
      ...expected,
      raw: 'BR-5-85316059-1-1-0-8  -  BR-5-85448545-1-1-0-8',
    });
  });

  it('ACR: batch 3078 of ACR1185, vintage 2025, units 1 to 85,847', () => {
    expect(parsed(parseAcrSerial('ACR-US-1185-2025-3078-1 to 85847'))).toEqual({
      numberSpace: 'american-carbon-registry:ACR1185:2025:3078',
      start: 1,
      end: 85847,
      raw: 'ACR-US-1185-2025-3078-1 to 85847',
      projectId: 'ACR1185',
      country: 'US',
      vintageYear: 2025,
    });
  });

  it('CAR: a voluntary CRT and a compliance ROC keep their programme in the number space', () => {
    expect(parsed(parseCarSerial('CAR-1-US-1335-31-983-KS-2025-9205-1 to 5000'))).toEqual({
      numberSpace: 'climate-action-reserve:1:CAR1335:2025:9205',
      start: 1,
      end: 5000,
      raw: 'CAR-1-US-1335-31-983-KS-2025-9205-1 to 5000',
      projectId: 'CAR1335',
      country: 'US',
      vintageYear: 2025,
    });
    expect(parsed(parseCarSerial('CAR-ROC-US-2056-129-2283-WV-2025-8969-1 to 260294'))).toMatchObject({
      numberSpace: 'climate-action-reserve:ROC:CAR2056:2025:8969',
      start: 1,
      end: 260294,
      projectId: 'CAR2056',
    });
  });

  it('ART: an ART TREES unit of Guyana and an FCPF unit of Côte d’Ivoire, both under ART program ids', () => {
    expect(parsed(parseArtSerial('ART-GY-102-2021-11-2759599 to 2760598'))).toEqual({
      numberSpace: 'art-trees:ART102:2021:11',
      start: 2759599,
      end: 2760598,
      raw: 'ART-GY-102-2021-11-2759599 to 2760598',
      projectId: 'ART102',
      country: 'GY',
      vintageYear: 2021,
    });
    expect(parsed(parseArtSerial('FCPF-CI-130-2023-20-1 to 46404'))).toMatchObject({
      numberSpace: 'art-trees:FCPF130:2023:20',
      start: 1,
      end: 46404,
      projectId: 'ART130',
      country: 'CI',
      vintageYear: 2023,
    });
  });
});

/** Registry quantities as the CSVs write them: "28,571" (Verra), "11191.0" (pandas floats). */
function parseQuantity(text: string | undefined): number {
  const plain = (text ?? '').replace(/,/g, '').trim();
  return /^\d+(\.0+)?$/.test(plain) ? Number(plain) : Number.NaN;
}

type FixtureFile = {
  file: string;
  parse: (raw: string) => SerialResult;
  serialColumn: string;
  quantityColumn: string;
  rows: number;
  /** The project id the row states, spelled as the serial parser spells it. */
  projectIdOf: (row: Record<string, string>) => string | undefined;
  /** Whether the serial speaks of the row's project and vintage (not so for GS rows that carry a Kyoto serial). */
  describesRow?: (range: SerialRange) => boolean;
  vintageOf: (row: Record<string, string>) => { vintageYear?: number; vintageStart?: string; vintageEnd?: string };
};

const vintageColumn = (row: Record<string, string>) => ({ vintageYear: Number(row['Vintage']) });
const apxFiles = (folder: string, parse: (raw: string) => SerialResult, serialColumn: string, quantityColumn: string, projectColumn: string, rows: [number, number]): FixtureFile[] =>
  (['retirements', 'cancellations'] as const).map((kind, index) => ({
    file: `${folder}/${kind}.csv`,
    parse,
    serialColumn,
    quantityColumn,
    rows: rows[index] as number,
    projectIdOf: (row) => row[projectColumn],
    vintageOf: vintageColumn,
  }));

const fixtureFiles: FixtureFile[] = [
  {
    file: 'verra/transactions.csv',
    parse: parseVerraSerial,
    serialColumn: 'Serial Number',
    quantityColumn: 'Quantity Issued',
    rows: 200,
    projectIdOf: (row) => row['ID'],
    vintageOf: (row) => ({ vintageStart: row['Vintage Start'], vintageEnd: row['Vintage End'] }),
  },
  ...(['issuances', 'retirements'] as const).map(
    (kind, index): FixtureFile => ({
      file: `gold-standard/${kind}.csv`,
      parse: parseGoldStandardSerial,
      serialColumn: 'Serial Number',
      quantityColumn: 'Quantity',
      rows: [100, 100][index] as number,
      projectIdOf: (row) => `GS${row['GSID']}`,
      // A CER's Kyoto serial names its CDM project ref (7014), not the row's GSID (4823), and no vintage.
      describesRow: (range) => !range.numberSpace.startsWith('cdm:'),
      vintageOf: vintageColumn,
    }),
  ),
  ...apxFiles('american-carbon-registry', parseAcrSerial, 'Credit Serial Numbers', 'Quantity of Credits', 'Project ID', [100, 50]),
  ...apxFiles('climate-action-reserve', parseCarSerial, 'Offset Credit Serial Numbers', 'Quantity of Offset Credits', 'Project ID', [100, 50]),
  ...apxFiles('art-trees', parseArtSerial, 'Credit Serial Numbers', 'Quantity of Credits', 'Program ID', [8, 3]),
];

describe('when a real registry export is read, then every serial parses and holds exactly the row’s quantity', () => {
  for (const fixture of fixtureFiles) {
    it(`${fixture.file}: ${fixture.rows} of ${fixture.rows} rows`, () => {
      const rows = readCsv(new URL(fixture.file, samples));
      expect(rows).toHaveLength(fixture.rows);
      const problems: string[] = [];
      let matched = 0;
      rows.forEach((row, index) => {
        const where = `row ${index + 2}`; // line in the file: the header is line 1
        const result = fixture.parse(row[fixture.serialColumn] ?? '');
        if (!result.ok) return void problems.push(`${where}: ${result.error}`);
        const mismatch = quantityMismatch(result.range, parseQuantity(row[fixture.quantityColumn]));
        if (mismatch) return void problems.push(`${where}: ${mismatch}`);
        matched += 1;
      });
      expect(problems).toEqual([]);
      expect(matched).toBe(fixture.rows);
    });
  }
});

describe('when a real registry export is read, then the serial names the row’s own project and vintage', () => {
  for (const fixture of fixtureFiles) {
    it(`${fixture.file}`, () => {
      const disagreements: string[] = [];
      let checked = 0;
      readCsv(new URL(fixture.file, samples)).forEach((row, index) => {
        const range = parsed(fixture.parse(row[fixture.serialColumn] ?? ''));
        if (fixture.describesRow && !fixture.describesRow(range)) return;
        const vintage = fixture.vintageOf(row);
        const fromSerial = {
          vintageYear: vintage.vintageYear === undefined ? undefined : range.vintageYear,
          vintageStart: vintage.vintageStart === undefined ? undefined : range.vintageStart,
          vintageEnd: vintage.vintageEnd === undefined ? undefined : range.vintageEnd,
        };
        if (JSON.stringify(fromSerial) !== JSON.stringify(vintage)) {
          disagreements.push(`row ${index + 2}: serial vintage ${JSON.stringify(fromSerial)}, row ${JSON.stringify(vintage)}`);
        }
        checked += 1;
        if (range.projectId !== fixture.projectIdOf(row)) {
          disagreements.push(`row ${index + 2}: serial names project ${range.projectId}, row says ${fixture.projectIdOf(row)}`);
        }
      });
      expect(disagreements).toEqual([]);
      // Only the three CER rows of GS issuances carry a Kyoto serial instead of a GS one.
      expect(checked).toBe(fixture.file === 'gold-standard/issuances.csv' ? fixture.rows - 3 : fixture.rows);
    });
  }
});

describe('when a serial is nearly right, then it is refused with a message that says what is wrong', () => {
  it.each([
    ['verra', parseVerraSerial, '19385-941467431-941467007-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1', 'end 941467007 is before start 941467431'],
    ['verra', parseVerraSerial, '19385-941467007-941467431-VCS-VCU-1507-VER', 'expected 13 or 12 dash-separated parts, found 7'],
    ['verra', parseVerraSerial, '19385-94146700x-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1', 'start "94146700x" is not a whole number'],
    ['verra', parseVerraSerial, '19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-31022020-31122020-1', 'vintage start "31022020" is not a date'],
    ['verra', parseVerraSerial, '19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012021-31122020-1', 'vintage end 2020-12-31 is before vintage start 2021-01-01'],
    ['verra', parseVerraSerial, '19385-941467007-941467431-VCS-VCU-1507-XYZ-ET-14-1340-01012020-31122020-1', 'registry code "XYZ"'],
    ['verra', parseVerraSerial, '19385-941467007-941467431-VCS-VCU-1507-VER-ETH-14-1340-01012020-31122020-1', 'country "ETH"'],
    ['verra', parseVerraSerial, '19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-7', 'flag 0 or 1'],
    ['verra', parseVerraSerial, '19385-1-99999999999999999-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1', 'end 99999999999999999 is too large'],
    ['gold standard', parseGoldStandardSerial, 'GS1-1-KE-GS7495-16-2025-30645-30350-608', 'end 608 is before start 30350'],
    ['gold standard', parseGoldStandardSerial, 'GS1-1-KE-GS7495-16-2025-30645-608', 'expected 9 dash-separated parts'],
    ['gold standard', parseGoldStandardSerial, 'GS1-1-KE-7495-16-2025-30645-608-30350', 'project "7495" should be GS followed by the GSID'],
    ['gold standard', parseGoldStandardSerial, 'GS1-1-KE-GS7495-16-2025-30645-six-30350', 'start "six" is not a whole number'],
    ['cdm', parseKyotoSerialRange, 'BR-5-85316059-1-1-0-8 - CO-5-85448545-1-1-0-8', 'the two ends differ in party (BR vs CO)'],
    ['cdm', parseKyotoSerialRange, 'BR-5-85316059-1-1-0-8 - BR-5-85448545-1-1-0-9', 'the two ends differ in project ref (8 vs 9)'],
    ['cdm', parseKyotoSerialRange, 'BR-5-85316059-1-1-0-8 - BR-6-85448545-1-1-0-8', 'the two ends differ in unit type (5 vs 6)'],
    ['cdm', parseKyotoSerialRange, 'BR-5-85448545-1-1-0-8 - BR-5-85316059-1-1-0-8', 'end 85316059 is before start 85448545'],
    ['cdm', parseKyotoSerialRange, 'BR-5-85316059-1-1-0-8', 'expected two Kyoto serials of 7 dash-separated parts joined by " - ", found 7 parts'],
    ['cdm', parseKyotoSerialRange, 'BR-9-85316059-1-1-0-8 - BR-9-85448545-1-1-0-8', 'unit type "9" is not a Kyoto unit type'],
    ['acr', parseAcrSerial, 'ACR-US-1185-2025-3078-900 to 400', 'end 400 is before start 900'],
    ['acr', parseAcrSerial, 'ACR-US-1185-2025-1 to 85847', 'expected 6 dash-separated parts before " to "'],
    ['acr', parseAcrSerial, 'ACR-US-1185-2025-3078-1', 'found no " to "'],
    ['acr', parseAcrSerial, 'ACR-US-1185-2025-3078-1 to 8584x', 'end "8584x" is not a whole number'],
    ['acr', parseAcrSerial, 'ACR-US-1185-25-3078-1 to 85847', 'vintage "25" is not a year'],
    ['car', parseCarSerial, 'CAR-1-US-1335-31-983-KS-2025-9205-5000 to 1', 'end 1 is before start 5000'],
    ['car', parseCarSerial, 'CAR-2-US-1335-31-983-KS-2025-9205-1 to 5000', 'programme "2" after CAR should be 1 (voluntary) or ROC'],
    ['car', parseCarSerial, 'CAR-1-US-1335-983-KS-2025-9205-1 to 5000', 'expected 10 dash-separated parts before " to "'],
    ['art', parseArtSerial, 'ART-GY-102-2021-11-2760598 to 2759599', 'end 2759599 is before start 2760598'],
    ['art', parseArtSerial, 'JNR-GY-102-2021-11-1 to 2', 'expected the serial to open with "ART" or "FCPF"'],
    ['art', parseArtSerial, 'ART-GY-102-2021-11-1 to 2 to 3', 'expected one " to ", found 2'],
  ] as const)('%s: %s', (_registry, parse, raw, message) => {
    const error = failure(parse(raw));
    expect(error).toContain(message);
    expect(error.startsWith(`serial "${raw}": `)).toBe(true);
  });

  it('an empty or missing serial is refused, not thrown', () => {
    for (const parse of [parseVerraSerial, parseGoldStandardSerial, parseKyotoSerialRange, parseAcrSerial, parseCarSerial, parseArtSerial]) {
      expect(failure(parse('   '))).toBe('serial is empty');
      expect(failure(parse(undefined as unknown as string))).toBe('serial is missing (got undefined instead of text)');
    }
  });

  it('a quantity one short of the range is named with both numbers', () => {
    const range = parsed(parseAcrSerial('ACR-US-1185-2025-3078-1 to 12000'));
    expect(quantityMismatch(range, 12_000)).toBeUndefined();
    expect(quantityMismatch(range, 11_999)).toBe('serial "ACR-US-1185-2025-3078-1 to 12000": 12,000 units but the row says 11,999');
    expect(quantityMismatch(range, Number.NaN)).toBe(
      'serial "ACR-US-1185-2025-3078-1 to 12000": the row\'s quantity NaN is not a whole number, but the serial holds 12,000 units',
    );
  });
});

describe('readUnitRange (AEF UnitFirstId / UnitLastId)', () => {
  it('reads Gold Standard, ACR and Kyoto first and last units as one range in the registry\'s number space', () => {
    expect(readUnitRange('GS1-1-VU-GS9999-12-2025-40001-401', 'GS1-1-VU-GS9999-12-2025-40001-800')?.range)
      .toMatchObject({ numberSpace: 'gold-standard:GS9999:2025:40001', start: 401, end: 800 });
    expect(readUnitRange('ACR-US-1185-2025-3078-1', 'ACR-US-1185-2025-3078-85847')?.range)
      .toMatchObject({ numberSpace: 'american-carbon-registry:ACR1185:2025:3078', start: 1, end: 85_847 });
    expect(readUnitRange('BR-5-85316059-1-1-0-8', 'BR-5-85448545-1-1-0-8')?.range).toMatchObject({ numberSpace: 'cdm:BR:5', start: 85_316_059, end: 85_448_545 });
  });

  it('reads nothing from ends of two different batches, or from ids no registry writes', () => {
    expect(readUnitRange('GS1-1-VU-GS9999-12-2025-40001-401', 'GS1-1-VU-GS9999-12-2025-40002-800')).toBeUndefined();
    expect(readUnitRange('VUT-0001', 'VUT-0400')).toBeUndefined();
  });
});
