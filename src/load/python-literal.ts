/**
 * Python's `ast.literal_eval`, the rule Ansible's INI inventory uses to type a value: `1` is an int, `0x10` is 16,
 * `True`/`None` are true/null, `'a b'` is a string, `[1, 2]` a list, `{'k': 1}` a mapping; anything it cannot
 * read (`yes`, `hello world`, `a:b`) stays the plain string. Values Python reads but JSON cannot hold (complex
 * numbers, sets, `...`) also stay the string. No npm package reads Python literals, hence this small parser.
 */
import { tokenizePython, type PyToken } from './python-tokens.js';

type Parsed = { value: unknown } | undefined;

class Parser {
  private i = 0;
  constructor(private readonly tokens: PyToken[]) {}

  private peek(): PyToken | undefined {
    return this.tokens[this.i];
  }

  private isOp(text: string): boolean {
    const t = this.peek();
    return t?.kind === 'op' && t.text === text;
  }

  done(): boolean {
    return this.i >= this.tokens.length;
  }

  /** One expression; undefined when it is not a literal JSON can hold. */
  expr(): Parsed {
    const t = this.peek();
    if (!t) return undefined;
    if (t.kind === 'op' && (t.text === '-' || t.text === '+')) {
      this.i++;
      // literal_eval signs only a number, though it may sit in parentheses: -(1) is -1, --1 is an error.
      let parens = 0;
      while (this.isOp('(')) {
        this.i++;
        parens++;
      }
      const next = this.peek();
      if (next?.kind !== 'number') return undefined;
      this.i++;
      for (; parens > 0; parens--)
        if (this.isOp(')')) this.i++;
        else return undefined;
      return { value: t.text === '-' ? -(next.value as number) : next.value };
    }
    this.i++;
    switch (t.kind) {
      case 'number':
        return { value: t.value };
      case 'string': {
        let text = t.value as string;
        // Adjacent string literals concatenate, as in Python ('a' 'b' is 'ab').
        while (this.peek()?.kind === 'string') text += this.tokens[this.i++]?.value as string;
        return { value: text };
      }
      case 'name':
        return t.text === 'True'
          ? { value: true }
          : t.text === 'False'
            ? { value: false }
            : t.text === 'None'
              ? { value: null }
              : undefined;
      case 'op':
        if (t.text === '[') return this.sequence(']');
        if (t.text === '(') return this.tuple();
        if (t.text === '{') return this.mapping();
        return undefined;
      default:
        return undefined;
    }
  }

  private sequence(close: string): Parsed {
    const items: unknown[] = [];
    while (!this.isOp(close)) {
      const item = this.expr();
      if (!item) return undefined;
      items.push(item.value);
      if (this.isOp(',')) this.i++;
      else if (!this.isOp(close)) return undefined;
    }
    this.i++;
    return { value: items };
  }

  private tuple(): Parsed {
    if (this.isOp(')')) return this.sequence(')');
    const first = this.expr();
    if (!first) return undefined;
    if (this.isOp(')')) {
      this.i++;
      return first; // parentheses only group
    }
    if (!this.isOp(',')) return undefined;
    this.i++;
    const rest = this.sequence(')');
    return rest && { value: [first.value, ...(rest.value as unknown[])] };
  }

  private mapping(): Parsed {
    const out: Record<string, unknown> = {};
    if (this.isOp('}')) {
      this.i++;
      return { value: out };
    }
    while (!this.isOp('}')) {
      const key = this.expr();
      if (!key || !this.isOp(':')) return undefined; // a set ({1, 2}) has no JSON form
      this.i++;
      const value = this.expr();
      if (!value || (key.value !== null && typeof key.value === 'object')) return undefined;
      out[String(key.value)] = value.value;
      if (this.isOp(',')) this.i++;
      else if (!this.isOp('}')) return undefined;
    }
    this.i++;
    return { value: out };
  }
}

/** The value Python's literal_eval gives for `text`, or undefined when it raises (or JSON cannot hold it). */
export function pythonLiteral(text: string): Parsed {
  const tokens = tokenizePython(text.replace(/^[ \t]+/, ''));
  if (!tokens) return undefined;
  const parser = new Parser(tokens);
  const result = parser.expr();
  return result && parser.done() ? result : undefined;
}

/** An INI inventory value as Ansible types it: the literal when Python can read one, else the text itself. */
export function iniValue(text: string): unknown {
  const parsed = pythonLiteral(text);
  return parsed ? parsed.value : text;
}
