import type { CadtRow } from './v1.ts';

// CAD Trust as a mirror (DESIGN §3, "Sources of record and mirrors"). A CAD Trust record of a registry
// whose own data Tally reads (the CDM, Verra, Gold Standard…) reports that registry's units: it is kept
// as evidence beside them and adds no tonnes (connectors/mirrors.ts). Records of registries that publish
// through uploads only (national registries, the Article 6.4 mechanism) stay records of their own. A
// file's systematic quirks are decided here, for the whole file.

export const CAD_TRUST_SOURCE = 'cad-trust';

const numberOf = (value: string | undefined) => (value === undefined || value.trim() === '' ? undefined : Number(value));

/**
 * Whether a file writes each unit block with one bound outside it: every unit row that states a start,
 * an end and a count spans exactly one unit more than it counts (CAD Trust's held CDM units of the COP 28
 * upload). Decided for the whole file, never per row: where only some rows do it, those rows are errors.
 */
export function writesExclusiveBounds(rows: readonly CadtRow[]): boolean {
  const stated = rows.filter((row) => row.table === 'units').map((row) => ({
    start: numberOf(row.values.unitBlockStart), end: numberOf(row.values.unitBlockEnd), count: numberOf(row.values.unitCount),
  })).filter((u) => Number.isSafeInteger(u.start) && Number.isSafeInteger(u.end) && Number.isSafeInteger(u.count));
  return stated.length > 0 && stated.every((u) => u.end! - u.start! === u.count);
}

/**
 * The file's unit rows read with the start as the exclusive bound: the first unit is the one after
 * `unitBlockStart`. The file alone cannot say which bound is off; the CDM registry's own issuances can.
 * Read so, 1,487 of the 1,528 counted held rows lie inside a CDM issuance and 1,458 end on its last unit;
 * read with the end exclusive, 436 would lie inside one (connectors/cad-trust/README.md).
 */
export function withExclusiveStarts(rows: readonly CadtRow[]): CadtRow[] {
  // A row that counts no units is an error as written, whatever its bounds.
  return rows.map((row) => (row.table === 'units' && Number(numberOf(row.values.unitCount)) > 0
    ? { ...row, values: { ...row.values, unitBlockStart: String(Number(row.values.unitBlockStart) + 1) } }
    : row));
}
