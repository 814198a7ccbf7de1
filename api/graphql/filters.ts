import { sql, type SQL } from 'drizzle-orm';
import { isTerm, projectTypeKeys, vocabularies, type VocabularyName } from '../../schema/taxonomy/index.ts';
import { textArray } from '../../schema/database.ts';
import { refuse, visible, type Context } from './context.ts';

// The project filter every list, trend and export shares, as SQL over the alias `p` (projects). Codes
// are checked against the taxonomy first, so a typo gets the list of codes it could have been instead
// of an empty answer.

export type ProjectFilter = {
  registries?: string[] | null;
  countries?: string[] | null;
  categories?: string[] | null;
  projectTypes?: string[] | null;
  statuses?: string[] | null;
  reductionRemoval?: string[] | null;
  methodologies?: string[] | null;
  eligibility?: string[] | null;
  tags?: string[] | null;
  search?: string | null;
  vintageFrom?: number | null;
  vintageTo?: number | null;
};

function checkCodes(field: string, values: string[], known: (code: string) => boolean, list: () => string[]): void {
  const unknown = values.filter((v) => !known(v));
  if (unknown.length > 0) {
    refuse(`${field}: unknown ${unknown.map((u) => `"${u}"`).join(', ')}; expected one of: ${list().join(', ')}`, 'BAD_USER_INPUT');
  }
}

const vocabularyCheck = (field: string, values: string[] | null | undefined, vocabulary: VocabularyName) => {
  if (values?.length) checkCodes(field, values, (c) => isTerm(vocabulary, c), () => vocabularies[vocabulary]!.terms.map((t) => t.code));
};

/** Conditions on projects `p` for a filter, including the privacy filter. */
export function projectConditions(context: Context, filter: ProjectFilter | null | undefined, registryIds: readonly string[]): SQL {
  const f = filter ?? {};
  const parts: SQL[] = [visible(context, 'p')];
  if (f.registries?.length) {
    checkCodes('registries', f.registries, (r) => registryIds.includes(r), () => [...registryIds]);
    parts.push(sql`p.registry_id = any(${textArray(f.registries)})`);
  }
  if (f.countries?.length) {
    checkCodes('countries', f.countries, (c) => /^[A-Z]{2}$/.test(c), () => ['ISO 3166-1 alpha-2 codes such as JP, BR, US']);
    parts.push(sql`p.country = any(${textArray(f.countries)})`);
  }
  vocabularyCheck('categories', f.categories, 'category');
  if (f.categories?.length) parts.push(sql`p.category = any(${textArray(f.categories)})`);
  if (f.projectTypes?.length) {
    checkCodes('projectTypes', f.projectTypes, (t) => projectTypeKeys.includes(t), () => [...projectTypeKeys]);
    parts.push(sql`p.project_type = any(${textArray(f.projectTypes)})`);
  }
  vocabularyCheck('statuses', f.statuses, 'projectStatus');
  if (f.statuses?.length) parts.push(sql`p.status::text = any(${textArray(f.statuses)})`);
  vocabularyCheck('reductionRemoval', f.reductionRemoval, 'reductionRemoval');
  if (f.reductionRemoval?.length) parts.push(sql`p.reduction_removal::text = any(${textArray(f.reductionRemoval)})`);
  if (f.methodologies?.length) parts.push(sql`p.methodologies && ${textArray(f.methodologies.map((m) => m.toLowerCase()))}`);
  vocabularyCheck('eligibility', f.eligibility, 'eligibility');
  if (f.eligibility?.length) parts.push(sql`p.eligibility @> ${textArray(f.eligibility)}`);
  vocabularyCheck('tags', f.tags, 'tag');
  if (f.tags?.length) {
    // Every code, on the project or on any of its issuances or blocks, from a source the caller may see.
    const codes = [...new Set(f.tags)];
    parts.push(sql`p.id in (select t.project_id from tags t where t.code = any(${textArray(codes)}) and ${visible(context, 't')}
      group by t.project_id having count(distinct t.code) = ${codes.length})`);
  }
  const search = f.search?.trim();
  if (search) {
    const pattern = `%${search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    parts.push(sql`(p.name ilike ${pattern} or p.name_ja ilike ${pattern} or p.key ilike ${pattern} or p.proponent ilike ${pattern})`);
  }
  return sql.join(parts, sql` and `);
}

/** Conditions on a vintage year column for the filter's vintage range. */
export function vintageConditions(filter: ProjectFilter | null | undefined, column: SQL): SQL {
  const parts: SQL[] = [sql`true`];
  if (filter?.vintageFrom != null) parts.push(sql`${column} >= ${filter.vintageFrom}`);
  if (filter?.vintageTo != null) parts.push(sql`${column} <= ${filter.vintageTo}`);
  return sql.join(parts, sql` and `);
}

/** An opaque cursor: the sort value and id of the last row of a page. */
export function encodeCursor(value: unknown, id: number): string {
  return Buffer.from(JSON.stringify([value, id])).toString('base64url');
}

/**
 * The sort value and id a cursor holds. Anything else (not base64url JSON, an id that is no row id, a
 * sort value that is neither text nor a finite number) is refused as not a cursor this API gave out.
 */
export function decodeCursor(cursor: string): [string | number | null, number] {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(parsed) && parsed.length === 2) {
      const [value, id] = parsed as [unknown, unknown];
      const sortValue = value === null || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value));
      if (sortValue && Number.isSafeInteger(id) && (id as number) >= 0) return [value as string | number | null, id as number];
    }
  } catch {
    // reported below
  }
  refuse('after: not a cursor this API gave out (pass pageInfo.endCursor of the previous page)', 'BAD_USER_INPUT');
}

/** Page sizes are bounded, so one request cannot ask for the whole ledger. */
export function pageSize(first: number | null | undefined, max = 500): number {
  const n = first ?? 50;
  if (!Number.isInteger(n) || n < 0 || n > max) refuse(`first: expected 0 to ${max}, got ${n}`, 'BAD_USER_INPUT');
  return n;
}
