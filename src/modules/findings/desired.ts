/**
 * The state a host should be in, from its inventory variables:
 * - `passthrough_devices`: vendor:device ids meant for guests, e.g. `['10de:1e87', '10de:10f8']`;
 * - `iommu_mode`: `pt` (passthrough default domain), `translated` (strict) or `lazy` (translated, flush queue);
 * - `expected_kernel`: the kernel release that should be running;
 * - `allow_acs_override`: true when the ACS override patch is an accepted policy on this host (default false);
 * - `require_interrupt_remapping`: default true.
 * Bad values are reported as problems (ConfigError) before any host is contacted.
 */
import type { ConfigProblem } from '../../load/config-error.js';
import type { DomainType } from '../facts/parsers/dmesg-iommu.js';
import { normalizeDeviceId } from '../facts/parsers/pci-address.js';

export interface DesiredState {
  passthroughIds: string[];
  iommuMode: DomainType | null;
  expectedKernel: string | null;
  allowAcsOverride: boolean;
  requireInterruptRemapping: boolean;
}

const MODES: Record<string, DomainType> = { pt: 'passthrough', passthrough: 'passthrough', translated: 'translated', strict: 'translated', lazy: 'lazy' };

export function desiredStateFrom(host: string, vars: Record<string, unknown>): { desired: DesiredState; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const ids: string[] = [];
  const raw = vars.passthrough_devices;
  const list = raw === undefined || raw === null ? [] : Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(/[\s,]+/).filter(Boolean) : null;
  if (list === null) problems.push({ message: `host ${host}: passthrough_devices must be a list of vendor:device ids`, hint: 'write passthrough_devices: ["10de:1e87", "10de:10f8"]' });
  for (const item of list ?? []) {
    const id = typeof item === 'string' ? normalizeDeviceId(item) : null;
    if (id) ids.push(id);
    else problems.push({ message: `host ${host}: passthrough_devices entry ${JSON.stringify(item)} is not a vendor:device id`, hint: 'write it as four hex digits, a colon, four hex digits, e.g. "8086:10d3" (lspci -nn shows it in brackets)' });
  }
  let iommuMode: DomainType | null = null;
  if (vars.iommu_mode !== undefined && vars.iommu_mode !== null) {
    iommuMode = MODES[String(vars.iommu_mode)] ?? null;
    if (!iommuMode) problems.push({ message: `host ${host}: iommu_mode ${JSON.stringify(vars.iommu_mode)} is not one of pt, translated, lazy`, hint: 'write iommu_mode: pt (or translated, lazy)' });
  }
  const bool = (name: string, dflt: boolean): boolean => {
    const v = vars[name];
    if (v === undefined || v === null) return dflt;
    if (typeof v === 'boolean') return v;
    problems.push({ message: `host ${host}: ${name} must be true or false, not ${JSON.stringify(v)}`, hint: `write ${name}: ${dflt}` });
    return dflt;
  };
  const expectedKernel = typeof vars.expected_kernel === 'string' && vars.expected_kernel ? vars.expected_kernel : null;
  return {
    desired: {
      passthroughIds: [...new Set(ids)],
      iommuMode,
      expectedKernel,
      allowAcsOverride: bool('allow_acs_override', false),
      requireInterruptRemapping: bool('require_interrupt_remapping', true),
    },
    problems,
  };
}
