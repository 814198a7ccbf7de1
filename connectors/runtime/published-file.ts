import { Readable } from 'node:stream';
import { z } from 'zod';
import type { ApiMode, ApiStream, FileFormat, RawRecord, UnitStatus } from '../types.ts';
import type { HttpClient } from './http.ts';
import { decodeCsvBytes, readCsvText } from './csv.ts';
import { matchColumns, type ColumnMatch } from './columns.ts';
import { fileRecords, mapFileRecord, type FileRow } from './file-records.ts';
import type { PagedStream } from './paging.ts';
import { readXlsxRows } from './xlsx.ts';

// Registries that publish their data as a file at a fixed address (the J-Credit project list, the
// ARB issuance table, the UNFCCC's CDM reports) have no API, but a scheduled pull is still a fetch:
// download the file and read it with the same file format an upload of it goes through, so a pull
// and an upload of the same file store the same records. A file is whole by construction, so there
// is no registry total to reconcile; a body that is not the file (an HTML page at HTTP 200, a
// truncated workbook) fails the pull and nothing is stored.

export type PublishedFile = {
  /**
   * Where the registry publishes it (overridable in the source's configuration): the file itself, or,
   * with `link`, the page that links to it (registries rename the file with each update); an address
   * that answers the file itself is read as the file either way.
   */
  url: string;
  /** The file's link on the page at `url`: the first `href` it matches, resolved against the page. */
  link?: RegExp;
  format: FileFormat;
  /** Unit statuses the file lists completely (see ApiStream.snapshotOf). */
  snapshotOf?: readonly UnitStatus[];
};

const ZIP_SIGNATURE = Buffer.from('PK\u0003\u0004', 'latin1');

/** What a downloaded body is: a workbook (a zip), a CSV, or a page that is neither. */
export function publishedKind(bytes: Buffer): 'xlsx' | 'csv' | 'html' | 'empty' {
  if (bytes.length === 0) return 'empty';
  if (bytes.subarray(0, 4).equals(ZIP_SIGNATURE)) return 'xlsx';
  const start = bytes.subarray(0, 512).toString('utf8').replace(/^\uFEFF/, '').trimStart().toLowerCase();
  if (start.startsWith('<!doctype html') || start.startsWith('<html') || start.startsWith('<?xml') || start.startsWith('<')) return 'html';
  return 'csv';
}

/** The rows of a downloaded file, as `tally ingest` reads the same file from disk. */
async function* rowsOfDownload(bytes: Buffer, file: PublishedFile, where: string): AsyncGenerator<FileRow> {
  const kind = publishedKind(bytes);
  if (kind === 'empty') throw new Error(`${where}: the download is empty`);
  if (kind === 'html') {
    const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(bytes.toString('utf8'))?.[1]?.replace(/\s+/g, ' ').trim();
    throw new Error(`${where}: expected the published file but got an HTML page${title ? ` titled "${title}"` : ''}; the address has probably changed`);
  }
  const changed = (missing: string[]) => new Error(`${where}: the file lacks the columns ${missing.map((h) => `"${h}"`).join(', ')} of ${file.format.id}; its layout has changed`);
  if (kind === 'xlsx') {
    const bySheet = new Map<string, ColumnMatch>();
    const fits = (cells: string[]) => matchColumns(file.format, cells).missing.length === 0;
    const rows = readXlsxRows(Readable.from([bytes]), { isHeader: fits, onHeader: (h) => bySheet.set(h.sheet, matchColumns(file.format, h.headers)) });
    for await (const row of rows) {
      yield { values: row.values, locator: `sheet "${row.sheet}" row ${row.line}`, context: { sheet: row.sheet }, columns: bySheet.get(row.sheet)! };
    }
    if (bySheet.size === 0) throw changed(matchColumns(file.format, []).missing);
    return;
  }
  let columns: ColumnMatch | undefined;
  for await (const row of readCsvText(decodeCsvBytes(bytes))) {
    if (!columns) {
      columns = matchColumns(file.format, Object.keys(row.values));
      if (columns.missing.length > 0) throw changed(columns.missing);
    }
    yield { values: row.values, locator: `line ${row.line}`, context: {}, columns };
  }
}

/** The file: the bytes at the address, or, when that is a page and the file has a `link`, the file the page links to. */
async function download(http: HttpClient, file: PublishedFile, url: string): Promise<{ address: string; bytes: Buffer }> {
  const first = await http.getBytes(url);
  if (!file.link || publishedKind(first.body) !== 'html') return { address: url, bytes: first.body };
  const page = first.body.toString('utf8');
  for (const [, href] of page.matchAll(/href\s*=\s*["']([^"']+)["']/gi)) {
    const decoded = href!.replace(/&amp;/g, '&');
    if (!file.link.test(decoded)) continue;
    const address = new URL(decoded, url).toString();
    return { address, bytes: (await http.getBytes(address)).body };
  }
  throw new Error(`${http.source}: GET ${url}: the page links to no file matching ${file.link}; its layout has changed (give the file's address in the source's configuration)`);
}

function pullFile(http: HttpClient, file: PublishedFile, url: string): PagedStream<RawRecord> {
  let received = 0;
  async function* records(): AsyncGenerator<RawRecord> {
    const { address, bytes } = await download(http, file, url);
    for await (const record of fileRecords(file.format, rowsOfDownload(bytes, file, `${http.source}: GET ${address}`))) {
      received += 1;
      yield record;
    }
  }
  return { [Symbol.asyncIterator]: records, reported: () => undefined, received: () => received };
}

/**
 * The API mode of a registry that publishes files: one stream per file, each downloaded whole and read
 * with its file format's mapper; the stream is the format's. Configuration: `{ urls: { <stream>: <address> } }`,
 * defaults from `files`.
 */
export function publishedFiles(options: { registry: string; files: readonly PublishedFile[]; timeoutMs?: number }): ApiMode {
  const defaults = Object.fromEntries(options.files.map((f) => [f.format.stream, f.url]));
  const config = z.object({
    urls: z.record(z.string(), z.string().url()).default({})
      .refine((urls) => Object.keys(urls).every((k) => k in defaults), { message: `streams are ${Object.keys(defaults).join(', ')}` })
      .transform((urls) => ({ ...defaults, ...urls })),
  });
  type Config = z.infer<typeof config>;
  return {
    config,
    http: () => ({ source: options.registry, timeoutMs: options.timeoutMs ?? 300_000, retries: 3 }),
    async check(http: HttpClient, c: Config) {
      const first = options.files[0]!;
      const { address, bytes } = await download(http, first, c.urls[first.format.stream]!);
      const kind = publishedKind(bytes);
      if (kind === 'html' || kind === 'empty') throw new Error(`${options.registry}: ${address} answered ${kind === 'html' ? 'an HTML page' : 'nothing'} instead of the ${first.format.id} file`);
      return `${options.registry}: ${first.format.id} published at ${address} (${kind.toUpperCase()}, ${bytes.length.toLocaleString('en-US')} bytes)`;
    },
    streams(c: Config): ApiStream[] {
      return options.files.map((file) => ({
        name: file.format.stream,
        totalField: 'none (a published file is read whole)',
        ...(file.snapshotOf ? { snapshotOf: file.snapshotOf } : {}),
        pull: (http: HttpClient) => pullFile(http, file, c.urls[file.format.stream]!),
        map: (raw: RawRecord) => mapFileRecord(raw),
      }));
    },
  };
}
