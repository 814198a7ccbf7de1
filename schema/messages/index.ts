import { labelOf, type Locale, type VocabularyName } from '../taxonomy/vocabularies.ts';
import { en, type MessageKey } from './en.ts';
import { ja } from './ja.ts';

// Tally's own words in every language it speaks: one catalogue per language (en.ts, ja.ts), keyed by
// the kind of message, with named `{parameters}`. What Tally stores is the key and its parameters
// (a finding's title, a row error, a piece of evidence); the words are chosen when someone reads it,
// in the reader's language. Numbers are grouped per locale, dates stay ISO, codes of the common
// taxonomy are shown by their label, and words from registries (names, beneficiaries, serials) are
// passed as text and shown as the registry wrote them.

export type { MessageKey } from './en.ts';
export type { Locale } from '../taxonomy/vocabularies.ts';

/** A message: a key of the catalogues and the values of its parameters. */
export type Message = { key: MessageKey; params?: Params };
export type Params = Record<string, Param>;
/**
 * A parameter: text (shown as it is), a number (grouped per locale), a nested message, a code of a
 * taxonomy vocabulary (its label; `inSentence` lower-cases the English label), or a list of any of
 * them joined per locale.
 */
export type Param =
  | string | number | boolean | null | undefined
  | Message
  | { term: VocabularyName; code: string; inSentence?: boolean }
  | { list: Param[]; join?: Join };

type Join = 'comma' | 'and' | 'or' | 'semicolon' | 'slash';

export const catalogues: Record<Locale, Record<MessageKey, string>> = { en, ja };

/** A message whose parameters are checked against the English template's names. */
export function msg(key: MessageKey, params?: Params): Message {
  return params === undefined ? { key } : { key, params };
}

export function isMessageKey(key: unknown): key is MessageKey {
  return typeof key === 'string' && Object.hasOwn(en, key);
}

/** Whether a stored value is a message (`{ key, params }` with a key of the catalogues). */
export function isMessage(value: unknown): value is Message {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && isMessageKey((value as { key?: unknown }).key)
    && Object.keys(value).every((k) => k === 'key' || k === 'params');
}

/** The `{names}` a template uses, in order of first use. */
export function parameterNames(template: string): string[] {
  return [...new Set([...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!))];
}

const numberFormats: Record<Locale, Intl.NumberFormat> = {
  en: new Intl.NumberFormat('en-US', { maximumFractionDigits: 3 }),
  ja: new Intl.NumberFormat('ja-JP', { maximumFractionDigits: 3 }),
};

const JOINS: Record<Locale, Record<Join, string>> = {
  en: { comma: ', ', and: ' and ', or: ' or ', semicolon: '; ', slash: '/' },
  ja: { comma: '、', and: '、', or: '、または ', semicolon: '；', slash: '／' },
};

/** A number as the locale groups it (1,234,567 in both; decimals up to three places). */
export const formatNumber = (locale: Locale, n: number) => numberFormats[locale].format(n);

function renderParam(locale: Locale, value: Param): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return formatNumber(locale, value);
  if (typeof value === 'boolean') return render(locale, msg(value ? 'value.yes' : 'value.no'));
  if (typeof value === 'string') return value;
  if ('list' in value) return value.list.map((v) => renderParam(locale, v)).join(JOINS[locale][value.join ?? 'comma']);
  if ('term' in value) {
    const label = labelOf(value.term, value.code, locale);
    return value.inSentence && locale === 'en' && label !== value.code ? label.charAt(0).toLowerCase() + label.slice(1) : label;
  }
  return render(locale, value);
}

/** A message in a locale. A parameter the message does not give is left empty. */
export function render(locale: Locale, message: Message): string {
  const template = catalogues[locale][message.key] ?? catalogues.en[message.key] ?? message.key;
  const params = message.params ?? {};
  return template.replace(/\{(\w+)\}/g, (_, name: string) => renderParam(locale, params[name]));
}

/** A stored message (jsonb) in a locale, or `fallback` (the text stored before messages were) when there is none. */
export function renderStored(locale: Locale, stored: unknown, fallback: string): string {
  return isMessage(stored) ? render(locale, stored) : fallback;
}

/** Any stored JSON with the messages inside it rendered in a locale (evidence that says something in Tally's words). */
export function renderDeep(locale: Locale, value: unknown): unknown {
  if (isMessage(value)) return render(locale, value);
  if (Array.isArray(value)) return value.map((v) => renderDeep(locale, v));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderDeep(locale, v)]));
  return value;
}
