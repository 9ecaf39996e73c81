/**
 * The state a host should be in, from its inventory variables:
 * - `passthrough_devices`: vendor:device ids meant for guests, e.g. `['10de:1e87', '10de:10f8']`;
 * - `iommu_mode`: `pt` (passthrough default domain), `translated` (strict) or `lazy` (translated, flush queue);
 * - `expected_kernel`: the kernel release that should be running;
 * - `allow_acs_override`: true when the ACS override patch is an accepted policy on this host (default false);
 * - `require_interrupt_remapping`: default true.
 * Bad values are reported as problems (ConfigError) before any host is contacted, at the inventory file:line:col
 * where the variable was set; a value set once for a group is reported once, naming its hosts.
 */
import { ConfigError, type ConfigProblem, type SourcePosition } from '../../core/config-error.js';
import type { DomainType } from '../facts/parsers/dmesg-iommu.js';
import { normalizeDeviceId } from '../facts/parsers/pci-address.js';
import { closestName } from '../../core/suggest.js';

export interface DesiredState {
  passthroughIds: string[];
  iommuMode: DomainType | null;
  expectedKernel: string | null;
  allowAcsOverride: boolean;
  requireInterruptRemapping: boolean;
}

/** Where a host's variables were set (InventoryHost fits); without it problems carry no position. */
export interface VarSources {
  origin?: SourcePosition;
  varOrigins?: Record<string, SourcePosition>;
}

/**
 * Values holding `{{ }}`: `expand-later` leaves them unchecked (a playbook run templates them per task, and the
 * `snapshot` / `verify` modules check the result); `refuse` reports them (`rollgate check` expands nothing).
 */
export type TemplateValues = 'expand-later' | 'refuse';

const DESIRED_VARS = [
  'passthrough_devices',
  'iommu_mode',
  'expected_kernel',
  'allow_acs_override',
  'require_interrupt_remapping',
] as const;

const isTemplate = (v: unknown): boolean =>
  typeof v === 'string' ? v.includes('{{') || v.includes('{%') : Array.isArray(v) && v.some(isTemplate);

const MODES: Record<string, DomainType> = {
  pt: 'passthrough',
  passthrough: 'passthrough',
  translated: 'translated',
  strict: 'translated',
  lazy: 'lazy',
};
const TRUE_WORDS = ['true', 'yes', 'on', '1', 'y', 't'];
const FALSE_WORDS = ['false', 'no', 'off', '0', 'n', 'f'];

const describe = (v: unknown): string =>
  Array.isArray(v) || typeof v !== 'object' || v === null ? JSON.stringify(v) : 'a mapping';

