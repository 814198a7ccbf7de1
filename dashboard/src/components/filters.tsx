import { useI18n } from '../i18n.ts';
import { useQuery } from './states.tsx';

// The filters that the overview's charts and the project explorer share: registry, category,
// reduction/removal and vintage years, as the API's ProjectFilter.

export type Filter = { registries?: string[]; categories?: string[]; reductionRemoval?: string[]; countries?: string[]; vintageFrom?: number; vintageTo?: number; search?: string; statuses?: string[]; tags?: string[] };

type Term = { code: string; label: string };
type Options = { registries: { id: string; name: string; projectCount: number }[]; taxonomy: { name: string; terms: Term[] }[] };

export function useFilterOptions() {
  return useQuery<Options>(`query FilterOptions($locale: Locale) { registries(locale: $locale) { id name projectCount } taxonomy(locale: $locale) { name terms { code label } } }`);
}

export function FilterBar({ filter, onChange, fields }: { filter: Filter; onChange(f: Filter): void; fields: ('registry' | 'category' | 'reductionRemoval' | 'vintage' | 'search' | 'status' | 'country' | 'tag')[] }) {
  const { t } = useI18n();
  const options = useFilterOptions();
  const vocabulary = (name: string) => options.data?.taxonomy.find((v) => v.name === name)?.terms ?? [];
  const single = (value: string) => (value ? [value] : undefined);
  const year = (value: string) => (value ? Number(value) : undefined);
  return (
    <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label={t('filters')}>
      {fields.includes('search') && (
        <label>{t('search')}<input type="search" value={filter.search ?? ''} placeholder={t('searchPlaceholder')}
          onChange={(e) => onChange({ ...filter, search: (e.target as HTMLInputElement).value || undefined })} /></label>
      )}
      {fields.includes('registry') && (
        <label>{t('registry')}<select value={filter.registries?.[0] ?? ''} onChange={(e) => onChange({ ...filter, registries: single((e.target as HTMLSelectElement).value) })}>
          <option value="">{t('all')}</option>
          {options.data?.registries.filter((r) => r.projectCount > 0).map((r) => <option key={r.id} value={r.id}>{r.name}</option>)}
        </select></label>
      )}
      {fields.includes('country') && (
        <label>{t('country')}<input value={filter.countries?.[0] ?? ''} maxLength={2} size={4} placeholder="JP"
          onChange={(e) => onChange({ ...filter, countries: single((e.target as HTMLInputElement).value.trim().toUpperCase()) })} /></label>
      )}
      {fields.includes('category') && (
        <label>{t('category')}<select value={filter.categories?.[0] ?? ''} onChange={(e) => onChange({ ...filter, categories: single((e.target as HTMLSelectElement).value) })}>
          <option value="">{t('all')}</option>
          {vocabulary('category').map((term) => <option key={term.code} value={term.code}>{term.label}</option>)}
        </select></label>
      )}
      {fields.includes('status') && (
        <label>{t('status')}<select value={filter.statuses?.[0] ?? ''} onChange={(e) => onChange({ ...filter, statuses: single((e.target as HTMLSelectElement).value) })}>
          <option value="">{t('all')}</option>
          {vocabulary('projectStatus').map((term) => <option key={term.code} value={term.code}>{term.label}</option>)}
        </select></label>
      )}
      {fields.includes('reductionRemoval') && (
        <label>{t('reductionRemoval')}<select value={filter.reductionRemoval?.[0] ?? ''} onChange={(e) => onChange({ ...filter, reductionRemoval: single((e.target as HTMLSelectElement).value) })}>
          <option value="">{t('all')}</option>
          {vocabulary('reductionRemoval').map((term) => <option key={term.code} value={term.code}>{term.label}</option>)}
        </select></label>
      )}
      {fields.includes('tag') && (
        <label>{t('tag')}<select value={filter.tags?.[0] ?? ''} onChange={(e) => onChange({ ...filter, tags: single((e.target as HTMLSelectElement).value) })}>
          <option value="">{t('all')}</option>
          {vocabulary('tag').map((term) => <option key={term.code} value={term.code}>{term.label}</option>)}
        </select></label>
      )}
      {fields.includes('vintage') && (
        <fieldset>
          <legend>{t('vintage')}</legend>
          <input type="number" aria-label={t('vintageFrom')} min={1990} max={2100} value={filter.vintageFrom ?? ''} placeholder={t('from')}
            onChange={(e) => onChange({ ...filter, vintageFrom: year((e.target as HTMLInputElement).value) })} />
          <span aria-hidden="true">–</span>
          <input type="number" aria-label={t('vintageTo')} min={1990} max={2100} value={filter.vintageTo ?? ''} placeholder={t('to')}
            onChange={(e) => onChange({ ...filter, vintageTo: year((e.target as HTMLInputElement).value) })} />
        </fieldset>
      )}
    </form>
  );
}
