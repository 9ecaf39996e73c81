import { describe, expect, it } from 'vitest';
import { desiredStateFrom, desiredStatesOf } from '../../../src/modules/findings/desired.js';
import { ConfigError } from '../../../src/core/config-error.js';

const at = (line: number) => ({ file: 'inv.yml', line, column: 7 });

describe('desired state from host variables', () => {
  it('reads ids, mode, kernel and Ansible boolean words as INI inventories give them', () => {
    const { desired, problems } = desiredStateFrom('hv01', {
      passthrough_devices: '10DE:1E87, 10de:10f8',
      iommu_mode: 'strict',
      expected_kernel: '6.1.0-13-amd64',
      allow_acs_override: 'yes',
      require_interrupt_remapping: 'False',
    });
    expect(problems).toEqual([]);
    expect(desired).toEqual({
      passthroughIds: ['10de:1e87', '10de:10f8'],
      iommuMode: 'translated',
      expectedKernel: '6.1.0-13-amd64',
      allowAcsOverride: true,
      requireInterruptRemapping: false,
    });
  });

  it('places each bad value where the inventory set it, falling back to where the host is declared', () => {
    const { problems } = desiredStateFrom(
      'hv01',
      { passthrough_devices: ['nvidia'], iommu_mode: 'on' },
      { origin: at(3), varOrigins: { passthrough_devices: at(5) } },
    );
    expect(problems.map((p) => [p.position?.line, p.message])).toEqual([
      [5, 'host `hv01`: passthrough_devices entry "nvidia" is not a vendor:device id'],
      [3, 'host `hv01`: iommu_mode "on" is not one of pt, translated, lazy'],
    ]);
  });

  it('leaves templated values to the playbook run, and refuses them where nothing expands them', () => {
    const vars = { passthrough_devices: '{{ gpus }}', iommu_mode: ['{{ mode }}'] };
    expect(desiredStateFrom('hv01', vars, {}, 'expand-later')).toEqual({
      desired: expect.objectContaining({ passthroughIds: [], iommuMode: null }),
      problems: [],
    });
    expect(desiredStateFrom('hv01', vars).problems.map((p) => p.message)).toEqual([
      'host `hv01`: passthrough_devices is a template, which `rollgate check` does not expand',
      'host `hv01`: iommu_mode is a template, which `rollgate check` does not expand',
    ]);
  });

  it('reports a bad group value once with its hosts, and different positions apart', () => {
    const hosts = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((name) => ({
      name,
      vars: { iommu_mode: 'x' },
      varOrigins: { iommu_mode: at(2) },
    }));
    hosts.push({ name: 'h', vars: { iommu_mode: 'x' }, varOrigins: { iommu_mode: at(9) } });
    try {
      desiredStatesOf(hosts);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).problems.map((p) => `${p.position?.line}: ${p.message}`)).toEqual([
        '2: hosts `a`, `b`, `c`, `d`, `e` and 2 more: iommu_mode "x" is not one of pt, translated, lazy',
        '9: host `h`: iommu_mode "x" is not one of pt, translated, lazy',
      ]);
    }
  });
});
