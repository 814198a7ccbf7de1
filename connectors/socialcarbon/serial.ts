import { parseBounds, serialError, serialText, type SerialResult } from '../runtime/serial.ts';

// SocialCarbon serials (the registry's Bubble app, captured 2026-08):
//   SCU-SOCIALCARBON-8-USA-2023-09042024101700-1-12913
//   SC-SCU - Removal-SOCIALCARBON-9-India-2022-03112025081126-1-403      (batches created since mid-2025)
//   <unit prefix>-SOCIALCARBON-<project no.>-<country name>-<vintage year>-<DDMMYYYYhhmmss>-<first>-<last>
// Everything before the range is the issuance's `Batch_ID`, and every batch starts at 1 (17 of 17
// captured issuances), so the batch is the number space. The country is a name as the project page
// writes it (USA, Brazil, India), not an ISO code; the project number is the registry's human
// reference (`SOCIALCARBON-19`), which two projects share, so it is not checked against a project.

const SERIAL = /^((.+)-SOCIALCARBON-(\d+)-(.+)-(\d{4})-(\d{2})(\d{2})(\d{4})(\d{2})(\d{2})(\d{2}))-(\d+)-(\d+)$/;

export type SocialCarbonSerial = {
  /** `Batch_ID`: the serial without its range. */
  batch: string;
  /** The day the batch stamp names; not the issuance date (it falls before the record's creation on some issuances, weeks after on others). */
  batchDate: string;
};

export function parseSocialCarbonSerial(raw: unknown): SerialResult & { batch?: SocialCarbonSerial } {
  const text = serialText(raw);
  if (!text.ok) return text;
  const m = SERIAL.exec(text.text);
  if (!m) {
    return serialError(text.text, 'expected <unit>-SOCIALCARBON-<project>-<country>-<vintage>-<DDMMYYYYhhmmss>-<first>-<last>, e.g. SCU-SOCIALCARBON-8-USA-2023-09042024101700-1-12913');
  }
  const [, batch, , , , year, dd, mm, yyyy, hh, mi, ss, first, last] = m as unknown as string[];
  const stamp = new Date(Date.UTC(Number(yyyy), Number(mm) - 1, Number(dd), Number(hh), Number(mi), Number(ss)));
  if (stamp.getUTCDate() !== Number(dd) || stamp.getUTCMonth() !== Number(mm) - 1 || Number(hh) > 23 || Number(mi) > 59 || Number(ss) > 59) {
    return serialError(text.text, `"${dd}${mm}${yyyy}${hh}${mi}${ss}" is not a batch stamp (DDMMYYYYhhmmss)`);
  }
  const bounds = parseBounds(text.text, first, last);
  if (!bounds.ok) return bounds;
  return {
    ok: true,
    range: { numberSpace: `socialcarbon:${batch}`, start: bounds.start, end: bounds.end, raw: text.text, vintageYear: Number(year) },
    batch: { batch: batch!, batchDate: `${yyyy}-${mm}-${dd}` },
  };
}
