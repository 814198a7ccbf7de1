import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCsvBytes, readCsvHeaders, readCsvRows } from '../../connectors/runtime/csv.ts';

// The CSV reader on the encodings registry files come in, and on the ones it must refuse with a reason.

const verra = new URL('../fixtures/registry-samples/verra/projects.csv', import.meta.url).pathname;
const jCredit = new URL('../fixtures/j-credit/registration-list-sample.csv', import.meta.url).pathname;

async function all(path: string) {
  const rows = [];
  for await (const row of readCsvRows(path)) rows.push(row);
  return rows;
}

describe('CSV reader', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tally-csv-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('when a file is UTF-8 with a BOM, CRLF and line breaks inside quoted headers, then headers are normalized and rows keep their text', async () => {
    expect(await readCsvHeaders(jCredit)).toContain('プロジェクト 番号');
    const rows = await all(jCredit);
    expect(rows).toHaveLength(30);
    expect(rows[0]!.values['適用方法論']).toMatch(/^EN-S-\d{3}/);
  });

  it('when a file is Windows-1252, then its accents read correctly', async () => {
    const path = join(dir, 'cp1252.csv');
    writeFileSync(path, Buffer.from('Project ID,Project Name\r\nACR1,Energías Renováveis São Paulo\r\n', 'latin1'));
    const [row] = await all(path);
    expect(row!.values['Project Name']).toBe('Energías Renováveis São Paulo');
  });

  it("when a Windows-1252 file has the bytes Latin-1 lacks (curly quotes, dashes, €, ™), then they read as Windows-1252's characters", async () => {
    const path = join(dir, 'cp1252-punctuation.csv');
    const name = Buffer.concat([Buffer.from('Project ID,Project Name\r\nCAR1,', 'latin1'), Buffer.from([0x93, 0x43, 0x94, 0x20, 0x96, 0x20, 0x80, 0x99, 0x20, 0x92]), Buffer.from('\r\n')]);
    writeFileSync(path, name);
    const [row] = await all(path);
    expect(row!.values['Project Name']).toBe('\u201cC\u201d \u2013 \u20ac\u2122 \u2019');
    expect(decodeCsvBytes(readFileSync(path))).toContain('\u201cC\u201d \u2013 \u20ac\u2122 \u2019');
  });

  it('when a file is UTF-16, then it is refused with what to do', async () => {
    const path = join(dir, 'utf16.csv');
    writeFileSync(path, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(readFileSync(verra, 'utf8'), 'utf16le')]));
    await expect(all(path)).rejects.toThrow(/UTF-16 text; save it as CSV UTF-8/);
  });

  it('when a file starts as UTF-8 and turns into another encoding after the first 64 KiB, then it is refused with the line', async () => {
    const path = join(dir, 'mixed.csv');
    const head = readFileSync(verra, 'utf8').split('\n')[0]!;
    const filler = Array.from({ length: 2000 }, (_, i) => `${i},Project ${i},Proponent,Type,,VM0042,Registered,Kenya,1,Africa,,,`).join('\n');
    writeFileSync(path, Buffer.concat([Buffer.from(`${head}\n${filler}\n`, 'utf8'), Buffer.from('9999,Energías,P,T,,VM0042,Registered,Brazil,1,Latin America,,,\n', 'latin1')]));
    await expect(all(path)).rejects.toThrow(/after line \d+: the file starts as UTF-8 but has bytes further on that are not UTF-8/);
  });

  it('when a file is a workbook renamed .csv, then it is refused as binary', async () => {
    const path = join(dir, 'book.csv');
    writeFileSync(path, readFileSync(new URL('../fixtures/cdm/Admincancellations_31082023.xlsx', import.meta.url)));
    await expect(readCsvHeaders(path)).rejects.toThrow(/binary data, not CSV text/);
  });
});
