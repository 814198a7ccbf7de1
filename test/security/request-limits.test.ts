import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiKey } from '../../api/auth.ts';
import { ingestFiles } from '../../jobs/ingest-files.ts';
import { metrics } from '../../api/metrics.ts';
import { organizations } from '../../schema/db/index.ts';
import { rows } from '../../schema/database.ts';
import { sql } from 'drizzle-orm';
import { startApi } from '../helpers/api.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/database.ts';

// SECURITY.md, "Requests are bounded": what one request may carry and ask for is bounded, refused with
// a clear, coded error before any work, and the server keeps answering. Each case is an attacker's
// request; what is checked is the answer, the statements the database ran, and /health afterwards.

describe('request limits', () => {
  let t: TestDatabase;
  let api: Awaited<ReturnType<typeof startApi>>;
  let publisher: string;
  let statements = 0;
  const dir = mkdtempSync(join(tmpdir(), 'tally-limits-'));

  beforeAll(async () => {
    t = await openTestDatabase({ onQuery: () => { statements += 1; } });
    const [org] = await t.handle.db.insert(organizations).values({ slug: 'limits', name: 'Limits' }).returning();
    publisher = (await createApiKey(t.handle.db, { name: 'p', role: 'publisher', organizationId: org!.id })).key;
    api = await startApi(t.handle);
  });
  afterAll(async () => {
    await api?.close();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const healthy = async () => expect((await fetch(`${api.url}/health`)).status).toBe(200);

  it('when a search string is longer than 200 characters, then the request is refused before the database is asked, and the server answers', async () => {
    const s = 'x'.repeat(255_000);
    const aliases = Array.from({ length: 15 }, (_, i) => `a${i}: projects(first: 0, filter: { search: $s }) { totalCount }`).join(' ');
    const before = statements;
    const result = await api.gql(`query ($s: String) { ${aliases} }`, { s });
    expect(statements - before).toBe(0);
    expect(result.errors![0]).toMatchObject({ message: 'search: at most 200 characters (got 255,000)', extensions: { code: 'BAD_USER_INPUT' } });
    const trend = await api.gql(`{ trends(filter: { search: "${'y'.repeat(201)}" }) { points { year } } }`);
    expect(trend.errors![0]!.message).toBe('search: at most 200 characters (got 201)');
    await healthy();
  });

  it('when any string argument or list passes its documented bound, then it is refused with the bound', async () => {
    const serial = await api.gql(`query ($s: String!) { lookup(serial: $s) { blocks { serial } } }`, { s: '1'.repeat(201) });
    expect(serial.errors![0]!.message).toBe('serial: at most 200 characters (got 201)');
    const key = await api.gql(`{ project(key: "${'k'.repeat(301)}") { key } }`);
    expect(key.errors![0]!.message).toBe('key: at most 300 characters (got 301)');
    const list = await api.gql(`query ($r: [String!]) { projects(filter: { registries: $r }) { totalCount } }`, { r: Array.from({ length: 201 }, () => 'verra') });
    expect(list.errors![0]!.message).toBe('registries: at most 200 values (got 201)');
    const other = await api.gql(`query ($p: String!) { article6(party: $p) { party } }`, { p: 'VUTX'.repeat(3) });
    expect(other.errors![0]!.message).toBe('party: at most 8 characters (got 12)');
  });

  it('when a JSON body is sent chunked, then it is counted as read and refused past 256 KB with 413', async () => {
    for (const size of [2 * 1024 * 1024, 60 * 1024 * 1024]) {
      const chunk = new TextEncoder().encode(' '.repeat(64 * 1024));
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        start(controller) { controller.enqueue(new TextEncoder().encode('{"query":"{ viewer { role } }","x":"')); },
        pull(controller) {
          if (sent >= size) return controller.close();
          sent += chunk.length;
          controller.enqueue(chunk);
        },
      });
      // A stream body has no Content-Length: it goes out with Transfer-Encoding: chunked.
      const response = await fetch(`${api.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit);
      expect(response.status).toBe(413);
      expect(await response.json()).toMatchObject({ errors: [{ extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
      // The server stopped reading long before the end of the large body (socket buffers took the rest of the small one).
      if (size > 10 * 1024 * 1024) expect(sent).toBeLessThan(size / 2);
    }
    await healthy();
  });

  it('when a client sends its whole oversized body before it reads, then it still reads the 413', async () => {
    // Many clients read the answer only once they have sent. The server reads the rest of a refused body
    // (up to a bound) instead of closing under the client, whose write would otherwise fail first.
    const url = new URL(api.url);
    const size = 4 * 1024 * 1024;
    const socket = connect(Number(url.port), url.hostname);
    const received: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    const closed = new Promise<Error | undefined>((resolve) => {
      socket.on('error', resolve);
      socket.on('close', () => resolve(undefined));
    });
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(`POST /graphql HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/json\r\nContent-Length: ${size}\r\n\r\n`);
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    for (let sent = 0; sent < size; sent += chunk.length) {
      if (!socket.write(chunk)) await new Promise((resolve) => socket.once('drain', resolve));
    }
    await new Promise<void>((resolve) => socket.end(resolve));
    expect(await closed).toBeUndefined();
    const answer = Buffer.concat(received).toString('utf8');
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain('PAYLOAD_TOO_LARGE');
    await healthy();
  });

  it('when an upload is sent chunked past the upload limit, then it is refused with 413 and the server answers', async () => {
    const boundary = 'tallyboundary';
    const operations = JSON.stringify({ query: 'mutation ($f: [Upload!]!) { upload(files: $f) { accepted } }', variables: { f: [null] } });
    const head = `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${operations}\r\n--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.f.0"]}\r\n--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="big.csv"\r\nContent-Type: text/csv\r\n\r\n`;
    const chunk = new TextEncoder().encode('a,b\n'.repeat(16 * 1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      start(controller) { controller.enqueue(new TextEncoder().encode(head)); },
      pull(controller) {
        if (sent >= 40 * 1024 * 1024) return controller.close();
        sent += chunk.length;
        controller.enqueue(chunk);
      },
    });
    const response = await fetch(`${api.url}/graphql`, {
      method: 'POST', body, duplex: 'half',
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, authorization: `Bearer ${publisher}`, 'graphql-require-preflight': '1' },
    } as RequestInit);
    expect(response.status).toBe(413);
    const answer = await response.json();
    expect(answer).toMatchObject({ errors: [{ extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
    expect(sent).toBeLessThan(20 * 1024 * 1024);
    await healthy();
  });

  it('when graphql-armor refuses an operation, then the answer names the limit, not a syntax error', async () => {
    const tokens = await api.gql(`{ ${Array.from({ length: 2100 }, () => 'viewer { role }').join(' ')} }`);
    expect(tokens.errors![0]).toMatchObject({ message: expect.stringMatching(/^maxTokens: Token limit of 4000 exceeded/), extensions: { code: 'LIMIT_EXCEEDED' } });
    const depth = await api.gql('{ projects { nodes { links { project { links { project { links { project { links { project { links { project { key } } } } } } } } } } } } }');
    expect(depth.errors![0]).toMatchObject({ message: expect.stringMatching(/^maxDepth: /), extensions: { code: 'LIMIT_EXCEEDED' } });
  });

  it('when a cursor holds an id out of range or is not a cursor, then the answer is a coded refusal', async () => {
    const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    for (const cursor of [encode(['a', 1e30]), encode(['a', -1]), encode([{ x: 1 }, 1]), encode(['a', 1.5]), 'not-a-cursor']) {
      for (const field of ['projects(after: $a) { totalCount }', 'findings(after: $a) { totalCount }', 'batches(after: $a) { nodes { id } }']) {
        const result = await api.gql(`query ($a: String) { ${field} }`, { a: cursor });
        expect(result.errors![0]).toMatchObject({ message: expect.stringMatching(/^after: not a cursor this API gave out/), extensions: { code: 'BAD_USER_INPUT' } });
      }
    }
  });

  it('when a file name is 300 characters long, then the upload is refused with a coded error and nothing is stored', async () => {
    const result = await api.upload([{ name: `${'n'.repeat(296)}.csv`, content: 'a,b\n1,2\n' }], { key: publisher });
    expect(result.errors![0]).toMatchObject({ message: expect.stringMatching(/file name .* is 300 characters long; at most 200/), extensions: { code: 'BAD_USER_INPUT' } });
    const [batches] = await rows<{ n: number }>(t.handle.db, sql`select count(*)::int as n from batches`);
    expect(batches!.n).toBe(0);
  });

  it('when a file of many columns matches no export, then the answer shows at most the first 50', async () => {
    const path = join(dir, 'wide.csv');
    writeFileSync(path, `${Array.from({ length: 5_000 }, (_, i) => `column${i}`).join(',')}\n1\n`);
    const [outcome] = await ingestFiles(t.handle.db, [path]);
    expect(outcome!.accepted).toBe(false);
    const failure = (outcome as { failure: string }).failure;
    expect(failure).toMatch(/found columns: column0, column1, .*column49 … and 4,950 more \(5,000 in all\)/);
    expect(failure).not.toMatch(/column50\b/);
    expect(failure.length).toBeLessThan(20_000);
  });

  it('when a file\'s header is a million columns (8.9 MB on one line), then it is refused at the first megabyte of the row', async () => {
    const path = join(dir, 'million.csv');
    writeFileSync(path, `${Array.from({ length: 1_000_000 }, (_, i) => `column${i}`).join(',')}\n1\n`);
    const [outcome] = await ingestFiles(t.handle.db, [path]);
    expect(outcome).toMatchObject({ accepted: false, failure: 'line 1: the row is longer than 1,048,576 characters, the longest Tally reads; no registry export has rows this long' });
  });

  it('when an operation has a name, then the metrics count it under that name', async () => {
    await api.gql('query WhoAmI { viewer { role } }');
    const text = await metrics.metrics();
    expect(text).toMatch(/tally_graphql_operations_total\{operation="WhoAmI",outcome="ok"\} [1-9]/);
  });

  it.runIf(process.env.TEST_DATABASE_URL)('when a statement of a request runs past its timeout, then the database stops it (server only)', async () => {
    const bounded = t.handle.withStatementTimeout(100);
    await expect(rows(bounded, sql`select pg_sleep(2)`)).rejects.toMatchObject({ cause: { code: '57014' } });
    await expect(rows(t.handle.db, sql`select 1 as one`)).resolves.toEqual([{ one: 1 }]);
  });
});
