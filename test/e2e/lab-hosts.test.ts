import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SshConnection } from '../../src/connection/ssh.js';
import { ensureLab, type Lab } from './lab-harness.js';

// What a fresh lab shows over the inventory it wrote (user rgops, sudo, the lab's key and known_hosts, strict).
let lab: Lab;
// One connection per host for the whole file: a handshake costs seconds under TCG, a command ~0.15 s.
const conns = new Map<string, SshConnection>();

beforeAll(async () => {
  lab = await ensureLab({ hosts: 3, profile: 'intel', pristine: true });
  await Promise.all(lab.hosts.map(async (h) => conns.set(h, await lab.connect(h))));
});
afterAll(async () => {
  await Promise.all([...conns.values()].map((c) => c.close()));
});

async function run(host: string, script: string, become = true): Promise<string> {
  const r = await conns.get(host)!.exec(script, { become, timeoutMs: 120_000 });
  expect(r.exitCode, `${host}: ${script}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

describe('lab hosts over inventory/lab.yml', () => {
  it('logs in as the inventory user with strict host keys and becomes root with sudo', async () => {
    for (const host of lab.hosts) {
      const t = lab.inventoryTarget(host);
      expect(t).toMatchObject({ user: 'rgops', hostKeyPolicy: 'strict', become: true, address: '127.0.0.1' });
      expect(await run(host, 'id -un', false)).toBe('rgops\n');
      expect(await run(host, 'id -u')).toBe('0\n');
      expect(await run(host, 'hostname', false)).toBe(`${host}\n`);
    }
  });

  it('refuses a host whose key is not the one in the lab known_hosts', async () => {
    // lab2's port with lab1's key: each VM has its own host key, so strict checking must refuse.
    const lines = readFileSync(lab.paths.knownHosts, 'utf8').split('\n').filter(Boolean);
    const port2 = lab.vm('lab2').sshPort;
    const port1 = lab.vm('lab1').sshPort;
    const lab1Key = lines.find((l) => l.startsWith(`[127.0.0.1]:${port1} `))!.split(' ').slice(1).join(' ');
    const wrong = join(mkdtempSync(join(tmpdir(), 'rg-kh-')), 'known_hosts');
    writeFileSync(wrong, `[127.0.0.1]:${port2} ${lab1Key}\n`);
    const err = await SshConnection.open({ ...lab.inventoryTarget('lab2'), knownHostsFiles: [wrong] }).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'host_key' });
    expect(String((err as Error).message)).toMatch(/HOST KEY CHANGED/);
  });

  it('shows the Intel IOMMU enabled with its default domain and interrupt remapping', async () => {
    const out = await run('lab1', 'dmesg; echo ==; cat /sys/kernel/iommu_groups/*/type | sort | uniq -c; echo ==; grep -c IR-PCI-MSI /proc/interrupts');
    const [dmesg, types, irq] = out.split('==\n');
    expect(dmesg).toMatch(/DMAR: Host address width/);
    expect(dmesg).toMatch(/DMAR-IR: Enabled IRQ remapping in (x2apic|xapic) mode/);
    expect(dmesg).toMatch(/iommu: Default domain type: Translated/);
    expect(types!.trim()).toMatch(/^\d+ DMA$/);
    expect(Number(irq!.trim())).toBeGreaterThan(0);
  });

  it('puts the two-function device in one IOMMU group, the root-port NIC alone, the ICH9 functions together', async () => {
    const out = await run('lab1', 'for d in /sys/kernel/iommu_groups/*/devices/*; do g=${d%/devices/*}; echo "${g##*/} ${d##*/}"; done');
    const groupOf = new Map(out.trim().split('\n').map((l) => l.split(' ').reverse() as [string, string]));
    const members = (addr: string) => [...groupOf].filter(([, g]) => g === groupOf.get(addr)).map(([a]) => a).sort();
    expect(members('0000:00:04.0')).toEqual(['0000:00:04.0', '0000:00:04.1']);
    expect(members('0000:01:00.0')).toEqual(['0000:01:00.0']);
    expect(members('0000:00:1f.0')).toEqual(['0000:00:1f.0', '0000:00:1f.2', '0000:00:1f.3']);
  });

  it('lists the passthrough devices with their host drivers and the hardware kind in DMI', async () => {
    const out = await run('lab2', 'lspci -nnk -s 00:04; lspci -nnk -s 01:00.0; cat /sys/class/dmi/id/product_name');
    expect(out).toMatch(/00:04\.0 Display controller \[0380\]: .*\[1234:1111\][\s\S]*Kernel driver in use: bochs-drm/);
    expect(out).toMatch(/00:04\.1 Audio device \[0403\]: .*\[8086:293e\][\s\S]*Kernel driver in use: snd_hda_intel/);
    expect(out).toMatch(/01:00\.0 Ethernet controller \[0200\]: .*\[8086:10d3\][\s\S]*Kernel driver in use: e1000e/);
    expect(out.trim().split('\n').pop()).toBe('rollgate-lab Intel GPU node');
  });

  it('boots through its own GRUB with GRUB_DEFAULT=saved and an empty GRUB_CMDLINE_LINUX', async () => {
    const out = await run('lab3', 'cat /proc/cmdline; grep -E "^GRUB_(DEFAULT|CMDLINE_LINUX)=" /etc/default/grub; grep -c "^MODULES=dep" /etc/initramfs-tools/initramfs.conf');
    expect(out).toMatch(/^BOOT_IMAGE=\/boot\/vmlinuz-\S+ root=UUID=\S+ ro console=ttyS0,115200n8\n/);
    expect(out).toContain('GRUB_DEFAULT=saved\n');
    expect(out).toContain('GRUB_CMDLINE_LINUX=""\n');
    expect(out.trim().endsWith('1')).toBe(true);
  });
});
