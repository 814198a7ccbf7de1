import { Agent, interceptors, request, type Dispatcher } from 'undici';

// The one HTTP client every connector uses. It is built on undici's `request` rather than `fetch`:
// `request` reports failures with stable error codes (UND_ERR_SOCKET, ECONNRESET,
// UND_ERR_RES_CONTENT_LENGTH_MISMATCH) where `fetch` wraps them all in `TypeError: fetch failed`,
// it does not decompress or otherwise rewrite the body behind our back, and it takes a dispatcher
// per call, so each client owns its connection pool and can close it.
//
// What the registries do that this client is shaped around (docs/reference/registries.md §0–3):
// - Gold Standard rate-limits with 429, sometimes with a bogus `Retry-After: 0`, and its
//   Cloudflare front answers 403 to clients without a browser-like User-Agent.
// - GreenTrace (ACR, ART) answers 429 with `Retry-After: 3600`: sleeping an hour inside a pull is
//   worse than failing with a message that says when to come back.
// - Dead or moved endpoints (Verra's legacy uiapi, acr2.apx.com) answer HTTP 200 with an HTML
//   page, which must not be mistaken for data or retried.
// - Large pages sometimes arrive cut off; a cut-off page is retried, never half-parsed.

/**
 * A desktop Chrome User-Agent (Windows, late 2026). Gold Standard's Cloudflare front rejects
 * requests whose User-Agent does not look like a browser; bump the version now and then.
 */
export const CHROME_USER_AGENT =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36';

/** Sent when a registry does not need to think we are a browser: says who is calling. */
const TALLY_USER_AGENT = 'Tally/0.1 (carbon-credit meta-registry)';

export type HttpErrorCode =
  | 'http-status' // a 4xx, or a 5xx/429 that outlived the retries
  | 'timeout' // no complete answer within timeoutMs, on every attempt
  | 'network' // connection refused or reset, body cut off, host not found
  | 'not-json' // JSON was asked for and an HTML page came back
  | 'malformed-json' // the body does not parse, on every attempt (usually a cut-off body)
  | 'retry-after-too-long'; // the registry asked us to wait longer than maxRetryAfterMs

export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly code: HttpErrorCode;
  readonly status: number | undefined;
  /** The URL asked for, with credentials in the query string masked. */
  readonly url: string;
  /** How many times the request was sent before giving up. */
  readonly attempts: number;
  readonly source: string;

  constructor(init: { code: HttpErrorCode; message: string; source: string; url: string; attempts: number; status?: number; cause?: unknown }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.code = init.code;
    this.status = init.status;
    this.url = init.url;
    this.attempts = init.attempts;
    this.source = init.source;
  }
}

export type Query = Record<string, string | number | boolean | readonly (string | number)[] | undefined | null>;

export type RequestOptions = {
  /** Appended to the URL; undefined and null values are left out, arrays repeat the parameter. */
  query?: Query;
  /** Per-call headers; they override the client's. */
  headers?: Record<string, string>;
};

export type HttpResponse<T> = {
  body: T;
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
};

export type RetryEvent = { url: string; attempt: number; reason: string; delayMs: number };

export type HttpClientOptions = {
  /** The registry's slug (`verra`, `gold-standard`); every error message starts with it. */
  source: string;
  /** Relative paths are joined to it. */
  baseUrl?: string;
  /** Sent with every request (lower-cased; per-call headers override them). */
  headers?: Record<string, string>;
  /** Send a current desktop Chrome User-Agent (Gold Standard's Cloudflare front needs one). */
  browserUserAgent?: boolean;
  /** Deadline for one attempt, from sending the request to the last byte of the body. */
  timeoutMs?: number;
  /** Attempts after the first one. */
  retries?: number;
  /** Backoff base: the n-th retry waits about baseDelayMs × 2^(n-1), with jitter. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** A Retry-After longer than this fails the request instead of sleeping (GreenTrace asks for an hour). */
  maxRetryAfterMs?: number;
  /** Minimum spacing between the starts of two requests of this client, retries included. */
  minIntervalMs?: number;
  /** Called before each retry's wait; for logs. */
  onRetry?: (event: RetryEvent) => void;
};

