import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runYaml, twoHosts } from './support.js';

const oneHost = 'all:\n  hosts:\n    h1: {}\n';

describe('handlers', () => {
  it('run once at the end of the play for the hosts that changed, by name or listen topic', async () => {
    const r = await runYaml({
      inventory: 'all:\n  hosts:\n    h1: { change: true }\n    h2: { change: false }\n',
      playbook: `
- hosts: all
  tasks:
    - name: maybe change
      command: "true"
      changed_when: change
      notify: [rebuild, topic]
    - name: again
      command: "true"
      notify: rebuild
      when: change
    - name: last task
      debug: { msg: x }
  handlers:
    - name: rebuild
      debug: { msg: rebuilt }
    - name: never notified
      debug: { msg: no }
    - name: by topic
      debug: { msg: topic }
      listen: topic
`,
    });
    expect(r.lines).toEqual([
      'h1 maybe change changed',
      'h2 maybe change ok',
      'h1 again changed',
      'h2 again skipped',
      'h1 last task ok',
      'h2 last task ok',
      'h1 rebuild ok',
      'h1 by topic ok',
    ]);
  });

  it('run at meta: flush_handlers, and not again at the end', async () => {
    const r = await runYaml({
      inventory: oneHost,
      playbook: `
- hosts: all
  tasks:
    - command: "true"
      notify: h
    - meta: flush_handlers
    - name: after flush
      debug: { msg: x }
  handlers:
    - name: h
      debug: { msg: handled }
`,
    });
    expect(r.lines).toEqual(['h1 command changed', 'h1 h ok', 'h1 after flush ok']);
  });

  it('do not run on a host that failed after notifying', async () => {
    const r = await runYaml({
      inventory: oneHost,
      playbook: `
- hosts: all
  tasks:
    - command: "true"
      notify: h
    - fail: { msg: boom }
  handlers:
    - name: h
      debug: { msg: handled }
`,
    });
    expect(r.lines).toEqual(['h1 command changed', 'h1 fail failed']);
  });
});

describe('blocks', () => {
  it('rescue the hosts that failed in block, run always for every host, and count rescued', async () => {
    const r = await runYaml({
      inventory: twoHosts,
      playbook: `
- hosts: all
  tasks:
    - block:
        - name: risky
          command: "test {{ inventory_hostname }} = h1"
        - name: after risky
          debug: { msg: fine }
      rescue:
        - name: rescue
          debug: { msg: "{{ ansible_failed_task.name }} {{ ansible_failed_result.rc }}" }
      always:
        - name: always
          debug: { msg: always }
    - name: next
      debug: { msg: next }
`,
    });
    expect(r.lines).toEqual([
      'h1 risky changed',
      'h2 risky failed',
      'h1 after risky ok',
      'h2 rescue ok',
      'h1 always ok',
      'h2 always ok',
      'h1 next ok',
      'h2 next ok',
    ]);
    const rescue = r.events.find((e) => e.type === 'task.result' && e.task === 'rescue');
    expect(rescue).toMatchObject({ message: 'risky 1' });
    expect(r.result.recap.h2).toEqual({
      ok: 3,
      changed: 0,
      unreachable: 0,
      failed: 0,
      skipped: 0,
      rescued: 1,
      ignored: 0,
    });
    expect(r.result.failed).toBe(false);
  });

  it('run always for a host that fails without rescue, which then stays failed', async () => {
    const r = await runYaml({
      inventory: oneHost,
      playbook: `
- hosts: all
  tasks:
    - block:
        - fail: { msg: boom }
      always:
        - name: cleanup
          debug: { msg: cleanup }
    - name: never reached
      debug: { msg: x }
`,
    });
    expect(r.lines).toEqual(['h1 fail failed', 'h1 cleanup ok']);
    expect(r.result.failed).toBe(true);
    expect(r.result.recap.h1).toMatchObject({ failed: 1, ok: 1, rescued: 0 });
  });

  it('inherit when, vars and ignore_errors into their tasks', async () => {
    const r = await runYaml({
      inventory: twoHosts,
      playbook: `
- hosts: all
  tasks:
    - block:
        - name: in block
          debug: { msg: "{{ greeting }}" }
        - name: fails but ignored
          fail: { msg: boom }
        - name: still here
          debug: { msg: yes }
      when: inventory_hostname == 'h1'
      vars: { greeting: hello }
      ignore_errors: true
`,
    });
    expect(r.lines).toEqual([
      'h1 in block ok',
      'h2 in block skipped',
      'h1 fails but ignored failed ignored',
      'h2 fails but ignored skipped',
      'h1 still here ok',
      'h2 still here skipped',
    ]);
    expect(r.result.recap.h1).toMatchObject({ ok: 2, ignored: 1, failed: 0 });
    expect(r.result.failed).toBe(false);
  });
});

