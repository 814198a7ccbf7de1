import vocabularyData from './data/vocabularies.json' with { type: 'json' };

// The common vocabularies (DESIGN §4) as data: every term has a code, an English and a Japanese label,
// and, where CAD Trust has the term, CAD Trust's own spelling of it.

export type Locale = 'en' | 'ja';
export const locales: readonly Locale[] = ['en', 'ja'];

export type Term = { code: string; en: string; ja: string; cadt?: string } & Record<string, unknown>;
export type Vocabulary = { label: { en: string; ja: string }; source: string; terms: Term[] };

export const vocabularies = vocabularyData as Record<string, Vocabulary>;
export type VocabularyName = keyof typeof vocabularyData;

const index = new Map<string, Map<string, Term>>(
  Object.entries(vocabularies).map(([name, vocabulary]) => [name, new Map(vocabulary.terms.map((t) => [t.code, t]))]),
);

export function term(vocabulary: VocabularyName, code: string): Term | undefined {
  return index.get(vocabulary)?.get(code);
}

export function isTerm(vocabulary: VocabularyName, code: string): boolean {
  return index.get(vocabulary)?.has(code) ?? false;
}

/** A term's label in a locale; an unknown code is shown as itself rather than hidden. */
export function labelOf(vocabulary: VocabularyName, code: string, locale: Locale): string {
  return term(vocabulary, code)?.[locale] ?? code;
}

/** The term CAD Trust writes as `cadt` ("Pending Export" → `pending-export`), for imports. */
export function termFromCadt(vocabulary: VocabularyName, cadt: string): Term | undefined {
  const wanted = cadt.trim().toLowerCase();
  return vocabularies[vocabulary]?.terms.find((t) => t.cadt?.toLowerCase() === wanted);
}