/** One attempt's failure, before we know whether it is the last. */
type Failure = {
  code: HttpErrorCode;
  retryable: boolean;
  /** What went wrong, phrased to follow "<METHOD> <url> ". */
  detail: string;
  status?: number;
  retryAfterMs?: number;
  retryAfterRaw?: string;
  /** The whole message after "<source>: ", when it does not follow the "<METHOD> <url> <detail>" pattern. */
  message?: string;
  cause?: unknown;
};

type Expect = 'json' | 'text' | 'bytes';

export class HttpClient {
  readonly source: string;
  /** Counters for logs and tests: requests sent (every attempt) and retries among them. */
  readonly stats = { requests: 0, retries: 0 };

  private readonly baseUrl: string | undefined;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly minIntervalMs: number;
  private readonly onRetry: ((event: RetryEvent) => void) | undefined;
  private readonly agent: Agent;
  private readonly dispatcher: Dispatcher;
  /** Earliest time (ms since epoch) the next request may start; reserved synchronously so concurrent calls queue. */
  private nextStartAt = 0;

  constructor(options: HttpClientOptions) {
    this.source = options.source;
    this.baseUrl = options.baseUrl;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.retries = options.retries ?? 5;
    this.baseDelayMs = options.baseDelayMs ?? 1_000;
    this.maxDelayMs = options.maxDelayMs ?? 60_000;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 120_000;
    this.minIntervalMs = options.minIntervalMs ?? 0;
    this.onRetry = options.onRetry;
    this.headers = {
      'user-agent': options.browserUserAgent ? CHROME_USER_AGENT : TALLY_USER_AGENT,
      ...(options.browserUserAgent ? { 'accept-language': 'en-US,en;q=0.9' } : {}),
      ...lowerCaseKeys(options.headers ?? {}),
    };
    this.agent = new Agent({ keepAliveTimeout: 4_000 });
    // Follow redirects (http→https, moved paths) like a browser would; a redirect to a login or
    // home page then ends as HTML and is reported as `not-json` with the page's title.
    this.dispatcher = this.agent.compose(interceptors.redirect({ maxRedirections: 5 }));
  }

  async getJson<T>(pathOrUrl: string, options: RequestOptions = {}): Promise<HttpResponse<T>> {
    return (await this.send('GET', pathOrUrl, options, undefined, 'json')) as HttpResponse<T>;
  }

  async postJson<T>(pathOrUrl: string, body: unknown, options: RequestOptions = {}): Promise<HttpResponse<T>> {
    const payload = { contentType: 'application/json', text: JSON.stringify(body) };
    return (await this.send('POST', pathOrUrl, options, payload, 'json')) as HttpResponse<T>;
  }

  /** Form-encoded POST that answers JSON: GreenTrace answers a JSON body or a query string with a generic 500. */
  async postForm<T>(pathOrUrl: string, fields: Record<string, string | number>, options: RequestOptions = {}): Promise<HttpResponse<T>> {
    const form = new URLSearchParams();
    for (const [name, value] of Object.entries(fields)) form.append(name, String(value));
    const payload = { contentType: 'application/x-www-form-urlencoded', text: form.toString() };
    return (await this.send('POST', pathOrUrl, options, payload, 'json')) as HttpResponse<T>;
  }

  /**
   * Form-encoded POST that answers a file, as the bytes received: APX's report export (CAR's
   * `rptdownload.asp`) sends its CSV in Windows-1252 with no charset, so the caller decodes it.
   * No check of what the bytes are (an HTML page at 200 included).
   */
  async postFormBytes(pathOrUrl: string, fields: Record<string, string | number>, options: RequestOptions = {}): Promise<HttpResponse<Buffer>> {
    const form = new URLSearchParams();
    for (const [name, value] of Object.entries(fields)) form.append(name, String(value));
    const payload = { contentType: 'application/x-www-form-urlencoded', text: form.toString() };
    return (await this.send('POST', pathOrUrl, options, payload, 'bytes')) as HttpResponse<Buffer>;
  }

  /** A file as the bytes received (a published workbook or CSV); no check of what the bytes are. */
  async getBytes(pathOrUrl: string, options: RequestOptions = {}): Promise<HttpResponse<Buffer>> {
    return (await this.send('GET', pathOrUrl, options, undefined, 'bytes')) as HttpResponse<Buffer>;
  }

  /** A page as text (HTML report pages, CSV downloads); no check of what kind of text it is. */
  async getText(pathOrUrl: string, options: RequestOptions = {}): Promise<HttpResponse<string>> {
    return (await this.send('GET', pathOrUrl, options, undefined, 'text')) as HttpResponse<string>;
  }

