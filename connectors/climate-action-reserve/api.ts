import { z } from 'zod';
import { matchColumns, renamed, type ColumnMatch } from '../runtime/columns.ts';
import { decodeCsvBytes, normalizeHeader, readCsvText } from '../runtime/csv.ts';
import type { HttpClient } from '../runtime/http.ts';
import type { PagedStream } from '../runtime/paging.ts';
import type { ApiMode, ApiStream, FileFormat, Mapped, RawRecord } from '../types.ts';
import { cancellations } from './map-cancellations.ts';
import { issuances } from './map-issuances.ts';
import { CAR, projects } from './map-projects.ts';
import { retirements } from './map-retirements.ts';
import { httpConfig, httpOptions } from '../runtime/http-config.ts';

// CAR's API mode: the APX classic-ASP report module on thereserve2.apx.com (reference/registries.md
// §3.2; measured by rb-carbon-scraper's docs/api-contract-car.md, 2026-08-05). There is no JSON API;
// each public report downloads whole as CSV in two requests, the same CSV a person gets from the
// report's download button, so its rows go through the file-mode mappers unchanged. What it takes:
// - GET `myrpt.asp?r=<id>` mints an ASP session cookie and prints the report's total as
//   `1 - 50 : 1277`, the only total there is (none in the CSV or its headers);
// - POST the page's `frmDownload` form back, every hidden field as the page wrote it (15 on CAR, one
//   spelled `SortORder`), with that session's cookie: `Data=Stamp_0` names a recordset the server
//   stored in the session, and `c16e` is the session's CSRF token. A missing or stale cookie or
//   token answers HTTP 200 with the site's home page, which is refused here, loudly;
// - the CSV comes in Windows-1252 without a charset, so it is decoded from its bytes (UTF-8, else
//   Windows-1252, as files are);
// - every cell is written in quotes and an embedded quote is NOT doubled (`""Retirement of …, from
//   …""`, 13 of 11,044 live retirements), which a standard CSV reader refuses or mis-columns:
//   `requoteApxCsv` reads the export by its writer's rule and writes it back as RFC 4180 for the one
//   CSV reader, whose rows then go to the file-mode mappers;
// - every record ends with `",` and a line end (a trailing empty column), which is also how a body cut
//   off in transit is recognised.

/**
 * The public reports read, in dependency order, with the file format whose mapper reads their rows
 * (under the format's column names: the download's header is matched to the format as a file's is).
 */
const REPORTS: readonly { id: number; format: FileFormat; keyColumn?: string }[] = [
  { id: 111, format: projects, keyColumn: 'Project ID' },
  { id: 112, format: issuances },
  { id: 206, format: retirements, keyColumn: 'Offset Credit Serial Numbers' },
  { id: 308, format: cancellations, keyColumn: 'Offset Credit Serial Numbers' },
];

const REPORT_PAGE = 'myModule/rpt/myrpt.asp';
const DOWNLOAD_FORM = 'frmDownload';
/** The form's own action; used only if the page's form has none. */
const DOWNLOAD_PATH = '/myModule/include/rptdownload.asp';
const TOTAL_FIELD = '"1 - 50 : N" total line';

export const carApiConfig = httpConfig({
  baseUrl: 'https://thereserve2.apx.com',
  /** No limit was observed in 28 requests at ~1 every 1.5 s; a sync is 8 requests. */
  minIntervalMs: 1_500,
  /** A whole report in one response: the retirement export is several MB from a slow ASP server. */
  timeoutMs: 300_000,
  retries: 3,
  baseDelayMs: 2_000,
});
export type CarApiConfig = z.infer<typeof carApiConfig>;

// ---- the report page: form, total, session --------------------------------------------------------

/** A form of an HTML page: its action and the fields a browser would submit, in page order. */
export type HtmlForm = { action: string | undefined; fields: [name: string, value: string][] };

const NAMED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

