/**
 * `verify`: take a fresh snapshot and fail the host unless every stated condition holds (IOMMU on, default
 * domain, interrupt remapping, kernel, kernel arguments, drivers, vfio in the initramfs, no new DMA faults since
 * the run's first snapshot of the host, no error finding). The message lists each failed condition with what was
 * found and the snapshot lines that show it; the registered result carries every condition's outcome.
 * In check mode a condition that does not hold yet skips the task instead of failing it (the changes the play
 * would make first were only previewed), and the message says what does not hold now.
 */
import type { ControllerAction } from '../controller-action.js';
import { moduleSpecs } from '../specs.js';
import type { HostSnapshot } from '../facts/snapshot.js';
import { takeTaskSnapshot } from '../facts/task-snapshot.js';
import { checkConditions, describeVerification, type VerifyArgs } from '../verify/conditions.js';

export const verify: ControllerAction<VerifyArgs> = {
  ...moduleSpecs.verify,
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
};
