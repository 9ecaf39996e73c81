/**
 * Enough of POSIX sh and bash to know how the shell reads each `{{ }}` of a `shell` line: as a plain word (where
 * rollgate's single quotes make the value data), or inside quotes, `$'…'`, a heredoc body, a `#` comment,
 * arithmetic (`$(( ))`, `(( ))`, `$[ ]`, `a[i]=`), `[[ ]]`, backticks or `${ }`, where the shell reads the text
 * again and quotes do not protect it. It also splits the line into simple commands and their words, so rules
 * about what a command does with its arguments (`eval`, `sh -c`, `ssh` …) can be checked. When in doubt it
 * chooses the stricter context: a wrong guess may refuse a line, never let a value run.
 */
import { closingBraces } from './shell-template-split.js';

export type ShellContext =
  'word' | 'quoted' | 'ansi' | 'heredoc' | 'comment' | 'arithmetic' | 'test' | 'backtick' | 'parameter';

export interface ShellExpr {
  /** The expression between `{{` and `}}`, trimmed. */
  expr: string;
  /** Offset of `{{` in the line. */
  start: number;
  context: ShellContext;
}

/** A word of a simple command: its text with quotes removed (each expression as \u0000, each expansion as \u0001), and the expressions in it. */
export interface ShellWord {
  text: string;
  exprs: number[];
}

export interface ShellLex {
  exprs: ShellExpr[];
  /** Every simple command, nested ones (`$( )`) included, as its words without redirections. */
  commands: ShellWord[][];
}

// `time` is not here: the command rules look through it like through `nice` (it takes `-p`).
const reserved = new Set([
  'if',
  'then',
  'else',
  'elif',
  'fi',
  'do',
  'done',
  'while',
  'until',
  '!',
  'for',
  'select',
  'in',
  'function',
  'coproc',
]);
const metachars = new Set([' ', '\t', '\n', ';', '&', '|', '<', '>', '(', ')']);
const assignmentSubscript = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Inside a dangerous context everything stays in it; only a plain word or double quotes start anew in `$( )`. */
const within = (outer: ShellContext, own: ShellContext): ShellContext =>
  outer === 'word' || outer === 'quoted' ? own : outer;

