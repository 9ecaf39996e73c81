/**
 * Verification after boot: the post-boot snapshot against the pre-change snapshot and what the play declared,
 * judged by the same judges as the `verify` module (modules/verify/judges.ts). Pure. Two modes: `candidate` (the trial boot must show the declared change and lose nothing else) and
 * `known_good` (after a rollback the host must look as it did before the run). Unknown facts are never taken
 * as good: a fact read before but not after fails its check.
 */
import type { VerificationCheck } from '../../events/events.js';
import type { HostSnapshot } from '../../modules/facts/snapshot.js';
import { valueOf } from '../../modules/facts/known.js';
import { isRunning } from '../../modules/facts/parsers/libvirt.js';
import type { DesiredState } from '../../modules/findings/desired.js';
import { evaluateFindings } from '../../modules/findings/evaluate.js';
import * as judge from '../../modules/verify/judges.js';
import type { verificationCheckNames } from '../../load/playbook-keywords.js';

import { noExpectations, type Expectations } from '../../modules/expectations.js';

export { noExpectations, type Expectations };

/** Service states around the boot, e.g. { ssh: 'active', libvirtd: 'active' }; 'absent' when not installed. */
export type ServiceStates = Record<string, 'active' | 'inactive' | 'failed' | 'absent'>;

export interface VerifyBootOptions {
  /** Checks named here (by their first word, e.g. `dma_faults`) are reported but not required. */
  wanted?: readonly string[];
  /** Guests that ran here before and were live-migrated away (not expected here). */
  away?: readonly string[];
  /** The host's desired state (its variables), for a play's `verify: no_error_findings`. */
  desired?: DesiredState;
}

/** A check's name starts with one of the names `rollout: verify: wanted:` accepts. */
type CheckName = (typeof verificationCheckNames)[number];

function check(name: CheckName | `${CheckName} ${string}`, expected: string, j: judge.Judgement): VerificationCheck {
  return { name, ok: j.holds, required: true, expected, actual: j.found, evidence: j.evidence };
}