  /** Closes the client's pooled connections. */
  async close(): Promise<void> {
    await this.agent.close();
  }

  private async send(
    method: 'GET' | 'POST',
    pathOrUrl: string,
    options: RequestOptions,
    payload: { contentType: string; text: string } | undefined,
    expect: Expect,
  ): Promise<HttpResponse<unknown>> {
    const url = this.resolve(pathOrUrl, options.query);
    const shown = redactUrl(url);
    const headers: Record<string, string> = {
      accept: expect === 'json' ? 'application/json' : 'text/html,application/xhtml+xml,text/csv,*/*;q=0.8',
      ...this.headers,
      ...(payload ? { 'content-type': payload.contentType } : {}),
      ...lowerCaseKeys(options.headers ?? {}),
    };

    for (let attempt = 1; ; attempt++) {
      const outcome = await this.attempt(method, url, headers, payload?.text, expect, shown);
      if (!('failure' in outcome)) return outcome;
      const failure = outcome.failure;

      if (failure.retryAfterMs !== undefined && failure.retryAfterMs > this.maxRetryAfterMs) {
        throw new HttpError({
          code: 'retry-after-too-long',
          source: this.source,
          url: shown,
          attempts: attempt,
          status: failure.status,
          message:
            `${this.source}: ${method} ${shown} returned HTTP ${failure.status} with Retry-After: ${failure.retryAfterRaw}, ` +
            `a wait of ${formatDuration(failure.retryAfterMs)}, longer than the ${formatDuration(this.maxRetryAfterMs)} this client sleeps; ` +
            `the registry is throttling us: run the pull again after that time`,
        });
      }
      if (!failure.retryable || attempt > this.retries) throw this.toError(method, shown, failure, attempt);

      const delayMs = failure.retryAfterMs ?? this.backoff(attempt);
      this.onRetry?.({ url: shown, attempt, reason: failure.detail, delayMs });
      this.stats.retries++;
      await sleep(delayMs);
    }
  }

  private async attempt(
    method: 'GET' | 'POST',
    url: string,
    headers: Record<string, string>,
    body: string | undefined,
    expect: Expect,
    shown: string,
  ): Promise<HttpResponse<unknown> | { failure: Failure }> {
    await this.waitForSlot();
    this.stats.requests++;

    // One deadline for the whole exchange: undici's own headers/body timeouts restart on every
    // chunk, so a server trickling bytes would never trip them.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.timeoutMs);
    let status: number;
    let responseHeaders: Record<string, string>;
    let bytes: Buffer;
    try {
      const response = await request(url, { method, headers, body, signal: controller.signal, dispatcher: this.dispatcher });
      status = response.statusCode;
      responseHeaders = flattenHeaders(response.headers);
      bytes = Buffer.from(await response.body.arrayBuffer());
    } catch (error) {
      if (controller.signal.aborted) {
        return { failure: { code: 'timeout', retryable: true, detail: `got no complete answer within ${formatDuration(this.timeoutMs)}`, cause: error } };
      }
      return { failure: networkFailure(error) };
    } finally {
      clearTimeout(timer);
    }

    // undici checks Content-Length itself; this catches what slips through (a declared length
    // on a body that a proxy ended early without an error).
    const declared = responseHeaders['content-length'];
    if (declared !== undefined && !responseHeaders['content-encoding'] && Number(declared) !== bytes.length) {
      return { failure: { code: 'network', retryable: true, detail: `sent ${bytes.length} of the ${declared} bytes it announced (the body ended early)` } };
    }

    const text = new TextDecoder('utf-8').decode(bytes);
    if (status < 200 || status >= 300) return { failure: statusFailure(status, responseHeaders, text) };

    if (expect === 'text') return { body: text, status, headers: responseHeaders };
    if (expect === 'bytes') return { body: bytes, status, headers: responseHeaders };

    if (looksLikeHtml(responseHeaders['content-type'], text)) {
      const title = htmlTitle(text);
      return {
        failure: {
          code: 'not-json',
          retryable: false,
          status,
          detail: 'returned an HTML page',
          message: `expected JSON from ${shown} but got an HTML page (HTTP ${status}, ${title ? `title "${title}"` : 'no title'}); ` +
            'the endpoint has probably moved or wants a session or browser headers: open the URL in a browser to see',
        },
      };
    }
    if (status === 204 || text.trim() === '') {
      if (status === 204) return { body: null, status, headers: responseHeaders };
      return { failure: { code: 'malformed-json', retryable: true, status, detail: `returned HTTP ${status} with an empty body where JSON was expected` } };
    }
    try {
      return { body: JSON.parse(text) as unknown, status, headers: responseHeaders };
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return {
        failure: {
          code: 'malformed-json',
          retryable: true,
          status,
          detail: `returned JSON that does not parse (${bytes.length.toLocaleString('en-US')} bytes, ends ${JSON.stringify(text.slice(-40))}: ${reason}); the body was probably cut off`,
          cause: error,
        },
      };
    }
  }

