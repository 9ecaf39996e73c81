/**
 * What the next boot must show, read back from the journal: the steps this run made on the host (their templated
 * options and results, journaled by the playbook executor) say which args, drivers and kernel the play declared.
 * Reading the journal rather than the play means loops, registered values and `when` have already been decided,
 * and a resumed run sees the same expectations as the run that was killed.
 */
import type { StepRow, UndoableStep } from '../../journal/journal-types.js';
import { undoHasWork } from '../../modules/undo.js';
import { noExpectations, type Expectations } from './verify.js';

const list = (v: unknown): string[] =>
  Array.isArray(v) ? v.map(String) : typeof v === 'string' && v !== '' ? [v] : [];

/** Add what one step declares about the next boot. */
export function addStepExpectations(
  exp: Expectations,
  step: Pick<StepRow, 'module' | 'args' | 'status' | 'data'>,
): void {
  const args = step.args;
  switch (step.module) {
    case 'kernel_args':
      exp.argsPresent.push(...list(args.present));
      exp.argsAbsent.push(...list(args.absent));
      return;
    case 'vfio_bind':
      for (const id of list(args.ids)) exp.drivers[id.toLowerCase()] = 'vfio-pci';
      return;
    case 'initramfs': {
      // A rebuild that proved the vfio modules inside (the default require_modules) must show them after the boot.
      const required = args.require_modules === undefined ? ['vfio_pci'] : list(args.require_modules);
      if (
        required.includes('vfio_pci') &&
        (args.kernel === undefined || args.kernel === 'current' || args.kernel === 'all')
      )
        exp.vfioInInitramfs = true;
      return;
    }
    case 'kernel_package': {
      // Applied: the module says which release it installed or adopted; unchanged: the version asked for.
      const target = step.data?.target_kernel ?? (step.status === 'ok' ? args.version : undefined);
      if (typeof target === 'string' && target !== '') exp.kernelRelease = target;
      return;
    }
    case 'verify':
      if (typeof args.kernel === 'string' && args.kernel !== '') exp.kernelRelease = args.kernel;
      exp.argsPresent.push(...list(args.cmdline_present));
      exp.argsAbsent.push(...list(args.cmdline_absent));
      if (
        args.default_domain === 'translated' ||
        args.default_domain === 'passthrough' ||
        args.default_domain === 'lazy'
      )
        exp.defaultDomain = args.default_domain;
      if (args.drivers && typeof args.drivers === 'object')
        for (const [id, drv] of Object.entries(args.drivers)) exp.drivers[id.toLowerCase()] = String(drv);
      if (typeof args.vfio_in_initramfs === 'boolean') exp.vfioInInitramfs = args.vfio_in_initramfs;
      if (args.iommu_enabled === true) exp.iommuEnabled = true;
      if (args.interrupt_remapping === true) exp.interruptRemapping = true;
      return;
    default:
      return;
  }
}

/** Expectations from every step of the run on the host that ran (ok or applied) and was not undone. */
export function expectationsFromSteps(steps: readonly StepRow[], passthroughIds: readonly string[]): Expectations {
  const exp = noExpectations();
  for (const s of steps)
    if ((s.status === 'ok' || s.status === 'applied') && s.undoneAt === null) addStepExpectations(exp, s);
  exp.argsPresent = [...new Set(exp.argsPresent)];
  exp.argsAbsent = [...new Set(exp.argsAbsent)].filter((a) => !exp.argsPresent.includes(a));
  exp.passthroughIds = [...passthroughIds];
  return exp;
}

/**
 * Whether the play changed the host in a way a boot must prove: a step not undone yet that the journal can undo
 * (files, undo commands, created directories), apart from the rollout's own. `command` / `shell` steps without an
 * `undo:` carry none and do not count, whatever `changed_when` said.
 */
export function changedByPlay(steps: readonly UndoableStep[]): boolean {
  return steps.some((s) => !s.module.startsWith('rollout.') && undoHasWork(s.undo));
}

/** passthrough_devices from the inventory: a list or a comma/space separated string of vendor:device ids. */
export function passthroughIdsOf(vars: Record<string, unknown>): string[] {
  const v = vars.passthrough_devices;
  return Array.isArray(v) ? v.map(String) : typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : [];
}
