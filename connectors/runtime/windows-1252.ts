// Windows-1252, the encoding of CSVs saved by Excel on Windows and of CAR's APX downloads. Node's
// TextDecoder takes the label but decodes as Latin-1, which leaves bytes 0x80–0x9F (€, curly quotes,
// dashes, ™) as C1 control characters; these are mapped here to the characters they stand for.

/** Windows-1252's characters for bytes 0x80–0x9F; U+FFFD where it defines none (those bytes stay as they are). */
const C1 = '\u20ac\ufffd\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\ufffd\u017d\ufffd'
  + '\ufffd\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\ufffd\u017e\u0178';

/**
 * Text whose Windows-1252 punctuation came through as C1 control characters (decoded as Latin-1, or
 * stored so by the publisher: `African Clean Energy Switch \u0096 Biogas`, `Côte d\u0092Ivoire`), each
 * read as the character it stood for.
 */
export const repairC1 = (text: string) => text.replace(/[\u0080-\u009f]/g, (c) => {
  const mapped = C1[c.charCodeAt(0) - 0x80]!;
  return mapped === '\ufffd' ? c : mapped;
});

/** A streaming Windows-1252 decoder with TextDecoder's `decode` (every byte is one character, so no state is carried). */
export function windows1252Decoder(): { decode(bytes?: Uint8Array, options?: { stream?: boolean }): string } {
  const latin1 = new TextDecoder('latin1');
  return { decode: (bytes, options) => repairC1(latin1.decode(bytes, options)) };
}
