/**
 * `verify`: take a fresh snapshot and fail the host unless every stated condition holds (IOMMU on, default
 * domain, interrupt remapping, kernel, kernel arguments, drivers, vfio in the initramfs, no new DMA faults since
 * the run's first snapshot of the host, no error finding). The message lists each failed condition with what was
 * found and the snapshot lines that show it; the registered result carries every condition's outcome.
 * In check mode a condition that does not hold yet skips the task instead of failing it (the changes the play
 * would make first were only previewed), and the message says what does not hold now.
 */
import type { OptionsSchema } from '../module.js';
import { defineControllerModule } from '../define-module.js';
import { listOption } from '../expectations.js';
import { stringList } from '../option-schemas.js';
import type { HostSnapshot } from '../facts/snapshot.js';
import { takeTaskSnapshot } from '../facts/task-snapshot.js';
import { checkConditions, describeVerification } from '../verify/conditions.js';

/** The options schema; `VerifyArgs` is derived from it. */
export const verifyOptions = {
  type: 'object',
  additionalProperties: false,
  properties: {
    iommu_enabled: { type: 'boolean' },
    default_domain: { enum: ['translated', 'passthrough', 'lazy'] },
    interrupt_remapping: { type: 'boolean' },
    kernel: { type: 'string', description: 'kernel release that must be running' },
    cmdline_present: stringList,
    cmdline_absent: stringList,
    drivers: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'vendor:device -> driver in use, e.g. {"10de:1e87": "vfio-pci"}',
    },
    vfio_in_initramfs: { type: 'boolean' },
    no_new_dma_faults: { type: 'boolean' },
    no_error_findings: { type: 'boolean' },
  },
} as const satisfies OptionsSchema;

export const verify = defineControllerModule({
  name: 'verify',
  description: 'Fail unless the host snapshot meets every stated condition.',
  changesHost: false,
  options: verifyOptions,
  kind: 'controller',
  expressionOptions: [],
  async run(ctx, args) {
    // The baseline is read before this snapshot is journaled, so it is never the snapshot itself.
    const first = ctx.snapshots?.first();
    const baseline = first ? (first.data as HostSnapshot) : undefined;
    const { snapshot, report } = await takeTaskSnapshot(ctx, 'verify');
    const conditions = checkConditions(args, { snap: snapshot, findings: report, ...(baseline ? { baseline } : {}) });
    const held = conditions.every((c) => c.holds);
    const described = describeVerification(ctx.host, conditions);
    // In check mode the changes before this task were only previewed: a failure now says nothing about them.
    const status = held ? 'ok' : ctx.checkMode ? 'skipped' : 'failed';
    return {
      status,
      msg:
        status === 'skipped'
          ? `check mode: not judged (earlier changes were only previewed); now ${described}`
          : described,
      data: { conditions, snapshot, findings: report.findings },
      facts: { snapshot, findings: report.findings },
    };
  },
  expectAfterBoot(exp, { args }) {
    if (typeof args.kernel === 'string' && args.kernel !== '') exp.kernelRelease = args.kernel;
    exp.verifyPresent.push(...listOption(args.cmdline_present));
    exp.verifyAbsent.push(...listOption(args.cmdline_absent));
    if (args.default_domain === 'translated' || args.default_domain === 'passthrough' || args.default_domain === 'lazy')
      exp.defaultDomain = args.default_domain;
    if (args.drivers && typeof args.drivers === 'object')
      for (const [id, drv] of Object.entries(args.drivers)) exp.drivers[id.toLowerCase()] = String(drv);
    if (typeof args.vfio_in_initramfs === 'boolean') exp.vfioInInitramfs = args.vfio_in_initramfs;
    if (typeof args.iommu_enabled === 'boolean') exp.iommuEnabled = args.iommu_enabled;
    if (typeof args.interrupt_remapping === 'boolean') exp.interruptRemapping = args.interrupt_remapping;
    if (args.no_error_findings === true) exp.noErrorFindings = true;
  },
});