export function desiredStateFrom(
  host: string,
  given: Record<string, unknown>,
  sources: VarSources = {},
  templates: TemplateValues = 'refuse',
): { desired: DesiredState; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const bad = (name: string, message: string, hint: string) => {
    const position = sources.varOrigins?.[name] ?? sources.origin;
    problems.push({ ...(position ? { position } : {}), message: `host \`${host}\`: ${message}`, hint });
  };
  const vars: Record<string, unknown> = { ...given };
  for (const name of DESIRED_VARS) {
    if (!isTemplate(vars[name])) continue;
    if (templates === 'refuse')
      bad(
        name,
        `${name} is a template, which \`rollgate check\` does not expand`,
        'write the value itself (or run playbooks/health-snapshot.yml, which expands it)',
      );
    delete vars[name];
  }
  const ids: string[] = [];
  const raw = vars.passthrough_devices;
  const list =
    raw === undefined || raw === null
      ? []
      : Array.isArray(raw)
        ? raw
        : typeof raw === 'string'
          ? raw.split(/[\s,]+/).filter(Boolean)
          : null;
  if (list === null)
    bad(
      'passthrough_devices',
      `passthrough_devices is ${describe(raw)}, not a list of vendor:device ids`,
      'write passthrough_devices: ["10de:1e87", "10de:10f8"]',
    );
  for (const item of list ?? []) {
    const id = typeof item === 'string' ? normalizeDeviceId(item) : null;
    if (id) ids.push(id);
    else
      bad(
        'passthrough_devices',
        `passthrough_devices entry ${JSON.stringify(item)} is not a vendor:device id`,
        'write it as four hex digits, a colon, four hex digits, e.g. "8086:10d3" (lspci -nn shows it in brackets)',
      );
  }
  let iommuMode: DomainType | null = null;
  if (vars.iommu_mode !== undefined && vars.iommu_mode !== null) {
    iommuMode = MODES[String(vars.iommu_mode)] ?? null;
    if (!iommuMode) {
      const near = closestName(String(vars.iommu_mode), Object.keys(MODES));
      bad(
        'iommu_mode',
        `iommu_mode ${describe(vars.iommu_mode)} is not one of pt, translated, lazy`,
        `${near ? `did you mean \`${near}\`? ` : ''}write iommu_mode: pt (or translated, lazy)`,
      );
    }
  }
  const bool = (name: string, dflt: boolean): boolean => {
    const v = vars[name];
    if (v === undefined || v === null) return dflt;
    if (typeof v === 'boolean') return v;
    // INI inventories give strings: Ansible's boolean words count.
    const word = typeof v === 'string' || typeof v === 'number' ? String(v).trim().toLowerCase() : '';
    if (TRUE_WORDS.includes(word)) return true;
    if (FALSE_WORDS.includes(word)) return false;
    bad(name, `${name} must be true or false, not ${describe(v)}`, `write true or false (default ${dflt})`);
    return dflt;
  };
  let expectedKernel: string | null = null;
  const ek = vars.expected_kernel;
  if (typeof ek === 'string' && /^[A-Za-z0-9._+~-]+$/.test(ek.trim())) expectedKernel = ek.trim();
  else if (ek !== undefined && ek !== null && ek !== '')
    bad(
      'expected_kernel',
      `expected_kernel ${describe(ek)} is not a kernel release`,
      'write the release as `uname -r` prints it, e.g. expected_kernel: 6.1.0-13-amd64',
    );
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

/** A host as desiredStatesOf reads it (InventoryHost fits). */
export interface DesiredHost extends VarSources {
  name: string;
  vars: Record<string, unknown>;
}

/**
 * The desired state of every host; throws one ConfigError listing every bad value. A problem from a variable set
 * once for several hosts (a group var) is reported once, with the hosts it applies to.
 */
export function desiredStatesOf(
  hosts: Iterable<DesiredHost>,
  templates: TemplateValues = 'refuse',
): Map<string, DesiredState> {
  const out = new Map<string, DesiredState>();
  const merged = new Map<string, { problem: ConfigProblem; hosts: string[] }>();
  for (const h of hosts) {
    const { desired, problems } = desiredStateFrom(h.name, h.vars, h, templates);
    out.set(h.name, desired);
    for (const p of problems) {
      const what = p.message.slice(p.message.indexOf(': ') + 2);
      const key = `${p.position ? `${p.position.file}:${p.position.line}:${p.position.column}` : h.name}|${what}`;
      const seen = merged.get(key);
      if (seen) seen.hosts.push(h.name);
      else merged.set(key, { problem: { ...p, message: what }, hosts: [h.name] });
    }
  }
  if (merged.size) {
    const named = (hs: string[]) =>
      hs.length === 1
        ? `host \`${hs[0]}\``
        : `hosts ${hs
            .slice(0, 5)
            .map((x) => `\`${x}\``)
            .join(', ')}${hs.length > 5 ? ` and ${hs.length - 5} more` : ''}`;
    throw new ConfigError(
      [...merged.values()].map(({ problem, hosts: hs }) => ({
        ...problem,
        message: `${named(hs)}: ${problem.message}`,
      })),
    );
  }
  return out;
}
