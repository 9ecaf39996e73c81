/**
 * `-e` as ansible-playbook reads it: `KEY=VALUE` words (values are strings; several per option, split like a
 * shell line), a JSON or YAML mapping (`-e '{"ids": ["10de:1e87"]}'`), or `@FILE` holding one. Later options
 * win. Bad input is a ConfigError naming the option.
 */
import { split } from 'shlex';
import { ConfigError, type ConfigProblem } from '../core/config-error.js';
import { loadYamlFile, parseYaml } from './yaml.js';
import { checkInputSize } from './input-file.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function mapping(value: unknown, what: string, problems: ConfigProblem[]): Record<string, unknown> {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const bad = Object.keys(value).filter((k) => !NAME.test(k) || k === '__proto__');
    if (bad.length === 0) return value as Record<string, unknown>;
    problems.push({
      message: `${what}: \`${bad[0]}\` is not a variable name`,
      hint: 'use letters, digits and _, not starting with a digit',
    });
    return {};
  }
  problems.push({
    message: `${what} must be a mapping of variables`,
    hint: 'write -e KEY=VALUE, -e \'{"key": "value"}\' or -e @vars.yml',
  });
  return {};
}

export function parseExtraVars(options: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const problems: ConfigProblem[] = [];
  for (const option of options) {
    const text = option.trim();
    if (text.startsWith('@')) {
      try {
        Object.assign(
          out,
          mapping(loadYamlFile(text.slice(1), `-e ${text}`, `-e ${text}`).value, `-e ${text}`, problems),
        );
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        problems.push(...err.problems);
      }
    } else if (text.startsWith('{') || text.startsWith('[')) {
      try {
        Object.assign(out, mapping(parseYaml(text, '-e', 'this -e value').value, `-e ${text}`, problems));
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        problems.push(...err.problems);
      }
    } else {
      let words: string[] = [];
      try {
        checkInputSize(text, '-e');
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        problems.push(...err.problems);
        continue;
      }
      try {
        words = split(text);
      } catch {
        problems.push({ message: `-e ${text}: unbalanced quotes`, hint: 'close every quote' });
      }
      for (const word of words) {
        const eq = word.indexOf('=');
        const key = eq > 0 ? word.slice(0, eq) : '';
        if (!NAME.test(key) || key === '__proto__') {
          problems.push({
            message: `-e ${word}: expected KEY=VALUE`,
            hint: 'write e.g. -e target_kernel=6.1.0-13-amd64',
          });
          continue;
        }
        out[key] = word.slice(eq + 1);
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return out;
}
