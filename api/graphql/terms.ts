import { countryByCode, labelOf, projectType, type Locale, type VocabularyName } from '../../schema/taxonomy/index.ts';
import type { Context } from './context.ts';

// Codes become terms (code + label in the caller's locale) at the edge: the ledger stores codes only.

export type Term = { code: string; label: string };

export function term(context: Context, vocabulary: VocabularyName, code: string): Term;
export function term(context: Context, vocabulary: VocabularyName, code: string | null | undefined): Term | null;
export function term(context: Context, vocabulary: VocabularyName, code: string | null | undefined): Term | null {
  return code == null ? null : { code, label: labelOf(vocabulary, code, context.locale) };
}

export const terms = (context: Context, vocabulary: VocabularyName, codes: readonly string[]) => codes.map((c) => term(context, vocabulary, c));

export function projectTypeTerm(locale: Locale, key: string | null): Term | null {
  if (key == null) return null;
  const entry = projectType(key);
  return { code: key, label: entry?.[locale] ?? key };
}

export function countryOf(locale: Locale, code: string | null): { code: string; name: string } | null {
  if (code == null) return null;
  const country = countryByCode(code);
  return { code, name: country?.[locale] ?? code };
}
