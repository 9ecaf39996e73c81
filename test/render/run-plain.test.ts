import { describe, expect, it } from 'vitest';
import type { RollgateEvent } from '../../src/events/events.js';
import { runPlainRenderer } from '../../src/render/run-plain.js';

const at = 0;
const events: RollgateEvent[] = [
  { type: 'run.started', at, runId: 'r1', playbook: 'p.yml', check: true, diff: true, hosts: ['hv01', 'hv02'] },
  { type: 'play.started', at, play: 'enable IOMMU', hosts: ['hv01', 'hv02'] },
  {
    type: 'task.result',
    at,
    host: 'hv02',
    task: 'connect',
    status: 'unreachable',
    message: 'hv02: connect ECONNREFUSED',
  },
  { type: 'task.started', at, task: 'kernel args', position: 'p.yml:5:7', handler: false },
  {
    type: 'task.result',
    at,
    host: 'hv01',
    task: 'kernel args',
    module: 'kernel_args',
    status: 'changed',
    message: 'add intel_iommu=on iommu=pt',
    preview: {
      summary: 'add intel_iommu=on iommu=pt',
      files: [
        {
          path: '/etc/default/grub',
          before: 'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX="quiet"\n',
          after: 'GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX="quiet intel_iommu=on iommu=pt"\n',
        },
      ],
      commands: ['update-grub'],
    },
  },
  { type: 'task.started', at, task: 'show', position: 'p.yml:9:7', handler: false },
  { type: 'task.result', at, host: 'hv01', task: 'show', module: 'debug', status: 'ok', item: 'a', message: 'hello' },
  {
    type: 'task.result',
    at,
    host: 'hv01',
    task: 'show',
    module: 'debug',
    status: 'failed',
    item: 'b',
    ignored: true,
    message: 'boom',
  },
  { type: 'task.started', at, task: 'rebuild', position: 'p.yml:12:7', handler: true },
  {
    type: 'task.result',
    at,
    host: 'hv01',
    task: 'rebuild',
    module: 'command',
    status: 'skipped',
    message: 'check mode: would run update-initramfs -u',
  },
  {
    type: 'play.recap',
    at,
    hosts: {
      hv01: { ok: 2, changed: 1, unreachable: 0, failed: 0, skipped: 1, rescued: 0, ignored: 1 },
      hv02: { ok: 0, changed: 0, unreachable: 1, failed: 0, skipped: 0, rescued: 0, ignored: 0 },
    },
  },
];

describe('run plain renderer', () => {
  it('prints plays, tasks, results, diffs and the recap as ansible-playbook does', () => {
    let out = '';
    const render = runPlainRenderer({ write: (t) => (out += t), diff: true });
    events.forEach(render);
    expect(out).toBe(`(check mode: nothing will be changed)

PLAY [enable IOMMU] ************************************************************
fatal: [hv02]: UNREACHABLE! => hv02: connect ECONNREFUSED

TASK [kernel args] *************************************************************
changed: [hv01]
--- before: /etc/default/grub
+++ after: /etc/default/grub
@@ -1,2 +1,2 @@
 GRUB_DEFAULT=0
-GRUB_CMDLINE_LINUX="quiet"
+GRUB_CMDLINE_LINUX="quiet intel_iommu=on iommu=pt"
command: update-grub

TASK [show] ********************************************************************
ok: [hv01] => (item=a) => hello
fatal: [hv01]: FAILED! => (item=b) => boom
...ignoring

RUNNING HANDLER [rebuild] ******************************************************
skipping: [hv01]

PLAY RECAP *********************************************************************
hv01                       : ok=2    changed=1    unreachable=0    failed=0    skipped=1    rescued=0    ignored=1
hv02                       : ok=0    changed=0    unreachable=1    failed=0    skipped=0    rescued=0    ignored=0
`);
  });

  it('names the undo of a run whose hosts failed after a change, with the journal it used', () => {
    let out = '';
    const render = runPlainRenderer({ write: (t) => (out += t), journal: '/var/tmp/my journal.db' });
    render({
      type: 'run.finished',
      at,
      runId: '20250114-093012-4f2a',
      failed: true,
      ms: 5,
      undoHosts: ['hv01', 'hv03'],
    });
    expect(out).toBe(`
hv01, hv03 failed after this run changed them; to put back what it changed there:
  rollgate undo 20250114-093012-4f2a --limit hv01,hv03 --journal '/var/tmp/my journal.db'
`);
    out = '';
    runPlainRenderer({ write: (t) => (out += t) })({ type: 'run.finished', at, runId: 'r1', failed: true, ms: 5 });
    expect(out).toBe('');
  });
});
