/**
 * Verification after boot: the post-boot snapshot against the pre-change snapshot and what the play declared.
 * Pure. Two modes: `candidate` (the trial boot must show the declared change and lose nothing else) and
 * `known_good` (after a rollback the host must look as it did before the run). Unknown facts are never taken
 * as good: a fact read before but not after fails its check.
 */
import type { VerificationCheck } from '../../events/events.js';
import type { HostSnapshot } from '../../modules/facts/snapshot.js';
import { valueOf } from '../../modules/facts/known.js';
import { isRunning, type GuestDomain } from '../../modules/facts/parsers/libvirt.js';

import { noExpectations, type Expectations } from '../../modules/expectations.js';

export { noExpectations, type Expectations };

/** Service states around the boot, e.g. { ssh: 'active', libvirtd: 'active' }; 'absent' when not installed. */
export type ServiceStates = Record<string, 'active' | 'inactive' | 'failed' | 'absent'>;

/** Words the boot loader or rollgate's trial adds: not part of the host's configuration. */
const TRANSIENT = /^(BOOT_IMAGE|initrd|panic)(=|$)/;

function argWords(s: HostSnapshot | undefined): string[] | undefined {
  const c = valueOf(s?.cmdline);
  return c?.args.map((a) => (a.value === null ? a.name : `${a.name}=${a.value}`)).filter((w) => !TRANSIENT.test(w));
}
const argName = (w: string) => w.split('=')[0] as string;

function check(name: string, ok: boolean, expected: string, actual: string, required = true): VerificationCheck {
  return { name, ok, required, expected, actual };
}

function groupOf(s: HostSnapshot, address: string): string | undefined {
  const g = valueOf(s.iommu.groups)?.find((grp) => grp.devices.some((d) => d.address === address));
  return g
    ? g.devices
        .map((d) => d.address)
        .sort()
        .join(' ')
    : undefined;
}

function faultKey(f: { device: string | null; kind: string; reason?: string | null }): string {
  return `${f.device ?? '?'} ${f.kind} ${f.reason ?? ''}`;
}