export function verifyBoot(
  mode: 'candidate' | 'known_good',
  pre: HostSnapshot,
  post: HostSnapshot,
  exp: Expectations,
  services: { pre: ServiceStates; post: ServiceStates },
  opts: VerifyBootOptions = {},
): VerificationCheck[] {
  const checks: VerificationCheck[] = [];
  const want = mode === 'candidate' ? exp : noExpectations();
  // Kernel.
  const wantK = want.kernelRelease ?? valueOf(pre.kernelRelease);
  if (wantK) checks.push(check('kernel', wantK, judge.kernel(post, wantK)));
  // Command line: declared args present, declared absences gone, nothing else lost or added; a verify task's words
  // are its own checks, under the names `rollgate run` gives them.
  if (valueOf(pre.cmdline)) {
    const asserted = { present: want.verifyPresent, absent: want.verifyAbsent };
    const j = judge.cmdlineSince(pre, post, want.argsPresent, want.argsAbsent, asserted);
    checks.push(check('cmdline', j.expected, j));
  }
  if (want.verifyPresent.length)
    checks.push(check('cmdline_present', want.verifyPresent.join(' '), judge.args(post, want.verifyPresent, true)));
  if (want.verifyAbsent.length)
    checks.push(check('cmdline_absent', want.verifyAbsent.join(' '), judge.args(post, want.verifyAbsent, false)));
  // IOMMU on (or, when declared, off), its default domain, interrupt remapping.
  const wantActive = want.iommuEnabled ?? (valueOf(pre.iommu.active)?.value || undefined);
  if (wantActive !== undefined)
    checks.push(check('iommu_active', wantActive ? 'enabled' : 'disabled', judge.iommuActive(post, wantActive)));
  const wantDomain = want.defaultDomain ?? valueOf(pre.iommu.defaultDomain)?.value;
  if (wantDomain) checks.push(check('default_domain', wantDomain, judge.defaultDomain(post, wantDomain)));
  const wantIr = want.interruptRemapping ?? (valueOf(pre.iommu.interruptRemapping)?.value.enabled || undefined);
  if (wantIr !== undefined)
    checks.push(check('interrupt_remapping', wantIr ? 'enabled' : 'disabled', judge.interruptRemapping(post, wantIr)));
  // Passthrough devices: the declared ones and every device bound to vfio-pci before (declared or not: a kernel
  // update that loses an undeclared binding must not verify green): same IOMMU group members, declared or
  // unchanged driver.
  const ids = new Set([...exp.passthroughIds, ...Object.keys(exp.drivers)].map((i) => i.toLowerCase()));
  for (const dev of valueOf(pre.pci) ?? []) {
    if (!dev.id || !(ids.has(dev.id.toLowerCase()) || dev.driver === 'vfio-pci')) continue;
    const members = judge.groupMembers(pre, dev.address);
    if (members) checks.push(check(`iommu_group ${dev.address}`, members, judge.groupIs(post, dev.address, members)));
    const wantDriver = want.drivers[dev.id.toLowerCase()] ?? dev.driver ?? '(none)';
    checks.push(
      check(`driver ${dev.address} [${dev.id}]`, wantDriver, judge.deviceDriver(post, dev.address, wantDriver)),
    );
  }
  // vfio modules in the initramfs of the running kernel (or, when declared, not).
  const vfioWanted =
    want.vfioInInitramfs ?? (valueOf(pre.modules.initramfs)?.modules.includes('vfio_pci') || undefined);
  if (vfioWanted !== undefined)
    checks.push(
      check(
        'vfio_in_initramfs',
        vfioWanted ? 'vfio vfio_iommu_type1 vfio_pci' : 'no vfio module',
        judge.vfioInInitramfs(post, vfioWanted),
      ),
    );
  // No new DMA faults (a fault the host already had before the change is not new).
  checks.push(check('dma_faults', 'no new faults', judge.noNewFaults(pre, post)));
  // The play's `verify: no_error_findings`, judged on the booted host against its variables.
  if (want.noErrorFindings)
    checks.push(
      check(
        'findings',
        'no error finding',
        opts.desired
          ? judge.noErrorFindings(evaluateFindings(post, opts.desired))
          : judge.cannotTell("the host's desired state was not given"),
      ),
    );
  // Guests that ran before run again (the rollout started the ones it drained before this snapshot), each
  // guest with host devices with the same ones.
  const gPre = pre.guests && valueOf(pre.guests);
  if (gPre?.libvirt)
    for (const dom of gPre.domains.filter((x) => isRunning(x) && !(opts.away ?? []).includes(x.name))) {
      const j = judge.guestBack(post, dom);
      checks.push(check(`guest ${dom.name}`, j.expected, j));
    }
  // Services that were up before must be up again (SSH is proven by the login that took this snapshot).
  for (const [svc, state] of Object.entries(services.pre)) {
    if (state !== 'active') continue;
    const now = services.post[svc] ?? 'unknown';
    checks.push(
      check(`service ${svc}`, 'active', {
        holds: now === 'active',
        found: now,
        evidence: [`systemctl is-active ${svc}`],
      }),
    );
  }
  const wanted = opts.wanted ?? [];
  return checks.map((c) => (wanted.includes(c.name.split(' ')[0] as string) ? { ...c, required: false } : c));
}

export function verificationPassed(checks: readonly VerificationCheck[]): boolean {
  return checks.every((c) => c.ok || !c.required);
}

/** A readable diff: one line per check, failures first. */
export function formatVerification(checks: readonly VerificationCheck[]): string[] {
  return [...checks]
    .sort((a, b) => Number(a.ok) - Number(b.ok))
    .map((c) =>
      c.ok ? `  ok    ${c.name}: ${c.actual}` : `  FAIL  ${c.name}: expected ${c.expected}, found ${c.actual}`,
    );
}
