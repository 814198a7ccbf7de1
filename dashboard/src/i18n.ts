import { useEffect, useState } from 'preact/hooks';
import { en, type Messages } from './messages/en.ts';
import { ja } from './messages/ja.ts';

// English and Japanese: the words of the interface from messages/, numbers and dates from the
// browser's Intl in the chosen locale (3,500,000 / 350万 t is the reader's choice, not ours: Intl's
// grouping). The choice persists in this browser; labels of data come from the API in the same locale.

export type Locale = 'en' | 'ja';
const STORAGE = 'tally.locale';
const catalogs: Record<Locale, Messages> = { en, ja };

let current: Locale = (localStorage.getItem(STORAGE) as Locale | null) ?? (navigator.language.startsWith('ja') ? 'ja' : 'en');
const listeners = new Set<() => void>();

export function getLocale(): Locale {
  return current;
}

export function setLocale(locale: Locale): void {
  current = locale;
  localStorage.setItem(STORAGE, locale);
  document.documentElement.lang = locale;
  listeners.forEach((listener) => listener());
}

/** Re-renders the component when the language changes, and gives its words and formatters. */
export function useI18n() {
  const [, setTick] = useState(0);
  useEffect(() => {
    const listener = () => setTick((n) => n + 1);
    listeners.add(listener);
    return () => void listeners.delete(listener);
  }, []);
  return i18n(current);
}

export type Key = keyof Messages;

export function i18n(locale: Locale) {
  const messages = catalogs[locale];
  const numbers = new Intl.NumberFormat(locale === 'ja' ? 'ja-JP' : 'en-US', { maximumFractionDigits: 0 });
  const compact = new Intl.NumberFormat(locale === 'ja' ? 'ja-JP' : 'en-US', { notation: 'compact', maximumFractionDigits: 1 });
  const dates = new Intl.DateTimeFormat(locale === 'ja' ? 'ja-JP' : 'en-GB', { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' });
  return {
    locale,
    /** A message, with `{name}` placeholders filled. */
    t(key: Key, values: Record<string, string | number> = {}): string {
      return messages[key].replace(/\{(\w+)\}/g, (_, name: string) => String(values[name] ?? ''));
    },
    // Tonnes of CO2e: `t` in English, `t-CO2e` in Japanese (the government's own notation).
    tonnes: (n: number | null | undefined) => (n == null ? '–' : `${numbers.format(n)} ${locale === 'ja' ? 't-CO2e' : 't'}`),
    number: (n: number | null | undefined) => (n == null ? '–' : numbers.format(n)),
    compact: (n: number) => compact.format(n),
    date: (iso: string | null | undefined) => (iso ? dates.format(new Date(iso.length === 10 ? `${iso}T00:00:00Z` : iso)) : '–'),
  };
}

export type I18n = ReturnType<typeof i18n>;
