import { describe, expect, it } from 'vitest';
import type { RollgateEvent } from '../../src/events/events.js';
import { rolloutPlainRenderer } from '../../src/render/rollout-plain.js';

const at = 0;
const runId = 'r1';
const recorded: RollgateEvent[] = [
  {
    type: 'rollout.started',
    at,
    runId,
    hosts: ['lab1', 'lab2'],
    batches: [
      { phase: 'canary', index: 1, hosts: ['lab1'] },
      { phase: 'batch', index: 1, hosts: ['lab2'] },
    ],
    kinds: { 'Q35 / GenuineIntel / no passthrough': ['lab1', 'lab2'] },
  },
  { type: 'rollout.batch_started', at, runId, phase: 'canary', index: 1, hosts: ['lab1'] },
  { type: 'task.started', at, task: 'Intel VT-d on', position: 'p.yml:3:7', handler: false },
  {
    type: 'task.result',
    at,
    host: 'lab1',
    task: 'Intel VT-d on',
    module: 'kernel_args',
    status: 'changed',
    message: 'GRUB_CMDLINE_LINUX += intel_iommu=on iommu=pt',
  },
  {
    type: 'task.result',
    at,
    host: 'lab1',
    task: 'AMD-Vi on',
    module: 'kernel_args',
    status: 'skipped',
    message: 'condition is false',
  },
  { type: 'rollout.host_step', at, runId, host: 'lab1', step: 'reboot (trial boot)', status: 'started' },
  {
    type: 'rollout.verification',
    at,
    runId,
    host: 'lab1',
    against: 'candidate',
    ok: false,
    checks: [
      { name: 'cmdline', ok: true, required: true, expected: 'a', actual: 'a' },
      { name: 'driver 0000:01:00.0 [8086:10d3]', ok: false, required: true, expected: 'vfio-pci', actual: 'e1000e' },
    ],
  },
  {
    type: 'rollout.rollback',
    at,
    runId,
    host: 'lab1',
    action: 'power_reset',
    reason: 'not back within 600 s (trial boot); resetting through qmp:/x/qmp.sock',
  },
  { type: 'rollout.rollback', at, runId, host: 'lab1', action: 'undo', reason: '2 journaled step(s), newest first' },
  {
    type: 'rollout.host_finished',
    at,
    runId,
    host: 'lab1',
    status: 'rolled_back',
    message: 'verification failed (driver 0000:01:00.0 [8086:10d3]); rolled back',
    ms: 312_000,
  },
  {
    type: 'rollout.stopped',
    at,
    runId,
    reason: 'canary_failed',
    message: 'canary failed: lab1 (rolled_back)',
    untouched: ['lab2'],
  },
  {
    type: 'rollout.finished',
    at,
    runId,
    result: 'rolled_back',
    counts: { ok: 0, changed: 0, failed: 0, unreachable: 0, rolled_back: 1, needs_person: 0 },
    ms: 330_000,
  },
];

describe('plain rollout renderer', () => {
  it('prints phases, task results, steps, the verification diff failures first, the rollback and the stop', () => {
    let out = '';
    const render = rolloutPlainRenderer((t) => (out += t));
    recorded.forEach(render);
    expect(out).toBe(`rollout r1: 2 host(s), 1 hardware kind(s)
  kind Q35 / GenuineIntel / no passthrough: lab1, lab2
canary 1: lab1
  lab1: task "Intel VT-d on": changed (GRUB_CMDLINE_LINUX += intel_iommu=on iommu=pt)
  lab1: reboot (trial boot) ...
  lab1: verification against the pre-change snapshot and the play: FAILED
      FAIL  driver 0000:01:00.0 [8086:10d3]: expected vfio-pci, found e1000e
      ok    cmdline: a
  lab1: POWER RESET: not back within 600 s (trial boot); resetting through qmp:/x/qmp.sock
  lab1: ROLLBACK undo: 2 journaled step(s), newest first
  lab1: rolled_back (312.0 s): verification failed (driver 0000:01:00.0 [8086:10d3]); rolled back
STOPPED (canary_failed): canary failed: lab1 (rolled_back); untouched: lab2
rollout r1 rolled_back: rolled_back=1 | 330.0 s
`);
  });
});

describe('plan-time warnings', () => {
  it('prints a host no power driver can reset as a WARNING line with the fix', () => {
    let out = '';
    rolloutPlainRenderer((t) => (out += t))({
      type: 'rollout.warning',
      at,
      runId,
      host: 'lab3',
      code: 'no_power_driver',
      message:
        'lab3 has no power driver (rollgate_power): if a boot hangs, rollgate cannot power-reset it and the host will need a person',
      hint: 'give it rollgate_power: {driver: ipmi | redfish | qmp, ...} in the inventory',
    });
    expect(out).toBe(
      'WARNING lab3 has no power driver (rollgate_power): if a boot hangs, rollgate cannot power-reset it and the host will need a person (give it rollgate_power: {driver: ipmi | redfish | qmp, ...} in the inventory)\n',
    );
  });
});
