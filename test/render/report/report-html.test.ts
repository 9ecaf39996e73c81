import { describe, expect, it } from 'vitest';
import { Journal } from '../../../src/journal/journal.js';
import { buildRunReport } from '../../../src/render/report/report-model.js';
import { renderCheckReport, renderRunReport } from '../../../src/render/report/html.js';
import { layoutTopology } from '../../../src/render/report/topology.js';
import { phaseOfStep } from '../../../src/render/report/timeline.js';
import { evaluateFindings } from '../../../src/modules/findings/evaluate.js';
import { desiredStateFrom } from '../../../src/modules/findings/desired.js';
import { labSnapshot, LAB_PASSTHROUGH } from '../../modules/facts/lab-snapshot.js';
import type { RollgateEvent } from '../../../src/events/events.js';

const before = labSnapshot('intel-default', { host: 'hv1' });
const after = labSnapshot('intel-vfio', { base: 'intel-default', host: 'hv1' });

describe('the IOMMU topology picture', () => {
  it('draws the lab GPU pair in one group on vfio-pci and marks the drivers that changed', () => {
    const t = layoutTopology(after, before, LAB_PASSTHROUGH);
    expect(t.missing).toBeNull();
    // 00:04.0 (GPU) and 00:04.1 (its audio) share group 3; the NIC 01:00.0 is alone in group 6 (README of the lab).
    expect(t.groups.filter((g) => g.vfio).map((g) => [g.id, g.devices.map((d) => [d.address, d.passthrough])])).toEqual(
      [
        [
          3,
          [
            ['0000:00:04.0', true],
            ['0000:00:04.1', true],
          ],
        ],
        [6, [['0000:01:00.0', false]]],
      ],
    );
    expect(t.changes.length).toBeGreaterThan(0);
    expect(t.changes.every((c) => /driver .* -> vfio-pci/.test(c.change))).toBe(true);
    // Without an earlier snapshot nothing is marked as changed.
    expect(layoutTopology(before).changes).toEqual([]);
  });

  it('names the libvirt guest each device is assigned to, escaped', () => {
    const withGuests = {
      ...after,
      guests: {
        status: 'ok' as const,
        value: {
          libvirt: true,
          uri: null,
          domains: [
            {
              name: 'pt<1>',
              state: 'running',
              reason: 'booted',
              hostdevs: [{ address: '0000:01:00.0', managed: true }],
              memoryKiB: null,
              lastError: null,
              pid: null,
            },
            {
              name: 'gpu',
              state: 'shut off',
              reason: null,
              hostdevs: [{ address: '0000:00:04.0', managed: false }],
              memoryKiB: null,
              lastError: null,
              pid: null,
            },
          ],
          nodeDevices: [],
          nodeDevicesError: null,
          vfioHolders: [],
        },
      },
    };
    const t = layoutTopology(withGuests, before, LAB_PASSTHROUGH);
    const guests = t.groups.flatMap((g) => g.devices.flatMap((d) => (d.guest ? [[d.address, d.guest]] : [])));
    expect(guests).toEqual([
      ['0000:00:04.0', 'gpu (shut off)'],
      ['0000:01:00.0', 'pt<1> (running)'],
    ]);
    const report = evaluateFindings(
      withGuests,
      desiredStateFrom('hv1', { passthrough_devices: LAB_PASSTHROUGH }).desired,
    );
    const html = renderCheckReport([{ host: 'hv1', status: 'ok', value: { snapshot: withGuests, report }, vars: {} }]);
    expect(html).toContain('data-guest="pt&lt;1&gt; (running)"');
    expect(html).not.toContain('pt<1>');
  });

  it('says why there is no picture when the groups are unknown', () => {
    const t = layoutTopology({
      ...before,
      iommu: { ...before.iommu, groups: { status: 'unknown', reason: 'no sysfs' } },
    });
    expect(t.missing).toBe('IOMMU groups unknown: no sysfs');
  });
});

describe('the timeline', () => {
  it('sorts steps into phases, rollback steps after a rollback began', () => {
    expect(phaseOfStep('pre-change snapshot', false)).toBe('snapshot');
    expect(phaseOfStep('play', false)).toBe('change');
    expect(phaseOfStep('arm the trial boot', false)).toBe('trial_boot');
    expect(phaseOfStep('post-boot snapshot', false)).toBe('verification');
    expect(phaseOfStep('commit', false)).toBe('commit');
    expect(phaseOfStep('reboot (known-good)', true)).toBe('rollback');
  });
});

