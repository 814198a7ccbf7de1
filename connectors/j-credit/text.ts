// Cells of the J-Credit list wrap long text with line breaks inside the cell (`一般社団法人\r\n低炭素投資\r\n
// 促進機構`, `EN-S-001\r\nVer. 1.0`). Between two Japanese characters the break is only wrapping and goes;
// elsewhere it separates words and becomes a space.

const WIDE = /[^\u0000-\u00ff]/;

/** A cell's text on one line, trimmed; undefined when empty or a dash (`-`, `‐`, `－`: "none"). */
export function oneLine(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const text = value.replace(/[ \t]*\r?\n[ \t\r\n]*/g, (match, offset: number, all: string) => {
    const before = all[offset - 1] ?? '';
    const after = all[offset + match.length] ?? '';
    return WIDE.test(before) && WIDE.test(after) ? '' : ' ';
  }).replace(/[ \t]+/g, ' ').trim();
  return text === '' || /^[-‐－―ー]$/.test(text) ? undefined : text;
}

/** Distinct values in their order of appearance. */
export const distinct = <T>(values: (T | undefined)[]): T[] => [...new Set(values.filter((v): v is T => v !== undefined))];
