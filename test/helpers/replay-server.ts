import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import type { AddressInfo, Socket } from 'node:net';

// A real HTTP server on loopback for connector tests: it answers scripted sequences of responses
// (captured registry bodies, 429s, resets, cut-off bodies) so the connectors and the HTTP client
// are exercised over a real socket, and it records every request for assertions.

export type ReplayResponse = {
  /** Default 200. */
  status?: number;
  headers?: Record<string, string>;
  /** Sent as JSON (content-type application/json unless `headers` says otherwise). */
  json?: unknown;
  body?: string | Buffer;
  /** A fixture file sent as the body; content-type from the extension unless `headers` says otherwise. */
  file?: string | URL;
  /**
   * Send only the first N bytes of the body. By default the response still ends cleanly (chunked,
   * no Content-Length): the transport says "complete" and the JSON is cut, as a misbehaving proxy
   * delivers it. With `declareFullLength`, the full Content-Length is announced and the socket is
   * closed after N bytes: a body that ends early.
   */
  truncateAfterBytes?: number;
  declareFullLength?: boolean;
  /** Reset the connection (TCP RST) instead of answering. */
  resetConnection?: boolean;
  /** Wait before sending the status line. */
  delayMs?: number;
};

export type RecordedRequest = {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  rawBody: string;
  /** JSON bodies parsed, form bodies as a field record, anything else the raw text; undefined when empty. */
  body: unknown;
  /** performance.now() when the request's headers arrived. */
  at: number;
};

export type ReplayRoute = {
  /** Default GET. */
  method?: string;
  path: string;
  /** Narrows the route, e.g. to one page: `(req) => req.query.page === '2'`. */
  match?: (request: RecordedRequest) => boolean;
  /**
   * Answered in order, one per matching request; the last one repeats. An entry may be a function of
   * the request, for servers that compute pages from a data set (a search API with filters and offsets).
   */
  responses: ScriptedResponse | ScriptedResponse[];
};

export type ScriptedResponse = ReplayResponse | ((request: RecordedRequest) => ReplayResponse);

export type ReplayServer = {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
};

const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

export async function startReplayServer(routes: ReplayRoute[]): Promise<ReplayServer> {
  const requests: RecordedRequest[] = [];
  const served = new Map<ReplayRoute, number>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const delay = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = performance.now();
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const rawBody = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const recorded: RecordedRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      rawBody,
      body: parseBody(req.headers['content-type'], rawBody),
      at,
    };
    requests.push(recorded);

    const route = routes.find(
      (r) => (r.method ?? 'GET').toUpperCase() === recorded.method && r.path === recorded.path && (r.match?.(recorded) ?? true),
    );
    if (!route) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `no replay route for ${recorded.method} ${recorded.path}` }));
      return;
    }
    const sequence = Array.isArray(route.responses) ? route.responses : [route.responses];
    const index = served.get(route) ?? 0;
    served.set(route, index + 1);
    const entry = sequence[Math.min(index, sequence.length - 1)];
    if (!entry) throw new Error(`replay route ${route.path} has no responses`);
    const scripted = typeof entry === 'function' ? entry(recorded) : entry;

    if (scripted.delayMs) await delay(scripted.delayMs);
    if (res.destroyed || req.socket.destroyed) return; // the client gave up while we waited
    if (scripted.resetConnection) {
      req.socket.resetAndDestroy();
      return;
    }

    const { body, contentType } = await responseBody(scripted);
    const headers: Record<string, string> = { ...(contentType ? { 'content-type': contentType } : {}), ...lowerCaseKeys(scripted.headers ?? {}) };
    const status = scripted.status ?? 200;
    const cut = scripted.truncateAfterBytes;
    if (cut === undefined || cut >= body.length) {
      res.writeHead(status, { ...headers, 'content-length': String(body.length) }).end(body);
    } else if (scripted.declareFullLength) {
      res.writeHead(status, { ...headers, 'content-length': String(body.length) });
      res.write(body.subarray(0, cut), () => req.socket.destroy());
    } else {
      res.writeHead(status, headers); // no Content-Length: chunked, ends cleanly
      res.end(body.subarray(0, cut));
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`replay server error: ${error instanceof Error ? error.message : String(error)}`);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

async function responseBody(response: ReplayResponse): Promise<{ body: Buffer; contentType: string | undefined }> {
  if (response.json !== undefined) return { body: Buffer.from(JSON.stringify(response.json)), contentType: 'application/json; charset=utf-8' };
  if (response.file !== undefined) {
    const path = response.file instanceof URL ? response.file.pathname : response.file;
    return { body: await readFile(response.file), contentType: CONTENT_TYPES[extname(path).toLowerCase()] };
  }
  if (response.body !== undefined) return { body: Buffer.from(response.body), contentType: undefined };
  return { body: Buffer.alloc(0), contentType: undefined };
}

function parseBody(contentType: string | undefined, raw: string): unknown {
  if (raw === '') return undefined;
  if (contentType?.includes('application/json')) {
    try {
      return JSON.parse(raw) as unknown;
    } catch {
      return raw;
    }
  }
  if (contentType?.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(raw));
  return raw;
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}