function journalOf(events: RollgateEvent[]): { journal: Journal; runId: string } {
  const journal = Journal.open(':memory:');
  const runId = journal.createRun({ kind: 'rollout', playbook: '/p/<b>.yml' }).id;
  for (const h of ['hv1', 'hv2']) journal.addHost(runId, h);
  journal.addSnapshot(runId, 'hv1', 'pre-change', before);
  journal.addSnapshot(runId, 'hv1', 'post-boot', after);
  for (const e of events) journal.addEvent(runId, e);
  return { journal, runId };
}

describe('the run report', () => {
  it('shows lanes, batches, a failed check as failed, and escapes what hosts said', () => {
    const t0 = Date.UTC(2026, 11, 6, 7, 0, 0);
    const runId = 'r';
    const step = (at: number, host: string, s: string, status: 'started' | 'ok' | 'failed' = 'started') =>
      ({ type: 'rollout.host_step', at: t0 + at, runId, host, step: s, status }) as RollgateEvent;
    const { journal, runId: id } = journalOf([
      { type: 'rollout.started', at: t0, runId, hosts: ['hv1', 'hv2'], batches: [], kinds: {} },
      { type: 'rollout.batch_started', at: t0 + 1, runId, phase: 'canary', index: 1, hosts: ['hv1'] },
      step(2, 'hv1', 'pre-change snapshot'),
      step(1000, 'hv1', 'play'),
      step(5000, 'hv1', 'arm the trial boot'),
      step(9000, 'hv1', 'post-boot snapshot'),
      {
        type: 'rollout.verification',
        at: t0 + 10_000,
        runId,
        host: 'hv1',
        against: 'candidate',
        ok: false,
        checks: [
          { name: 'cmdline', ok: false, required: true, expected: 'iommu=pt', actual: '<script>alert(1)</script>' },
        ],
      },
      { type: 'rollout.rollback', at: t0 + 11_000, runId, host: 'hv1', action: 'power_reset', reason: 'silent' },
      { type: 'rollout.host_finished', at: t0 + 20_000, runId, host: 'hv1', status: 'rolled_back', message: '', ms: 1 },
    ]);
    const report = buildRunReport(journal, id, t0)!;
    expect(report.timeline.lanes.map((l) => [l.host, l.outcome])).toEqual([
      ['hv1', 'rolled_back'],
      ['hv2', 'untouched'],
    ]);
    expect(report.timeline.lanes[0]!.bars.map((b) => b.phase)).toEqual([
      'snapshot',
      'change',
      'trial_boot',
      'verification',
      'rollback',
    ]);
    expect(report.timeline.lanes[0]!.bars[3]!.failed).toBe(true);
    expect(report.timeline.lanes[0]!.marks.map((m) => m.kind)).toEqual(['power_reset']);
    const html = renderRunReport(report);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script');
    expect(html).toContain('/p/&lt;b&gt;.yml');
    expect(html).toMatch(/<tr class="check failed"><td>cmdline<\/td>/);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?\s*https?:/i);
    expect(html).toMatch(/<g class="device vfio changed" data-address="0000:/);
    journal.close();
  });
});

describe('the check report', () => {
  it('draws each reached host and lists the unreachable ones', () => {
    const report = evaluateFindings(before, desiredStateFrom('hv1', { passthrough_devices: LAB_PASSTHROUGH }).desired);
    const html = renderCheckReport([
      {
        host: 'hv1',
        status: 'ok',
        value: { snapshot: before, report },
        vars: { passthrough_devices: LAB_PASSTHROUGH },
      },
      { host: 'hv<2>', status: 'unreachable', kind: 'timeout', message: 'no answer' },
    ]);
    expect(html).toContain('<section class="host" id="host-1" data-host="hv1">');
    expect(html).toContain('hv&lt;2&gt;: unreachable (timeout): no answer');
    expect(html).toContain('class="iommu-group"');
    expect(html).toContain('class="findings"');
  });
});
