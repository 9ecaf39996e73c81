/**
 * The `verify` module's conditions over one snapshot, as a pure function: each stated condition holds or not,
 * with what was found and the snapshot lines that show it. A fact the snapshot could not read never holds
 * ("cannot tell" is not "fine"). Conditions are judged in the order of the module's options.
 */
import type { Derived, HostSnapshot, Known } from '../facts/snapshot.js';
import { parseCmdline, type CmdlineArg } from '../facts/parsers/cmdline.js';
import { moduleName } from '../facts/parsers/lsmod.js';
import { normalizeDeviceId } from '../facts/parsers/pci-address.js';
import { newFaults } from '../facts/diff.js';
import type { FindingsReport } from '../findings/evaluate.js';
import { VFIO_MODULES } from '../initramfs/initramfs-tooling.js';
import type { ArgsOf } from '../define-module.js';
import type { verifyOptions } from '../actions/verify.js';

/** The `verify` module's options, as its schema (actions/verify.ts) describes them. */
export type VerifyArgs = ArgsOf<typeof verifyOptions>;

export interface ConditionResult {
  /** The option (and key), e.g. `default_domain`, `drivers[10de:1e87]`. */
  condition: string;
  wanted: unknown;
  holds: boolean;
  /** What the snapshot shows, e.g. `translated`, `unknown: dmesg: Operation not permitted`. */
  found: string;
  evidence: string[];
}

export interface VerifyInput {
  snap: HostSnapshot;
  /** The run's first snapshot of this host (for no_new_dma_faults). */
  baseline?: HostSnapshot;
  findings: FindingsReport;
}

type Row = Omit<ConditionResult, 'condition' | 'wanted'>;

const unknownRow = (reason: string): Row => ({ holds: false, found: `unknown: ${reason}`, evidence: [] });

/** A derived fact compared with the wanted value through `show`. */
function derivedRow<T>(k: Known<Derived<T>>, holds: (v: T) => boolean, show: (v: T) => string): Row {
  if (k.status !== 'ok') return unknownRow(k.reason);
  return { holds: holds(k.value.value), found: show(k.value.value), evidence: k.value.evidence };
}

function argWord(text: string): CmdlineArg | undefined {
  return parseCmdline(text).args[0];
}

/** `name=value` matches that exact argument; a bare `name` matches the name with any value. */
function hasArg(args: CmdlineArg[], wanted: CmdlineArg): boolean {
  return args.some((a) => a.name === wanted.name && (wanted.value === null || a.value === wanted.value));
}

function cmdlineRow(snap: HostSnapshot, words: string[], present: boolean): Row {
  if (snap.cmdline.status !== 'ok') return unknownRow(snap.cmdline.reason);
  const { args, raw } = snap.cmdline.value;
  const wrong = words.filter((w) => {
    const a = argWord(w);
    return a === undefined || hasArg(args, a) !== present;
  });
  const found = wrong.length
    ? `${present ? 'missing' : 'present'}: ${wrong.join(' ')}`
    : present
      ? 'all present'
      : 'none present';
  return { holds: wrong.length === 0, found, evidence: [`/proc/cmdline: ${raw}`] };
}

function driverRow(snap: HostSnapshot, id: string, driver: string): Row {
  const norm = normalizeDeviceId(id);
  if (!norm)
    return {
      holds: false,
      found: `${JSON.stringify(id)} is not a vendor:device id (write e.g. "10de:1e87")`,
      evidence: [],
    };
  if (snap.pci.status !== 'ok') return unknownRow(snap.pci.reason);
  const devices = snap.pci.value.filter((d) => d.id === norm);
  if (!devices.length)
    return {
      holds: false,
      found: `no device ${norm} on this host`,
      evidence: [`lspci: ${snap.pci.value.length} devices, none [${norm}]`],
    };
  const wrong = devices.filter((d) => d.driver === null || moduleName(d.driver) !== moduleName(driver));
  const show = (ds: typeof devices) => ds.map((d) => `${d.address} ${d.driver ?? '(no driver)'}`).join(', ');
  return {
    holds: wrong.length === 0,
    found: show(wrong.length ? wrong : devices),
    evidence: devices.map((d) => `lspci: ${d.address} [${d.id}] Kernel driver in use: ${d.driver ?? '(none)'}`),
  };
}

