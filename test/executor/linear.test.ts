import { describe, expect, it } from 'vitest';
import { runYaml, twoHosts } from './support.js';

const messages = (r: Awaited<ReturnType<typeof runYaml>>, task: string) =>
  r.events.flatMap((e) => (e.type === 'task.result' && e.task === task ? [`${e.host}: ${e.message ?? ''}`] : []));

describe('linear strategy', () => {
  it('takes every host through a task before the next task starts', async () => {
    const r = await runYaml({
      inventory: twoHosts,
      playbook: `
- hosts: all
  tasks:
    - name: first
      shell: "sleep 0.{{ 3 if inventory_hostname == 'h1' else 0 }}"
    - name: second
      debug: { msg: "{{ inventory_hostname }}" }
`,
      options: { forks: 10 },
    });
    expect(r.lines).toEqual(['h2 first changed', 'h1 first changed', 'h1 second ok', 'h2 second ok']);
    expect(r.result.recap).toEqual({
      h1: { ok: 2, changed: 1, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 },
      h2: { ok: 2, changed: 1, unreachable: 0, failed: 0, skipped: 0, rescued: 0, ignored: 0 },
    });
    expect(r.result.failed).toBe(false);
  });

  it('skips on when, registers results and uses them in later conditions', async () => {
    const r = await runYaml({
      inventory: 'all:\n  hosts:\n    h1: { role: canary }\n    h2: {}\n',
      playbook: `
- hosts: all
  tasks:
    - command: echo {{ role | default('batch') }}
      register: out
      changed_when: false
    - name: canary only
      debug: { msg: "out={{ out.stdout }}" }
      when: out.stdout == 'canary'
    - name: skipped flag
      debug: { msg: "{{ out is skipped }} {{ out.rc }}" }
`,
    });
    expect(r.lines).toEqual([
      'h1 command ok',
      'h2 command ok',
      'h1 canary only ok',
      'h2 canary only skipped',
      'h1 skipped flag ok',
      'h2 skipped flag ok',
    ]);
    expect(messages(r, 'canary only')).toEqual(['h1: out=canary', "h2: condition is false: out.stdout == 'canary'"]);
    expect(messages(r, 'skipped flag')).toEqual(['h1: False 0', 'h2: False 0']);
  });

  it('loops with loop_var, evaluates when per item, and registers every item', async () => {
    const r = await runYaml({
      inventory: 'all:\n  hosts:\n    h1: {}\n',
      playbook: `
- hosts: all
  vars:
    ids: [10de:1e87, 10de:10f8, 8086:1234]
  tasks:
    - name: nvidia
      command: echo {{ dev }}
      loop: "{{ ids }}"
      loop_control: { loop_var: dev }
      when: dev is match('10de')
      register: bound
    - name: summary
      debug: { msg: "{{ bound.results | rejectattr('skipped', 'defined') | map(attribute='stdout') | join(',') }}" }
`,
    });
    expect(r.lines).toEqual([
      'h1 nvidia changed 10de:1e87',
      'h1 nvidia changed 10de:10f8',
      'h1 nvidia skipped 8086:1234',
      'h1 summary ok',
    ]);
    expect(messages(r, 'summary')).toEqual(['h1: 10de:1e87,10de:10f8']);
    expect(r.result.recap.h1).toMatchObject({ ok: 2, changed: 1 });
  });

  it('fails a host on an undefined variable, naming the task, and goes on with the others', async () => {
    const r = await runYaml({
      inventory: 'all:\n  hosts:\n    h1: { vendor: intel }\n    h2: {}\n',
      playbook: `
- hosts: all
  tasks:
    - name: args
      debug: { msg: "{{ vendor }}_iommu=on" }
    - name: after
      debug: { msg: ok }
`,
    });
    expect(r.lines).toEqual(['h1 args ok', 'h2 args failed', 'h1 after ok']);
    expect(messages(r, 'args')[1]).toBe('h2: play.yml:5:14: undefined variable `vendor`');
    expect(r.result.failed).toBe(true);
    expect(r.result.recap.h2).toMatchObject({ failed: 1, ok: 0 });
  });

  it('gives set_fact precedence over play vars and extra vars over everything', async () => {
    const r = await runYaml({
      inventory: 'all:\n  hosts:\n    h1: { a: inv, b: inv, c: inv }\n',
      playbook: `
- hosts: all
  vars: { a: play, b: play, c: play }
  tasks:
    - set_fact: { b: fact, c: fact }
    - name: show
      debug: { msg: "{{ a }} {{ b }} {{ c }}" }
      vars: { b: task }
`,
      options: { extraVars: { c: 'extra' } },
    });
    expect(messages(r, 'show')).toEqual(['h1: play fact extra']);
  });

  it('keeps hostile values data in shell and command lines', async () => {
    const hostile = `a'b"c $(touch pwned) ; touch pwned2 \`touch pwned3\` | cat\nline2`;
    const run = await runYaml({
      inventory: `all:\n  hosts:\n    h1:\n      v: ${JSON.stringify(hostile)}\n      list: [x, "y z"]\n`,
      playbook: `
- hosts: all
  tasks:
    - shell: printf '%s' {{ v }} && printf '|'
      register: s
    - command: printf '%s-' {{ v }} "two words" {{ list }}
      register: c
    - command: ls
      register: files
`,
    });
    const facts = run.journal.listSteps(run.result.runId).map((s) => s.data?.stdout);
    expect(facts[0]).toBe(`${hostile}|`);
    expect(facts[1]).toBe(`${hostile}-two words-x-y z-`);
    expect(facts[2]).toBe('inventory.yml');
  });
});
