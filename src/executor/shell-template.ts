/**
 * Rendering `command` / `shell` lines: the operator's literal text is kept as written; every `{{ }}` value
 * becomes quoted shell words (a list: one word per item), so templated data never turns into shell syntax.
 * For `command` the line is also split like Python's shlex (as Ansible's command module does) and every word
 * quoted, so no shell operator in it has any effect.
 */
import { split } from 'shlex';
import { quote } from '../connection/shell-quote.js';
import type { SourcePosition } from '../core/config-error.js';
import { evaluateExpression, TemplateFailure } from '../template/template.js';
import type { VarScope } from '../template/vars.js';
import { splitShellTemplate } from '../template/shell-template-split.js';
import { checkShellLine } from '../template/shell-line-check.js';

function words(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(words);
  if (value === null || value === undefined) return [''];
  if (typeof value === 'object') return [JSON.stringify(value)];
  return [String(value)];
}

function segments(source: string, module: 'command' | 'shell', scope: VarScope, position: SourcePosition | undefined) {
  // The loader refuses these lines; refusing again here means no path runs one.
  const check = checkShellLine(source, module);
  const [unsafe] = check.problems;
  if (unsafe) throw new TemplateFailure(`${unsafe.message}; ${unsafe.hint}`, position);
  const parts = splitShellTemplate(source);
  if (!parts) throw new TemplateFailure(`bad template \`${source}\`: unclosed {{`, position);
  return parts.map((p) => {
    if (p.kind === 'text') return p;
    const value = evaluateExpression(p.expr, scope, position);
    // Allowed where the shell reads values as code only because its last filter makes a number: verify it does.
    if (check.numeric.includes(p.start) && !(typeof value === 'number' && Number.isFinite(value))) {
      throw new TemplateFailure(`\`{{ ${p.expr} }}\` must give a number here, not ${JSON.stringify(value)}`, position);
    }
    return { kind: 'expr' as const, values: words(value) };
  });
}

/** `shell`: literal text as written, each value quoted. */
export function renderShellLine(source: string, scope: VarScope, position?: SourcePosition): string {
  return segments(source, 'shell', scope, position)
    .map((s) => (s.kind === 'text' ? s.text : s.values.map(quote).join(' ')))
    .join('');
}

/** `command`: shlex words of the literal text, each value one word (a list: one word per item), all quoted. */
export function renderCommandLine(source: string, scope: VarScope, position?: SourcePosition): string {
  const values: string[][] = [];
  const marked = segments(source, 'command', scope, position)
    .map((s) => {
      if (s.kind === 'text') return s.text;
      values.push(s.values);
      return `\u0000${values.length - 1}\u0000`;
    })
    .join('');
  let argv: string[];
  try {
    argv = split(marked);
  } catch (err) {
    throw new TemplateFailure(`cannot split \`${source}\` into words: ${(err as Error).message}`, position);
  }
  const out: string[] = [];
  for (const word of argv) {
    const whole = /^\u0000(\d+)\u0000$/.exec(word);
    if (whole) out.push(...values[Number(whole[1])]!);
    else out.push(word.replace(/\u0000(\d+)\u0000/g, (_m, i: string) => values[Number(i)]!.join(' ')));
  }
  return out.map(quote).join(' ');
}