  private toError(method: string, shown: string, failure: Failure, attempts: number): HttpError {
    const tries = attempts > 1 ? ` (${attempts} attempts)` : '';
    const message = failure.message
      ? `${this.source}: ${failure.message}`
      : `${this.source}: ${method} ${shown} ${failure.detail}${tries}${hintFor(failure)}`;
    return new HttpError({ code: failure.code, message, source: this.source, url: shown, attempts, status: failure.status, cause: failure.cause });
  }

  /** Exponential backoff with "equal jitter": half the step is fixed, half random, so parallel pulls spread out. */
  private backoff(attempt: number): number {
    const step = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(step / 2 + Math.random() * (step / 2));
  }

  private async waitForSlot(): Promise<void> {
    if (this.minIntervalMs <= 0) return;
    const now = Date.now();
    const start = Math.max(now, this.nextStartAt);
    this.nextStartAt = start + this.minIntervalMs;
    if (start > now) await sleep(start - now);
  }

  private resolve(pathOrUrl: string, query: Query | undefined): string {
    let url: URL;
    if (/^https?:\/\//i.test(pathOrUrl)) url = new URL(pathOrUrl);
    else if (this.baseUrl) url = new URL(`${this.baseUrl.replace(/\/+$/, '')}/${pathOrUrl.replace(/^\/+/, '')}`);
    else throw new Error(`${this.source}: "${pathOrUrl}" is not an absolute URL and the HTTP client has no baseUrl`);
    for (const [name, value] of Object.entries(query ?? {})) {
      if (value === undefined || value === null) continue;
      if (Array.isArray(value)) for (const item of value) url.searchParams.append(name, String(item));
      else url.searchParams.append(name, String(value));
    }
    return url.toString();
  }
}

function statusFailure(status: number, headers: Record<string, string>, text: string): Failure {
  const excerpt = bodyExcerpt(headers['content-type'], text);
  const detail = `returned HTTP ${status}${excerpt ? ` (${excerpt})` : ''}`;
  const retryable = status === 429 || status >= 500;
  if (!retryable) return { code: 'http-status', retryable, status, detail };
  const raw = headers['retry-after'];
  const retryAfterMs = raw === undefined ? undefined : parseRetryAfter(raw, Date.now());
  return { code: 'http-status', retryable, status, detail, retryAfterMs, retryAfterRaw: raw };
}

function networkFailure(error: unknown): Failure {
  const code = errorCode(error);
  const message = error instanceof Error ? error.message : String(error);
  // undici reports a redirect loop as an invalid argument; it is the registry's doing, not ours.
  if (/redirect loop/i.test(message)) return { code: 'network', retryable: false, detail: `was redirected in a loop (${message})`, cause: error };
  switch (code) {
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH':
      return { code: 'network', retryable: true, detail: 'failed: the body ended before its announced Content-Length', cause: error };
    case 'UND_ERR_SOCKET':
    case 'ECONNRESET':
    case 'EPIPE':
      return { code: 'network', retryable: true, detail: `failed: the connection was closed or reset mid-request (${code}: ${message})`, cause: error };
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'ETIMEDOUT':
      return { code: 'timeout', retryable: true, detail: `timed out (${code})`, cause: error };
    case 'ENOTFOUND':
      // A host that does not resolve will not resolve on the next attempt either.
      return { code: 'network', retryable: false, detail: `failed: the host name does not resolve (${code})`, cause: error };
    case 'ECONNREFUSED':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EAI_AGAIN':
    case 'UND_ERR_CLOSED':
      return { code: 'network', retryable: true, detail: `failed: could not connect (${code})`, cause: error };
    case 'UND_ERR_INVALID_ARG':
    case 'ERR_INVALID_URL':
    case 'ERR_INVALID_HTTP_TOKEN':
    case 'ERR_INVALID_CHAR':
      // An invalid header value or URL is our bug, not the network's: retrying would only repeat
      // it, so it is thrown as it is.
      throw error;
    default:
      // Malformed HTTP (HPE_*) and failures undici has no code for: retry, within the limit, and
      // name the error if they persist.
      return { code: 'network', retryable: true, detail: `failed: ${code ? `${code}: ` : ''}${message}`, cause: error };
  }
}

function hintFor(failure: Failure): string {
  if (failure.code === 'timeout') return '; the registry is slow or unreachable: try again later or raise timeoutMs';
  if (failure.code === 'network') return failure.retryable ? '; check that the registry is reachable from this machine, then pull again' : '; check the URL';
  if (failure.code === 'malformed-json') return '';
  switch (failure.status) {
    case 400:
      return '; not retried: the registry rejected the request, check the query or body (a page size above its limit, an unknown filter)';
    case 401:
      return '; not retried: the registry wants credentials (GreenTrace also answers "Invalid API Key" when it is throttling: wait before pulling again)';
    case 403:
      return '; not retried: access denied: behind Cloudflare set browserUserAgent: true, otherwise check the credentials and the page size';
    case 404:
      return '; not retried: check the path and the identifier in it';
    case 429:
      return '; the registry is rate-limiting this client: pull again later or raise minIntervalMs';
    default:
      if (failure.status !== undefined && failure.status >= 500) {
        return '; the registry kept failing: try again later, and if it fails every time check the headers and body (some registries answer a malformed request with a 500)';
      }
      return '; not retried';
  }
}

/**
 * Retry-After in milliseconds, from delay-seconds or an HTTP-date. Zero, negative or unreadable
 * values give undefined, meaning "use the backoff" (Gold Standard sends `Retry-After: 0` on 429s
 * that do need a pause).
 */
export function parseRetryAfter(value: string, nowMs: number): number | undefined {
  const trimmed = value.trim();
  let ms: number;
  if (/^[+-]?\d+(\.\d+)?$/.test(trimmed)) ms = Number(trimmed) * 1000;
  else {
    const at = Date.parse(trimmed);
    if (Number.isNaN(at)) return undefined;
    ms = at - nowMs;
  }
  return ms > 0 ? Math.ceil(ms) : undefined;
}

/** Masks credentials in a URL (user:password, and query parameters named like keys or tokens) so it can go into messages and logs. */
export function redactUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.username || parsed.password) {
    parsed.username = '***';
    parsed.password = '';
  }
  for (const name of [...new Set(parsed.searchParams.keys())]) {
    if (/key|token|secret|passw|signature|^sig$|auth|session|xsrf|csrf/i.test(name)) parsed.searchParams.set(name, '***');
  }
  return parsed.toString();
}

