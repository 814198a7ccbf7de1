// Reading the data a Next.js App Router page ships inside its HTML (rb-carbon-scraper
// `docs/api-contract-puro.md`, measured 2026-08-05). registry.puro.earth has no JSON route: the server
// renders each page and streams its React Server Components payload in `<script>` tags,
// `self.__next_f.push([1,"…"])`, each holding a JSON string literal. The pushes split the stream
// anywhere, mid-object included, so they are joined before anything is decoded; the list a page hands
// its table is then the first `{"data":[…]}` object of the joined text.

/** A page that is not what a registry page should be: an error page, a redesign. Not retried. */
export class PageError extends Error {
  override readonly name = 'PageError';
  constructor(readonly code: 'no-flight-data' | 'no-data-payload' | 'malformed-payload', message: string) {
    super(message);
  }
}

const PUSH = /self\.__next_f\.push\(\[1,("(?:[^"\\]|\\.)*")\]\)/g;

/** The page's title, for messages about a page that is not the one expected. */
export function pageTitle(html: string): string | undefined {
  return /<title[^>]*>([\s\S]*?)<\/title>/i.exec(html)?.[1]?.replace(/\s+/g, ' ').trim() || undefined;
}

function describe(html: string): string {
  const title = pageTitle(html);
  return `${title ? `a page titled "${title}"` : 'a page with no title'} (${html.length.toLocaleString('en-US')} characters)`;
}

/** The RSC text stream of a page: every `self.__next_f.push([1, "…"])` string, decoded and joined in page order. */
export function flightText(html: string): string {
  const parts: string[] = [];
  for (const m of html.matchAll(PUSH)) {
    try {
      parts.push(JSON.parse(m[1]!) as string);
    } catch (error) {
      throw new PageError('malformed-payload', `a self.__next_f.push string does not decode (${(error as Error).message}); the page was cut off or its format has changed`);
    }
  }
  if (parts.length === 0) {
    throw new PageError('no-flight-data', `the answer is ${describe(html)} with no self.__next_f.push data: not a registry page (an error or maintenance page, or the site has changed)`);
  }
  return parts.join('');
}

/** Where the JSON value that opens at `start` ends (one past its last character), by brackets outside strings. */
function endOfValue(text: string, start: number): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return undefined;
}

/** The records of the first `{"data":[…]}` object of a page. Throws a PageError when the page has none. */
export function pageData(html: string): Record<string, unknown>[] {
  const text = flightText(html);
  const start = text.indexOf('{"data":[');
  if (start < 0) {
    throw new PageError('no-data-payload', `the answer is ${describe(html)} whose data holds no {"data":[…]} list: not the registry's table (an error page, or the site has changed)`);
  }
  const end = endOfValue(text, start);
  if (end === undefined) throw new PageError('malformed-payload', 'the {"data":[…]} list never closes: the page was cut off');
  let parsed: { data?: unknown };
  try {
    parsed = JSON.parse(text.slice(start, end)) as { data?: unknown };
  } catch (error) {
    throw new PageError('malformed-payload', `the {"data":[…]} list does not parse (${(error as Error).message})`);
  }
  const data = parsed.data;
  if (!Array.isArray(data) || data.some((d) => typeof d !== 'object' || d === null || Array.isArray(d))) {
    throw new PageError('malformed-payload', 'the {"data":[…]} list holds something other than records');
  }
  return data as Record<string, unknown>[];
}

/**
 * A text value as the page means it. RSC writes a string that starts with `$` as `$$…` and uses `$…`
 * for its own references (`$D<date>` a date, `$undefined`, `$L1f` a component): the dollar is
 * unescaped, a date is given as its text, and other references, which no record field was seen to
 * hold, read as absent.
 */
export function rscText(value: unknown): string | undefined {
  if (typeof value === 'number') return String(value);
  if (typeof value !== 'string') return undefined;
  if (value.startsWith('$$')) return value.slice(1).trim() || undefined;
  if (value.startsWith('$D')) return value.slice(2);
  if (value.startsWith('$')) return undefined;
  return value.trim() || undefined;
}

/** What a project's own page states: its issued and retired totals, and its country as a flag and a name. */
export type ProjectPage = { issued: number; retired: number; countryName?: string; countryFlag?: string };

/** The figures of a project page (`{"label":"Issued credits","value":4261}`), or a PageError when they are missing. */
export function projectPage(html: string): ProjectPage {
  const text = flightText(html);
  const figure = (label: string): number => {
    const m = new RegExp(`"label":"${label}","value":(\\d+)`).exec(text);
    if (!m) throw new PageError('no-data-payload', `the answer is ${describe(html)} without the "${label}" figure: not a project page, or the page has changed`);
    return Number(m[1]);
  };
  // `[<flag>, " ", <name>]`, in the header and under "Location".
  const country = /\{"children":\["([^"]+)"," ","([^"]+)"\]\}/.exec(text);
  return {
    issued: figure('Issued credits'),
    retired: figure('Retired credits'),
    ...(country ? { countryFlag: country[1]!, countryName: country[2]! } : {}),
  };
}

/** The ISO 3166-1 alpha-2 code a flag emoji spells (two regional indicator letters), or undefined. */
export function flagCode(flag: string): string | undefined {
  const letters = [...flag].map((c) => c.codePointAt(0)! - 0x1f1e6);
  if (letters.length !== 2 || letters.some((n) => n < 0 || n > 25)) return undefined;
  return String.fromCharCode(...letters.map((n) => 65 + n));
}
