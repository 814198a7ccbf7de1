import { readSerial } from '../serials.ts';
import type { SerialRange } from '../runtime/serial.ts';

// A CAD Trust unit may carry its registry's own serial string (v1 `serialNumberBlock`, v2 `unitSerialId`):
// `ART-GY-102-2016-9-1401 to 1408`, a Verra or Gold Standard serial, a Kyoto range. Read with that
// registry's parser, the block lands in the number space the registry's own connector gives it, so an
// upload is compared with the registry's data, and two batches that both start at 1 stay apart.

/**
 * The range a serial string means in `registry`'s own format, when that registry's parser reads it and
 * the numbers agree with the bounds the row gives (if it gives any); otherwise undefined.
 */
export function registrySerialRange(registry: string, raw: string | undefined, start?: number, end?: number): SerialRange | undefined {
  if (!raw) return undefined;
  const reading = readSerial(raw).find((r) => r.registry === registry);
  if (!reading) return undefined;
  const { range } = reading;
  if (start !== undefined && end !== undefined && (range.start !== start || range.end !== end)) return undefined;
  return { numberSpace: range.numberSpace, start: range.start, end: range.end, raw: range.raw };
}
