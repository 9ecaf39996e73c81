/**
 * What commands do with their arguments: some read an argument again as shell code (`eval`, `trap`, the script
 * of `sh -c` / `su -c`, `ssh`'s remote command, `watch`), as arithmetic (`let`), or as a variable name whose
 * array subscript bash evaluates (`declare`, `read`, `printf -v`, `test -v`). A value quoted as one word is
 * data to the first shell only; in those places it would run. Wrappers (`sudo`, `env`, `timeout` …) are looked
 * through to the command they run.
 */
import type { ShellWord } from './shell-lexer.js';

export type CommandHazardKind = 'code' | 'script' | 'remote' | 'arithmetic' | 'name';

export interface CommandHazard {
  /** Index of the expression in the lexed line. */
  expr: number;
  kind: CommandHazardKind;
  /** The command as written (`eval`, `sh -c`, `ssh` …), for the message. */
  command: string;
}

/** Commands that run the rest of their words as a command: option letters taking a value, leading operands. */
const wrappers: Record<string, { withValue: string; operands: number; assignments?: boolean }> = {
  sudo: { withValue: 'ugpChrtUDRT', operands: 0, assignments: true },
  doas: { withValue: 'uC', operands: 0 },
  env: { withValue: 'uCS', operands: 0, assignments: true },
  exec: { withValue: 'a', operands: 0 },
  command: { withValue: '', operands: 0 },
  builtin: { withValue: '', operands: 0 },
  nohup: { withValue: '', operands: 0 },
  setsid: { withValue: '', operands: 0 },
  busybox: { withValue: '', operands: 0 },
  nice: { withValue: 'n', operands: 0 },
  ionice: { withValue: 'cnp', operands: 0 },
  stdbuf: { withValue: 'ioe', operands: 0 },
  time: { withValue: 'fo', operands: 0 }, // the keyword (`time -p`) and /usr/bin/time
  timeout: { withValue: 'sk', operands: 1 },
  chroot: { withValue: '', operands: 1 },
  xargs: { withValue: 'adEILnPs', operands: 0 },
  runuser: { withValue: 'ugG', operands: 0 },
  flock: { withValue: 'Ew', operands: 1 },
};

const shells = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'yash', 'posh', 'fish']);
const commandOption = new Set(['su', 'runuser', 'flock', 'script']);
const declarers = new Set(['declare', 'typeset', 'local', 'readonly', 'export']);
const readers = new Set(['read', 'mapfile', 'readarray']);
// ssh's getopt string: the options that take a value.
const sshWithValue = 'BbcDEeFIiJLlmOoPpQRSWw';
const assignment = /^[A-Za-z_][A-Za-z0-9_]*(?:\[[^\]]*\])?\+?=/;

const literal = (w: ShellWord | undefined): string | undefined => (w && w.exprs.length === 0 ? w.text : undefined);
const baseName = (text: string): string => text.slice(text.lastIndexOf('/') + 1);

/** Index of the first word after the options of the command at `at` (short options in `withValue` take a value). */
function afterOptions(words: ShellWord[], at: number, withValue: string): number {
  let j = at + 1;
  while (j < words.length) {
    const t = words[j]!.text;
    if (t === '--') return j + 1;
    if (!t.startsWith('-') || t === '-') return j;
    if (!t.startsWith('--')) {
      const letters = t.slice(1);
      const k = [...letters].findIndex((l) => withValue.includes(l));
      if (k >= 0 && k === letters.length - 1) j++; // the value is the next word
    }
    j++;
  }
  return j;
}

function all(words: ShellWord[], from: number, kind: CommandHazardKind, command: string): CommandHazard[] {
  return words.slice(from).flatMap((w) => w.exprs.map((expr) => ({ expr, kind, command })));
}

function inWord(w: ShellWord | undefined, kind: CommandHazardKind, command: string): CommandHazard[] {
  return (w?.exprs ?? []).map((expr) => ({ expr, kind, command }));
}

