import { readFileSync } from 'node:fs';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issuances } from '../../connectors/gold-standard/map-issuances.ts';
import { readCsvRows } from '../../connectors/runtime/csv.ts';
import { HttpClient } from '../../connectors/runtime/http.ts';
import { publishedFiles, publishedKind } from '../../connectors/runtime/published-file.ts';
import type { RawRecord } from '../../connectors/types.ts';
import { startReplayServer, type ReplayServer } from '../helpers/replay-server.ts';

// A registry that publishes files instead of an API: the scheduled pull downloads the file and reads
// it with the file format an upload of it goes through. Served here: Gold Standard's real issuance
// export (test/fixtures/registry-samples/gold-standard/issuances.csv) as CSV, and the same rows as a
// workbook with a title block above the header (built here: GS publishes no workbook).

const csvPath = new URL('../fixtures/registry-samples/gold-standard/issuances.csv', import.meta.url).pathname;
const csvBytes = readFileSync(csvPath);

async function workbookOf(path: string): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('Issuances');
  sheet.addRow(['Gold Standard Impact Registry: issuances']);
  sheet.addRow([]);
  let first = true;
  for await (const row of readCsvRows(path)) {
    if (first) sheet.addRow(Object.keys(row.values));
    first = false;
    sheet.addRow(Object.values(row.values));
  }
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

const mode = publishedFiles({
  registry: 'gold-standard',
  files: [{ url: 'https://registry.example/issuances.csv', format: issuances }],
});

async function pull(url: string): Promise<RawRecord[]> {
  const config = mode.config.parse({ urls: { issuances: url } });
  const http = new HttpClient({ ...mode.http(config), baseDelayMs: 1, retries: 2 });
  try {
    const out: RawRecord[] = [];
    for await (const record of mode.streams(config)[0]!.pull(http)) out.push(record);
    return out;
  } finally {
    await http.close();
  }
}

describe('published files as an API mode', () => {
  let server: ReplayServer;
  let xlsxBytes: Buffer;
  const expected: Record<string, string>[] = [];

  beforeAll(async () => {
    for await (const row of readCsvRows(csvPath)) expected.push(row.values);
    xlsxBytes = await workbookOf(csvPath);
    server = await startReplayServer([
      { path: '/issuances.csv', responses: [{ status: 503 }, { body: csvBytes, headers: { 'content-type': 'text/csv' } }] },
      { path: '/issuances.xlsx', responses: { body: xlsxBytes, headers: { 'content-type': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' } } },
      { path: '/project/', responses: { body: '<html><body><a href="/pdf/guide.pdf">guide</a> <a href="../data/issuances_2026-11.xlsx?v=2&amp;x=1">list</a></body></html>' } },
      { path: '/data/issuances_2026-11.xlsx', match: (r) => r.query.v === '2' && r.query.x === '1', responses: { body: xlsxBytes } },
      { path: '/moved', responses: { body: '<!DOCTYPE html><html><head><title>Page not found</title></head><body></body></html>' } },
      { path: '/renamed.csv', responses: { body: 'Project,Quantity\nGS1,5\n' } },
      { path: '/cut.xlsx', responses: { body: xlsxBytes.subarray(0, Math.floor(xlsxBytes.length / 2)) } },
    ]);
  });
  afterAll(async () => server.close());

  it('when the CSV is published (after one 503), then the pull yields the rows an upload of the file reads, line numbers included', async () => {
    const records = await pull(`${server.url}/issuances.csv`);
    expect(records).toHaveLength(expected.length);
    expect(records.map((r) => r.payload)).toEqual(expected);
    expect(records[0]!.locator).toBe('line 2');
    expect(server.requests.filter((r) => r.path === '/issuances.csv')).toHaveLength(2);
  });

  it('when the same rows are published as a workbook under a title block, then the pull finds the header and yields the same rows', async () => {
    const records = await pull(`${server.url}/issuances.xlsx`);
    expect(records.map((r) => r.payload)).toEqual(expected);
    expect(records[0]!.locator).toBe('sheet "Issuances" row 4');
    // Each row maps as the upload maps it.
    const mapped = records.map((r) => issuances.map(r.payload as Record<string, string>, r.locator));
    expect(mapped.flatMap((m) => m.errors)).toEqual([]);
  });

  it('when the registry publishes the file behind a link on a page, then the pull follows the link that matches', async () => {
    const linked = publishedFiles({
      registry: 'gold-standard',
      files: [{ url: `${server.url}/project/`, link: /issuances_[\d-]+\.xlsx/, format: issuances }],
    });
    const config = linked.config.parse({});
    const http = new HttpClient({ ...linked.http(config), baseDelayMs: 1 });
    try {
      const records: RawRecord[] = [];
      for await (const record of linked.streams(config)[0]!.pull(http)) records.push(record);
      expect(records.map((r) => r.payload)).toEqual(expected);
      expect(await linked.check(http, config)).toMatch(/\/data\/issuances_2026-11\.xlsx\?v=2&x=1 \(XLSX/);
    } finally {
      await http.close();
    }
  });

  it('when the address answers an HTML page with status 200, then the pull fails naming the page, not with empty data', async () => {
    await expect(pull(`${server.url}/moved`)).rejects.toThrow(/expected the published file but got an HTML page titled "Page not found"/);
  });

  it("when the file's columns changed, then the pull fails naming the missing columns", async () => {
    await expect(pull(`${server.url}/renamed.csv`)).rejects.toThrow(/the file lacks the columns/);
  });

  it('when the workbook is cut off, then the pull fails', async () => {
    await expect(pull(`${server.url}/cut.xlsx`)).rejects.toThrow();
  });

  it('when a configuration names an unknown stream or a bad address, then it is refused', () => {
    expect(mode.config.safeParse({ urls: { retirements: 'https://x.example/r.csv' } }).success).toBe(false);
    expect(mode.config.safeParse({ urls: { issuances: 'not a url' } }).success).toBe(false);
    expect(mode.config.parse({})).toEqual({ urls: { issuances: 'https://registry.example/issuances.csv' } });
  });

  it('tells a workbook, a CSV and a page apart by their bytes', () => {
    expect(publishedKind(xlsxBytes)).toBe('xlsx');
    expect(publishedKind(csvBytes)).toBe('csv');
    expect(publishedKind(Buffer.from('\n  <html>'))).toBe('html');
    expect(publishedKind(Buffer.alloc(0))).toBe('empty');
  });
});
