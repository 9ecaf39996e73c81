/**
 * Where a `{{ }}` in a `command` / `shell` line cannot be one quoted word, say so with a fix. The loader reports
 * these before any host is contacted; the renderer refuses them again (a line never runs with one). A value
 * made a number by its last filter (`| int`, `| length`, `| count`) is safe anywhere outside quotes, and one
 * quoted again by `| quote` is safe where one more shell reads it (`eval`, `sh -c`, `ssh` …).
 */
import { split } from 'shlex';
import { commandHazards, type CommandHazard } from './shell-command-rules.js';
import { lexShell, type ShellContext, type ShellWord } from './shell-lexer.js';
import { splitShellTemplate } from './shell-template-split.js';
import { parseTemplate } from './template-env.js';
import type { NjNode } from './template-names.js';

export interface ShellLineProblem {
  /** Offset of the `{{` in the line (in its argv item for `argv`). */
  start: number;
  /** For `argv`: the index of the item holding the `{{`. */
  item?: number;
  message: string;
  hint: string;
}

type Module = 'command' | 'shell';
const numberFilters = new Set(['int', 'length', 'count']);

/** The filter applied last to the whole expression, if any (`x | default(1) | int` → int). */
function lastFilter(expr: string): string | undefined {
  try {
    const output = parseTemplate(`{{ ${expr} }}`).children?.[0];
    const node = output?.children?.[0];
    return node?.typename === 'Filter' ? ((node.name as NjNode).value as string) : undefined;
  } catch {
    return undefined; // the template check reports bad syntax
  }
}

function contextProblem(context: Exclude<ShellContext, 'word'>, e: string, m: Module): [string, string] {
  const x = `\`{{ ${e} }}\``;
  const line = `in a \`${m}\` line`;
  switch (context) {
    case 'quoted':
      return [
        `${x} is inside quotes ${line}`,
        `remove the quotes around ${x}: rollgate quotes every templated value itself`,
      ];
    case 'ansi':
      return [
        `${x} is inside a $'…' string ${line}`,
        `move ${x} out of the $'…' string: rollgate quotes every templated value itself as one word`,
      ];
    case 'heredoc':
      return [
        `${x} is in a heredoc body ${line}, where quotes are plain text: the value could run commands or end the heredoc`,
        `set a variable before the heredoc (\`v={{ ${e} }}\`) and write \`$v\` in the body, or write the text with \`printf '%s\\n' {{ ${e} }} > FILE\``,
      ];
    case 'comment':
      return [
        `${x} is in a # comment ${line}: a newline in the value would end the comment and run the rest`,
        `remove ${x} from the comment`,
      ];
    case 'arithmetic':
      return [
        `${x} is inside shell arithmetic ${line}: bash evaluates the value as an expression, and \`a[$(cmd)]\` in it runs cmd`,
        `make it a number: \`{{ ${e} | int }}\``,
      ];
    case 'test':
      return [
        `${x} is inside [[ ]] ${line}: bash evaluates operands of -eq, -lt … and -v as arithmetic, which can run commands`,
        `use [ ] instead of [[ ]], or \`{{ ${e} | int }}\` for a number`,
      ];
    case 'backtick':
      return [
        `${x} is inside backquotes ${line}: a backquote in the value would end them`,
        'write $( … ) instead of backquotes',
      ];
    case 'parameter':
      return [
        `${x} is inside \${ } ${line}, whose text the shell reads again (offsets are arithmetic, patterns are globs)`,
        `set a variable first (\`v={{ ${e} }}\`) and write \`"\${NAME:-$v}"\`, or \`{{ ${e} | int }}\` for an offset or length`,
      ];
  }
}

function hazardProblem(h: CommandHazard, e: string, m: Module): [string, string] {
  const x = `\`{{ ${e} }}\``;
  const line = `in a \`${m}\` line`;
  const quoted = `\`{{ ${e} | quote }}\``;
  switch (h.kind) {
    case 'code':
      if (h.command === 'watch')
        return [
          `${x} is an argument of \`watch\` ${line}, which runs its command through \`sh -c\``,
          `use \`watch -x\` (no shell), or write ${quoted}`,
        ];
      return [
        `${x} is an argument of \`${h.command}\` ${line}, which runs it as shell code`,
        `write ${quoted} so that shell reads it as one word, or run the command directly with ${x} as one of its words`,
      ];
    case 'script':
      return [
        `${x} is in the script of \`${h.command}\` ${line}, which a second shell reads as code`,
        `pass it as an argument of the script instead: \`sh -c '… "$1"' sh {{ ${e} }}\``,
      ];
    case 'remote':
      return [
        `${x} is in the remote command of \`ssh\` ${line}: ssh joins its words into one line that the remote shell reads again`,
        `write ${quoted} to quote it once more for the remote shell`,
      ];
    case 'arithmetic':
      return [
        `${x} is an argument of \`${h.command}\` ${line}: bash evaluates it as arithmetic, and \`a[$(cmd)]\` in it runs cmd`,
        `make it a number: \`{{ ${e} | int }}\``,
      ];
    case 'name':
      return [
        `${x} is a variable name (or array value) of \`${h.command}\` ${line}: bash evaluates array subscripts there, which can run commands`,
        `write the variable name literally and template only its value (\`name={{ ${e} }}\`)`,
      ];
  }
}

