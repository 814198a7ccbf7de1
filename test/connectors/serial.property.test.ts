import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAcrSerial } from '../../connectors/american-carbon-registry/serial.ts';
import { parseArtSerial } from '../../connectors/art-trees/serial.ts';
import { parseKyotoSerialRange } from '../../connectors/cdm/serial.ts';
import { parseCarSerial } from '../../connectors/climate-action-reserve/serial.ts';
import { parseGoldStandardSerial } from '../../connectors/gold-standard/serial.ts';
import type { SerialRange, SerialResult } from '../../connectors/runtime/serial.ts';
import { parseVerraSerial } from '../../connectors/verra/serial.ts';

type Parser = (raw: string) => SerialResult;

/** A generated serial and the range its parser must read back from it. */
type Case = { serial: string; expected: Partial<SerialRange> };

const country = fc.constantFrom('US', 'KE', 'BR', 'IN', 'GY', 'CI', 'RW', 'ET', 'MX', 'CN');
// Unit numbers reach about 1.1e9 in Verra today; 2^40 leaves room and stays far inside 2^53.
const bounds = fc
  .tuple(fc.integer({ min: 0, max: 2 ** 40 }), fc.integer({ min: 0, max: 2 ** 40 }))
  .map(([a, b]) => (a <= b ? { start: a, end: b } : { start: b, end: a }));
const projectNo = fc.integer({ min: 1, max: 99_999 });
const vintage = fc.integer({ min: 1990, max: 2099 });
const batch = fc.integer({ min: 1, max: 999_999 });
const smallCode = fc.integer({ min: 0, max: 9999 });

const DAY_MS = 86_400_000;
/** A vintage period: a real start day and an end on or after it, as Verra writes them and as ISO dates. */
const vintagePeriod = fc
  .tuple(fc.integer({ min: 0, max: 40_000 }), fc.integer({ min: 0, max: 800 }))
  .map(([startDay, length]) => {
    const start = new Date(Date.UTC(1995, 0, 1) + startDay * DAY_MS);
    const end = new Date(start.getTime() + length * DAY_MS);
    const iso = (d: Date) => d.toISOString().slice(0, 10);
    const ddmmyyyy = (d: Date) => iso(d).split('-').reverse().join('');
    return { start: iso(start), end: iso(end), startText: ddmmyyyy(start), endText: ddmmyyyy(end) };
  });

const verraCase: fc.Arbitrary<Case> = fc
  .record({
    legacyRegistry: fc.option(fc.constantFrom('APX', 'MER'), { nil: undefined }),
    batch,
    bounds,
    code: smallCode,
    country,
    scope: fc.option(fc.integer({ min: 1, max: 16 }), { nil: undefined }),
    project: projectNo,
    period: vintagePeriod,
    flag: fc.constantFrom('0', '1'),
  })
  .map((c) => {
    const programme = c.legacyRegistry === undefined ? ['VCS', 'VCU', c.code, 'VER'] : ['VCU', c.code, c.legacyRegistry];
    const scope = c.scope === undefined ? [] : [c.scope];
    const serial = [c.batch, c.bounds.start, c.bounds.end, ...programme, c.country, ...scope, c.project, c.period.startText, c.period.endText, c.flag].join('-');
    return {
      serial,
      expected: {
        numberSpace: `verra:${c.legacyRegistry ?? 'VER'}`,
        ...c.bounds,
        projectId: String(c.project),
        country: c.country,
        vintageYear: Number(c.period.start.slice(0, 4)),
        vintageStart: c.period.start,
        vintageEnd: c.period.end,
      },
    };
  });

const goldStandardCase: fc.Arbitrary<Case> = fc
  .record({ country, project: projectNo, typeCode: fc.integer({ min: 1, max: 30 }), vintage, batch, bounds })
  .map((c) => ({
    serial: `GS1-1-${c.country}-GS${c.project}-${c.typeCode}-${c.vintage}-${c.batch}-${c.bounds.start}-${c.bounds.end}`,
    expected: {
      numberSpace: `gold-standard:GS${c.project}:${c.vintage}:${c.batch}`,
      ...c.bounds,
      projectId: `GS${c.project}`,
      country: c.country,
      vintageYear: c.vintage,
    },
  }));

const kyotoCase: fc.Arbitrary<Case> = fc
  .record({
    party: country,
    unitType: fc.integer({ min: 1, max: 7 }),
    bounds,
    originalPeriod: fc.integer({ min: 1, max: 2 }),
    applicablePeriod: fc.integer({ min: 1, max: 2 }),
    lulucf: fc.integer({ min: 0, max: 9 }),
    projectRef: projectNo,
    joiner: fc.constantFrom(' - ', '-', '  -  ', ' -', '- '),
  })
  .map((c) => {
    const one = (serial: number) => [c.party, c.unitType, serial, c.originalPeriod, c.applicablePeriod, c.lulucf, c.projectRef].join('-');
    return {
      serial: `${one(c.bounds.start)}${c.joiner}${one(c.bounds.end)}`,
      expected: { numberSpace: `cdm:${c.party}:${c.unitType}`, ...c.bounds, projectId: String(c.projectRef), country: c.party },
    };
  });

