import { describe, expect, it } from 'vitest';
import { argvProblems, shellLineProblems } from '../../src/template/shell-line-check.js';
import { renderCommandLine, renderShellLine } from '../../src/executor/shell-template.js';
import { createScope } from '../../src/template/template.js';
import { execFileSync } from 'node:child_process';

/** The first words of each problem's message after the expression, e.g. "is in a heredoc body". */
function found(line: string, module: 'shell' | 'command' = 'shell'): string[] {
  return shellLineProblems(line, module).map(
    (p) => `${line.slice(p.start, p.start + 2)}${p.message.replace(/^`\{\{ .*? \}\}` /, ' ').split(/[:,]/)[0]}`,
  );
}

describe('shell lines: values that stay one quoted word', () => {
  it.each([
    'echo {{ x }}',
    "printf '%s' {{ v }} && printf '|'",
    'sleep 0.{{ 3 if a else 0 }}',
    'v={{ x }}\ncat <<EOF > f\n$v\nEOF',
    "cat <<'EOF'\nliteral\nEOF\necho {{ x }}",
    'cat <<-EOF\n\tbody\n\tEOF\necho {{ x }}',
    'cat <<A <<B\na\nA\nb\nB\necho {{ x }}',
    'echo "$(echo {{ x }})"',
    'x=$(cat {{ f }}) && y=`date`',
    '[ {{ x }} = y ] && test -n {{ x }}',
    'echo $(( {{ n | int }} + 1 ))',
    '[[ {{ n | length }} -gt 1 ]]',
    'sh -c \'echo "$1"\' sh {{ x }}',
    "bash -c 'exit 0' {{ a }}",
    'ssh {{ host }} uptime',
    'ssh -p {{ port }} -o BatchMode=yes root@h uptime',
    'ssh h {{ cmd | quote }}',
    'eval {{ x | quote }}',
    'sudo -u {{ user }} ls {{ dir }}',
    'f() { local x={{ y }}; echo "$x"; }; f',
    'read -r line <<< {{ x }}',
    'case {{ x }} in a) echo a;; *) echo b;; esac',
    'a[0]={{ x }}',
    'for i in {{ list }}; do echo "$i"; done',
    'echo {{ x }} # a note',
    'echo a#{{ x }}',
    'find / -name {{ n }} -exec ls {} \\;',
    'watch -x ls {{ d }}',
    'flock /run/l cp {{ a }} {{ b }}',
    'timeout 5 sh {{ script }}',
    'echo $(case a in a) echo {{ x }};; esac)',
    'ls {{ d }} 2>/dev/null | grep -c ssh {{ f }}',
    "echo $'\\'' {{ x }}",
  ])('accepts %j', (line) => {
    expect(shellLineProblems(line, 'shell')).toEqual([]);
  });
});