function looksLikeHtml(contentType: string | undefined, text: string): boolean {
  if (contentType && /text\/html|application\/xhtml/i.test(contentType)) return true;
  return text.replace(/^\uFEFF/, '').trimStart().startsWith('<');
}

function htmlTitle(html: string): string | undefined {
  const match = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(html);
  const title = match?.[1]?.replace(/\s+/g, ' ').trim();
  return title ? truncate(title, 100) : undefined;
}

/** A short, single-line view of an error body: an HTML page's title, or the start of the text. */
function bodyExcerpt(contentType: string | undefined, text: string): string {
  if (!text.trim()) return '';
  if (looksLikeHtml(contentType, text)) {
    const title = htmlTitle(text);
    return title ? `an HTML page titled "${title}"` : 'an HTML page';
  }
  return JSON.stringify(truncate(text.replace(/\s+/g, ' ').trim(), 200));
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function errorCode(error: unknown): string | undefined {
  let current: unknown = error;
  // undici sometimes wraps the socket error; the first code on the cause chain is the telling one.
  for (let depth = 0; current && typeof current === 'object' && depth < 5; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

function lowerCaseKeys(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));
}

function formatDuration(ms: number): string {
  if (ms < 1_000) return `${ms} ms`;
  if (ms < 120_000) return `${Math.round(ms / 100) / 10} s`;
  return `${Math.round(ms / 60_000)} min`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
