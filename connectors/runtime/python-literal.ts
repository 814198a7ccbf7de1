import { ValueError } from './values.ts';

// CarbonPlan flattens the registries' JSON API records with pandas, and pandas writes a nested list or
// object cell as Python's repr of it: `[{'description': 'Colombian Carbon Tax', 'code': 'ICC'}]`,
// `['corporate_targets']`, `True`, `None`. OffsetsDB reads the cells back with `ast.literal_eval`; this
// is the same reading for the literals repr produces (strings in either quote with backslash escapes,
// numbers, True/False/None, lists, tuples and dicts). JSON of lists, objects, strings and numbers is
// such a literal too, so a cell written by a JSON tool reads the same. pandas writes a missing number
// as `nan`, read as null. The Cercarbono and Isometric exports and CAD Trust v1 files need it.

export type PythonValue = string | number | boolean | null | PythonValue[] | { [key: string]: PythonValue };

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', a: '\x07', '0': '\0', '\\': '\\', "'": "'", '"': '"', '\n': '' };

/** Parses one Python literal; throws ValueError naming the position of what it cannot read. */
export function parsePythonLiteral(text: string): PythonValue {
  let at = 0;
  const fail = (problem: string): never => {
    const shown = text.length > 60 ? `${text.slice(0, 60)}…` : text;
    throw new ValueError(`"${shown}" is not a list or value Tally can read (${problem} at character ${at + 1})`, 'bad-literal');
  };
  const space = () => {
    while (at < text.length && /\s/.test(text[at]!)) at += 1;
  };
  const expect = (char: string) => {
    space();
    if (text[at] !== char) fail(`expected "${char}"`);
    at += 1;
  };

  function string(): string {
    const quote = text[at]!;
    at += 1;
    let out = '';
    for (;;) {
      if (at >= text.length) fail('a string is not closed');
      const c = text[at]!;
      if (c === quote) {
        at += 1;
        return out;
      }
      if (c !== '\\') {
        out += c;
        at += 1;
        continue;
      }
      const next = text[at + 1];
      if (next === undefined) fail('a string ends in a backslash');
      if (next === 'x' || next === 'u' || next === 'U') {
        const length = next === 'x' ? 2 : next === 'u' ? 4 : 8;
        const hex = text.slice(at + 2, at + 2 + length);
        if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== length) fail(`a \\${next} escape needs ${length} hex digits`);
        out += String.fromCodePoint(parseInt(hex, 16));
        at += 2 + length;
        continue;
      }
      // Python keeps an unknown escape as written: backslash and character.
      out += ESCAPES[next!] ?? `\\${next}`;
      at += 2;
    }
  }

  function sequence(close: string): PythonValue[] {
    const items: PythonValue[] = [];
    at += 1;
    for (;;) {
      space();
      if (text[at] === close) {
        at += 1;
        return items;
      }
      items.push(value());
      space();
      if (text[at] === ',') at += 1;
      else if (text[at] !== close) fail(`expected "," or "${close}"`);
    }
  }

  function dict(): { [key: string]: PythonValue } {
    const out: { [key: string]: PythonValue } = {};
    at += 1;
    for (;;) {
      space();
      if (text[at] === '}') {
        at += 1;
        return out;
      }
      const key = value();
      if (typeof key !== 'string' && typeof key !== 'number') fail('a dict key must be a string or a number');
      expect(':');
      out[String(key)] = value();
      space();
      if (text[at] === ',') at += 1;
      else if (text[at] !== '}') fail('expected "," or "}"');
    }
  }

  function value(): PythonValue {
    space();
    const c = text[at];
    if (c === undefined) return fail('the text ends where a value should be');
    if (c === "'" || c === '"') return string();
    if (c === '[') return sequence(']');
    if (c === '(') return sequence(')');
    if (c === '{') return dict();
    const word = /^(True|False|None|true|false|null|nan|NaN)\b/.exec(text.slice(at))?.[1];
    if (word) {
      at += word.length;
      return word === 'True' || word === 'true' ? true : word === 'False' || word === 'false' ? false : null;
    }
    const number = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?/.exec(text.slice(at))?.[0];
    if (number) {
      at += number.length;
      return Number(number);
    }
    return fail(`unexpected "${c}"`);
  }

  const result = value();
  space();
  if (at !== text.length) fail('unexpected text after the value');
  return result;
}

/** A cell holding a list (`[]`, `[{…}, …]`); an empty cell is an empty list. Throws ValueError otherwise. */
export function pythonList(cell: string | undefined): PythonValue[] {
  const text = cell?.trim() ?? '';
  if (text === '' || /^(nan|none)$/i.test(text)) return [];
  const parsed = parsePythonLiteral(text);
  if (!Array.isArray(parsed)) throw new ValueError(`"${text.slice(0, 60)}" is not a list`, 'bad-literal');
  return parsed;
}
