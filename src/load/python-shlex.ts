/**
 * Python's `shlex.split(line, comments=True, posix=True)`, which Ansible's INI inventory uses to split a host
 * line into the host pattern and its `key=value` tokens. Ported because no maintained npm package has Python's
 * comment rule: an unquoted `#` starts a comment even inside a word (`a=b#c` is the token `a=b`).
 */

/** One token and the 0-based offset in the line where it starts. */
export interface ShlexToken {
  text: string;
  start: number;
}

export type ShlexResult = { tokens: ShlexToken[] } | { error: string };

const whitespace = ' \t\r\n';
const quotes = `'"`;

/** Split a line as Python's shlex.split(line, comments=True) does, keeping where each token starts. */
export function shlexSplit(line: string): ShlexResult {
  const tokens: ShlexToken[] = [];
  let token = '';
  let start = -1;
  let quoted = false;
  let state: string = ' ';
  let escapedState = 'a';
  const emit = () => {
    if (token !== '' || quoted) tokens.push({ text: token, start });
    token = '';
    quoted = false;
    start = -1;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i] ?? '';
    if (state === ' ' || state === 'a') {
      if (whitespace.includes(c)) {
        if (state === 'a') emit();
        state = ' ';
      } else if (c === '#') {
        if (state === 'a') emit();
        return { tokens };
      } else {
        if (state === ' ') start = i;
        state = 'a';
        if (c === '\\') {
          escapedState = 'a';
          state = '\\';
        } else if (quotes.includes(c)) state = c;
        else token += c;
      }
    } else if (state === '\\') {
      // Inside double quotes only the quote itself or a backslash may be escaped; otherwise the backslash stays.
      if (quotes.includes(escapedState) && c !== '\\' && c !== escapedState) token += '\\';
      token += c;
      state = escapedState;
    } else {
      quoted = true;
      if (c === state) state = 'a';
      else if (c === '\\' && state === '"') {
        escapedState = state;
        state = '\\';
      } else token += c;
    }
  }
  if (state === '\\') return { error: 'No escaped character' };
  if (quotes.includes(state)) return { error: 'No closing quotation' };
  if (state === 'a') emit();
  return { tokens };
}
