import { open } from 'node:fs/promises';
import type { Duplex, Readable } from 'node:stream';
import type { ArchiveLimits } from '../../schema/config.ts';

// Bounds on what a ZIP container (an XLSX workbook is one) may hold, so that a small file that inflates
// to gigabytes (a "zip bomb") is refused instead of read. Two checks, both in bytes, never in time:
// - before reading, the central directory's declared entry count and sizes (refused with nothing
//   inflated, for a file on disk);
// - while reading, the bytes actually inflated and the entries actually met, since a forged directory
//   can declare less than its data holds. Reading stops at the first byte over the bound.

export class ArchiveTooLarge extends Error {}

const MB = 1024 * 1024;
const describeBytes = (bytes: number) => `${(bytes / MB).toLocaleString('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 })} MB`;

function inflatedTooMuch(limits: ArchiveLimits, seen: string): ArchiveTooLarge {
  return new ArchiveTooLarge(`the workbook inflates to more than ${describeBytes(limits.maxInflatedBytes)} (${seen}), the most Tally reads (TALLY_MAX_INFLATED_MB); nothing was read from it`);
}

function tooManyEntries(limits: ArchiveLimits, seen: string): ArchiveTooLarge {
  return new ArchiveTooLarge(`the workbook holds more than ${limits.maxEntries.toLocaleString('en-US')} parts (${seen}), the most Tally reads (TALLY_MAX_ZIP_ENTRIES); nothing was read from it`);
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;

/**
 * Refuses a ZIP file on disk whose central directory declares more entries or more inflated bytes than
 * the limits allow. A file without a readable directory is left to the reader, which reports it; sizes
 * a ZIP64 directory moves elsewhere are left to the count while reading.
 */
export async function checkDeclaredSize(path: string, limits: ArchiveLimits): Promise<void> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const tailLength = Math.min(size, EOCD_SIZE + MAX_COMMENT);
    const tail = Buffer.alloc(tailLength);
    await file.read(tail, 0, tailLength, size - tailLength);
    let at = -1;
    for (let i = tailLength - EOCD_SIZE; i >= 0; i -= 1) {
      if (tail.readUInt32LE(i) === EOCD_SIGNATURE) {
        at = i;
        break;
      }
    }
    if (at < 0) return;
    const entries = tail.readUInt16LE(at + 10);
    const directorySize = tail.readUInt32LE(at + 12);
    const directoryOffset = tail.readUInt32LE(at + 16);
    if (entries === 0xffff || directoryOffset === 0xffffffff || directoryOffset + directorySize > size) return;
    if (entries > limits.maxEntries) throw tooManyEntries(limits, `${entries.toLocaleString('en-US')} declared`);
    const directory = Buffer.alloc(directorySize);
    await file.read(directory, 0, directorySize, directoryOffset);
    let declared = 0;
    for (let p = 0; p + 46 <= directorySize && directory.readUInt32LE(p) === CENTRAL_SIGNATURE;) {
      const inflated = directory.readUInt32LE(p + 24);
      if (inflated !== 0xffffffff) declared += inflated;
      if (declared > limits.maxInflatedBytes) throw inflatedTooMuch(limits, `${describeBytes(declared)} declared`);
      p += 46 + directory.readUInt16LE(p + 28) + directory.readUInt16LE(p + 30) + directory.readUInt16LE(p + 32);
    }
  } finally {
    await file.close();
  }
}

type Entry = Duplex & { path?: string };

/**
 * Counts what the unzip stream `zip` (unzipper's Parse, which pushes one stream per entry) inflates:
 * past either limit, the entry being read and the unzip stream fail with ArchiveTooLarge.
 */
export function countInflated(zip: Readable, limits: ArchiveLimits): void {
  let entries = 0;
  let inflated = 0;
  // The reader of the entry (a parser, or a temporary file) comes to its end; the unzip stream fails, so
  // the workbook reader stops with the error at its next step. Writes under way are dropped.
  const fail = (entry: Entry, error: ArchiveTooLarge) => {
    entry.on('error', () => {});
    entry.end();
    zip.destroy(error);
  };
  const push = zip.push;
  zip.push = function (this: Readable, chunk: unknown, encoding?: BufferEncoding) {
    const entry = chunk as Entry | null;
    if (entry && typeof entry === 'object' && 'path' in entry) {
      entries += 1;
      if (entries > limits.maxEntries) {
        fail(entry, tooManyEntries(limits, `${entries.toLocaleString('en-US')} met`));
        return false;
      }
      const write = entry.write;
      entry.write = function (this: Entry, data: Buffer, ...rest: unknown[]) {
        inflated += data.length;
        if (inflated > limits.maxInflatedBytes) {
          fail(entry, inflatedTooMuch(limits, `${inflated.toLocaleString('en-US')} bytes inflated when reading stopped`));
          return false;
        }
        return (write as (...a: unknown[]) => boolean).call(this, data, ...rest);
      } as Entry['write'];
    }
    return push.call(this, chunk, encoding);
  };
}