describe('shell lines: contexts where a value would be read as shell code', () => {
  it.each([
    ['cat <<EOF\n{{ x }}\nEOF', '{{ is in a heredoc body in a `shell` line'],
    ["cat <<'EOF' > f\nhead {{ x }}\nEOF", '{{ is in a heredoc body in a `shell` line'],
    ['cat <<-"EOF"\n\t{{ x }}\n\tEOF', '{{ is in a heredoc body in a `shell` line'],
    ['x=$(cat <<EOF\n{{ x }}\nEOF\n)', '{{ is in a heredoc body in a `shell` line'],
    ['cat <<{{ d }}\nEOF', '{{ is in a heredoc body in a `shell` line'],
    ['echo hi # {{ x }}', '{{ is in a # comment in a `shell` line'],
    ['# {{ x }}\necho ok', '{{ is in a # comment in a `shell` line'],
    ['echo $(( {{ n }} + 1 ))', '{{ is inside shell arithmetic in a `shell` line'],
    ['(( {{ n }} > 1 )) && echo big', '{{ is inside shell arithmetic in a `shell` line'],
    ['echo $[ {{ n }} ]', '{{ is inside shell arithmetic in a `shell` line'],
    ['for (( i=0; i<{{ n }}; i++ )); do :; done', '{{ is inside shell arithmetic in a `shell` line'],
    ['a[{{ i }}]=1', '{{ is inside shell arithmetic in a `shell` line'],
    ['echo $(( {{ n | int + 1 }} ))', '{{ is inside shell arithmetic in a `shell` line'],
    ['[[ {{ x }} -eq 1 ]]', '{{ is inside [[ ]] in a `shell` line'],
    ['if [[ -n {{ x }} && a ]]; then :; fi', '{{ is inside [[ ]] in a `shell` line'],
    ["echo $'{{ x }}'", "{{ is inside a $'…' string in a `shell` line"],
    ["echo $'a\\' {{ x }}'", "{{ is inside a $'…' string in a `shell` line"],
    ['echo `echo {{ x }}`', '{{ is inside backquotes in a `shell` line'],
    ['echo ${X:-{{ y }}}', '{{ is inside ${ } in a `shell` line'],
    ['echo "{{ x }}"', '{{ is inside quotes in a `shell` line'],
    ["echo '{{ x }}'", '{{ is inside quotes in a `shell` line'],
    ['echo "$(echo \'{{ x }}\')"', '{{ is inside quotes in a `shell` line'],
    ['eval {{ x }}', '{{ is an argument of `eval` in a `shell` line'],
    ['command eval echo {{ x }}', '{{ is an argument of `eval` in a `shell` line'],
    ['trap {{ x }} EXIT', '{{ is an argument of `trap` in a `shell` line'],
    ['watch {{ x }}', '{{ is an argument of `watch` in a `shell` line'],
    ['sh -c {{ x }}', '{{ is in the script of `sh -c` in a `shell` line'],
    ['sudo -n bash -ec {{ x }}', '{{ is in the script of `bash -c` in a `shell` line'],
    ['xargs -n1 sh -c {{ x }}', '{{ is in the script of `sh -c` in a `shell` line'],
    ['find . -exec sh -c {{ x }} \\;', '{{ is in the script of `sh -c` in a `shell` line'],
    ['su - root -c {{ x }}', '{{ is in the script of `su -c` in a `shell` line'],
    ['flock /run/l -c {{ x }}', '{{ is in the script of `flock -c` in a `shell` line'],
    ['sh -c "$(printf %s {{ x }})"', '{{ is in the script of `sh -c` in a `shell` line'],
    ['ssh h {{ x }}', '{{ is in the remote command of `ssh` in a `shell` line'],
    ['timeout 5 ssh -p 22 h echo {{ x }}', '{{ is in the remote command of `ssh` in a `shell` line'],
    ['let n={{ x }}', '{{ is an argument of `let` in a `shell` line'],
    ['declare {{ n }}=1', '{{ is a variable name (or array value) of `declare` in a `shell` line'],
    ['local -a a={{ x }}', '{{ is a variable name (or array value) of `local` in a `shell` line'],
    ['printf -v {{ n }} %s x', '{{ is a variable name (or array value) of `printf` in a `shell` line'],
    ['read {{ n }} < f', '{{ is a variable name (or array value) of `read` in a `shell` line'],
    ['[ -v {{ n }} ]', '{{ is a variable name (or array value) of `[` in a `shell` line'],
    ['[[ $a == "]]" && {{ x }} -eq 1 ]]', '{{ is inside [[ ]] in a `shell` line'],
    ['time -p eval {{ x }}', '{{ is an argument of `eval` in a `shell` line'],
    ['function f { eval {{ x }}; }', '{{ is an argument of `eval` in a `shell` line'],
    ['f() { eval {{ x }}; }', '{{ is an argument of `eval` in a `shell` line'],
    ['sh -c -- {{ x }}', '{{ is in the script of `sh -c` in a `shell` line'],
    ['bash --norc -o pipefail -c {{ x }}', '{{ is in the script of `bash -c` in a `shell` line'],
  ])('refuses %j', (line, expected) => {
    expect(found(line)).toEqual([expected]);
  });

  it('refuses an expression the lexer could not place (an escape before it)', () => {
    expect(found("echo $'\\{{ x }}'")).toEqual([
      '{{rollgate cannot tell how the shell reads `{{ x }}` in a `shell` line',
    ]);
  });

  it('reports every refused expression of a line, in order, with its offset', () => {
    const line = 'echo {{ ok }}\ncat <<EOF\n{{ a }}\nEOF\n# {{ b }}';
    expect(shellLineProblems(line, 'shell').map((p) => p.start)).toEqual([line.indexOf('{{ a'), line.indexOf('{{ b')]);
  });
});

describe('command lines (no shell syntax, but a shell runs the words)', () => {
  it('refuses builtins that run their arguments as code, and only those', () => {
    expect(found('eval {{ x }}', 'command')).toEqual(['{{ is an argument of `eval` in a `command` line']);
    expect(found('sh -c {{ x }}', 'command')).toEqual(['{{ is in the script of `sh -c` in a `command` line']);
    expect(found("echo '{{ x }}'", 'command')).toEqual(['{{ is inside quotes in a `command` line']);
    expect(found('echo $(( {{ x }} )) # {{ y }}', 'command')).toEqual([]);
  });
});

describe('command argv (each item one word)', () => {
  it('refuses a value given as the script of sh -c or to eval, and accepts it as an argument', () => {
    expect(argvProblems(['sh', '-c', 'echo {{ x }}']).map((p) => [p.item, p.start, p.message])).toEqual([
      [2, 5, '`{{ x }}` is in the script of `sh -c` in a `command` line, which a second shell reads as code'],
    ]);
    expect(argvProblems(['eval', '{{ x }}'])).toHaveLength(1);
    expect(argvProblems(['sh', '-c', 'echo "$1"', 'sh', '{{ x }}'])).toEqual([]);
    expect(argvProblems(['printf', '%s', '{{ x }}'])).toEqual([]);
  });
});

describe('rendering refuses what the loader refuses', () => {
  const x = "a\nEOF\ntouch /tmp/rg-never-$$ 'q'";
  const scope = createScope([{ kind: 'extra', vars: { x, n: '5' } }]);
  it('throws a template failure for a heredoc value and renders a number in arithmetic', () => {
    expect(() => renderShellLine('cat <<EOF\n{{ x }}\nEOF', scope)).toThrow(/is in a heredoc body in a `shell` line/);
    expect(() => renderCommandLine('eval {{ x }}', scope)).toThrow(/is an argument of `eval`/);
    expect(renderShellLine('echo $(( {{ n | int }} + 1 ))', scope)).toBe('echo $(( 5 + 1 ))');
  });

  it('passes a value through eval, sh -c and ssh-style re-reading as the same text (| quote, or as an argument)', () => {
    for (const line of [
      'eval printf %s {{ x | quote }}',
      'sh -c \'printf %s "$1"\' sh {{ x }}',
      'ssh() { shift; sh -c "$*"; }; ssh host printf %s {{ x | quote }}',
    ]) {
      expect(execFileSync('/bin/sh', ['-c', renderShellLine(line, scope)], { encoding: 'utf8' })).toBe(x);
    }
  });
});
