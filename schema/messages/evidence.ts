import { countryByCode } from '../taxonomy/countries.ts';
import { isTerm, labelOf, type VocabularyName } from '../taxonomy/vocabularies.ts';
import { formatNumber, isMessage, isMessageKey, render, renderDeep, type Locale, type MessageKey } from './index.ts';
import { localizeLocator } from './row-errors.ts';

// A finding's evidence as a person reads it: every field with its label in the reader's language,
// Tally's codes (statuses, link relations, checks) by their label, Tally's sentences in the reader's
// language, numbers grouped per locale. What registries wrote (names, beneficiaries, serials, reasons)
// is shown as they wrote it.

/** One field: its key as stored, its label, and either its text, its fields, or its items. */
export type EvidenceEntry = { key: string; label: string; text?: string; entries?: EvidenceEntry[]; items?: EvidenceItem[] };
/** One item of a list: a text, or the fields of an object. */
export type EvidenceItem = { text?: string; entries?: EvidenceEntry[] };

/** Fields whose values are codes of a taxonomy vocabulary. */
const VOCABULARY_OF: Record<string, VocabularyName> = {
  status: 'unitStatus', otherStates: 'unitStatus', relation: 'linkRelation', source: 'linkSource', creditType: 'creditType',
  purpose: 'retirementPurpose', caDeclaration: 'caDeclaration', caStatus: 'caStatus',
};
/** Fields whose values are Tally's own codes, worded in the catalogues (`value.<field>.<code>`); Tally's sentences are stored as messages. */
const CODED = new Set(['check', 'matchedBy']);
/** Numbers that name something (serials, years, ids): shown as written, never grouped. */
const IDENTIFIERS = new Set(['start', 'end', 'year', 'vintage', 'vintages', 'batch', 'aefActionIds', 'projectId', 'serials', 'unitFirstId', 'unitLastId']);

/** The label of an evidence field; a field the catalogues do not know is shown by its key. */
export function evidenceLabel(locale: Locale, key: string): string {
  const k = `evidence.${key}`;
  return isMessageKey(k) ? render(locale, { key: k }) : key;
}

function scalar(locale: Locale, key: string, value: unknown): string {
  if (value === null || value === undefined) return '–';
  if (typeof value === 'boolean') return render(locale, { key: value ? 'value.yes' : 'value.no' });
  if (typeof value === 'number') return IDENTIFIERS.has(key) ? String(value) : formatNumber(locale, value);
  const text = String(value);
  const vocabulary = VOCABULARY_OF[key];
  if (vocabulary && isTerm(vocabulary, text)) return labelOf(vocabulary, text, locale);
  if (CODED.has(key)) {
    const coded = `value.${key}.${text}`;
    if (isMessageKey(coded)) return render(locale, { key: coded as MessageKey });
  }
  if (key === 'country' && /^[A-Z]{2}$/.test(text)) return countryByCode(text)?.[locale] ?? text;
  if (key === 'locator') return localizeLocator(locale, text);
  return text;
}

function item(locale: Locale, key: string, value: unknown): EvidenceItem {
  if (isMessage(value)) return { text: render(locale, value) };
  if (value && typeof value === 'object' && !Array.isArray(value)) return { entries: evidenceEntries(locale, value as Record<string, unknown>) };
  if (Array.isArray(value)) return { text: value.map((v) => scalar(locale, key, renderDeep(locale, v))).join(', ') };
  return { text: scalar(locale, key, value) };
}

/**
 * The order fields are shown in (PostgreSQL keeps jsonb keys in an order of its own): what the finding is
 * about first, then where to check it; fields not listed follow in their stored order.
 */
const ORDER = [
  'party', 'year', 'check', 'problem', 'why', 'numberSpace', 'overlap', 'period', 'link', 'registry', 'project', 'projectName', 'name', 'country',
  'serial', 'start', 'end', 'units', 'quantity', 'tonnes', 'status', 'statusDate', 'retiredOn', 'vintage', 'beneficiary', 'purpose', 'reason', 'details',
];
const rank = (key: string) => {
  const i = ORDER.indexOf(key);
  return i === -1 ? ORDER.length : i;
};

/** The evidence's fields in a locale. */
export function evidenceEntries(locale: Locale, evidence: Record<string, unknown>): EvidenceEntry[] {
  const fields = Object.entries(evidence).map((entry, i) => ({ entry, i })).sort((a, b) => rank(a.entry[0]) - rank(b.entry[0]) || a.i - b.i).map((x) => x.entry);
  return fields.map(([key, value]): EvidenceEntry => {
    const label = evidenceLabel(locale, key);
    if (isMessage(value)) return { key, label, text: render(locale, value) };
    if (Array.isArray(value)) {
      if (value.every((v) => v === null || typeof v !== 'object')) {
        return { key, label, text: value.length === 0 ? '–' : value.map((v) => scalar(locale, key, v)).join(locale === 'ja' ? '、' : ', ') };
      }
      return { key, label, items: value.map((v) => item(locale, key, v)) };
    }
    if (value && typeof value === 'object') return { key, label, entries: evidenceEntries(locale, value as Record<string, unknown>) };
    return { key, label, text: scalar(locale, key, value) };
  });
}
