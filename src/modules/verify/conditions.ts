/**
 * The `verify` module's conditions over one snapshot, as a pure function: each stated condition holds or not,
 * with what was found and the snapshot lines that show it, judged by the same judges as the rollout's
 * verification after a boot (judges.ts). Conditions are judged in the order of the module's options.
 */
import type { HostSnapshot } from '../facts/snapshot.js';
import type { FindingsReport } from '../findings/evaluate.js';
import type { ArgsOf } from '../define-module.js';
import type { verifyOptions } from '../actions/verify.js';
import * as judge from './judges.js';

/** The `verify` module's options, as its schema (actions/verify.ts) describes them. */
export type VerifyArgs = ArgsOf<typeof verifyOptions>;

export interface ConditionResult extends judge.Judgement {
  /** The option (and key), e.g. `default_domain`, `drivers[10de:1e87]`. */
  condition: string;
  wanted: unknown;
}

export interface VerifyInput {
  snap: HostSnapshot;
  /** The run's first snapshot of this host (for no_new_dma_faults). */
  baseline?: HostSnapshot;
  findings: FindingsReport;
}

/** Judge every stated condition; options left out (and no_* options set to false) are not checked. */
export function checkConditions(args: VerifyArgs, input: VerifyInput): ConditionResult[] {
  const { snap } = input;
  const out: ConditionResult[] = [];
  const push = (condition: string, wanted: unknown, j: judge.Judgement) => out.push({ condition, wanted, ...j });
  if (args.iommu_enabled !== undefined)
    push('iommu_enabled', args.iommu_enabled, judge.iommuActive(snap, args.iommu_enabled));
  if (args.default_domain !== undefined)
    push('default_domain', args.default_domain, judge.defaultDomain(snap, args.default_domain));
  if (args.interrupt_remapping !== undefined)
    push('interrupt_remapping', args.interrupt_remapping, judge.interruptRemapping(snap, args.interrupt_remapping));
  if (args.kernel !== undefined) push('kernel', args.kernel, judge.kernel(snap, args.kernel));
  if (args.cmdline_present?.length)
    push('cmdline_present', args.cmdline_present, judge.args(snap, args.cmdline_present, true));
  if (args.cmdline_absent?.length)
    push('cmdline_absent', args.cmdline_absent, judge.args(snap, args.cmdline_absent, false));
  for (const [id, driver] of Object.entries(args.drivers ?? {}))
    push(`drivers[${id}]`, driver, judge.driversById(snap, id, driver));
  if (args.vfio_in_initramfs !== undefined)
    push('vfio_in_initramfs', args.vfio_in_initramfs, judge.vfioInInitramfs(snap, args.vfio_in_initramfs));
  if (args.no_new_dma_faults) push('no_new_dma_faults', true, judge.noNewFaults(input.baseline, snap));
  if (args.no_error_findings) push('no_error_findings', true, judge.noErrorFindings(input.findings));
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