/** `Stamp&#95;0` → `Stamp_0`: APX writes every form value with numeric entities. */
export function decodeEntities(text: string): string {
  return text.replace(/&(#[xX][0-9a-fA-F]+|#\d+|[a-zA-Z]+);/g, (whole, entity: string) => {
    if (entity.startsWith('#')) {
      const code = /^#x/i.test(entity) ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[entity.toLowerCase()] ?? whole;
  });
}

// A start tag, with quoted attribute values that may hold `>`.
const tagPattern = (name: string) => new RegExp(`<${name}\\b(?:[^>"']|"[^"]*"|'[^']*')*>`, 'gi');
const ATTRIBUTE = /([^\s"'=<>/]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+)))?/g;

/** A start tag's attributes, names lower-cased, values decoded; the first of a repeated name wins (as in browsers). */
function attributesOf(tag: string): Record<string, string> {
  const inner = tag.replace(/^<[a-zA-Z]+/, '').replace(/\/?>$/, '');
  const attributes: Record<string, string> = {};
  for (const m of inner.matchAll(ATTRIBUTE)) {
    const name = m[1]!.toLowerCase();
    if (!(name in attributes)) attributes[name] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return attributes;
}

/**
 * The form named (or with the id) `name`, and the fields it would submit: its `<input>`s with a `name`
 * attribute, keyed by that name, never the id (CAR's `id="SortOrder" name="SortORder"`), buttons left
 * out. A regular-expression reader is enough for APX's flat, machine-written forms (no nesting, every
 * value entity-encoded) and keeps the connector free of an HTML parser.
 */
export function findForm(html: string, name: string): HtmlForm | undefined {
  for (const open of html.matchAll(tagPattern('form'))) {
    const form = attributesOf(open[0]);
    if (form.name?.toLowerCase() !== name.toLowerCase() && form.id?.toLowerCase() !== name.toLowerCase()) continue;
    const start = open.index + open[0].length;
    const end = html.slice(start).search(/<\/form\s*>/i);
    const body = end < 0 ? html.slice(start) : html.slice(start, start + end);
    const fields: [string, string][] = [];
    for (const input of body.matchAll(tagPattern('input'))) {
      const a = attributesOf(input[0]);
      const type = (a.type ?? 'text').toLowerCase();
      if (!a.name || ['submit', 'button', 'image', 'reset', 'file'].includes(type)) continue;
      if ((type === 'checkbox' || type === 'radio') && !('checked' in a)) continue;
      fields.push([a.name, a.value ?? '']);
    }
    return { action: form.action, fields };
  }
  return undefined;
}

/** The report's total from the line above its pager, `1 - 50 : 1277` (`51 - 100 : 1277` on page 2). */
export function reportTotal(html: string): number | undefined {
  const m = html.match(/<td\b[^>]*>\s*([\d,]+)\s*-\s*([\d,]+)\s*:\s*([\d,]+)\s*<\/td>/i);
  return m ? Number(m[3]!.replace(/,/g, '')) : undefined;
}

/**
 * A `Cookie` header from the `Set-Cookie` headers of a response (joined with ", " by the HTTP client;
 * a comma inside an `expires` date is not followed by `name=`). The ASP session cookie's name differs
 * per tenant (`ASPSESSIONIDCQSDTQQD`), so every cookie set is sent back.
 */
export function cookieHeader(setCookie: string | undefined): string | undefined {
  if (!setCookie) return undefined;
  const cookies = new Map<string, string>();
  for (const part of setCookie.split(/,\s*(?=[^;,=\s]+=)/)) {
    const pair = part.split(';')[0]!.trim();
    const eq = pair.indexOf('=');
    if (eq > 0) cookies.set(pair.slice(0, eq), pair);
  }
  return cookies.size > 0 ? [...cookies.values()].join('; ') : undefined;
}

function looksLikeHtml(contentType: string | undefined, text: string): boolean {
  return /text\/html|application\/xhtml/i.test(contentType ?? '') || text.replace(/^\uFEFF/, '').trimStart().startsWith('<');
}

function describePage(html: string): string {
  const title = html.match(/<title[^>]*>([\s\S]*?)<\/title>/i)?.[1]?.replace(/\s+/g, ' ').trim();
  return title ? `a page titled "${title}"` : `an HTML page of ${html.length.toLocaleString('en-US')} characters`;
}

type ReportPage = { total: number; cookie: string | undefined; form: HtmlForm };

/** GET the report page: the session it opens, its download form and its printed total. */
async function openReport(http: HttpClient, report: (typeof REPORTS)[number]): Promise<ReportPage> {
  const where = `${CAR} report r=${report.id} (${report.format.stream})`;
  const { body, headers } = await http.getText(REPORT_PAGE, { query: { r: report.id } });
  const form = findForm(body, DOWNLOAD_FORM);
  if (!form) {
    throw new Error(`${where}: ${REPORT_PAGE}?r=${report.id} answered ${describePage(body)} without the ${DOWNLOAD_FORM} form; ` +
      'it is not the report page (APX answers a wrong report id or a lost session with its home page at HTTP 200): open the URL in a browser to see');
  }
  const total = reportTotal(body);
  if (total === undefined) {
    throw new Error(`${where}: the report page prints no "1 - 50 : N" total line, so the download could not be reconciled; the page layout has changed`);
  }
  return { total, cookie: cookieHeader(headers['set-cookie']), form };
}

// ---- the CSV export ---------------------------------------------------------------------------------

export type ApxCsv = {
  /** The export written back as RFC 4180 (inner quotes doubled), same lines, same trailing empty column. */
  csv: string;
  header: string[];
  /**
   * Records with more cells than the header (their cells cannot be placed): cell count by the record's
   * ordinal, 1 for the first after the header (lines are not used: the reader counts a CRLF inside a
   * value as two).
   */
  misaligned: Map<number, number>;
};

/**
 * Reads APX's CSV export by the rule its writer follows: every cell is `"` + value + `"` with inner
 * quotes left as they are, each followed by `,`, and each record ends with a line end after that
 * comma. So cells are separated by `","` and a record ends at `",` + line end, once it has as many
 * cells as the header (an earlier `",` + line end is inside a multi-line value). A record with more
 * cells than the header has a value holding `","`: its cells cannot be placed, and it is reported in
 * `misaligned` instead of being guessed. A quote doubled by a writer that escapes properly would be
 * read as two quotes: this one does not (the registry's own quoted texts come out as `""…""`).
 * Throws when the text is not such an export, or is cut off.
 */
export function requoteApxCsv(text: string): ApxCsv {
  const bom = text.startsWith('\uFEFF') ? '\uFEFF' : '';
  const body = text.slice(bom.length);
  if (body.trim() === '') throw new ApxCsvError('empty', 'the CSV download is empty');
  if (!/",\r?\n\s*$/.test(body)) {
    throw new ApxCsvError('cut-off', `the CSV download ends mid-record (${text.length.toLocaleString('en-US')} characters, ends ${JSON.stringify(text.slice(-40))}); APX ends every record with '",' and a line end, so the body was cut off`);
  }
  const out: string[] = [bom];
  const misaligned = new Map<number, number>();
  let header: string[] | undefined;
  let records = 0;
  let line = 1;
  let i = 0;
  const isLineEnd = (at: number) => at >= body.length || body[at] === '\n' || body[at] === '\r';
  while (i < body.length) {
    if (body[i] === '\r' || body[i] === '\n') {
      if (body[i] === '\n') line++;
      out.push(body[i]!);
      i++;
      continue;
    }
    if (body[i] !== '"') {
      throw new ApxCsvError('not-apx', `line ${line}: expected a quoted cell, found ${JSON.stringify(body.slice(i, i + 30))}; the download is not APX's CSV export`);
    }
    // Positions of the quote closing each cell but the last, then of the record's closing quote.
    const separators: number[] = [];
    let end = -1;
    for (let at = body.indexOf('",', i + 1); at >= 0; at = body.indexOf('",', at + 1)) {
      if (body[at + 2] === '"') {
        separators.push(at);
        at += 2; // the next search starts after the next cell's opening quote
      } else if (isLineEnd(at + 2) && (!header || separators.length >= header.length - 1)) {
        end = at;
        break;
      }
    }
    if (end < 0) throw new ApxCsvError('cut-off', `line ${line}: a record is never closed; the body was cut off`);
    const cells: string[] = [];
    let from = i + 1;
    for (const at of separators) {
      cells.push(body.slice(from, at));
      from = at + 3;
    }
    cells.push(body.slice(from, end));
    if (!header) {
      header = cells;
    } else {
      records++;
      if (cells.length !== header.length) misaligned.set(records, cells.length);
    }
    for (let k = i; k < end; k++) if (body[k] === '\n') line++;
    out.push(cells.map((c) => `"${c.replace(/"/g, '""')}"`).join(','), ',');
    i = end + 2;
  }
  return { csv: out.join(''), header: (header ?? []).map(normalizeHeader), misaligned };
}

export class ApxCsvError extends Error {
  override readonly name = 'ApxCsvError';
  constructor(readonly code: 'empty' | 'cut-off' | 'not-apx', message: string) {
    super(message);
  }
}

/** POST the page's download form with its session; the CSV, read and requoted. A body cut off in transit is fetched again. */
async function download(http: HttpClient, config: CarApiConfig, report: (typeof REPORTS)[number], page: ReportPage): Promise<ApxCsv> {
  const where = `${CAR} report r=${report.id} (${report.format.stream})`;
  // What the page's downloadnow(1) does: FormatType = csv, then submit the form as it stands.
  const fields: Record<string, string> = { ...Object.fromEntries(page.form.fields), FormatType: 'csv' };
  // Resolved as a browser would against the report page, then sent to the configured host.
  const action = new URL(page.form.action || DOWNLOAD_PATH, `http://apx.invalid/${REPORT_PAGE}`);
  for (let attempt = 1; ; attempt++) {
    const response = await http.postFormBytes(action.pathname + action.search, fields, { headers: page.cookie ? { cookie: page.cookie } : {} });
    const text = decodeCsvBytes(response.body);
    if (looksLikeHtml(response.headers['content-type'], text)) {
      throw new Error(`${where}: the CSV download answered HTTP ${response.status} with ${describePage(text)} instead of the CSV: ` +
        `APX sends its home page when the session cookie or the c16e token is missing or stale${page.cookie ? '' : ' (the report page set no session cookie)'}` +
        `${fields.c16e ? '' : ' (the page\'s form had no c16e token)'}; nothing was stored: sync again, and if it persists the form or the session handling has changed`);
    }
    try {
      return requoteApxCsv(text);
    } catch (error) {
      if (!(error instanceof ApxCsvError) || error.code === 'not-apx' || attempt > config.retries) {
        throw new Error(`${where}: ${(error as Error).message}${attempt > 1 ? ` (${attempt} attempts)` : ''}; nothing was stored`, { cause: error });
      }
    }
  }
}

// ---- streams ----------------------------------------------------------------------------------------

function reportStream(config: CarApiConfig, report: (typeof REPORTS)[number]): ApiStream {
  const where = `${CAR} report r=${report.id} (${report.format.stream})`;
  const misalignedLocators = new Map<string, number>();
  let headerCount = 0;
  let columns: ColumnMatch | undefined;

  function pull(http: HttpClient): PagedStream<RawRecord> {
    let reported: number | undefined;
    let received = 0;
    async function* rows(): AsyncGenerator<RawRecord> {
      const page = await openReport(http, report);
      reported = page.total;
      const exported = await download(http, config, report, page);
      const match = matchColumns(report.format, exported.header);
      if (match.missing.length > 0) {
        throw new Error(`${where}: the download lacks the ${report.format.stream} report's columns ${match.missing.map((h) => `"${h}"`).join(', ')} ` +
          `(it has ${exported.header.filter(Boolean).slice(0, 8).map((h) => `"${h}"`).join(', ')}…); the export has changed`);
      }
      columns = match;
      headerCount = exported.header.length;
      // The key column as this download names it.
      const keyHeader = report.keyColumn ? [...match.rename].find(([, name]) => name === report.keyColumn)?.[0] ?? report.keyColumn : undefined;
      for await (const row of readCsvText(exported.csv)) {
        const locator = `report ${report.id} line ${row.line}`;
        received++;
        const cells = exported.misaligned.get(received);
        if (cells !== undefined) misalignedLocators.set(locator, cells);
        const key = keyHeader ? row.values[keyHeader]?.trim() : undefined;
        yield { stream: report.format.stream, locator, ...(key ? { recordKey: key } : {}), payload: row.values };
      }
    }
    return { [Symbol.asyncIterator]: rows, reported: () => reported, received: () => received };
  }

  return {
    name: report.format.stream,
    totalField: TOTAL_FIELD,
    pull,
    map(raw): Mapped {
      const cells = misalignedLocators.get(raw.locator);
      if (cells !== undefined) {
        // Counted (it is one of the report's records) but not read: which value holds the stray cells is unknowable.
        return { records: [], errors: [{ locator: raw.locator, code: 'misaligned-row', message: `${raw.locator}: ${cells} cells where the header has ${headerCount}: a value holds '","', so its cells cannot be placed; the row is not read` }] };
      }
      const payload = raw.payload as Record<string, string>;
      return report.format.map(columns ? renamed(payload, columns) : payload, raw.locator);
    },
  };
}

export const carApi: ApiMode<CarApiConfig> = {
  config: carApiConfig,
  http: (config) => httpOptions(CAR, config),
  async check(http, config) {
    const report = REPORTS[0]!;
    const page = await openReport(http, report);
    return `${CAR}: ${page.total.toLocaleString('en-US')} projects in APX report r=${report.id} at ${config.baseUrl}, CSV export form present`;
  },
  streams: (config) => REPORTS.map((report) => reportStream(config, report)),
};
