/**
 * What a staged rollout's trial boot must show, as the modules of the play declared it: each module may add to
 * it from its journaled step (`expectAfterBoot` in its definition); the rollout's verification checks it.
 */

/** What the play declared, collected from its steps (kernel_args, kernel_package, vfio_bind, verify ...). */
export interface Expectations {
  kernelRelease?: string;
  /** Command-line words the play adds and removes (kernel_args): the `cmdline` check expects the change. */
  argsPresent: string[];
  argsAbsent: string[];
  /**
   * A `verify` task's `cmdline_present` / `cmdline_absent`: judged on their own, by those names, as `rollgate run`
   * reports them; the `cmdline` check leaves these words to them.
   */
  verifyPresent: string[];
  verifyAbsent: string[];
  defaultDomain?: 'translated' | 'passthrough' | 'lazy';
  /** vendor:device -> driver in use. */
  drivers: Record<string, string>;
  vfioInInitramfs?: boolean;
  /** vendor:device ids of the host's passthrough devices (their groups and drivers are watched). */
  passthroughIds: string[];
  /** verify `iommu_enabled` / `interrupt_remapping`: required either way, whatever the host showed before. */
  iommuEnabled?: boolean;
  interruptRemapping?: boolean;
  /** verify `no_error_findings: true`: no error finding on the booted host. */
  noErrorFindings?: boolean;
}

export const noExpectations = (): Expectations => ({
  argsPresent: [],
  argsAbsent: [],
  verifyPresent: [],
  verifyAbsent: [],
  drivers: {},
  passthroughIds: [],
});

/**
 * One journaled step as an expectation sees it. `args` are the templated options as journaled (validated against
 * the module's schema when the step ran; a journal written by an older version may hold anything, so read them
 * defensively); `data` is what the module returned.
 */
export interface JournaledStep {
  args: Record<string, unknown>;
  status: string;
  data?: Record<string, unknown> | null;
}

/** Add what one applied (or unchanged) step of this module says the next boot must show. */
export type ExpectAfterBoot = (exp: Expectations, step: JournaledStep) => void;

/** A string list option as journaled: a list, one non-empty string, or nothing. */
export const listOption = (v: unknown): string[] =>
  Array.isArray(v) ? v.map(String) : typeof v === 'string' && v !== '' ? [v] : [];