/** `sh [options] -c SCRIPT …`: the script word, when `-c` is among the options. */
function shellScript(words: ShellWord[], at: number, name: string): CommandHazard[] {
  let c = false;
  let j = at + 1;
  for (; j < words.length; j++) {
    const t = words[j]!.text;
    if (t === '--') {
      j++;
      break;
    }
    if (t === '-') break;
    if (/^[-+][oO]$/.test(t) || t === '--rcfile' || t === '--init-file') j++;
    else if (/^-[A-Za-z]+$/.test(t)) c ||= t.includes('c');
    else if (!t.startsWith('--')) break;
  }
  return c ? inWord(words[j], 'script', `${name} -c`) : [];
}

/** `su -c SCRIPT` / `--command SCRIPT` / `--command=SCRIPT` / `-cSCRIPT`. */
function commandOptionScript(words: ShellWord[], at: number, name: string): CommandHazard[] {
  for (let j = at + 1; j < words.length; j++) {
    const t = words[j]!.text;
    if (t === '-c' || t === '--command' || t === '--session-command')
      return inWord(words[j + 1], 'script', `${name} -c`);
    if (/^(?:-c.|--(?:session-)?command=)/.test(t)) return inWord(words[j], 'script', `${name} -c`);
  }
  return [];
}

/** Hazards of the command that starts at word `at` of a simple command. */
function commandAt(words: ShellWord[], at: number): CommandHazard[] {
  const name = literal(words[at]);
  if (name === undefined) return []; // a templated program name runs that program: the operator's choice
  const base = baseName(name);
  if (base === 'eval' || base === 'trap') return all(words, at + 1, 'code', base);
  if (base === 'let') return all(words, at + 1, 'arithmetic', base);
  if (base === 'ssh') return all(words, afterOptions(words, at, sshWithValue) + 1, 'remote', base);
  if (base === 'watch') {
    const exec = words.slice(at + 1).some((w) => w.text === '--exec' || /^-[a-z]*x/.test(w.text));
    return exec ? commandAt(words, afterOptions(words, at, 'nd')) : all(words, at + 1, 'code', base);
  }
  if (shells.has(base)) return shellScript(words, at, base);
  if (commandOption.has(base)) {
    const script = commandOptionScript(words, at, base);
    if (script.length > 0 || !wrappers[base]) return script;
  }
  if (base === 'find') {
    const exec = words.findIndex((w, j) => j > at && /^-(?:exec|execdir|ok|okdir)$/.test(w.text));
    return exec > 0 ? commandAt(words, exec + 1) : [];
  }
  if (declarers.has(base)) return declared(words, at, base);
  if (readers.has(base)) return all(words, at + 1, 'name', base);
  if (base === 'printf' || base === 'test' || base === '[') {
    const flag = base === 'printf' ? /^-v/ : /^-[vR]$/;
    const j = words.findIndex((w, k) => k > at && flag.test(w.text));
    if (j < 0) return [];
    return words[j]!.text.length > 2 ? inWord(words[j], 'name', base) : inWord(words[j + 1], 'name', base);
  }
  const wrapper = wrappers[base];
  if (!wrapper) return [];
  let next = afterOptions(words, at, wrapper.withValue);
  if (wrapper.assignments) while (next < words.length && assignment.test(words[next]!.text)) next++;
  return next + wrapper.operands < words.length ? commandAt(words, next + wrapper.operands) : [];
}

/** `declare` & co.: a templated variable name, or any value with -a / -A / -n (bash reads `(…)` as code then). */
function declared(words: ShellWord[], at: number, base: string): CommandHazard[] {
  const options = words.slice(at + 1).filter((w) => /^[-+][A-Za-z]+$/.test(w.text));
  if (options.some((w) => /[aAn]/.test(w.text))) return all(words, at + 1, 'name', base);
  return words.slice(at + 1).flatMap((w) => {
    const eq = w.text.indexOf('=');
    const name = eq < 0 ? w.text : w.text.slice(0, eq);
    return /[\u0000\u0001]/.test(name) ? inWord(w, 'name', base) : [];
  });
}

/** Every hazard in one simple command (its words, redirections left out). */
export function commandHazards(words: ShellWord[]): CommandHazard[] {
  let at = 0;
  while (at < words.length && assignment.test(words[at]!.text)) at++;
  return at < words.length ? commandAt(words, at) : [];
}
