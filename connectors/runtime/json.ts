import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream';
import { parser } from 'stream-json';
import { pick } from 'stream-json/filters/pick.js';
import { streamArray } from 'stream-json/streamers/stream-array.js';

// JSON files: saved API responses, read as a stream (stream-json: a token parser, so a file larger
// than memory is fine). The records are the top-level array, or the array inside the envelope the
// registries use: `entities` (S&P platform), `data` (Laravel APIs), `results`, `rows`, `items`,
// `response.results` (Bubble), `datasets.<ledger>.rows` (GreenTrace).

const ENVELOPE = /^(entities|data|results|rows|items|response\.results|datasets\.[^.]+\.rows)$/;

export type JsonRecord = { index: number; value: Record<string, unknown> };

async function firstCharacter(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(4096);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    return buffer.subarray(0, bytesRead).toString('utf8').replace(/^\uFEFF/, '').trimStart().charAt(0);
  } finally {
    await handle.close();
  }
}

/** The records of a JSON file, one at a time, with their position in the array. */
export async function* readJsonRecords(path: string): AsyncGenerator<JsonRecord> {
  const first = await firstCharacter(path);
  if (first !== '[' && first !== '{') throw new Error('the file is not JSON (it starts with neither [ nor {)');
  const stages = [createReadStream(path), parser.asStream()];
  if (first === '{') stages.push(pick.asStream({ filter: ENVELOPE, once: true }));
  stages.push(streamArray.asStream());
  const items = pipeline(stages as unknown as [NodeJS.ReadableStream, NodeJS.WritableStream], () => {});
  let seen = 0;
  for await (const item of items as unknown as AsyncIterable<{ key: number; value: unknown }>) {
    seen += 1;
    if (!item.value || typeof item.value !== 'object' || Array.isArray(item.value)) {
      throw new Error(`item ${item.key} is not an object`);
    }
    yield { index: item.key, value: item.value as Record<string, unknown> };
  }
  if (seen === 0 && first === '{') {
    // Either no records, or an envelope Tally does not know: say which keys it looked for.
    throw new Error('no records found: expected an array, or an object holding one under entities, data, results, rows, items, response.results or datasets.<ledger>.rows');
  }
}