/** The words of a `command` line as shlex splits it, each expression marked. */
function commandWords(
  source: string,
): { words: ShellWord[]; exprs: Array<{ expr: string; start: number; quoted: boolean }> } | null {
  const segments = splitShellTemplate(source);
  if (!segments) return null;
  const exprs: Array<{ expr: string; start: number; quoted: boolean }> = [];
  const marked = segments.map((s) => (s.kind === 'text' ? s.text : `\u0000${exprs.push(s) - 1}\u0000`)).join('');
  let argv: string[];
  try {
    argv = split(marked);
  } catch {
    argv = [];
  }
  const words = argv.map((a) => ({
    text: a.replace(/\u0000\d+\u0000/g, '\u0000'),
    exprs: [...a.matchAll(/\u0000(\d+)\u0000/g)].map((m) => Number(m[1])),
  }));
  return { words, exprs };
}

/** What a line's check found: the refusals, and the expressions allowed only because they end in a number filter. */
export interface ShellLineCheck {
  problems: ShellLineProblem[];
  /** Offsets of the `{{` whose value must be a number when rendered (the renderer verifies it). */
  numeric: number[];
}

function collect(
  m: Module,
  exprs: Array<{ expr: string; start: number; context: ShellContext; item?: number }>,
  commands: ShellWord[][],
): ShellLineCheck {
  const found = new Map<number, ShellLineProblem>();
  const numeric = new Set<number>();
  const note = (index: number, [message, hint]: [string, string]) => {
    const x = exprs[index]!;
    if (!found.has(index))
      found.set(index, { start: x.start, ...(x.item === undefined ? {} : { item: x.item }), message, hint });
  };
  exprs.forEach((x, index) => {
    if (x.context === 'word') return;
    if (x.context !== 'quoted' && x.context !== 'ansi' && numberFilters.has(lastFilter(x.expr) ?? ''))
      return void numeric.add(x.start);
    note(index, contextProblem(x.context, x.expr, m));
  });
  for (const h of commands.flatMap(commandHazards)) {
    const x = exprs[h.expr]!;
    const last = lastFilter(x.expr) ?? '';
    if (numberFilters.has(last)) numeric.add(x.start);
    else if (last !== 'quote' || h.kind === 'arithmetic' || h.kind === 'name')
      note(h.expr, hazardProblem(h, x.expr, m));
  }
  return { problems: [...found.values()].sort((a, b) => a.start - b.start), numeric: [...numeric] };
}

const cache = new Map<string, ShellLineCheck>();

/** Every `{{ }}` of a command line that cannot be one quoted word, in line order. */
export function shellLineProblems(source: string, module: Module): ShellLineProblem[] {
  return checkShellLine(source, module).problems;
}

export function checkShellLine(source: string, module: Module): ShellLineCheck {
  if (!source.includes('{{')) return { problems: [], numeric: [] };
  const key = module + source;
  const hit = cache.get(key);
  if (hit) return hit;
  if (cache.size >= 2000) cache.clear();
  const found = findProblems(source, module);
  cache.set(key, found);
  return found;
}

function findProblems(source: string, module: Module): ShellLineCheck {
  if (module === 'shell') {
    const lexed = lexShell(source);
    const checked = collect(module, lexed.exprs, lexed.commands);
    // The renderer evaluates what splitShellTemplate finds: an expression the lexer did not place is refused.
    const placed = new Set(lexed.exprs.map((x) => x.start));
    const unplaced = (splitShellTemplate(source) ?? []).flatMap((s) =>
      s.kind === 'expr' && !placed.has(s.start) ? [s] : [],
    );
    for (const s of unplaced) {
      checked.problems.push({
        start: s.start,
        message: `rollgate cannot tell how the shell reads \`{{ ${s.expr} }}\` in a \`shell\` line`,
        hint: 'write it as a word of its own, outside quotes and escapes',
      });
    }
    checked.problems.sort((a, b) => a.start - b.start);
    return checked;
  }
  const split = commandWords(source);
  if (!split) return { problems: [], numeric: [] };
  const exprs = split.exprs.map((x) => ({
    expr: x.expr,
    start: x.start,
    context: (x.quoted ? 'quoted' : 'word') as ShellContext,
  }));
  return collect(module, exprs, [split.words]);
}

/** `command` with `argv`: each item is one word already; a command that reads a word again as code still does. */
export function argvProblems(items: readonly string[]): ShellLineProblem[] {
  const exprs: Array<{ expr: string; start: number; context: ShellContext; item: number }> = [];
  const words = items.map((text, item) => {
    const w: ShellWord = { text: '', exprs: [] };
    for (const s of splitShellTemplate(text) ?? [{ kind: 'text' as const, text }]) {
      if (s.kind === 'text') w.text += s.text;
      else {
        w.text += '\u0000';
        w.exprs.push(exprs.push({ expr: s.expr, start: s.start, context: 'word', item }) - 1);
      }
    }
    return w;
  });
  return exprs.length === 0 ? [] : collect('command', exprs, [words]).problems;
}
