import { parseAcrSerial } from './american-carbon-registry/serial.ts';
import { parseArtSerial } from './art-trees/serial.ts';
import { parseKyotoSerialRange } from './cdm/serial.ts';
import { parseCarSerial } from './climate-action-reserve/serial.ts';
import { parseGoldStandardSerial } from './gold-standard/serial.ts';
import { parsePlanVivoSerial } from './plan-vivo/serial.ts';
import type { SerialRange } from './runtime/serial.ts';
import { parseVerraSerial } from './verra/serial.ts';

// Every registry serial format Tally reads, for lookups of a serial whose registry the asker may not
// know (DESIGN §5): each parser that accepts the string gives one reading.

const PARSERS: readonly { registry: string; parse(raw: string): ReturnType<typeof parseVerraSerial> }[] = [
  { registry: 'verra', parse: parseVerraSerial },
  { registry: 'gold-standard', parse: parseGoldStandardSerial },
  { registry: 'american-carbon-registry', parse: parseAcrSerial },
  { registry: 'climate-action-reserve', parse: parseCarSerial },
  { registry: 'art-trees', parse: parseArtSerial },
  { registry: 'cdm', parse: parseKyotoSerialRange },
  { registry: 'plan-vivo', parse: parsePlanVivoSerial },
];

export type SerialReading = { registry: string; range: SerialRange };

/**
 * The readings of a serial string: a range as registries write it, or a single unit. Formats that
 * write ranges as `<prefix>-<start> to <end>` (ACR, CAR, ART) also accept one unit as `<prefix>-<n>`.
 */
export function readSerial(raw: string): SerialReading[] {
  const text = raw.trim();
  const candidates = [text];
  const single = /^(.*\D)(\d+)$/.exec(text);
  if (single && !/\sto\s/i.test(text)) candidates.push(`${text} to ${single[2]}`);
  const seen = new Set<string>();
  const readings: SerialReading[] = [];
  for (const candidate of candidates) {
    for (const { registry, parse } of PARSERS) {
      const parsed = parse(candidate);
      if (!parsed.ok) continue;
      const key = `${parsed.range.numberSpace}|${parsed.range.start}|${parsed.range.end}`;
      if (seen.has(key)) continue;
      seen.add(key);
      readings.push({ registry: parsed.range.numberSpace.startsWith('cdm:') ? 'cdm' : registry, range: parsed.range });
    }
  }
  return readings;
}
