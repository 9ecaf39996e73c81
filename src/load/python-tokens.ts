/**
 * The part of Python's tokenizer that literal values need: numbers (with `_`, 0x/0o/0b, floats, exponents),
 * string literals (prefixes, triple quotes, escapes), names and brackets. Anything else fails the whole text,
 * as a SyntaxError would in Python.
 */

export interface PyToken {
  kind: 'number' | 'complex' | 'string' | 'name' | 'op';
  text: string;
  value?: number | string;
}

const digits = (set: string) => `[${set}](?:_?[${set}])*`;
const dec = digits('0-9');
const numberRe = new RegExp(
  [
    `0[xX](?:_?[0-9a-fA-F])+`,
    `0[oO](?:_?[0-7])+`,
    `0[bB](?:_?[01])+`,
    `(?:(?:${dec})?\\.${dec}|${dec}\\.?)(?:[eE][-+]?${dec})?[jJ]?`,
  ].join('|'),
  'y',
);
const nameRe = /[\p{L}_][\p{L}\p{N}_]*/uy;
const prefixRe = /(?:[rR][bBfF]?|[bBfF][rR]?|[uU])?(?:'''|"""|'|")/y;

const simpleEscapes: Record<string, string> = {
  '\n': '',
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

/** Decode the body of a non-raw string literal; undefined on an escape Python rejects. */
function unescape(body: string, isBytes: boolean): string | undefined {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i] ?? '';
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i] ?? '';
    const hex = (n: number) => {
      const h = body.slice(i + 1, i + 1 + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(h)) return undefined;
      i += n;
      return String.fromCodePoint(parseInt(h, 16));
    };
    let decoded: string | undefined;
    if (e in simpleEscapes) decoded = simpleEscapes[e];
    else if (/[0-7]/.test(e)) {
      const oct = /^[0-7]{1,3}/.exec(body.slice(i))?.[0] ?? e;
      i += oct.length - 1;
      decoded = String.fromCodePoint(parseInt(oct, 8));
    } else if (e === 'x') decoded = hex(2);
    else if (!isBytes && e === 'u') decoded = hex(4);
    else if (!isBytes && e === 'U') decoded = hex(8);
    else if (!isBytes && e === 'N')
      return undefined; // \N{NAME}: needs the Unicode name table
    else decoded = '\\' + e; // Python keeps unknown escapes as written
    if (decoded === undefined) return undefined;
    out += decoded;
  }
  return out;
}

function numberValue(text: string): PyToken {
  const clean = text.replace(/_/g, '');
  if (/[jJ]$/.test(clean)) return { kind: 'complex', text };
  const lower = clean.toLowerCase();
  if (lower.startsWith('0x')) return { kind: 'number', text, value: parseInt(lower.slice(2), 16) };
  if (lower.startsWith('0o')) return { kind: 'number', text, value: parseInt(lower.slice(2), 8) };
  if (lower.startsWith('0b')) return { kind: 'number', text, value: parseInt(lower.slice(2), 2) };
  return { kind: 'number', text, value: Number(clean) };
}

/** Tokens of `src`, or undefined when Python's tokenizer would raise a SyntaxError. */
export function tokenizePython(src: string): PyToken[] | undefined {
  const tokens: PyToken[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] ?? '';
    if (c === ' ' || c === '\t' || c === '\f') {
      i++;
      continue;
    }
    if (c === '#') break; // a comment runs to the end of the line
    prefixRe.lastIndex = i;
    const prefix = prefixRe.exec(src)?.[0];
    if (prefix) {
      const quote = prefix.endsWith("'''") || prefix.endsWith('"""') ? prefix.slice(-3) : prefix.slice(-1);
      const flags = prefix.slice(0, prefix.length - quote.length).toLowerCase();
      let j = i + prefix.length;
      let body = '';
      while (j < src.length && !src.startsWith(quote, j)) {
        if (src[j] === '\\') body += src[j++] ?? '';
        if (quote.length === 1 && (src[j] === '\n' || src[j] === '\r')) return undefined;
        body += src[j++] ?? '';
      }
      if (j >= src.length || flags.includes('f')) return undefined; // unclosed, or an f-string (not a literal)
      const isBytes = flags.includes('b');
      if (isBytes && /[^\x00-\x7f]/.test(body)) return undefined;
      const value = flags.includes('r') ? body : unescape(body, isBytes);
      if (value === undefined) return undefined;
      tokens.push({ kind: 'string', text: src.slice(i, j + quote.length), value });
      i = j + quote.length;
      continue;
    }
    numberRe.lastIndex = i;
    const num = /[0-9]/.test(c) || (c === '.' && /[0-9]/.test(src[i + 1] ?? '')) ? numberRe.exec(src)?.[0] : undefined;
    if (num) {
      const after = src[i + num.length] ?? '';
      // '1abc' and '0777' are SyntaxErrors in Python 3.
      if (/[\p{L}\p{N}_.]/u.test(after) || /^0+[1-9][0-9]*$/.test(num.replace(/_/g, ''))) return undefined;
      tokens.push(numberValue(num));
      i += num.length;
      continue;
    }
    nameRe.lastIndex = i;
    const name = nameRe.exec(src)?.[0];
    if (name) {
      tokens.push({ kind: 'name', text: name });
      i += name.length;
      continue;
    }
    if ('[](){},:+-'.includes(c)) {
      tokens.push({ kind: 'op', text: c });
      i++;
      continue;
    }
    return undefined;
  }
  return tokens;
}