/** `wanted` names checks (by their first word, e.g. `dma_faults`) that are reported but not required. */
export function verifyBoot(
  mode: 'candidate' | 'known_good',
  pre: HostSnapshot,
  post: HostSnapshot,
  exp: Expectations,
  services: { pre: ServiceStates; post: ServiceStates },
  wanted: readonly string[] = [],
  /** Guests that ran here before and were live-migrated away (not expected here). */
  away: readonly string[] = [],
): VerificationCheck[] {
  const checks: VerificationCheck[] = [];
  const want = mode === 'candidate' ? exp : noExpectations();
  // Kernel.
  const preK = valueOf(pre.kernelRelease);
  const postK = valueOf(post.kernelRelease) ?? 'unknown';
  const wantK = want.kernelRelease ?? preK;
  if (wantK) checks.push(check('kernel', postK === wantK, wantK, postK));
  // Command line: declared args present, declared absences gone, nothing else lost or added.
  const preArgs = argWords(pre);
  const postArgs = argWords(post);
  if (preArgs) {
    const absent = new Set(want.argsAbsent);
    const gone = (w: string) => absent.has(w) || absent.has(argName(w));
    const expected = [...preArgs.filter((w) => !gone(w)), ...want.argsPresent.filter((w) => !preArgs.includes(w))];
    const actual = postArgs ?? [];
    const missing = expected.filter((w) => !actual.includes(w));
    const extra = actual.filter((w) => !expected.includes(w));
    checks.push(
      check(
        'cmdline',
        postArgs !== undefined && missing.length === 0 && extra.length === 0,
        expected.join(' '),
        postArgs === undefined
          ? 'unknown'
          : `${actual.join(' ')}${missing.length ? ` (missing: ${missing.join(' ')})` : ''}${extra.length ? ` (unexpected: ${extra.join(' ')})` : ''}`,
      ),
    );
  }
  // IOMMU on, its default domain, interrupt remapping.
  const preActive = valueOf(pre.iommu.active)?.value;
  const postActive = valueOf(post.iommu.active)?.value;
  if (preActive || want.iommuEnabled)
    checks.push(check('iommu_active', postActive === true, 'enabled', String(postActive ?? 'unknown')));
  const preDomain = valueOf(pre.iommu.defaultDomain)?.value;
  const wantDomain = want.defaultDomain ?? preDomain;
  if (wantDomain)
    checks.push(
      check(
        'default_domain',
        valueOf(post.iommu.defaultDomain)?.value === wantDomain,
        wantDomain,
        valueOf(post.iommu.defaultDomain)?.value ?? 'unknown',
      ),
    );
  if (valueOf(pre.iommu.interruptRemapping)?.value.enabled || want.interruptRemapping) {
    const ir = valueOf(post.iommu.interruptRemapping)?.value;
    checks.push(
      check(
        'interrupt_remapping',
        ir?.enabled === true,
        'enabled',
        ir ? (ir.enabled ? `enabled (${ir.mode ?? '?'})` : 'disabled') : 'unknown',
      ),
    );
  }
  // Passthrough devices: the declared ones and every device bound to vfio-pci before (declared or not: a kernel
  // update that loses an undeclared binding must not verify green): same IOMMU group members, declared or
  // unchanged driver.
  const ids = new Set([...exp.passthroughIds, ...Object.keys(exp.drivers)].map((i) => i.toLowerCase()));
  for (const dev of valueOf(pre.pci) ?? []) {
    if (!dev.id || !(ids.has(dev.id.toLowerCase()) || dev.driver === 'vfio-pci')) continue;
    const after = valueOf(post.pci)?.find((d) => d.address === dev.address);
    const gPre = groupOf(pre, dev.address);
    if (gPre)
      checks.push(
        check(
          `iommu_group ${dev.address}`,
          groupOf(post, dev.address) === gPre,
          gPre,
          groupOf(post, dev.address) ?? 'unknown',
        ),
      );
    const wantDriver = want.drivers[dev.id.toLowerCase()] ?? dev.driver ?? '(none)';
    checks.push(
      check(
        `driver ${dev.address} [${dev.id}]`,
        (after?.driver ?? '(none)') === wantDriver && after !== undefined,
        wantDriver,
        after ? (after.driver ?? '(none)') : 'device missing',
      ),
    );
  }
  // vfio modules in the initramfs of the running kernel.
  const vfioWanted =
    want.vfioInInitramfs ?? (valueOf(pre.modules.initramfs)?.modules.includes('vfio_pci') || undefined);
  if (vfioWanted) {
    const mods = new Set([
      ...(valueOf(post.modules.initramfs)?.modules ?? []),
      ...(valueOf(post.modules.builtin) ?? []),
    ]);
    const lacking = ['vfio', 'vfio_iommu_type1', 'vfio_pci'].filter((m) => !mods.has(m));
    checks.push(
      check(
        'vfio_in_initramfs',
        lacking.length === 0,
        'vfio vfio_iommu_type1 vfio_pci',
        lacking.length ? `missing ${lacking.join(' ')}` : 'present',
      ),
    );
  }
  // No new DMA faults (a fault already seen before the change, same device and reason, is not new).
  const before = new Set((valueOf(pre.faults) ?? []).map(faultKey));
  const fresh = valueOf(post.faults)?.filter((f) => !before.has(faultKey(f)));
  checks.push(
    check(
      'dma_faults',
      fresh !== undefined && fresh.length === 0,
      'no new faults',
      fresh === undefined ? 'unknown' : fresh.length ? fresh.map(faultKey).join('; ') : 'none',
    ),
  );
  // Guests that ran before run again (the rollout started the ones it drained before this snapshot), each
  // guest with host devices with the same ones.
  const gPre = pre.guests && valueOf(pre.guests);
  if (gPre?.libvirt)
    for (const dom of gPre.domains.filter((x) => isRunning(x) && !away.includes(x.name))) {
      const gPost = post.guests && valueOf(post.guests);
      const now = gPost?.domains.find((x) => x.name === dom.name);
      const devs = (d: GuestDomain) => d.hostdevs.map((x) => x.address).join(' ');
      checks.push(
        check(
          `guest ${dom.name}`,
          !!now && isRunning(now) && devs(now) === devs(dom),
          `running${dom.hostdevs.length ? ` with ${devs(dom)}` : ''}`,
          !gPost
            ? `unknown${post.guests?.status === 'unknown' ? ` (${post.guests.reason})` : ''}`
            : !now
              ? 'not defined'
              : `${now.state}${now.reason ? ` (${now.reason})` : ''}${now.hostdevs.length ? ` with ${devs(now)}` : ''}`,
        ),
      );
    }
  // Services that were up before must be up again (SSH is proven by the login that took this snapshot).
  for (const [svc, state] of Object.entries(services.pre)) {
    if (state !== 'active') continue;
    checks.push(check(`service ${svc}`, services.post[svc] === 'active', 'active', services.post[svc] ?? 'unknown'));
  }
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