function initramfsRow(snap: HostSnapshot, wanted: boolean): Row {
  const i = snap.modules.initramfs;
  if (i.status !== 'ok') return unknownRow(i.reason);
  const builtin = snap.modules.builtin.status === 'ok' ? snap.modules.builtin.value : [];
  const inside = VFIO_MODULES.filter((m) => i.value.modules.includes(m) || builtin.includes(m));
  const missing = VFIO_MODULES.filter((m) => !inside.includes(m));
  const evidence = [
    `${i.value.tool} ${i.value.image ?? ''}`.trim() +
      `: ${i.value.modules.filter((m) => m.includes('vfio')).join(', ') || 'no vfio module'}`,
  ];
  if (builtin.some((m) => m.includes('vfio')))
    evidence.push(`built into the kernel: ${builtin.filter((m) => m.includes('vfio')).join(', ')}`);
  return wanted
    ? {
        holds: missing.length === 0,
        found: missing.length ? `lacks ${missing.join(', ')}` : 'vfio, vfio_iommu_type1, vfio_pci inside',
        evidence,
      }
    : {
        holds: inside.length === 0,
        found: inside.length ? `holds ${inside.join(', ')}` : 'no vfio module inside',
        evidence,
      };
}

function faultsRow(input: VerifyInput): Row {
  const r = newFaults(input.baseline, input.snap);
  if ('unknown' in r) return unknownRow(r.unknown);
  const lines = r.faults.slice(0, 5).map((f) => f.line);
  if (r.faults.length > 5) lines.push(`... and ${r.faults.length - 5} more`);
  return { holds: r.faults.length === 0, found: `${r.faults.length} new fault(s)`, evidence: [r.basis, ...lines] };
}

function findingsRow(report: FindingsReport): Row {
  const errors = report.findings.filter((f) => f.severity === 'error');
  return {
    holds: errors.length === 0,
    found: `${errors.length} error finding(s)`,
    evidence: errors.map((f) => `${f.rule}: ${f.message}`),
  };
}

/** Judge every stated condition; options left out (and no_* options set to false) are not checked. */
export function checkConditions(args: VerifyArgs, input: VerifyInput): ConditionResult[] {
  const { snap } = input;
  const out: ConditionResult[] = [];
  const push = (condition: string, wanted: unknown, row: Row) => out.push({ condition, wanted, ...row });
  if (args.iommu_enabled !== undefined)
    push(
      'iommu_enabled',
      args.iommu_enabled,
      derivedRow(snap.iommu.active, (v) => v === args.iommu_enabled, String),
    );
  if (args.default_domain !== undefined)
    push(
      'default_domain',
      args.default_domain,
      derivedRow(snap.iommu.defaultDomain, (v) => v === args.default_domain, String),
    );
  if (args.interrupt_remapping !== undefined)
    push(
      'interrupt_remapping',
      args.interrupt_remapping,
      derivedRow(
        snap.iommu.interruptRemapping,
        (v) => v.enabled === args.interrupt_remapping,
        (v) => (v.enabled ? `enabled${v.mode ? ` (${v.mode} mode)` : ''}` : 'disabled'),
      ),
    );
  if (args.kernel !== undefined) {
    const k = snap.kernelRelease;
    push(
      'kernel',
      args.kernel,
      k.status === 'ok'
        ? { holds: k.value === args.kernel, found: k.value, evidence: [`uname -r: ${k.value}`] }
        : unknownRow(k.reason),
    );
  }
  if (args.cmdline_present?.length)
    push('cmdline_present', args.cmdline_present, cmdlineRow(snap, args.cmdline_present, true));
  if (args.cmdline_absent?.length)
    push('cmdline_absent', args.cmdline_absent, cmdlineRow(snap, args.cmdline_absent, false));
  for (const [id, driver] of Object.entries(args.drivers ?? {}))
    push(`drivers[${id}]`, driver, driverRow(snap, id, driver));
  if (args.vfio_in_initramfs !== undefined)
    push('vfio_in_initramfs', args.vfio_in_initramfs, initramfsRow(snap, args.vfio_in_initramfs));
  if (args.no_new_dma_faults) push('no_new_dma_faults', true, faultsRow(input));
  if (args.no_error_findings) push('no_error_findings', true, findingsRow(input.findings));
  return out;
}

const show = (v: unknown): string =>
  typeof v === 'string'
    ? v
    : Array.isArray(v)
      ? v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' ')
      : JSON.stringify(v);

/** One readable message: which conditions failed, what was found and the evidence, or that all held. */
export function describeVerification(host: string, results: ConditionResult[]): string {
  const failed = results.filter((r) => !r.holds);
  if (!results.length) return `${host}: no condition to verify`;
  if (!failed.length) return `${host}: all ${results.length} condition(s) hold`;
  const lines = failed.map((r) => {
    const ev = r.evidence.length ? `\n      ${r.evidence.slice(0, 6).join('\n      ')}` : '';
    return `  - ${r.condition}: wanted ${show(r.wanted)}, found ${r.found}${ev}`;
  });
  return `${host}: ${failed.length} of ${results.length} condition(s) do not hold:\n${lines.join('\n')}`;
}
