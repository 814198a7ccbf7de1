import { catalogues, isMessageKey, msg, parameterNames, render, type Locale, type MessageKey } from './index.ts';

// Row errors (an upload's or a pull's rejected rows) in the reader's language. A row error keeps its
// code and, where the catalogues word the code, the parameters of that message (`params`); one without
// them, or of a code the catalogues do not word, is shown as it was stored (English).

export type StoredRowError = { locator?: string; line?: number; field?: string | null; code?: string; message?: string; params?: Record<string, string | number> };

/** Where a row was read, in a locale: `line 12`, `lines 3–5`, `sheet "Projects" row 8`, `item 4` (file names and sheet names as written). */
export function localizeLocator(locale: Locale, locator: string): string {
  if (locale === 'en') return locator;
  return locator
    .replace(/\bsheet "([^"]*)" rows? (\d+)(?:–(\d+))?/g, (_, sheet: string, row: string, last?: string) =>
      render(locale, msg('locator.sheetRow', { sheet, row: last ? `${row}–${last}` : row })))
    .replace(/\b(?:lines|rows) (\d+)–(\d+)/g, (_, first: string, last: string) => render(locale, msg('locator.lines', { first, last })))
    .replace(/\bline (\d+)\b/g, (_, line: string) => render(locale, msg('locator.line', { line })))
    .replace(/\brow (\d+)\b/g, (_, row: string) => render(locale, msg('locator.row', { row })))
    .replace(/\bitem (\d+)\b/g, (_, item: string) => render(locale, msg('locator.item', { item })));
}

/** The catalogue key of a row error, when its stored parameters are all its message needs. */
function keyOf(error: StoredRowError): MessageKey | undefined {
  if (!error.code || !error.params) return undefined;
  const variant = typeof error.params.variant === 'string' ? `.${error.params.variant}` : '';
  const key = `rowError.${error.code}${variant}`;
  if (!isMessageKey(key)) return undefined;
  const given = new Set(['locator', 'field', ...Object.keys(error.params)]);
  return parameterNames(catalogues.en[key]).every((p) => given.has(p)) ? key : undefined;
}

/** A row error's locator and message in a locale. */
export function renderRowError(locale: Locale, error: StoredRowError): { locator: string; message: string } {
  const locator = error.locator ?? (error.line !== undefined ? `line ${error.line}` : '');
  const key = keyOf(error);
  const message = key
    ? render(locale, msg(key, { ...error.params, locator: localizeLocator(locale, locator), field: error.field ?? '' }))
    : error.message ?? '';
  return { locator: localizeLocator(locale, locator), message };
}
