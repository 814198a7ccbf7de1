import { countryByCode, type Country } from '../../schema/taxonomy/index.ts';
import type { RowReader } from '../runtime/apx.ts';

// JCM reference numbers (reference registries.md §4): the partner country's ISO 3166-1 alpha-2 code and
// three digits, `MN001`, `VN020`, numbered per partner. The code is the host Party of the project.

export function readReference(r: RowReader, column: string): { ref: string; host: Country } | undefined {
  const raw = r.required(column, r.text(column));
  if (!raw) return undefined;
  const ref = raw.toUpperCase();
  const m = ref.match(/^([A-Z]{2})(\d{3})$/);
  const host = m ? countryByCode(m[1]!) : undefined;
  if (!m || !host) {
    r.fail(column, 'bad-reference', `"${raw}" is not a JCM reference number (a partner country's two-letter code and three digits, e.g. MN001)`);
    return undefined;
  }
  return { ref, host };
}
