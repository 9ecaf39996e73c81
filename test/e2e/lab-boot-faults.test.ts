import { beforeAll, describe, expect, it } from 'vitest';
import { SshConnection } from '../../src/connection/ssh.js';
import { BAD_KERNEL_ABI } from '../../src/lab/faults/faults.js';
import { ensureLab, type Lab } from './lab-harness.js';

// One scenario per host, run concurrently so their reboots overlap: each reboot proves several things.
let lab: Lab;

beforeAll(async () => {
  lab = await ensureLab({ hosts: 3, profile: 'intel', pristine: true });
});

async function root(host: string, script: string, timeoutMs = 600_000): Promise<string> {
  const conn = await lab.connect(host, 'root');
  try {
    const r = await conn.exec(script, { timeoutMs });
    if (r.exitCode !== 0) throw new Error(`${host}: ${script}\nexit ${r.exitCode}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  } finally {
    await conn.close();
  }
}

/** One login attempt with a short budget; resolves to the failure kind, or 'ok'. */
async function loginOutcome(host: string, timeoutMs = 20_000): Promise<string> {
  try {
    const conn = await SshConnection.open({ ...lab.inventoryTarget(host), connectTimeoutMs: timeoutMs });
    await conn.close();
    return 'ok';
  } catch (err) {
    return (err as { kind?: string }).kind ?? 'error';
  }
}

function detachedReboot(host: string): Promise<string> {
  return root(host, "nohup sh -c 'sleep 1; systemctl reboot' >/dev/null 2>&1 &");
}

describe.concurrent('lab boots and faults on real VMs', () => {
  it('lab1: GRUB_CMDLINE_LINUX + update-grub sets the next cmdline; no-vfio-after-boot and slow-boot happen on that boot', async () => {
    const h = 'lab1';
    lab.markDirty(h);
    await root(h, `sed -i 's/^GRUB_CMDLINE_LINUX=.*/GRUB_CMDLINE_LINUX="rollgate.e2e=cmdline iommu=pt"/' /etc/default/grub && update-grub 2>&1
printf 'options vfio-pci ids=8086:10d3\\nsoftdep e1000e pre: vfio-pci\\n' > /etc/modprobe.d/rollgate-e2e-vfio.conf`);
    expect(await root(h, 'cat /proc/cmdline')).not.toContain('rollgate.e2e=cmdline');
    await lab.arm(h, 'no-vfio-after-boot');
    await lab.arm(h, 'slow-boot', { slowBootSeconds: 40 });
    await lab.reboot(h);

    const cmdline = await root(h, 'cat /proc/cmdline');
    expect(cmdline).toMatch(/ rollgate\.e2e=cmdline iommu=pt console=ttyS0/);
    expect(await root(h, 'cat /sys/kernel/iommu_groups/*/type | sort -u')).toBe('identity\n');

    // The host driver owns the NIC although vfio-pci is loaded with its id...
    const nic = '/sys/bus/pci/devices/0000:01:00.0';
    expect(await root(h, `basename "$(readlink ${nic}/driver)"; cat ${nic}/driver_override; lsmod | grep -c '^vfio_pci '`)).toBe('e1000e\ne1000e\n1\n');
    expect(await root(h, 'journalctl -b -u rollgate-lab-fault-host-driver -o cat')).toMatch(/0000:01:00\.0 \(8086:10d3\) -> e1000e/);
    // ...and without the override vfio-pci takes it: the fault, not the configuration, made the difference.
    expect(await root(h, `echo > ${nic}/driver_override; echo 0000:01:00.0 > ${nic}/driver/unbind; echo 0000:01:00.0 > /sys/bus/pci/drivers_probe; basename "$(readlink ${nic}/driver)"`)).toBe('vfio-pci\n');

    // slow-boot: sshd started only after the fault's 40 s wait, and the marker is consumed.
    const show = await root(h, 'systemctl show -p InactiveExitTimestampMonotonic --value rollgate-lab-fault-slow-boot; systemctl show -p ExecMainStartTimestampMonotonic --value ssh; ls /etc/rollgate-lab/faults');
    const [slowStart, sshStart] = show.trim().split('\n').map(Number);
    expect(sshStart! - slowStart!).toBeGreaterThanOrEqual(40e6);
    expect(show).not.toContain('slow-boot');
    expect(await root(h, 'journalctl -b -u rollgate-lab-fault-slow-boot -o cat')).toContain('waiting 40 s before sshd');
  });

  it('lab2: hang-once hangs the reboot until a QMP reset; the bad-kernel one-shot entry never comes up and the next reset boots the saved entry', async () => {
    const h = 'lab2';
    lab.markDirty(h);
    await lab.arm(h, 'bad-kernel');
    const good = (await root(h, 'uname -r')).trim();
    const cfg = await root(h, 'cat /boot/grub/grub.cfg');
    const sub = /submenu '[^']*' .*\$menuentry_id_option '([^']+)'/.exec(cfg)![1]!;
    const entry = (ver: string) => new RegExp(`menuentry '[^']*${ver.replace(/\./g, '\\.')}' .*\\$menuentry_id_option '([^']+)'`).exec(cfg)![1]!;
    // The bad kernel is the newest entry: the one GRUB shows first.
    expect(/menuentry '[^']*' .*\n[\s\S]*?linux\s+(\S+)/.exec(cfg)![1]).toBe(`/boot/vmlinuz-${BAD_KERNEL_ABI}`);
    await root(h, `grub-set-default '${sub}>${entry(good)}' && grub-reboot '${sub}>${entry(BAD_KERNEL_ABI)}'`);
    expect(await root(h, 'grub-editenv list')).toContain(`next_entry=${sub}>${entry(BAD_KERNEL_ABI)}`);
    await lab.arm(h, 'hang-once');
    const before = await lab.bootId(h);

    const m1 = lab.consoleMark(h);
    await detachedReboot(h);
    await lab.waitConsole(h, m1, /rollgate-lab fault hang-once: this shutdown hangs/, 300_000);
    await new Promise((r) => setTimeout(r, 30_000));
    expect(lab.consoleSince(h, m1)).not.toMatch(/GNU GRUB|Booting `/);
    expect(await lab.power(h).status()).toBe('on');
    expect(await loginOutcome(h)).not.toBe('ok');

    const m2 = lab.consoleMark(h);
    await lab.power(h).reset();
    await lab.waitConsole(h, m2, new RegExp(`Booting \`[^']*${BAD_KERNEL_ABI.replace(/\./g, '\\.')}`), 300_000);
    await lab.waitConsole(h, m2, /ALERT! .* does not exist|Gave up waiting for root/, 600_000);

    const m3 = lab.consoleMark(h);
    await lab.power(h).reset();
    await lab.waitForBoot(h, before);
    expect(lab.consoleSince(h, m3)).toMatch(new RegExp(`Booting \`[^']*${good.replace(/\./g, '\\.')}'`));
    expect(await root(h, 'cat /proc/cmdline')).toMatch(new RegExp(`^BOOT_IMAGE=/boot/vmlinuz-${good.replace(/\./g, '\\.')} `));
    const env = await root(h, 'grub-editenv list');
    expect(env).toContain(`saved_entry=${sub}>${entry(good)}`);
    expect(env).not.toMatch(/next_entry=\S/);
    expect(await root(h, 'ls /etc/rollgate-lab/faults 2>/dev/null; true')).not.toContain('hang-once');
  });

  it('lab3: link-down cuts SSH now and clear restores it; sshd-down keeps sshd from starting for exactly one boot', async () => {
    const h = 'lab3';
    lab.markDirty(h);
    const open = await lab.connect(h, 'root');
    await lab.arm(h, 'link-down');
    await expect(open.exec('true', { timeoutMs: 15_000 })).rejects.toMatchObject({ kind: expect.stringMatching(/timeout|dropped/) });
    await open.close();
    expect(await loginOutcome(h, 15_000)).not.toBe('ok');
    await lab.clear(h);
    expect(await root(h, 'journalctl -b -u systemd-networkd -o cat')).toMatch(/Lost carrier[\s\S]*Gained carrier/);

    await lab.arm(h, 'sshd-down');
    const before = await lab.bootId(h);
    const m1 = lab.consoleMark(h);
    await detachedReboot(h);
    // systemd shortens the unit name on the console ("ssh.servic…"); the description is whole.
    await lab.waitConsole(h, m1, /Failed to start .*OpenBSD Secure Shell server/, lab.settings.bootTimeoutMs);
    await lab.waitConsole(h, m1, /login:/, 300_000);
    expect(await loginOutcome(h)).not.toBe('ok');

    await lab.power(h).reset();
    const ready = await lab.waitForBoot(h, before);
    expect(ready.bootId).not.toBe(before);
    expect(await root(h, 'journalctl -b -1 -u ssh -o cat')).toContain('rollgate lab fault sshd-down: sshd does not start this boot');
    expect(await root(h, 'systemctl is-active ssh')).toBe('active\n');
  });
});