export function lexShell(src: string): ShellLex {
  const exprs: ShellExpr[] = [];
  const commands: ShellWord[][] = [];
  const open: ShellWord[] = []; // words being read, outermost first: an expression belongs to all of them
  let i = 0;

  /** At `{{`: record the expression and step past it; false when there is none here. */
  function expression(context: ShellContext): boolean {
    if (src[i] !== '{' || src[i + 1] !== '{') return false;
    const end = closingBraces(src, i + 2);
    const stop = end < 0 ? src.length : end;
    exprs.push({ expr: src.slice(i + 2, stop).trim(), start: i, context });
    for (const w of open) w.exprs.push(exprs.length - 1);
    const top = open[open.length - 1];
    if (top) top.text += '\u0000';
    i = end < 0 ? src.length : end + 2;
    return true;
  }

  const add = (text: string): void => {
    const top = open[open.length - 1];
    if (top) top.text += text;
  };

  /** Up to the closing quote (i just past the opening one); `escapes` for `$'…'`. */
  function quoted(close: string, context: ShellContext, escapes: boolean): void {
    while (i < src.length) {
      if (expression(context)) continue;
      const c = src.charAt(i);
      if (escapes && c === '\\') {
        add(src.slice(i, i + 2));
        i += 2;
        continue;
      }
      i++;
      if (c === close) return;
      add(c);
    }
  }

  function doubleQuoted(outer: ShellContext): void {
    while (i < src.length) {
      if (expression(within(outer, 'quoted'))) continue;
      const c = src.charAt(i);
      if (c === '"') {
        i++;
        return;
      }
      if (c === '\\') {
        add(src[i + 1] ?? '');
        i += 2;
      } else if (c === '$' || c === '`') dollarOrBacktick(outer);
      else {
        add(c);
        i++;
      }
    }
  }

  /** Up to the bracket closing one opened `depth` levels deep (i past the opening ones). */
  function balanced(openChar: string, closeChar: string, depth: number, context: ShellContext): void {
    while (i < src.length && depth > 0) {
      if (expression(context)) continue;
      const c = src.charAt(i++);
      if (c === '\\') i++;
      else if (c === openChar) depth++;
      else if (c === closeChar) depth--;
    }
  }

  /** `${ … }`: quotes and nested expansions inside, up to the matching `}`. */
  function parameter(context: ShellContext): void {
    let depth = 1;
    while (i < src.length) {
      if (expression(context)) continue;
      const c = src.charAt(i);
      if (c === '\\') i += 2;
      else if (c === "'") {
        i++;
        quoted("'", context, false);
      } else if (c === '"') {
        i++;
        doubleQuoted(context);
      } else if (c === '$' && src[i + 1] === '(') dollarOrBacktick(context);
      else if (c === '$' && src[i + 1] === '{') {
        i += 2;
        depth++;
      } else {
        i++;
        if (c === '}' && --depth === 0) return;
      }
    }
  }

  /** At `$` or a backquote: the expansion it starts, if any. */
  function dollarOrBacktick(outer: ShellContext): void {
    const two = src.slice(i, i + 2);
    // An expansion's text is not known here: \u0001 marks where one sits in the word.
    if (src[i] === '`' || /^\$[({[]$/.test(two)) add('\u0001');
    if (src[i] === '`') {
      i++;
      quoted('`', within(outer, 'backtick'), true);
    } else if (src.startsWith('$((', i)) {
      i += 3;
      balanced('(', ')', 2, within(outer, 'arithmetic'));
    } else if (two === '$(') {
      i += 2;
      list(')', within(outer, 'word'));
    } else if (two === '${') {
      i += 2;
      parameter(within(outer, 'parameter'));
    } else if (two === '$[') {
      i += 2;
      balanced('[', ']', 1, within(outer, 'arithmetic'));
    } else if (two === "$'") {
      i += 2;
      quoted("'", within(outer, 'ansi'), true);
    } else if (two === '$"') {
      i += 2;
      doubleQuoted(outer);
    } else {
      add('$');
      i++;
    }
  }

  /** One word from i (at a non-metacharacter, or at `<(` / `>(`). */
  function word(context: ShellContext, commandStart: boolean): ShellWord {
    const w: ShellWord = { text: '', exprs: [] };
    open.push(w);
    if ((src[i] === '<' || src[i] === '>') && src[i + 1] === '(') {
      i += 2;
      list(')', within(context, 'word'));
    }
    while (i < src.length && !metachars.has(src.charAt(i))) {
      if (expression(context)) continue;
      const c = src.charAt(i);
      if (c === '\\') {
        add(src[i + 1] === '\n' ? '' : (src[i + 1] ?? ''));
        i += 2;
      } else if (c === "'") {
        i++;
        quoted("'", within(context, 'quoted'), false);
      } else if (c === '"') {
        i++;
        doubleQuoted(context);
      } else if (c === '$' || c === '`') dollarOrBacktick(context);
      else if (c === '[' && commandStart && assignmentSubscript.test(w.text) && isSubscriptAssignment(i)) {
        // `a[i]=v`: bash evaluates the subscript as arithmetic.
        add('[');
        i++;
        balanced('[', ']', 1, within(context, 'arithmetic'));
        add(']');
      } else {
        add(c);
        i++;
      }
    }
    open.pop();
    return w;
  }

  function isSubscriptAssignment(at: number): boolean {
    let depth = 0;
    for (let j = at; j < src.length; j++) {
      if (src[j] === '{' && src[j + 1] === '{') {
        const end = closingBraces(src, j + 2);
        if (end < 0) return false;
        j = end + 1;
      } else if (src[j] === '[') depth++;
      else if (src[j] === ']' && --depth === 0) return src[j + 1] === '=' || src.startsWith('+=', j + 1);
      else if (src[j] === '\n') return false;
    }
    return false;
  }

  /** The bodies of the heredocs started on the line just ended, each up to its delimiter line. */
  function heredocBodies(pending: Array<{ delimiter: string; tabs: boolean }>): void {
    for (const { delimiter, tabs } of pending) {
      while (i < src.length) {
        const eol = src.indexOf('\n', i);
        const line = src.slice(i, eol < 0 ? src.length : eol);
        if ((tabs ? line.replace(/^\t+/, '') : line) === delimiter) {
          i = eol < 0 ? src.length : eol + 1;
          break;
        }
        while (i < src.length && src[i] !== '\n') if (!expression('heredoc')) i++;
        i++;
      }
    }
  }

  /** A command list up to `closer` (the `)` of `$( )`) or the end of the line. */
  function list(closer: ')' | null, context: ShellContext): void {
    let words: ShellWord[] = [];
    let pending: Array<{ delimiter: string; tabs: boolean }> = [];
    let test = false;
    let redirect = false;
    let parens = 0;
    let cases = 0;
    const end = (): void => {
      if (words.length > 0) commands.push(words);
      words = [];
    };
    while (i < src.length) {
      const c = src.charAt(i);
      if (c === ' ' || c === '\t') i++;
      else if (c === '\\' && src[i + 1] === '\n') i += 2;
      else if (c === '\n') {
        i++;
        if (!test) end();
        heredocBodies(pending);
        pending = [];
      } else if (c === '#') {
        while (i < src.length && src[i] !== '\n') if (!expression(within(context, 'comment'))) i++;
      } else if (c === ')' && !test && parens === 0 && closer === ')' && cases === 0) {
        i++;
        end();
        return;
      } else if (test && '()&|<>!'.includes(c)) i++;
      else if (c === '(' && src[i + 1] === '(' && words.length === 0) {
        i += 2;
        balanced('(', ')', 2, within(context, 'arithmetic'));
      } else if (c === '(' || c === ')') {
        if (c === '(') parens++;
        else if (parens > 0) parens--;
        i++;
        end();
      } else if (src.startsWith('<<<', i)) {
        i += 3;
        redirect = true;
      } else if (src.startsWith('<<', i)) {
        i += 2;
        const tabs = src[i] === '-';
        if (tabs) i++;
        while (src[i] === ' ' || src[i] === '\t') i++;
        const delimiter = word(within(context, 'heredoc'), false);
        pending.push({ delimiter: delimiter.text, tabs });
      } else if ((c === '<' || c === '>') && src[i + 1] === '(') words.push(word(context, false));
      else if (c === '<' || c === '>' || (c === '&' && src[i + 1] === '>')) {
        while (i < src.length && '<>&|'.includes(src.charAt(i))) i++;
        if (src[i - 1] === '&' && /[0-9-]/.test(src[i] ?? '')) while (/[0-9-]/.test(src[i] ?? '')) i++;
        else redirect = true;
      } else if (c === ';' || c === '&' || c === '|') {
        while (i < src.length && ';&|'.includes(src.charAt(i))) i++;
        end();
      } else {
        const commandStart = words.every((w) => /^[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?\+?=/.test(w.text));
        const from = i;
        const w = word(test ? within(context, 'test') : context, commandStart);
        // Keywords count only when written bare: a quoted "]]" or 'case' is an ordinary word.
        const raw = src.slice(from, i);
        // `2>` / `10<`: a file descriptor number, not a word of the command.
        const fd = /^[0-9]+$/.test(raw) && (src[i] === '<' || src[i] === '>');
        if (fd) continue;
        if (test) {
          if (raw === ']]') test = false;
        } else if (redirect) redirect = false;
        else if (raw === '{' || raw === '}')
          end(); // a group or function body: what follows starts a command
        else if (words.length === 0 && raw === '[[') test = true;
        else if (words.length === 0 && (reserved.has(raw) || raw === 'case' || raw === 'esac')) {
          if (raw === 'case') cases++;
          if (raw === 'esac' && cases > 0) cases--;
        } else words.push(w);
      }
    }
    end();
  }

  list(null, 'word');
  return { exprs, commands };
}
