import { open } from 'node:fs/promises';
import { constants, crc32, createDeflateRaw } from 'node:zlib';

// A ZIP writer for tests that need archives no library would write: a workbook whose sheet inflates to
// far more than the file's size (a "zip bomb"), with honest sizes in its headers or forged ones. Entries
// are deflated as they are generated, so a bomb of hundreds of megabytes never sits in memory.

export type ZipEntry = {
  name: string;
  /** The entry's content, in pieces (generated lazily for large entries). */
  chunks: Iterable<Buffer | string>;
  /** Declare this many inflated bytes in the headers instead of the true count (a forged archive). */
  declaredSize?: number;
};

const u16 = (n: number) => { const b = Buffer.alloc(2); b.writeUInt16LE(n); return b; };
const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32LE(n >>> 0); return b; };

async function deflate(chunks: Iterable<Buffer | string>): Promise<{ data: Buffer; size: number; crc: number }> {
  const deflater = createDeflateRaw({ level: constants.Z_BEST_COMPRESSION });
  const out: Buffer[] = [];
  deflater.on('data', (b: Buffer) => out.push(b));
  const done = new Promise((resolve, reject) => { deflater.on('end', resolve); deflater.on('error', reject); });
  let size = 0;
  let crc = 0;
  for (const chunk of chunks) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += bytes.length;
    crc = crc32(bytes, crc);
    if (!deflater.write(bytes)) await new Promise((resolve) => deflater.once('drain', resolve));
  }
  deflater.end();
  await done;
  return { data: Buffer.concat(out), size, crc };
}

/** Writes a ZIP file of `entries` (deflated) to `path`. */
export async function writeZip(path: string, entries: ZipEntry[]): Promise<void> {
  const file = await open(path, 'w');
  const central: Buffer[] = [];
  let offset = 0;
  const write = async (buffer: Buffer) => { await file.write(buffer); offset += buffer.length; };
  try {
    for (const entry of entries) {
      const name = Buffer.from(entry.name);
      const { data, size, crc } = await deflate(entry.chunks);
      const declared = entry.declaredSize ?? size;
      const common = [u16(20), u16(0), u16(8), u16(0), u16(0x21), u32(crc), u32(data.length), u32(declared), u16(name.length), u16(0)];
      const at = offset;
      await write(Buffer.concat([u32(0x04034b50), ...common, name]));
      await write(data);
      central.push(Buffer.concat([u32(0x02014b50), u16(20), ...common, u16(0), u16(0), u16(0), u32(0), u32(at), name]));
    }
    const directory = Buffer.concat(central);
    const start = offset;
    await write(directory);
    await write(Buffer.concat([u32(0x06054b50), u16(0), u16(0), u16(entries.length), u16(entries.length), u32(directory.length), u32(start), u16(0)]));
  } finally {
    await file.close();
  }
}

const SHEET_NS = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const REL_NS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

/**
 * The parts of a one-sheet workbook whose sheet holds `rows` (each a list of cells, written inline) and,
 * after them, `padding` bytes of whitespace: XML that inflates to whatever size a test needs.
 */
export function workbookEntries(rows: string[][], padding = 0, sheetDeclaredSize?: number): ZipEntry[] {
  const cell = (value: string, r: number, c: number) => `<c r="${String.fromCharCode(65 + c)}${r}" t="inlineStr"><is><t>${value}</t></is></c>`;
  const body = rows.map((cells, i) => `<row r="${i + 1}">${cells.map((v, c) => cell(v, i + 1, c)).join('')}</row>`).join('');
  function* sheet(): Generator<string | Buffer> {
    yield `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="${SHEET_NS}"><sheetData>${body}`;
    const block = Buffer.alloc(1024 * 1024, 0x20);
    for (let left = padding; left > 0; left -= block.length) yield left >= block.length ? block : block.subarray(0, left);
    yield '</sheetData></worksheet>';
  }
  return [
    { name: '[Content_Types].xml', chunks: [`<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`] },
    { name: '_rels/.rels', chunks: [`<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>`] },
    { name: 'xl/workbook.xml', chunks: [`<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="${SHEET_NS}" xmlns:r="${REL_NS}"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`] },
    { name: 'xl/_rels/workbook.xml.rels', chunks: [`<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${REL_NS}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`] },
    { name: 'xl/worksheets/sheet1.xml', chunks: sheet(), ...(sheetDeclaredSize !== undefined ? { declaredSize: sheetDeclaredSize } : {}) },
  ];
}
