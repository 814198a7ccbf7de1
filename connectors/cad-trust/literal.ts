// Values that CAD Trust v1 files carry as text inside one cell: a unit's `issuance` record and a
// project's `estimations` list, written by pandas as Python reprs (`{'id': '3e58…', 'timeStaged': None}`)
// or by other tools as JSON. This reads either: dicts, lists, strings in single or double quotes,
// numbers, None / True / False and null / true / false. Nothing else (no expressions, no sets).

export class LiteralError extends Error {}

/** Parses one Python or JSON literal; throws LiteralError saying where it stopped. */
export function parseLiteral(text: string): unknown {
  let i = 0;
  const fail = (what: string): never => {
    throw new LiteralError(`${what} at character ${i + 1}`);
  };
  const space = () => {
    while (i < text.length && /\s/.test(text[i]!)) i += 1;
  };
  const expect = (c: string) => {
    space();
    if (text[i] !== c) fail(`expected "${c}"`);
    i += 1;
  };

  function value(): unknown {
    space();
    const c = text[i];
    if (c === '{') return dict();
    if (c === '[' || c === '(') return list(c === '[' ? ']' : ')');
    if (c === "'" || c === '"') return string(c);
    const word = /^(None|null|True|true|False|false|nan|NaN)\b/.exec(text.slice(i));
    if (word) {
      i += word[0].length;
      return { none: null, null: null, true: true, false: false, nan: null }[word[0].toLowerCase()];
    }
    const number = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?/.exec(text.slice(i));
    if (number) {
      i += number[0].length;
      return Number(number[0]);
    }
    return fail(c === undefined ? 'unexpected end' : `unexpected "${c}"`);
  }

  function dict(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    i += 1;
    space();
    while (text[i] !== '}') {
      const key = value();
      if (typeof key !== 'string' && typeof key !== 'number') fail('expected a key');
      expect(':');
      out[String(key)] = value();
      space();
      if (text[i] === ',') i += 1;
      else if (text[i] !== '}') fail('expected "," or "}"');
      space();
    }
    i += 1;
    return out;
  }

  function list(close: string): unknown[] {
    const out: unknown[] = [];
    i += 1;
    space();
    while (text[i] !== close) {
      out.push(value());
      space();
      if (text[i] === ',') i += 1;
      else if (text[i] !== close) fail(`expected "," or "${close}"`);
      space();
    }
    i += 1;
    return out;
  }

  function string(quote: string): string {
    let out = '';
    i += 1;
    while (i < text.length && text[i] !== quote) {
      if (text[i] === '\\') {
        const next = text[i + 1];
        const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '/': '/' };
        if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
          out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
          i += 6;
          continue;
        }
        out += next !== undefined && escapes[next] !== undefined ? escapes[next] : `\\${next ?? ''}`;
        i += 2;
        continue;
      }
      out += text[i];
      i += 1;
    }
    if (i >= text.length) fail('unterminated string');
    i += 1;
    return out;
  }

  const result = value();
  space();
  if (i < text.length) fail('unexpected text after the value');
  return result;
}
