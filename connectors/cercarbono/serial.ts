import { parseBounds, serialError, serialText, type SerialResult } from '../runtime/serial.ts';
import { REGISTRY } from './values.ts';

// Cercarbono's serials (reference/registries.md §3.6, offsetsdb.md §3): one string per issued batch,
// underscore-separated, `CDC_1_1_1_321_14_1`, `CDC_1_1_1_321_14_1_2009`, `CDC_29_7_29_321_14_R1_XX_CO_1_6_2022`,
// the buffer's share of a batch with `_BF` / `_BFC_`, the revised form `CDC_R_16_3_5_323_1_CO_1_1_2011`,
// `IC_15_…` for projects first registered under ICONTEC's programme, and `BCR2CDC_106_…` for units
// converted from BioCarbon. The project's EcoRegistry id is the second field, or the third after `R`
// (the rule OffsetsDB applies). The serial names a batch, not a range: units inside it are numbered,
// and a retirement gives its `from` and `to` unit numbers. Numbering starts at 0 in some batches
// (CDC_1_1_1_321_14_1: 0–999 then 1000–62739 for 62,740 units) and at 1 in others, so a range is
// compared only with ranges of the same serial: the serial is the number space.

/** The project id a serial names, or the reason it names none. */
export function serialProject(raw: unknown): { ok: true; serial: string; projectId: string } | { ok: false; error: string } {
  const text = serialText(raw);
  if (!text.ok) return text;
  const tokens = text.text.split('_');
  if (tokens.length < 3 || !/^[A-Z0-9]+$/i.test(tokens[0]!)) {
    return serialError(text.text, 'expected underscore-separated fields such as CDC_1_1_1_321_14_1');
  }
  const projectToken = tokens[1] === 'R' ? tokens[2] : tokens[1];
  if (!projectToken || !/^\d+$/.test(projectToken)) {
    return serialError(text.text, `expected the project number as the ${tokens[1] === 'R' ? 'third' : 'second'} field, found "${projectToken ?? ''}"`);
  }
  return { ok: true, serial: text.text, projectId: String(Number(projectToken)) };
}

/** The unit range a retirement took out of a serial's batch (`from`–`to`, both included). */
export function retiredRange(serial: string, from: string | undefined, to: string | undefined): SerialResult {
  const bounds = parseBounds(`${serial} ${from ?? ''}-${to ?? ''}`, from?.trim(), to?.trim());
  if (!bounds.ok) return bounds;
  return { ok: true, range: { numberSpace: `${REGISTRY}:${serial}`, start: bounds.start, end: bounds.end, raw: `${serial} ${bounds.start}-${bounds.end}` } };
}