describe('results and modes', () => {
  it('judges with failed_when and changed_when on the registered result', async () => {
    const r = await runYaml({
      inventory: oneHost,
      playbook: `
- hosts: all
  tasks:
    - name: grep exit 1 is fine
      shell: "echo abc | grep -q zzz"
      register: g
      failed_when: g.rc not in [0, 1]
      changed_when: false
    - name: stdout decides failure
      command: echo ERROR
      register: e
      failed_when: "'ERROR' in e.stdout"
`,
    });
    expect(r.lines).toEqual(['h1 grep exit 1 is fine ok', 'h1 stdout decides failure failed']);
  });

  it('in check mode runs no command, still runs controller modules, and check_mode: false forces a real run', async () => {
    const r = await runYaml({
      inventory: oneHost,
      playbook: `
- hosts: all
  tasks:
    - name: would create
      command: touch created
    - name: read-only
      command: echo real
      check_mode: false
      register: ro
    - name: show
      debug: { msg: "{{ ro.stdout }} {{ ansible_check_mode }}" }
`,
      options: { check: true },
    });
    expect(r.lines).toEqual(['h1 would create skipped', 'h1 read-only changed', 'h1 show ok']);
    expect(existsSync(join(r.dir, 'created'))).toBe(false);
    const preview = r.events.find((e) => e.type === 'task.result' && e.task === 'would create');
    expect(preview).toMatchObject({ preview: { commands: ['touch created'] } });
    expect(r.events.find((e) => e.type === 'task.result' && e.task === 'show')).toMatchObject({ message: 'real True' });
  });

  it('marks a host unreachable when its connection fails and goes on with the rest', async () => {
    const r = await runYaml({
      inventory: twoHosts,
      playbook: '- hosts: all\n  tasks:\n    - debug: { msg: x }\n',
      down: ['h2'],
    });
    expect(r.lines).toEqual(['h2 connect unreachable', 'h1 debug ok']);
    expect(r.result.recap.h2).toMatchObject({ unreachable: 1 });
    expect(r.result.unreachable).toBe(true);
    expect(r.result.failed).toBe(false);
  });

  it('stops the run when a serial batch fails beyond max_fail_percentage; later hosts stay untouched', async () => {
    const r = await runYaml({
      inventory: 'all:\n  hosts:\n    h1: {}\n    h2: {}\n    h3: {}\n',
      playbook: `
- hosts: all
  serial: 1
  max_fail_percentage: 0
  tasks:
    - command: "test {{ inventory_hostname }} != h2"
- hosts: all
  tasks:
    - debug: { msg: second play }
`,
    });
    expect(r.lines).toEqual(['h1 command changed', 'h2 command failed']);
    expect(r.result.stopped).toBe(true);
  });

  it('journals every step, the undo record before the command runs, and the outcome', async () => {
    const r = await runYaml({
      inventory: oneHost,
      playbook: `
- hosts: all
  tasks:
    - name: make it
      command:
        cmd: touch made
        creates: made
        undo: rm -f made
    - name: make it again
      command:
        cmd: touch made
        creates: "{{ playbook_dir }}/made"
`,
    });
    const steps = r.journal.listSteps(r.result.runId);
    expect(steps.map((s) => [s.task, s.module, s.status, s.hasUndo])).toEqual([
      ['make it', 'command', 'applied', true],
      ['make it again', 'command', 'ok', false],
    ]);
    const undoable = r.journal.undoableSteps(r.result.runId, 'h1');
    expect(undoable.map((s) => s.undo.reverse)).toEqual([['rm -f made']]);
  });
});

describe('task timeout', () => {
  it('fails a command that runs longer than the task timeout', async () => {
    const started = Date.now();
    const r = await runYaml({
      inventory: 'all:\n  hosts:\n    h1: {}\n',
      playbook: '- hosts: all\n  tasks:\n    - name: slow\n      command: sleep 20\n      timeout: 1\n',
    });
    expect(r.lines).toEqual(['h1 slow failed']);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
