import type { FileFormat } from '../types.ts';

// A file format is a column map (CONVENTIONS: column maps kept as data): each column its mapper reads,
// under the name the registry gives it today, with the names it had in other generations of the export,
// and whether a record can be made without it. Reading a file starts here: its header row is matched to
// the formats, and each row is handed to the mapper under today's names. A registry renaming a column
// is a declared alias, never a guess.

/**
 * A header as compared: case, whitespace (spaces, non-breaking spaces, line breaks inside a cell,
 * surrounding blanks) and a byte-order mark do not count. `Status Effective  (GMT)` = `status effective (gmt)`;
 * J-Credit's `プロジェクト\r\n番号` = `プロジェクト番号`.
 */
export const headerKey = (header: string) => header.replace(/^\uFEFF/, '').replace(/\s+/g, '').toLowerCase();

/** A pandas index column or the empty column of a trailing comma: read by nobody, reported by nobody. */
const isFiller = (header: string) => header.trim() === '' || /^Unnamed: \d+$/.test(header.trim());

/** How a file's header row meets one format's columns. */
export type ColumnMatch = {
  format: FileFormat;
  /** The file's header → the name the mapper reads it under, for every column the format reads. */
  rename: ReadonlyMap<string, string>;
  /** The generations whose names the file uses (today's, where it uses no older name). */
  generations: string[];
  /** Required columns the file lacks (by today's name). */
  missing: string[];
  /** The file's columns no mapper reads: kept in the raw records, listed in the batch summary. */
  unread: string[];
};

export function matchColumns(format: FileFormat, headers: readonly string[]): ColumnMatch {
  const byKey = new Map<string, string>();
  for (const header of headers) if (!byKey.has(headerKey(header))) byKey.set(headerKey(header), header);
  const rename = new Map<string, string>();
  const generations = new Set<string>();
  const missing: string[] = [];
  for (const [name, column] of Object.entries(format.columns)) {
    const names: [string, string | undefined][] = [[name, undefined], ...Object.entries(column.aliases ?? {})];
    const found = names.find(([candidate]) => byKey.has(headerKey(candidate)));
    if (found) {
      rename.set(byKey.get(headerKey(found[0]))!, name);
      if (found[1]) generations.add(found[1]);
    } else if (column.required) {
      missing.push(name);
    }
  }
  return {
    format,
    rename,
    generations: generations.size > 0 ? [...generations].sort() : [format.generation],
    missing,
    unread: headers.filter((h) => !rename.has(h) && !isFiller(h)),
  };
}

/** A row's cells under the names the format's mapper reads (other cells keep theirs). */
export function renamed(values: Record<string, string>, match: Pick<ColumnMatch, 'rename'>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [header, value] of Object.entries(values)) out[match.rename.get(header) ?? header] = value;
  return out;
}

/** The columns a format reads, as a message lists them: required ones first, each with its other names. */
export function describeFormatColumns(format: FileFormat): string {
  const entries = Object.entries(format.columns);
  const name = ([n, c]: [string, FileFormat['columns'][string]]) => `${n}${c.aliases ? ` (or ${Object.keys(c.aliases).join(', ')})` : ''}`;
  return entries.filter(([, c]) => c.required).map(name).join(', ');
}