const acrCase: fc.Arbitrary<Case> = fc.record({ country, project: projectNo, vintage, batch, bounds }).map((c) => ({
  serial: `ACR-${c.country}-${c.project}-${c.vintage}-${c.batch}-${c.bounds.start} to ${c.bounds.end}`,
  expected: {
    numberSpace: `american-carbon-registry:ACR${c.project}:${c.vintage}:${c.batch}`,
    ...c.bounds,
    projectId: `ACR${c.project}`,
    country: c.country,
    vintageYear: c.vintage,
  },
}));

const carCase: fc.Arbitrary<Case> = fc
  .record({
    programme: fc.constantFrom('1', 'ROC'),
    country,
    project: projectNo,
    codeA: smallCode,
    codeB: smallCode,
    state: fc.constantFrom('KS', 'WV', 'CA', 'MH', 'QR'),
    vintage,
    batch,
    bounds,
  })
  .map((c) => ({
    serial: `CAR-${c.programme}-${c.country}-${c.project}-${c.codeA}-${c.codeB}-${c.state}-${c.vintage}-${c.batch}-${c.bounds.start} to ${c.bounds.end}`,
    expected: {
      numberSpace: `climate-action-reserve:${c.programme}:CAR${c.project}:${c.vintage}:${c.batch}`,
      ...c.bounds,
      projectId: `CAR${c.project}`,
      country: c.country,
      vintageYear: c.vintage,
    },
  }));

const artCase: fc.Arbitrary<Case> = fc
  .record({ programme: fc.constantFrom('ART', 'FCPF'), country, project: projectNo, vintage, batch, bounds })
  .map((c) => ({
    serial: `${c.programme}-${c.country}-${c.project}-${c.vintage}-${c.batch}-${c.bounds.start} to ${c.bounds.end}`,
    expected: {
      numberSpace: `art-trees:${c.programme}${c.project}:${c.vintage}:${c.batch}`,
      ...c.bounds,
      projectId: `ART${c.project}`,
      country: c.country,
      vintageYear: c.vintage,
    },
  }));

const registries: { name: string; parse: Parser; cases: fc.Arbitrary<Case> }[] = [
  { name: 'Verra', parse: parseVerraSerial, cases: verraCase },
  { name: 'Gold Standard', parse: parseGoldStandardSerial, cases: goldStandardCase },
  { name: 'Gold Standard (Kyoto CERs)', parse: parseGoldStandardSerial, cases: kyotoCase },
  { name: 'CDM', parse: parseKyotoSerialRange, cases: kyotoCase },
  { name: 'ACR', parse: parseAcrSerial, cases: acrCase },
  { name: 'CAR', parse: parseCarSerial, cases: carCase },
  { name: 'ART TREES', parse: parseArtSerial, cases: artCase },
];

/** Strings made of what serials are made of, so that inputs get past the first checks more often. */
const serialLikeString = fc.string({
  unit: fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...'0123456789') },
    { weight: 3, arbitrary: fc.constant('-') },
    { weight: 3, arbitrary: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZ') },
    { weight: 1, arbitrary: fc.constantFrom(' to ', ' - ', ' ', 'GS1', 'VCS', 'VCU', 'VER', 'ACR', 'CAR', 'ROC', 'ART', 'FCPF') },
  ),
  maxLength: 60,
});

/** A valid serial with one character replaced, removed or added: the near misses a typo makes. */
const mutatedSerial = (cases: fc.Arbitrary<Case>) =>
  fc
    .tuple(cases, fc.nat(), fc.constantFrom('replace', 'remove', 'insert'), fc.constantFrom(...'0123456789- AZtoX'))
    .map(([c, position, edit, char]) => {
      const at = position % (c.serial.length + 1);
      const keep = edit === 'insert' ? at : at + 1;
      return c.serial.slice(0, at) + (edit === 'remove' ? '' : char) + c.serial.slice(keep);
    });

/** What every answer must look like, whatever the input: a failure with a message, or a sound range. */
function expectWellFormed(result: SerialResult, input: unknown): void {
  if (!result.ok) {
    expect(typeof result.error).toBe('string');
    expect(result.error.length).toBeGreaterThan(0);
    return;
  }
  const { range } = result;
  expect(Number.isSafeInteger(range.start) && Number.isSafeInteger(range.end)).toBe(true);
  expect(range.start).toBeGreaterThanOrEqual(0);
  expect(range.end).toBeGreaterThanOrEqual(range.start);
  expect(range.raw).toBe((input as string).trim());
}

describe.each(registries)('$name serial parser', ({ parse, cases }) => {
  it('when given any text, then it answers without throwing', () => {
    fc.assert(fc.property(fc.string(), (text) => expectWellFormed(parse(text), text)));
  });

  it('when given text made of serial characters, then it answers without throwing', () => {
    fc.assert(fc.property(serialLikeString, (text) => expectWellFormed(parse(text), text)), { numRuns: 500 });
  });

  it('when given a valid serial with a typo, then it answers without throwing', () => {
    fc.assert(fc.property(mutatedSerial(cases), (text) => expectWellFormed(parse(text), text)), { numRuns: 500 });
  });

  it('when given something that is not text at all, then it refuses it', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        fc.pre(typeof value !== 'string');
        expect(parse(value as string).ok).toBe(false);
      }),
    );
  });

  it('when a serial is written from valid parts, then parsing gives those parts back', () => {
    fc.assert(
      fc.property(cases, fc.constantFrom('', ' ', '\t'), ({ serial, expected }, padding) => {
        const result = parse(`${padding}${serial}${padding}`);
        expect(result).toEqual({ ok: true, range: { ...expected, raw: serial } });
      }),
    );
  });
});
