import { describe, expect, it } from 'vitest';
import { parsePlaybook } from '../../src/load/playbook.js';
import type { Block, Handler, Task } from '../../src/load/playbook-types.js';

const text = `# yaml-language-server: $schema=../schemas/playbook.schema.json
- name: passthrough
  hosts: hypervisors:!canary
  become: yes
  serial: [1, "25%"]
  max_fail_percentage: 10
  vars:
    ids: [10de:1e87, 10de:10f8]
  tasks:
    - name: args
      kernel_args:
        present: ["{{ vendor }}_iommu=on", iommu=pt]
      when:
        - vendor is defined
        - not skip | default(false)
      notify: rebuild
      tags: [kernel]
    - block:
        - command: cat /proc/cmdline
          register: cmdline
          changed_when: false
      rescue:
        - debug: { msg: "{{ d }}" }
          loop: "{{ ids }}"
          loop_control: { loop_var: d }
      always:
        - meta: flush_handlers
      when: true
  handlers:
    - name: rebuild initramfs
      initramfs: {}
      listen: rebuild
`;

describe('parsePlaybook', () => {
  const book = parsePlaybook(text, 'p.yml');
  const play = book.plays[0]!;

  it('reads play keywords', () => {
    expect(play).toMatchObject({
      name: 'passthrough',
      hosts: 'hypervisors:!canary',
      become: true,
      gatherFacts: false,
      serial: [
        { kind: 'count', value: 1 },
        { kind: 'percent', value: 25 },
      ],
      maxFailPercentage: 10,
      vars: { ids: ['10de:1e87', '10de:10f8'] },
      position: { file: 'p.yml', line: 2, column: 3 },
      hostsPosition: { line: 3, column: 10 },
    });
  });

  it('reads a task with its module, conditions, notify and tags, keeping positions', () => {
    const t = play.tasks[0] as Task;
    expect(t).toMatchObject({
      kind: 'task',
      module: 'kernel_args',
      name: 'args',
      notify: ['rebuild'],
      tags: ['kernel'],
      loopVar: 'item',
    });
    expect(t.args).toEqual({ present: ['{{ vendor }}_iommu=on', 'iommu=pt'] });
    expect(t.when).toEqual([
      { source: 'vendor is defined', position: { file: 'p.yml', line: 14, column: 11 } },
      { source: 'not skip | default(false)', position: { file: 'p.yml', line: 15, column: 11 } },
    ]);
    expect(t.position).toEqual({ file: 'p.yml', line: 10, column: 7 });
    expect(t.argsPosition).toEqual({ file: 'p.yml', line: 12, column: 9 });
  });

  it('reads blocks with rescue and always, free-form commands, loops and meta', () => {
    const b = play.tasks[1] as Block;
    expect(b.kind).toBe('block');
    expect(b.when).toEqual([{ source: 'True', position: { file: 'p.yml', line: 28, column: 13 } }]);
    expect(b.block[0]).toMatchObject({
      module: 'command',
      args: { cmd: 'cat /proc/cmdline' },
      register: 'cmdline',
      changedWhen: [{ source: 'False' }],
    });
    expect(b.rescue[0]).toMatchObject({ module: 'debug', loop: '{{ ids }}', loopVar: 'd' });
    expect(b.always[0]).toMatchObject({ kind: 'meta', action: 'flush_handlers' });
  });

  it('reads handlers with their listen topics', () => {
    expect(play.handlers).toHaveLength(1);
    expect(play.handlers[0] as Handler).toMatchObject({
      name: 'rebuild initramfs',
      module: 'initramfs',
      listen: ['rebuild'],
    });
  });
});
