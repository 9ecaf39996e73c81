import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { iniValue } from '../../src/load/python-literal.js';
import { shlexSplit } from '../../src/load/python-shlex.js';

// [input, what Python 3.11's ast.literal_eval gives (the input itself where it raises or JSON cannot hold it)].
const literals = JSON.parse(readFileSync(new URL('../fixtures/python-literals.json', import.meta.url), 'utf8')) as [
  string,
  unknown,
][];

describe('iniValue', () => {
  it.each(literals)('types %s as Python literal_eval does', (input, expected) => {
    expect(iniValue(input)).toEqual(expected);
  });
});

describe('shlexSplit', () => {
  const texts = (line: string) => {
    const r = shlexSplit(line);
    return 'tokens' in r ? r.tokens.map((t) => t.text) : r.error;
  };

  it('splits on whitespace and drops quotes', () => {
    expect(texts(`h1 a=1 d="hello world" e='[1, 2]'`)).toEqual(['h1', 'a=1', 'd=hello world', 'e=[1, 2]']);
  });

  it('starts a comment at an unquoted # even inside a word', () => {
    expect(texts('h1 k=a#comment x=1')).toEqual(['h1', 'k=a']);
    expect(texts('h1 k="a#b"')).toEqual(['h1', 'k=a#b']);
  });

  it('keeps backslashes inside double quotes unless they escape a quote or backslash', () => {
    expect(texts(String.raw`a="x\"y\\z\n" b=c\ d`)).toEqual([String.raw`a=x"y\z\n`, 'b=c d']);
  });

  it('keeps an empty quoted token', () => {
    expect(texts(`h1 a='' ""`)).toEqual(['h1', 'a=', '']);
  });

  it('reports an unclosed quote', () => {
    expect(texts(`h1 a="x`)).toBe('No closing quotation');
  });

  it('records where each token starts', () => {
    const r = shlexSplit('  h1   a=1');
    expect('tokens' in r && r.tokens.map((t) => t.start)).toEqual([2, 7]);
  });
});
