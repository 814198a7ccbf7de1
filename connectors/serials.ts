import { registries } from './index.ts';
import type { SerialRange } from './runtime/serial.ts';

// Every registry serial format Tally reads, for lookups of a serial whose registry the asker may not
// know (DESIGN §5): each registry that declares a parser (its manifest's `parseSerial`) gives a reading
// when it accepts the string.

/** The registries whose serials a lookup can read, for messages. */
export const serialRegistries = () => registries().filter((r) => r.parseSerial).map((r) => r.name);

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
    for (const { id: registry, parseSerial } of registries()) {
      if (!parseSerial) continue;
      const parsed = parseSerial(candidate);
      if (!parsed.ok) continue;
      const key = `${parsed.range.numberSpace}|${parsed.range.start}|${parsed.range.end}`;
      if (seen.has(key)) continue;
      seen.add(key);
      readings.push({ registry: parsed.range.numberSpace.startsWith('cdm:') ? 'cdm' : registry, range: parsed.range });
    }
  }
  return readings;
}

/**
 * The range from a first and a last unit serial, as an AEF writes the underlying units
 * (`UnitFirstId` / `UnitLastId`): each end read as a one-unit serial in one number space; the two joined
 * as a Kyoto range; or, where a registry writes no one-unit serial, the first serial with the last one's
 * number appended as a range (`GS1-1-VU-GS9999-12-2025-40001-401` … `-800` → `…-401-800`). Undefined when
 * no registry format reads them.
 */
export function readUnitRange(first: string, last: string): SerialReading | undefined {
  const a = readSerial(first).find((r) => r.range.start === r.range.end);
  const b = a && readSerial(last).find((r) => r.range.start === r.range.end && r.range.numberSpace === a.range.numberSpace);
  if (a && b && b.range.end >= a.range.start) {
    return { registry: a.registry, range: { ...a.range, end: b.range.end, raw: `${first} … ${last}` } };
  }
  // Kyoto serials: the range is the two serials joined by " - ".
  const joined = readSerial(`${first.trim()} - ${last.trim()}`)[0];
  if (joined) return joined;
  const head = /^(.*\D)(\d+)$/.exec(first.trim());
  const tail = /^(.*\D)(\d+)$/.exec(last.trim());
  if (!head || !tail || head[1] !== tail[1]) return undefined;
  const start = Number(head[2]);
  const end = Number(tail[2]);
  for (const candidate of [`${first.trim()}-${tail[2]}`, `${first.trim()} to ${tail[2]}`]) {
    const reading = readSerial(candidate).find((r) => r.range.start === start && r.range.end === end);
    if (reading) return reading;
  }
  return undefined;
}
